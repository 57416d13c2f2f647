"""The op-spec table: one row per op of the Tensor engine (API.md), driving tests/test_ops_property.py.

A row names the op, a micrograd function of Tensors, a NumPy reference of arrays, the arity, the input
domain (away from kinks and poles), how its shapes and arguments are drawn, whether it is differentiated
(once, twice) and its float32 tolerance. `fn(*tensors, **params)` and `ref(*arrays, **params)` take the same
params, drawn by `spec.cases()`. Adding an op = one class + one Tensor method + one row here.
"""
import functools
import math
import operator
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd as mg
from micrograd.testing import strategies

MAX_SIZE = 36  # elements per drawn tensor: keeps full-Jacobian gradchecks fast
GRID = 401  # values are drawn from a grid, so "distinct" inputs stay well apart for finite differences


@dataclass(frozen=True)
class Domain:
    """Where an input's values are drawn from.

    Args:
        lo, hi: the interval.
        away: points to keep at least `gap` from (kinks such as 0 for abs/relu, or clip's bounds).
        distinct: no two values equal, across all inputs of the op (max/min ties, maximum/minimum).
        ties: values from a five-point set, so equality comparisons hit.
    """

    lo: float = -2.0
    hi: float = 2.0
    away: tuple = ()
    gap: float = 0.1
    distinct: bool = False
    ties: bool = False


@functools.lru_cache(maxsize=None)
def points(domain, slot, nslots):
    """The grid of values input `slot` of `nslots` draws from."""
    if domain.ties:
        return tuple(np.linspace(domain.lo, domain.hi, 5))
    # Input `slot` of `nslots` gets its own offset, so two distinct inputs never share a value.
    off = (slot + 0.5) / nslots
    pts = (domain.lo + (domain.hi - domain.lo) * (k + off) / GRID for k in range(GRID))
    return tuple(p for p in pts if all(abs(p - c) >= domain.gap for c in domain.away))


def values(domain, shape, slot=0, nslots=1):
    """A float64 array of `shape` with elements in `domain`."""
    return hnp.arrays(np.float64, shape, elements=st.sampled_from(points(domain, slot, nslots)),
                      unique=domain.distinct)


SMOOTH = Domain(-2.0, 2.0)
WIDE = Domain(-3.0, 3.0)
POSITIVE = Domain(0.5, 3.0)  # log, sqrt, pow bases, away from the pole/branch point at 0
NONZERO = Domain(-2.0, 2.0, away=(0.0,), gap=0.5)  # denominators
KINK0 = Domain(-3.0, 3.0, away=(0.0,), gap=0.1)  # abs, relu
DISTINCT = Domain(-2.0, 2.0, distinct=True)  # max/min/maximum/minimum/argmax: no ties
TIES = Domain(-1.0, 1.0, ties=True)  # comparisons: equal values do occur


@dataclass(frozen=True)
class Case:
    """One drawn call: the shapes of the tensor inputs and the keyword params shared by fn and ref."""

    shapes: tuple
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OpSpec:
    """One row of the table.

    Args:
        name: the row's test id.
        fn: micrograd function, `fn(*tensors, **params)`.
        ref: NumPy reference, `ref(*arrays, **params)`; its result dtype is the expected one (NumPy 2).
        arity: the number of tensor inputs.
        kind: "elementwise" (broadcast pairs), "reduce" (axis/keepdims/alias drawn), "axis" (one axis),
            "index" (argmax/argmin), "compare", "matmul", "movement", "cast".
        cases: a function returning a strategy of `Case`.
        domain: one Domain for all inputs, or a tuple with one per input.
        grad: the backward pass is checked against finite differences.
        gradgrad: second derivatives are checked too.
        rtol32, atol32: forward tolerance in float32 (float64 is checked tightly).
        grad_kw: extra arguments for mg.gradcheck / mg.gradgradcheck.
        torch: PyTorch's version, `torch(torch_module, *torch_tensors, **params)`, where micrograd's must give
            PyTorch's values and gradients (checked in float64 when PyTorch is installed); None: not compared.
    """

    name: str
    fn: object
    ref: object
    arity: int
    kind: str
    cases: object
    domain: object = SMOOTH
    grad: bool = True
    gradgrad: bool = True
    rtol32: float = 1e-4
    atol32: float = 1e-5
    grad_kw: dict = field(default_factory=dict)
    torch: object = None

    def domains(self, n):
        d = self.domain
        return tuple(d) if isinstance(d, tuple) else (d,) * n

    def inputs(self, case):
        """A strategy of the float64 input arrays for `case`."""
        doms = self.domains(len(case.shapes))
        n = len(case.shapes)
        return st.tuples(*(values(d, s, i, n) for i, (d, s) in enumerate(zip(doms, case.shapes))))


