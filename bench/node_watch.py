#!/usr/bin/env python3
"""Measures what watching a node costs: GET /metrics scrape time beside
GET /status on the same node, and the delivery of live events to many
GET /events clients, for docs/performance.md.

Usage: bench/node_watch.py [--runs N] [--scrapes N] [--clients N] [--blocks N]
                           BINARY [DATA_DIR]

Each run:
  1. scrapes: a node on DATA_DIR (a regtest chain, e.g. one written by
     `sync_bench make-chain DIR 100000 1`; the node adds nothing to it), or
     on an empty regtest directory without DATA_DIR. N GET /metrics, then N
     GET /status, one after another on one keep-alive connection; the
     median and p99 of each (the client's time per request, Python's
     overhead included in both).
  2. events: a fresh regtest node (--event-clients above --clients), that
     many raw connections subscribed to GET /events, read by one thread with
     select(); then --blocks times POST /mine. For each block: the time from
     POST /mine's answer to the tip event's arrival at the first and at the
     last client (negative when the event beat the answer), and whether
     every client got it.
Prints one line per run and the medians. Loopback only; every node it
starts is stopped.
"""
import argparse
import http.client
import json
import os
import select
import shutil
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


def start_node(binary, data_dir, extra=()):
    http_port, p2p_port = free_port(), free_port()
    proc = subprocess.Popen(
        [binary, "node", "--network", "regtest", "--http-port", str(http_port),
         "--p2p-port", str(p2p_port), "--data-dir", data_dir, "--log-level", "warn", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
            conn.request("GET", "/status")
            if conn.getresponse().status == 200:
                return proc, http_port
        except OSError:
            pass
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("node did not start")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def times(port, path, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path)
        res = conn.getresponse()
        body = res.read()
        out.append(time.perf_counter() - t0)
        assert res.status == 200, (path, res.status)
        size = len(body)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1], size


def scrapes(binary, data_dir, n):
    tmp = None
    if data_dir is None:
        tmp = tempfile.mkdtemp(prefix="powchain-watch-")
        data_dir = tmp
    proc, port = start_node(binary, data_dir)
    try:
        height = json.loads(http_get(port, "/status"))["height"]
        times(port, "/metrics", 50)  # warm up
        m = times(port, "/metrics", n)
        s = times(port, "/status", n)
        return height, m, s
    finally:
        stop(proc)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def http_get(port, path, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"} if body else {}
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    assert res.status in (200, 201), (path, res.status, data)
    return data


def events(binary, clients, blocks):
    tmp = tempfile.mkdtemp(prefix="powchain-events-")
    proc, port = start_node(binary, tmp, ["--event-clients", str(clients + 8),
                                          "--http-max-connections", str(clients + 64)])
    socks = []
    try:
        for _ in range(clients):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        bufs = {s.fileno(): b"" for s in socks}
        arrivals = {}  # hash -> list of arrival times
        stop_flag = threading.Event()

        def reader():
            fds = {s.fileno(): s for s in socks}
            while not stop_flag.is_set():
                ready, _, _ = select.select(list(fds), [], [], 0.1)
                now = time.perf_counter()
                for fd in ready:
                    chunk = fds[fd].recv(65536)
                    if not chunk:
                        del fds[fd]
                        continue
                    buf = bufs[fd] + chunk
                    while b"\n\n" in buf:
                        frame, buf = buf.split(b"\n\n", 1)
                        # Chunk-size lines sit between frames; the event
                        # name and its data line are contiguous.
                        i = frame.find(b"event: tip\n")
                        if i >= 0:
                            data = frame[frame.find(b"data: ", i) + 6:]
                            h = json.loads(data)["hash"]
                            arrivals.setdefault(h, []).append(now)
                    bufs[fd] = buf

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        # Every client subscribed: the node counts them.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            metrics = http_get(port, "/metrics").decode()
            line = [l for l in metrics.splitlines() if l.startswith("powchain_events_clients ")]
            if line and float(line[0].split()[1]) >= clients:
                break
            time.sleep(0.05)
        first, last, complete = [], [], 0
        for i in range(blocks):
            block = json.loads(http_get(port, "/mine", "POST", json.dumps({"data": {"n": i}})))
            answered = time.perf_counter()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(arrivals.get(block["hash"], [])) < clients:
                time.sleep(0.001)
            got = arrivals.get(block["hash"], [])
            if len(got) == clients:
                complete += 1
            if got:
                first.append((min(got) - answered) * 1000)
                last.append((max(got) - answered) * 1000)
        stop_flag.set()
        t.join(2)
        return statistics.median(first), statistics.median(last), max(last), complete
    finally:
        for s in socks:
            s.close()
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("data_dir", nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scrapes", type=int, default=500)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--blocks", type=int, default=20)
    args = ap.parse_args()
    rows = []
    for run in range(args.runs):
        height, m, s = scrapes(args.binary, args.data_dir, args.scrapes)
        ev = events(args.binary, args.clients, args.blocks)
        rows.append((m, s, ev))
        print(f"run {run + 1}: height {height}: GET /metrics median {m[0] * 1000:.3f} ms "
              f"p99 {m[1] * 1000:.3f} ms ({m[2]} bytes); GET /status median {s[0] * 1000:.3f} ms "
              f"p99 {s[1] * 1000:.3f} ms; events to {args.clients} clients: first "
              f"{ev[0]:.2f} ms, last {ev[1]:.2f} ms after POST /mine answered (worst {ev[2]:.2f}), "
              f"{ev[3]}/{args.blocks} blocks reached every client", flush=True)
    med = lambda xs: statistics.median(xs)
    print(f"medians of {args.runs} runs: GET /metrics {med([r[0][0] for r in rows]) * 1000:.3f} ms "
          f"(p99 {med([r[0][1] for r in rows]) * 1000:.3f}), GET /status "
          f"{med([r[1][0] for r in rows]) * 1000:.3f} ms (p99 {med([r[1][1] for r in rows]) * 1000:.3f}); "
          f"tip event at the first client {med([r[2][0] for r in rows]):.2f} ms, at the last "
          f"{med([r[2][1] for r in rows]):.2f} ms after POST /mine answered")


if __name__ == "__main__":
    sys.exit(main())
