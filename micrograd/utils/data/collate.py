"""Collation, as PyTorch's: `default_collate` turns a list of samples into a batch, `default_convert` turns one
sample's NumPy arrays into tensors (used when automatic batching is off, `batch_size=None`).

`collate(batch, collate_fn_map=...)` walks dicts, named tuples, tuples and lists and hands each leaf type to
the function `collate_fn_map` names for it; `default_collate_fn_map` is the default table (add entries to it
to batch other types).
"""
import collections.abc
import copy
import re

import numpy as np

from ... import dtypes
from ...factories import as_tensor, tensor
from ...ops.shape import stack
from ...tensor import Tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtype codes that hold no numbers

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                                  "lists; found {}")


def _mapping(data, convert):
    """A mapping like `data` with `convert(key)` as each value: its own type where it can be built so."""
    try:
        if isinstance(data, collections.abc.MutableMapping):
            clone = copy.copy(data)  # keeps the mapping's type and any attributes it carries
            clone.update({key: convert(key) for key in data})
            return clone
        return type(data)({key: convert(key) for key in data})
    except TypeError:
        return {key: convert(key) for key in data}


def _sequence(data, items):
    """A sequence like `data` holding `items`: its own type where it can be built so, else a list."""
    try:
        if isinstance(data, collections.abc.MutableSequence):
            clone = copy.copy(data)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(data)(items)
    except TypeError:  # a type that cannot be copied or built from a list (range, ...)
        return list(items)


def _is_numpy(x):
    return type(x).__module__ == "numpy" and type(x).__name__ not in ("str_", "string_", "bytes_")


def default_convert(data):
    """NumPy arrays and scalars inside `data` (dicts, named tuples, tuples, lists) as tensors; the rest as is."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _mapping(data, lambda key: default_convert(data[key]))
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch's
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """A batch from the list of samples `batch`, walking their structure; each leaf type is batched by the
    function `collate_fn_map` gives for it (looked up by type, then by isinstance in the table's order)."""
    elem = batch[0]
    if collate_fn_map is not None:
        if type(elem) in collate_fn_map:
            return collate_fn_map[type(elem)](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _mapping(elem, lambda key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map))
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(f"each element in list of batch should be of equal size; default_collate got "
                               f"lengths {[len(sample) for sample in batch]}")
        fields = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _sequence(elem, fields)  # tuples give lists, as PyTorch's
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors stacked along a new first dimension (differentiable, like any stack)."""
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """NumPy arrays as one tensor; arrays of strings or objects are refused."""
    elem = batch[0]
    if _STRING_OR_OBJECT.search(elem.dtype.str):
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    if elem.dtype in dtypes.SUPPORTED and all(b.dtype == elem.dtype and b.shape == elem.shape for b in batch):
        return as_tensor(np.stack(batch))  # one tensor, not one per sample: the same values, much faster
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars as a 1-d tensor of their dtype."""
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats as a float64 tensor (as PyTorch's default_collate)."""
    return tensor(batch, dtype=dtypes.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints as an int64 tensor (bools as a bool tensor)."""
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay as they are: a list."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """A batch from a list of samples, as PyTorch's default_collate.

    Tensors are stacked (a new first dimension); NumPy arrays and scalars become tensors of their dtype; Python
    ints become int64 tensors, floats float64 tensors, bools bool tensors; strings and bytes stay a list; dicts,
    named tuples and lists are batched field by field into the same kind of container, tuples into lists. So
    samples `(image, label)` give the batch `[images, labels]`.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
