#!/usr/bin/env bash
# T1 of WORKLOADS.md: the native backend against PyTorch on the same Fashion-MNIST data, both
# with 2 threads, in one run. Prints per row both medians, the ratio ours / PyTorch, the GEMM
# rate fraction, the fraction of the CPU's measured FMA peak (`mia-audit doctor`'s peak line)
# and peak resident memory; keeps the raw figures in benchmarks/results/.
#
#   benchmarks/run_t1.sh            # 3 rounds (each: GEMM rate, then MLP and LeNet-5 per side)
#   ROUNDS=5 benchmarks/run_t1.sh
#
# PyTorch is installed into benchmarks/.venv on first use (CPU is enough; a few GB).
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/machine.sh
ROUNDS=${ROUNDS:-3}
VENV=benchmarks/.venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch numpy
fi
[ -x /usr/bin/time ] || { echo "needs GNU time (Debian package \`time\`)" >&2; exit 1; }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || {
    echo "needs Fashion-MNIST (Debian package \`dataset-fashion-mnist\`)" >&2; exit 1; }

swift build -c release --product NativeBench
swift build -c release --product mia-audit
BENCH=.build/release/NativeBench
# Two threads on both sides: OpenBLAS for ours (the host's job in a real run), intra-op for PyTorch.
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
OUT=benchmarks/results/t1-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

run() { # side model round command...
    local log="$OUT/$1-$2-$3"
    # The machine is shared: keep the load average beside each figure.
    echo "$1 $2 $3 $(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/load.txt"
    /usr/bin/time -v -o "$log.time" "${@:4}" > "$log.json"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r of $ROUNDS" >&2
    $BENCH --mode gemm >> "$OUT/gemm.jsonl"
    # The CPU's FMA peak on 2 threads at the C kernels' level (MIA_KERNELS caps it).
    .build/release/mia-audit doctor --threads 2 | grep '^peak:' >> "$OUT/peak.txt"
    "$VENV/bin/python" benchmarks/t1/torch_t1.py --mode gemm >> "$OUT/gemm.jsonl"
    # Alternate the sides so that both see the same background load.
    for m in mlp lenet5; do
        run native "$m" "$r" "$BENCH" --model "$m"
        run torch "$m" "$r" "$VENV/bin/python" benchmarks/t1/torch_t1.py --model "$m"
    done
done
"$VENV/bin/python" benchmarks/t1/summarize.py "$OUT" | tee "$OUT/summary.txt"
machine_line "$OUT" | tee -a "$OUT/summary.txt"
