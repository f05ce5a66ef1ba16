#!/usr/bin/env bash
# Builds every fuzz harness and runs each for SECONDS_PER_HARNESS (default 10) on its seed
# corpus (fuzz/corpus/NAME/, committed) plus the inputs it found before
# (.build-fuzz/corpus/NAME/, gitignored). Exits non-zero on the first crash, printing the
# reproducer's path; replay one with `.build-fuzz/bin/NAME PATH`.
# Usage: fuzz/run.sh [SECONDS_PER_HARNESS] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
# FUZZ_SKIP_BUILD=1 runs the harnesses already in .build-fuzz/bin/ (for long runs after a build).
# FUZZ_TIMEOUT=S: seconds one input may take before it counts as a hang (default 10; raise it
# for runs under `nice` on a loaded machine, where a starved process is not a hang).
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(npy idx csv worker cifar config)
[ -n "${FUZZ_SKIP_BUILD:-}" ] || fuzz/build.sh "${names[@]}"
out=.build-fuzz
for name in "${names[@]}"; do
    mkdir -p "$out/corpus/$name" "$out/crashes/$name"
    log="$out/$name.log"
    echo "fuzz/run.sh: $name for ${seconds}s"
    dict=()
    [ -f "fuzz/corpus/$name.dict" ] && dict=(-dict="fuzz/corpus/$name.dict")   # keywords of the format
    if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=symbolize=0:detect_leaks=0 "$out/bin/$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 -artifact_prefix="$out/crashes/$name/" "${dict[@]}" \
        "$out/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1; then
        tail -n 30 "$log"
        echo "fuzz/run.sh: $name CRASHED; reproducer: $(ls -t "$out/crashes/$name"/* | head -1); log: $log" >&2
        exit 1
    fi
    grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec)" "$log" | tr '\n' ' '
    echo
done
echo "fuzz/run.sh: ${#names[@]} harnesses, ${seconds}s each, no crash"
