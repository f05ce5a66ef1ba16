#!/usr/bin/env bash
# Query augmentations on workload W2: AUC and TPR at 0.1 % FPR of LiRA and RMIA (offline and
# online) without augmentations (w2.yaml, which trains the 9 models), with the mirror and every
# shift by up to one pixel (w2-augmented.yaml: the same models, 18 views per record), and with
# the shifts only (the same config with `[shift:1]`, 9 views). Attack strength, not speed: no
# PyTorch side. Prints the machine first.
# Usage: benchmarks/audit/run_w2_augmentations.sh   (from anywhere; builds the release binary)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
swift build -c release >/dev/null
. benchmarks/machine.sh
machine_line
results="$here/results/w2-augmentations"
mkdir -p "$results"
sed -e 's#augmentations: \[flip, shift:1\].*#augmentations: [shift:1]#' -e 's#w2-augmented#w2-shift#g' \
    "$here/w2-augmented.yaml" > "$results/w2-shift.yaml"
for config in "$here/w2.yaml" "$here/w2-augmented.yaml" "$results/w2-shift.yaml"; do
    name="$(basename "$config" .yaml)"
    echo "== $name" >&2
    .build/release/mia-audit run "$config" --verbose 2>"$results/$name.log"
    cp "$here/runs/$name/metrics.json" "$results/$name.metrics.json"
done
python3 - "$results" <<'PY' | tee "$results/table.md"
import json, sys
folder = sys.argv[1]
runs = [json.load(open(f"{folder}/{name}.metrics.json"))["attacks"] for name in ["w2", "w2-augmented", "w2-shift"]]
print("| attack | AUC: none / flip + shifts (18) / shifts (9) | TPR at 0.1 % FPR: none / 18 / 9 |")
print("|---|---|---|")
for attack in ["loss", "lira-offline", "lira-online", "rmia-offline", "rmia-online"]:
    auc = " / ".join(f"{r[attack]['auc']:.3f}" for r in runs)
    tpr = " / ".join(f"{100 * r[attack]['tpr_at_fpr']['0.001']:.2f} %" for r in runs)
    print(f"| {attack} | {auc} | {tpr} |")
PY
