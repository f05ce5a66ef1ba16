"""A softmax-regression worker in plain NumPy: the smallest complete mia_worker.

Full-batch gradient descent from zero weights on the mean cross-entropy:
    logits = X W + b,   grad W = X^T (softmax(logits) - onehot(y)) / n,   grad b = column sums / n.
worker_options: {"steps": 50, "learning_rate": 0.5}. The model file is one .npy array of
shape [d + 1, classes] (float64): W, then b as the last row.
"""

import numpy as np

spec = None
weights = None  # [d + 1, classes]


def setup(model_spec, options):
    global spec
    spec = model_spec


def train(features, labels, options, seed):
    global weights
    x = features.reshape(len(features), -1).astype(np.float64)
    n, d = x.shape
    k = spec.class_count
    y = np.zeros((n, k))
    y[np.arange(n), labels] = 1
    w = np.zeros((d + 1, k))
    history = []
    for step in range(int(options.get("steps", 50))):
        logits = x @ w[:d] + w[d]
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(axis=1, keepdims=True)
        g = p - y
        w[:d] -= options.get("learning_rate", 0.5) * (x.T @ g) / n
        w[d] -= options.get("learning_rate", 0.5) * g.sum(axis=0) / n
    loss = float(-np.mean(np.log(p[np.arange(n), labels] + 1e-300)))
    history.append({"epoch": 1, "train_loss": loss, "train_accuracy": float(np.mean(p.argmax(1) == labels))})
    weights = w
    return history


def predict(features):
    x = features.reshape(len(features), -1).astype(np.float64)
    d = x.shape[1]
    return x @ weights[:d] + weights[d]


def save(path):
    with open(path, "wb") as f:
        np.save(f, weights, allow_pickle=False)


def load(path):
    global weights
    with open(path, "rb") as f:
        w = np.load(f, allow_pickle=False)
    d = int(np.prod(spec.feature_shape))
    if w.shape != (d + 1, spec.class_count):
        raise ValueError(f"{path} holds weights of shape {w.shape}, this model needs {(d + 1, spec.class_count)}")
    weights = w