# ---- shape and argument strategies --------------------------------------------------------------------

def _small(shape):
    return math.prod(shape) <= MAX_SIZE


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).filter(_small)


def broadcast_shapes(n, min_dims=0, max_dims=4, min_side=1, max_side=3):
    """n mutually broadcastable shapes (a size-1 or missing axis in one meets a larger one in another)."""
    return strategies.broadcastable_shapes(n, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                           max_side=max_side).filter(
        lambda ss: _small(np.broadcast_shapes(*ss)))


def numpy_axes(ndim):
    """Axes NumPy accepts for `ndim` dims: None, an int or a tuple (`()` included), negatives too."""
    return strategies.valid_axes(ndim)


@st.composite
def unary_cases(draw, **extra):
    params = {k: draw(v) for k, v in extra.items()}
    return Case((draw(shapes(min_side=0)),), params)


@st.composite
def binary_cases(draw, n=2, **extra):
    params = {k: draw(v) for k, v in extra.items()}
    return Case(tuple(draw(broadcast_shapes(n, min_side=0))), params)


@st.composite
def scalar_cases(draw):
    """x OP c and c OP x with a Python int or float (c ** x with a positive c; x ** c is pow_scalar's)."""
    op = draw(st.sampled_from(["add", "sub", "mul", "truediv", "pow"]))
    reflected = op == "pow" or draw(st.booleans())
    c = draw(st.sampled_from([2, 0.75, 1.5] if op == "pow" else [2, -1.5, 0.75]))
    return Case((draw(shapes(min_side=0)),), {"op": op, "c": c, "reflected": reflected})


@st.composite
def reduce_cases(draw, ddof=False):
    shape = draw(shapes())
    axis = draw(numpy_axes(len(shape)))
    params = {"axis": axis, "keepdims": draw(st.booleans()), "alias": draw(st.booleans())}
    if ddof:  # ddof=1 needs two elements per reduced slice
        count = math.prod(shape[a] for a in (range(len(shape)) if axis is None else np.atleast_1d(axis)))
        params["ddof"] = draw(st.sampled_from([0, 1])) if count > 1 else 0
    return Case((shape,), params)


@st.composite
def axis_cases(draw):
    """One axis (softmax, log_softmax); a 0-d tensor takes 0 or -1, as in PyTorch."""
    shape = draw(shapes())
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1)) if nd else draw(st.sampled_from([0, -1]))
    return Case((shape,), {"axis": axis, "alias": draw(st.booleans())})


@st.composite
def index_cases(draw):
    """argmax/argmin: axis None or one int; keepdims."""
    shape = draw(shapes())
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
    return Case((shape,), {"axis": axis, "keepdims": draw(st.booleans()), "alias": draw(st.booleans())})


@st.composite
def matmul_cases(draw):
    """1-d and 2-d operands in every combination, and batched ones whose batch dims broadcast."""
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    na, nb = max(ra - 2, 0), max(rb - 2, 0)
    batch = draw(hnp.array_shapes(min_dims=max(na, nb), max_dims=max(na, nb), min_side=1, max_side=2))
    ba = tuple(d if draw(st.booleans()) else 1 for d in batch[len(batch) - na:])
    bb = tuple(d if draw(st.booleans()) else 1 for d in batch[len(batch) - nb:])
    sa = (k,) if ra == 1 else ba + (n, k)
    sb = (k,) if rb == 1 else bb + (k, m)
    return Case((sa, sb), {"via": draw(st.sampled_from(["op", "function", "method"]))})


def _factor_shape(draw, size):
    """A random shape with `size` elements (prime factors and ones shuffled into 0-4 dims)."""
    factors, n, p = [], size, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    ndim = draw(st.integers(len(factors) and 1, 4))
    dims = [1] * ndim
    for f in factors:
        dims[draw(st.integers(0, ndim - 1))] *= f
    return tuple(dims)


