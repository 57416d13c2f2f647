"""Reductions: sum, max/min (values), mean, var, argmax/argmin, and the row kernels softmax & co."""
from ..autograd import Function
from ..tensor import Tensor
from .movement import BroadcastTo, Reshape
from .util import axis_args, export, keepdims_shape, normalize_axis, single_axis

__all__ = ["Extremum", "LogSoftmax", "LogSumExp", "Softmax", "Sum", "argmax", "argmin", "log_softmax", "logsumexp",
           "max", "mean", "min", "softmax", "sum", "var"]


class Sum(Function):
    """sum(x, axes); d/dx = 1 broadcast back over the reduced axes."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x._backend.sum(x._data, axes, keepdims)

    @staticmethod
    def backward(ctx, g):
        # The shapes are known to fit: Reshape/BroadcastTo directly, without reshape()'s checks (hot path).
        if not ctx.keepdims:
            shape = keepdims_shape(ctx.shape, ctx.axes)
            if shape != g._data.shape:
                g = Reshape.apply(g, shape=shape)
        return g if g._data.shape == ctx.shape else BroadcastTo.apply(g, shape=ctx.shape)


class Extremum(Function):
    """max or min over axes; the gradient goes to the first extremal element (the same on every backend)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, mode):
        b = x._backend
        if x._data.size == 0:
            raise ValueError(f"{mode}: cannot reduce an empty tensor; got shape {x.shape}")
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        # Move the reduced axes last and flatten them so one argmax finds the first extremum.
        kept = [i for i in range(x.ndim) if i not in axes]
        moved = b.reshape(b.transpose(x._data, tuple(kept) + axes), tuple(x.shape[i] for i in kept) + (-1,))
        idx = (b.argmax if mode == "max" else b.argmin)(moved, len(kept))
        ctx.idx, ctx.kept = idx, kept
        out = getattr(b, mode)(x._data, axes, keepdims)
        return out

    @staticmethod
    def backward(ctx, g):
        b = g._backend
        kept = ctx.kept
        shape = ctx.shape
        red = 1
        for i in ctx.axes:
            red *= shape[i]
        flat_g = g.reshape(-1)
        flat_idx = b.reshape(ctx.idx, (-1,))
        rows = b.arange(0, flat_idx.shape[0], 1, flat_idx.dtype)
        positions = Tensor._make(b.add(b.mul(rows, red), flat_idx), b, False, None, 0)
        n_kept = 1
        for i in kept:
            n_kept *= shape[i]
        moved = index_add((n_kept * red,), positions, flat_g)
        moved = moved.reshape(tuple(shape[i] for i in kept) + tuple(shape[i] for i in ctx.axes))
        inverse = [0] * len(shape)
        for pos, axis in enumerate(list(kept) + list(ctx.axes)):
            inverse[axis] = pos
        return moved.permute(*inverse), None, None, None


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
        return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True)), None


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
        return g - y.exp() * g.sum(axis=ctx.axis, keepdims=True), None


def _reduce_args(op, x, axis, keepdims, dim, keepdim):
    if axis is None and dim is None and keepdim is None:  # all axes: the common case
        return tuple(range(x._data.ndim)), bool(keepdims)
    axis, keepdims = axis_args(op, axis, keepdims, dim, keepdim)
    return normalize_axis(axis, x.ndim, op, x.shape), keepdims


@export()
def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Sum over `axis` (None: all; `()`: none)."""
    axes, keepdims = _reduce_args("sum", x, axis, keepdims, dim, keepdim)
    return Sum.apply(x, axes=axes, keepdims=keepdims)


@export()
def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over `axis`."""
    axes, keepdims = _reduce_args("mean", x, axis, keepdims, dim, keepdim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    if x.dtype.kind != "f":
        x = x.astype("float64")
    return Sum.apply(x, axes=axes, keepdims=keepdims) / count


@export()
def var(x, axis=None, keepdims=False, ddof=0, *, dim=None, keepdim=None, correction=None):
    """Variance over `axis` with `ddof` delta degrees of freedom (NumPy's default 0)."""
    if correction is not None:
        ddof = correction
    axes, keepdims = _reduce_args("var", x, axis, keepdims, dim, keepdim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} elements; got shape {x.shape}")
    centred = x - mean(x, axes, keepdims=True)
    return Sum.apply(centred * centred, axes=axes, keepdims=keepdims) / (count - ddof)


@export()
def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Maximum values over `axis`; gradient to the first maximal element."""
    axes, keepdims = _reduce_args("max", x, axis, keepdims, dim, keepdim)
    return Extremum.apply(x, axes=axes, keepdims=keepdims, mode="max")


@export()
def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Minimum values over `axis`; gradient to the first minimal element."""
    axes, keepdims = _reduce_args("min", x, axis, keepdims, dim, keepdim)
    return Extremum.apply(x, axes=axes, keepdims=keepdims, mode="min")


def _arg(op, x, axis, keepdims, dim, keepdim):
    axis, keepdims = axis_args(op, axis, keepdims, dim, keepdim)
    b = x._backend
    if x._data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor; got shape {x.shape}")
    fn = b.argmax if op == "argmax" else b.argmin
    if axis is None:
        out = fn(x._data, None)
        if keepdims:
            out = b.reshape(out, (1,) * x.ndim)
    else:
        ax = single_axis(axis, x.ndim, op, x.shape)
        out = fn(x._data, ax) if x.ndim else b.zeros((), "int64")
        if keepdims and x.ndim:
            out = b.reshape(out, keepdims_shape(x.shape, (ax,)))
    return Tensor._make(out, b, False, None, 0)


@export()
def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the first maximum along `axis` (None: in the flattened tensor); no gradient."""
    return _arg("argmax", x, axis, keepdims, dim, keepdim)


@export()
def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the first minimum along `axis`; no gradient."""
    return _arg("argmin", x, axis, keepdims, dim, keepdim)


@export()
def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log(sum(exp(x))) over `axis`, computed stably."""
    axes, keepdims = _reduce_args("logsumexp", x, axis, keepdims, dim, keepdim)
    _need_float("logsumexp", x)
    return LogSumExp.apply(x, axes=axes, keepdims=keepdims)


@export()
def softmax(x, axis=-1, *, dim=None):
    """exp(x) / sum(exp(x)) along `axis`."""
    _need_float("softmax", x)
    ax = single_axis(dim if dim is not None else axis, x.ndim, "softmax", x.shape)
    return Softmax.apply(x, axis=ax)


@export()
def log_softmax(x, axis=-1, *, dim=None):
    """x - logsumexp(x) along `axis`."""
    _need_float("log_softmax", x)
    ax = single_axis(dim if dim is not None else axis, x.ndim, "log_softmax", x.shape)
    return LogSoftmax.apply(x, axis=ax)


def _need_float(op, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor; got {x.dtype.name}")


from .movement import index_add  # noqa: E402  (movement imports nothing from here; kept last for clarity)
