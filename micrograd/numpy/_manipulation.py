"""The standard's manipulation, indexing, searching, sorting, set and linear-algebra functions (and NumPy's
spellings of some), as micrograd's ops or composites of them; differentiable wherever the values move."""
import numbers
from collections import namedtuple

import numpy as _np

from .. import factories as _f
from ..tensor import Tensor
from ._dtypes import DEFAULT_INT, result_type
from ._engine import ops as _ops

UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def _same(arrays):
    dt = result_type(*arrays)
    return [a.astype(dt) for a in arrays]


def concat(arrays, /, *, axis=0):
    """Arrays joined along `axis` (None: flattened first), promoted to their result dtype."""
    arrays = _same(list(arrays))
    if axis is None:
        return _ops.cat([a.reshape(-1) for a in arrays], dim=0)
    return _ops.cat(arrays, dim=axis)


def concatenate(arrays, axis=0, dtype=None):
    """NumPy's spelling of concat."""
    out = concat(arrays, axis=axis)
    return out if dtype is None else out.astype(dtype)


def stack(arrays, /, *, axis=0):
    """Arrays joined along a new axis, promoted to their result dtype."""
    return _ops.stack(_same(list(arrays)), dim=axis)


def unstack(x, /, *, axis=0):
    """The slices of x along `axis`, as a tuple."""
    return tuple(_ops.unbind(x, axis))


def broadcast_to(x, /, shape):
    """x broadcast to `shape` (a view; gradients sum back)."""
    return _ops.broadcast_to(x, tuple(shape))


def broadcast_arrays(*arrays):
    """The arrays broadcast to their common shape."""
    shape = _np.broadcast_shapes(*(a.shape for a in arrays))
    return [_ops.broadcast_to(a, shape) for a in arrays]


def expand_dims(x, /, axis=0):
    """x with a new length-1 axis at `axis`."""
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"expand_dims: axis out of range; got {axis} for a {x.ndim}-d array")
    return _ops.unsqueeze(x, axis)


def squeeze(x, /, axis):
    """x without the length-1 axes named by `axis`; an axis of another length raises ValueError."""
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    norm = []
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise IndexError(f"squeeze: axis out of range; got {a} for a {x.ndim}-d array")
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot remove an axis of length {x.shape[a]}; got axis {a} of {x.shape}")
        norm.append(a % x.ndim)
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in norm))


def permute_dims(x, /, axes):
    """x with its axes permuted."""
    return _ops.permute(x, *axes)


def transpose(x, axes=None):
    """NumPy's transpose: axes reversed, or permuted by `axes`."""
    return _ops.permute(x, *(reversed(range(x.ndim)) if axes is None else axes))


def matrix_transpose(x, /):
    """The last two axes swapped."""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: the array needs at least 2 dimensions; got shape {x.shape}")
    return x.mT


def moveaxis(x, source, destination, /):
    """x with axes moved from `source` to `destination`."""
    return _ops.moveaxis(x, source, destination)


def reshape(x, /, shape, *, copy=None):
    """x with a new shape (copy=True: always a new array; copy=False is not supported)."""
    if copy is False:
        raise NotImplementedError("reshape: copy=False is not supported; pass copy=None or True")
    out = _ops.reshape(x, tuple(shape))
    return _ops.clone(out) if copy else out


def flip(x, /, *, axis=None):
    """x reversed along `axis` (None: every axis)."""
    dims = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    return _ops.flip(x, dims)


def roll(x, /, shift, *, axis=None):
    """x rolled by `shift` along `axis` (None: the flattened array)."""
    if axis is None:
        return _ops.roll(x.reshape(-1), shift, 0).reshape(x.shape)
    if isinstance(shift, numbers.Integral) and not isinstance(axis, numbers.Integral):
        shift = (shift,) * len(tuple(axis))  # the standard: an int shift applies to every axis named
    return _ops.roll(x, shift, axis)


