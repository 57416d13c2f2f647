"""Op-spec rows for PyTorch's tensor functions beyond the core engine: elementwise maths, rounding, binary maths,
products and running reductions, norms, sorting, gathering and scattering, structural ops and products
(tests/op_specs.py adds them to its table; the same property tests run on each).
"""
import math

import numpy as np
from hypothesis import strategies as st

import micrograd as mg
from hypothesis.extra import numpy as hnp
from op_specs import (DISTINCT, NONZERO, POSITIVE, SMOOTH, TIES, WIDE, Case, Domain, OpSpec, binary_cases, shapes,
                      unary_cases)


def _unary(name, npfn, domain, aliases=(), **kw):
    vias = ["method", "function"] + [f"alias:{a}" for a in aliases]

    def fn(x, via="method"):
        if via.startswith("alias:"):
            return getattr(mg, via[6:])(x)
        return getattr(x, name)() if via == "method" else getattr(mg, name)(x)

    kw.setdefault("torch", lambda torch, x, via="method": getattr(torch, name)(x))
    return OpSpec(name, fn, lambda x, via="method": npfn(x), 1, "elementwise",
                  lambda: unary_cases(via=st.sampled_from(vias)), domain, **kw)


def _binary(name, npfn, domains, **kw):
    kw.setdefault("torch", lambda torch, a, b: getattr(torch, name)(a, b))
    return OpSpec(name, getattr(mg, name), npfn, 2, "elementwise", binary_cases, domains, **kw)


STEPS = Domain(-2.9, 2.9, away=(-2.0, -1.0, 0.0, 1.0, 2.0), gap=0.1)  # floor/ceil/trunc: no integer crossed
HALVES = Domain(-2.9, 2.9, away=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), gap=0.1)  # round: no half crossed
UNIT = Domain(-0.9, 0.9)


@st.composite
def dim_cases(draw, keepdim=False, none=False, min_dims=0):
    """One dim (or None), and keepdim."""
    shape = draw(shapes(min_dims=min_dims))
    nd = len(shape)
    choices = st.integers(-nd, nd - 1) if nd else st.sampled_from([0, -1])
    dim = draw(st.one_of(st.none(), choices) if none else choices)
    params = {"dim": dim}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return Case((shape,), params)


def _np_prod(x, dim, keepdim):
    return np.prod(x, axis=dim, keepdims=keepdim) if dim is not None else np.prod(x)


def _np_cum(fn):
    return lambda x, dim: fn(x, axis=dim) if x.ndim else x.copy()


def _np_logcumsumexp(x, dim):
    return np.logaddexp.accumulate(x, axis=dim) if x.ndim else x.copy()


@st.composite
def norm_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                         st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return Case((shape,), {"p": draw(st.sampled_from([2, 1, 3, float("inf"), "fro"])), "dim": dim,
                           "keepdim": draw(st.booleans())})


def _np_norm(x, p, dim, keepdim):
    p = 2 if p == "fro" else p
    axes = dim if dim is None or isinstance(dim, tuple) else (dim,)
    a = np.abs(x)
    if p == float("inf"):
        return np.max(a, axis=axes, keepdims=keepdim)
    return np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1 / p)


@st.composite
def sort_cases(draw, k=False):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    params = {"dim": dim, "flag": draw(st.booleans())}
    if k:
        params["k"] = draw(st.integers(1, shape[dim]))
    return Case((shape,), params)


def _np_sort(x, dim, flag):
    out = np.sort(x, axis=dim)
    return np.flip(out, axis=dim) if flag else out


def _np_topk(x, dim, flag, k):
    s = np.flip(np.sort(x, axis=dim), axis=dim) if flag else np.sort(x, axis=dim)
    return np.take(s, np.arange(k), axis=dim)


def _np_kthvalue(x, dim, flag, k):
    return np.take(np.sort(x, axis=dim), k - 1, axis=dim)


@st.composite
def gather_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.integers(0, nd - 1))
    ishape = tuple(draw(st.integers(1, n)) if k != dim else draw(st.integers(1, 3)) for k, n in enumerate(shape))
    index = np.array(draw(st.lists(st.integers(0, shape[dim] - 1), min_size=math.prod(ishape),
                                   max_size=math.prod(ishape)))).reshape(ishape).astype(np.int64)
    return Case((shape,), {"dim": dim, "index": index})


def _np_gather(x, dim, index):
    grid = list(np.indices(index.shape, sparse=True))  # torch.gather reads index's shape, no broadcasting
    grid[dim] = index
    return x[tuple(grid)]


