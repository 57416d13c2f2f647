"""The standard's creation functions over micrograd's factories: float64 is the default float, `copy=` and
`device=` follow the standard."""
import math as _math
import numbers

import numpy as _np

from .. import backend as _registry
from .. import factories as _f
from ..tensor import Tensor
from ._dtypes import DEFAULT_FLOAT, DEFAULT_INT, as_dtype, builtins_bool
from ._engine import ops as _ops


def _infer(obj):
    """The standard's dtype for Python data: bool, int64, or the default float (float64); NumPy keeps its own."""
    if isinstance(obj, (_np.ndarray, _np.generic)):
        return as_dtype(obj.dtype, "asarray")
    arr = _np.asarray(obj)
    if arr.dtype.kind == "b":
        return _np.dtype(bool)
    if arr.dtype.kind in "iu":
        return DEFAULT_INT
    if arr.dtype.kind == "f":
        return DEFAULT_FLOAT
    return as_dtype(arr.dtype, "asarray")


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    """`obj` as a Tensor: a Tensor stays itself (copy=None/False, same dtype), a NumPy array shares its memory when
    it can; copy=True always copies and copy=False raises ValueError when a copy is needed."""
    dt = None if dtype is None else as_dtype(dtype, "asarray")
    if isinstance(obj, Tensor):
        out = obj if device is None else obj.to(device)
        if dt is not None and dt != out.dtype:
            if copy is False:
                raise ValueError(f"asarray: copy=False but casting {out.dtype.name} to {dt.name} needs a copy")
            return out.astype(dt)
        if out is not obj and copy is False:
            raise ValueError("asarray: copy=False but moving the array to another device needs a copy")
        return _ops.clone(out) if copy and out is obj else out
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(o, Tensor) for o in obj):
        if copy is False:
            raise ValueError("asarray: copy=False but a sequence of arrays must be copied")
        return asarray(_ops.stack(list(obj)), dtype=dt, device=device)
    if hasattr(obj, "__dlpack__") and not isinstance(obj, _np.ndarray) and copy is not True:
        obj = _np.from_dlpack(obj)
    if isinstance(obj, _np.ndarray):
        if copy is not True and (dt is None or dt == obj.dtype) and _registry.current().device == "cpu":
            t = _f.as_tensor(obj, device=device)  # shares the memory on the CPU backends
            if copy is None or isinstance(t._data, _np.ndarray) and _np.shares_memory(t._data, obj):
                return t
        if copy is False:
            raise ValueError("asarray: copy=False but the array cannot be used without a copy")
    elif copy is False:
        raise ValueError(f"asarray: copy=False but {type(obj).__name__} must be copied into an array")
    if isinstance(obj, complex):
        raise TypeError("asarray: complex dtypes are not supported")
    if dt is None:
        dt = _infer(obj)
    elif not isinstance(obj, _np.ndarray):
        obj = _np.asarray(obj, dtype=dt)  # exact for large uint64 ints that NumPy's inference makes floats
    return _f.tensor(obj, dtype=dt, device=device)


def array(obj, dtype=None, *, copy=True, device=None):
    """NumPy's spelling: `obj` as a new Tensor (copy=True by default)."""
    return asarray(obj, dtype=dtype, device=device, copy=copy)


def _float_or(dtype, *values):
    if dtype is not None:
        return as_dtype(dtype, "creation")
    if all(isinstance(v, (builtins_bool, _np.bool_)) for v in values):
        return _np.dtype(bool)
    if all(isinstance(v, numbers.Integral) for v in values):
        return DEFAULT_INT
    return DEFAULT_FLOAT


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    """Evenly spaced values in [start, stop) (an empty array when the range holds none); int64 for ints, else float64."""
    dt = _float_or(dtype, *(v for v in (start, stop, step) if v is not None))
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero; got 0")
    if _math.ceil((stop - start) / step) <= 0:  # the standard's empty range (PyTorch raises)
        return _f.zeros((0,), dtype=dt, device=device)
    return _f.arange(start, stop, step, dtype=dt, device=device)


