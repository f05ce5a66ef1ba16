#!/usr/bin/env bash
# Query augmentations on workload W2: AUC and TPR at 0.1 % FPR of LiRA and RMIA (offline and
# online) without augmentations (w2.yaml, which trains the 9 models) and with them
# (w2-augmented.yaml: the same models, each record also asked flipped and shifted by up to one
# pixel, 18 views). Attack strength, not speed: no PyTorch side. Prints the machine first.
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
for config in w2 w2-augmented; do
    echo "== $config" >&2
    .build/release/mia-audit run "$here/$config.yaml" --verbose 2>"$results/$config.log"
    cp "$here/runs/$config/metrics.json" "$results/$config.metrics.json"
done
python3 - "$results" <<'PY' | tee "$results/table.md"
import json, sys
folder = sys.argv[1]
runs = {name: json.load(open(f"{folder}/{name}.metrics.json"))["attacks"] for name in ["w2", "w2-augmented"]}
print("| attack | AUC | AUC, 18 views | TPR at 0.1 % FPR | TPR at 0.1 % FPR, 18 views |")
print("|---|---|---|---|---|")
for attack in ["loss", "lira-offline", "lira-online", "rmia-offline", "rmia-online"]:
    plain, augmented = runs["w2"][attack], runs["w2-augmented"][attack]
    tpr = lambda r: 100 * r["tpr_at_fpr"]["0.001"]
    print(f"| {attack} | {plain['auc']:.4f} | {augmented['auc']:.4f} | {tpr(plain):.2f} % | {tpr(augmented):.2f} % |")
PY
