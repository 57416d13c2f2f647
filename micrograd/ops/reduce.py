"""Reductions with PyTorch's signatures and gradients: sum, mean, var/std (unbiased by default), max/min (a value,
or (values, indices) along a dim), amax/amin, argmax/argmin, all/any, logsumexp, and the row kernels softmax and
log_softmax.

`dim` and `keepdim` are PyTorch's words; NumPy's `axis` and `keepdims` are accepted too. A `dim` of None or
() reduces every dimension, as in PyTorch.
"""
import builtins
import warnings

from .. import dtypes, return_types
from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeTypeError, RuntimeValueError
from ..tensor import Tensor
from .movement import BroadcastTo, Reshape
from .util import axis_args, export, keepdims_shape, normalize_axis, recorded_backward

__all__ = ["Amax", "ExtremumDim", "LogSoftmax", "LogSumExp", "Softmax", "StdFromVar", "Sum", "all", "amax", "amin",
           "any", "argmax", "argmin", "log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "std_mean",
           "sum", "var", "var_mean"]


class Sum(Function):
    """sum(x, axes); d/dx = 1 broadcast back over the reduced axes."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x._data.shape, axes, keepdims
        return x._backend.sum(x._data, axes, keepdims)

    @staticmethod
    def backward(ctx, g):
        # The shapes are known to fit: Reshape/BroadcastTo directly, without reshape()'s checks (hot path).
        if not ctx.keepdims:
            shape = keepdims_shape(ctx.shape, ctx.axes)
            if shape != g._data.shape:
                g = Reshape.apply(g, shape=shape)
        return g if g._data.shape == ctx.shape else BroadcastTo.apply(g, shape=ctx.shape)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Sum.apply(t, axes=fw.axes(ctx, ctx.axes), keepdims=ctx.keepdims)


class Amax(Function):
    """max or min over axes (amax/amin, and max()/min() of every element); the gradient is split evenly over the
    elements that attain the extremum, as PyTorch splits it."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdims, mode):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        return getattr(x._backend, mode)(x._data, axes, keepdims)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        y = ctx.output()
        if not ctx.keepdims:
            shape = keepdims_shape(x.shape, ctx.axes)
            g, y = g.reshape(shape), y.reshape(shape)
        hit = (x == y.detach()).astype(g.dtype)  # a constant: the split has no derivative of its own
        return g * hit / hit.sum(ctx.axes, keepdim=True), None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x, y = ctx.primals[0], ctx.outs[0]
        if not ctx.keepdims:
            y = y.reshape(keepdims_shape(x.shape, ctx.axes))
        hit = (x == y).astype(t.dtype)  # the tangent is the mean of the tied elements' tangents, as PyTorch's
        return (Sum.apply(t * hit, axes=fw.axes(ctx, ctx.axes), keepdims=ctx.keepdims)
            / Sum.apply(hit, axes=ctx.axes, keepdims=ctx.keepdims))


class ExtremumDim(Function):
    """(values, indices) of the max or min along one axis; the gradient goes to the element the index names (the
    first extremum, as PyTorch picks it)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, mode):
        b = x._backend
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        idx = (b.argmax if mode == "max" else b.argmin)(x._data, axis)
        values = getattr(b, mode)(x._data, (axis,), keepdim)
        if keepdim:
            idx = b.reshape(idx, keepdims_shape(x.shape, (axis,)))
        ctx.idx = idx
        return values, idx

    @staticmethod
    def backward(ctx, g, _g_indices):
        b = g._backend
        axis, shape = ctx.axis, ctx.shape
        idx = ctx.idx if ctx.keepdim else b.reshape(ctx.idx, keepdims_shape(shape, (axis,)))
        if not ctx.keepdim:
            g = g.reshape(keepdims_shape(shape, (axis,)))
        # the positions along `axis` of each kept element, as an advanced index into the input
        index = []
        for k, n in enumerate(shape):
            if k == axis:
                index.append(idx)
            else:
                index.append(b.reshape(b.arange(0, n, 1, idx.dtype), tuple(n if j == k else 1
                                                                             for j in range(len(shape)))))
        return index_add(shape, tuple(index), g), None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        b, axis, shape = t._backend, ctx.axis, ctx.shape
        idx = ctx.idx if ctx.keepdim else b.reshape(ctx.idx, keepdims_shape(shape, (axis,)))
        index = tuple(idx if k == axis else b.reshape(b.arange(0, n, 1, idx.dtype),
                                                      tuple(n if j == k else 1 for j in range(len(shape))))
                      for k, n in enumerate(shape))
        values = fw.batch_first(ctx, fw.batch_last(ctx, t)[fw.index_batched(ctx, index)])
        return fw.batch_first(ctx, values) if False else values.reshape(fw.shaped(ctx, ctx.outs[0].shape)), None


class StdFromVar(Function):
    """sqrt(var): the square root with PyTorch's std gradient, 0 where the deviation is 0 (not inf)."""

    saves_output = True

    @staticmethod
    def forward(ctx, v):
        return v._backend.sqrt(v._data)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        zero = (y == 0).astype(g.dtype)
        return g / (2 * y + zero) * (1 - zero)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        y = ctx.outs[0]
        zero = (y == 0).astype(t.dtype)
        return t / (2 * y + zero) * (1 - zero)