@st.composite
def scatter_add_cases(draw):
    """scatter_add(zeros-like base, dim, index, src): src has the index's shape."""
    case = draw(gather_cases())
    return Case((case.shapes[0], case.params["index"].shape), case.params)


def _np_scatter_add(base, src, dim, index):
    out = base.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    np.add.at(out, tuple(grid), src)
    return out


@st.composite
def index_select_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    index = np.array(draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1, max_size=4)), np.int64)
    return Case((shape,), {"dim": dim, "index": index})


@st.composite
def repeat_interleave_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    n = int(np.prod(shape)) if dim is None else shape[dim]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n).map(
        lambda r: np.array(r, np.int64))))
    return Case((shape,), {"repeats": repeats, "dim": dim})


@st.composite
def repeat_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    extra = draw(st.integers(0, 2))
    reps = tuple(draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra, max_size=len(shape) + extra)))
    return Case((shape,), {"reps": reps})


@st.composite
def flip_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dims = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd)))
    shifts = tuple(draw(st.integers(-4, 4)) for _ in dims)
    return Case((shape,), {"dims": dims, "shifts": shifts})


@st.composite
def tri_cases(draw):
    return Case((draw(shapes(min_dims=2)),), {"diagonal": draw(st.integers(-2, 2)), "lower": draw(st.booleans())})


@st.composite
def mm_cases(draw, batch=False):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    lead = (draw(st.integers(1, 3)),) if batch else ()
    return Case((lead + (n, k), lead + (k, m)), {})


EINSUM = ["ij,jk->ik", "ii->", "ii->i", "bij,bjk->bik", "ij->j", "i,j->ij", "...j,jk", "ij,ij->i", "ji"]


@st.composite
def einsum_cases(draw):
    eq = draw(st.sampled_from(EINSUM))
    n = draw(st.integers(1, 3))
    sizes = {c: n if c == "i" else draw(st.integers(1, 3)) for c in "ijkb"}
    lhs = eq.split("->")[0].split(",")
    shapes_ = tuple((2,) + tuple(sizes[c] for c in s[3:]) if s.startswith("...") else tuple(sizes[c] for c in s)
                    for s in lhs)
    return Case(shapes_, {"eq": eq})


def _einsum(*xs, eq):
    return mg.einsum(eq, *xs)


def _np_einsum(*xs, eq):
    return np.einsum(eq, *xs)