@st.composite
def reshape_cases(draw):
    shape = draw(shapes())
    target = _factor_shape(draw, math.prod(shape))
    if target and draw(st.booleans()):
        i = draw(st.integers(0, len(target) - 1))
        call_shape = target[:i] + (-1,) + target[i + 1:]
    else:
        call_shape = target
    return Case((shape,), {"shape": call_shape, "target": target,
                           "via": draw(st.sampled_from(["tuple", "ints", "view", "function"]))})


@st.composite
def transpose_cases(draw):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return Case((shape,), {"dim0": draw(st.integers(-nd, nd - 1)), "dim1": draw(st.integers(-nd, nd - 1)),
                           "via": draw(st.sampled_from(["method", "function"]))})


@st.composite
def permute_cases(draw):
    shape = draw(shapes())
    nd = len(shape)
    perm = draw(st.permutations(range(nd)))
    axes = tuple(draw(st.sampled_from([a, a - nd])) for a in perm)
    return Case((shape,), {"axes": axes, "via": draw(st.sampled_from(["ints", "tuple", "function"]))})


@st.composite
def flatten_cases(draw):
    """flatten() or flatten(start_dim, end_dim) with start <= end, either given negative."""
    shape = draw(shapes())
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        return Case((shape,), {"dims": None})
    s = draw(st.integers(0, nd - 1))
    e = draw(st.integers(s, nd - 1))
    return Case((shape,), {"dims": (draw(st.sampled_from([s, s - nd])), draw(st.sampled_from([e, e - nd])))})


@st.composite
def unsqueeze_cases(draw):
    shape = draw(shapes(max_dims=3))
    nd = len(shape)
    return Case((shape,), {"axis": draw(st.integers(-nd - 1, nd))})


@st.composite
def squeeze_cases(draw):
    shape = draw(shapes(max_side=3).map(lambda s: tuple(1 if n == 3 else n for n in s)))
    ones = [i for i, n in enumerate(shape) if n == 1]
    nd = len(shape)
    options = [st.none()]
    if ones:
        options.append(st.sampled_from(ones).flatmap(lambda i: st.sampled_from([i, i - nd])))
        options.append(st.lists(st.sampled_from(ones), min_size=0, max_size=len(ones), unique=True).map(tuple))
    return Case((shape,), {"axis": draw(st.one_of(*options))})


@st.composite
def broadcast_to_cases(draw):
    """A target with new leading axes and size-1 axes stretched."""
    shape = draw(shapes(max_dims=3))
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    target = lead + tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    return Case((shape,), {"target": target if _small(target) else shape,
                           "via": draw(st.sampled_from(["method", "function", "expand"]))})


@st.composite
def expand_cases(draw):
    """PyTorch's expand sizes: a broadcast target, with -1 for some of the input's own dimensions, given as ints
    or as one tuple."""
    case = draw(broadcast_to_cases())
    shape, target = case.shapes[0], case.params["target"]
    lead = len(target) - len(shape)
    sizes = tuple(-1 if i >= lead and draw(st.booleans()) else n for i, n in enumerate(target))
    return Case((shape,), {"sizes": sizes, "as_tuple": not sizes or draw(st.booleans())})


@st.composite
def basic_index_cases(draw):
    """Ints (negative too), slices with any step (negative too), None and Ellipsis."""
    shape = draw(shapes(max_dims=3, max_side=4))
    index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    return Case((shape,), {"index": index})


@st.composite
def array_index_cases(draw):
    """Integer arrays (repeats and negatives) alone, after slices, after Ellipsis, beside a reversed slice
    or an int, or one per axis; passed as NumPy arrays or as Tensors."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    nd = len(shape)

    def ints(n, res=None):
        res = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)) if res is None else res
        return draw(hnp.arrays(np.int64, res, elements=st.integers(-n, n - 1)))

    style = draw(st.sampled_from(["axis", "ellipsis", "mixed", "all_axes"]))
    if style == "all_axes":
        res = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
        index = tuple(ints(n, res) for n in shape)
    elif style == "ellipsis":
        index = (Ellipsis, ints(shape[-1]))
    elif style == "mixed" and nd >= 2:
        first = draw(st.sampled_from([slice(None, None, -1), slice(1, None, 2), -1, 0]))
        index = (first, ints(shape[1]))
    else:
        pos = draw(st.integers(0, nd - 1))
        index = (slice(None),) * pos + (ints(shape[pos]),)
    return Case((shape,), {"index": index, "as_tensor": draw(st.booleans())})


@st.composite
def mask_index_cases(draw):
    """A bool mask over the leading k axes (the whole shape included), as an array or a Tensor."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:k]))
    return Case((shape,), {"index": mask, "as_tensor": draw(st.booleans())})


