#!/usr/bin/env python3
"""Signals at scale: peak memory and time of the reference attacks over hundreds of reference models.

Writes a folder of synthetic .npy signals in the layout `signals:` reads (configs/README.md,
"Bring your own signals"): N audit records, C classes, R reference models (complementary pairs,
so each record is IN for R/2 of them), a population set of P records. The [R, N, C] and [R, P, C]
reference arrays are written model by model through numpy's open_memmap, so the generator itself
never holds them. Then runs `mia-audit run --verbose` under `/usr/bin/time -v` on a config with
LiRA (offline, online), RMIA (offline, online) and the loss attack, and prints, per R, the array
sizes, the peak resident memory (maximum RSS), the wall time, each attack's time and the stage
times.

The signals and the run come from benchmarks/synthetic_signals.py (shared with A1).

Usage (from the repository root, after `swift build -c release`):
    python3 benchmarks/scale/scale.py [--n 60000] [--p 10000] [--r 64 256] [--repeats 1]
The signals folders (about 0.7 GB at R = 256) go to benchmarks/scale/runs/, which `--clean`
removes afterwards.
"""

import argparse
import json
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from synthetic_signals import C, print_machine, run_once, write_config, write_signals  # noqa: E402

ATTACKS = [
    ("lira-offline", "lira", "offline"), ("lira-online", "lira", "online"),
    ("rmia-offline", "rmia", "offline"), ("rmia-online", "rmia", "online"),
    ("loss", "loss-threshold", None),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--p", type=int, default=10000)
    ap.add_argument("--r", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--binary", default=f"{ROOT}/.build/release/mia-audit")
    ap.add_argument("--clean", action="store_true", help="remove the generated signals and runs afterwards")
    args = ap.parse_args()
    work = f"{HERE}/runs"
    os.makedirs(work, exist_ok=True)
    results = []
    for r in args.r:
        tag = f"n{args.n}-r{r}-p{args.p}"
        signals = f"{work}/signals-{tag}"
        if not os.path.exists(f"{signals}/population_reference_logits.npy"):
            write_signals(signals, args.n, r, args.p)
        config, output = f"{work}/scale-{tag}.yaml", f"{work}/run-{tag}"
        write_config(config, signals, output, ATTACKS, generator="benchmarks/scale/scale.py")
        runs = [run_once(args.binary, config, output, ATTACKS, timed=True) for _ in range(args.repeats)]
        res = {
            "n": args.n, "r": r, "p": args.p,
            "reference_mb": r * args.n * C * 4 / 1e6, "population_reference_mb": r * args.p * C * 4 / 1e6,
            "peak_mb": max(x["peak_mb"] for x in runs),
            "wall_seconds": statistics.median(x["wall_seconds"] for x in runs),
            "attack_seconds": {name: statistics.median(x["attack_seconds"][name] for x in runs) for name, _, _ in ATTACKS},
            "stage_seconds": {k: statistics.median(x["stage_seconds"][k] for x in runs) for k in runs[0]["stage_seconds"]},
            "auc": runs[0]["auc"],
        }
        results.append(res)
        print(json.dumps(res), flush=True)
    with open(f"{work}/scale.json", "w") as f:
        json.dump(results, f, indent=1)

    print(f"\nscale: N = {args.n}, P = {args.p}, C = {C}; peak = maximum RSS of the whole `mia-audit run` "
          f"(`/usr/bin/time -v`); times: median of {args.repeats}")
    print("| R | reference arrays [R,N,C] + [R,P,C] f32 (MB) | peak RSS (MB) | wall (s) | "
          + " | ".join(f"{name} (s)" for name, _, _ in ATTACKS) + " | load signals (s) | evaluate (s) |")
    print("|---" * (6 + len(ATTACKS)) + "|")
    for res in results:
        print(f"| {res['r']} | {res['reference_mb']:.0f} + {res['population_reference_mb']:.0f} | {res['peak_mb']:.0f} | "
              f"{res['wall_seconds']:.1f} | " + " | ".join(f"{res['attack_seconds'][name]:.2f}" for name, _, _ in ATTACKS)
              + f" | {res['stage_seconds'].get('load signals', float('nan')):.2f} | "
              f"{res['stage_seconds'].get('evaluate', float('nan')):.2f} |")
    print_machine(args.binary)
    if args.clean:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
