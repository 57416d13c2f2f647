"""Op-spec rows for the Array API namespace micrograd.numpy (tests/op_specs.py adds them to its table): the functions
whose maths the namespace composes itself (axis=() and None handling, correction/ddof, include_initial, prepend and
append, tensor clip bounds, tile, repeat, take, tensordot's axis pairs, meshgrid, ...), not the plain aliases of an
engine op that has its own row. Names start with "np." and the reference is NumPy's function of the same name.
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd as mg
import micrograd.numpy as mnp
from op_specs import DISTINCT, Case, Domain, OpSpec, broadcast_shapes, numpy_axes, shapes, unary_cases

SIGN = Domain(-2.0, 2.0, away=(0.0,), gap=0.1)
NORM = Domain(-2.0, 2.0, away=(0.0,), gap=0.2, distinct=True)  # |x| and max|x| without kinks, 1/|x| bounded


def _axes_tuple(axis, nd):
    return tuple(range(nd)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)


# ---- strategies -------------------------------------------------------------------------------------------

@st.composite
def clip_cases(draw):
    """x, min and max arrays whose broadcast shape is x's (the result keeps x's shape and dtype)."""
    sx, sl, sh = draw(broadcast_shapes(3, max_dims=3))
    return Case((np.broadcast_shapes(sx, sl, sh), sl, sh))


@st.composite
def np_reduce_cases(draw, names, var=False):
    """One of `names`, the standard's axis forms (None, int, tuple, (), negatives) and keepdims; var/std draw the
    correction (as `correction=` or NumPy's `ddof=`), with more than one element per slice where it is not 0."""
    shape = draw(shapes())
    axis = draw(numpy_axes(len(shape)))
    params = {"which": draw(st.sampled_from(names)), "axis": axis, "keepdims": draw(st.booleans())}
    if var:
        count = math.prod(shape[a] for a in _axes_tuple(axis, len(shape)))
        if count < 2:  # std of one value is 0, where sqrt has no derivative
            params["which"] = "var"
        params["correction"] = draw(st.sampled_from([0, 1, 0.5])) if count > 1 else 0
        params["spelling"] = draw(st.sampled_from(["correction", "ddof"]))
    return Case((shape,), params)


@st.composite
def cumulative_cases(draw):
    shape = draw(shapes(min_dims=1, min_side=0))
    nd = len(shape)
    if shape == (0,):  # mg.cat skips a 1-d empty tensor (PyTorch's rule), leaving it without a gradient
        shape = (1,)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1)) if nd == 1 else st.integers(-nd, nd - 1))
    return Case((shape,), {"which": draw(st.sampled_from(["sum", "prod"])), "axis": axis,
                           "include_initial": draw(st.booleans())})


