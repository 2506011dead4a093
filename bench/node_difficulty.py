#!/usr/bin/env python3
"""Measures the difficulty rule on a real node: the block-interval
distribution of a node mining alone with --mine, against mineRate.

Usage: bench/node_difficulty.py [options] [build/release/powchain]

For each --threads value it starts `powchain node --mine --threads N` on free
loopback ports with a temporary data directory, polls GET /status (height and
the miner's measured hash rate) until the chain holds warm-up + measured
blocks, reads those blocks with GET /blocks?from=&limit=, and prints the mean,
median and p90 of the intervals (timestamp differences) of the measured
blocks, their ratio to mineRate, the share below mineRate, the distribution
of block difficulties, and the hash rate the node reported while they were
mined. The first blocks are skipped: a fresh node starts at the genesis
difficulty and climbs one bit per fast block.

With --sim PATH (the difficulty_sim binary) it also runs the simulation at the
hash rate the node measured (median of its /status readings), so the two can
be compared on one line.

Python 3 standard library only. Loopback only; stops every node it starts.
"""
import argparse
import http.client
import json
import math
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


def get_json(port, path, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def nearest_rank(sorted_values, q):
    """The smallest value with at least a fraction q of the values at or
    below it (the definition difficulty_sim uses)."""
    rank = min(max(math.ceil(q * len(sorted_values)), 1), len(sorted_values))
    return sorted_values[rank - 1]


def fetch_blocks(port, start, count, page=100):
    """Blocks start .. start + count - 1 of the active chain, paging."""
    blocks = []
    while len(blocks) < count:
        height = start + len(blocks)
        got = get_json(port, f"/blocks?from={height}&limit={min(page, count - len(blocks))}")
        if not got:
            raise RuntimeError(f"the chain ends before height {height}")
        blocks.extend(got)
    for a, b in zip(blocks, blocks[1:]):
        if b["lastHash"] != a["hash"]:
            raise RuntimeError(f"blocks {a['height']} and {b['height']} do not link (a reorg?)")
    return blocks


def summarize(blocks, mine_rate):
    intervals = sorted(b["timestamp"] - a["timestamp"] for a, b in zip(blocks, blocks[1:]))
    difficulties = {}
    for b in blocks[1:]:
        difficulties[b["difficulty"]] = difficulties.get(b["difficulty"], 0) + 1
    mean = statistics.fmean(intervals)
    return {
        "intervals": len(intervals),
        "meanMs": mean,
        "medianMs": nearest_rank(intervals, 0.5),
        "p90Ms": nearest_rank(intervals, 0.9),
        "meanRatio": mean / mine_rate,
        "fastShare": sum(1 for dt in intervals if dt < mine_rate) / len(intervals),
        "difficulties": dict(sorted(difficulties.items())),
        # Sampling error of the mean: the intervals are close to independent.
        "meanStdErrMs": statistics.stdev(intervals) / math.sqrt(len(intervals)),
    }


def run_node(binary, network, threads, warmup, blocks, poll, timeout, log):
    http_port, p2p_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="powchain-difficulty-") as tmp:
        node = subprocess.Popen(
            [binary, "node", "--network", network, "--http-port", str(http_port), "--p2p-port",
             str(p2p_port), "--data-dir", os.path.join(tmp, "data"), "--log-level", "warn",
             "--mine", "--threads", str(threads)],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    status = get_json(http_port, "/status", timeout=2)
                    break
                except (OSError, RuntimeError):
                    if node.poll() is not None:
                        raise RuntimeError(f"node exited with {node.returncode}")
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            mine_rate = status["mineRate"]
            target = warmup + blocks
            rates = []  # hashes/s from /status, read after the warm-up
            started = time.time()
            while status["height"] < target:
                if time.time() - started > timeout:
                    raise RuntimeError(f"only {status['height']} of {target} blocks in {timeout} s")
                if node.poll() is not None:
                    raise RuntimeError(f"node exited with {node.returncode}")
                time.sleep(poll)
                status = get_json(http_port, "/status")
                # Each reading covers the time since the one before (>= 1 s).
                if status["height"] > warmup and status["mining"]["hashRate"] > 0:
                    rates.append(status["mining"]["hashRate"])
                if log:
                    print(f"  threads {threads}: height {status['height']}/{target}, "
                          f"difficulty {status['difficulty']}, "
                          f"{status['mining']['hashRate'] / 1e6:.2f} M/s", file=sys.stderr)
            elapsed = time.time() - started
            chain = fetch_blocks(http_port, warmup, blocks + 1)
        finally:
            node.terminate()
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
    result = summarize(chain, mine_rate)
    result.update({
        "network": network,
        "threads": threads,
        "mineRateMs": mine_rate,
        "warmup": warmup,
        "firstBlock": warmup + 1,  # the intervals end at blocks firstBlock..lastBlock
        "lastBlock": warmup + blocks,
        "wallSeconds": elapsed,
        "hashRateReadings": len(rates),
        "hashRateMedian": statistics.median(rates) if rates else 0,
        "hashRateMin": min(rates) if rates else 0,
        "hashRateMax": max(rates) if rates else 0,
    })
    return result


def run_sim(sim, network, mine_rate, hash_rate, blocks):
    out = subprocess.run(
        [sim, "--json", "--network", network, "--mine-rate-ms", str(mine_rate), "--miners", "1",
         "--hashrate", f"{hash_rate:.0f}", "--blocks", str(blocks)],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)[0]


def difficulty_text(counts):
    total = sum(counts.values())
    return ", ".join(f"{d}: {100 * n / total:.0f}%" for d, n in counts.items()
                     if 100 * n / total >= 0.5)


def print_table(results):
    print("| node | blocks | hash rate from /status, median (min-max) | mean | median | p90 "
          "| mean / mineRate | < mineRate | difficulties | simulated at that rate: mean / median / "
          "p90 (ratio) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        sim = r.get("sim")
        sim_text = (f"{sim['meanMs']:.0f} / {sim['medianMs']} / {sim['p90Ms']} ms "
                    f"({sim['meanRatio']:.3f})") if sim else ""
        print(f"| {r['network']}, --threads {r['threads']} | {r['firstBlock']}-{r['lastBlock']} "
              f"| {r['hashRateMedian'] / 1e6:.2f} M/s ({r['hashRateMin'] / 1e6:.2f}-"
              f"{r['hashRateMax'] / 1e6:.2f}) "
              f"| {r['meanMs']:.0f} ms (± {r['meanStdErrMs']:.0f}) | {r['medianMs']} ms "
              f"| {r['p90Ms']} ms | {r['meanRatio']:.3f} | {100 * r['fastShare']:.0f}% "
              f"| {difficulty_text(r['difficulties'])} | {sim_text} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", nargs="?", default="build/release/powchain")
    parser.add_argument("--network", default="regtest", choices=["main", "regtest"])
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated miner thread counts, one node each (default 1,2)")
    parser.add_argument("--blocks", type=int, default=300, help="intervals measured (default 300)")
    parser.add_argument("--warmup", type=int, default=30,
                        help="blocks skipped while the difficulty climbs (default 30)")
    parser.add_argument("--poll", type=float, default=5.0,
                        help="seconds between GET /status readings (default 5)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="give up on a node after this many seconds (default 3600)")
    parser.add_argument("--sim", help="difficulty_sim binary: also simulate at the measured rate")
    parser.add_argument("--sim-blocks", type=int, default=1000000,
                        help="intervals simulated (default 1000000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    if args.blocks < 2 or args.warmup < 0:
        parser.error("--blocks must be at least 2 and --warmup at least 0")

    binary = os.path.abspath(args.binary)
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        r = run_node(binary, args.network, threads, args.warmup, args.blocks, args.poll,
                     args.timeout, not args.quiet)
        if args.sim and r["hashRateMedian"] > 0:
            r["sim"] = run_sim(os.path.abspath(args.sim), args.network, r["mineRateMs"],
                               r["hashRateMedian"], args.sim_blocks)
        results.append(r)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