class LogSumExp(Function):
    """log(sum(exp(x), axes)); d/dx = softmax(x) over the axes. Fused for stability."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        return x._backend.logsumexp(x._data, axes, keepdims)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        out = ctx.output()
        if not ctx.keepdims:
            shape = keepdims_shape(x.shape, ctx.axes)
            g, out = g.reshape(shape), out.reshape(shape)
        return g * (x - out).exp(), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x, out = ctx.primals[0], ctx.outs[0]
        if not ctx.keepdims:
            out = out.reshape(keepdims_shape(x.shape, ctx.axes))
        return Sum.apply(t * (x - out).exp(), axes=fw.axes(ctx, ctx.axes), keepdims=ctx.keepdims)


class Softmax(Function):
    """y = softmax(x) along an axis; dx = y (g - sum(g y)). Fused for stability."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return x._backend.softmax(x._data, axis)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        if recorded_backward(g, y) or not y.ndim:  # create_graph, tangents, 0-d: recorded ops
            return y * (g - (g * y).sum(ctx.axis, keepdim=True)), None
        be = y._backend  # the first derivative: one fused pass where the backend has one
        if g.dtype != y.dtype or g.shape != y.shape:
            g = g.to(y.dtype).expand(y.shape)
        return Tensor._make(be.softmax_backward(y._data, g._data, ctx.axis), be, False, None, 0), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        y = ctx.outs[0]
        axes = (fw.axis(ctx, ctx.axis),) if y.ndim else ()
        return y * (t - Sum.apply(t * y, axes=axes, keepdims=True))


class LogSoftmax(Function):
    """y = log_softmax(x) along an axis; dx = g - exp(y) sum(g). Fused for stability."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return x._backend.log_softmax(x._data, axis)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g - y.exp() * g.sum(ctx.axis, keepdim=True), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        y = ctx.outs[0]
        axes = (fw.axis(ctx, ctx.axis),) if y.ndim else ()
        return t - Sum.apply(y.exp() * t, axes=axes, keepdims=True)


def _axes(op, x, dim, axis, keepdim, keepdims):
    """PyTorch's dim (None or () for all) and keepdim, or NumPy's axis and keepdims, as (sorted axes, keep)."""
    if dim is None and axis is None and keepdims is None:  # all axes: the common case
        return tuple(range(x._data.ndim)), bool(keepdim)
    dim, keep = axis_args(op, axis, keepdims, dim, keepdim if keepdims is None else None)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return normalize_axis(dim, x.ndim, op, x.shape), keep


def _one_dim(op, x, dim):
    """A single dim (PyTorch's int argument) as a non-negative int; 0-d tensors take 0 and -1."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    n, top = x.ndim, builtins.max(x.ndim, 1)  # (this module's max is the op)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {dim}) "
                         f"({op}: shape {x.shape})")
    return dim % n if n else 0


def _dtype_arg(op, x, dtype):
    return x if dtype is None else x.to(dtypes.as_dtype(dtype, op))


