"""The worker's main loop: ``python -m mia_worker.serve --module YOUR_MODULE``.

Speaks PROTOCOL.md over the process's standard input and output. Before importing the user's
module it moves the protocol to private file descriptors and points file descriptor 1 at
standard error, so a ``print`` (or a C library writing to stdout) cannot corrupt the protocol:
everything the user's code writes ends up in the worker's stderr, which the host keeps.
"""

import argparse
import os
import sys
import time
import traceback

import numpy as np

from . import __version__
from .api import Adapter, Spec, import_user_module, seed_everything
from .protocol import PROTOCOL_VERSION, ProtocolError, read_message, write_message


def _open_channel():
    """Private copies of stdin/stdout for the protocol; fd 0 becomes /dev/null, fd 1 stderr."""
    sys.stdout.flush()
    channel_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    channel_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return channel_in, channel_out


def _failure(error: BaseException):
    """The answer to a request the user's code failed: the error and its traceback."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    sys.stderr.write(text)
    sys.stderr.flush()
    return {"ok": False, "error": f"{type(error).__name__}: {error}", "traceback": text}


def _expect(arrays, name, dtype_kind):
    if name not in arrays:
        raise ProtocolError(f"the request has no array `{name}`")
    a = arrays[name]
    if a.dtype.kind != dtype_kind:
        raise ProtocolError(f"array `{name}` has dtype {a.dtype}")
    return a


class Server:
    def __init__(self, module_name: str):
        self.module_name = module_name
        self.adapter = None

    def handle(self, header, arrays):
        op = header.get("op")
        if op == "hello":
            if header.get("protocol") != PROTOCOL_VERSION:
                return {"ok": False, "error": f"protocol {header.get('protocol')} asked, this worker speaks {PROTOCOL_VERSION}",
                        "protocol": PROTOCOL_VERSION}
            spec = header.get("spec", {})
            spec = Spec(tuple(int(d) for d in spec.get("feature_shape", [])), int(spec.get("class_count", 0)))
            module = import_user_module(self.module_name)
            self.adapter = Adapter(module, spec, header.get("options") or {})
            self.spec = spec
            return {"ok": True, "protocol": PROTOCOL_VERSION, "worker": f"mia_worker {__version__}",
                    "module": getattr(module, "__name__", self.module_name)}
        if self.adapter is None:
            raise ProtocolError(f"`{op}` before `hello`")
        if op == "train":
            features = _expect(arrays, "features", "f")
            labels = _expect(arrays, "labels", "i").astype(np.int64)
            seed = int(header.get("seed", 0))
            seed_everything(seed)
            started = time.monotonic()
            heldout = None
            if "heldout_features" in arrays and "heldout_labels" in arrays:
                heldout = (_expect(arrays, "heldout_features", "f"), _expect(arrays, "heldout_labels", "i").astype(np.int64))
            history = self.adapter.train(features, labels, header.get("options") or {}, seed, heldout=heldout)
            return {"ok": True, "history": history, "seconds": time.monotonic() - started}
        if op == "predict":
            features = _expect(arrays, "features", "f")
            out = np.asarray(self.adapter.predict(features))
            expected = (features.shape[0], self.spec.class_count)
            if out.shape != expected:
                raise ValueError(f"predict returned an array of shape {out.shape}, expected {expected}")
            return {"ok": True}, {"outputs": out.astype(np.float32)}
        if op == "save":
            path = header["path"]
            partial = path + ".partial"
            try:
                self.adapter.save(partial)
                if not os.path.isfile(partial):
                    raise FileNotFoundError(
                        f"save({partial!r}) wrote no file at that path (numpy's np.save adds `.npy` to a name: pass an open file)")
                os.replace(partial, path)
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
            return {"ok": True}
        if op == "load":
            self.adapter.load(header["path"])
            return {"ok": True}
        if op == "bye":
            return {"ok": True}
        raise ProtocolError(f"unknown request `{op}`")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mia_worker.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True, help="the worker: a module path (pkg.mod) or a .py file")
    args = parser.parse_args(argv)
    channel_in, channel_out = _open_channel()
    server = Server(args.module)
    while True:
        try:
            message = read_message(channel_in)
        except ProtocolError as e:
            write_message(channel_out, {"ok": False, "error": f"protocol: {e}"})
            return 2
        if message is None:
            return 0
        header, arrays = message
        try:
            answer = server.handle(header, arrays)
        except ProtocolError as e:
            write_message(channel_out, {"ok": False, "error": f"protocol: {e}"})
            return 2
        except Exception as e:  # the user's code failed: report it, stay up
            answer = _failure(e)
        if isinstance(answer, tuple):
            write_message(channel_out, *answer)
        else:
            write_message(channel_out, answer)
        if header.get("op") == "bye":
            return 0


if __name__ == "__main__":
    sys.exit(main())
