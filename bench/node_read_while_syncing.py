#!/usr/bin/env python3
"""Does a node keep answering reads while it commits? GET /blocks/{h}
latency on a node that is syncing a chain from a peer, against the same
node idle once synced.

Usage: bench/node_read_while_syncing.py [--runs N] BINARY STORE_DIR

Node A serves a copy of STORE_DIR (a regtest chain, e.g. written by
`p2p_bench make-store DIR 100000 200`); node B starts empty with A as its
peer and syncs. While B syncs, one client asks B for GET /blocks/{h} at
random heights it already has (one keep-alive connection, one request at a
time) and records each answer's latency; once B is on A's tip the client
asks the same number of times again. Prints median, p99, p99.9 and max of
both, per run. Every process it starts is stopped; every wait is bounded.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_http import free_port, start, stop  # noqa: E402


def height(conn):
    conn.request("GET", "/status")
    res = conn.getresponse()
    body = res.read()
    return json.loads(body)["height"] if res.status == 200 else -1


def wait_height(port, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if height(conn) >= at_least:
                return
        except OSError:
            pass
        time.sleep(0.01)
    sys.exit(f"node on port {port} did not reach height {at_least}")


def summary(latencies):
    ms = sorted(x * 1000 for x in latencies)

    def pct(p):
        return ms[min(len(ms) - 1, int(len(ms) * p))]
    return (f"{len(ms)} requests: median {statistics.median(ms):.3f} ms, p99 {pct(0.99):.3f}, "
            f"p99.9 {pct(0.999):.3f}, max {ms[-1]:.3f}")


def one_run(binary, store_dir, rng):
    work = tempfile.mkdtemp(prefix="readsync-")
    a_dir, b_dir = os.path.join(work, "a"), os.path.join(work, "b")
    shutil.copytree(store_dir, a_dir)
    a = b = None
    try:
        a_p2p = free_port()
        a, a_http = start(binary, a_dir, {"P2P_PORT": str(a_p2p)})
        conn_a = http.client.HTTPConnection("127.0.0.1", a_http, timeout=5)
        deadline = time.monotonic() + 120
        tip = -1
        while tip <= 0 and time.monotonic() < deadline:
            try:
                tip = height(conn_a)
            except OSError:
                conn_a = http.client.HTTPConnection("127.0.0.1", a_http, timeout=5)
                time.sleep(0.01)
        b, b_http = start(binary, b_dir, {"PEERS": f"ws://127.0.0.1:{a_p2p}"})
        wait_height(b_http, 1)
        conn = http.client.HTTPConnection("127.0.0.1", b_http, timeout=30)
        syncing, have, checks = [], height(conn), 0
        while have < tip and time.monotonic() < deadline:
            conn.request("GET", f"/blocks/{rng.randint(0, have)}")
            t0 = time.perf_counter()
            res = conn.getresponse()
            res.read()
            syncing.append(time.perf_counter() - t0)
            if res.status != 200:
                sys.exit(f"GET /blocks answered {res.status}")
            checks += 1
            if checks % 50 == 0:
                have = height(conn)
        if have < tip:
            sys.exit("node B did not sync in time")
        idle = []
        for _ in range(len(syncing)):
            conn.request("GET", f"/blocks/{rng.randint(0, tip)}")
            t0 = time.perf_counter()
            res = conn.getresponse()
            res.read()
            idle.append(time.perf_counter() - t0)
        return syncing, idle
    finally:
        for node in (b, a):
            if node is not None:
                stop(node)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("store_dir")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(42)
    for run in range(args.runs):
        syncing, idle = one_run(os.path.abspath(args.binary), args.store_dir, rng)
        print(f"run {run + 1} while syncing: {summary(syncing)}", flush=True)
        print(f"run {run + 1} idle:          {summary(idle)}", flush=True)


if __name__ == "__main__":
    main()
