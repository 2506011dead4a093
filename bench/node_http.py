#!/usr/bin/env python3
"""Measures a real node holding a stored chain: restart time, resident
memory, GET /blocks/{height} throughput (wrk, keep-alive) and the GET /blocks
stream (throughput and memory growth while it streams).

Usage: bench/node_http.py [--runs N] [--wrk-seconds S] [--stream-blocks N]
                          BINARY DATA_DIR

DATA_DIR holds a regtest chain, e.g. one written by
`p2p_bench make-store /tmp/chain-1m 1000000 200`. The node is started on it
with free loopback ports, no peers, logging at warn; it adds nothing to the
store (no peers, no mining), so the directory can be reused.

Each run:
  1. restart: process start until GET /status answers with the stored tip's
     height (polled every 2 ms), and VmRSS/VmHWM right then;
  2. wrk -t2 -c50 for S seconds on GET /blocks/{tip height / 2} (one block,
     a keep-alive connection each), then on random heights (a Lua script);
  3. GET /blocks?limit=N with curl to /dev/null, VmRSS sampled every 5 ms:
     bytes/s and the largest VmRSS seen minus VmRSS just before;
  4. VmRSS and VmHWM at the end, then SIGTERM.
Prints one line per run and the medians. Loopback only; every node and wrk
it starts is stopped, and every loop is bounded in time.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/status")
        res = conn.getresponse()
        body = res.read()
        return json.loads(body) if res.status == 200 else None
    finally:
        conn.close()


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def stored_height(binary, data_dir):
    """Height of the stored tip, from a first start of the node."""
    node, port = start(binary, data_dir)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                s = status(port)
                if s:
                    return s["height"]
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit("node did not start")
    finally:
        stop(node)


def start(binary, data_dir, extra_env=None):
    """Starts `binary node` on free ports; `extra_env`: more settings, e.g.
    {"STREAM_CACHE_MB": "0"}."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HTTP_PORT": str(port),
        "P2P_PORT": str(free_port()),
        "NETWORK": "regtest",
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "warn",
        **(extra_env or {}),
    }
    node = subprocess.Popen([binary, "node"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return node, port


def stop(node):
    node.send_signal(signal.SIGTERM)
    try:
        node.wait(timeout=30)
    except subprocess.TimeoutExpired:
        node.kill()
        node.wait()


def wrk(port, seconds, path=None, script=None, threads=2, connections=50):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{path or '/'}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or not rate:
        sys.exit("wrk failed:\n" + out)
    return float(rate.group(1))


def random_heights_script(height):
    """A wrk Lua script asking for GET /blocks/{h} at random heights up to
    `height`; the caller deletes the file."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("math.randomseed(42)\n"
                "request = function()\n"
                f"  return wrk.format('GET', '/blocks/' .. math.random(0, {height}))\n"
                "end\n")
        return f.name


def wait_serving(port, height, timeout=120):
    """Polls GET /status every 2 ms until the node serves `height`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s = status(port)
            if s and s["height"] == height:
                return
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit(f"the node did not serve height {height} within {timeout} s")


def peak_rss_growth(pid, work):
    """Runs work() while sampling VmRSS of `pid` every 5 ms: (its result,
    the largest VmRSS seen minus VmRSS before, in kB)."""
    before = proc_kb(pid, "VmRSS")
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc_kb(pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, peak[0] - before


def stream(node_pid, port, blocks):
    """GET /blocks?limit=blocks: (bytes, seconds, RSS growth in kB)."""
    def get():
        return subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
             f"http://127.0.0.1:{port}/blocks?limit={blocks}"],
            capture_output=True, text=True, timeout=300, check=True).stdout.split()
    out, growth = peak_rss_growth(node_pid, get)
    return int(out[0]), float(out[1]), growth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("data_dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--stream-blocks", type=int, default=100000)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    height = stored_height(binary, args.data_dir)
    print(f"chain height {height} in {args.data_dir}")

    script = random_heights_script(height)
    rows = []
    try:
        for run in range(args.runs):
            t0 = time.monotonic()
            node, port = start(binary, args.data_dir)
            try:
                wait_serving(port, height)
                restart = time.monotonic() - t0
                rss0 = proc_kb(node.pid, "VmRSS")
                hwm0 = proc_kb(node.pid, "VmHWM")
                fixed = wrk(port, args.wrk_seconds, f"/blocks/{height // 2}")
                rand = wrk(port, args.wrk_seconds, script=script)
                nbytes, secs, growth = stream(node.pid, port, args.stream_blocks)
                rss1 = proc_kb(node.pid, "VmRSS")
                hwm1 = proc_kb(node.pid, "VmHWM")
            finally:
                stop(node)
            row = dict(restart=restart, rss0=rss0 / 1024, hwm0=hwm0 / 1024, fixed=fixed,
                       rand=rand, mbps=nbytes / secs / 1e6, mb=nbytes / 1e6,
                       growth=growth / 1024, rss1=rss1 / 1024, hwm1=hwm1 / 1024)
            rows.append(row)
            print(f"run {run + 1}: restart {restart:.3f} s, RSS {row['rss0']:.1f} MB "
                  f"(HWM {row['hwm0']:.1f}) | GET /blocks/{height // 2}: {fixed:.0f}/s, "
                  f"random heights: {rand:.0f}/s | GET /blocks?limit={args.stream_blocks}: "
                  f"{row['mb']:.1f} MB at {row['mbps']:.0f} MB/s, RSS +{row['growth']:.1f} MB "
                  f"| end RSS {row['rss1']:.1f} MB (HWM {row['hwm1']:.1f})", flush=True)
    finally:
        os.unlink(script)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"median of {len(rows)}: restart {med['restart']:.3f} s, RSS {med['rss0']:.1f} MB, "
          f"GET /blocks/{{h}} {med['fixed']:.0f}/s (random {med['rand']:.0f}/s), "
          f"stream {med['mbps']:.0f} MB/s (+{med['growth']:.1f} MB RSS), "
          f"end RSS {med['rss1']:.1f} MB (HWM {med['hwm1']:.1f})")


if __name__ == "__main__":
    main()
