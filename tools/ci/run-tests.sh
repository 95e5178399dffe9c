#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs the whole
# suite twice -- a gcc build with warnings as errors, and a clang build under
# ASan/UBSan that also builds the libFuzzer targets and runs each briefly.
set -uo pipefail
cd "$(dirname "$0")/../.."

bash tools/ci/install-deps.sh || { echo "dependency installation failed"; exit 1; }

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
status=0
total_ok=0
total_fail=0

run_suite() {   # dir
  local dir=$1 log
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 2 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^Fail:/ {print $2}' "$log")
  local xpass to
  xpass=$(awk '/^Unexpected Pass:/ {print $3}' "$log"); to=$(awk '/^Timeout:/ {print $2}' "$log")
  total_ok=$((total_ok + ${ok:-0}))
  total_fail=$((total_fail + ${fail:-0} + ${xpass:-0} + ${to:-0}))
  rm -f "$log"
  [ "$rc" -eq 0 ] || status=1
}

configure() {  # dir, then meson options; prints meson's output only on failure
  local dir=$1 out; shift
  if [ -d "$dir" ]; then set -- --wipe "$@"; fi
  out=$(meson setup "$dir" "$@" 2>&1) || { echo "$out" | tail -30; echo "configure of $dir failed"; exit 1; }
}

# 1. gcc, -Werror
configure build-ci -Dwerror=true
ninja -C build-ci || { echo "build failed"; exit 1; }
run_suite build-ci

# 2. clang, ASan + UBSan, fuzz targets
asan_opts=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true)
CC=clang configure build-ci-asan "${asan_opts[@]}"
ninja -C build-ci-asan || { echo "asan build failed"; exit 1; }
run_suite build-ci-asan

# 3. each fuzzer for a short, bounded time over its corpus
for fz in build-ci-asan/tests/fuzz/fuzz-*; do
  name=$(basename "$fz")
  # Only the libFuzzer binaries: not their object dirs or the replay tests.
  [ -f "$fz" ] && [ -x "$fz" ] || continue
  case "$name" in *-replay|*-corpus) continue ;; esac
  corpus=tests/fuzz/corpus/${name#fuzz-}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  if timeout $((FUZZ_SECONDS + 60)) "$fz" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
       -print_final_stats=0 "$work" >"$work.log" 2>&1; then
    echo "fuzz $name: ok (${FUZZ_SECONDS}s)"; total_ok=$((total_ok + 1))
  else
    echo "fuzz $name: FAILED"; tail -40 "$work.log"; total_fail=$((total_fail + 1)); status=1
  fi
  rm -rf "$work" "$work.log"
done

echo "$total_ok passed, $total_fail failed"
exit $status
