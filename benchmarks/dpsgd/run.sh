#!/usr/bin/env bash
# DP-SGD training speed: the native backend against Opacus on the same MLP (784-512-256-10),
# the same Fashion-MNIST records, batch 256 (Poisson sampling), SGD lr 0.1, C = 1, sigma = 1.1,
# both sides with 2 threads, rounds alternating sides. Prints the median steady-state epoch
# time of each side and the ratio Opacus / native, for Opacus's materialised per-sample
# gradients (hooks) and its ghost clipping; also each side without DP, for the overhead.
#
#   benchmarks/dpsgd/run.sh                      # 3 rounds, 10000 records, 3 epochs
#   ROUNDS=5 RECORDS=20000 benchmarks/dpsgd/run.sh
#
# Opacus and PyTorch go into benchmarks/dpsgd/.venv on first use (pip, by package name).
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-3}
RECORDS=${RECORDS:-10000}
EPOCHS=${EPOCHS:-3}
VENV=.venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, opacus" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch opacus
fi
swift build -c release --product DPSGDBench
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
OUT=results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
for r in $(seq "$ROUNDS"); do
    echo "round $r of $ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    for dp in true false; do
        .build/release/DPSGDBench --records "$RECORDS" --epochs "$EPOCHS" --dp $dp >> "$OUT/native.jsonl"
        "$VENV/bin/python" dpsgd_opacus.py --records "$RECORDS" --epochs "$EPOCHS" --dp $dp >> "$OUT/torch.jsonl"
    done
    "$VENV/bin/python" dpsgd_opacus.py --records "$RECORDS" --epochs "$EPOCHS" --grad-sample-mode ghost >> "$OUT/torch.jsonl"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for f in ("native.jsonl", "torch.jsonl") for l in open(f"{sys.argv[1]}/{f}")]
def med(side, dp): return statistics.median(r["median_epoch_seconds"] for r in rows if r["side"] == side and r["dp"] == dp)
n, o, g = med("native", True), med("opacus-hooks", True), med("opacus-ghost", True)
n0, t0 = med("native", False), med("torch", False)
print(f"DP-SGD epoch seconds: native {n:.3f}, Opacus (hooks) {o:.3f}, Opacus (ghost clipping) {g:.3f}")
print(f"  ratios: Opacus hooks / native = {o / n:.1f}, Opacus ghost / native = {g / n:.1f}")
print(f"without DP: native {n0:.3f}, PyTorch {t0:.3f}; DP overhead: native x{n / n0:.1f}, Opacus hooks x{o / t0:.1f}, ghost x{g / t0:.1f}")
eps = {r["side"]: r["epsilon"] for r in rows if r["dp"]}
print(f"epsilon at delta 1e-5: native {eps['native']:.3f} (integer orders, standard conversion), Opacus {eps['opacus-hooks']:.3f} (its own accountant)")
PY
(cd ../.. && . benchmarks/machine.sh && machine_line) | tee -a "$OUT/summary.txt"