ROWS = (
    _unary("tan", np.tan, Domain(-1.2, 1.2)),
    _unary("asin", np.arcsin, UNIT, ("arcsin",)),
    _unary("acos", np.arccos, UNIT, ("arccos",)),
    _unary("atan", np.arctan, WIDE, ("arctan",)),
    _unary("sinh", np.sinh, SMOOTH),
    _unary("cosh", np.cosh, SMOOTH),
    _unary("asinh", np.arcsinh, WIDE, ("arcsinh",)),
    _unary("acosh", np.arccosh, Domain(1.2, 3.0), ("arccosh",)),
    _unary("atanh", np.arctanh, UNIT, ("arctanh",)),
    _unary("log2", np.log2, POSITIVE),
    _unary("log10", np.log10, POSITIVE),
    _unary("log1p", np.log1p, Domain(-0.5, 3.0)),
    _unary("expm1", np.expm1, WIDE),
    _unary("exp2", np.exp2, WIDE),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), POSITIVE),
    _unary("reciprocal", np.reciprocal, NONZERO),
    _unary("square", np.square, SMOOTH),
    _unary("floor", np.floor, STEPS),
    _unary("ceil", np.ceil, STEPS),
    _unary("trunc", np.trunc, STEPS, ("fix",)),
    _unary("round", np.round, HALVES),
    _unary("frac", lambda x: x - np.trunc(x), STEPS),
    _unary("sign", np.sign, Domain(-2.0, 2.0, away=(0.0,), gap=0.1), ("sgn",)),
    _binary("atan2", np.arctan2, (SMOOTH, NONZERO)),
    _binary("hypot", np.hypot, (NONZERO, NONZERO)),
    _binary("logaddexp", np.logaddexp, (SMOOTH, SMOOTH)),
    _binary("logaddexp2", np.logaddexp2, (SMOOTH, SMOOTH)),
    _binary("copysign", np.copysign, (NONZERO, NONZERO)),
    _binary("fmod", np.fmod, (Domain(-1.0, 1.0, away=(0.0,), gap=0.1), Domain(1.5, 2.5))),
    OpSpec("prod", lambda x, dim, keepdim: x.prod() if dim is None else x.prod(dim, keepdim), _np_prod, 1,
           "reduce", lambda: dim_cases(keepdim=True, none=True), SMOOTH,
           torch=lambda torch, x, dim, keepdim: x.prod() if dim is None else x.prod(dim, keepdim)),
    OpSpec("cumsum", lambda x, dim: mg.cumsum(x, dim), _np_cum(np.cumsum), 1, "axis", dim_cases, SMOOTH,
           torch=lambda torch, x, dim: torch.cumsum(x, dim)),
    OpSpec("cumprod", lambda x, dim: x.cumprod(dim), _np_cum(np.cumprod), 1, "axis", dim_cases, SMOOTH,
           torch=lambda torch, x, dim: torch.cumprod(x, dim)),
    OpSpec("logcumsumexp", lambda x, dim: mg.logcumsumexp(x, dim), _np_logcumsumexp, 1, "axis", dim_cases, SMOOTH,
           torch=lambda torch, x, dim: torch.logcumsumexp(x, dim)),
    OpSpec("norm", lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), _np_norm, 1, "reduce", norm_cases,
           Domain(-2.0, 2.0, away=(0.0,), gap=0.2, distinct=True),
           torch=lambda torch, x, p, dim, keepdim: torch.norm(x, p, dim, keepdim)),
    OpSpec("sort", lambda x, dim, flag: mg.sort(x, dim, descending=flag).values, _np_sort, 1, "movement",
           sort_cases, DISTINCT, torch=lambda torch, x, dim, flag: torch.sort(x, dim, descending=flag).values),
    OpSpec("topk", lambda x, dim, flag, k: x.topk(k, dim, largest=flag).values, _np_topk, 1, "movement",
           lambda: sort_cases(k=True), DISTINCT,
           torch=lambda torch, x, dim, flag, k: x.topk(k, dim, largest=flag).values),
    OpSpec("kthvalue", lambda x, dim, flag, k: mg.kthvalue(x, k, dim).values, _np_kthvalue, 1, "movement",
           lambda: sort_cases(k=True), DISTINCT,
           torch=lambda torch, x, dim, flag, k: torch.kthvalue(x, k, dim).values),
    OpSpec("gather", lambda x, dim, index: x.gather(dim, mg.tensor(index)), _np_gather, 1, "movement", gather_cases,
           torch=lambda torch, x, dim, index: x.gather(dim, torch.tensor(index))),
    OpSpec("scatter_add", lambda base, src, dim, index: base.scatter_add(dim, mg.tensor(index), src),
           _np_scatter_add, 2, "movement", scatter_add_cases,
           torch=lambda torch, base, src, dim, index: base.scatter_add(dim, torch.tensor(index), src)),
    OpSpec("index_select", lambda x, dim, index: mg.index_select(x, dim, mg.tensor(index)),
           lambda x, dim, index: np.take(x, index, axis=dim), 1, "movement", index_select_cases,
           torch=lambda torch, x, dim, index: torch.index_select(x, dim, torch.tensor(index))),
    OpSpec("repeat_interleave", lambda x, repeats, dim: x.repeat_interleave(
               mg.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats, dim),
           lambda x, repeats, dim: np.repeat(x, repeats, axis=dim), 1, "movement", repeat_interleave_cases,
           torch=lambda torch, x, repeats, dim: torch.repeat_interleave(
               x, torch.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats, dim)),
    OpSpec("repeat", lambda x, reps: x.repeat(*reps) if reps else x.repeat(()), lambda x, reps: np.tile(x, reps),
           1, "movement", repeat_cases, torch=lambda torch, x, reps: x.repeat(*reps) if reps else x.repeat(())),
    OpSpec("tile", lambda x, reps: mg.tile(x, reps[1:]), lambda x, reps: np.tile(x, reps[1:]), 1, "movement",
           repeat_cases, torch=lambda torch, x, reps: torch.tile(x, reps[1:])),
    OpSpec("flip", lambda x, dims, shifts: mg.flip(x, dims), lambda x, dims, shifts: np.flip(x, dims), 1,
           "movement", flip_cases, torch=lambda torch, x, dims, shifts: torch.flip(x, dims)),
    OpSpec("roll", lambda x, dims, shifts: x.roll(shifts, dims), lambda x, dims, shifts: np.roll(x, shifts, dims),
           1, "movement", flip_cases, torch=lambda torch, x, dims, shifts: x.roll(shifts, dims)),
    OpSpec("tril_triu", lambda x, diagonal, lower: (mg.tril if lower else mg.triu)(x, diagonal),
           lambda x, diagonal, lower: (np.tril if lower else np.triu)(x, diagonal), 1, "movement", tri_cases,
           torch=lambda torch, x, diagonal, lower: (torch.tril if lower else torch.triu)(x, diagonal)),
    OpSpec("mm", mg.mm, np.matmul, 2, "matmul", mm_cases, torch=lambda torch, a, b: torch.mm(a, b)),
    OpSpec("bmm", mg.bmm, np.matmul, 2, "matmul", lambda: mm_cases(batch=True),
           torch=lambda torch, a, b: torch.bmm(a, b)),
)
EINSUM_ROWS = tuple(
    OpSpec(f"einsum{n}", _einsum, _np_einsum, n, "matmul",
           lambda n=n: einsum_cases().filter(lambda c, n=n: len(c.shapes) == n),
           torch=lambda torch, *xs, eq: torch.einsum(eq, *xs))
    for n in (1, 2))


