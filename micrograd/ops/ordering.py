"""Ordering and gathering with PyTorch's signatures: sort, argsort, msort, topk, kthvalue, gather, take_along_dim,
scatter, scatter_add, index_select, take, masked_select, index_add, and the structural ops tril, triu, flip,
fliplr, flipud, roll and rot90.

Each is a composite of the engine's indexing ops (GetItem, IndexAdd, item assignment), so every gradient is the
indexing adjoint (a scatter-add into zeros), repeated indices accumulate, and grad-of-grad works. Sorting itself
is one backend primitive, `argsort` (stable, NaN above every number, as PyTorch).
"""
import numpy as np

from .. import dtypes, return_types
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .elementwise import where
from .movement import GetItem, IndexAdd
from .shape import _dim
from .util import constant, export

__all__ = []


def _int64(b, host):
    return Tensor._make(b.asarray(np.asarray(host, np.int64), dtypes.int64), b, False, None, 0)


def _along(x, dim, index):
    """The advanced index picking x[..., index[i], ...] along `dim` for every position of `index` (an int64
    backend array of x's ndim): aranges broadcast over the other dims, as torch.gather reads."""
    b = x._backend
    parts = []
    for k, n in enumerate(index.shape):
        if k == dim:
            parts.append(index)
        else:
            shape = [1] * len(index.shape)
            shape[k] = n
            parts.append(b.asarray(np.arange(n, dtype=np.int64).reshape(shape), dtypes.int64))
    return tuple(parts)


def _check_index(op, x, dim, index):
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        got = index.dtype.name if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeValueError(f"{op}(): Expected dtype int64 for index; got {got}")
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise RuntimeValueError(f"Index tensor must have the same number of dimensions as input tensor ({op}: input "
                                f"shape {tuple(x.shape)}, index shape {tuple(index.shape)})")
    for k, (n, m) in enumerate(zip(index.shape, x.shape)):
        if k != dim and n > m:
            raise RuntimeValueError(f"Size does not match at dimension {k} expected index {list(index.shape)} to be "
                                    f"smaller than self {list(x.shape)} apart from dimension {dim}")
    host = index._backend.to_numpy(index._data)
    if host.size and (host.min() < -x.shape[dim] or host.max() >= x.shape[dim]):
        bad = host.max() if host.max() >= x.shape[dim] else host.min()
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {x.shape[dim]} ({op})")


def _scalar_view(x):
    return x.reshape(1) if x.ndim == 0 else x


# ---- sorting ---------------------------------------------------------------------------------------------------

