"""Helpers for a mia-audit model worker: your model behind the `python` model backend.

A worker module defines four functions (or a ``Worker`` class with the same methods)::

    def train(features, labels, options, seed): ...   # fit from scratch; may return a history
    def predict(features): ...                        # -> array [n, class_count]
    def save(path): ...                               # write the trained model to `path`
    def load(path): ...                               # read a model written by `save`

and is run by the host as ``python -m mia_worker.serve --module YOUR_MODULE``. See README.md
and PROTOCOL.md next to this package.
"""

from .api import Spec, Worker, seed_everything
from .protocol import PROTOCOL_VERSION, ProtocolError

__version__ = "0.1.0"
__all__ = ["Spec", "Worker", "seed_everything", "PROTOCOL_VERSION", "ProtocolError", "__version__"]
