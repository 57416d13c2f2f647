"""Shape functions with PyTorch's signatures and view semantics: reshape/view, permute/transpose/movedim,
flatten/unflatten, (un)squeeze, expand/broadcast_to, cat/stack, unbind/split/chunk/tensor_split, narrow, select,
diagonal, clone/contiguous, and NumPy's pad.

The results of reshape (when no copy is needed), view, permute, transpose, movedim, (un)squeeze, expand, narrow,
select, diagonal, unbind, split and chunk share their input's storage and version counter, as PyTorch's views do.
"""
import numpy as np

from .. import dtypes
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .movement import (BroadcastTo, Clone, Concatenate, Diagonal, GetItem, Pad, Permute, Reshape, Split,
                       Unbind)
from .util import broadcast_shapes, export

__all__ = ["broadcast_to", "cat", "chunk", "clone", "concat", "concatenate", "contiguous", "diagonal", "expand", "expand_as",
           "flatten", "movedim", "narrow", "pad", "permute", "reshape", "reshape_as", "select", "split",
           "squeeze", "stack", "swapaxes", "t", "tensor_split", "transpose", "unbind", "unflatten", "unsqueeze",
           "view", "view_as"]


def _dim(op, x, dim, extra=0):
    """One dim in -(ndim+extra) .. ndim+extra-1 as a non-negative int (PyTorch's IndexError otherwise)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    top = max(x.ndim + extra, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {dim}) "
                         f"({op}: shape {x.shape})")
    return int(dim) % top


def _sizes(op, sizes):
    """Sizes given as ints or as one sequence (a torch.Size, tuple or list), as a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    out = []
    for n in sizes:
        if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
            n = n.item()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(n).__name__}")
        out.append(int(n))
    return tuple(out)


