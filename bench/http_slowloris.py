#!/usr/bin/env python3
"""Times a normal client's GET /status while slowloris connections hold the
HTTP port: each of them sends part of a request header and then stalls.

Usage: bench/http_slowloris.py [--binary PATH | --port N] [--connections C]
                               [--requests N] [--runs R] [--reopen] [--nice N]

With --binary, the script starts `PATH node --network regtest` on free
loopback ports with a fresh temporary data dir (removed afterwards) and stops
it at the end; with --port, it measures a node that is already running on
127.0.0.1:N.

Each run measures four cases, N requests each, and prints one line per case:
  fresh     / no stallers   GET /status on a new connection each time
  keepalive / no stallers   N GET /status on one keep-alive connection
  fresh     / C stallers    the same while C connections stall mid-header
  keepalive / C stallers
A staller connects, sends "GET /status HTTP/1.1\\r\\nHost: x\\r\\n" (no
blank line, so the header never ends) and then sends nothing more. A child
process opens them before the timed requests, gives them --settle seconds to
be accepted, and holds them. With --reopen, it reopens every staller the
server closes (or refuses) as soon as it notices (polling every millisecond),
so C of them stay open for the whole measurement: an attacker who keeps
opening connections. That process competes with the node and the timed client
for the CPU, as a remote attacker would not: --nice lowers its priority.

A request's time runs from before connect() (fresh) or before send()
(keepalive) until its whole response has been read. A request that does not
get a 200 is counted by what happened (503, closed, reset, timeout, ...) and
left out of the times; a keep-alive connection the server closes is reopened
and the reconnection counted. At the end: how many stallers the server closed
while the timed requests ran, and the medians over the runs.

Python stdlib only; loopback only; every socket and process it opens is
closed, and every wait is bounded (--timeout per request).
"""
import argparse
import multiprocessing
import os
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PARTIAL_HEADER = b"GET /status HTTP/1.1\r\nHost: x\r\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Failure(Exception):
    """A request that did not end in a 200; str() names what happened."""


def read_response(sock, deadline):
    """Reads one response with a Content-Length body; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += recv_some(sock, deadline)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise Failure("bad status line")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += recv_some(sock, deadline)
    return status


def recv_some(sock, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise Failure("timeout")
    sock.settimeout(left)
    try:
        chunk = sock.recv(65536)
    except socket.timeout:
        raise Failure("timeout")
    except ConnectionResetError:
        raise Failure("reset")
    if not chunk:
        raise Failure("closed")
    return chunk


def request(sock, keep_alive, timeout):
    conn = b"" if keep_alive else b"Connection: close\r\n"
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n" + conn + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        raise Failure("reset")
    status = read_response(sock, deadline)
    if status != 200:
        raise Failure(str(status))


def connect(port, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    try:
        sock.connect(("127.0.0.1", port))
    except socket.timeout:
        sock.close()
        raise Failure("connect timeout")
    except OSError as e:
        sock.close()
        raise Failure("connect: " + e.strerror)
    return sock


def measure_fresh(port, n, timeout):
    times, errors = [], {}
    for _ in range(n):
        t0 = time.perf_counter()
        sock = None
        try:
            sock = connect(port, timeout)
            request(sock, False, timeout)
            times.append(time.perf_counter() - t0)
        except Failure as f:
            errors[str(f)] = errors.get(str(f), 0) + 1
        finally:
            if sock:
                sock.close()
    return times, errors


def measure_keepalive(port, n, timeout):
    times, errors = [], {}
    sock = None
    for _ in range(n):
        try:
            if sock is None:
                sock = connect(port, timeout)
                errors["reconnect"] = errors.get("reconnect", 0) + 1
            t0 = time.perf_counter()
            request(sock, True, timeout)
            times.append(time.perf_counter() - t0)
        except Failure as f:
            errors[str(f)] = errors.get(str(f), 0) + 1
            if sock:
                sock.close()
            sock = None
    if sock:
        sock.close()
    errors["reconnect"] = errors.get("reconnect", 1) - 1  # the first is no reconnection
    if not errors["reconnect"]:
        del errors["reconnect"]
    return times, errors


class Stallers:
    """C connections that each send a partial header and stall, held by a
    child process (so that reopening them does not compete with the timed
    client for Python's GIL)."""

    def __init__(self, port, count, reopen, nice):
        self.port = port
        self.count = count
        self.reopen = reopen
        self.nice = nice
        self.ready = multiprocessing.Event()
        self.stop = multiprocessing.Event()
        self.results = multiprocessing.Queue()
        self.proc = None

    def start(self, settle):
        """Opens them, waits `settle` seconds, and starts counting closes."""
        self.proc = multiprocessing.Process(
            target=hold, args=(self.port, self.count, self.reopen, self.nice, settle, self.ready,
                               self.stop, self.results), daemon=True)
        self.proc.start()
        if not self.ready.wait(120):
            sys.exit("stallers did not open in time")

    def finish(self):
        """Stops and closes them; returns (closed by the server while timing,
        open at the end, failed to open)."""
        self.stop.set()
        out = self.results.get(timeout=120)
        self.proc.join(30)
        return out


def hold(port, count, reopen, nice, settle, ready, stop, results):
    if nice:
        os.nice(nice)
    socks = []
    failures = 0

    def open_one():
        nonlocal failures
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(PARTIAL_HEADER)
            s.setblocking(False)
            return s
        except OSError:
            s.close()
            failures += 1
            return None

    def reap():
        """Closes the stallers the server has closed or answered (503)."""
        gone = []
        for i in range(0, len(socks), 500):  # select() takes at most 1024 fds
            readable, _, _ = select.select(socks[i:i + 500], [], [], 0)
            for s in readable:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data or data.startswith(b"HTTP/"):
                    gone.append(s)
        for s in gone:
            socks.remove(s)
            s.close()
        return len(gone)

    for _ in range(count):
        s = open_one()
        if s:
            socks.append(s)
    time.sleep(settle)
    reap()
    ready.set()
    closed = 0
    while not stop.is_set():
        gone = reap()
        closed += gone
        if reopen:
            while len(socks) < count and not stop.is_set():
                s = open_one()
                if not s:
                    break
                socks.append(s)
            stop.wait(0.001)
        else:
            stop.wait(0.05)
    closed += reap()
    still = len(socks)
    for s in socks:
        s.close()
    results.put((closed, still, failures))


def summary(times):
    if not times:
        return "no successful request"
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * len(ms))) - 1)]
    return f"median {statistics.median(ms):7.3f} ms  p99 {p99:7.3f} ms  max {ms[-1]:8.3f} ms"