@st.composite
def diff_cases(draw):
    """x, prepend and append, equal but along `axis` (1 or 2 long there); n from 0 to 2."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    a = axis % nd

    def along(n):
        return shape[:a] + (n,) + shape[a + 1:]
    return Case((shape, along(draw(st.integers(1, 2))), along(draw(st.integers(1, 2)))),
                {"axis": axis, "n": draw(st.integers(1, 2))})  # n=0 is x itself: prepend/append unused


@st.composite
def concat_cases(draw):
    """axis None (each array flattened, any shapes) or one axis."""
    if draw(st.booleans()):
        return Case(tuple(draw(shapes(max_dims=3)) for _ in range(3)), {"axis": None})
    base = draw(shapes(min_dims=1, max_dims=3))
    nd = len(base)
    axis = draw(st.integers(-nd, nd - 1))
    a = axis % nd
    lo = 1 if nd == 1 else 0  # mg.cat skips a 1-d empty tensor (PyTorch's rule), leaving it without a gradient
    return Case(tuple(base[:a] + (draw(st.integers(lo, 2)),) + base[a + 1:] for _ in range(3)), {"axis": axis})


@st.composite
def np_squeeze_cases(draw):
    shape = draw(shapes(max_side=3).map(lambda s: tuple(1 if n == 3 else n for n in s)))
    nd = len(shape)
    ones = [i for i, n in enumerate(shape) if n == 1]
    if not ones:
        return Case((shape,), {"axis": ()})
    picked = draw(st.lists(st.sampled_from(ones), min_size=1, max_size=len(ones), unique=True))
    picked = [draw(st.sampled_from([i, i - nd])) for i in picked]
    return Case((shape,), {"axis": picked[0] if len(picked) == 1 and draw(st.booleans()) else tuple(picked)})


@st.composite
def moveaxis_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    k = draw(st.integers(1, nd))
    src = draw(st.permutations(range(nd)))[:k]
    dst = draw(st.permutations(range(nd)))[:k]
    src = tuple(draw(st.sampled_from([s, s - nd])) for s in src)
    dst = tuple(draw(st.sampled_from([d, d - nd])) for d in dst)
    if k == 1 and draw(st.booleans()):
        src, dst = src[0], dst[0]
    return Case((shape,), {"source": src, "destination": dst})


@st.composite
def transpose_cases(draw):
    """NumPy's transpose (axes reversed, or a permutation), swapaxes, permute_dims and matrix_transpose."""
    shape = draw(shapes())
    nd = len(shape)
    which = draw(st.sampled_from(["transpose", "swapaxes", "permute_dims", "matrix_transpose"] if nd >= 2 else
                                 ["transpose", "swapaxes", "permute_dims"] if nd else ["transpose", "permute_dims"]))
    perm = tuple(draw(st.sampled_from([a, a - nd])) for a in draw(st.permutations(range(nd))))
    params = {"which": which, "axes": perm if which == "permute_dims" or draw(st.booleans()) else None}
    if which == "swapaxes":
        params["axes"] = (draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1)))
    return Case((shape,), params)


@st.composite
def flip_roll_cases(draw):
    """flip and roll with axis None (roll: of the flattened array), one axis or several, and fftshift/ifftshift."""
    shape = draw(shapes())
    nd = len(shape)
    which = draw(st.sampled_from(["flip", "roll"] + ["fftshift", "ifftshift"] * bool(nd)))  # NumPy's fail on 0-d
    options = [st.none()]
    if nd:
        options += [st.integers(-nd, nd - 1), st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                                         unique_by=lambda d: d % nd).map(tuple)]
    axis = draw(st.one_of(*options))
    shift = draw(st.integers(-4, 4)) if not isinstance(axis, tuple) or draw(st.booleans()) else \
        tuple(draw(st.integers(-4, 4)) for _ in axis)
    return Case((shape,), {"which": which, "axis": axis, "shift": shift})


@st.composite
def tile_cases(draw):
    shape = draw(shapes(max_dims=3))
    reps = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    if math.prod(shape) * math.prod(reps) > 72:
        reps = tuple(min(r, 1) for r in reps)
    return Case((shape,), {"reps": reps})


@st.composite
def repeat_cases(draw):
    """An int count, or one count per element along `axis` (None: the flattened array)."""
    shape = draw(shapes(max_dims=3))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
    n = math.prod(shape) if axis is None else shape[axis]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return Case((shape,), {"repeats": repeats, "axis": axis})


@st.composite
def np_take_cases(draw):
    """Indices of any shape (0-d too, negatives and repeats) along `axis` (None: a 1-d array)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd == 1 else draw(st.integers(-nd, nd - 1))
    n = shape[0 if axis is None else axis]
    ishape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)))
    return Case((shape,), {"indices": index, "axis": axis})


@st.composite
def take_along_axis_cases(draw):
    """Indices with x's number of axes; the other axes broadcast against x's (size 1 on either side)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    a = axis % nd
    ishape = tuple(draw(st.integers(1, 3)) if k == a else draw(st.sampled_from([1, n])) for k, n in enumerate(shape))
    xshape = tuple(n if k == a or ishape[k] == 1 else draw(st.sampled_from([1, n])) for k, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-shape[a], shape[a] - 1)))
    return Case((xshape,), {"indices": index, "axis": axis})


