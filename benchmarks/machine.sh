# Sourced by every benchmark script: `machine_line [OUT]` prints the CPU model, the BLAS kernel
# and the vector level of the C kernels our side runs on (from `mia-audit doctor`: cpu, blas,
# kernel and who chose it, vectors, variables, sgemm rate with the load average, FMA peak), so each figure
# is printed beside the machine it was measured on; with OUT, also writes them to
# OUT/machine.txt. Builds the release `mia-audit` if it is missing.
machine_line() {
    local bin=.build/release/mia-audit
    [ -x "$bin" ] || swift build -c release --product mia-audit >&2
    local text
    text=$("$bin" doctor ${OPENBLAS_NUM_THREADS:+--threads "$OPENBLAS_NUM_THREADS"} | grep -E '^(cpu|blas|kernel|vectors|sgemm|peak|variables):')
    echo "machine ($(date -u +%Y-%m-%d)):"
    echo "$text" | sed 's/^/  /'
    [ -z "${1:-}" ] || { mkdir -p "$1"; echo "$text" > "$1/machine.txt"; }
}
