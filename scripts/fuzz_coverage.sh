#!/usr/bin/env bash
# What each fuzz target's corpus reaches in the code it feeds: replays the
# corpus under the `coverage` preset's build (clang source-based coverage)
# and prints, for each entry function of the target, the regions and
# branches its inputs took (llvm-cov; a branch is one way of one condition,
# so error branches not taken show as missing).
#
# Usage: scripts/fuzz_coverage.sh [CORPUS_ROOT] [TARGET...]
#   CORPUS_ROOT: directory of <target>/ corpora (default fuzz/corpus; after
#   `make fuzz`, build/fuzz/corpus holds what the runs found)
# Needs: cmake --preset coverage && cmake --build --preset coverage
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpora=${1:-$root/fuzz/corpus}
shift || true
build=$root/build/coverage
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
cov=$(command -v llvm-cov-14 || command -v llvm-cov)

# target: source file (under src/) and the functions that are its entry
# points, as a grep -E pattern over llvm-cov's demangled names.
declare -A files=(
  [fuzz_block]="primitives/block_json.cpp consensus/validation.cpp"
  [fuzz_block_store]="storage/sqlite_store.cpp consensus/validation.cpp"
  [fuzz_p2p_decode]="p2p/protocol.cpp"
  [fuzz_p2p_dispatch]="p2p/peer_manager.cpp chain/chainstate.cpp"
  [fuzz_p2p_sync]="p2p/peer_manager.cpp chain/chainstate.cpp chain/header_sync.cpp"
  [fuzz_http]="http/routes.cpp"
  [fuzz_http_wire]="http/server.cpp"
  [fuzz_ws_transport]="p2p/transport.cpp"
  [fuzz_store]="storage/sqlite_store.cpp chain/chainstate.cpp primitives/block.cpp node/verify.cpp"
  [fuzz_settings]="node/api_token.cpp util/url.cpp node/options.cpp"
  [fuzz_tx]="primitives/transaction.cpp consensus/tx_check.cpp primitives/merkle.cpp"
  [fuzz_address]="util/bech32.cpp primitives/address.cpp"
  [fuzz_wallet_file]="wallet/wallet_file.cpp"
  [fuzz_mempool]="mempool/mempool.cpp mempool/orphan_txs.cpp"
  [fuzz_canonical_json]="primitives/json.cpp primitives/canonical_json.cpp"
  [fuzz_hex]="util/hex.cpp"
)
declare -A entries=(
  [fuzz_block]='BlockFromJson|CheckBlockContextFree|CheckBlock\('
  [fuzz_block_store]='SqliteBlockStore::(Commit|CommitLocked|ReadBlock|ReadBlockJson|ReadBlocks|AppendBlocksJson)|BlockFromRow|CheckBlock'
  [fuzz_p2p_decode]='p2p::Decode\('
  [fuzz_p2p_dispatch]='PeerManager::(OnMessage|HandleHello|HandleBlocks?|HandleHeaders)|AcceptBlocksUncounted|AddHeaders'
  [fuzz_p2p_sync]='PeerManager::(OnMessage|HandleHello|HandleBlocks?|HandleHeaders)|AcceptBlocksUncounted|AddHeaders|ActivateBest|Reorg'
  [fuzz_http]='Router::Route|ParseBlocksQuery'
  [fuzz_http_wire]='HttpSession::(Parse|TransferCodingOk|ParseFailed|ExpectsContinue|OnRead)\('
  [fuzz_ws_transport]='Session::(OnRead|OnUpgrade|OnAccept|StartClose|OnMessage)|OnHandshake'
  [fuzz_store]='SqliteBlockStore::(Open|CheckMeta|ReadTip|ReadBlock)|BlockFromRow|BlockHeader::Deserialize|ChainState::Load|RecheckTopLocked|VerifyStore|StructureSound'
  [fuzz_settings]='LoadOrCreateApiToken|ParsePeerList|ParseHostPortUrl|ParsePort|ValidateOptions'
  [fuzz_tx]='TxFromJson|TxsFromJsonText|CheckTransaction|MerkleRootFromProof'
  [fuzz_address]='Bech32Decode|DecodeAddress'
  [fuzz_wallet_file]='WalletFile::(Open|Unlock)|ReadScrypt|ReadAddresses|ReadSent|ReadPlainKeys'
  [fuzz_mempool]='Mempool::(Accept|Load|AcceptLocked|CheckLocked|EvictLocked|TrimLocked|Expire)|OrphanTxs::'
  [fuzz_canonical_json]='ParseJson|CanonicalizeJsonText|CanonicalNumber'
  [fuzz_hex]='HexDecode|HexToHash32'
)
targets=("$@")
((${#targets[@]})) || targets=("${!files[@]}")
mkdir -p "$build/profiles"
for t in $(printf '%s\n' "${targets[@]}" | sort); do
  bin=$build/fuzz/$t
  [[ -x $bin ]] || { echo "$t: no $bin (build the coverage preset)" >&2; exit 1; }
  raw=$build/profiles/$t.profraw
  prof=$build/profiles/$t.profdata
  rm -f "$raw"
  LLVM_PROFILE_FILE=$raw "$bin" "$corpora/$t" >/dev/null 2>&1
  "$profdata" merge -sparse "$raw" -o "$prof"
  inputs=$(find "$corpora/$t" -maxdepth 1 -type f | wc -l)
  echo "== $t ($inputs inputs from $corpora/$t)"
  srcs=()
  for f in ${files[$t]}; do srcs+=("$root/src/$f"); done
  "$cov" report -show-functions -Xdemangler=c++filt "$bin" -instr-profile="$prof" "${srcs[@]}" |
    grep -E "${entries[$t]}" |
    awk '{
      n = NF; name = $1
      for (i = 2; i <= n - 9; ++i) name = name " " $i
      gsub(/\(anonymous namespace\)::/, "", name)
      sub(/\(.*/, "", name)
      printf "  %-48s regions %d/%d  branches %d/%d\n", name, $(n-8) - $(n-7), $(n-8), $(n-2) - $(n-1), $(n-2)
    }' |
    sort -u
  # And each file as a whole.
  "$cov" report "$bin" -instr-profile="$prof" "${srcs[@]}" |
    awk -v root="$root/src/" '$1 ~ /\.cpp$/ {
      n = NF; file = $1; sub(root, "", file)
      printf "  %-48s regions %d/%d  branches %d/%d (whole file)\n", file, $(n-11) - $(n-10), $(n-11), $(n-2) - $(n-1), $(n-2)
    }'
done
