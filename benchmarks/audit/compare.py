#!/usr/bin/env python3
"""Prints the W1/W2 comparison table from a results folder written by run_audit.sh:
ours-<i>.metrics.json, ours-<i>.time, torch-<i>.json, torch-<i>.time (i = 1..repeats).
Times and peak memory are medians over the repeats; attack figures are from the first run."""

import glob
import json
import re
import statistics
import sys


def gnu_time(path):
    """(wall seconds, peak RSS MiB) from a `/usr/bin/time -v` report."""
    text = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", text)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return seconds, rss / 1024


def stages_of(metrics):
    s = metrics["stage_seconds"]
    return {e["stage"]: e["seconds"] for e in s} if isinstance(s, list) else dict(s)


def main():
    folder = sys.argv[1]
    runs = sorted(int(re.search(r"ours-(\d+)\.time", p).group(1)) for p in glob.glob(f"{folder}/ours-*.time"))
    ours = [json.load(open(f"{folder}/ours-{i}.metrics.json")) for i in runs]
    torch = [json.load(open(f"{folder}/torch-{i}.json")) for i in runs]
    ours_time = [gnu_time(f"{folder}/ours-{i}.time") for i in runs]
    torch_time = [gnu_time(f"{folder}/torch-{i}.time") for i in runs]
    med = statistics.median

    o, t = ours[0], torch[0]
    fprs = [str(f) for f in o["fprs"]]
    print(f"## {t['workload'].upper()}: {t['records']} audit records, {t['population']} population, "
          f"target + {t['reference_models']} reference models, LeNet-5, {t['epochs']} epochs "
          f"({len(runs)} run(s) per side; times and memory are medians)\n")
    print(f"target accuracy train / test: ours {o['target']['train_accuracy']:.3f} / "
          f"{o['target']['test_accuracy']:.3f}, PyTorch {t['target_train_accuracy']:.3f} / "
          f"{t['target_test_accuracy']:.3f}\n")
    print("| attack | AUC ours | AUC PyTorch | diff | " + " | ".join(
        f"TPR@{float(f) * 100:g}% ours / PyTorch" for f in fprs) + " |")
    print("|---|---|---|---|" + "---|" * len(fprs))
    for name in o["attack_order"]:
        if name not in t["attacks"]:
            continue
        a, b = o["attacks"][name], t["attacks"][name]
        tprs = " | ".join(f"{a['tpr_at_fpr'][f] * 100:.2f} % / {b['tpr_at_fpr'][f] * 100:.2f} %" for f in fprs)
        print(f"| {name} | {a['auc']:.4f} | {b['auc']:.4f} | {a['auc'] - b['auc']:+.4f} | {tprs} |")

    print("\n| stage | ours (s) | PyTorch (s) |")
    print("|---|---|---|")
    os_ = [stages_of(m) for m in ours]
    for stage in os_[0]:
        print(f"| ours: {stage} | {med(s.get(stage, 0) for s in os_):.2f} | |")
    for stage in t["stage_seconds"]:
        print(f"| PyTorch: {stage} | | {med(r['stage_seconds'][stage] for r in torch):.2f} |")
    ow, orss = med(x[0] for x in ours_time), med(x[1] for x in ours_time)
    tw, trss = med(x[0] for x in torch_time), med(x[1] for x in torch_time)
    print(f"| **total wall (/usr/bin/time)** | **{ow:.1f}** | **{tw:.1f}** |")
    print(f"| **peak RSS (MiB)** | **{orss:.0f}** | **{trss:.0f}** |")
    print(f"\nratios ours / PyTorch: wall {ow / tw:.2f} (goal < 0.5), peak memory {orss / trss:.2f} (goal < 0.33); "
          f"max |AUC diff| {max(abs(o['attacks'][n]['auc'] - t['attacks'][n]['auc']) for n in t['attacks'] if n in o['attacks']):.4f} (goal <= 0.02)")


if __name__ == "__main__":
    main()