# ---- forward-only and composite functions: bool results, index results, pieces ------------------------------

def _predicate(name, npfn):
    return OpSpec(name, lambda x: getattr(mg, name)(x), npfn, 1, "compare", unary_cases, TIES, grad=False,
                  gradgrad=False, torch=lambda torch, x: getattr(torch, name)(x))


def _logical(name):
    npfn = getattr(np, name)
    return OpSpec(name, getattr(mg, name), npfn, 2, "compare", binary_cases, TIES, grad=False, gradgrad=False,
                  torch=lambda torch, a, b: getattr(torch, name)(a, b))


_COMPARE_FNS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
                "ge": np.greater_equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
                "greater": np.greater, "greater_equal": np.greater_equal}


@st.composite
def compare_fn_cases(draw):
    case = draw(binary_cases())
    return Case(case.shapes, {"name": draw(st.sampled_from(sorted(_COMPARE_FNS))), "method": draw(st.booleans())})


def _compare_fn(a, b, name, method):
    return getattr(a, name)(b) if method else getattr(mg, name)(a, b)


@st.composite
def masked_fill_cases(draw):
    shape = draw(shapes())
    mask = draw(hnp.arrays(np.bool_, shape))
    return Case((shape,), {"mask": mask, "value": draw(st.sampled_from([0.0, -1.5, 2.0]))})


@st.composite
def scatter_cases(draw):
    """scatter(dim, index, src) with distinct indices along dim (PyTorch leaves repeated writes unordered)."""
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.integers(0, nd - 1))
    rows = draw(st.integers(1, shape[dim]))
    ishape = tuple(rows if k == dim else draw(st.integers(1, n)) for k, n in enumerate(shape))
    keys = draw(hnp.arrays(np.float64, tuple(shape[dim] if k == dim else n for k, n in enumerate(ishape)),
                           elements=st.floats(0, 1), unique=True))
    index = np.take(np.argsort(keys, axis=dim), np.arange(rows), axis=dim).astype(np.int64)
    return Case((shape, ishape), {"dim": dim, "index": index})


def _np_scatter(x, src, dim, index):
    out = x.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    out[tuple(grid)] = src
    return out


@st.composite
def take_cases(draw):
    shape = draw(shapes(min_dims=1))
    n = math.prod(shape)
    index = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=5)), np.int64)
    return Case((shape,), {"index": index.reshape(draw(st.sampled_from([(-1,), (1, -1)])))
                           if index.size else index})


@st.composite
def split_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    how = draw(st.sampled_from(["split", "chunk", "unbind"]))
    size = draw(st.integers(1, max(shape[dim], 1)))
    pieces = {"split": math.ceil(shape[dim] / size), "chunk": len(np.array_split(np.empty(shape[dim]), size)),
              "unbind": shape[dim]}[how]
    if how == "chunk":
        pieces = math.ceil(shape[dim] / math.ceil(shape[dim] / size))
    return Case((shape,), {"dim": dim, "how": how, "size": size, "k": draw(st.integers(0, max(pieces - 1, 0)))})


def _split(x, dim, how, size, k):
    if how == "unbind":
        return x.unbind(dim)[k]
    return (x.split(size, dim) if how == "split" else x.chunk(size, dim))[k]


