#!/usr/bin/env python3
"""Tests of check_deps.py: it passes a clean tree and fails each kind of
violation, so the real check (deps.check) can fail when it should."""
import pathlib
import subprocess
import sys
import tempfile

CHECKER = pathlib.Path(__file__).with_name("check_deps.py")


def run(files):
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "src"
        for name, text in files.items():
            p = src / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        r = subprocess.run([sys.executable, str(CHECKER), str(src)], capture_output=True,
                           text=True)
        return r.returncode, r.stdout


CLEAN = {
    "util/hex.h": "#include <string>\n",
    "consensus/pow.cpp": '#include "consensus/pow.h"\n#include "primitives/block.h"\n'
                         '#include <vector>\n#include <atomic>\n',
    "chain/chainstate.cpp": '#include "consensus/validation.h"\n#include "storage/block_store.h"\n'
                            '#include <mutex>\n',
    "storage/sqlite_store.cpp": "#include <sqlite3.h>\n",
}

BAD = [
    ("consensus includes <thread>", {"consensus/pow.cpp": "#include <thread>\n"}),
    ("consensus includes <chrono>", {"consensus/difficulty.cpp": "#include <chrono>\n"}),
    ("consensus includes <iostream>", {"consensus/x.h": "#include <iostream>\n"}),
    ("consensus includes <fstream>", {"consensus/x.h": "  #  include <fstream>\n"}),
    ("consensus includes spdlog", {"consensus/x.h": "#include <spdlog/spdlog.h>\n"}),
    ("consensus includes sqlite", {"consensus/x.h": "#include <sqlite3.h>\n"}),
    ("consensus includes asio", {"consensus/x.h": "#include <boost/asio.hpp>\n"}),
    ("consensus includes beast", {"consensus/x.h": "#include <boost/beast/http.hpp>\n"}),
    ("consensus includes a higher layer", {"consensus/x.h": '#include "chain/chainstate.h"\n'}),
    ("primitives includes consensus", {"primitives/b.h": '#include "consensus/params.h"\n'}),
    ("chain includes p2p", {"chain/c.cpp": '#include "p2p/peer.h"\n'}),
    ("http includes chain", {"http/routes.cpp": '#include "chain/chainstate.h"\n'}),
    ("http includes node", {"http/routes.cpp": '#include "node/node.h"\n'}),
    ("mining includes http", {"mining/m.cpp": '#include "http/server.h"\n'}),
    ("storage includes chain", {"storage/s.cpp": '#include "chain/chainstate.h"\n'}),
    ("sqlite outside storage", {"chain/c.cpp": "#include <sqlite3.h>\n"}),
    ("openssl outside crypto", {"primitives/p.cpp": "#include <openssl/sha.h>\n"}),
    ("unknown module folder", {"misc/m.cpp": "#include <vector>\n"}),
    ("include without module path", {"util/u.cpp": '#include "hex.h"\n'}),
]


def main():
    failures = 0
    code, out = run(CLEAN)
    if code != 0:
        print(f"FAIL clean tree rejected:\n{out}")
        failures += 1
    for name, files in BAD:
        code, out = run({**CLEAN, **files})
        if code != 1 or "violations" not in out or " 0 violations" in out:
            print(f"FAIL not caught: {name} (exit {code})\n{out}")
            failures += 1
        else:
            print(f"ok   caught: {name}")
    total = len(BAD) + 1
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
