"""Tensor factories with PyTorch's signatures: shapes as ints or one sequence, `dtype=None` meaning the default
(float32 unless mg.set_default_dtype says otherwise; inferred from the values where PyTorch infers), `device=`
(a device or a backend name; `backend=` is the older spelling), `requires_grad=`, `generator=` on the random
ones, and `out=`. Random numbers are drawn on the host (micrograd/random.py), so one seed gives the same
numbers on every backend.
"""
import math
import warnings

import numpy as np

from . import dtypes
from . import random as rng
from .devices import backend_for
from .errors import RuntimeValueError
from .tensor import Tensor


def _shape(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for n in shape:
        if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
            n = n.item()
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}(): argument 'size' must be a tuple of ints, but found element of type "
                            f"{type(n).__name__}; got {shape!r}")
        if n < 0:
            raise RuntimeValueError(f"{op}: Trying to create tensor with negative dimension {n}: {list(shape)}")
        out.append(int(n))
    return tuple(out)


def _target(op, device, backend):
    if device is not None and backend is not None:
        raise TypeError(f"{op}: give device= or backend=, not both")
    return backend_for(device if device is not None else backend, op)


def _dtype(op, dtype, default=None):
    if dtype is None:
        return dtypes.get_default_dtype() if default is None else default
    return dtypes.as_dtype(dtype, op)


def _finish(arr, b, requires_grad, out=None, op="factory"):
    t = Tensor._make(arr, b, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t if out is None else _into(out, t, op)


def _into(out, result, op):
    """Write result into `out` (PyTorch's out=): out is resized when its shape differs, as PyTorch does (with
    its warning when out held elements), and must not require grad."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.requires_grad and result.requires_grad:
        raise RuntimeValueError(f"{op}(): functions with out=... arguments don't support automatic "
                                f"differentiation, but one of the arguments requires grad.")
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(result.shape)}. ({op})",
                          UserWarning, stacklevel=3)
        out._data = out._backend.zeros(result.shape, out.dtype)
    from .autograd import no_grad
    with no_grad():
        out.copy_(result)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False, backend=None):
    """A new tensor holding a copy of `data`; dtype inferred as PyTorch does (Python floats -> the default
    float, ints -> int64, bools -> bool; a NumPy array keeps its dtype)."""
    b = _target("tensor", device, backend)
    if isinstance(data, Tensor):
        data = data.detach()
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=b)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor, sharing memory where it can: a Tensor of that dtype and device is returned as is, a
    NumPy array on a CPU backend is shared (from_numpy); anything else is copied."""
    b = backend_for(device, "as_tensor") if device is not None else None
    dt = None if dtype is None else dtypes.as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        t = data if b is None or b is data._backend else data.to(b)
        return t if dt is None or dt == t.dtype else t.to(dt)
    if isinstance(data, np.ndarray) and (dt is None or dt == data.dtype):
        b = b or backend_for(None)
        if b.array_type is np.ndarray and data.dtype in dtypes.SUPPORTED:
            return from_numpy(data) if b is backend_for(None) else _shared(data, b)
    return tensor(data, dtype=dt, device=b)


def _shared(arr, b):
    return Tensor._make(arr, b, False, None, 0)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """PyTorch's sparse COO constructor: micrograd has no sparse tensors, so this raises, naming what to use."""
    raise NotImplementedError("sparse_coo_tensor: sparse tensors are not supported by micrograd; build the dense "
                              "tensor instead (zeros(size), then t[tuple(indices)] = values)")


def from_numpy(ndarray):
    """A tensor sharing `ndarray`'s memory (changes through either show in the other), on the CPU backend in
    force."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in dtypes.SUPPORTED:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype.name}. The only supported types "
                        f"are: float64, float32, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool.")
    from .devices import cpu_backend
    return _shared(ndarray, cpu_backend())


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of another library's array (anything with __dlpack__: NumPy, CuPy, PyTorch,
    JAX), as PyTorch's from_dlpack: on the CPU backend in force for host memory, on cupy for a CUDA device."""
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (an array of another library); got "
                        f"{type(ext_tensor).__name__}")
    from .devices import cpu_backend, cuda_backend
    kind, index = ext_tensor.__dlpack_device__()
    if int(kind) == 1:
        arr = np.from_dlpack(ext_tensor)
        if arr.dtype not in dtypes.SUPPORTED:
            raise TypeError(f"from_dlpack: dtype {arr.dtype.name} is not supported by micrograd")
        return _shared(arr, cpu_backend())
    if int(kind) == 2:
        b = cuda_backend(int(index), "from_dlpack")
        return _shared(b.xp.from_dlpack(ext_tensor), b)
    raise ValueError(f"from_dlpack: DLPack device type {int(kind)} is not a CPU or CUDA device; micrograd cannot "
                     f"use its memory")