@st.composite
def concatenate_cases(draw):
    base = draw(shapes(min_dims=1, max_dims=3))
    nd = len(base)
    axis = draw(st.integers(-nd, nd - 1))
    ins = tuple(base[:axis % nd] + (draw(st.integers(1, 3)),) + base[axis % nd + 1:] for _ in range(3))
    return Case(ins, {"axis": axis, "via": draw(st.sampled_from(["concatenate", "cat", "dim"]))})


@st.composite
def stack_cases(draw):
    shape = draw(shapes(max_dims=3))
    nd = len(shape)
    return Case((shape, shape), {"axis": draw(st.integers(-nd - 1, nd)), "via": draw(st.sampled_from(["axis", "dim"]))})


@st.composite
def where_cases(draw):
    sa, sb, sc = draw(broadcast_shapes(3, max_dims=3))
    cond = draw(hnp.arrays(np.bool_, sc))
    return Case((sa, sb), {"cond": cond, "as_tensor": draw(st.booleans())})


@st.composite
def pad_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    w = st.integers(0, 2)
    pw = draw(st.one_of(w, st.tuples(w, w), st.tuples(*(st.tuples(w, w) for _ in shape))))  # NumPy's 3 forms
    return Case((shape,), {"pad_width": pw})


@st.composite
def cast_cases(draw):
    return Case((draw(shapes()),), {"target": draw(st.sampled_from(["float32", "float64"])),
                                    "via": draw(st.sampled_from(["astype", "to", "method", "mg_dtype"]))})


# ---- micrograd functions and NumPy references -----------------------------------------------------------

def _unary(name, npfn, domain, **kw):
    vias = ["method", "function"] + (["builtin"] if name == "abs" else [])

    def fn(x, via="method"):
        if via == "method":
            return getattr(x, name)()
        return abs(x) if via == "builtin" else getattr(mg, name)(x)

    kw.setdefault("torch", lambda torch, x, via="method": getattr(torch, name)(x))
    return OpSpec(name, fn, lambda x, via="method": npfn(x), 1, "elementwise",
                  lambda: unary_cases(via=st.sampled_from(vias)), domain, **kw)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=keepdims))
    return out + (m if keepdims else np.squeeze(m, axis=axis))


def _np_log_softmax(x, axis):
    return x - _np_logsumexp(x, axis=axis if x.ndim else None, keepdims=True)


def _reduce(name, npfn, domain=SMOOTH, ddof=False, **kw):
    """A reduction row; `alias` switches to the mg.NAME(x, dim=, keepdim=) form."""

    def fn(x, axis, keepdims, alias, **extra):
        if alias:
            return getattr(mg, name)(x, dim=axis, keepdim=keepdims, **extra)
        return getattr(x, name)(axis=axis, keepdims=keepdims, **extra)

    def ref(x, axis, keepdims, alias, **extra):
        return npfn(x, axis=None if axis == () else axis, keepdims=keepdims, **extra)  # dim=(): all, as PyTorch

    return OpSpec(name, fn, ref, 1, "reduce", lambda: reduce_cases(ddof=ddof), domain, **kw)


def _extremum(name, npfn):
    """max/min: x.max() (every element), x.max(dim).values (one dim), x.amax(dims) (several, or keepdim)."""

    def fn(x, axis, keepdims, alias):
        if axis is None and not keepdims:
            return getattr(mg, name)(x) if alias else getattr(x, name)()
        if isinstance(axis, int):
            return (getattr(mg, name)(x, axis, keepdims) if alias else getattr(x, name)(dim=axis, keepdim=keepdims)).values
        return getattr(mg, "a" + name)(x, dim=() if axis is None else axis, keepdim=keepdims)

    def ref(x, axis, keepdims, alias):
        return npfn(x, axis=None if axis == () else axis, keepdims=keepdims)

    return OpSpec(name, fn, ref, 1, "reduce", reduce_cases, DISTINCT)