@export()
def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002  (PyTorch's argument names)
    """The int64 indices that sort input along `dim` (stable: equal elements keep their order; NaN sorts highest)."""
    x = input
    if x.ndim == 0:
        return _int64(x._backend, 0)
    d = _dim("argsort", x, dim)
    return Tensor._make(x._backend.argsort(x._data, d, bool(descending)), x._backend, False, None, 0)


@export()
def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """(values, indices) sorted along `dim`; the gradient of values goes back to where each came from."""
    x = input
    if x.ndim == 0:
        return return_types.sort(x.clone(), _int64(x._backend, 0))
    d = _dim("sort", x, dim)
    idx = argsort(x, d, descending)
    return return_types.sort(GetItem.apply(x, index=_along(x, d, idx._data)), idx)


@export()
def msort(input):  # noqa: A002
    """input sorted along its first dimension."""
    return sort(input, 0).values


@export()
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002  (PyTorch's argument names)
    """(values, indices) of the k largest (or smallest) elements along `dim`, in order."""
    x = input
    d = _dim("topk", x, dim) if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeValueError(f"selected index k out of range (topk: k={k} for a dimension of size {n})")
    values, indices = sort(_scalar_view(x), d, descending=largest)
    sl = (slice(None),) * d + (slice(0, k),)
    values, indices = values[sl], indices[sl]
    if x.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return return_types.topk(values, indices)


@export()
def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices) of the k-th smallest element (1-based) along `dim`."""
    x = _scalar_view(input)
    d = _dim("kthvalue", x, dim)
    if not 1 <= k <= x.shape[d]:
        raise RuntimeValueError(f"kthvalue(): selected number k out of range for dimension {d} (k={k}, size "
                                f"{x.shape[d]})")
    values, indices = sort(x, d)
    sl = (slice(None),) * d + (slice(k - 1, k),)
    values, indices = values[sl], indices[sl]
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return return_types.kthvalue(values, indices)


# ---- gathering and scattering ----------------------------------------------------------------------------------

@export()
def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] (dim 0; likewise for any dim): index's shape; the gradient scatter-adds."""
    x = _scalar_view(input)
    d = _dim("gather", x, dim)
    if index.numel() == 0:  # PyTorch accepts an empty index of any shape
        empty = x._backend.asarray(np.zeros(0, np.int64), dtypes.int64)
        return GetItem.apply(x.reshape(-1), index=(empty,)).reshape(tuple(index.shape))
    _check_index("gather", x, d, index)
    out = GetItem.apply(x, index=_along(x, d, _scalar_view(index).long()._data))
    return out.reshape(()) if index.ndim == 0 else out


@export()
def take_along_dim(input, indices, dim=None):  # noqa: A002
    """Values of input at `indices` along `dim` (None: of the flattened input), indices broadcast against input."""
    if dim is None:
        return input.reshape(-1)[indices.reshape(-1)]
    d = _dim("take_along_dim", input, dim)
    shape = list(np.broadcast_shapes(tuple(input.shape[:d]) + (1,) + tuple(input.shape[d + 1:]),
                                     tuple(indices.shape[:d]) + (1,) + tuple(indices.shape[d + 1:])))
    x = input.expand(*(shape[:d] + [input.shape[d]] + shape[d + 1:]))
    idx = indices.expand(*(shape[:d] + [indices.shape[d]] + shape[d + 1:]))
    return gather(x, d, idx)


def _scatter_value(op, x, src, index):
    if isinstance(src, Tensor):
        return src
    return Tensor._make(x._backend.full(index.shape, src, x.dtype), x._backend, False, None, 0)


def _src_part(src, index):
    """The part of src that index covers (src may be larger than index in every dimension)."""
    if src.shape == index.shape:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


@export(inplace=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """input with input[index[i][j]][j] = src[i][j] (dim 0; likewise for any dim); src may be a number
    (or `value=`). reduce='add'/'multiply' is scatter_add / a product; with repeated indices one write wins."""
    src = value if src is None else src
    x = _scalar_view(input)
    d = _dim("scatter", x, dim)
    _check_index("scatter", x, d, index)
    if reduce == "add":
        return scatter_add(input, dim, index, _scatter_value("scatter", x, src, index))
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported by micrograd (supported: 'add'); "
                                  f"scatter_reduce is not implemented")
    s = _scalar_view(_scatter_value("scatter", x, src, index))
    out = x.clone()
    out[_along(x, d, _scalar_view(index).long()._data)] = _src_part(s.to(x.dtype), _scalar_view(index))
    return out.reshape(input.shape)


@export(inplace=True)
def scatter_add(input, dim, index, src):  # noqa: A002
    """input with src[i][j] added at input[index[i][j]][j] (dim 0; likewise for any dim); repeats accumulate."""
    x = _scalar_view(input)
    d = _dim("scatter_add", x, dim)
    _check_index("scatter_add", x, d, index)
    part = _src_part(_scalar_view(src).to(x.dtype), _scalar_view(index))
    added = IndexAdd.apply(part, shape=tuple(x.shape), index=_along(x, d, _scalar_view(index).long()._data))
    return (x + added).reshape(input.shape)


@export()
def index_select(input, dim, index):  # noqa: A002
    """The entries of input at the 1-d integer `index` along `dim`."""
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise RuntimeValueError(f"index_select(): Index is supposed to be a vector of integers; got shape "
                                f"{tuple(index.shape)} and dtype {index.dtype.name}")
    x = _scalar_view(input)
    d = _dim("index_select", x, dim)
    out = x[(slice(None),) * d + (index.reshape(-1),)]
    return out.reshape(()) if input.ndim == 0 else out


@export(inplace=True)
def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """input with alpha * source added at the rows `index` (1-d) along `dim`; repeats accumulate."""
    x = _scalar_view(input)
    d = _dim("index_add", x, dim)
    src = _scalar_view(source) * alpha if alpha != 1 else _scalar_view(source)
    idx = (slice(None),) * d + (index.reshape(-1)._data,)
    return (x + IndexAdd.apply(src.to(x.dtype), shape=tuple(x.shape), index=idx)).reshape(input.shape)


@export()
def take(input, index):  # noqa: A002
    """input read as a 1-d tensor at `index`: index's shape."""
    return input.reshape(-1)[index]


@export()
def masked_select(input, mask):  # noqa: A002
    """The 1-d tensor of input's elements where the bool `mask` (broadcast) is True."""
    if mask.dtype != dtypes.bool_:
        raise RuntimeValueError(f"masked_select: expected BoolTensor for mask; got {mask.dtype.name}")
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    return input.expand(shape)[mask.expand(shape)]


# ---- structure: triangles, flips, rolls ------------------------------------------------------------------------

def _triangle(op, input, diagonal, lower):
    if input.ndim < 2:
        raise RuntimeValueError(f"{op}: input tensor must have at least 2 dimensions")
    n, m = input.shape[-2:]
    rows, cols = np.arange(n)[:, None], np.arange(m)[None, :]
    keep = (cols - rows <= diagonal) if lower else (cols - rows >= diagonal)
    b = input._backend
    mask = Tensor._make(b.asarray(keep, dtypes.bool_), b, False, None, 0)
    zero = constant(input, 0)
    return where(mask, input, zero)


@export(inplace=True)
def tril(input, diagonal=0):  # noqa: A002
    """The lower triangle of the last two dims (elements with column - row <= diagonal), others zero."""
    return _triangle("tril", input, diagonal, True)


@export(inplace=True)
def triu(input, diagonal=0):  # noqa: A002
    """The upper triangle of the last two dims (elements with column - row >= diagonal), others zero."""
    return _triangle("triu", input, diagonal, False)


def reversed_view(input, dims):  # noqa: A002
    """A view of input with the order of elements reversed along each of `dims`."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    index = [slice(None)] * input.ndim
    for d in dims:
        index[_dim("flip", input, d)] = slice(None, None, -1)
    return input[tuple(index)]


@export()
def flip(input, dims):  # noqa: A002
    """input with the order of elements reversed along each of `dims` (a copy)."""
    return reversed_view(input, dims).clone()


@export()
def fliplr(input):  # noqa: A002
    """input flipped left-right (dim 1); needs at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeValueError("Input must be >= 2-d.")
    return flip(input, 1)


@export()
def flipud(input):  # noqa: A002
    """input flipped up-down (dim 0); needs at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeValueError("Input must be >= 1-d.")
    return flip(input, 0)


@export()
def roll(input, shifts, dims=None):  # noqa: A002
    """input with elements shifted by `shifts` along `dims` (wrapping around); dims=None rolls the flattened
    input."""
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeValueError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        d = _dim("roll", input, d)
        n = input.shape[d]
        if n == 0 or s % n == 0:
            continue
        idx = (np.arange(n) - s) % n
        out = out[(slice(None),) * d + (idx,)]
    return out if out is not input else input.clone()


@export()
def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """input rotated by 90 degrees k times in the plane of `dims`, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeValueError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = (_dim("rot90", input, d) for d in dims)
    if d0 == d1:
        raise RuntimeValueError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, d0).transpose(d0, d1)
    return input.clone()