def _filled(op, shape, value, dtype, device, requires_grad, backend, out):
    b = _target(op, device, backend)
    dt = _dtype(op, dtype)
    return _finish(b.full(_shape(op, shape), value, dt), b, requires_grad, out, op)


def zeros(*size, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    return _filled("zeros", size, 0, dtype, device, requires_grad, backend, out)


def ones(*size, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    return _filled("ones", size, 1, dtype, device, requires_grad, backend, out)


def empty(*size, out=None, dtype=None, device=None, requires_grad=False, pin_memory=False, memory_format=None,
          backend=None):
    """A new tensor whose values are unspecified (micrograd zeroes them)."""
    return _filled("empty", size, 0, dtype, device, requires_grad, backend, out)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    """A tensor of `size` filled with `fill_value`; the dtype is inferred from it when not given (bool, int64 or
    the default float)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = dtypes.infer_dtype(fill_value)
    size = (size,) if not isinstance(size, (tuple, list)) else (tuple(size),)
    return _filled("full", size, fill_value, dtype, device, requires_grad, backend, out)


def _like(op, input, dtype, device):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    dt = input.dtype if dtype is None else dtypes.as_dtype(dtype, op)
    return dt, (input._backend if device is None else backend_for(device, op))


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    dt, b = _like("zeros_like", input, dtype, device)
    return zeros(input.shape, dtype=dt, device=b, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    dt, b = _like("ones_like", input, dtype, device)
    return ones(input.shape, dtype=dt, device=b, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    dt, b = _like("empty_like", input, dtype, device)
    return empty(input.shape, dtype=dt, device=b, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    dt, b = _like("full_like", input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=b, requires_grad=requires_grad)


def _number(v, op, name):
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeValueError(f"{op}: {name} must be a number or a one-element tensor; got shape {v.shape}")
        v = v.item()
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): argument '{name}' must be Number, not {type(v).__name__}")
    return v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False, backend=None,
           stop=None):
    """Values start, start + step, ... below `end` (PyTorch's arange; `stop` is accepted for `end`): int64 when
    every argument is an int, else the default float; computed in float64 and then cast, as PyTorch does."""
    if stop is not None:
        end = stop
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise RuntimeValueError("arange: step must be nonzero")
    if not all(map(math.isfinite, (start, end))):
        raise RuntimeValueError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeValueError("arange: upper bound and larger bound inconsistent with step sign")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _dtype("arange", dtype, dtypes.int64 if ints else None)
    if dt.kind in "iub":  # an integer result: the bounds and step are truncated to integers first, as PyTorch does
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise RuntimeValueError("arange: step must be nonzero")
    n = max(0, math.ceil((end - start) / step))
    if dt.kind in "iub":
        host = (start + step * np.arange(n, dtype=np.int64)).astype(dt)
    else:
        host = (start + step * np.arange(n, dtype=np.float64)).astype(dt)
    b = _target("arange", device, backend)
    return _finish(b.asarray(host, dt), b, requires_grad, out, "arange")


def _spaced(op, start, end, steps, dt):
    """PyTorch's linspace values in dtype `dt`: for a float dtype, computed in it from both ends towards the middle;
    for an integer dtype, from the bounds truncated to integers, each value truncated."""
    start, end = _number(start, op, "start"), _number(end, op, "end")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeValueError(f"{op}: number of steps must be non-negative")
    i = np.arange(steps)
    truncate = dt.kind != "f"
    if truncate:  # computed in float64 from the truncated bounds, each value truncated afterwards
        start, end, dt = int(start), int(end), np.dtype(np.float64)
    lo, hi = dt.type(start), dt.type(end)
    step = (hi - lo) / dt.type(max(steps - 1, 1))
    values = np.where(i < steps // 2, lo + step * i.astype(dt), hi - step * (steps - 1 - i).astype(dt))
    if steps == 1:
        values = np.array([lo])
    return values.astype(dt), truncate


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    """`steps` values from start to end inclusive, computed as PyTorch does."""
    dt = _dtype("linspace", dtype)
    values, _ = _spaced("linspace", start, end, steps, dt)
    b = _target("linspace", device, backend)
    return _finish(b.asarray(np.trunc(values).astype(dt) if dt.kind != "f" else values, dt), b, requires_grad, out,
                   "linspace")


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    """base ** linspace(start, end, steps), computed as PyTorch does (in the result's dtype for floats)."""
    dt = _dtype("logspace", dtype)
    exps, truncate = _spaced("logspace", start, end, steps, dt)
    with np.errstate(over="ignore"):
        values = np.power(np.float64(base) if truncate else dt.type(base), exps)
    b = _target("logspace", device, backend)
    return _finish(b.asarray(np.trunc(values).astype(dt) if truncate else values.astype(dt), dt), b, requires_grad,
                   out, "logspace")


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False, backend=None):
    for v, name in ((n, "n"), (m, "m")):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
            raise RuntimeValueError(f"eye: {name} must be greater or equal to 0, got {v}")
    b = _target("eye", device, backend)
    dt = _dtype("eye", dtype)
    return _finish(b.eye(n, n if m is None else m, dt), b, requires_grad, out, "eye")


# random factories: drawn on the host by micrograd/random.py's generators

def _random(op, draw, shape, generator, dtype, device, requires_grad, backend, out, kinds="f"):
    dt = _dtype(op, dtype)
    if dt.kind not in kinds:
        raise RuntimeValueError(f"{op}: \"{op}\" not implemented for '{dt.name}' (needs a floating dtype)")
    b = _target(op, device, backend)
    host = draw(rng.host(generator, op), _shape(op, shape)).astype(dt)
    return _finish(b.asarray(host, dt), b, requires_grad, out, op)


def randn(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False, pin_memory=False,
          backend=None):
    """Standard normal samples."""
    return _random("randn", lambda g, s: g.standard_normal(s), size, generator, dtype, device, requires_grad,
                   backend, out)


def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False, pin_memory=False,
         backend=None):
    """Uniform samples in [0, 1)."""
    return _random("rand", lambda g, s: g.random(s), size, generator, dtype, device, requires_grad, backend, out)


def randint(*args, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False,
            backend=None, low=None, high=None):
    """Integers drawn uniformly from [low, high): randint(high, size) or randint(low, high, size); int64 unless
    dtype says otherwise."""
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if high is None and args:
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args or high is None or size is None:
        raise TypeError("randint() received an invalid combination of arguments: expected (int high, tuple of "
                        "ints size) or (int low, int high, tuple of ints size)")
    low, high = int(_number(low, "randint", "low")), int(_number(high, "randint", "high"))
    if low >= high:
        raise RuntimeValueError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if requires_grad:
        raise RuntimeValueError("Only Tensors of floating point and complex dtype can require gradients")
    return _random("randint", lambda g, s: g.integers(low, high, s), (tuple(size),), generator,
                   dtypes.int64 if dtype is None else dtype, device, False, backend, out, kinds="fiub")


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False, pin_memory=False,
             backend=None):
    """A random permutation of 0 .. n-1 (int64 unless dtype says otherwise)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeValueError(f"randperm: n must be a non-negative int; got {n!r}")
    return _random("randperm", lambda g, s: g.permutation(int(n)), (), generator,
                   dtypes.int64 if dtype is None else dtype, device, requires_grad, backend, out, kinds="fiu")


def _like_random(op, draw, input, generator, dtype, device, requires_grad):  # noqa: A002
    dt, b = _like(op, input, dtype, device)
    return _random(op, draw, (input.shape,), generator, dt, b, requires_grad, None, None)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    return _like_random("rand_like", lambda g, s: g.random(s), input, generator, dtype, device, requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    return _like_random("randn_like", lambda g, s: g.standard_normal(s), input, generator, dtype, device,
                        requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,  # noqa: A002
                 memory_format=None):
    if high is None:
        low, high = 0, low
    dt, b = _like("randint_like", input, dtype, device)
    return randint(low, high, input.shape, generator=generator, dtype=dt, device=b, requires_grad=requires_grad)


class _TensorType:
    """PyTorch's legacy tensor types (mg.FloatTensor, mg.LongTensor, ...): called with data, a tensor of that
    dtype; called with sizes, an (unspecified-valued) tensor of that shape; isinstance(t, mg.LongTensor) checks
    the dtype."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.__name__ = dtypes.type_string(dtype).rpartition(".")[2]

    def __call__(self, *args, device=None):
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=self.dtype, device=device)
        if len(args) > 1:
            raise TypeError(f"{self.__name__}(): expected sizes (ints) or one sequence of data")
        return tensor(args[0] if args else [], dtype=self.dtype, device=device)

    def __instancecheck__(self, obj):
        return isinstance(obj, Tensor) and obj.dtype == self.dtype

    def __repr__(self):
        return f"<class 'micrograd.{self.__name__}'>"


FloatTensor, DoubleTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _TensorType(d) for d in (dtypes.float32, dtypes.float64, dtypes.int64, dtypes.int32, dtypes.int16, dtypes.int8,
                             dtypes.uint8, dtypes.bool_))
