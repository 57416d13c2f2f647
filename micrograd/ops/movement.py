"""The Functions that move data without arithmetic: reshape, permute, broadcast, indexing and its adjoint,
concatenation, splitting (unbind, split, diagonal), padding and copying. The public functions that apply them, with
PyTorch's signatures, are in shape.py."""
import numbers

import numpy as np

from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .util import broadcast_shapes, export, normalize_axis, unbroadcast

__all__ = ["Alias", "BroadcastTo", "Clone", "Concatenate", "Diagonal", "DiagonalScatter", "GetItem", "IndexAdd", "Pad",
           "Permute", "Reshape", "Split", "Unbind", "getitem", "index_add", "index_parts", "is_basic"]


class Reshape(Function):
    """x with a new shape; the gradient is reshaped back. A view of x when the backend's reshape is one."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        b = x._backend
        out = b.reshape(x._data, shape)
        ctx.view = x._data.flags.c_contiguous or b.shares_memory(out, x._data)  # contiguous: always a view
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Reshape.apply(t, shape=fw.shaped(ctx, ctx.outs[0].shape))


class Permute(Function):
    """x with its axes permuted (a view); the gradient is permuted back."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes, ctx.view = axes, True
        return x._backend.transpose(x._data, axes)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return g.permute(*inverse), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        k, n = fw.nb(ctx), len(ctx.axes)
        return Permute.apply(t, axes=tuple(range(k)) + tuple(a % n + k for a in ctx.axes))


class BroadcastTo(Function):
    """x broadcast to a shape (a view whose elements may alias); the gradient is summed over the broadcast axes."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape, ctx.view = x.shape, True
        return x._backend.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return fw.fit(ctx, t, ctx.outs[0])


class GetItem(Function):
    """x[index]; the gradient scatter-adds into zeros of x's shape (repeated indices accumulate). Basic indexing
    (ints, slices, None, Ellipsis) makes a view of x."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        ctx.view = is_basic(index)
        return x._backend.getitem(x._data, index)

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, shape=ctx.shape, index=ctx.index), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return fw.batch_first(ctx, GetItem.apply(fw.batch_last(ctx, t), index=fw.index_batched(ctx, ctx.index)))


class IndexAdd(Function):
    """zeros(shape) with v added at index; the adjoint of GetItem, so d/dv = g[index]."""

    @staticmethod
    def forward(ctx, v, shape, index):
        ctx.index = index
        return v._backend.index_add(shape, index, v._data, v.dtype)

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, index=ctx.index), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        shape = tuple(ctx.outs[0].shape) + tuple(ctx.batch)
        return fw.batch_first(ctx, IndexAdd.apply(fw.batch_last(ctx, t), shape=shape,
                                                  index=fw.index_batched(ctx, ctx.index)))


class Concatenate(Function):
    """Tensors joined along an axis; each gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return xs[0]._backend.concatenate([x._data for x in xs], axis)

    @staticmethod
    def backward(ctx, g):
        out, start = [], 0
        lead = (slice(None),) * ctx.axis
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            out.append(g[lead + (slice(start, start + size),)] if need else None)
            start += size
        return tuple(out)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, *ts):
        ts = [fw.zeros(ctx, x) if t is None else t for t, x in zip(ts, ctx.primals)]
        return Concatenate.apply(*ts, axis=fw.axis(ctx, ctx.axis))


class Pad(Function):
    """x padded with a constant; the gradient is the interior slice."""

    @staticmethod
    def forward(ctx, x, pad_width, value):
        ctx.slices = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        ctx.pad_width = pad_width
        return x._backend.pad(x._data, pad_width, value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.slices], None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Pad.apply(t, pad_width=((0, 0),) * fw.nb(ctx) + tuple(ctx.pad_width), value=0)


class Unbind(Function):
    """The slices of x along `axis` as separate tensors; the gradient stacks the slices' gradients.

    One op for all T slices: indexing each slice separately would scatter T full-size gradients.
    """

    makes_view = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis, ctx.view = axis, True
        lead = (slice(None),) * axis
        return tuple(x._backend.getitem(x._data, lead + (i,)) for i in range(x.shape[axis]))

    @staticmethod
    def backward(ctx, *grads):
        shape = list(grads[0].shape)
        shape.insert(ctx.axis, 1)
        return Concatenate.apply(*(Reshape.apply(g, shape=tuple(shape)) for g in grads), axis=ctx.axis), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Unbind.apply(t, axis=fw.axis(ctx, ctx.axis))


class Split(Function):
    """Consecutive pieces of x along `axis`, of the given sizes, as views (PyTorch's split/chunk: their outputs
    may not change in place while recording); the gradient concatenates the pieces' gradients."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, axis, sizes):
        ctx.axis, ctx.view, ctx.sizes = axis, True, sizes
        lead, start, out = (slice(None),) * axis, 0, []
        for n in sizes:
            out.append(x._backend.getitem(x._data, lead + (slice(start, start + n),)))
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return Concatenate.apply(*grads, axis=ctx.axis), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Split.apply(t, axis=fw.axis(ctx, ctx.axis), sizes=ctx.sizes)


