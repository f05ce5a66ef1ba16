"""Summarises a run_t1.sh results folder: medians per side and row, ratios, GEMM fraction, RSS,
and each row's rate against the CPU's measured FMA peak (peak.txt, `mia-audit doctor`'s peak
line): no code runs above that peak, so a goal that needs more than it cannot be met at that
precision."""
import glob
import json
import os
import re
import statistics
import sys

# Forward FLOPs per image; a training step costs about 3x (WORKLOADS.md).
FORWARD_FLOPS = {
    "mlp": 2 * (784 * 512 + 512 * 256 + 256 * 10),
    "lenet5": 2 * (6 * 25 * 784 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10),
}


def main(folder):
    gemm = {"native": [], "torch": []}
    for line in open(os.path.join(folder, "gemm.jsonl")):
        d = json.loads(line)
        gemm[d["side"]].append(d["gemm_gflops"])
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-*-*.json"))):
        side, model, _ = os.path.basename(path)[:-5].split("-")
        text = open(path).read().strip()
        if not text:
            print(f"warning: {path} is empty (the run failed)", file=sys.stderr)
            continue
        d = json.loads(text)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path[:-5] + ".time").read())
        r = rows.setdefault((model, side), {"epochs": [], "infer": [], "rss": []})
        r["epochs"] += d["epoch_seconds"][1:]  # the first epoch of each run is the warm-up
        r["infer"].append(d["infer_images_per_second"])
        r["rss"].append(int(rss.group(1)) / 1024 if rss else float("nan"))
    load_path = os.path.join(folder, "load.txt")
    if os.path.exists(load_path):
        loads = [float(line.split()[3]) for line in open(load_path)]
        print(f"1-minute load average before each run: min {min(loads):.1f}, max {max(loads):.1f} (2 cores)")
    rate = statistics.median(gemm["native"])
    print(f"sgemm rate, 2 threads: OpenBLAS (ours) {rate:.0f} GFLOP/s (runs: "
          + ", ".join(f"{g:.0f}" for g in gemm["native"]) + f"); PyTorch's BLAS {statistics.median(gemm['torch']):.0f}")
    peak = None
    peak_path = os.path.join(folder, "peak.txt")
    if os.path.exists(peak_path):
        # `mia-audit doctor`'s lines: "peak:      232 GFLOP/s (avx512 FMAs, ...". Best of the
        # rounds: load only slows a measurement down.
        runs = [re.match(r"peak:\s+(\d+) GFLOP/s \((\w+) FMAs", line) for line in open(peak_path)]
        runs = [(float(m.group(1)), m.group(2)) for m in runs if m]
        if runs:
            peak, level = max(runs)
            print(f"FMA peak, 2 threads ({level}, mia-audit doctor): {peak:.0f} GFLOP/s (runs: "
                  + ", ".join(f"{g:.0f}" for g, _ in runs) + ")")
    print(f"{'row':<18}{'native':>12}{'PyTorch':>12}{'ratio':>8}   GEMM fraction (native / PyTorch)")
    for model, label in [("mlp", "T1-MLP"), ("lenet5", "T1-LeNet")]:
        n, t = rows.get((model, "native")), rows.get((model, "torch"))
        if not n or not t:
            continue
        ns, ts = statistics.median(n["epochs"]), statistics.median(t["epochs"])
        flops = 3 * FORWARD_FLOPS[model] * 30000
        print(f"{label + ' train':<18}{ns:>10.2f} s{ts:>10.2f} s{ns / ts:>8.2f}   "
              f"{flops / ns / 1e9 / rate:.0%} / {flops / ts / 1e9 / rate:.0%}"
              f"   (epochs: {len(n['epochs'])} vs {len(t['epochs'])}; fastest {min(n['epochs']):.2f} s vs {min(t['epochs']):.2f} s)")
        ni, ti = statistics.median(n["infer"]), statistics.median(t["infer"])
        # For throughput the ratio of times is the inverse ratio of rates.
        print(f"{label + ' infer':<18}{ni:>8.0f} im/s{ti:>8.0f} im/s{ti / ni:>8.2f}")
        if peak:
            f = FORWARD_FLOPS[model]
            need = ti / 0.7 * f / 1e9  # the rate at which the inference ratio would be 0.7
            print(f"{'':<18}inference at {ni * f / 1e9:.0f} / {ti * f / 1e9:.0f} GFLOP/s = "
                  f"{ni * f / 1e9 / peak:.0%} / {ti * f / 1e9 / peak:.0%} of the FMA peak; "
                  f"ratio 0.7 needs {need:.0f} GFLOP/s = {need / peak:.0%} of it")
        print(f"{label + ' peak RSS':<18}{max(n['rss']):>9.0f} MB{max(t['rss']):>9.0f} MB{max(n['rss']) / max(t['rss']):>8.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
