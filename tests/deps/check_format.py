#!/usr/bin/env python3
"""Fails when a C++ file of the project differs from what .clang-format makes of it.

Usage: check_format.py CLANG_FORMAT REPO_ROOT

One clang-format process checks every file (starting one per file cost most
of the check's time); its diagnostics name the files that differ.
"""
import pathlib
import re
import subprocess
import sys


def main(argv):
    clang_format, root = argv[1], pathlib.Path(argv[2])
    files = [str(p.relative_to(root)) for d in ("src", "tests", "bench", "fuzz")
             for p in sorted((root / d).rglob("*"))
             if p.suffix in {".h", ".hpp", ".cpp", ".cc"} and p.is_file()]
    r = subprocess.run([clang_format, "--style=file", "--dry-run", "-Werror", *files],
                       capture_output=True, text=True, cwd=root)
    bad = sorted({m.group(1) for m in re.finditer(r"^(\S+?):\d+:\d+: error:", r.stderr, re.M)})
    if r.returncode != 0 and not bad:
        print(r.stderr)
        bad = ["(clang-format failed; see above)"]
    for b in bad:
        print(f"not formatted: {b}  (fix: make format)")
    print(f"check_format: {len(files)} files, {len(bad)} not formatted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