def _softmax_like(name, npfn):
    def fn(x, axis, alias):
        return getattr(x, name)(dim=axis) if alias else getattr(mg, name)(x, axis=axis)

    return OpSpec(name, fn, lambda x, axis, alias: npfn(x, axis), 1, "axis", axis_cases, SMOOTH)


def _arg(name, npfn):
    def fn(x, axis, keepdims, alias):
        if alias:
            return getattr(x, name)(dim=axis, keepdim=keepdims)
        return getattr(mg, name)(x, axis=axis, keepdims=keepdims)

    def ref(x, axis, keepdims, alias):
        return npfn(x, axis=axis, keepdims=keepdims)

    return OpSpec(name, fn, ref, 1, "index", index_cases, DISTINCT, grad=False, gradgrad=False)


_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
            "ne": operator.ne}


def _compare(name):
    op = _COMPARE[name]
    return OpSpec(name, op, op, 2, "compare", binary_cases, TIES, grad=False, gradgrad=False)


def _compare_scalar(x, name, c, reflected):
    return _COMPARE[name](c, x) if reflected else _COMPARE[name](x, c)


_ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
          "pow": operator.pow}


def _scalar_arith(x, op, c, reflected):
    """x OP c or c OP x with a Python number (weak: float32 stays float32)."""
    return _ARITH[op](c, x) if reflected else _ARITH[op](x, c)


def _ndarray_arith(x, op, arr):
    """ndarray OP tensor (the reflected operator; the array counts as a tensor)."""
    return _ARITH[op](arr, x)


def _ndarray_arith_ref(x, op, arr):
    """PyTorch's promotion of two float operands: one with dimensions decides over a 0-d one."""
    dims = [a.dtype for a in (arr, x) if a.ndim]
    dt = np.result_type(*dims) if dims else np.result_type(arr, x)
    return np.asarray(_ARITH[op](arr.astype(dt), x.astype(dt)))  # computed in the result's dtype


def _matmul(a, b, via):
    return a @ b if via == "op" else mg.matmul(a, b) if via == "function" else a.__matmul__(b)


def _reshape(x, shape, target, via):
    if via == "tuple":
        return x.reshape(shape)
    if via == "ints":
        return x.reshape(*shape)
    return x.view(shape) if via == "view" else mg.reshape(x, shape)


def _transpose(x, dim0, dim1, via):
    return x.transpose(dim0, dim1) if via == "method" else mg.transpose(x, dim0, dim1)


def _permute(x, axes, via):
    if via == "ints":
        return x.permute(*axes)
    return x.permute(axes) if via == "tuple" else mg.permute(x, *axes)


def _np_flatten(x, dims):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = (0, -1) if dims is None else dims
    s, e = s % x.ndim, e % x.ndim
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


def _broadcast_to(x, target, via):
    if via == "method":
        return x.broadcast_to(target)
    return x.expand(target) if via == "expand" else mg.broadcast_to(x, target)


def _expand(x, sizes, as_tuple):
    return x.expand(sizes) if as_tuple else x.expand(*sizes)


def _np_expand(x, sizes, as_tuple):
    lead = len(sizes) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)))


def _tensor_index(index, as_tensor):
    """Turn the NumPy arrays inside an index into micrograd Tensors (on the current backend)."""
    if not as_tensor:
        return index
    if isinstance(index, np.ndarray):
        return mg.tensor(index)
    return tuple(mg.tensor(p) if isinstance(p, np.ndarray) else p for p in index)


def _concatenate(a, b, c, axis, via):
    if via == "dim":
        return mg.concatenate([a, b, c], dim=axis)
    return (mg.cat if via == "cat" else mg.concatenate)((a, b, c), axis=axis)


def _stack(a, b, axis, via):
    return mg.stack([a, b], dim=axis) if via == "dim" else mg.stack((a, b), axis=axis)


def _where(a, b, cond, as_tensor):
    return mg.where(mg.tensor(cond) if as_tensor else cond, a, b)


