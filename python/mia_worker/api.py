"""The interface a user's worker implements, and the adapter the serve loop calls it through."""

import importlib
import importlib.util
import inspect
import os
import random
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class Spec:
    """What the model is for: the shape of one record's features and the number of classes."""

    feature_shape: Tuple[int, ...]
    class_count: int


class Worker:
    """Base class for a class-style worker.

    Subclass it in your module (one subclass, or name it ``Worker``); the serve loop creates it
    once as ``YourWorker(spec, options)``, then calls the methods below. ``options`` is the JSON
    object of the backend's ``worker_options`` key (a dict, ``{}`` when not set).
    """

    def __init__(self, spec: Spec, options: Dict[str, Any]):
        self.spec = spec
        self.options = options

    def train(self, features: np.ndarray, labels: np.ndarray, options: Dict[str, Any], seed: int):
        """Fits the model from scratch. features: float32 [n, *feature_shape]; labels: int64 [n].

        A ``train`` that also takes a ``heldout`` keyword gets ``(features, labels)`` of the
        host's held-out records (or None), for held-out figures in the history.

        May return a list of per-epoch dicts (``epoch``, ``train_loss``, ``train_accuracy``,
        ``seconds``...) that the host records as the training history."""
        raise NotImplementedError

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Returns logits (or probabilities, per the backend's ``output``) as [n, class_count]."""
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Writes the trained model to the file ``path``."""
        raise NotImplementedError

    def load(self, path: str) -> None:
        """Replaces the model with the one written at ``path``; raises on a foreign file."""
        raise NotImplementedError


def seed_everything(seed: int) -> None:
    """Seeds Python's, NumPy's and (when imported) PyTorch's global generators with ``seed``.

    The serve loop calls it before every ``train``; use ``np.random.default_rng(seed)`` for
    generators of your own."""
    seed = int(seed) % (2**32)
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def import_user_module(name: str):
    """Imports ``name``: a ``.py`` file path (its folder is put on ``sys.path``) or a module path."""
    if name.endswith(".py") or os.sep in name:
        path = os.path.abspath(name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no worker file {path}")
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        module_name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


METHODS = ("train", "predict", "save", "load")


class Adapter:
    """Calls a user module through one interface, whether it has functions or a Worker class."""

    def __init__(self, module, spec: Spec, options: Dict[str, Any]):
        cls = self._worker_class(module)
        if cls is not None:
            self.target = cls(spec, options)
        else:
            missing = [m for m in METHODS if not callable(getattr(module, m, None))]
            if missing:
                raise TypeError(
                    f"module {module.__name__} defines no Worker class and lacks "
                    + ", ".join(f"{m}()" for m in missing)
                    + "; a worker defines train(features, labels, options, seed), predict(features), save(path), load(path)"
                )
            setup = getattr(module, "setup", None)
            if callable(setup):
                setup(spec, options)
            self.target = module
        for m in METHODS:
            if not callable(getattr(self.target, m, None)):
                raise TypeError(f"the worker lacks {m}()")

    @staticmethod
    def _worker_class(module) -> Optional[type]:
        named = getattr(module, "Worker", None)
        if inspect.isclass(named) and named is not Worker:
            return named
        subclasses = [
            v for v in vars(module).values()
            if inspect.isclass(v) and issubclass(v, Worker) and v is not Worker and v.__module__ == module.__name__
        ]
        if len(subclasses) > 1:
            raise TypeError("the module defines several mia_worker.Worker subclasses; name the one to use `Worker`")
        return subclasses[0] if subclasses else None

    def train(self, features, labels, options, seed, heldout=None) -> List[Dict[str, Any]]:
        train = self.target.train
        try:
            takes_heldout = "heldout" in inspect.signature(train).parameters
        except (TypeError, ValueError):
            takes_heldout = False
        if takes_heldout:
            history = train(features, labels, options, seed, heldout=heldout)
        else:
            history = train(features, labels, options, seed)
        return list(history) if history is not None else []

    def predict(self, features):
        return self.target.predict(features)

    def save(self, path):
        self.target.save(path)

    def load(self, path):
        self.target.load(path)
