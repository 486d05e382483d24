#!/usr/bin/env bash
# Replay every saved crash reproducer (rust/fuzz/regressions/<target>/*) against
# its target: each one must now run clean. Runs in `make fuzz-smoke`.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_TARGET_DIR=${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/peerwire/fuzz-target}
status=0
for dir in rust/fuzz/regressions/*/; do
    t=$(basename "$dir")
    for f in "$dir"*; do
        if cargo +nightly fuzz run -O --fuzz-dir rust/fuzz --target-dir "$FUZZ_TARGET_DIR" "$t" "$f" >/dev/null 2>&1; then
            echo "regression ok: $t/$(basename "$f")"
        else
            echo "REGRESSION: $t/$(basename "$f")"; status=1
        fi
    done
done
exit $status
