#!/usr/bin/env bash
# Run every fuzz target for FUZZ_SECONDS (default 60) each, or until FUZZ_RUNS
# executions if set; prints one result line per target and appends it to
# $FUZZ_LOG (default target/fuzz-results.txt). A crash stops with its
# reproducer in rust/fuzz/artifacts/<target>/ and a non-zero exit.
# Usage: rust/fuzz/run.sh [target ...]   (default: all targets)
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_RUNS=${FUZZ_RUNS:--1}
FUZZ_LOG=${FUZZ_LOG:-target/fuzz-results.txt}
# Builds live outside the checkout (as Go's and cargo's caches do), so CI rebuilds only what changed.
FUZZ_TARGET_DIR=${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/peerwire/fuzz-target}
# A unit slower than FUZZ_UNIT_TIMEOUT seconds is reported as a hang. The CI smoke pass sets it
# higher: on a shared runner a stalled process once made a 0 ms input "time out" at 10 s.
FUZZ_UNIT_TIMEOUT=${FUZZ_UNIT_TIMEOUT:-10}
JOBS_FLAGS=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 -timeout="$FUZZ_UNIT_TIMEOUT")
command -v cargo-fuzz >/dev/null || { echo "error: cargo-fuzz missing: cargo install cargo-fuzz"; exit 1; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir rust/fuzz)
python3 rust/fuzz/seed_corpus.py tests/vectors rust/fuzz/corpus >/dev/null
cargo +nightly fuzz build -O --fuzz-dir rust/fuzz --target-dir "$FUZZ_TARGET_DIR" >/dev/null
mkdir -p "$(dirname "$FUZZ_LOG")"
status=0
for t in "${targets[@]}"; do
    out=$(mktemp)
    if cargo +nightly fuzz run -O --fuzz-dir rust/fuzz --target-dir "$FUZZ_TARGET_DIR" "$t" "rust/fuzz/corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -runs="$FUZZ_RUNS" "${JOBS_FLAGS[@]}" >"$out" 2>&1; then
        result=ok
    else
        result=CRASH; status=1
        tail -40 "$out"
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$' | tail -1)
    secs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$out" | tail -1 | grep -o '[0-9]*')
    line="$(date -u +%FT%TZ) $t result=$result execs=${execs:-?} exec_per_s=${secs:-?} cov=${cov:-?}"
    echo "$line" | tee -a "$FUZZ_LOG"
    rm -f "$out"
done
exit $status
