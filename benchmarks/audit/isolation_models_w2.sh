#!/usr/bin/env bash
# Cost of `plugins.isolation: process` for the MODEL backend on W2 (README "Reliability",
# configs/README.md `plugins.isolation`): the whole W2 audit (w2.yaml: 9 LeNet-5 models trained
# 60 epochs, their logits, five attacks) run in process and with every library isolated (each
# model instance in its own child process, `mia-audit isolated-serve`), each on an EMPTY model
# store, so both train every model. Interleaved, REPEATS times each (default 1). Prints, per run,
# the wall time and the training stage's time (metrics.json), the load average before and after,
# whether the two runs' scores are the same bytes, then the medians and the overhead.
# (benchmarks/audit/isolation_w2.sh measures attacks' isolation on a store that is already full.)
# Usage: benchmarks/audit/isolation_models_w2.sh [REPEATS]   (MIA_BENCH_NO_BUILD=1: skip the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. benchmarks/machine.sh
repeats=${1:-1}
bin=.build/release/mia-audit
out=$root/benchmarks/audit/runs/isolation-models
[ "${MIA_BENCH_NO_BUILD:-}" = 1 ] || swift build -c release >/dev/null
mkdir -p "$out"
for mode in none process; do
    sed -e "s#^  output: .*#  output: $out/$mode\n  model_store: $out/models-$mode#" benchmarks/audit/w2.yaml >"$out/$mode.yaml"
    printf 'plugins:\n  isolation: %s\n' "$mode" >>"$out/$mode.yaml"
done
machine_line "$out"
: >"$out/times.tsv"
for i in $(seq 1 "$repeats"); do
    for mode in none process; do
        rm -rf "$out/models-$mode" "$out/$mode"
        load_before=$(cut -d' ' -f1-3 /proc/loadavg)
        "$bin" run "$out/$mode.yaml" --quiet >/dev/null
        load_after=$(cut -d' ' -f1-3 /proc/loadavg)
        python3 - "$out/$mode/metrics.json" "$mode" "$i" "$load_before" "$load_after" >>"$out/times.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
stages = {s["stage"]: s["seconds"] for s in m["stage_seconds"]}
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{m['total_seconds']:.2f}\t{stages.get('train models', float('nan')):.2f}\t{sys.argv[4]}\t{sys.argv[5]}")
PY
        tail -n 1 "$out/times.tsv" | awk -F'\t' '{printf "%-8s run %s: wall %7.1f s, training %7.1f s (load average %s before, %s after)\n", $1, $2, $3, $4, $5, $6}'
    done
    same=yes
    for f in "$out"/none/scores/*.npy; do cmp -s "$f" "$out/process/scores/$(basename "$f")" || same=no; done
    echo "run $i: the isolated run's scores are the same bytes as in process: $same"
done
python3 - "$out/times.tsv" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {m: (statistics.median(float(r[2]) for r in rows if r[0] == m), statistics.median(float(r[3]) for r in rows if r[0] == m))
       for m in ("none", "process")}
(wn, tn), (wp, tp) = med["none"], med["process"]
print(f"median wall: in process {wn:.1f} s, isolated {wp:.1f} s ({100 * (wp - wn) / wn:+.1f} %); training stage {tn:.1f} s against {tp:.1f} s")
PY
