#!/bin/sh
# Cost per record of a `c_function` attack (libffi, one call per record) beside a C plugin
# attack computing the same margin (one `score` call). Signals only, no training: N records
# of C classes from synthetic logits. Usage: benchmarks/ffi/run.sh [N] [C]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}; c=${2:-10}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O2 -shared -fPIC -I"$root/Sources/PluginABI/include" -o "$work/libbench_margin.so" "$root/benchmarks/ffi/margin.c"
python3 - "$work/signals" "$n" "$c" <<'PY'
import os, sys, numpy as np
out, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
rng = np.random.default_rng(1)
np.save(f"{out}/target_logits.npy", rng.normal(size=(n, c)).astype(np.float32))
np.save(f"{out}/labels.npy", rng.integers(0, c, n).astype(np.int32))
np.save(f"{out}/target_membership.npy", (np.arange(n) % 2).astype(np.uint8))
PY
for kind in plugin c_function; do
  if [ $kind = plugin ]; then
    attack="    - {name: margin, plugin: bench-margin}"
  else
    attack="    - {name: margin, c_function: {library: $work/libbench_margin.so, symbol: margin_score, returns: double, parameters: [{role: logits, type: \"const float *\"}, {role: classes, type: int32_t}, {role: label, type: int32_t}]}}"
  fi
  cat > "$work/$kind.yaml" <<YAML
run: {name: $kind, output: $work/run-$kind, threads: 1}
plugins: {paths: [$work]}
signals: {path: $work/signals}
audit:
  bootstrap_samples: 0
  attacks:
$attack
report: {html: false}
YAML
  "$root/.build/release/mia-audit" run "$work/$kind.yaml" --quiet --verbose 2>&1 | grep "attack margin: scored" \
    | sed "s/^/$kind: /"
done
# The machine (neither attack calls BLAS or the C kernels; printed as every benchmark prints it).
(cd "$root" && . benchmarks/machine.sh && machine_line)
