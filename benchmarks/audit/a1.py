#!/usr/bin/env python3
"""Workload A1: attack and evaluation speed on synthetic signals.

Writes a folder of .npy signals in the layout `signals:` reads (configs/README.md, "Bring your own
signals"): N audit records, C classes, R reference models (complementary pairs, so each record is
IN for R/2), a population set of P records. Then a config with rmia (online, offline), lira
(online, offline) and loss-threshold, runs `mia-audit run --verbose` on it, and prints each
attack's time (the log's "attack X: scored N records in T s") and the evaluation stage's time
(metrics.json stage_seconds "evaluate", all attacks together). It repeats with N doubled and
with R doubled, and prints the growth against N x (R + P).

The signals and the run come from benchmarks/synthetic_signals.py (shared with the scale benchmark).

Usage (from the repository root, after `swift build -c release`):
    python3 benchmarks/audit/a1.py [--n 20000] [--r 64] [--p 10000] [--repeats 3]
"""

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from synthetic_signals import C, print_machine, run_once, write_config, write_signals  # noqa: E402

ATTACKS = [
    ("rmia-online", "rmia", "online"), ("rmia-offline", "rmia", "offline"),
    ("lira-online", "lira", "online"), ("lira-offline", "lira", "offline"),
    ("loss", "loss-threshold", None),
]


def measure(binary, n, r, p, repeats, bootstrap, work):
    tag = f"n{n}-r{r}-p{p}"
    signals = f"{work}/signals-{tag}"
    if not os.path.exists(f"{signals}/population_reference_logits.npy"):
        write_signals(signals, n, r, p)
    config = f"{work}/a1-{tag}.yaml"
    output = f"{work}/run-{tag}"
    write_config(config, signals, output, ATTACKS, bootstrap, generator="benchmarks/audit/a1.py")
    runs = [run_once(binary, config, output, ATTACKS) for _ in range(repeats)]
    attack = {name: statistics.median(run["attack_seconds"][name] for run in runs) for name, _, _ in ATTACKS}
    evaluate = statistics.median(run["stage_seconds"].get("evaluate", float("nan")) for run in runs)
    return {"n": n, "r": r, "p": p, "attack_seconds": attack, "evaluate_seconds": evaluate, "auc": runs[0]["auc"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--r", type=int, default=64)
    ap.add_argument("--p", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=0, help="bootstrap_samples of the evaluation")
    ap.add_argument("--binary", default=f"{ROOT}/.build/release/mia-audit")
    args = ap.parse_args()
    work = f"{HERE}/runs/a1"
    os.makedirs(work, exist_ok=True)
    cases = [(args.n, args.r, args.p), (2 * args.n, args.r, args.p), (args.n, 2 * args.r, args.p)]
    results = [measure(args.binary, n, r, p, args.repeats, args.bootstrap, work) for n, r, p in cases]
    with open(f"{work}/a1.json", "w") as f:
        json.dump(results, f, indent=1)

    base = results[0]
    print(f"A1: C = {C}, population P = {args.p}, bootstrap_samples {args.bootstrap}, "
          f"median of {args.repeats} runs; evaluation = the whole evaluate stage (all {len(ATTACKS)} attacks)")
    print("| attack | N=%d R=%d (s) | N=%d R=%d (s) | growth | N=%d R=%d (s) | growth | AUC |"
          % (base["n"], base["r"], results[1]["n"], results[1]["r"], results[2]["n"], results[2]["r"]))
    print("|---|---|---|---|---|---|---|")
    for name, _, _ in ATTACKS:
        t = [res["attack_seconds"][name] for res in results]
        t0 = max(t[0], 1e-3)  # the log has millisecond resolution
        print(f"| {name} | {t[0]:.3f} | {t[1]:.3f} | x{t[1] / t0:.2f} | {t[2]:.3f} | x{t[2] / t0:.2f} "
              f"| {base['auc'][name]:.3f} |")
    e = [res["evaluate_seconds"] for res in results]
    print(f"| evaluate (all attacks) | {e[0]:.3f} | {e[1]:.3f} | x{e[1] / e[0]:.2f} | {e[2]:.3f} | x{e[2] / e[0]:.2f} | |")
    for res in results[1:]:
        bound = (res["n"] * (res["r"] + res["p"])) / (base["n"] * (base["r"] + base["p"]))
        print(f"N x (R + P) grows x{bound:.2f} for N={res['n']} R={res['r']}")
    worst = max(base["attack_seconds"][name] + e[0] / len(ATTACKS) for name, _, _ in ATTACKS)
    print(f"slowest attack + its share of the evaluation at N={base['n']} R={base['r']}: {worst:.3f} s "
          f"(whole evaluate stage {e[0]:.3f} s)")
    print_machine(args.binary)


if __name__ == "__main__":
    main()
