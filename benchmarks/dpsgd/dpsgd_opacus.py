"""Times DP-SGD training with Opacus on Fashion-MNIST: the same MLP, records, batch size,
optimizer, clip norm, noise multiplier and Poisson sampling as the native DPSGDBench.
Prints one JSON object (epoch seconds, accuracy, Opacus's own RDP epsilon)."""
import argparse, gzip, json, time, warnings

import numpy as np
import torch
from opacus import PrivacyEngine

warnings.filterwarnings("ignore")
p = argparse.ArgumentParser()
p.add_argument("--records", type=int, default=10000)
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--hidden", default="512,256")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--dp", default="true", help="false: the same training without Opacus (plain PyTorch)")
p.add_argument("--grad-sample-mode", default="hooks",
               help="Opacus per-sample gradients: hooks (materialised) or ghost (ghost clipping)")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)

d = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{d}/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16)[: a.records * 784].reshape(-1, 784).astype(np.float32) / 255
with gzip.open(f"{d}/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)[: a.records].astype(np.int64)
data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
loader = torch.utils.data.DataLoader(data, batch_size=a.batch, shuffle=True)

layers, width = [], 784
for h in [int(v) for v in a.hidden.split(",")]:
    layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
    width = h
model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = torch.nn.CrossEntropyLoss()
engine = None
if a.dp == "true":
    engine = PrivacyEngine(accountant="rdp")
    private = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.1, max_grad_norm=1.0,
        poisson_sampling=True, criterion=loss_fn, grad_sample_mode=a.grad_sample_mode)
    if a.grad_sample_mode == "ghost":
        model, optimizer, loss_fn, loader = private
    else:
        model, optimizer, loader = private
seconds, correct, seen = [], 0, 0
for epoch in range(a.epochs):
    t0 = time.perf_counter()
    correct = seen = 0
    for xb, yb in loader:
        if len(yb) == 0:
            continue
        optimizer.zero_grad()
        out = model(xb)
        loss_fn(out, yb).backward()
        optimizer.step()
        correct += (out.argmax(1) == yb).sum().item()
        seen += len(yb)
    seconds.append(time.perf_counter() - t0)
steady = sorted(seconds[1:] or seconds)
print(json.dumps({
    "side": ("opacus-" + a.grad_sample_mode) if engine else "torch", "dp": engine is not None, "records": a.records, "batch": a.batch, "threads": a.threads,
    "epoch_seconds": seconds, "median_epoch_seconds": steady[len(steady) // 2],
    "train_accuracy": correct / max(seen, 1), "epsilon": engine.get_epsilon(1e-5) if engine else -1,
}, sort_keys=True))
