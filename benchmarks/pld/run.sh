#!/usr/bin/env bash
# The PLD accountant's speed against dp-accounting's (PyPI) in the same run, on the DP-SGD
# points that matter (10,000 steps): per point ε of both, seconds of both (median of ROUNDS),
# and the ratio ours / dp-accounting. Builds a standalone executable from the three Kernels
# files (swiftc -O, no SwiftPM) and a venv benchmarks/.venv-pld with dp-accounting.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${TMPDIR:-/tmp}/mia-pld-bench-$$"
mkdir -p "$out"
swiftc -O benchmarks/pld/main.swift Sources/Kernels/FFT.swift Sources/Kernels/PrivacyLossDistribution.swift \
  Sources/Kernels/PLDAccountant.swift -o "$out/pld-bench"
venv=benchmarks/.venv-pld
[ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check dp-accounting
points="1 0.01 10000
2 0.01 10000
4 0.01 10000
1 0.001 10000
1 0.1 1000"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$points" | "$out/pld-bench" > "$out/ours.txt"
echo "$points" | "$venv/bin/python3" benchmarks/pld/bench.py > "$out/theirs.txt"
echo "sigma q steps | eps ours | eps dp-accounting | s ours | s dp-accounting | ratio"
paste -d' ' "$out/ours.txt" "$out/theirs.txt" | awk '{printf "%s %s %s | %.6f | %.6f | %.3f | %.3f | %.3f\n", $1, $2, $3, $4, $9, $5, $10, $5 / $10}'
# The accountant uses no BLAS; the CPU line is what matters.
source benchmarks/machine.sh
machine_line "$out"
