#!/usr/bin/env python3
"""Measures a real node: its hash rate while mining and the latency of
GET /status while it mines, against an idle node.

Usage: bench/node_mining.py [build/release/powchain]

For each mode it starts `powchain node --network main` on free loopback ports
in a temporary directory, lets it mine for a while, reads the hash rate from
GET /status, then times 300 GET /status requests (a new connection each) and
prints the median and 99th percentile. Loopback only; stops every node it
starts.
"""
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


def run(binary, extra):
    http_port, p2p_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        node = subprocess.Popen(
            [binary, "node", "--network", "main", "--http-port", str(http_port), "--p2p-port",
             str(p2p_port), "--log-level", "warn", *extra],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    get(http_port, "/status")
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            time.sleep(3)
            get(http_port, "/status")  # starts a sampling window
            time.sleep(2)
            status = json.loads(get(http_port, "/status"))
            latencies = []
            for _ in range(300):
                start = time.perf_counter()
                get(http_port, "/status")
                latencies.append((time.perf_counter() - start) * 1000)
            latencies.sort()
            return (status["mining"]["hashRate"], status["height"], statistics.median(latencies),
                    latencies[int(len(latencies) * 0.99) - 1])
        finally:
            node.terminate()
            node.wait(timeout=10)


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/release/powchain")
    print("| mode | hash rate (H/s) | height after ~5 s | GET /status median (ms) | p99 (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for name, extra in [("idle", []), ("--mine --threads 1", ["--mine", "--threads", "1"]),
                        ("--mine --threads 2", ["--mine", "--threads", "2"])]:
        rate, height, median, p99 = run(binary, extra)
        print(f"| {name} | {rate:,.0f} | {height} | {median:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