@export()
def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002  (PyTorch's names)
    """Sum over `dim` (None or (): every dimension). Integer and bool tensors sum to int64, as in PyTorch."""
    x = _dtype_arg("sum", input, dtype)
    axes, keep = _axes("sum", x, dim, axis, keepdim, keepdims)
    if x._data.dtype.kind in "biu" and x._data.dtype != dtypes.int64:
        x = x.to(dtypes.int64)
    return Sum.apply(x, axes=axes, keepdims=keep)


@export()
def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Mean over `dim`; a floating tensor (or a dtype= to compute in) as PyTorch requires."""
    x = _dtype_arg("mean", input, dtype)
    if x.dtype.kind != "f":
        raise RuntimeValueError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                                f"or complex dtype. Got: {dtypes.short_name(x.dtype)}")
    axes, keep = _axes("mean", x, dim, axis, keepdim, keepdims)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return Sum.apply(x, axes=axes, keepdims=keep) / count


def _correction(op, dim, unbiased, correction, ddof):
    """var/std's forms: (dim, correction) from var(dim, unbiased, keepdim), var(unbiased), correction= or ddof=."""
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    given = [v for v in (unbiased, correction, ddof) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{op}(): give one of unbiased, correction and ddof")
    if unbiased is not None:
        return dim, 1 if unbiased else 0
    c = correction if correction is not None else ddof
    return dim, 1 if c is None else c


def _var(op, input, dim, unbiased, keepdim, correction, axis, keepdims, ddof):  # noqa: A002
    dim, c = _correction(op, dim, unbiased, correction, ddof)
    if input.dtype.kind != "f":
        raise RuntimeValueError(f"{op}(): could not infer output dtype. Input dtype must be either a floating point "
                                f"or complex dtype. Got: {dtypes.short_name(input.dtype)}")
    axes, keep = _axes(op, input, dim, axis, keepdim, keepdims)
    count = 1
    for a in axes:
        count *= input.shape[a]
    if count - c <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      f"factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    m = Sum.apply(input, axes=axes, keepdims=True) / count  # empty: NaN, as PyTorch
    centred = input - m
    v = Sum.apply(centred * centred, axes=axes, keepdims=keep) / builtins.max(count - c, 0)
    return v, (m if keep else m.reshape(tuple(n for i, n in enumerate(input.shape) if i not in axes)))


@export()
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None,  # noqa: A002
        ddof=None):
    """Variance over `dim` with Bessel's correction by default (correction=1; unbiased=False or correction=0 for
    the population variance), as PyTorch."""
    return _var("var", input, dim, unbiased, keepdim, correction, axis, keepdims, ddof)[0]


@export()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None,  # noqa: A002
        ddof=None):
    """Standard deviation over `dim` (correction=1 by default, as var); its gradient is 0 where it is 0."""
    return StdFromVar.apply(_var("std", input, dim, unbiased, keepdim, correction, axis, keepdims, ddof)[0])


