"""A PyTorch worker: a small multilayer perceptron audited by mia-audit, written as a class.

worker_options: {"hidden": [256], "epochs": 10, "batch_size": 128, "learning_rate": 0.001,
"threads": 2}. Adam on the softmax cross-entropy, mini-batches shuffled by a generator seeded
with the training's seed; predict returns logits. The model file is a state_dict saved by
torch.save and read back with weights_only=True.
"""

import time

import numpy as np
import torch
from torch import nn

import mia_worker


class MLPWorker(mia_worker.Worker):
    def __init__(self, spec, options):
        super().__init__(spec, options)
        torch.set_num_threads(int(options.get("threads", 2)))
        self.net = None

    def build(self):
        inputs = int(np.prod(self.spec.feature_shape))
        layers, width = [nn.Flatten()], inputs
        for h in self.options.get("hidden", [256]):
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, self.spec.class_count))
        return nn.Sequential(*layers)

    def train(self, features, labels, options, seed):
        torch.manual_seed(seed % (2**63))
        self.net = self.build()
        optimizer = torch.optim.Adam(self.net.parameters(), lr=float(options.get("learning_rate", 1e-3)))
        x, y = torch.from_numpy(features), torch.from_numpy(labels)
        batch = int(options.get("batch_size", 128))
        generator = torch.Generator().manual_seed(seed % (2**63))
        history = []
        for epoch in range(int(options.get("epochs", 10))):
            started, total, correct = time.monotonic(), 0.0, 0
            self.net.train()
            for idx in torch.randperm(len(x), generator=generator).split(batch):
                logits = self.net(x[idx])
                loss = nn.functional.cross_entropy(logits, y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss) * len(idx)
                correct += int((logits.argmax(1) == y[idx]).sum())
            history.append({"epoch": epoch + 1, "train_loss": total / len(x), "train_accuracy": correct / len(x),
                            "seconds": time.monotonic() - started})
        return history

    @torch.no_grad()
    def predict(self, features):
        self.net.eval()
        return torch.cat([self.net(b) for b in torch.from_numpy(features).split(4096)]).numpy()

    def save(self, path):
        torch.save(self.net.state_dict(), path)

    def load(self, path):
        net = self.build()
        net.load_state_dict(torch.load(path, weights_only=True))  # raises on another architecture
        self.net = net
