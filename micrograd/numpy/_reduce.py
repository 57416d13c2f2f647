"""The standard's statistical, utility and searching functions: `axis`/`keepdims`, `correction=0` (NumPy's
`ddof=` too), the standard's accumulation dtypes; `axis=()` reduces nothing."""
import numbers

from .. import factories as _f
from ._dtypes import DEFAULT_FLOAT, DEFAULT_INT, as_dtype, bool_, uint64
from ._engine import ops as _ops


def _over(fn, x, axis, keepdims, **kwargs):
    """fn over `axis` (None: every axis); `axis=()` reduces over a new length-1 axis, which changes nothing."""
    if axis == () or axis == []:
        return fn(x.unsqueeze(-1), -1, False, **kwargs)
    if axis is None:
        out = fn(x, None, False, **kwargs)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return fn(x, tuple(axis) if isinstance(axis, list) else axis, keepdims, **kwargs)


def _accumulator(x, dtype, op):
    """The standard's sum/prod dtype: int64 for bool and signed ints, uint64 for unsigned, else x's dtype."""
    if dtype is not None:
        return as_dtype(dtype, op)
    if x.dtype.kind in "bi":
        return DEFAULT_INT
    if x.dtype.kind == "u":
        return uint64
    return x.dtype


def _reduce_cast(op, x, axis, keepdims, dtype, name):
    dt = _accumulator(x, dtype, name)
    out = _over(lambda t, d, k: op(t.astype(dt), dim=d, keepdim=k), x, axis, keepdims)
    return out if out.dtype == dt else out.astype(dt)


def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001
    """The sum over `axis` (None: all; (): none), accumulated in the standard's dtype unless `dtype` is given."""
    return _reduce_cast(_ops.sum, x, axis, keepdims, dtype, "sum")


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    """The product over `axis`, accumulated in the standard's dtype unless `dtype` is given."""
    def op(t, dim, keepdim):
        if dim is None or isinstance(dim, numbers.Integral):
            return _ops.prod(t, dim, keepdim) if dim is not None else _ops.prod(t)
        out = t
        for d in sorted((a % t.ndim for a in dim), reverse=True):
            out = _ops.prod(out, d, keepdim)
        return out
    return _reduce_cast(op, x, axis, keepdims, dtype, "prod")


def mean(x, /, *, axis=None, keepdims=False):
    """The arithmetic mean over `axis` (integers average as float64, NumPy's rule)."""
    x = x if x.dtype.kind == "f" else x.astype(DEFAULT_FLOAT)
    return _over(lambda t, d, k: _ops.mean(t, dim=d, keepdim=k), x, axis, keepdims)


def _correction(correction, ddof):
    return ddof if ddof is not None else correction


def var(x, /, *, axis=None, correction=0.0, keepdims=False, ddof=None):
    """Variance with `correction` (the standard's; NumPy's `ddof=` too) degrees of freedom removed, default 0."""
    c = _correction(correction, ddof)
    return _over(lambda t, d, k: _ops.var(t, dim=d, keepdim=k, correction=c), x, axis, keepdims)


def std(x, /, *, axis=None, correction=0.0, keepdims=False, ddof=None):
    """The standard deviation with `correction` (or NumPy's `ddof=`) degrees of freedom removed, default 0."""
    c = _correction(correction, ddof)
    return _over(lambda t, d, k: _ops.std(t, dim=d, keepdim=k, correction=c), x, axis, keepdims)


def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """The largest value over `axis` (gradient split evenly over ties)."""
    return _over(lambda t, d, k: _ops.amax(t, dim=d, keepdim=k), x, axis, keepdims)


def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """The smallest value over `axis` (gradient split evenly over ties)."""
    return _over(lambda t, d, k: _ops.amin(t, dim=d, keepdim=k), x, axis, keepdims)


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """Whether every element over `axis` is true (bool; PyTorch keeps uint8 for uint8 input)."""
    return _over(lambda t, d, k: _ops.all(t, dim=d, keepdim=k), x, axis, keepdims).astype(bool_)


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    """Whether any element over `axis` is true."""
    return _over(lambda t, d, k: _ops.any(t, dim=d, keepdim=k), x, axis, keepdims).astype(bool_)


def count_nonzero(x, /, *, axis=None, keepdims=False):
    """How many elements over `axis` are not zero (int64)."""
    return sum(x != 0, axis=axis, keepdims=keepdims)


def argmax(x, /, *, axis=None, keepdims=False):
    """The index of the first largest value over `axis` (None: of the flattened array)."""
    out = _ops.argmax(x, dim=axis, keepdim=keepdims and axis is not None)
    return out.reshape((1,) * x.ndim) if keepdims and axis is None else out


def argmin(x, /, *, axis=None, keepdims=False):
    """The index of the first smallest value over `axis` (None: of the flattened array)."""
    out = _ops.argmin(x, dim=axis, keepdim=keepdims and axis is not None)
    return out.reshape((1,) * x.ndim) if keepdims and axis is None else out


def _cumulative(op, identity, x, axis, dtype, include_initial, name):
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis is required for an array of more than one dimension; got shape "
                             f"{x.shape}")
        axis = 0
    dt = _accumulator(x, dtype, name)
    t = x.astype(dt)
    if x.ndim == 0:
        raise ValueError(f"{name}: a 0-d array has no axis to accumulate along")
    out = op(t, axis) if t.shape[axis] else t
    out = out if out.dtype == dt else out.astype(dt)
    if include_initial:
        shape = list(t.shape)
        shape[axis] = 1
        out = _ops.cat([_f.full(tuple(shape), identity, dtype=dt, device=x.device), out], dim=axis)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running sums along `axis`, with a leading 0 when include_initial=True."""
    return _cumulative(_ops.cumsum, 0, x, axis, dtype, include_initial, "cumulative_sum")


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running products along `axis`, with a leading 1 when include_initial=True."""
    return _cumulative(_ops.cumprod, 1, x, axis, dtype, include_initial, "cumulative_prod")


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None):
    """The n-th forward difference along `axis`, with optional arrays joined before and after (n=0: x itself,
    without them, as NumPy and PyTorch)."""
    if n < 0:
        raise ValueError(f"diff: n must be non-negative; got {n}")
    if n == 0:
        return x
    parts = [p for p in (prepend, x, append) if p is not None]
    out = _ops.cat(parts, dim=axis) if len(parts) > 1 else x
    for _ in range(n):
        m = out.shape[axis]
        out = _ops.narrow(out, axis, 1, m - 1) - _ops.narrow(out, axis, 0, m - 1)
    return out


__all__ = ["sum", "prod", "mean", "var", "std", "max", "min", "all", "any", "count_nonzero", "argmax", "argmin",
           "cumulative_sum", "cumulative_prod", "diff"]