class Diagonal(Function):
    """The diagonal `offset` of the planes (axis1, axis2), as a last axis (a view); the gradient is put back on
    that diagonal of zeros (DiagonalScatter)."""

    makes_view = True

    @staticmethod
    def forward(ctx, x, offset, axis1, axis2):
        ctx.shape, ctx.args, ctx.view = x.shape, (offset, axis1, axis2), True
        return x._backend.diagonal(x._data, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, g):
        return DiagonalScatter.apply(g, shape=ctx.shape, args=ctx.args), None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        offset, axis1, axis2 = ctx.args
        n = len(ctx.shape)
        return Diagonal.apply(t, offset=offset, axis1=fw.axis(ctx, axis1 % n), axis2=fw.axis(ctx, axis2 % n))


class DiagonalScatter(Function):
    """Zeros of `shape` with v on the diagonal that `args` (offset, axis1, axis2) names: Diagonal's adjoint."""

    @staticmethod
    def forward(ctx, v, shape, args):
        ctx.args = args
        b = v._backend
        out = b.zeros(shape, v.dtype)
        b.assign_(b.diagonal(out, *args), v._data)
        return out

    @staticmethod
    def backward(ctx, g):
        offset, axis1, axis2 = ctx.args
        return Diagonal.apply(g, offset=offset, axis1=axis1, axis2=axis2), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        offset, axis1, axis2 = ctx.args
        n = ctx.outs[0].ndim
        return DiagonalScatter.apply(t, shape=fw.shaped(ctx, ctx.outs[0].shape),
                                     args=(offset, fw.axis(ctx, axis1 % n), fw.axis(ctx, axis2 % n)))


class Alias(Function):
    """x itself as a new tensor (a view of all of it), for forward_ad's make_dual and unpack_dual; d/dx = 1."""

    makes_view = True
    jvp_batched = True

    @staticmethod
    def forward(ctx, x):
        ctx.view = True
        return x._data

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


class Clone(Function):
    """A copy of x in new memory; the gradient passes through."""

    @staticmethod
    def forward(ctx, x):
        return x._backend.copy(x._data)

    @staticmethod
    def backward(ctx, g):
        return g

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return Clone.apply(t)


def is_basic(index):
    """Whether a normalised index is basic (ints, slices, None, Ellipsis): NumPy and PyTorch make views."""
    for p in index:
        if not (p is None or p is Ellipsis or type(p) is slice or type(p) is int):
            return False
    return True


def _index_part(p, x, op):
    b = x._backend
    if p is None or p is Ellipsis or isinstance(p, slice):
        return p
    if isinstance(p, Tensor):
        if p._backend is not b:
            raise ValueError(f"{op}: index tensor on backend {p.backend!r}, indexed tensor on {x.backend!r}")
        if p.dtype.kind not in "iub":
            raise IndexError(f"{op}: index tensors must be integer or bool; got {p.dtype.name}")
        return p._data
    if isinstance(p, (bool, np.bool_)):
        return p
    if isinstance(p, numbers.Integral):
        return int(p)
    if isinstance(p, range):
        p = np.arange(p.start, p.stop, p.step, dtype=np.int64)
    if isinstance(p, (list, np.ndarray)) or isinstance(p, b.array_type):
        arr = np.asarray(p) if not isinstance(p, b.array_type) else p
        if arr.dtype.kind not in "iub":
            if arr.size == 0:
                arr = arr.astype(np.int64)
            else:
                raise IndexError(f"{op}: index arrays must be integer or bool; got {arr.dtype}")
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
        return arr if isinstance(arr, b.array_type) else b.asarray(arr, arr.dtype)
    raise IndexError(f"{op}: unsupported index {p!r} of type {type(p).__name__}")


def index_parts(x, index, op):
    """A user's index as the tuple the backends take (tensors, lists and arrays as backend integer/bool arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(_index_part(p, x, op) for p in parts)
    for p in parts:
        if getattr(p, "ndim", 0) and p.dtype.kind == "b":
            _check_masks(parts, x.shape)
            break
    return parts


def _check_masks(parts, shape):
    """PyTorch's IndexError for a bool mask whose shape differs from the dims of x it covers. A mask dim of length
    0 is accepted on any dim and selects nothing, as NumPy and the Array API standard index (PyTorch raises
    there: the one place micrograd accepts what PyTorch refuses, so that micrograd.numpy keeps the standard)."""
    def width(p):
        if p is None or p is Ellipsis or isinstance(p, (bool, np.bool_)):
            return 0
        return p.ndim if getattr(p, "ndim", 0) and p.dtype.kind == "b" else 1
    total, dim = sum(width(p) for p in parts), 0
    for p in parts:
        if p is Ellipsis:
            dim += max(len(shape) - total, 0)
            continue
        if width(p) and getattr(p, "ndim", 0) and p.dtype.kind == "b":
            for k, n in enumerate(p.shape):
                if dim + k < len(shape) and n != shape[dim + k] and n != 0:
                    raise IndexError(f"The shape of the mask {list(p.shape)} at index {k} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {dim + k}")
        dim += width(p)


def getitem(x, index):
    """x[index] with NumPy semantics; integer-array gradients accumulate for repeated indices."""
    index = index_parts(x, index, "getitem")
    try:
        return GetItem.apply(x, index=index)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc}; indexing a tensor of shape {x.shape}") from None


def index_add(shape, index, values):
    """zeros(shape) with `values` added at `index` (a normalised index); differentiable in `values`."""
    index = index._data if isinstance(index, Tensor) else index
    return IndexAdd.apply(values, shape=tuple(shape), index=index if isinstance(index, tuple) else (index,))


