"""Framing of the worker protocol (see PROTOCOL.md): a JSON header line, then .npy arrays."""

import io
import json
import math
import struct
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

import numpy as np

PROTOCOL_VERSION = 1
MAX_HEADER_BYTES = 1 << 20
MAX_ARRAY_BYTES = 1 << 40


class ProtocolError(Exception):
    """A message that does not follow the protocol."""


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) != n:
        raise ProtocolError(f"the stream ended inside a message ({0 if data is None else len(data)} of {n} bytes)")
    return data


def read_message(stream: BinaryIO) -> Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]]:
    """Reads one message; None at a clean end of the stream (before a header starts)."""
    line = stream.readline(MAX_HEADER_BYTES + 1)
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise ProtocolError("the header line is longer than 1 MiB or not ended by a newline")
    try:
        header = json.loads(line.decode("utf-8"))
    except ValueError as e:
        raise ProtocolError(f"the header is not JSON: {line[:200]!r}") from e
    if not isinstance(header, dict):
        raise ProtocolError("the header is not a JSON object")
    names = header.get("arrays", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ProtocolError("`arrays` is not a list of names")
    arrays = {}
    for name in names:
        (length,) = struct.unpack("<Q", _read_exact(stream, 8))
        if length > MAX_ARRAY_BYTES:
            raise ProtocolError(f"array {name} claims {length} bytes")
        payload = _read_exact(stream, length)
        try:
            arrays[name] = np.load(io.BytesIO(payload), allow_pickle=False)
        except Exception as e:
            raise ProtocolError(f"array {name} is not a .npy file: {e}") from e
    return header, arrays


def _finite(value):
    """JSON has no NaN or infinity: they travel as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def write_message(stream: BinaryIO, header: Dict[str, Any], arrays: Optional[Dict[str, np.ndarray]] = None) -> None:
    """Writes one message and flushes it."""
    arrays = arrays or {}
    header = dict(header)
    if arrays:
        header["arrays"] = list(arrays)
    text = json.dumps(_finite(header), allow_nan=False, separators=(",", ":"))
    stream.write(text.encode("utf-8") + b"\n")
    for array in arrays.values():
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        payload = buffer.getvalue()
        stream.write(struct.pack("<Q", len(payload)))
        stream.write(payload)
    stream.flush()