def _shape(shape):
    return (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)


def empty(shape, *, dtype=None, device=None):
    """An uninitialised array of `shape` (default float64)."""
    return _f.empty(_shape(shape), dtype=as_dtype(dtype or DEFAULT_FLOAT, "empty"), device=device)


def zeros(shape, *, dtype=None, device=None):
    """An array of zeros of `shape` (default float64)."""
    return _f.zeros(_shape(shape), dtype=as_dtype(dtype or DEFAULT_FLOAT, "zeros"), device=device)


def ones(shape, *, dtype=None, device=None):
    """An array of ones of `shape` (default float64)."""
    return _f.ones(_shape(shape), dtype=as_dtype(dtype or DEFAULT_FLOAT, "ones"), device=device)


def full(shape, fill_value, *, dtype=None, device=None):
    """An array of `shape` filled with `fill_value` (its dtype by default: bool, int64 or float64)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if isinstance(fill_value, complex):
        raise TypeError("full: complex dtypes are not supported")
    return _f.full(_shape(shape), fill_value, dtype=_float_or(dtype, fill_value), device=device)


def _like(fn, x, dtype, device, *args):
    dt = x.dtype if dtype is None else as_dtype(dtype, fn.__name__)
    return fn(x, *args, dtype=dt, device=x.device if device is None else device)


def empty_like(x, /, *, dtype=None, device=None):
    """An uninitialised array with x's shape (and dtype and device unless given)."""
    return _like(_f.empty_like, x, dtype, device)


def zeros_like(x, /, *, dtype=None, device=None):
    """Zeros with x's shape (and dtype and device unless given)."""
    return _like(_f.zeros_like, x, dtype, device)


def ones_like(x, /, *, dtype=None, device=None):
    """Ones with x's shape (and dtype and device unless given)."""
    return _like(_f.ones_like, x, dtype, device)


def full_like(x, /, fill_value, *, dtype=None, device=None):
    """`fill_value` with x's shape (and dtype and device unless given)."""
    return _like(_f.full_like, x, dtype, device, fill_value)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    """The identity-like matrix with ones on diagonal `k` (a constant built on the host, then placed)."""
    host = _np.eye(n_rows, n_cols, k=k)
    return _f.tensor(host, dtype=as_dtype(dtype or DEFAULT_FLOAT, "eye"), device=device)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True):
    """`num` evenly spaced values from start to stop (stop left out when endpoint=False); float64 by default."""
    if isinstance(start, complex) or isinstance(stop, complex):
        raise TypeError("linspace: complex dtypes are not supported")
    dt = as_dtype(dtype or DEFAULT_FLOAT, "linspace")
    if endpoint:
        return _f.linspace(start, stop, num, dtype=dt, device=device)
    if num == 0:
        return _f.zeros((0,), dtype=dt, device=device)
    return _f.linspace(start, stop, num + 1, dtype=dt, device=device)[:-1]


def meshgrid(*arrays, indexing="xy"):
    """Coordinate arrays from 1-D arrays (each a broadcast view, so gradients flow back to its 1-D array)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij'; got {indexing!r}")
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and len(arrays) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, a in enumerate(arrays):
        pos = (1 - i if i < 2 else i) if indexing == "xy" and len(arrays) > 1 else i
        view = [1] * len(arrays)
        view[pos] = a.shape[0]
        out.append(a.reshape(tuple(view)).broadcast_to(tuple(shape)))
    return out


def tril(x, /, *, k=0):
    """x with the elements above diagonal `k` zeroed (differentiable)."""
    return _ops.tril(x, k)


def triu(x, /, *, k=0):
    """x with the elements below diagonal `k` zeroed (differentiable)."""
    return _ops.triu(x, k)


def from_dlpack(x, /, *, device=None, copy=None):
    """A Tensor sharing the memory of a DLPack producer (a copy only when copy=True)."""
    out = _f.from_dlpack(x)
    if copy:
        out = _ops.clone(out)
    return out if device is None else out.to(device)