def tile(x, repetitions, /):
    """x repeated `repetitions[i]` times along each axis (x's shape padded with leading 1s)."""
    return _ops.tile(x, tuple(repetitions))


def repeat(x, repeats, /, *, axis=None):
    """Each element repeated `repeats` times (an int, or one count per element) along `axis` (None: flattened)."""
    return _ops.repeat_interleave(x, repeats, axis)


def take(x, indices, /, *, axis=None):
    """x's entries at `indices` along `axis` (differentiable; repeated indices add their gradients)."""
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for an array of more than one dimension; got shape {x.shape}")
        axis = 0
    return _ops.index_select(x, axis, indices.reshape(-1)).reshape(
        x.shape[:axis % x.ndim] + indices.shape + x.shape[axis % x.ndim + 1:])


def take_along_axis(x, indices, /, *, axis=-1):
    """x's values at `indices` along `axis` (other axes broadcast), as gather."""
    ax = axis % x.ndim
    xs, ix = list(x.shape), list(indices.shape)
    shape_x = tuple(xs[i] if i == ax else _np.broadcast_shapes((xs[i],), (ix[i],))[0] for i in range(x.ndim))
    shape_i = tuple(ix[i] if i == ax else shape_x[i] for i in range(x.ndim))
    idx = indices.astype(DEFAULT_INT)
    return _ops.gather(x.broadcast_to(shape_x), ax, idx.broadcast_to(shape_i))


def where(condition, x1, x2, /):
    """x1 where `condition` holds, else x2, after the standard's promotion."""
    from ._elementwise import promote
    a, b = promote(x1, x2, "where")
    return _ops.where(condition, a, b)


def nonzero(x, /):
    """The indices of the non-zero elements, one array per axis (no gradient)."""
    if x.ndim == 0:
        raise ValueError("nonzero: a 0-d array has no indices; use nonzero(x.reshape(1)) or a comparison")
    return tuple(_ops.nonzero(x, as_tuple=True))


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    """For each x2 value, where it would go in the sorted 1-D x1 to keep it sorted (no gradient: indices)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right'; got {side!r}")
    a = x1 if sorter is None else _ops.index_select(x1, 0, sorter)
    a, v = _same([a.detach(), x2.detach()])
    before = a.reshape((1,) * v.ndim + (-1,)) < v.unsqueeze(-1) if side == "left" else \
        a.reshape((1,) * v.ndim + (-1,)) <= v.unsqueeze(-1)
    return _ops.sum(before.astype(DEFAULT_INT), dim=-1)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    """The indices that sort x along `axis` (always stable; no gradient)."""
    if x.ndim == 0:
        return _f.zeros((), dtype=DEFAULT_INT, device=x.device)
    return _ops.argsort(x, axis, descending=descending, stable=True)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """x sorted along `axis` (stable; gradients follow the values)."""
    if x.ndim == 0:
        return _ops.clone(x)
    return _ops.sort(x, axis, descending=descending, stable=True)[0]


def _unique(x):
    """Sorted flat values, their order, and a mask of the first of each run (every NaN counts as distinct)."""
    flat = x.reshape(-1)
    order = _ops.argsort(flat.detach(), 0, stable=True)
    values = _ops.index_select(flat, 0, order)
    if values.shape[0] == 0:
        return values, order, values != values
    first = _ops.cat([_f.ones((1,), dtype=_np.dtype(bool), device=x.device),
                      values[1:].detach() != values[:-1].detach()])
    return values, order, first


def unique_values(x, /):
    """The distinct values of x, sorted (each NaN distinct)."""
    values, _, first = _unique(x)
    return values[first]


def _counts(first):
    starts = _ops.nonzero(first, as_tuple=True)[0]
    ends = _ops.cat([starts[1:], _f.tensor([first.shape[0]], dtype=DEFAULT_INT, device=first.device)])
    return starts, ends - starts


def unique_counts(x, /):
    """The distinct values of x and how often each occurs."""
    values, _, first = _unique(x)
    return UniqueCountsResult(values=values[first], counts=_counts(first)[1])


def _inverse(x, order, first):
    rank = _ops.cumsum(first.astype(DEFAULT_INT), 0) - 1
    inverse = _f.zeros(rank.shape, dtype=DEFAULT_INT, device=x.device)
    return _ops.scatter(inverse, 0, order, rank).reshape(x.shape)


def unique_inverse(x, /):
    """The distinct values of x and, for each element of x, the index of its value."""
    values, order, first = _unique(x)
    return UniqueInverseResult(values=values[first], inverse_indices=_inverse(x, order, first))


def unique_all(x, /):
    """The distinct values, the first index of each, the inverse indices and the counts."""
    values, order, first = _unique(x)
    starts, counts = _counts(first)
    return UniqueAllResult(values=values[first], indices=_ops.index_select(order, 0, starts),
                       inverse_indices=_inverse(x, order, first), counts=counts)


def matmul(x1, x2, /):
    """The matrix product after the standard's promotion."""
    a, b = _same([x1, x2])
    return _ops.matmul(a, b)