@export()
def diag(input, diagonal=0):  # noqa: A002
    """A 1-d input as the `diagonal`-th diagonal of a square matrix (zeros elsewhere), or a 2-d input's
    `diagonal`-th diagonal as a 1-d tensor; differentiable both ways."""
    if input.ndim == 2:
        return input.diagonal(diagonal).clone()
    if input.ndim != 1:
        raise RuntimeValueError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    n = input.shape[0] + abs(diagonal)
    rows = np.arange(input.shape[0]) + max(-diagonal, 0)
    cols = np.arange(input.shape[0]) + max(diagonal, 0)
    out = constant(input, 0, (n, n))
    out[rows, cols] = input
    return out


@export()
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each entry of input repeated `repeats` times (an int, or one count per entry along `dim`) along `dim`
    (None: the flattened input), as PyTorch; with only a 1-d count tensor, the indices repeat_interleave(arange(n),
    counts) (PyTorch's one-argument form). Differentiable in input (the repeats' gradients add up)."""
    if repeats is None:  # repeat_interleave(counts)
        counts = input._host() if isinstance(input, Tensor) else np.asarray(input)
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeValueError(f"repeat_interleave: repeats must be a 1-d integer tensor; got shape "
                                    f"{counts.shape} and dtype {counts.dtype}")
        index = np.repeat(np.arange(counts.size), _counts(counts, counts.size))
        if output_size is not None and output_size != index.size:
            raise RuntimeValueError(f"repeat_interleave: output_size {output_size} differs from the repeats' total "
                                    f"{index.size}")
        return _ints(input, index)
    if dim is not None and input.ndim == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim}) "
                         f"(repeat_interleave of a 0-d tensor: pass dim=None)")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("repeat_interleave", x, dim)
    n = x.shape[d]
    counts = repeats._host() if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise RuntimeValueError(f"repeat_interleave: repeats must be an int or a 1-d integer tensor; got "
                                f"{repeats!r}")
    counts = np.broadcast_to(counts.reshape(-1), (n,)) if counts.size == 1 else counts
    if counts.shape != (n,):
        raise RuntimeValueError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                                f"{counts.size} and input.size({d}) = {n} (repeat_interleave)")
    index = np.repeat(np.arange(n), _counts(counts, n))
    if output_size is not None and output_size != index.size:
        raise RuntimeValueError(f"repeat_interleave: output_size {output_size} differs from the repeats' total "
                                f"{index.size}")
    return index_select(x, d, _ints(x, index))


def _ints(like, values):
    """A host integer array as an int64 tensor on like's backend (no history)."""
    b = like._backend
    return Tensor._make(b.asarray(np.asarray(values, np.int64), np.int64), b, False, None, 0)


def _counts(counts, n):
    if n and counts.min() < 0:
        raise RuntimeValueError(f"repeats can not be negative (repeat_interleave: {counts.min()})")
    return counts
