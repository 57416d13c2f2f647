"""Tensor factories and the host random generator (one seed gives the same numbers on every backend)."""
import numpy as np

from . import backend as _registry
from . import dtypes
from .tensor import Tensor

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind randn, rand, dropout masks and parameter initialisation."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator():
    """The host NumPy generator that micrograd's random numbers come from."""
    return _rng


def _shape(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{op}: shape entries must be non-negative ints; got {shape!r}")
    return tuple(int(n) for n in shape)


def _finish(arr, backend, requires_grad):
    t = Tensor._make(arr, backend, False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def _backend(backend):
    return _registry.current() if backend is None else _registry.backend_object(backend)


def tensor(data, dtype=None, requires_grad=False, backend=None):
    """A new tensor holding a copy of `data`; dtype inferred as PyTorch does (floats -> float32)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def zeros(*shape, dtype=dtypes.float32, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.zeros(_shape("zeros", shape), dtypes.as_dtype(dtype, "zeros")), b, requires_grad)


def ones(*shape, dtype=dtypes.float32, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.full(_shape("ones", shape), 1, dtypes.as_dtype(dtype, "ones")), b, requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False, backend=None):
    b = _backend(backend)
    if dtype is None:
        dtype = dtypes.infer_dtype(fill_value)
    shape = _shape("full", (shape,) if not isinstance(shape, (tuple, list)) else (tuple(shape),))
    return _finish(b.full(shape, fill_value, dtypes.as_dtype(dtype, "full")), b, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad, backend=t.backend)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad, backend=t.backend)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, backend=None):
    """Evenly spaced values in [start, stop); int64 for integer arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = dtypes.int64 if ints else dtypes.float32
    b = _backend(backend)
    return _finish(b.arange(start, stop, step, dtypes.as_dtype(dtype, "arange")), b, requires_grad)


def eye(n, m=None, dtype=dtypes.float32, requires_grad=False, backend=None):
    b = _backend(backend)
    return _finish(b.eye(n, n if m is None else m, dtypes.as_dtype(dtype, "eye")), b, requires_grad)


def _random(op, draw, shape, dtype, requires_grad, backend):
    dtype = dtypes.as_dtype(dtype, op)
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{op}: needs a floating dtype; got {dtype.name}")
    b = _backend(backend)
    host = draw(_shape(op, shape)).astype(dtype)
    return _finish(b.asarray(host, dtype), b, requires_grad)


def randn(*shape, dtype=dtypes.float32, requires_grad=False, backend=None):
    """Standard normal samples drawn on the host (the same numbers on every backend for one seed)."""
    return _random("randn", lambda s: _rng.standard_normal(s), shape, dtype, requires_grad, backend)


def rand(*shape, dtype=dtypes.float32, requires_grad=False, backend=None):
    """Uniform samples in [0, 1) drawn on the host."""
    return _random("rand", lambda s: _rng.random(s), shape, dtype, requires_grad, backend)
