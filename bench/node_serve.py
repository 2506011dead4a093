#!/usr/bin/env python3
"""How fast a real node serves its chain: GET /blocks of the whole chain
through curl (bytes/s, against bench/http_static serving a body of the same
size from memory, and the node's RSS while it streams), and wrk -t1 -c10
requests/s of GET /blocks and of GET /blocks/{h} at random heights.

Usage: bench/node_serve.py [--runs N] [--wrk-seconds S] [--no-wrk-chain]
                           [--env KEY=VALUE ...] BINARY HTTP_STATIC DATA_DIR

DATA_DIR holds a regtest chain (`p2p_bench make-store DIR N 200`); the node
adds nothing to it, so it can be reused, and several binaries (a build
before a change and after it) can be run on it in turn. Each run starts the
node (free loopback ports, no peers, log level warn), waits until it serves
its stored height, and measures:
  1. curl GET /blocks to /dev/null, four times, VmRSS sampled every 5 ms:
     bytes/s of the first (the chain not yet read since the start) and the
     median of the other three, and the largest VmRSS seen minus VmRSS just
     before the first;
  2. curl of the same number of bytes from http_static, four times: the
     median of the last three bytes/s;
  3. wrk -t1 -c10 -dS on GET /blocks (skipped with --no-wrk-chain);
  4. wrk -t1 -c10 -dS on GET /blocks/{h}, h random (a Lua script), and on
     GET /explorer/style.css (served from memory: the ceiling of the
     node's HTTP path for a small answer).
Prints one line per run and the medians. Every process it starts is
stopped; every wait is bounded.
"""
import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_http import (peak_rss_growth, proc_kb, random_heights_script, start,  # noqa: E402
                       stop, stored_height, wait_serving, wrk)


def curl(url):
    """(bytes, seconds) of one GET to /dev/null."""
    out = subprocess.run(
        ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url],
        capture_output=True, text=True, timeout=300, check=True).stdout.split()
    return int(out[0]), float(out[1])


def stream(node_pid, port):
    """GET /blocks four times: (bytes, seconds of the first, median seconds
    of the other three, RSS growth in MB)."""
    def get():
        nbytes, cold = curl(f"http://127.0.0.1:{port}/blocks")
        warm = statistics.median(curl(f"http://127.0.0.1:{port}/blocks")[1] for _ in range(3))
        return nbytes, cold, warm
    (nbytes, cold, warm), growth = peak_rss_growth(node_pid, get)
    return nbytes, cold, warm, growth / 1024


def static_server(binary, nbytes):
    proc = subprocess.Popen([binary, str(nbytes)], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("http_static")
    ap.add_argument("data_dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--no-wrk-chain", action="store_true",
                    help="skip wrk on GET /blocks (slow for a long chain)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="a setting for the node, e.g. STREAM_CACHE_MB=0 (repeatable)")
    args = ap.parse_args()
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    binary = os.path.abspath(args.binary)
    height = stored_height(binary, args.data_dir)
    print(f"{binary}: chain height {height} in {args.data_dir}", flush=True)

    script = random_heights_script(height)
    rows = []
    try:
        for run in range(args.runs):
            node, port = start(binary, args.data_dir, extra_env)
            try:
                wait_serving(port, height)
                rss0 = proc_kb(node.pid, "VmRSS") / 1024
                nbytes, cold, secs, growth = stream(node.pid, port)
                ref, ref_port = static_server(args.http_static, nbytes)
                try:
                    ref_bytes = curl(f"http://127.0.0.1:{ref_port}/")[0]
                    ref_secs = statistics.median(
                        curl(f"http://127.0.0.1:{ref_port}/")[1] for _ in range(3))
                finally:
                    ref.kill()
                    ref.wait()
                assert ref_bytes == nbytes
                chain = None if args.no_wrk_chain else wrk(port, args.wrk_seconds, "/blocks", threads=1, connections=10)
                rand = wrk(port, args.wrk_seconds, script=script, threads=1, connections=10)
                asset = wrk(port, args.wrk_seconds, "/explorer/style.css", threads=1,
                            connections=10)
                rss1 = proc_kb(node.pid, "VmRSS") / 1024
            finally:
                stop(node)
            row = dict(cold=nbytes / cold / 1e6, mbps=nbytes / secs / 1e6, ref_mbps=nbytes / ref_secs / 1e6,
                       ratio=ref_secs / secs, growth=growth, rand=rand, asset=asset, rss0=rss0, rss1=rss1)
            if chain is not None:
                row["chain"] = chain
            rows.append(row)
            print(f"run {run + 1}: GET /blocks {nbytes / 1e6:.1f} MB at {row['mbps']:.0f} MB/s "
                  f"(first {row['cold']:.0f}) "
                  f"(static {row['ref_mbps']:.0f} MB/s, ratio {row['ratio']:.2f}), "
                  f"RSS {rss0:.1f} MB +{growth:.1f} MB while streaming | "
                  + (f"wrk GET /blocks {chain:.1f}/s | " if chain is not None else "")
                  + f"wrk GET /blocks/{{random}} {rand:.0f}/s (a static asset {asset:.0f}/s) | end RSS {rss1:.1f} MB",
                  flush=True)
    finally:
        os.unlink(script)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"median of {len(rows)}: GET /blocks {med['mbps']:.0f} MB/s (first {med['cold']:.0f}, static "
          f"{med['ref_mbps']:.0f} MB/s, ratio {med['ratio']:.2f}), RSS +{med['growth']:.1f} MB"
          + (f", wrk GET /blocks {med['chain']:.1f}/s" if "chain" in med else "")
          + f", wrk random heights {med['rand']:.0f}/s (a static asset {med['asset']:.0f}/s)")


if __name__ == "__main__":
    main()
