#!/usr/bin/env bash
# Cost of `plugins.isolation: process` on W2 (README "Reliability"): the W2 audit (w2.yaml) run
# in process and isolated, interleaved, REPEATS times each (default 3). Both configs share one
# model store, so the models are trained once (a first run, not counted) and every timed run
# loads them; the score cache (`scores/`) is removed before each timed run, so every attack
# runs again. Only the attacks stage differs between the two. Prints, per run, the wall time
# (`total_seconds`) and the attacks stage's time from metrics.json, then the medians and the
# isolation overhead as a share of the wall time.
# Usage: benchmarks/audit/isolation_w2.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. benchmarks/machine.sh
repeats=${1:-3}
bin=.build/release/mia-audit
out=$root/benchmarks/audit/runs/isolation
swift build -c release >/dev/null
mkdir -p "$out"
for mode in none process; do
    sed -e "s#^  output: .*#  output: $out/$mode\n  model_store: $out/models#" benchmarks/audit/w2.yaml >"$out/$mode.yaml"
    printf 'plugins:\n  isolation: %s\n' "$mode" >>"$out/$mode.yaml"
done
machine_line "$out"
echo "training the W2 models once (not timed) ..." >&2
"$bin" run "$out/none.yaml" --quiet >/dev/null
# The whole W2 audit's wall time, from the run that trained the models (the first run of this
# script on an empty store; later invocations find it set aside under none/previous/).
first=$(python3 - "$out/none" <<'PY'
import glob, json, os, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "previous", "*", "metrics.json"))) + [os.path.join(sys.argv[1], "metrics.json")]:
    m = json.load(open(path))
    if any(s["stage"] == "train models" and s["seconds"] > 10 for s in m["stage_seconds"]):
        print(f"{m['total_seconds']:.1f}"); break
else:
    print("nan")
PY
)
echo "the whole W2 audit (the run that trained the models): wall $first s" >&2
: >"$out/times.tsv"
for i in $(seq 1 "$repeats"); do
    for mode in none process; do
        rm -rf "$out/$mode/scores"
        "$bin" run "$out/$mode.yaml" --quiet >/dev/null
        python3 - "$out/$mode/metrics.json" "$mode" "$i" >>"$out/times.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
stages = {s["stage"]: s["seconds"] for s in m["stage_seconds"]}
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{m['total_seconds']:.2f}\t{stages.get('attacks', float('nan')):.2f}")
PY
        tail -n 1 "$out/times.tsv" | awk -F'\t' '{printf "%-8s run %s: wall %6.2f s, attacks %6.2f s\n", $1, $2, $3, $4}'
    done
done
python3 - "$out/times.tsv" "$first" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = {m: (statistics.median(float(r[2]) for r in rows if r[0] == m), statistics.median(float(r[3]) for r in rows if r[0] == m))
       for m in ("none", "process")}
(wn, an), (wp, ap) = med["none"], med["process"]
print(f"median wall: in process {wn:.2f} s, isolated {wp:.2f} s; attacks stage: {an:.2f} s against {ap:.2f} s")
print(f"isolation cost: {ap - an:+.2f} s in the attacks stage, {100 * (ap - an) / wn:+.1f} % of the in-process wall time "
      f"(whole wall times differ by {100 * (wp - wn) / wn:+.1f} %); {100 * (ap - an) / float(sys.argv[2]):+.2f} % of the whole W2 audit's "
      f"wall time ({sys.argv[2]} s, training included)")
PY
