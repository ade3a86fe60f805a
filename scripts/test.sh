#!/usr/bin/env bash
# Builds and runs every test: unit, integration, fuzz regression, interop (pagekite.py),
# under the release and ASan+UBSan presets (and TSan), then runs every fuzz target on its
# corpus for a bounded time. This is the README's test command and what .ci/run calls.
#   KITELINE_FUZZ_SECONDS   per-target fuzzing time (default 60, 30 under CI=true to keep a
#                           clean-clone CI under 45 minutes on 2 cores; 0 skips fuzzing). The
#                           targets run one per core at a time (KITELINE_JOBS, default nproc).
#   KITELINE_PRESETS        presets to build and test (default "release asan tsan")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/install-deps.sh

SHARED="${KITELINE_SHARED_DIR:-$ROOT/../shared}"
if [ ! -d "$SHARED/vectors" ]; then
  echo "test.sh: shared/ not found at $SHARED (set KITELINE_SHARED_DIR)" >&2
  exit 1
fi
SHARED=$(cd "$SHARED" && pwd)
JOBS=${KITELINE_JOBS:-$(nproc)}
# The module order (style §2) before any build: an include against it fails here at once.
bash scripts/check-layers.sh "$ROOT"
WERROR=OFF
if [ "${CI:-}" = "true" ]; then WERROR=ON; fi
FAILED=0
summary=()

for preset in ${KITELINE_PRESETS:-release asan tsan}; do
  echo "=== preset $preset: configure + build ($(date -u +%T), ${SECONDS}s)"
  # Under CI the debug information shrinks, since most of a build's time is code generation and
  # full -g costs about a fifth of it: the release binary gets none (nothing in CI reads it),
  # the sanitizer builds keep line tables (-g1), enough for their reports' stack traces.
  # A developer's own build trees keep their presets' flags.
  debug_flags=()
  if [ "${CI:-}" = "true" ]; then
    case "$preset" in
      release) debug_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG") ;;
      tsan) debug_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
      asan) debug_flags=("-DCMAKE_CXX_FLAGS_DEBUG=-g1") ;;
    esac
  fi
  cmake --preset "$preset" -DKITELINE_WERROR=$WERROR -DKITELINE_SHARED_DIR="$SHARED" \
        -DKITELINE_INTEROP_TESTS=ON "${debug_flags[@]}" >/dev/null
  # Interop and hostile tests run once (release: the hostile suite asserts the release
  # binary's RSS under attack). ASan+UBSan runs unit + integration + fuzz regression.
  # TSan runs the integration tests, where the threads are (relay workers, key process
  # channels, reload watcher); the pure codec's unit tests are single-threaded and already run
  # under release and ASan+UBSan, and building them under TSan cost CI ~2 minutes.
  targets=""
  labels=""
  case "$preset" in
    release) ;;
    tsan) targets="--target kiteline_integration_tests kiteline"; labels="-L integration" ;;
    *) labels="-LE interop|hostile" ;;
  esac
  cmake --build --preset "$preset" -j "$JOBS" $targets
  echo "=== preset $preset: ctest ($(date -u +%T), ${SECONDS}s)"
  if ctest --preset "$preset" -j "$JOBS" $labels --output-on-failure \
       | tee "build/$preset/ctest.log"; then
    summary+=("$preset: $(grep -E 'tests passed' "build/$preset/ctest.log" | tail -1)")
  else
    summary+=("$preset: FAILED ($(grep -E 'tests passed' "build/$preset/ctest.log" | tail -1))")
    FAILED=1
  fi
done

FUZZ_DEFAULT=60
if [ "${CI:-}" = "true" ]; then FUZZ_DEFAULT=30; fi
FUZZ_SECONDS=${KITELINE_FUZZ_SECONDS:-$FUZZ_DEFAULT}
if [ "$FUZZ_SECONDS" != 0 ]; then
  echo "=== fuzz preset: build ($(date -u +%T), ${SECONDS}s)"
  cmake --preset fuzz -DKITELINE_WERROR=$WERROR >/dev/null
  cmake --build --preset fuzz -j "$JOBS" --target kiteline_fuzzers
  # One fuzzer per core at a time (libFuzzer runs one thread): each target still gets its
  # FUZZ_SECONDS of one core, the stage takes about 1/JOBS of the time.
  fuzz_one() {  # fuzz_one FUZZER: runs it on a copy of its corpus; the result in build/fuzz/NAME.result
    local fuzzer=$1 name work execs
    name=$(basename "$fuzzer" _fuzz)
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$name/." "$work/"
    if "$fuzzer" -runs=1000000 -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="build/fuzz/$name-" "$work" \
         >"build/fuzz/$name.log" 2>&1; then
      execs=$(grep -E 'stat::number_of_executed_units' "build/fuzz/$name.log" | awk '{print $2}')
      echo "ok fuzz $name: ${execs:-?} executions, no finding" >"build/fuzz/$name.result"
    else
      echo "FINDING fuzz $name: FINDING (see build/fuzz/$name.log and build/fuzz/$name-*)" \
        >"build/fuzz/$name.result"
    fi
    rm -rf "$work"
  }
  fuzzers=(build/fuzz/fuzz/*_fuzz)
  running=0
  for fuzzer in "${fuzzers[@]}"; do
    echo "=== fuzz $(basename "$fuzzer" _fuzz): up to 1M runs or ${FUZZ_SECONDS}s"
    rm -f "build/fuzz/$(basename "$fuzzer" _fuzz).result"
    fuzz_one "$fuzzer" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait || true
  for fuzzer in "${fuzzers[@]}"; do
    name=$(basename "$fuzzer" _fuzz)
    result=$(cat "build/fuzz/$name.result" 2>/dev/null || echo "FINDING fuzz $name: no result (the run died)")
    summary+=("${result#* }")
    if [ "${result%% *}" != ok ]; then
      tail -40 "build/fuzz/$name.log" 2>/dev/null || true
      FAILED=1
    fi
  done
fi

echo "=== summary (${SECONDS}s in all)"
printf '  %s\n' "${summary[@]}"
exit $FAILED