@export(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(var, mean) over `dim`."""
    return _var("var_mean", input, dim, unbiased, keepdim, correction, None, None, None)


@export(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(std, mean) over `dim`."""
    v, m = _var("std_mean", input, dim, unbiased, keepdim, correction, None, None, None)
    return StdFromVar.apply(v), m


def _extremum(mode, input, dim, keepdim, axis, keepdims, other):  # noqa: A002
    if isinstance(dim, Tensor) or other is not None:  # max(input, other): the elementwise maximum, as PyTorch
        from .arithmetic import maximum, minimum
        return (maximum if mode == "max" else minimum)(input, dim if other is None else other)
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        if input._data.size == 0:
            raise RuntimeValueError(f"{mode}(): Expected reduction dim to be specified for input.numel() == 0. "
                                    f"Specify the reduction dim with the 'dim' argument.")
        return Amax.apply(input, axes=tuple(range(input.ndim)), keepdims=False, mode=mode)
    d = _one_dim(mode, input, dim)
    if input.ndim == 0:  # a 0-d tensor's max along dim 0 is its value, at index 0
        from .shape import clone
        zero = Tensor._make(input._backend.zeros((), dtypes.int64), input._backend, False, None, 0)
        return getattr(return_types, mode)(clone(input), zero)
    if input.shape[d] == 0:
        raise IndexError(f"{mode}(): Expected reduction dim {d} to have non-zero size.")
    values, indices = ExtremumDim.apply(input, axis=d, keepdim=bool(keepdim), mode=mode)
    return getattr(return_types, mode)(values, indices)


@export()
def max(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):  # noqa: A002
    """max(): the largest element (its gradient split evenly over ties); max(dim, keepdim=False): the named
    tuple (values, indices) along dim; max(other): the elementwise maximum, as PyTorch."""
    return _extremum("max", input, dim, keepdim, axis, keepdims, other)


@export()
def min(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):  # noqa: A002
    """min(): the smallest element; min(dim, keepdim=False): (values, indices); min(other): the minimum."""
    return _extremum("min", input, dim, keepdim, axis, keepdims, other)


def _amax(mode, input, dim, keepdim, axis, keepdims):  # noqa: A002
    dim = () if dim is None and axis is None else dim  # PyTorch's default dim=(): every dimension
    axes, keep = _axes(f"a{mode}", input, dim, axis, keepdim, keepdims)
    if builtins.any(input.shape[a] == 0 for a in axes):
        raise IndexError(f"a{mode}(): Expected reduction dim {axes[0]} to have non-zero size.")
    return Amax.apply(input, axes=axes, keepdims=keep, mode=mode)


@export()
def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """The maximum over `dim` (() for all); the gradient is split evenly over the maxima."""
    return _amax("max", input, dim, keepdim, axis, keepdims)


@export()
def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """The minimum over `dim` (() for all); the gradient is split evenly over the minima."""
    return _amax("min", input, dim, keepdim, axis, keepdims)


def _arg(op, input, dim, keepdim, axis, keepdims):  # noqa: A002
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    b = input._backend
    fn = b.argmax if op == "argmax" else b.argmin
    if dim is None:
        if input._data.size == 0:
            raise RuntimeValueError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = fn(input._data, None)
        if keepdim:
            out = b.reshape(out, (1,) * input.ndim)
    else:
        d = _one_dim(op, input, dim)
        if input.ndim and input.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
        out = fn(input._data, d) if input.ndim else b.zeros((), dtypes.int64)
        if keepdim and input.ndim:
            out = b.reshape(out, keepdims_shape(input.shape, (d,)))
    return Tensor._make(out, b, False, None, 0)


@export()
def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the first maximum along `dim` (None: in the flattened tensor); no gradient."""
    return _arg("argmax", input, dim, keepdim, axis, keepdims)


@export()
def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the first minimum along `dim`; no gradient."""
    return _arg("argmin", input, dim, keepdim, axis, keepdims)


def _logical(op, input, dim, keepdim, axis, keepdims):  # noqa: A002
    axes, keep = _axes(op, input, dim, axis, keepdim, keepdims)
    b = input._backend
    nonzero = input._data if input.dtype == dtypes.bool_ else b.compare("ne", input._data, 0)
    if op == "all":  # all(x) = not any(not x)
        nonzero = b.bitwise_not(nonzero)
    found = b.compare("ne", b.sum(nonzero, axes, keep), 0)
    out = b.bitwise_not(found) if op == "all" else found
    if input.dtype == dtypes.uint8:  # PyTorch keeps uint8 for uint8 input
        out = b.astype(out, dtypes.uint8)
    return Tensor._make(out, b, False, None, 0)


@export()
def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Whether every element along `dim` is nonzero: a bool tensor (0-d for all dims), as PyTorch."""
    return _logical("all", input, dim, keepdim, axis, keepdims)


@export()
def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Whether some element along `dim` is nonzero: a bool tensor."""
    return _logical("any", input, dim, keepdim, axis, keepdims)


@export()
def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """log(sum(exp(x))) over `dim`, computed stably; integer input is computed in the default float."""
    x = input if input.dtype.kind == "f" else input.to(dtypes.get_default_dtype())
    axes, keep = _axes("logsumexp", x, dim, axis, keepdim, keepdims)
    return LogSumExp.apply(x, axes=axes, keepdims=keep)


def _row(op, fn, input, dim, dtype, axis):  # noqa: A002
    x = _dtype_arg(op, input, dtype)
    if x.dtype.kind != "f":
        raise RuntimeTypeError(f"\"{op}_lastdim_kernel_impl\" not implemented for "
                               f"'{dtypes.short_name(x.dtype)}' ({op}: pass dtype= a floating type)")
    d = _one_dim(op, x, axis if axis is not None else -1 if dim is None else dim)
    if x._data.size == 0:
        return x * 0
    return fn.apply(x, axis=d)


@export()
def softmax(input, dim=None, dtype=None, *, axis=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along `dim` (the last by default), computed in `dtype` if given."""
    return _row("softmax", Softmax, input, dim, dtype, axis)


@export()
def log_softmax(input, dim=None, dtype=None, *, axis=None):  # noqa: A002
    """x - logsumexp(x) along `dim` (the last by default), computed in `dtype` if given."""
    return _row("log_softmax", LogSoftmax, input, dim, dtype, axis)


from .movement import index_add  # noqa: E402  (movement imports nothing from here; kept last for clarity)