def tensordot(x1, x2, /, *, axes=2):
    """The tensor contraction over `axes` after the standard's promotion."""
    a, b = _same([x1, x2])
    if isinstance(axes, numbers.Integral):
        pairs = zip(range(a.ndim - axes, a.ndim), range(axes))
    else:
        pairs = zip(*axes)
    pairs = [(i % a.ndim, j % b.ndim) for i, j in pairs]
    sa, sb = list(a.shape), list(b.shape)
    for i, j in pairs:  # the standard broadcasts each contracted pair of axes
        sa[i] = sb[j] = _np.broadcast_shapes((sa[i],), (sb[j],))[0]
    if 0 in sa or 0 in sb:  # an empty result or an empty sum: zeros (einsum cannot take length-0 axes)
        shape = [n for k, n in enumerate(sa) if k not in {i for i, _ in pairs}]
        shape += [n for k, n in enumerate(sb) if k not in {j for _, j in pairs}]
        return _f.zeros(tuple(shape), dtype=a.dtype, device=a.device)
    return _ops.tensordot(a.broadcast_to(tuple(sa)), b.broadcast_to(tuple(sb)), axes)


def vecdot(x1, x2, /, *, axis=-1):
    """sum(x1 * x2) along `axis` (real arrays: the conjugate is the array itself), broadcasting the others."""
    a, b = _same([x1, x2])
    if min(a.ndim, b.ndim) == 0 or a.shape[axis] != b.shape[axis]:
        raise ValueError(f"vecdot: the arrays differ in length along axis {axis}; got {a.shape} and {b.shape}")
    return _ops.sum(a * b, dim=axis).astype(a.dtype)


def dot(a, b):
    """NumPy's dot: vector dot product, matrix product, or the product over a's last and b's second-to-last axis."""
    a, b = _same([a, b])
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1 or a.ndim <= 2 and b.ndim == 2:
        return _ops.matmul(a, b)
    return _ops.tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))


def einsum(subscripts, *operands):
    """NumPy's einsum over micrograd's."""
    return _ops.einsum(subscripts, *_same(list(operands)))


def outer(a, b):
    """NumPy's outer product of the flattened arrays."""
    return _ops.outer(a.reshape(-1), b.reshape(-1))


__all__ = ["concat", "concatenate", "stack", "unstack", "broadcast_to", "broadcast_arrays", "expand_dims", "squeeze",
           "permute_dims", "transpose", "matrix_transpose", "moveaxis", "reshape", "flip", "roll", "tile", "repeat",
           "take", "take_along_axis", "where", "nonzero", "searchsorted", "argsort", "sort", "unique_values",
           "unique_counts", "unique_inverse", "unique_all", "matmul", "tensordot", "vecdot", "dot", "einsum",
           "outer"]
