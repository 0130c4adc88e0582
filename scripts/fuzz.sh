#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang 14, ASan and
# UBSan, and runs each for SECONDS (default 20): `bash scripts/fuzz.sh 10` in CI,
# `bash scripts/fuzz.sh 3600` for the long runs. Installs nothing
# (scripts/install-deps.sh lists clang-14 and libclang-rt-14-dev).
#
# Each target starts from its seeds in tests/fuzz/corpus/<target>/ plus what
# earlier runs found in build-fuzz/corpus/<target>/ (kept between runs, never
# written into the repository). Crashes, leaks, timeouts and out-of-memory
# inputs land in build-fuzz/artifacts/<target>/ and fail the script; reproduce
# one with `build-fuzz/fuzz_<target> FILE`.
#
# Environment: FUZZ_TARGETS="frontend analyzer" runs a subset; FUZZ_JOBS=N runs
# N targets at a time (default 1: the machine has 2 cores); BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-20}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
ALL_TARGETS=(frontend backend scram_server scram_client analyzer config policy shapes)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"
JOBS=${FUZZ_JOBS:-1}

for tool in clang++-14 cmake; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

echo "== building fuzz targets in $BUILD_DIR (clang 14, ASan+UBSan, libFuzzer) =="
source scripts/ccache-env.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DPGMOAT_FUZZ=ON -DPGMOAT_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target fuzzers -j2

dict_for() {
  case $1 in
    analyzer) echo tests/fuzz/sql.dict ;;
    config | policy | shapes) echo tests/fuzz/toml.dict ;;
    *) echo tests/fuzz/protocol.dict ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_target() {
  local t=$1
  local work="$BUILD_DIR/corpus/$t" artifacts="$BUILD_DIR/artifacts/$t" log="$BUILD_DIR/logs/$t.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  local rc=0
  "$BUILD_DIR/fuzz_$t" "$work" "tests/fuzz/corpus/$t" \
    -dict="$(dict_for "$t")" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$log.rc"
}

echo "== fuzzing ${#TARGETS[@]} targets for ${SECONDS_PER_TARGET}s each =="
running=0
for t in "${TARGETS[@]}"; do
  [[ -x "$BUILD_DIR/fuzz_$t" ]] || { echo "fuzz.sh: no target fuzz_$t" >&2; exit 1; }
  run_target "$t" &
  running=$((running + 1))
  if ((running >= JOBS)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
printf '%-14s %12s %10s %8s %8s %9s  %s\n' target executions exec/s cov ft corpus result
for t in "${TARGETS[@]}"; do
  log="$BUILD_DIR/logs/$t.log"
  rc=$(cat "$log.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  result=ok
  if [[ $rc != 0 ]] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed' "$log"; then
    result="FAILED (rc $rc; see $log and $BUILD_DIR/artifacts/$t/)"
    failed=1
  fi
  printf '%-14s %12s %10s %8s %8s %9s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if ((failed)); then
  echo "fuzz.sh: a target found a crash, leak, timeout or broken invariant" >&2
  for t in "${TARGETS[@]}"; do
    if [[ $(cat "$BUILD_DIR/logs/$t.log.rc") != 0 ]]; then
      echo "---- $t ----" >&2
      grep -E -m1 -A12 'ERROR:|runtime error:|FUZZ_CHECK failed' "$BUILD_DIR/logs/$t.log" >&2 || tail -20 "$BUILD_DIR/logs/$t.log" >&2
    fi
  done
  exit 1
fi
echo "fuzz.sh: no findings"
