#!/usr/bin/env python3
"""A lean PyTorch membership-inference audit: the reference side of workloads W1 and W2.

It trains the same models as `mia-audit run benchmarks/audit/w{1,2}.yaml` on exactly the same
records (the target's and every reference model's members are read from that run's
signals/target_membership.npy and signals/reference_membership.npy), computes the same signals,
and runs the attacks straight from the papers' formulas with numpy:

- loss (Yeom et al. 2018): score = -cross-entropy of the true class.
- LiRA (Carlini et al. 2022): phi = log(p_y / (1 - p_y)) = z_y - logsumexp_{j != y} z_j; per record
  Gaussians over the IN / OUT reference phi with a global variance (the pooled within-record
  variance, mia-audit's default `variance: global`). Offline: the one-sided test against
  N(mu_out, s_out^2), whose p-value is monotone in (phi - mu_out) / s_out, so that z-score is the
  score (same ROC, no saturation). Online: log N(phi; mu_in, s_in^2) - log N(phi; mu_out, s_out^2).
- RMIA (Zarifzadeh et al. 2024): p = softmax probability of the true class; Pr(x) online the
  mean of the IN mean and the OUT mean; offline 1/2((1 + a) p_out_mean + (1 - a)), a = 0.3;
  population records are OUT of every reference model; score(x) = fraction of population z with
  (p(x)/Pr(x)) / (p(z)/Pr(z)) > gamma, gamma = 2.
- AUC by the Mann-Whitney statistic (ties count one half); TPR at an FPR is the highest TPR of
  the ROC points whose FPR is at most it.

Usage: torch_audit.py --workload w2 --signals RUN/signals --out result.json
"""

import argparse
import gzip
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from attacks_numpy import evaluate, lira, lira_phi, log_softmax, rmia, true_class

WORKLOADS = {
    # epochs, attacks
    "w1": (20, ["loss", "lira-offline", "lira-online", "rmia-offline"]),
    "w2": (60, ["loss", "lira-offline", "lira-online", "rmia-offline", "rmia-online"]),
}
DATA = "/usr/share/datasets/fashion-mnist/"


def read_idx(path, count):
    """First `count` records of a gzipped IDX file (images scaled to [0, 1], or labels)."""
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        dims = magic[3]
        shape = [int.from_bytes(f.read(4), "big") for _ in range(dims)]
        shape[0] = min(shape[0], count)
        data = np.frombuffer(f.read(int(np.prod(shape))), dtype=np.uint8).reshape(shape)
    return data


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def train(x, y, epochs, seed):
    torch.manual_seed(seed)
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, 128):
            idx = perm[s:s + 128]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return model


@torch.no_grad()
def logits_of(model, x):
    model.eval()
    return torch.cat([model(x[s:s + 1000]) for s in range(0, x.shape[0], 1000)]).numpy().astype(np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    ap.add_argument("--signals", required=True, help="signals/ folder of the mia-audit run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(2)
    epochs, attacks = WORKLOADS[args.workload]
    stages = {}
    t0 = time.perf_counter()

    t = time.perf_counter()
    member_t = np.load(f"{args.signals}/target_membership.npy").astype(np.int64)
    member_r = np.load(f"{args.signals}/reference_membership.npy").astype(np.int64)
    our_labels = np.load(f"{args.signals}/labels.npy")
    pop_count = np.load(f"{args.signals}/population_labels.npy").shape[0]
    n, r = member_t.size, member_r.shape[0]
    images = read_idx(DATA + "train-images-idx3-ubyte.gz", n + pop_count)
    labels = read_idx(DATA + "train-labels-idx1-ubyte.gz", n + pop_count).astype(np.int64)
    assert (labels[:n] == our_labels).all(), "labels differ from the mia-audit run's"
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels)
    stages["data"] = time.perf_counter() - t

    t = time.perf_counter()
    models = []
    for k, mask in enumerate([member_t] + list(member_r)):
        idx = torch.from_numpy(np.flatnonzero(mask))
        models.append(train(x[idx], y[idx], epochs, args.seed * 1000 + k))
    stages["train"] = time.perf_counter() - t

    t = time.perf_counter()
    all_logits = np.stack([logits_of(m, x) for m in models])  # [1 + R, N + P, C]
    stages["signals"] = time.perf_counter() - t

    lab = labels[:n]
    pop_lab = labels[n:]
    z_t, z_r = all_logits[0, :n], all_logits[1:, :n]
    pop_z_t, pop_z_r = all_logits[0, n:], all_logits[1:, n:]
    pred = z_t.argmax(axis=1)
    train_acc = float((pred == lab)[member_t == 1].mean())
    test_acc = float((pred == lab)[member_t == 0].mean())

    t = time.perf_counter()
    lp_t = log_softmax(z_t)
    scores = {}
    attack_seconds = {}
    for name in attacks:
        ta = time.perf_counter()
        if name == "loss":
            scores[name] = true_class(lp_t, lab)
        elif name.startswith("lira"):
            scores[name] = lira(lira_phi(z_t, lab), lira_phi(z_r, lab), member_r, name.endswith("online"))
        else:
            p_t = np.exp(true_class(lp_t, lab))
            p_r = np.exp(true_class(log_softmax(z_r), lab))
            pop_p_t = np.exp(true_class(log_softmax(pop_z_t), pop_lab))
            pop_p_r = np.exp(true_class(log_softmax(pop_z_r), pop_lab))
            scores[name] = rmia(p_t, p_r, member_r, pop_p_t, pop_p_r, name.endswith("online"))
        attack_seconds[name] = time.perf_counter() - ta
    stages["attacks"] = time.perf_counter() - t

    t = time.perf_counter()
    results = {name: evaluate(s, member_t) for name, s in scores.items()}
    stages["evaluate"] = time.perf_counter() - t

    total = time.perf_counter() - t0
    out = {
        "workload": args.workload, "records": n, "population": pop_count, "reference_models": r,
        "epochs": epochs, "target_train_accuracy": train_acc, "target_test_accuracy": test_acc,
        "attacks": results, "attack_seconds": attack_seconds, "stage_seconds": stages,
        "total_seconds": total, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: out[k] for k in ("target_train_accuracy", "target_test_accuracy", "total_seconds")}))
    for name, res in results.items():
        print(f"{name:14s} auc {res['auc']:.4f}  " + "  ".join(f"tpr@{a} {v:.4f}" for a, v in res["tpr_at_fpr"].items()))


if __name__ == "__main__":
    main()
