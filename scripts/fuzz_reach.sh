#!/usr/bin/env bash
# How deep a corpus gets in fuzz_p2p_sync: runs every input once with
# POWCHAIN_FUZZ_STATS=1 and counts the inputs that reached block
# acceptance, a block waiting for its parent, a reorganization, headers
# ahead of the blocks stored, the cap on waiting blocks and a failed
# commit.
#
# Usage: scripts/fuzz_reach.sh BINARY CORPUS_DIR
#   BINARY: build/fuzz/fuzz/fuzz_p2p_sync (libFuzzer) or
#           build/asan/fuzz/fuzz_p2p_sync (the replay build)
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 BINARY CORPUS_DIR" >&2
  exit 2
fi
binary=$1
corpus=$2
lines=$(POWCHAIN_FUZZ_STATS=1 "$binary" -runs=0 "$corpus" 2>&1 | grep '^reach:' || true)
if [[ -z $lines ]]; then
  # The replay build takes no libFuzzer flags.
  lines=$(POWCHAIN_FUZZ_STATS=1 "$binary" "$corpus" 2>&1 | grep '^reach:' || true)
fi
total=$(grep -c . <<<"$lines" || true)
echo "inputs: $total"
for what in accepted waited reorg headers capped failed; do
  n=$(grep -c "$what=1" <<<"$lines" || true)
  printf '%-9s %6d  (%d%%)\n' "$what" "$n" $((total > 0 ? 100 * n / total : 0))
done
