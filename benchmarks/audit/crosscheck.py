#!/usr/bin/env python3
"""Runs attacks_numpy's formulas on a mia-audit run's own signals and compares them with the
run's scores and metrics: same AUC and TPRs (up to ties) and Spearman correlation of the scores.
A check of both implementations on identical inputs, separate from training noise.

Usage: crosscheck.py RUN_FOLDER   (needs numpy only)
"""

import json
import sys

import numpy as np

import attacks_numpy as an


def main():
    run = sys.argv[1]
    load = lambda name: np.load(f"{run}/signals/{name}.npy")
    y, z_t, member_t = load("labels").astype(np.int64), load("target_logits").astype(np.float64), load("target_membership").astype(np.int64)
    metrics = json.load(open(f"{run}/metrics.json"))
    scores = {"loss": lambda: an.true_class(an.log_softmax(z_t), y)}
    try:
        z_r, member_r = load("reference_logits").astype(np.float64), load("reference_membership").astype(np.int64)
        scores["lira-offline"] = lambda: an.lira(an.lira_phi(z_t, y), an.lira_phi(z_r, y), member_r, False)
        scores["lira-online"] = lambda: an.lira(an.lira_phi(z_t, y), an.lira_phi(z_r, y), member_r, True)
        py = load("population_labels").astype(np.int64)
        p = lambda z, lab: np.exp(an.true_class(an.log_softmax(z), lab))
        pz_t, pz_r = load("population_target_logits").astype(np.float64), load("population_reference_logits").astype(np.float64)
        for mode in ("offline", "online"):
            scores[f"rmia-{mode}"] = (lambda online: lambda: an.rmia(p(z_t, y), p(z_r, y), member_r, p(pz_t, py), p(pz_r, py), online))(mode == "online")
    except FileNotFoundError:
        pass
    rank = lambda s: np.argsort(np.argsort(s, kind="mergesort"), kind="mergesort")
    print("| attack | AUC mia-audit | AUC numpy | Spearman of scores | TPR@0.1% mia-audit / numpy |")
    print("|---|---|---|---|---|")
    for name, make in scores.items():
        if name not in metrics["attacks"]:
            continue
        s = make()
        ours = np.load(f"{run}/scores/{name}.npy")
        ref = an.evaluate(s, member_t)
        rho = np.corrcoef(rank(s), rank(ours))[0, 1]
        print(f"| {name} | {metrics['attacks'][name]['auc']:.5f} | {ref['auc']:.5f} | {rho:.6f} | "
              f"{metrics['attacks'][name]['tpr_at_fpr']['0.001'] * 100:.2f} % / {ref['tpr_at_fpr']['0.001'] * 100:.2f} % |")


if __name__ == "__main__":
    main()