@st.composite
def np_tensordot_cases(draw):
    """axes an int (0, 1 or 2) or two lists of axes (negatives too, any order)."""
    k = draw(st.integers(0, 2))
    contracted = tuple(draw(st.integers(1, 3)) for _ in range(k))
    free_a = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    free_b = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if draw(st.booleans()):
        return Case((free_a + contracted, contracted + free_b), {"axes": k})
    na, nb = len(free_a) + k, len(free_b) + k
    pos_a = draw(st.permutations(range(na)))[:k]
    pos_b = draw(st.permutations(range(nb)))[:k]
    sa, sb = list(free_a), list(free_b)
    for p, n in sorted(zip(pos_a, contracted)):
        sa.insert(p, n)
    for p, n in sorted(zip(pos_b, contracted)):
        sb.insert(p, n)
    axes = ([draw(st.sampled_from([p, p - na])) for p in pos_a], [draw(st.sampled_from([p, p - nb])) for p in pos_b])
    return Case((tuple(sa), tuple(sb)), {"axes": axes})


@st.composite
def np_vecdot_cases(draw):
    sa, sb = draw(broadcast_shapes(2, min_dims=1, max_dims=3))
    nd = min(len(sa), len(sb))
    axis = draw(st.integers(-nd, -1))
    n = draw(st.integers(1, 3))
    sa, sb = list(sa), list(sb)
    sa[axis] = sb[axis] = n  # the contracted axis: the same length in both
    return Case((tuple(sa), tuple(sb)), {"axis": axis})


@st.composite
def dot_cases(draw):
    """NumPy's dot for every pair of ranks 0-3: a scalar product, inner, matrix-vector, matrix or sum-product."""
    ra, rb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = draw(st.integers(1, 3))
    sa = draw(hnp.array_shapes(min_dims=ra, max_dims=ra, min_side=1, max_side=2))
    sb = draw(hnp.array_shapes(min_dims=rb, max_dims=rb, min_side=1, max_side=2))
    if ra and rb:
        sa = sa[:-1] + (k,)
        sb = sb[:-2] + (k,) + sb[-1:] if rb >= 2 else (k,)
    return Case((sa, sb))


@st.composite
def meshgrid_cases(draw):
    return Case(tuple((draw(st.integers(1, 3)),) for _ in range(3)),
                {"indexing": draw(st.sampled_from(["xy", "ij"]))})


@st.composite
def diagonal_cases(draw):
    shape = draw(shapes(min_dims=2, max_dims=3))
    return Case((shape,), {"which": draw(st.sampled_from(["diagonal", "trace"])),
                           "offset": draw(st.integers(-3, 3))})


@st.composite
def vector_norm_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                   unique_by=lambda d: d % nd).map(tuple)))
    return Case((shape,), {"ord": draw(st.sampled_from([2, 1, 3, 0.5, -1, math.inf, -math.inf])), "axis": axis,
                           "keepdims": draw(st.booleans())})


# ---- micrograd, NumPy and PyTorch versions --------------------------------------------------------------

def _clip_scalar(torch, x, lo, hi):
    return x.clone() if lo is None and hi is None else torch.clamp(x, lo, hi)


def _reduce(lib, x, which, axis, keepdims, correction=None, spelling=None):
    kw = {} if correction is None else {spelling: correction}
    if lib is np and spelling == "correction":
        kw = {"ddof": correction}  # NumPy's var and std spell it ddof (2.0 accepts correction= as well)
    out = getattr(lib, which)(x, axis=axis, keepdims=keepdims, **kw)
    return np.asarray(out) if lib is np else out


def _cumulative(lib, x, which, axis, include_initial):
    return getattr(lib, "cumulative_" + which)(x, axis=axis, include_initial=include_initial)


def _concat(lib, a, b, c, axis):
    return (lib.concat if lib is mnp else np.concatenate)((a, b, c), axis=axis)


def _torch_concat(torch, a, b, c, axis):
    return torch.cat([t.flatten() for t in (a, b, c)]) if axis is None else torch.cat((a, b, c), axis)


def _transpose(lib, x, which, axes):
    if which == "transpose":
        return lib.transpose(x, axes)
    if which == "swapaxes":
        return lib.swapaxes(x, *axes)
    if which == "permute_dims":
        return lib.permute_dims(x, axes)
    return lib.matrix_transpose(x)


