"""Movement ops: reshape, permute, broadcast, indexing and its adjoint, concatenate, unbind, pad."""
import numbers

import numpy as np

from ..autograd import Function
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .util import broadcast_shapes, export, normalize_axis, unbroadcast

__all__ = ["BroadcastTo", "Concatenate", "GetItem", "IndexAdd", "Pad", "Permute", "Reshape", "Unbind", "broadcast_to",
           "concatenate", "expand", "flatten", "getitem", "index_add", "index_parts", "is_basic", "pad", "permute", "reshape", "squeeze", "stack",
           "transpose", "unbind", "unsqueeze"]


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


class IndexAdd(Function):
    """zeros(shape) with v added at index; the adjoint of GetItem, so d/dv = g[index]."""

    @staticmethod
    def forward(ctx, v, shape, index):
        ctx.index = index
        return v._backend.index_add(shape, index, v._data, v.dtype)

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, index=ctx.index), None, None


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


class Pad(Function):
    """x padded with a constant; the gradient is the interior slice."""

    @staticmethod
    def forward(ctx, x, pad_width, value):
        ctx.slices = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        return x._backend.pad(x._data, pad_width, value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.slices], None, None


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
        return stack(grads, axis=ctx.axis), None


def is_basic(index):
    """Whether a normalised index is basic (ints, slices, None, Ellipsis): NumPy and PyTorch make views."""
    for p in index:
        if not (p is None or p is Ellipsis or type(p) is slice or type(p) is int):
            return False
    return True


@export()
def unbind(input, dim=0):  # noqa: A002  (PyTorch's argument name)
    """The slices of input along dim, as a tuple of views (which may not be changed in place while recording)."""
    d = normalize_axis(dim, input.ndim, "unbind", input.shape)[0] if input.ndim else None
    if d is None:
        raise RuntimeValueError("unbind: dimension specified as 0 but tensor has no dimensions")
    if input.shape[d] == 0:
        return ()
    outs = Unbind.apply(input, axis=d)
    return outs if isinstance(outs, tuple) else (outs,)


def _shape_arg(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for n in shape:
        if isinstance(n, Tensor):
            n = int(n)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: shape entries must be ints; got {shape!r}")
        out.append(int(n))
    return tuple(out)


@export()
def reshape(x, *shape):
    """x with a new shape (ints or one tuple; one -1 is inferred)."""
    shape = _shape_arg("reshape", shape)
    size = x.numel()
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"reshape: only one -1 and no other negative sizes allowed; got {shape}")
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


@export()
def permute(x, *axes):
    """x with its axes reordered."""
    axes = _shape_arg("permute", axes)
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
        raise ValueError(f"permute: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    axes = tuple(a % x.ndim for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, axes=axes)


@export()
def transpose(x, dim0, dim1):
    """x with axes dim0 and dim1 swapped (PyTorch's transpose)."""
    a, b = (normalize_axis(d, x.ndim, "transpose", x.shape)[0] for d in (dim0, dim1))
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, *axes)


@export()
def flatten(x, start_dim=0, end_dim=-1):
    """x with axes start_dim..end_dim merged into one."""
    if x.ndim == 0:
        return x.reshape(1)
    s, e = (normalize_axis(d, x.ndim, "flatten", x.shape)[0] for d in (start_dim, end_dim))
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


@export()
def unsqueeze(x, axis):
    """x with a new axis of size 1 at `axis` (in -ndim-1 .. ndim)."""
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of {x.ndim} dimensions; "
                         f"got shape {x.shape}")
    axis = axis % (x.ndim + 1)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


@export()
def squeeze(x, axis=None):
    """x without axes of size 1 (all of them, or those named; naming an axis whose size is not 1 raises)."""
    if axis is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    axes = normalize_axis(axis, x.ndim, "squeeze", x.shape)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1; got shape {x.shape}")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


@export()
def broadcast_to(x, shape):
    """x broadcast to `shape` (NumPy rules)."""
    shape = _shape_arg("broadcast_to", (shape,) if not isinstance(shape, (tuple, list)) else (tuple(shape),))
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


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
    return tuple(_index_part(p, x, op) for p in parts)


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


@export("concatenate", "cat", method=False)
def concatenate(tensors, axis=0, *, dim=None):
    """Tensors joined along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("concatenate: every element must be a Tensor")
    axis = dim if dim is not None else axis
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    ax = normalize_axis(axis, first.ndim, "concatenate", first.shape)[0]
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != ax):
            raise ValueError(f"concatenate: all tensors must have the same shape except along axis {ax}; "
                             f"got {first.shape} and {t.shape}")
    dt = np.result_type(*[t.dtype for t in tensors])
    tensors = [t if t.dtype == dt else t.astype(dt) for t in tensors]
    return Concatenate.apply(*tensors, axis=ax)


def expand(x, *sizes):
    """x broadcast to `sizes` (ints or one tuple), PyTorch's expand: -1 keeps the size of that dimension, new
    leading dimensions are prepended (and may not be -1)."""
    if not sizes:
        raise TypeError("expand: missing the sizes (for a 0-d tensor, pass an empty tuple: expand(()))")
    sizes = _shape_arg("expand", sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's dimensions "
                         f"({x.ndim}); got sizes {sizes} for shape {x.shape}")
    shape = []
    for i, n in enumerate(sizes):
        if n == -1:
            if i < lead:
                raise ValueError(f"expand: -1 is not allowed for a new leading dimension; got sizes {sizes} for "
                                 f"shape {x.shape}")
            n = x.shape[i - lead]
        elif n < 0 or (i >= lead and x.shape[i - lead] not in (1, n)):
            existing = f"the existing size ({x.shape[i - lead]})" if i >= lead else "a size >= 0"
            raise ValueError(f"expand: the expanded size of the tensor ({n}) must match {existing} at non-singleton "
                             f"dimension {i}; target sizes {sizes}, tensor sizes {x.shape}")
        shape.append(n)
    return broadcast_to(x, tuple(shape))


@export(method=False)
def stack(tensors, axis=0, *, dim=None):
    """Tensors of one shape joined along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    axis = dim if dim is not None else axis
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ValueError(f"stack: all tensors must have the same shape; got {shape} and {t.shape}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


@export(method=False)
def pad(x, pad_width, value=0):
    """x padded with a constant (NumPy's pad_width: an int, (before, after) or one pair per axis)."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative; got {pad_width!r}")
    widths = tuple((int(b), int(a)) for b, a in widths)
    return Pad.apply(x, pad_width=widths, value=value)
