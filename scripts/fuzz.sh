#!/usr/bin/env bash
# Runs libFuzzer targets built by the `fuzz` preset (`make fuzz` calls this).
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS TARGET... [-- LIBFUZZER_ARGS...]
#
# Each target runs for SECONDS (-max_total_time) on its working corpus
# BUILD_DIR/corpus/<target>, which starts as a copy of fuzz/corpus/<target>
# and keeps what earlier runs found; the repository's seeds are never
# written. Crash inputs go to BUILD_DIR/artifacts/<target>/, logs to
# BUILD_DIR/logs/<target>.log. fuzz/<target>.dict and fuzz/<target>.options
# (libFuzzer flags, one per line) are passed when present. Prints one
# summary line per target and exits non-zero when any target failed
# (crash, leak, timeout, out of memory).
set -uo pipefail

if (($# < 3)); then
  echo "usage: $0 BUILD_DIR SECONDS TARGET... [-- LIBFUZZER_ARGS...]" >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
targets=()
while (($#)) && [[ $1 != -- ]]; do
  targets+=("$1")
  shift
done
[[ ${1:-} == -- ]] && shift
extra=("$@")

root=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  if [[ ! -x $bin || ! -d $root/fuzz/corpus/$t ]]; then
    echo "fuzz: unknown target $t (no $bin or fuzz/corpus/$t)" >&2
    failed=1
    continue
  fi
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp "$root/fuzz/corpus/$t"/* "$corpus"/
  args=(-max_total_time="$seconds" -timeout=25 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f $root/fuzz/$t.dict ]] && args+=(-dict="$root/fuzz/$t.dict")
  # fuzz/<target>.options: the target's own libFuzzer flags (-max_len ...),
  # one per line; '#' starts a comment.
  if [[ -f $root/fuzz/$t.options ]]; then
    while read -r flag; do
      [[ -n $flag && $flag != \#* ]] && args+=("$flag")
    done <"$root/fuzz/$t.options"
  fi
  echo "== $t: $bin ${args[*]} ${extra[*]} $corpus"
  start=$SECONDS
  "$bin" "${args[@]}" "${extra[@]}" "$corpus" >"$log" 2>&1
  status=$?
  elapsed=$((SECONDS - start))
  tail -n 20 "$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
  if ((status == 0)); then
    result=clean
  else
    result="FAILED (exit $status; inputs in $artifacts)"
    failed=1
  fi
  summary+=("$(printf '%-20s %-7s %6ss  execs %-10s exec/s %-7s cov %-6s ft %-6s corpus %s' \
    "$t" "${result%% *}" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
  ((status == 0)) || summary+=("  $result")
done

echo
echo "== fuzz summary (logs in $build/logs)"
printf '%s\n' "${summary[@]}"
exit $failed