def _infer(op, x, shape):
    """`shape` with its one -1 inferred from x's size; PyTorch's errors for a size that does not fit."""
    size = x.numel()
    if shape.count(-1) > 1:
        raise RuntimeValueError(f"only one dimension can be inferred ({op}: shape {list(shape)})")
    if any(n < -1 for n in shape):
        raise RuntimeValueError(f"invalid shape dimension {min(shape)} ({op}: shape {list(shape)})")
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    if -1 in shape:
        if known == 0:
            raise RuntimeValueError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                                    f"unspecified dimension size -1 can be any value and is ambiguous ({op})")
        if size % known:
            raise RuntimeValueError(f"shape '{list(shape)}' is invalid for input of size {size} ({op}: tensor of "
                                    f"shape {x.shape})")
        return tuple(size // known if n == -1 else n for n in shape)
    if known != size:
        raise RuntimeValueError(f"shape '{list(shape)}' is invalid for input of size {size} ({op}: tensor of shape "
                                f"{x.shape})")
    return shape


@export()
def reshape(input, *shape):  # noqa: A002  (PyTorch's argument names)
    """input with a new shape (ints or one tuple; one -1 inferred): a view when the data allows, else a copy."""
    shape = _infer("reshape", input, _sizes("reshape", shape))
    return input if shape == input.shape else Reshape.apply(input, shape=shape)


@export(function=False)
def view(input, *shape):  # noqa: A002
    """input with a new shape, sharing its storage (a reshape that never copies, as PyTorch's view)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer, Tensor)):
        raise TypeError(f"view({shape[0]!r}): viewing a tensor as another dtype is not supported by micrograd")
    shape = _infer("view", input, _sizes("view", shape))
    if shape == input.shape:
        return Reshape.apply(input, shape=shape)
    out = Reshape.apply(input, shape=shape)
    if out._view is None and out.numel() > 1:
        raise RuntimeValueError(f"view size is not compatible with input tensor's size and stride (at least one "
                                f"dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
                                f"(view: shape {input.shape} -> {shape})")
    return out


@export(function=False)
def view_as(input, other):  # noqa: A002
    return view(input, other.shape)


@export(function=False)
def reshape_as(input, other):  # noqa: A002
    return reshape(input, other.shape)


@export()
def permute(input, *dims):  # noqa: A002
    """input with its dimensions reordered (a view)."""
    dims = _sizes("permute", dims)
    n = input.ndim
    if len(dims) != n:
        raise RuntimeValueError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                                f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                                f"to len(dims) = {len(dims)}")
    dims = tuple(_dim("permute", input, d) for d in dims) if n else ()
    if len(set(dims)) != n:
        raise RuntimeValueError(f"permute(): duplicate dims are not allowed. (permute: dims {dims} for shape "
                                f"{input.shape})")
    return Permute.apply(input, axes=dims)


@export()
def transpose(input, dim0, dim1):  # noqa: A002
    """input with dims dim0 and dim1 swapped (a view; a 0-d tensor takes 0 and -1)."""
    a, b = _dim("transpose", input, dim0), _dim("transpose", input, dim1)
    if input.ndim == 0:
        return Reshape.apply(input, shape=())
    axes = list(range(input.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(input, axes=tuple(axes))


@export("swapaxes", "swapdims")
def swapaxes(input, axis0, axis1):  # noqa: A002
    return transpose(input, axis0, axis1)


@export()
def t(input):  # noqa: A002
    """The transpose of a tensor of at most 2 dimensions (0-d and 1-d as they are)."""
    if input.ndim > 2:
        raise RuntimeValueError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, -1) if input.ndim == 2 else Reshape.apply(input, shape=input.shape)


@export("movedim", "moveaxis")
def movedim(input, source, destination):  # noqa: A002
    """input with dims `source` moved to positions `destination` (ints or sequences), the rest in order."""
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeValueError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                                f"contain the same number of dims as destination ({list(dst)} dims)")
    src = [_dim("movedim", input, d) for d in src]
    dst = [_dim("movedim", input, d) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeValueError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(k for k in range(input.ndim) if k not in src)
    order = [next(rest) if o is None else o for o in order]
    return Permute.apply(input, axes=tuple(order))


@export()
def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """input with dims start_dim..end_dim merged into one (a 0-d tensor becomes 1-d)."""
    if input.ndim == 0:
        return Reshape.apply(input, shape=(1,))
    s, e = _dim("flatten", input, start_dim), _dim("flatten", input, end_dim)
    if s > e:
        raise RuntimeValueError(f"flatten() has invalid args: start_dim cannot come after end_dim (flatten: "
                                f"{start_dim}, {end_dim} for shape {input.shape})")
    merged = 1
    for n in input.shape[s:e + 1]:
        merged *= n
    return reshape(input, input.shape[:s] + (merged,) + input.shape[e + 1:])


@export()
def unflatten(input, dim, sizes):  # noqa: A002
    """input with dim `dim` split into `sizes` (one -1 inferred)."""
    d = _dim("unflatten", input, dim)
    sizes = _sizes("unflatten", (sizes,))
    if not sizes:
        raise RuntimeValueError("unflatten: sizes must be non-empty")
    part = Tensor._make(input._backend.zeros((input.shape[d],), dtypes.bool_), input._backend, False, None, 0)
    sizes = _infer("unflatten", part, sizes)
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


@export()
def unsqueeze(input, dim):  # noqa: A002
    """input with a new dim of size 1 at `dim` (in -ndim-1 .. ndim), a view."""
    d = _dim("unsqueeze", input, dim, extra=1)
    return Reshape.apply(input, shape=input.shape[:d] + (1,) + input.shape[d:])


@export()
def squeeze(input, dim=None, *, axis=None):  # noqa: A002
    """input without dims of size 1: all of them, or those named (an int or a tuple); a named dim whose size is not
    1 is left as it is, as in PyTorch."""
    dim = axis if axis is not None else dim
    if dim is None:
        dims = range(input.ndim)
    else:
        named = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
        dims = {_dim("squeeze", input, d) for d in named}
        if len(dims) != len(named):
            raise RuntimeValueError(f"squeeze: dim {list(named)} appears multiple times in the list of dims")
    shape = tuple(n for k, n in enumerate(input.shape) if not (k in dims and n == 1))
    return Reshape.apply(input, shape=shape)


@export()
def broadcast_to(input, size):  # noqa: A002
    """input broadcast to `size` (PyTorch's broadcast_to = expand: -1 keeps a size), a view."""
    return expand(input, size)


@export(method=False)
def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views), as PyTorch's broadcast_tensors."""
    shape = broadcast_shapes("broadcast_tensors", *(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


@export(function=False)
def expand(input, *sizes):  # noqa: A002
    """input broadcast to `sizes` (ints or one tuple), a view whose elements may alias: -1 keeps the size of
    that dimension; new leading dimensions are prepended (and may not be -1)."""
    if not sizes:
        raise TypeError("expand() missing 1 required positional argument: 'size' (for a 0-d tensor, pass "
                        "expand(()))")
    sizes = _sizes("expand", sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeValueError(f"expand(torch.FloatTensor{{{list(input.shape)}}}, size={list(sizes)}): the number "
                                f"of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                                f"dimensions in the tensor ({input.ndim})")
    shape = []
    for i, n in enumerate(sizes):
        if n == -1:
            if i < lead:
                raise RuntimeValueError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                        f"non-existing dimension {i} (expand: sizes {sizes}, shape {input.shape})")
            n = input.shape[i - lead]
        elif n < 0 or (i >= lead and input.shape[i - lead] not in (1, n)):
            existing = f"the existing size ({input.shape[i - lead]})" if i >= lead else "a size >= 0"
            raise RuntimeValueError(f"The expanded size of the tensor ({n}) must match {existing} at non-singleton "
                                    f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                                    f"{list(input.shape)} (expand)")
        shape.append(n)
    return BroadcastTo.apply(input, shape=tuple(shape))


@export(function=False)
def repeat(input, *sizes):  # noqa: A002
    """input tiled `sizes[i]` times along each dimension (ints or one tuple, at least input.ndim of them; extra
    leading ones add dimensions), as PyTorch's Tensor.repeat (NumPy's tile); the copies' gradients add up."""
    reps = _sizes("repeat", sizes)
    if len(reps) < input.ndim:
        raise RuntimeValueError(f"Number of dimensions of repeat dims can not be smaller than number of dimensions "
                                f"of tensor (repeat: {len(reps)} sizes for a tensor of shape {tuple(input.shape)})")
    return _tile(input, reps)


@export()
def tile(input, dims):  # noqa: A002
    """input repeated dims[i] times along each dimension; fewer dims than input's dimensions are padded with
    leading 1s, more add leading dimensions (PyTorch's torch.tile, NumPy's tile)."""
    reps = _sizes("tile", (dims,))
    return _tile(input, (1,) * (input.ndim - len(reps)) + reps)


def _tile(x, reps):
    """x tiled by reps (len(reps) >= x.ndim): each dimension n of x (padded with leading 1s) becomes (r, n),
    broadcast from (1, n), then merged: one broadcast view and one copy."""
    if any(r < 0 for r in reps):
        raise RuntimeValueError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)} (repeat)")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    paired = x.reshape(tuple(d for n in shape for d in (1, n)))
    grown = expand(paired, tuple(d for r, n in zip(reps, shape) for d in (r, n)))
    return grown.reshape(tuple(r * n for r, n in zip(reps, shape)))


@export(function=False)
def expand_as(input, other):  # noqa: A002
    return expand(input, other.shape)


def _joined(op, tensors, dim):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeValueError(f"{op}(): expected a non-empty list of Tensors")
    if not all(isinstance(t, Tensor) for t in tensors):
        bad = next(t for t in tensors if not isinstance(t, Tensor))
        raise TypeError(f"{op}(): expected a sequence of Tensors, but got {type(bad).__name__}")
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    return [t if t.dtype == dt else t.to(dt) for t in tensors]


@export("cat", "concat", "concatenate", method=False)
def cat(tensors, dim=0, *, axis=None, out=None):
    """Tensors joined along an existing dim, promoted to one dtype; 1-d empty tensors are skipped, as PyTorch
    allows."""
    tensors = _joined("cat", tensors, axis if axis is not None else dim)
    dim = axis if axis is not None else dim
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    first = kept[0]
    if first.ndim == 0:
        raise RuntimeValueError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim("cat", first, dim)
    for k, t in enumerate(kept[1:], 1):
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            raise RuntimeValueError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                    f"{first.shape} but got size {t.shape} for tensor number {k} in the list.")
    result = Concatenate.apply(*kept, axis=d) if len(kept) > 1 else clone(kept[0])
    if out is not None:
        from ..factories import _into
        return _into(out, result, "cat")
    return result


concat = concatenate = cat


@export(method=False)
def stack(tensors, dim=0, *, axis=None, out=None):
    """Tensors of one shape joined along a new dim."""
    tensors = _joined("stack", tensors, dim)
    dim = axis if axis is not None else dim
    shape = tensors[0].shape
    for k, t in enumerate(tensors[1:], 1):
        if t.shape != shape:
            raise RuntimeValueError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                                    f"and {list(t.shape)} at entry {k}")
    d = _dim("stack", tensors[0], dim, extra=1)
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


