#!/usr/bin/env python3
"""What one small HTTP answer costs a real node: wrk requests/s of
GET /blocks/{h} at random heights, of one height, and of a static asset
(GET /explorer/style.css, answered from memory), with the CPU time the node
and wrk each spent per request.

Usage: bench/node_requests.py [--runs N] [--wrk-seconds S] [--wrk T,C ...]
                              DATA_DIR BINARY [BINARY ...]

Each run starts every BINARY in turn on DATA_DIR (a regtest chain, e.g.
`p2p_bench make-store DIR 10000 200`; the node adds nothing to it), so a
build before a change and one after it are measured alternately in one
session. For each wrk shape (threads,connections; default 1,10 and 2,50)
and each path it prints requests/s, the node's CPU microseconds per request
(utime + stime from /proc) and wrk's (its rusage). The CPU figures do not
depend on how fast the client is: on two cores wrk's own cost bounds the
request rate. Prints the medians per binary at the end. Every process it
starts is stopped; every wait is bounded.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_http import random_heights_script, start, stop, stored_height, wait_serving  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wrk(node_pid, port, seconds, threads, connections, path="/", script=None):
    """(requests/s, node CPU us per request, wrk CPU us per request)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    node0 = cpu_seconds(node_pid)
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120).stdout
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    node1 = cpu_seconds(node_pid)
    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if re.search(r"Non-2xx or 3xx responses", out) or not rate or not total:
        sys.exit("wrk failed:\n" + out)
    n = int(total.group(1))
    wrk_cpu = (child1.ru_utime - child0.ru_utime) + (child1.ru_stime - child0.ru_stime)
    return float(rate.group(1)), (node1 - node0) / n * 1e6, wrk_cpu / n * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--wrk", action="append", default=None,
                    help="threads,connections (repeatable; default 1,10 and 2,50)")
    args = ap.parse_args()
    shapes = [tuple(int(x) for x in s.split(",")) for s in (args.wrk or ["1,10", "2,50"])]
    binaries = [os.path.abspath(b) for b in args.binaries]
    height = stored_height(binaries[0], args.data_dir)
    script = random_heights_script(height)
    paths = [("random", "/", script), ("one height", f"/blocks/{height // 2}", None),
             ("static asset", "/explorer/style.css", None)]
    results = {}  # (binary, shape, path) -> [(rate, node_us, wrk_us)]
    try:
        for run in range(args.runs):
            for binary in binaries:
                node, port = start(binary, args.data_dir)
                try:
                    wait_serving(port, height)
                    for t, c in shapes:
                        for name, path, scr in paths:
                            row = wrk(node.pid, port, args.wrk_seconds, t, c, path, scr)
                            results.setdefault((binary, (t, c), name), []).append(row)
                            print(f"run {run + 1} {os.path.basename(os.path.dirname(binary)) or binary}"
                                  f"/{os.path.basename(binary)} -t{t} -c{c} {name}: {row[0]:.0f}/s, "
                                  f"node {row[1]:.1f} us, wrk {row[2]:.1f} us a request", flush=True)
                finally:
                    stop(node)
    finally:
        os.unlink(script)
    print(f"medians of {args.runs} runs (requests/s; CPU us a request: node, wrk):")
    for (binary, (t, c), name), rows in results.items():
        med = [statistics.median(r[i] for r in rows) for i in range(3)]
        print(f"  {binary} -t{t} -c{c} {name}: {med[0]:.0f}/s; node {med[1]:.1f} us; wrk {med[2]:.1f} us")


if __name__ == "__main__":
    main()
