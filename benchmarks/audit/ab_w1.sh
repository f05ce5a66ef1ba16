#!/usr/bin/env bash
# W1 with two builds of mia-audit, interleaved on one machine in one session (a shared machine's
# load moves both alike): A, B, A, B, ... REPEATS times each (default 3). Each build is a folder
# holding `mia-audit` and its `libMIA*.so` plugins (copy them out of .build/release/ of each
# commit). EPOCHS cuts W1's 20 epochs (default 20). Every run trains its five models from an
# empty store. Prints per run the wall time, the "train models" stage, the 1-minute load average
# before it and the AUCs; then the medians and the ratio B / A of each, and the machine.
# Usage: benchmarks/audit/ab_w1.sh DIR_A DIR_B [REPEATS]
set -euo pipefail
a=$(cd "${1:?usage: ab_w1.sh DIR_A DIR_B [REPEATS]}" && pwd)
b=$(cd "${2:?usage: ab_w1.sh DIR_A DIR_B [REPEATS]}" && pwd)
repeats=${3:-3}
epochs=${EPOCHS:-20}
cd "$(dirname "$0")/../.."
. benchmarks/machine.sh
out=$(pwd)/benchmarks/audit/runs/ab-w1
mkdir -p "$out"
: >"$out/times.tsv"
for i in $(seq 1 "$repeats"); do
    for side in A B; do
        dir=$a
        [ "$side" = B ] && dir=$b
        sed -e "s#^  output: .*#  output: $out/$side#" -e "s/^    epochs: 20/    epochs: $epochs/" \
            -e "s/^  html: true/  html: false/" benchmarks/audit/w1.yaml >"$out/$side.yaml"
        rm -rf "$out/$side"
        load=$(cut -d' ' -f1 /proc/loadavg)
        "$dir/mia-audit" run "$out/$side.yaml" --quiet >/dev/null
        python3 - "$out/$side/metrics.json" "$side" "$i" "$load" >>"$out/times.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
stages = {s["stage"]: s["seconds"] for s in m["stage_seconds"]}
aucs = " ".join(f"{name}={a['auc']:.4f}" for name, a in sorted(m["attacks"].items()))
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{m['total_seconds']:.2f}\t{stages['train models']:.2f}\t{sys.argv[4]}\t{aucs}")
PY
        tail -n 1 "$out/times.tsv" |
            awk -F'\t' '{printf "%s run %s: wall %7.2f s, training %7.2f s, load %s before; %s\n", $1, $2, $3, $4, $5, $6}'
    done
done
python3 - "$out/times.tsv" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {s: [statistics.median(float(r[k]) for r in rows if r[0] == s) for k in (2, 3)] for s in "AB"}
pairs = [(float(x[2]), float(y[2]), float(x[3]), float(y[3])) for x, y in zip(rows[0::2], rows[1::2])]
print(f"median wall A {med['A'][0]:.2f} s, B {med['B'][0]:.2f} s: B / A = {med['B'][0] / med['A'][0]:.3f}")
print(f"median training A {med['A'][1]:.2f} s, B {med['B'][1]:.2f} s: B / A = {med['B'][1] / med['A'][1]:.3f}")
print("per pair B / A (wall, training): " + ", ".join(f"{wb / wa:.3f} / {tb / ta:.3f}" for wa, wb, ta, tb in pairs))
PY
machine_line "$out"