@export()
def unbind(input, dim=0):  # noqa: A002
    """The slices of input along dim, as a tuple of views (which may not change in place while recording)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions (unbind)")
    d = _dim("unbind", input, dim)
    if input.shape[d] == 0:
        return ()
    outs = Unbind.apply(input, axis=d)
    return outs if isinstance(outs, tuple) else (outs,)


def _pieces(input, d, sizes):  # noqa: A002
    outs = Split.apply(input, axis=d, sizes=tuple(sizes))
    return outs if isinstance(outs, tuple) else (outs,)


@export()
def split(tensor, split_size_or_sections, dim=0):
    """Pieces of `split_size_or_sections` along dim (an int: that size each, the last smaller; a list: those
    sizes), as views."""
    if tensor.ndim == 0:
        raise RuntimeValueError("split expects at least a 1-dimensional tensor")
    d = _dim("split", tensor, dim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise RuntimeValueError(f"split_size can only be 0 if dimension size is 0, but got dimension size of "
                                    f"{n}" if size == 0 else f"split expects split_size be non-negative, but got "
                                    f"split_size={size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeValueError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                                    f"size at dimension {d}), but got split_sizes={sizes}")
    return _pieces(tensor, d, sizes)


@export()
def chunk(input, chunks, dim=0):  # noqa: A002
    """At most `chunks` pieces of equal size (ceil(n / chunks); the last may be smaller) along dim, as views
    (an empty dim gives `chunks` empty pieces)."""
    if chunks <= 0:
        raise RuntimeValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _dim("chunk", input, dim)
    n = input.shape[d]
    return split(input, -(-n // chunks), d) if n else _pieces(input, d, [0] * chunks)


@export()
def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """NumPy's array_split: `sections` pieces (the first n % sections one longer), or the pieces between the cut
    `indices`; each a view."""
    d = _dim("tensor_split", input, dim)
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dtype.kind not in "iu" or indices_or_sections.ndim > 1:
            raise RuntimeValueError(f"tensor_split expected tensor_indices_or_sections to have an integral dtype "
                                    f"and at most one dimension; got {indices_or_sections.dtype.name} of shape "
                                    f"{indices_or_sections.shape}")
        indices_or_sections = indices_or_sections.item() if indices_or_sections.ndim == 0 else \
            indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeValueError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        bounds = [sum(sizes[:i]) for i in range(k + 1)]
    else:
        cuts = [int(i) for i in (indices_or_sections.tolist() if isinstance(indices_or_sections, Tensor)
                                 else indices_or_sections)]
        bounds = [0] + [min(max(c + n if c < 0 else c, 0), n) for c in cuts] + [n]
    return tuple(narrow(input, d, a, max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


@export()
def narrow(input, dim, start, length):  # noqa: A002
    """input[..., start:start + length, ...] along dim, a view."""
    d = _dim("narrow", input, dim)
    n = input.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start}) (narrow)")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeValueError(f"start ({start}) + length ({length}) exceeds dimension size ({n}). (narrow)")
    return GetItem.apply(input, index=(slice(None),) * d + (slice(start, start + length),))


@export()
def select(input, dim, index):  # noqa: A002
    """input[..., index, ...] along dim (that dim removed), a view."""
    d = _dim("select", input, dim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return GetItem.apply(input, index=(slice(None),) * d + (int(index) % n,))


@export()
def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The diagonal `offset` of the planes (dim1, dim2), as a last dim: a view (writing to it writes input)."""
    a, b = _dim("diagonal", input, dim1), _dim("diagonal", input, dim2)
    if a == b:
        raise RuntimeValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), axis1=a, axis2=b)


@export()
def clone(input, *, memory_format=None):  # noqa: A002
    """A copy in new memory, differentiable."""
    return Clone.apply(input)


@export(function=False)
def contiguous(input, memory_format=None):  # noqa: A002
    """input itself if its memory is C-contiguous, else a contiguous copy."""
    flags = getattr(input._data, "flags", None)
    return input if flags is None or flags.c_contiguous else Clone.apply(input)


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


@export(method=False)
def numel(input):  # noqa: A002
    """The number of elements of input."""
    return input.numel()
