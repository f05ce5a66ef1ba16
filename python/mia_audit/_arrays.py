"""Turning what a user passes (numpy arrays, torch tensors, lists) into checked numpy arrays.

Every check runs before anything is written, and every error names the argument and the shape
it expected, so a notebook user sees at once which array is wrong.
"""

from typing import Any, Optional

import numpy as np


class InputError(ValueError):
    """An argument of `mia_audit.audit` that cannot be audited as given."""


def as_array(name: str, value: Any) -> np.ndarray:
    """A numpy array from a numpy array, anything with `__array__`, a tensor with `.numpy()`,
    or a (nested) list."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and callable(value.detach):  # a torch tensor that may need grad
        value = value.detach()
    if hasattr(value, "cpu") and callable(value.cpu) and not hasattr(value, "__array__"):
        value = value.cpu()
    if not hasattr(value, "__array__") and hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists, objects numpy cannot hold
        raise InputError(f"`{name}`: cannot be read as an array ({error})") from None
    if array.dtype == object:
        raise InputError(f"`{name}`: holds objects, not numbers (a ragged list?)")
    return array


def _shape_text(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def check_shape(name: str, array: np.ndarray, expected, meaning: str) -> None:
    """`expected` holds ints (fixed) or None (any); `meaning` names the dimensions ("N, C")."""
    if array.ndim != len(expected) or any(e is not None and d != e for d, e in zip(array.shape, expected)):
        want = _shape_text("?" if e is None else e for e in expected)
        raise InputError(f"`{name}`: expected shape [{meaning}] = {want}, got {_shape_text(array.shape)}")


def labels(name: str, value: Any, count: Optional[int], classes: Optional[int]) -> np.ndarray:
    array = as_array(name, value)
    check_shape(name, array, [count], "N" if name == "labels" else "P")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and array.size and np.all(np.isfinite(array)) \
                and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise InputError(f"`{name}`: expected integer class labels, got dtype {array.dtype}")
    if classes is not None and array.size:
        bad = np.flatnonzero((array < 0) | (array >= classes))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"`{name}`: entry {i} is {int(array[i])}, outside the {classes} classes [0, {classes})")
    if array.size and (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
        raise InputError(f"`{name}`: labels must fit in 32 bits")
    return array.astype(np.int32, copy=False)


def logits(name: str, value: Any, expected, meaning: str) -> np.ndarray:
    array = as_array(name, value)
    check_shape(name, array, expected, meaning)
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"`{name}`: expected floating-point logits, got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise InputError(f"`{name}`: entry {list(where)} is {array[where]}: every logit must be finite")
    return np.ascontiguousarray(array)


def mask(name: str, value: Any, expected, meaning: str) -> np.ndarray:
    """A membership mask: bool, or integers that are all 0 or 1. An index list is refused, not
    guessed: the caller converts it (`np.isin(np.arange(N), indices)`)."""
    array = as_array(name, value)
    check_shape(name, array, expected, meaning)
    if array.dtype == bool:
        return array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer) and not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"`{name}`: expected a 0/1 or bool mask, got dtype {array.dtype}")
    bad = np.flatnonzero((array != 0) & (array != 1))
    if bad.size:
        where = tuple(int(i) for i in np.unravel_index(int(bad[0]), array.shape))
        raise InputError(
            f"`{name}`: entry {list(where)} is {array[where]}; a membership mask holds only 0 and 1 "
            f"(for a list of member indices pass np.isin(np.arange(N), indices))")
    return array.astype(np.uint8)