def _np_split(x, dim, how, size, k):
    n = x.shape[dim]
    if how == "unbind":
        return np.take(x, k, axis=dim)
    step = size if how == "split" else math.ceil(n / size)
    return np.take(x, np.arange(k * step, min((k + 1) * step, n)), axis=dim)


def _np_cumextreme(fn):
    return lambda x, dim: fn.accumulate(x, axis=dim) if x.ndim else x.copy()


@st.composite
def any_all_cases(draw):
    case = draw(dim_cases(keepdim=True, none=True))
    return Case(case.shapes, {**case.params, "which": draw(st.sampled_from(["any", "all"]))})


def _any_all(x, dim, keepdim, which):
    b = x > 0
    return getattr(b, which)() if dim is None else getattr(b, which)(dim, keepdim)


def _np_any_all(x, dim, keepdim, which):
    return getattr(np, which)(x > 0, axis=dim, keepdims=keepdim if dim is not None else False)


MORE_ROWS = (
    *(_predicate(n, getattr(np, n)) for n in ("isnan", "isinf", "isfinite", "signbit", "logical_not")),
    *(_logical(n) for n in ("logical_and", "logical_or", "logical_xor")),
    OpSpec("compare_functions", _compare_fn, lambda a, b, name, method: _COMPARE_FNS[name](a, b), 2, "compare",
           compare_fn_cases, TIES, grad=False, gradgrad=False,
           torch=lambda torch, a, b, name, method: getattr(torch, name)(a, b)),
    OpSpec("isclose", lambda a, b: mg.isclose(a, b), lambda a, b: np.isclose(a, b, 1e-5, 1e-8), 2, "compare",
           binary_cases, TIES, grad=False, gradgrad=False, torch=lambda torch, a, b: torch.isclose(a, b)),
    OpSpec("masked_fill", lambda x, mask, value: x.masked_fill(mg.tensor(mask), value),
           lambda x, mask, value: np.where(mask, value, x), 1, "elementwise", masked_fill_cases,
           torch=lambda torch, x, mask, value: x.masked_fill(torch.tensor(mask), value)),
    OpSpec("scatter", lambda x, src, dim, index: x.scatter(dim, mg.tensor(index), src), _np_scatter, 2, "movement",
           scatter_cases, torch=lambda torch, x, src, dim, index: x.scatter(dim, torch.tensor(index), src)),
    OpSpec("take", lambda x, index: mg.take(x, mg.tensor(index)), lambda x, index: np.take(x, index), 1, "movement",
           take_cases, torch=lambda torch, x, index: torch.take(x, torch.tensor(index))),
    OpSpec("split_chunk_unbind", _split, _np_split, 1, "movement", split_cases,
           torch=lambda torch, x, dim, how, size, k: _split(x, dim, how, size, k)),
    OpSpec("cummax", lambda x, dim: mg.cummax(x, dim).values, _np_cumextreme(np.maximum), 1, "axis", dim_cases,
           DISTINCT, torch=lambda torch, x, dim: torch.cummax(x, dim).values),
    OpSpec("cummin", lambda x, dim: mg.cummin(x, dim).values, _np_cumextreme(np.minimum), 1, "axis", dim_cases,
           DISTINCT, torch=lambda torch, x, dim: torch.cummin(x, dim).values),
    OpSpec("argsort", lambda x, dim, flag: mg.argsort(x, dim, descending=flag),
           lambda x, dim, flag: np.argsort(-x if flag else x, axis=dim), 1, "index", sort_cases, DISTINCT,
           grad=False, gradgrad=False, torch=lambda torch, x, dim, flag: torch.argsort(x, dim, descending=flag)),
    OpSpec("any_all", _any_all, _np_any_all, 1, "reduce", any_all_cases, TIES, grad=False, gradgrad=False,
           torch=lambda torch, x, dim, keepdim, which: _any_all(x, dim, keepdim, which)),
    OpSpec("diag", lambda x, k: mg.diag(x, k), lambda x, k: np.diag(x, k), 1, "movement",
           lambda: st.builds(Case, st.tuples(shapes(min_dims=1, max_dims=2)), st.fixed_dictionaries(
               {"k": st.integers(-1, 1)})), torch=lambda torch, x, k: torch.diag(x, k)),
    OpSpec("tensordot", lambda a, b: mg.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), 2, "matmul",
           lambda: mm_cases(), torch=lambda torch, a, b: torch.tensordot(a, b, 1)),
)
