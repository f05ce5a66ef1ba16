#!/usr/bin/env bash
# Side by side vs all cores (issue 9): trains the same K models with `run.parallel_models: 1`
# (one model at a time on every BLAS thread) and `run.parallel_models: K'` (K' models at once,
# `run.threads / K'` BLAS threads each), alternating the order every round so both see the
# same background load, and prints the median training time of each and their ratio.
#
#   benchmarks/parallel/run.sh                      # 3 rounds, LeNet-5 and three MLPs, 4 models each
#   ROUNDS=5 MODELS="lenet5 mlp512" benchmarks/parallel/run.sh
#   SKIP_BUILD=1 benchmarks/parallel/run.sh         # reuse .build/release
#
# Each measurement is `mia-audit train CONFIG -v` on a fresh model store: the target and 3
# reference models (4 models), each on its 5,000 members of 10,000 Fashion-MNIST records (the
# held-out half is evaluated after each epoch), 6 epochs, batch 128, Adam, then its logits on
# the 10,000 records. The figure is the "train models" stage the host logs (the dataset load
# before it is the same in both modes and left out). Raw logs and the load average before each
# run stay in benchmarks/results/parallel-<time>/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/machine.sh
ROUNDS=${ROUNDS:-3}
MODELS=${MODELS:-"lenet5 mlp512 mlp64 mlp1024"}
THREADS=${THREADS:-$(nproc)}
SIDE=${SIDE:-$THREADS}            # models side by side in the second mode
REFERENCES=${REFERENCES:-3}       # plus the target: REFERENCES + 1 models per run
AUDIT=${AUDIT:-10000}
EPOCHS=${EPOCHS:-6}
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || {
    echo "needs Fashion-MNIST (Debian package \`dataset-fashion-mnist\`)" >&2; exit 1; }
# The plugins are built with the package; `swift build -c release` builds the binary and them.
[ -n "${SKIP_BUILD:-}" ] || swift build -c release >&2
BIN=$PWD/.build/release/mia-audit
OUT=$PWD/benchmarks/results/parallel-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

model_options() {
    case $1 in
        lenet5) echo "architecture: lenet5" ;;
        mlp512) echo "architecture: mlp, hidden_sizes: [512, 256]" ;;
        mlp64) echo "architecture: mlp, hidden_sizes: [64]" ;;
        mlp1024) echo "architecture: mlp, hidden_sizes: [1024, 1024]" ;;
        *) echo "unknown model $1 (lenet5, mlp512, mlp64, mlp1024)" >&2; exit 2 ;;
    esac
}

write_config() { # model parallel folder
    cat > "$3/audit.yaml" <<EOF
run:
  name: parallel-$1-$2
  output: $3/run
  seed: 1
  threads: $THREADS
  parallel_models: $2
dataset:
  plugin: idx
  options:
    images: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
    labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz
  audit_records: $AUDIT
model:
  plugin: native
  options: {$(model_options "$1"), optimizer: adam, learning_rate: 0.001, batch_size: 128, epochs: $EPOCHS}
reference_models:
  count: $REFERENCES
audit:
  attacks:
    - plugin: loss-threshold
EOF
}

measure() { # model parallel round
    local dir="$OUT/$1-p$2-r$3"
    mkdir -p "$dir"
    write_config "$1" "$2" "$dir"
    echo "$1 p$2 r$3 load $(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/load.txt"
    "$BIN" train "$dir/audit.yaml" -v > "$dir/stdout.txt" 2> "$dir/stderr.txt"
    local s
    s=$(sed -n 's/.*stage: train models done in \([0-9.]*\) s.*/\1/p' "$dir/stderr.txt" | tail -1)
    [ -n "$s" ] || { echo "no timing in $dir/stderr.txt" >&2; exit 1; }
    echo "$1 $2 $3 $s" >> "$OUT/times.txt"
    echo "  $1 parallel_models=$2 round $3: $s s" >&2
    rm -rf "$dir/run/models"   # the next run of this pair starts from an empty store anyway
}

echo "threads $THREADS; $((REFERENCES + 1)) models of $((AUDIT / 2)) members, $EPOCHS epochs; modes 1 and $SIDE; $ROUNDS rounds" | tee "$OUT/setup.txt" >&2
for r in $(seq "$ROUNDS"); do
    for m in $MODELS; do
        if [ $((r % 2)) -eq 1 ]; then order="1 $SIDE"; else order="$SIDE 1"; fi
        for p in $order; do measure "$m" "$p" "$r"; done
    done
done

# Per model: the median of each mode, and the median of the per-round ratios side by side /
# one at a time (each round runs both modes back to back; below 1: side by side wins).
python3 - "$OUT/times.txt" "$SIDE" <<'EOF' | tee "$OUT/summary.txt"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
side = sys.argv[2]
t = {(m, p, r): float(s) for m, p, r, s in rows}
models = list(dict.fromkeys(r[0] for r in rows))
rounds = sorted({r[2] for r in rows}, key=int)
print(f"| model | one at a time, all threads (s) | {side} side by side (s) | ratio side by side / one at a time, per round | median ratio |")
print("|---|---|---|---|---|")
for m in models:
    one = [t[(m, "1", r)] for r in rounds]
    par = [t[(m, side, r)] for r in rounds]
    ratios = [b / a for a, b in zip(one, par)]
    spread = lambda xs: f"{min(xs):.2f}-{max(xs):.2f}"
    print(f"| {m} | {statistics.median(one):.2f} ({spread(one)}) | {statistics.median(par):.2f} ({spread(par)}) | "
          f"{', '.join(f'{x:.2f}' for x in ratios)} | **{statistics.median(ratios):.2f}** |")
EOF
echo "raw figures: $OUT" >&2
machine_line "$OUT" | tee -a "$OUT/summary.txt"
