#!/usr/bin/env bash
# The speed cost of cutting every product into fixed one-thread pieces (issue 14, "Thread count
# and bits" in README.md): NativeBench before the change (BASE, a NativeBench binary built from
# the commit before it) against this tree's, alternating in one run so both see the same load.
#
#   benchmarks/gemm_pieces_cost.sh /path/to/NativeBench-before [ROUNDS]   # SKIP_BUILD=1: no build
#
# Per round and thread count (1, 2): the LeNet-5 / T1-MLP products (`--mode shapes`), T1-MLP and
# T1-LeNet training (30,000 images, 1 warm-up + 2 timed epochs) and inference, and W1's training
# as each model sees it (LeNet-5, 10,000 images, 1 thread: W1 trains its models side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/machine.sh
BASE=$1
ROUNDS=${2:-1}
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product NativeBench
NEW=.build/release/NativeBench
OUT=benchmarks/results/pieces-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
run() { # side threads name args...
    local side=$1 threads=$2 name=$3 bin
    bin=$([ "$side" = before ] && echo "$BASE" || echo "$NEW")
    echo "$side $threads $name load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2
    OPENBLAS_NUM_THREADS=$threads "$bin" "${@:4}" > "$OUT/$side-$threads-$name.txt"
}
for r in $(seq "$ROUNDS"); do
    for t in 1 2; do
        for side in before after; do run "$side" "$t" "shapes-$r" --mode shapes; done
        for side in before after; do run "$side" "$t" "mlp-$r" --model mlp --epochs 3; done
        for side in before after; do run "$side" "$t" "lenet5-$r" --model lenet5 --epochs 3; done
    done
    for side in before after; do run "$side" 1 "w1-$r" --model lenet5 --train 10000 --epochs 3; done
done
echo "results in $OUT" >&2
machine_line "$OUT"