def _cast(x, target, via):
    if via == "astype":
        return x.astype(target)
    if via == "to":
        return x.to(target)
    if via == "mg_dtype":
        return x.astype(getattr(mg, target))
    return x.float() if target == "float32" else x.double()


# A float32 cast loses ~1e-7 relative: finite differences need a larger step and looser tolerances.
CAST_GRAD = {"eps": 1e-3, "atol": 1e-3, "rtol": 1e-3}

OPS = (
    # elementwise unary
    OpSpec("neg", operator.neg, np.negative, 1, "elementwise", unary_cases),
    _unary("exp", np.exp, WIDE),
    _unary("log", np.log, POSITIVE),
    _unary("sqrt", np.sqrt, POSITIVE),
    _unary("abs", np.abs, KINK0),
    _unary("tanh", np.tanh, WIDE),
    _unary("sin", np.sin, WIDE),
    _unary("cos", np.cos, WIDE),
    _unary("sigmoid", _np_sigmoid, WIDE),
    _unary("relu", lambda x: np.maximum(x, 0), KINK0),
    OpSpec("clip", lambda x, lo, hi, via: getattr(x, via[:5].rstrip("_"))(lo, hi) if via.endswith("method")
           else getattr(mg, via[:5].rstrip("_"))(x, lo, hi),
           lambda x, lo, hi, via: np.clip(x, lo, hi), 1, "elementwise",
           lambda: unary_cases(lo=st.sampled_from([-0.5, None, -1]), hi=st.sampled_from([0.5, 1]),
                               via=st.sampled_from(["clip_method", "clip_function", "clamp_method",
                                                    "clamp_function"])),
           Domain(-2.0, 2.0, away=(-1.0, -0.5, 0.5, 1.0), gap=0.05),
           torch=lambda torch, x, lo, hi, via: torch.clamp(x, lo, hi)),
    _unary("erf", lambda x: np.vectorize(math.erf, otypes=[x.dtype])(x) if x.ndim else np.asarray(math.erf(x), x.dtype),
           WIDE),
    # elementwise binary, broadcasting
    OpSpec("add", operator.add, np.add, 2, "elementwise", binary_cases),
    OpSpec("sub", operator.sub, np.subtract, 2, "elementwise", binary_cases),
    OpSpec("mul", operator.mul, np.multiply, 2, "elementwise", binary_cases),
    OpSpec("div", operator.truediv, np.true_divide, 2, "elementwise", binary_cases, (SMOOTH, NONZERO)),
    OpSpec("pow", operator.pow, np.power, 2, "elementwise", binary_cases, (Domain(0.5, 2.5), SMOOTH)),
    OpSpec("maximum", mg.maximum, np.maximum, 2, "elementwise", binary_cases, DISTINCT),
    OpSpec("minimum", mg.minimum, np.minimum, 2, "elementwise", binary_cases, DISTINCT),
    OpSpec("where", _where, lambda a, b, cond, as_tensor: np.where(cond, a, b), 2, "elementwise", where_cases),
    # with Python numbers (weak scalars) and NumPy arrays (strong), both orders
    OpSpec("pow_scalar", lambda x, p: x ** p, lambda x, p: x ** p, 1, "elementwise",
           lambda: unary_cases(p=st.sampled_from([2, 3, 0.5, -1.5, 2.5, 0])), POSITIVE),
    OpSpec("pow_int", lambda x, p: x ** p, lambda x, p: x ** p, 1, "elementwise",
           lambda: unary_cases(p=st.sampled_from([1, 2, 3, -1])), NONZERO),
    OpSpec("scalar_arith", _scalar_arith, _scalar_arith, 1, "elementwise", scalar_cases, NONZERO),
    OpSpec("ndarray_arith", _ndarray_arith, _ndarray_arith_ref, 1, "elementwise",
           lambda: unary_cases(op=st.sampled_from(["add", "sub", "mul", "truediv"]),
                               arr=st.sampled_from([np.array([1.5]), np.array([[-0.5]]), np.array(3.0)])),
           NONZERO, torch=lambda torch, x, op, arr: _ARITH[op](torch.tensor(arr), x)),
    # comparisons (bool results, no gradient)
    *(_compare(n) for n in _COMPARE),
    OpSpec("compare_scalar", _compare_scalar, _compare_scalar, 1, "compare",
           lambda: unary_cases(name=st.sampled_from(sorted(_COMPARE)), c=st.sampled_from([0.0, 0.5, 1]),
                               reflected=st.booleans()), TIES, grad=False, gradgrad=False),
    # reductions
    _reduce("sum", np.sum),
    _reduce("mean", np.mean),
    _reduce("var", np.var, ddof=True),
    _extremum("max", np.max),
    _extremum("min", np.min),
    _reduce("logsumexp", _np_logsumexp, WIDE),
    _softmax_like("softmax", lambda x, axis: np.exp(_np_log_softmax(x, axis))),
    _softmax_like("log_softmax", _np_log_softmax),
    _arg("argmax", np.argmax),
    _arg("argmin", np.argmin),
    # movement
    OpSpec("reshape", _reshape, lambda x, shape, target, via: x.reshape(target), 1, "movement", reshape_cases),
    OpSpec("transpose", _transpose, lambda x, dim0, dim1, via: np.swapaxes(x, dim0, dim1), 1, "movement",
           transpose_cases),
    OpSpec("permute", _permute, lambda x, axes, via: np.transpose(x, axes), 1, "movement", permute_cases),
    OpSpec("T", lambda x: x.T, lambda x: x.T, 1, "movement", lambda: st.builds(Case, st.tuples(shapes()))),
    OpSpec("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), 1, "movement",
           lambda: st.builds(Case, st.tuples(shapes(min_dims=2)))),
    OpSpec("flatten", lambda x, dims: x.flatten() if dims is None else x.flatten(*dims), _np_flatten, 1, "movement",
           flatten_cases),
    OpSpec("unsqueeze", lambda x, axis: x.unsqueeze(axis), lambda x, axis: np.expand_dims(x, axis), 1, "movement",
           unsqueeze_cases),
    OpSpec("squeeze", lambda x, axis: x.squeeze(axis), lambda x, axis: np.squeeze(x, axis), 1, "movement",
           squeeze_cases),
    OpSpec("broadcast_to", _broadcast_to, lambda x, target, via: np.broadcast_to(x, target), 1, "movement",
           broadcast_to_cases),
    OpSpec("expand", _expand, _np_expand, 1, "movement", expand_cases,
           torch=lambda torch, x, sizes, as_tuple: x.expand(sizes)),
    OpSpec("getitem_basic", lambda x, index: x[index], lambda x, index: x[index], 1, "movement", basic_index_cases),
    OpSpec("getitem_array", lambda x, index, as_tensor: x[_tensor_index(index, as_tensor)],
           lambda x, index, as_tensor: x[index], 1, "movement", array_index_cases),
    OpSpec("getitem_mask", lambda x, index, as_tensor: x[_tensor_index(index, as_tensor)],
           lambda x, index, as_tensor: x[index], 1, "movement", mask_index_cases),
    OpSpec("concatenate", _concatenate, lambda a, b, c, axis, via: np.concatenate((a, b, c), axis), 3, "movement",
           concatenate_cases),
    OpSpec("stack", _stack, lambda a, b, axis, via: np.stack((a, b), axis), 2, "movement", stack_cases),
    OpSpec("pad", lambda x, pad_width: mg.pad(x, pad_width), lambda x, pad_width: np.pad(x, pad_width), 1,
           "movement", pad_cases),
    # linear algebra
    OpSpec("matmul", _matmul, lambda a, b, via: np.matmul(a, b), 2, "matmul", matmul_cases),
    # casts
    OpSpec("astype", _cast, lambda x, target, via: x.astype(target), 1, "cast", cast_cases, grad_kw=CAST_GRAD),
)

from op_specs_more import EINSUM_ROWS, MORE_ROWS, ROWS  # noqa: E402  (rows built with this module's strategies)
from op_specs_linalg import LINALG_ROWS  # noqa: E402
from op_specs_namespace import NAMESPACE_ROWS  # noqa: E402

OPS = OPS + ROWS + EINSUM_ROWS + MORE_ROWS + LINALG_ROWS + NAMESPACE_ROWS
BY_NAME = {spec.name: spec for spec in OPS}
assert len(BY_NAME) == len(OPS), "op-spec names must be unique"