def _flip_roll(lib, x, which, axis, shift):
    if which == "flip":
        return lib.flip(x, axis=axis)
    if which == "roll":
        return lib.roll(x, shift, axis=axis)
    return getattr(lib.fft, which)(x, axes=axis)


def _torch_flip_roll(torch, x, which, axis, shift):
    if which == "flip":
        return torch.flip(x, tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis)
    if which == "roll":  # torch.roll wants one shift per dim (the standard spreads an int over them)
        return torch.roll(x, (shift,) * len(axis) if isinstance(axis, tuple) and isinstance(shift, int) else shift,
                          axis)
    return getattr(torch.fft, which)(x, dim=axis)


def _repeat(lib, x, repeats, axis):
    return lib.repeat(x, mnp.asarray(repeats) if lib is mnp and isinstance(repeats, list) else repeats, axis=axis)


def _torch_repeat(torch, x, repeats, axis):
    return torch.repeat_interleave(x, torch.tensor(repeats) if isinstance(repeats, list) else repeats, dim=axis)


def _take(x, indices, axis):
    return mnp.take(x, mg.tensor(indices), axis=axis)


def _meshgrid(lib, a, b, c, indexing):
    return lib.stack(lib.meshgrid(a, b, c, indexing=indexing))


def _diagonal(lib, x, which, offset):
    return getattr(lib.linalg, which)(x, offset=offset)


def _torch_diagonal(torch, x, which, offset):
    d = torch.linalg.diagonal(x, offset=offset)
    return d if which == "diagonal" else d.sum(-1)


