"""The standard's dtype objects, dtype functions (astype, can_cast, finfo, iinfo, isdtype, result_type), its type
promotion for arrays, and the inspection namespace (`__array_namespace_info__`)."""
import numbers
from types import SimpleNamespace

import numpy as _np

from .. import dtypes as _dt
from .. import devices as _devices
from ..tensor import Tensor

bool = bool_ = _dt.bool_  # noqa: A001  (the standard's name)
int8, int16, int32, int64 = _dt.int8, _dt.int16, _dt.int32, _dt.int64
uint8, uint16, uint32, uint64 = _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64
float32, float64 = _dt.float32, _dt.float64
# Names only: making a tensor of either raises micrograd's "complex dtypes are not supported" (dtypes.as_dtype)
complex64 = _np.dtype(_np.complex64)
complex128 = _np.dtype(_np.complex128)

builtins_bool = type(True)  # this module's `bool` is the standard's dtype
DEFAULT_FLOAT = float64
DEFAULT_INT = int64
_KINDS = {"bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu", "real floating": "f",
          "complex floating": "c", "numeric": "iufc"}


def as_dtype(dtype, op):
    """A supported dtype for `dtype`; a Python float means the namespace's default float (float64)."""
    if dtype is float:
        return DEFAULT_FLOAT
    return _dt.as_dtype(dtype, op)


def _dtype_of(x):
    """The dtype of an array, or the dtype a dtype-like names."""
    return x.dtype if isinstance(x, (Tensor, _np.ndarray, _np.generic)) else _np.dtype(x)


def result_type(*arrays_and_dtypes):
    """The standard's result dtype of arrays, dtypes and Python scalars (scalars are weak: they take the arrays'
    dtype when of a compatible kind)."""
    dts = [_dtype_of(a) for a in arrays_and_dtypes if not isinstance(a, (numbers.Number, builtins_bool))]
    scalars = [a for a in arrays_and_dtypes if isinstance(a, (numbers.Number, builtins_bool))]
    if not dts:
        if not scalars:
            raise ValueError("result_type: at least one array or dtype is required; got none")
        raise ValueError("result_type: at least one array or dtype is required; got only Python scalars")
    for d in dts:
        as_dtype(d, "result_type")
    out = _np.result_type(*dts)
    for s in scalars:
        if isinstance(s, builtins_bool):
            continue
        if isinstance(s, numbers.Integral) and out.kind == "b":
            raise TypeError(f"result_type: a Python int does not promote with a bool array; got {s!r}")
        if isinstance(s, float) and out.kind in "biu":
            raise TypeError(f"result_type: a Python float does not promote with a {out.name} array; got {s!r}")
        if isinstance(s, complex):
            raise TypeError("result_type: complex dtypes are not supported")
    return out


def can_cast(from_, to, /):
    """Whether `from_` (a dtype or an array) casts to `to` without losing values: NumPy's "safe" casting, which
    contains the standard's promotion (bool to any type, an integer to a wider integer or a float that holds it)."""
    a, b = as_dtype(_dtype_of(from_), "can_cast"), as_dtype(to, "can_cast")
    return builtins_bool(_np.can_cast(a, b, "safe"))


def isdtype(dtype, kind):
    """Whether `dtype` is of `kind`: a dtype, one of the standard's kind names, or a tuple of them."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind; got {kind!r} (kinds: {', '.join(_KINDS)})")
        return _np.dtype(dtype).kind in _KINDS[kind]
    return _np.dtype(dtype) == _np.dtype(kind)


def finfo(type, /):  # noqa: A002  (the standard's signature)
    """Machine limits of a floating dtype: bits, eps, max, min, smallest_normal (Python floats) and dtype."""
    dt = as_dtype(_dtype_of(type), "finfo")
    if dt.kind != "f":
        raise ValueError(f"finfo: a floating dtype is required; got {dt.name}")
    f = _np.finfo(dt)
    return SimpleNamespace(bits=int(f.bits), eps=float(f.eps), max=float(f.max), min=float(f.min),
                           smallest_normal=float(f.smallest_normal), dtype=dt)


def iinfo(type, /):  # noqa: A002
    """Machine limits of an integer dtype: bits, max, min (Python ints) and dtype."""
    dt = as_dtype(_dtype_of(type), "iinfo")
    if dt.kind not in "iu":
        raise ValueError(f"iinfo: an integer dtype is required; got {dt.name}")
    f = _np.iinfo(dt)
    return SimpleNamespace(bits=int(f.bits), max=int(f.max), min=int(f.min), dtype=dt)


def astype(x, dtype, /, *, copy=True, device=None):
    """`x` cast to `dtype` (differentiable between floats); a new array unless copy=False and nothing changes."""
    dt = as_dtype(dtype, "astype")
    out = x if device is None else x.to(device)
    if dt != out.dtype:
        return out.astype(dt)
    return out.clone() if copy and out is x else out


class Info:
    """The inspection namespace: what this namespace supports and its defaults (float64 floats, int64 indices)."""

    def capabilities(self):
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self):
        return _devices.device("cpu")

    def devices(self):
        from .. import backend
        out = [_devices.device("cpu")]
        if "cupy" in backend.available_backends():
            out.append(_devices.device("cuda:0"))
        return out

    def default_dtypes(self, *, device=None):
        return {"real floating": float64, "complex floating": complex128, "integral": int64, "indexing": int64}

    def dtypes(self, *, device=None, kind=None):
        every = {"bool": bool, "int8": int8, "int16": int16, "int32": int32, "int64": int64, "uint8": uint8,
                 "uint16": uint16, "uint32": uint32, "uint64": uint64, "float32": float32, "float64": float64}
        if kind is None:
            return every
        return {n: d for n, d in every.items() if isdtype(d, kind)}


def __array_namespace_info__():
    return Info()
