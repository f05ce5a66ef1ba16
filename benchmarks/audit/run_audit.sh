#!/usr/bin/env bash
# Runs one whole-audit workload (w1 or w2) on both sides and prints the comparison:
#   mia-audit run benchmarks/audit/<w>.yaml, then torch_audit.py on the same splits.
# Usage: benchmarks/audit/run_audit.sh w1|w2   (REPEATS=n for medians of n runs of each side;
# TORCH_VENV=dir to use an existing virtual environment holding torch and numpy).
set -euo pipefail
workload="${1:?usage: run_audit.sh w1|w2}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
. benchmarks/machine.sh
repeats="${REPEATS:-1}"
venv="${TORCH_VENV:-$here/.venv}"
out="$here/runs/$workload"
results="$here/results/$workload"

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y time; else sudo apt-get install -y time; fi
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi

swift build -c release >/dev/null   # the host and the plugins next to it

mkdir -p "$results"
rm -f "$results"/*
for i in $(seq 1 "$repeats"); do
    echo "== $workload run $i/$repeats: mia-audit" >&2
    rm -rf "$out"   # no model store left over: every run trains its models
    /usr/bin/time -v -o "$results/ours-$i.time" \
        .build/release/mia-audit run "$here/$workload.yaml" --verbose 2>"$results/ours-$i.log"
    cp "$out/metrics.json" "$results/ours-$i.metrics.json"
    echo "== $workload run $i/$repeats: PyTorch" >&2
    /usr/bin/time -v -o "$results/torch-$i.time" \
        "$venv/bin/python" "$here/torch_audit.py" --workload "$workload" \
        --signals "$out/signals" --out "$results/torch-$i.json" >"$results/torch-$i.log"
done
"$venv/bin/python" "$here/compare.py" "$results" | tee "$results/table.md"
machine_line "$results" | tee -a "$results/table.md"