NAMESPACE_ROWS = (
    # elementwise: composed past the engine op
    OpSpec("np.sign", mnp.sign, np.sign, 1, "elementwise", unary_cases, SIGN, torch=lambda torch, x: torch.sign(x)),
    OpSpec("np.clip", lambda x, lo=-0.5, hi=1: mnp.clip(x, lo, hi), lambda x, lo=-0.5, hi=1: np.clip(x, lo, hi), 1,
           "elementwise", lambda: unary_cases(lo=st.sampled_from([None, -0.5, -1]), hi=st.sampled_from([None, 0.5, 1])),
           Domain(-2.0, 2.0, away=(-1.0, -0.5, 0.5, 1.0), gap=0.05), torch=_clip_scalar),
    OpSpec("np.clip-arrays", lambda x, lo, hi: mnp.clip(x, lo, hi), np.clip, 3, "elementwise", clip_cases,
           torch=lambda torch, x, lo, hi: torch.clamp(x, lo, hi)),
    # reductions: axis None / () / tuples, keepdims, correction
    OpSpec("np.sum-prod-mean", lambda x, **p: _reduce(mnp, x, **p), lambda x, **p: _reduce(np, x, **p), 1, "reduce",
           lambda: np_reduce_cases(["sum", "prod", "mean"])),
    OpSpec("np.max-min", lambda x, **p: _reduce(mnp, x, **p), lambda x, **p: _reduce(np, x, **p), 1, "reduce",
           lambda: np_reduce_cases(["max", "min"]), DISTINCT),
    OpSpec("np.var-std", lambda x, **p: _reduce(mnp, x, **p), lambda x, **p: _reduce(np, x, **p), 1, "reduce",
           lambda: np_reduce_cases(["var", "std"], var=True), DISTINCT),
    OpSpec("np.cumulative_sum-prod", lambda x, **p: _cumulative(mnp, x, **p), lambda x, **p: _cumulative(np, x, **p),
           1, "axis", cumulative_cases),
    OpSpec("np.diff", lambda x, pre, app, axis, n: mnp.diff(x, axis=axis, n=n, prepend=pre, append=app),
           lambda x, pre, app, axis, n: np.diff(x, n, axis, prepend=pre, append=app), 3, "axis", diff_cases,
           torch=lambda torch, x, pre, app, axis, n: torch.diff(x, n, axis, pre, app)),
    # manipulation
    OpSpec("np.concat", lambda *xs, axis: _concat(mnp, *xs, axis), lambda *xs, axis: _concat(np, *xs, axis), 3,
           "movement", concat_cases, torch=_torch_concat),
    OpSpec("np.squeeze", lambda x, axis: mnp.squeeze(x, axis), lambda x, axis: np.squeeze(x, axis), 1, "movement",
           np_squeeze_cases, torch=lambda torch, x, axis: torch.squeeze(x, axis)),
    OpSpec("np.moveaxis", lambda x, source, destination: mnp.moveaxis(x, source, destination), np.moveaxis, 1,
           "movement", moveaxis_cases,
           torch=lambda torch, x, source, destination: torch.movedim(x, source, destination)),
    OpSpec("np.transpose", lambda x, **p: _transpose(mnp, x, **p), lambda x, **p: _transpose(np, x, **p), 1,
           "movement", transpose_cases),
    OpSpec("np.flip-roll-fftshift", lambda x, **p: _flip_roll(mnp, x, **p), lambda x, **p: _flip_roll(np, x, **p), 1,
           "movement", flip_roll_cases, torch=_torch_flip_roll),
    OpSpec("np.tile", lambda x, reps: mnp.tile(x, reps), lambda x, reps: np.tile(x, reps), 1, "movement", tile_cases,
           torch=lambda torch, x, reps: torch.tile(x, reps)),
    OpSpec("np.repeat", lambda x, **p: _repeat(mnp, x, **p), lambda x, **p: _repeat(np, x, **p), 1, "movement",
           repeat_cases, torch=_torch_repeat),
    OpSpec("np.take", _take, lambda x, indices, axis: np.take(x, indices, axis=axis), 1, "movement", np_take_cases),
    OpSpec("np.take_along_axis", lambda x, indices, axis: mnp.take_along_axis(x, mg.tensor(indices), axis=axis),
           lambda x, indices, axis: np.take_along_axis(x, indices, axis=axis), 1, "movement", take_along_axis_cases,
           torch=lambda torch, x, indices, axis: torch.take_along_dim(x, torch.tensor(indices) % x.shape[axis], axis)),
    OpSpec("np.unique_values", mnp.unique_values, np.unique, 1, "movement", unary_cases, DISTINCT),
    OpSpec("np.meshgrid", lambda *xs, indexing: _meshgrid(mnp, *xs, indexing),
           lambda *xs, indexing: _meshgrid(np, *xs, indexing), 3, "movement", meshgrid_cases,
           torch=lambda torch, *xs, indexing: torch.stack(torch.meshgrid(*xs, indexing=indexing))),
    # products
    OpSpec("np.tensordot", lambda a, b, axes: mnp.tensordot(a, b, axes=axes),
           lambda a, b, axes: np.tensordot(a, b, axes), 2, "matmul", np_tensordot_cases,
           torch=lambda torch, a, b, axes: torch.tensordot(a, b, axes)),
    OpSpec("np.vecdot", lambda a, b, axis: mnp.vecdot(a, b, axis=axis), lambda a, b, axis: np.vecdot(a, b, axis=axis),
           2, "matmul", np_vecdot_cases, torch=lambda torch, a, b, axis: torch.linalg.vecdot(a, b, dim=axis)),
    OpSpec("np.dot", mnp.dot, np.dot, 2, "matmul", dot_cases),
    OpSpec("np.outer", mnp.outer, np.outer, 2, "matmul", lambda: st.builds(Case, st.tuples(shapes(max_dims=2),
                                                                                          shapes(max_dims=2)))),
    # linalg
    OpSpec("np.linalg.diagonal-trace", lambda x, **p: _diagonal(mnp, x, **p), lambda x, **p: _diagonal(np, x, **p), 1,
           "linalg", diagonal_cases, torch=_torch_diagonal),
    OpSpec("np.linalg.vector_norm", lambda x, **p: mnp.linalg.vector_norm(x, **p),
           lambda x, **p: np.asarray(np.linalg.vector_norm(x, **p)), 1, "reduce", vector_norm_cases, NORM,
           torch=lambda torch, x, ord, axis, keepdims: torch.linalg.vector_norm(x, ord, axis, keepdims)),
)
