#!/usr/bin/env python3
"""Checks #include lines in src/ against the layer rules of docs/architecture.md.

Usage: check_deps.py SRC_DIR

Rules:
  1. A module may include its own headers and those of the modules below it
     (the transitive closure of LAYERS). Arrows only point down.
  2. A module may include a third-party or system header only if it is allowed
     for that module: consensus code does no I/O, threads, clocks, networking,
     SQL or logging; only storage talks to SQLite; only the network layers
     use Asio/Beast; and so on (FORBIDDEN / ONLY_IN).
Exit status 0 when every include is allowed, 1 otherwise (each violation is
printed as file:line: message), 2 on usage errors.
"""
import pathlib
import re
import sys

# Module -> the modules it depends on directly (docs/architecture.md, "Layers").
LAYERS = {
    "util": [],
    "crypto": ["util"],
    "primitives": ["crypto", "util"],
    "consensus": ["primitives", "crypto", "util"],
    "storage": ["primitives", "util"],
    "chain": ["consensus", "storage"],
    # The pool of unconfirmed transactions, over the chain's coins.
    "mempool": ["chain", "consensus"],
    "mining": ["consensus", "chain", "mempool"],
    # Sockets, listeners and connection deadlines shared by p2p and http.
    "net": ["util"],
    "p2p": ["chain", "mempool", "primitives", "net"],
    # http defines the narrow interface it needs (http/node_api.h) and the
    # node implements it, so http never sees chain, mining or p2p.
    "http": ["consensus", "primitives", "net", "util"],
    "node": ["util", "crypto", "primitives", "consensus", "storage", "chain", "mempool", "mining", "net",
             "p2p", "http"],
    # The client side: keys, coin selection and signing, over the node's
    # HTTP API (net/http_client.h); it never links the node itself.
    "wallet": ["consensus", "primitives", "crypto", "net", "util"],
    "app": ["node", "wallet"],
}

IO = ["iostream", "fstream", "cstdio", "stdio.h", "filesystem", "sstream", "ostream", "istream",
      "fcntl.h", "unistd.h", "sys/"]
THREADS = ["thread", "mutex", "shared_mutex", "condition_variable", "future", "semaphore",
           "stop_token", "latch", "barrier", "pthread.h"]
CLOCKS = ["chrono", "ctime", "time.h", "sys/time.h", "random"]
NET = ["boost/asio", "boost/beast", "sys/socket.h", "netinet/", "arpa/"]
SQL = ["sqlite3.h"]
LOGGING = ["spdlog/", "syslog.h"]

# Module -> header prefixes it must never include.
FORBIDDEN = {
    "consensus": IO + THREADS + CLOCKS + NET + SQL + LOGGING,
    "primitives": IO + THREADS + CLOCKS + NET + SQL + LOGGING,
    "crypto": IO + THREADS + CLOCKS + NET + SQL + LOGGING,
    "util": NET + SQL + LOGGING,
    "chain": NET + SQL,
    "mempool": NET + SQL,
    "mining": NET + SQL,
    "http": SQL,
    "storage": NET,
    "net": SQL,
    "wallet": NET + SQL,
}
# Header prefix -> the only modules that may include it (libsecp256k1: keys and
# signatures live in crypto/schnorr.h).
ONLY_IN = {
    "sqlite3.h": ["storage"],
    "boost/asio": ["net", "p2p", "http", "node"],
    "boost/beast": ["net", "p2p", "http", "node"],
    "openssl/": ["crypto"],
    "secp256k1": ["crypto"],
    "CLI/": ["app"],
    # Metrics are kept by the node; the layers below only count.
    "prometheus/": ["node"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCES = {".h", ".hpp", ".cpp", ".cc"}


def closure(module):
    seen, stack = set(), [module]
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        stack.extend(LAYERS.get(m, []))
    return seen


def matches(header, prefix):
    if prefix.endswith("/") or prefix.endswith(".h"):
        return header.startswith(prefix)
    # A bare name covers name, name.h, name/... and name_*.h (a library's
    # family of headers: secp256k1.h, secp256k1_schnorrsig.h, ...).
    return header == prefix or header.startswith((prefix + "/", prefix + ".", prefix + "_"))


def check_file(path, module, src):
    problems = []
    allowed = closure(module)
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        quote, header = m.groups()
        where = f"{path}:{number}"
        if quote == '"':
            target = header.split("/", 1)[0]
            if "/" not in header or target not in LAYERS:
                problems.append(f"{where}: project include \"{header}\" must be module/file.h")
                continue
            if target not in allowed:
                problems.append(f"{where}: {module}/ may not include {header} "
                                f"({target}/ is not below {module}/ in the layer list)")
            continue
        for prefix in FORBIDDEN.get(module, []):
            if matches(header, prefix):
                problems.append(f"{where}: {module}/ may not include <{header}> "
                                f"(no I/O, threads, clocks, networking, SQL or logging here)")
                break
        for prefix, owners in ONLY_IN.items():
            if matches(header, prefix) and module not in owners:
                problems.append(f"{where}: <{header}> belongs in {', '.join(owners)}/ only")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = pathlib.Path(argv[1])
    if not src.is_dir():
        print(f"check_deps: {src} is not a directory", file=sys.stderr)
        return 2
    problems, files = [], 0
    for path in sorted(src.rglob("*")):
        if path.suffix not in SOURCES or not path.is_file():
            continue
        module = path.relative_to(src).parts[0]
        if module not in LAYERS:
            problems.append(f"{path}: folder {module}/ is not in the layer list")
            continue
        files += 1
        problems.extend(check_file(path, module, src))
    for p in problems:
        print(p)
    print(f"check_deps: {files} files, {len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
