"""A scikit-learn worker: a multilayer perceptron (MLPClassifier) audited by mia-audit.

worker_options: {"hidden": [64], "epochs": 50, "alpha": 0.0001}. predict returns
log-probabilities, which are logits (the softmax of log p is p), clamped at -100 so the host
sees finite numbers; a class absent from the training set gets -100.
The model file is a pickle: load only files you wrote yourself.
"""

import pickle
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

spec = None
model = None


def setup(model_spec, options):
    global spec
    spec = model_spec


def train(features, labels, options, seed):
    global model
    model = MLPClassifier(
        hidden_layer_sizes=tuple(options.get("hidden", [64])),
        max_iter=int(options.get("epochs", 50)),
        alpha=float(options.get("alpha", 1e-4)),
        random_state=seed % (2**32),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed epoch budget is the point
        model.fit(features.reshape(len(features), -1), labels)
    return [{"epoch": i + 1, "train_loss": float(loss)} for i, loss in enumerate(model.loss_curve_)]


def predict(features):
    logp = model.predict_log_proba(features.reshape(len(features), -1))
    out = np.full((len(features), spec.class_count), -100.0)
    out[:, model.classes_] = np.maximum(logp, -100.0)
    return out


def save(path):
    with open(path, "wb") as f:
        pickle.dump({"format": "mia-sklearn-mlp/1", "model": model}, f)


def load(path):
    global model
    with open(path, "rb") as f:
        saved = pickle.load(f)
    if not isinstance(saved, dict) or saved.get("format") != "mia-sklearn-mlp/1":
        raise ValueError(f"{path} is not a model written by sklearn_worker.py")
    model = saved["model"]
