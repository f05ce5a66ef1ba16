#!/usr/bin/env python3
"""Trains only the target model of a W1/W2 run on the PyTorch side and prints its curve.

A cheap probe for the training-parity question (README "W2: why the AUCs differed"): the
target's members come from a mia-audit run's signals/target_membership.npy, the model and
training are torch_audit.py's, and `--init he` swaps PyTorch's default initialisation for the
native backend's `init: he` (weights U(+-sqrt(6/fan_in)) before a ReLU, U(+-sqrt(3/fan_in)) for
the output layer, zero biases). Prints, every `--every` epochs, the running mean training loss
over the epoch's batches (as the native backend reports it), then train / test accuracy and
loss in eval mode.

Usage: probe_target.py --signals RUN/signals [--init torch|he] [--epochs 60] [--threads 1]
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_audit import DATA, LeNet5, read_idx


def he_init(model):
    layers = [model.conv1, model.conv2, model.fc1, model.fc2, model.fc3]
    with torch.no_grad():
        for i, layer in enumerate(layers):
            fan_in = layer.weight[0].numel()
            gain2 = 1.0 if i == len(layers) - 1 else 2.0
            bound = math.sqrt(3 * gain2 / fan_in)
            layer.weight.uniform_(-bound, bound)
            layer.bias.zero_()


@torch.no_grad()
def measure(model, x, y):
    model.eval()
    z = model(x)
    model.train()
    return F.cross_entropy(z, y).item(), (z.argmax(1) == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--signals", required=True)
    ap.add_argument("--init", choices=["torch", "he"], default="torch")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    member = np.load(f"{args.signals}/target_membership.npy").astype(bool)
    n = member.size
    images = read_idx(DATA + "train-images-idx3-ubyte.gz", n)
    labels = read_idx(DATA + "train-labels-idx1-ubyte.gz", n).astype(np.int64)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels)
    xi, yi = x[torch.from_numpy(member)], y[torch.from_numpy(member)]
    xo, yo = x[torch.from_numpy(~member)], y[torch.from_numpy(~member)]

    torch.manual_seed(args.seed)
    model = LeNet5()
    if args.init == "he":
        he_init(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(args.seed)
    m = xi.shape[0]
    print(f"init {args.init}: {m} members, {xo.shape[0]} non-members")
    print("epoch  run_loss  train_loss train_acc  test_loss test_acc")
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(m, generator=gen)
        total = 0.0
        for s in range(0, m, 128):
            idx = perm[s:s + 128]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xi[idx]), yi[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        if epoch % args.every == 0 or epoch == 1:
            tl, ta = measure(model, xi, yi)
            vl, va = measure(model, xo, yo)
            print(f"{epoch:5d}  {total / m:8.4f}  {tl:9.4f} {ta:9.4f}  {vl:9.4f} {va:8.4f}", flush=True)


if __name__ == "__main__":
    main()