def stats(times):
    if not times:
        return None
    ms = sorted(t * 1000 for t in times)
    return (statistics.median(ms), ms[min(len(ms) - 1, int(round(0.99 * len(ms))) - 1)], ms[-1])


def start_node(binary, tmp):
    http = free_port()
    p2p = free_port()
    log = open(os.path.join(tmp, "node.log"), "w")
    node = subprocess.Popen(
        [binary, "node", "--network", "regtest", "--http-port", str(http), "--p2p-port", str(p2p),
         "--data-dir", os.path.join(tmp, "data"), "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if node.poll() is not None:
            sys.exit(f"node exited with {node.returncode}; log in {tmp}/node.log")
        try:
            sock = connect(http, 2)
            request(sock, False, 2)
            sock.close()
            return node, http
        except Failure:
            time.sleep(0.05)
    node.kill()
    sys.exit("node did not start")


def main():
    ap = argparse.ArgumentParser(
        description="GET /status latency while slowloris connections stall mid-header.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--binary", help="powchain executable to start (regtest, temp data dir)")
    where.add_argument("--port", type=int, help="HTTP port of a node already running on 127.0.0.1")
    ap.add_argument("--connections", type=int, default=200,
                    help="stalled connections (default 200)")
    ap.add_argument("--requests", type=int, default=500,
                    help="timed requests per case (default 500)")
    ap.add_argument("--runs", type=int, default=1, help="runs (default 1)")
    ap.add_argument("--reopen", action="store_true",
                    help="reopen every staller the server closes, continuously")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness added to the process holding the stallers (default 0): "
                         "a remote attacker does not take this machine's CPU")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds between opening the stallers and timing (default 0.5)")
    ap.add_argument("--timeout", type=float, default=5.0,
                    help="seconds a request may take before it counts as a timeout (default 5)")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections * 2 + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))

    tmp = None
    node = None
    port = args.port
    try:
        if args.binary:
            tmp = tempfile.mkdtemp(prefix="powchain-slowloris-")
            node, port = start_node(args.binary, tmp)
        print(f"port {port}: {args.connections} stallers{' (reopened)' if args.reopen else ''}"
              f"{f' (nice {args.nice})' if args.nice else ''}, "
              f"{args.requests} requests per case, {args.runs} run(s)")
        results = {}
        for run in range(1, args.runs + 1):
            for stalled in (False, True):
                stallers = None
                if stalled:
                    stallers = Stallers(port, args.connections, args.reopen, args.nice)
                    stallers.start(args.settle)
                for mode, fn in (("fresh", measure_fresh), ("keepalive", measure_keepalive)):
                    times, errors = fn(port, args.requests, args.timeout)
                    label = f"{mode:9} / {args.connections if stalled else 0:4} stallers"
                    err = ", ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
                    print(f"run {run}  {label}  ok {len(times):4}/{args.requests}  "
                          f"{summary(times)}" + (f"  [{err}]" if err else ""), flush=True)
                    results.setdefault(label, []).append((stats(times), len(times)))
                if stallers:
                    closed, still, failed = stallers.finish()
                    print(f"run {run}  stallers closed by the server while timing: {closed}; "
                          f"open at the end: {still}; failed to open: {failed}", flush=True)
                    time.sleep(args.settle)  # let the server reap them before the next case
        print("medians over runs:")
        for label, rows in results.items():
            got = [s for s, _ in rows if s]
            oks = [n for _, n in rows]
            if not got:
                print(f"  {label}  no successful request")
                continue
            med = [statistics.median(x[i] for x in got) for i in range(3)]
            print(f"  {label}  ok {statistics.median(oks):6.1f}/{args.requests}  "
                  f"median {med[0]:7.3f} ms  p99 {med[1]:7.3f} ms  max {med[2]:8.3f} ms")
    finally:
        if node:
            node.send_signal(signal.SIGTERM)
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
