#!/usr/bin/env python3
"""Fails when a C++ file of the project differs from what .clang-format makes of it.

Usage: check_format.py CLANG_FORMAT REPO_ROOT
"""
import pathlib
import subprocess
import sys


def main(argv):
    clang_format, root = argv[1], pathlib.Path(argv[2])
    files = [p for d in ("src", "tests", "bench", "fuzz") for p in sorted((root / d).rglob("*"))
             if p.suffix in {".h", ".hpp", ".cpp", ".cc"} and p.is_file()]
    bad = []
    for p in files:
        r = subprocess.run([clang_format, "--style=file", "--dry-run", "-Werror", str(p)],
                           capture_output=True, text=True, cwd=root)
        if r.returncode != 0:
            bad.append(str(p.relative_to(root)))
    for b in bad:
        print(f"not formatted: {b}  (fix: make format)")
    print(f"check_format: {len(files)} files, {len(bad)} not formatted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
