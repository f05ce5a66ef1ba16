"""T1 reference side (WORKLOADS.md): the same models, data, optimizer and batch as NativeBench,
in PyTorch on the CPU. Prints one JSON object, like the Swift driver."""
import argparse
import gzip
import json
import statistics
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def load(split, count):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: count * 784]
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:count]
    x = torch.from_numpy(images.astype(np.float32) / 255).reshape(count, 1, 28, 28)
    return x, torch.from_numpy(labels.astype(np.int64))


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", default="train")
    p.add_argument("--model", default="mlp")
    p.add_argument("--train", type=int, default=30000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--infer", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=2048)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.mode == "gemm":
        m = torch.full((a.size, a.size), 0.5)
        rates = []
        for _ in range(7):
            t0 = time.perf_counter()
            torch.mm(m, m)
            rates.append(2 * a.size ** 3 / (time.perf_counter() - t0) / 1e9)
        print(json.dumps({"side": "torch", "gemm_gflops": statistics.median(rates[1:]), "threads": a.threads}))
        return
    x, y = load("train", a.train)
    tx, _ = load("t10k", a.infer)
    model = build(a.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    seconds, losses = [], []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(a.train)
        total = 0.0
        for i in range(0, a.train, 128):
            idx = order[i : i + 128]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds.append(time.perf_counter() - t0)
        losses.append(total / a.train)
    model.eval()
    infer = []
    with torch.no_grad():
        for _ in range(5):
            t0 = time.perf_counter()
            for i in range(0, a.infer, 1000):
                model(tx[i : i + 1000])
            infer.append(time.perf_counter() - t0)
    print(json.dumps({
        "side": "torch", "model": a.model, "threads": a.threads, "train_records": a.train,
        "epoch_seconds": seconds, "median_epoch_seconds": statistics.median(seconds[1:]), "train_loss": losses,
        "infer_images_per_second": a.infer / statistics.median(infer[1:]), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
