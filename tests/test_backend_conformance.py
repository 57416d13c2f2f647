"""Backend conformance: every backend implements every primitive of backends/base.py and computes what the
reference backend (backends/reference.py) computes (float64 within rtol 1e-10, float32 within rtol 1e-4 /
atol 1e-5), returning its own array type (0-d included) and never mutating its inputs (except the in-place
`assign_`, `axpby_` and `sgd_momentum_`). The numpy backend's host fast paths are checked here like any other
backend's kernels.

Cases of NumPy's own functions also carry the direct NumPy call, so the reference is itself checked there. The
fused kernels have no second copy of their maths here (on the CuPy stand-in, which runs the reference in place
of the raw kernels, their cases check only the backend's plumbing): their reference is the one definition, checked by
properties instead (im2col/col2im adjointness here; max pooling, softmax-cross-entropy and the LSTM cell
against the composites of other ops in tests/test_fused_ops.py and tests/test_nn_layers.py).
"""
import inspect
import warnings

import math

import numpy as np
import pytest

from micrograd.backend import backend_object
from micrograd.backends.base import PRIMITIVES, Backend
from micrograd.backends.reference import backend as REFERENCE
TOL = {np.dtype(np.float64): (1e-10, 0.0), np.dtype(np.float32): (1e-4, 1e-5)}


class Host:
    """An argument passed to the primitive as host data (asarray's input), not converted to the backend."""

    def __init__(self, value):
        self.value = value


class ViewOf:
    """An argument that is a view, made by fn(backend, array), of the backend's copy of `source`; arguments with
    one `key` view one array (for the memory-overlap primitives)."""

    def __init__(self, key, source, fn=lambda b, a: a):
        self.key, self.source, self.fn = key, source, fn


def _to(b, obj, memo=None):
    """`obj` with every NumPy array inside turned into backend `b`'s array."""
    memo = {} if memo is None else memo
    if isinstance(obj, Host):
        return obj.value
    if isinstance(obj, ViewOf):
        if obj.key not in memo:
            memo[obj.key] = b.asarray(obj.source, obj.source.dtype)
        return obj.fn(b, memo[obj.key])
    if isinstance(obj, np.ndarray):
        return b.asarray(obj, obj.dtype)
    if isinstance(obj, tuple):
        return tuple(_to(b, o, memo) for o in obj)
    if isinstance(obj, list):
        return [_to(b, o, memo) for o in obj]
    return obj


def _arrays_in(b, obj):
    if isinstance(obj, b.array_type) and not isinstance(obj, Host):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [a for o in obj for a in _arrays_in(b, o)]
    return []


def _host(obj):
    if isinstance(obj, (Host, ViewOf)):
        return _to(REFERENCE, obj)
    if isinstance(obj, tuple):
        return tuple(_host(o) for o in obj)
    if isinstance(obj, list):
        return [_host(o) for o in obj]
    return obj


def _np_sigmoid(x):
    """The textbook formula in float64 (exp(-x) may overflow to inf, giving the right limit 0)."""
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_conv2d(x, w, stride):
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ncpqij,ocij->nopq", win, w).astype(x.dtype)


def _np_softmax(x, axis):
    return np.exp(x - _np_logsumexp(x, axis, True)).astype(x.dtype)


def _np_index_add(shape, index, values, dtype):
    out = np.zeros(shape, dtype)
    np.add.at(out, index, values)
    return out


def _setitem(dst, index, value):
    dst = dst.copy()
    dst[index] = value
    return dst


def _set(dst, src):
    dst = dst.copy()
    dst[...] = src
    return dst


WRITES = {"assign_": 1, "axpby_": 1, "sgd_momentum_": 2, "setitem_": 1}  # in-place primitives: how many leading args they write


def _quietly(name, *arrays):
    """NumPy's function `name` of the arrays without floating-point warnings (the primitive gives none)."""
    with np.errstate(all="ignore"):
        return getattr(np, name)(*arrays)


def cases(dt):
    """(id, primitive, args, direct NumPy expression of the host args) for float dtype `dt`."""
    rng = np.random.default_rng(0)
    f = np.dtype(dt)
    x = rng.uniform(-2, 2, (2, 3, 4)).astype(f)
    y = rng.uniform(-2, 2, (3, 1)).astype(f)
    pos = rng.uniform(0.5, 3, (2, 3)).astype(f)
    s = np.array(0.75, f)  # 0-d
    ints = np.array([[3, -1, 0], [7, 2, -5]], np.int64)
    mask = np.array([[True, False, True], [False, False, True]])
    ties = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [-1, 5, 5, 5]], f)
    masked = np.where(np.tril(np.ones((3, 4), bool)), x, -np.inf).astype(f)
    masked[1, 0] = -np.inf
    keep = np.tril(np.ones((3, 4), bool))
    keep[1] = False  # a query that may attend nowhere: zeros
    img = rng.uniform(-1, 1, (2, 3, 5, 6)).astype(f)
    cols = rng.uniform(-1, 1, (2, 3, 2, 3, 2, 2)).astype(f)
    conv_w = rng.uniform(-1, 1, (4, 3, 3, 3)).astype(f)
    conv_g = rng.uniform(-1, 1, (2, 4, 3, 4)).astype(f)
    other = np.float32 if f == np.float64 else np.float64
    yrelu = np.maximum(x, 0)  # relu's output, zeros included
    ysig = _np_sigmoid(x)
    pool = np.round(rng.uniform(-1, 1, (2, 2, 5, 6)), 1).astype(f)  # rounded: windows hold ties
    bn_mean, bn_w, bn_b = img.mean(axis=(0, 2, 3)), rng.uniform(0.5, 1.5, 3).astype(f), rng.uniform(-1, 1, 3).astype(f)
    bn_invstd = (1 / np.sqrt(img.var(axis=(0, 2, 3)) + 1e-5)).astype(f)
    ln_invstd = (1 / np.sqrt(x.reshape(6, 4).var(axis=1) + 1e-5)).astype(f)
    pool_idx = REFERENCE.max_pool2d(pool, 3, 2, 1, 2)[1]
    pool_idx2 = REFERENCE.max_pool2d(pool, 2, 2, 2, 2)[1]  # windows that do not overlap: distinct positions
    pool_nan = pool.copy()
    pool_nan.reshape(-1)[[1, 7, 8, 20, 33]] = np.nan  # NaN wins its windows; windows holding two keep the first
    logits = rng.uniform(-3, 3, (4, 5)).astype(f)
    targets = np.array([2, 0, -100, 4], np.int64)
    lse = _np_logsumexp(logits, 1, False)
    z = rng.uniform(-4, 4, (3, 8)).astype(f)  # an LSTM cell with N = 3, H = 2
    cell = rng.uniform(-2, 2, (3, 2)).astype(f)
    act = REFERENCE.lstm_cell(z, cell)[2]
    sq = (x[:, :, :3] + 4 * np.eye(3, dtype=f)).astype(f)  # well conditioned square matrices (2, 3, 3)
    spd = (sq @ sq.mT).astype(f)
    return [
        ("asarray-list", "asarray", (Host([[1.5, 2], [3, 4]]), f), lambda d, t: np.array(d, t)),
        ("asarray-ndarray", "asarray", (Host(x.astype(other)), f), lambda d, t: d.astype(t)),
        ("asarray-number", "asarray", (Host(2.5), f), lambda d, t: np.array(d, t)),
        ("to_numpy", "to_numpy", (x,), lambda a: a),
        ("zeros", "zeros", ((2, 3), f), np.zeros),
        ("zeros-0d", "zeros", ((), f), np.zeros),
        ("full", "full", ((2, 2), 1.5, f), np.full),
        ("full-0d", "full", ((), 2, f), np.full),
        ("arange", "arange", (0, 5, 1, np.int64), np.arange),
        ("arange-float", "arange", (1.0, 2.0, 0.25, f), np.arange),
        ("eye", "eye", (3, 2, f), lambda n, m, t: np.eye(n, m, dtype=t)),
        ("astype", "astype", (x, other), lambda a, t: a.astype(t)),
        ("astype-int", "astype", (ints, f), lambda a, t: a.astype(t)),
        ("copy", "copy", (x,), np.copy),
        ("copy-noncontiguous", "copy", (x.transpose(2, 0, 1),), np.copy),
        ("neg", "neg", (x,), np.negative),
        ("neg-int", "neg", (ints,), np.negative),
        ("neg-0d", "neg", (s,), np.negative),
        ("exp", "exp", (x,), np.exp),
        ("exp-0d", "exp", (s,), np.exp),
        ("log", "log", (pos,), np.log),
        ("log-zero-negative", "log", (np.array([0.0, -1.0, 2.0], f),), lambda a: np.array([-np.inf, np.nan,
                                                                                            np.log(a[2])], f)),
        ("sqrt", "sqrt", (pos,), np.sqrt),
        ("abs", "abs", (x,), np.abs),
        ("abs-int", "abs", (ints,), np.abs),
        ("sign", "sign", (np.array([-2.0, 0.0, 3.0], f),), np.sign),
        ("sign-nan", "sign", (np.array([np.nan, -np.inf, -0.0], f),), lambda a: np.array([0.0, -1.0, 0.0], f)),
        *((f"pow_scalar-{e}", "pow_scalar", (np.array([4.0, -0.0, np.inf, -np.inf, 2.5], f), e),
           lambda a, e, fn=fn: np.array([fn(v) for v in a.tolist()], f))
          for e, fn in ((0.5, lambda v: math.sqrt(v) if v >= 0 else (v if v == 0 else math.nan)),
                        (-0.5, lambda v: 1 / math.sqrt(v) if v > 0 else (math.copysign(math.inf, v) if v == 0
                                                                          else (0.0 if v == math.inf else math.nan))),
                        (2, lambda v: v * v), (3, lambda v: v * v * v),
                        (-1, lambda v: 1 / v if v else math.copysign(math.inf, v)),
                        (-2, lambda v: 1 / (v * v) if v else math.inf),
                        (1.5, lambda v: math.inf if v == -math.inf else (v ** 1.5 if v >= 0 else math.nan)))),
        ("tanh", "tanh", (x,), np.tanh),
        ("sin", "sin", (x,), np.sin),
        ("cos", "cos", (x,), np.cos),
        ("erf", "erf", (np.concatenate([x.ravel(), np.array([0.0, 0.46875, 0.5, 3.9, 4.0, 6.5, -27.0, np.inf, -np.inf,
                                                            np.nan], f)]),),
         lambda a: np.array([math.erf(v) for v in a.tolist()], a.dtype)),
        ("sigmoid", "sigmoid", (x,), _np_sigmoid),
        ("sigmoid-0d", "sigmoid", (s,), _np_sigmoid),
        ("relu", "relu", (x,), lambda a: np.maximum(a, 0)),
        ("add-broadcast", "add", (x, y), np.add),
        ("add-weak-scalar", "add", (x, 2.0), np.add),
        ("add-0d", "add", (s, s), np.add),
        ("sub", "sub", (y, x), np.subtract),
        ("mul-weak-scalar", "mul", (x, 3), np.multiply),
        ("mul-broadcast", "mul", (x, y), np.multiply),
        ("div", "div", (x, pos[..., None]), np.true_divide),
        ("div-int", "div", (ints, np.array(2, np.int64)), np.true_divide),
        ("div-by-zero", "div", (np.array([1.0, -1.0, 0.0], f), np.zeros(3, f)),
         lambda a, b: np.array([np.inf, -np.inf, np.nan], f)),
        ("pow", "pow", (pos, y[:2].reshape(2, 1)), np.power),
        ("pow-weak-scalar", "pow", (pos, 2), np.power),
        ("pow-int-negative-exponents", "pow", (np.array([2, 1, -1, -1, 0, 3], np.int64),
                                               np.array([-1, -3, -3, -2, -1, 2], np.int64)),
         lambda a, b: np.array([0, 1, -1, 1, 0, 9], np.int64)),
        ("floor_divide", "floor_divide", (x, pos[..., None]), np.floor_divide),
        ("floor_divide-int", "floor_divide", (ints, np.array([2, -3, 4], np.int64)), np.floor_divide),
        ("floor_divide-by-zero", "floor_divide", (np.array([1.0, -1.0, 0.0], f), np.zeros(3, f)),
         lambda a, b: np.array([np.inf, -np.inf, np.nan], f)),
        ("trunc_divide", "trunc_divide", (x, pos[..., None]), lambda a, b: np.trunc(a / b)),
        ("trunc_divide-int", "trunc_divide", (ints, np.array([2, -3, 4], np.int64)),
         lambda a, b: np.trunc(a / b).astype(np.int64)),
        ("remainder", "remainder", (x, pos[..., None]), np.remainder),
        ("remainder-int-signs", "remainder", (ints, np.array([2, -3, 4], np.int64)), np.remainder),
        *((f"bitwise-{op}", "bitwise", (op, ints, np.array([[1, 2, 3]], np.int64)), lambda o, a, b, fn=fn: fn(a, b))
          for op, fn in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                         ("left_shift", np.left_shift), ("right_shift", np.right_shift))),
        ("bitwise-bool", "bitwise", ("xor", mask, mask[::-1].copy()), lambda o, a, b: a ^ b),
        ("bitwise_not-int", "bitwise_not", (ints,), np.invert),
        ("bitwise_not-bool", "bitwise_not", (mask,), np.invert),
        ("maximum", "maximum", (x, y), np.maximum),
        ("minimum", "minimum", (x, y), np.minimum),
        *((f"compare-{op}", "compare", (op, ties, np.array([2.0], f)), lambda o, a, b, fn=fn: fn(a, b))
          for op, fn in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                         ("gt", np.greater), ("ge", np.greater_equal))),
        ("compare-scalar", "compare", ("ge", x, 0.5), lambda o, a, b: a >= b),
        ("where", "where", (x > 0, x, y), np.where),
        ("clip", "clip", (x, -0.5, 0.5), np.clip),
        ("clip-lo", "clip", (x, -0.5, None), lambda a, lo, hi: np.maximum(a, lo)),
        ("clip-hi", "clip", (x, None, 0.5), lambda a, lo, hi: np.minimum(a, hi)),
        ("sum-all", "sum", (x, None, False), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
        ("sum-axes-keepdims", "sum", (x, (0, 2), True), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
        ("sum-no-axes", "sum", (x, (), False), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
        ("sum-bool", "sum", (mask, (1,), False), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k, dtype=np.int64)),
        ("sum-int", "sum", (ints, None, True), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k)),
        ("max", "max", (x, (1,), False), lambda a, ax, k: np.max(a, axis=ax, keepdims=k)),
        ("max-all-0d", "max", (x, None, False), lambda a, ax, k: np.max(a, axis=ax, keepdims=k)),
        ("min", "min", (x, (0, 2), True), lambda a, ax, k: np.min(a, axis=ax, keepdims=k)),
        ("prod", "prod", (x, 1, False), lambda a, ax, k: np.prod(a, axis=ax, keepdims=k)),
        ("prod-all-keepdims", "prod", (x, None, True), lambda a, ax, k: np.prod(a, axis=ax, keepdims=k)),
        ("prod-int", "prod", (ints, None, False), lambda a, ax, k: np.prod(a, dtype=np.int64)),
        ("cumsum", "cumsum", (x, 1), lambda a, ax: np.cumsum(a, axis=ax)),
        ("cumsum-bool", "cumsum", (mask, 0), lambda a, ax: np.cumsum(a, axis=ax, dtype=np.int64)),
        ("cumprod", "cumprod", (x, 0), lambda a, ax: np.cumprod(a, axis=ax)),
        ("argsort-ties-nan", "argsort", (np.array([3.0, 1.0, np.nan, 3.0, 2.0, 1.0], f), 0, False),
         lambda a, ax, d: np.array([1, 5, 4, 0, 3, 2], np.int64)),
        ("argsort-descending-ties-nan", "argsort", (np.array([3.0, 1.0, np.nan, 3.0, 2.0, 1.0], f), 0, True),
         lambda a, ax, d: np.array([2, 0, 3, 4, 1, 5], np.int64)),
        ("argsort-2d", "argsort", (ties, 1, False), lambda a, ax, d: np.argsort(a, axis=ax, kind="stable")),
        ("einsum-matmul", "einsum", ("ij,jk->ik", x[0], x[1].T.copy()), lambda s, a, b: np.einsum(s, a, b)),
        ("einsum-three", "einsum", ("i,ij,j->", x[0][:, 0].copy(), x[0], x[1][0]),
         lambda s, a, b, c: np.einsum(s, a, b, c)),
        *((f"ufunc-{name}", "ufunc", (name, np.array([0.25, -0.5, 0.0, 2.0], f)),
           lambda n, a: _quietly(n, a)) for name in ("tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                                                         "arcsinh", "arctanh", "log1p", "expm1", "exp2", "floor",
                                                         "ceil", "trunc", "rint", "isnan", "signbit", "logical_not")),
        *((f"ufunc-{name}", "ufunc", (name, np.array([1.5, 2.0, np.inf, np.nan], f)),
           lambda n, a: _quietly(n, a)) for name in ("arccosh", "log2", "log10", "isinf", "isfinite")),
        *((f"ufunc-{name}", "ufunc", (name, np.array([0.5, -1.0, 0.0, 3.0], f), np.array([2.0, -0.5, 1.0, -3.0], f)),
           lambda n, a, b: _quietly(n, a, b)) for name in ("arctan2", "hypot", "logaddexp", "logaddexp2",
                                                               "copysign", "fmod", "logical_and", "logical_or",
                                                               "logical_xor")),
        ("argmax-ties", "argmax", (ties, 1), lambda a, ax: np.argmax(a, axis=ax)),
        ("argmax-flat", "argmax", (ties, None), lambda a, ax: np.argmax(a, axis=ax)),
        ("argmin-ties", "argmin", (ties, 0), lambda a, ax: np.argmin(a, axis=ax)),
        ("all_finite", "all_finite", (x,), lambda a: True),
        ("all_finite-inf", "all_finite", (np.array([1.0, np.inf], f),), lambda a: False),
        ("logsumexp", "logsumexp", (x, (1,), False), _np_logsumexp),
        ("logsumexp-keepdims", "logsumexp", (x, (0, 2), True), _np_logsumexp),
        ("softmax", "softmax", (x, 1), lambda a, ax: np.exp(a - _np_logsumexp(a, ax, True))),
        ("softmax-0", "softmax", (x, 0), lambda a, ax: np.exp(a - _np_logsumexp(a, ax, True))),
        ("log_softmax", "log_softmax", (x, 2), lambda a, ax: a - _np_logsumexp(a, ax, True)),
        ("softmax-last", "softmax", (x, 2), lambda a, ax: np.exp(a - _np_logsumexp(a, ax, True))),
        # causal masking as attention writes it, one row masked out entirely (NaN, as NumPy's and PyTorch's)
        ("softmax-masked", "softmax", (masked, 2), None),
        ("masked_softmax", "masked_softmax", (x, keep), None),  # one (3, 4) pattern for both leading entries
        ("masked_softmax-full", "masked_softmax", (x, np.broadcast_to(keep, x.shape) ^ (x > 1)), None),
        ("masked_softmax-none", "masked_softmax", (masked, None), None),  # a row of -inf: zeros
        ("softmax_backward", "softmax_backward", (_np_softmax(x, 2), x[::-1].copy(), 2),
         lambda y, g, ax: y * (g - (g * y).sum(ax, keepdims=True))),
        ("softmax_backward-0", "softmax_backward", (_np_softmax(x, 0), x[::-1].copy(), 0),
         lambda y, g, ax: y * (g - (g * y).sum(ax, keepdims=True))),
        ("reshape", "reshape", (x, (4, 6)), np.reshape),
        ("transpose", "transpose", (x, (2, 0, 1)), np.transpose),
        ("broadcast_to", "broadcast_to", (y, (2, 3, 4)), np.broadcast_to),
        ("getitem-basic", "getitem", (x, (0, slice(None, None, -1), None)), lambda a, i: a[i]),
        ("getitem-0d", "getitem", (x, (1, 2, 3)), lambda a, i: np.asarray(a[i])),
        ("getitem-ints", "getitem", (x, (Ellipsis, np.array([0, 0, 3, -1]))), lambda a, i: a[i]),
        ("getitem-mask", "getitem", (x, (np.array([[True, False, True], [False, True, True]]),)), lambda a, i: a[i]),
        ("setitem_-basic", "setitem_", (x.copy(), (0, slice(1, 3)), np.array(1.5, f)), _setitem),
        ("setitem_-mask", "setitem_", (x.copy(), (x > 0,), np.array(0.0, f)), _setitem),
        ("setitem_-ints-broadcast", "setitem_", (x.copy(), (Ellipsis, np.array([0, 2])), y[:, :1].astype(other)),
         _setitem),
        ("diagonal", "diagonal", (x, 0, 1, 2), lambda a, o, d1, d2: np.diagonal(a, o, d1, d2)),
        ("diagonal-offset", "diagonal", (x, 1, 2, 0), lambda a, o, d1, d2: np.diagonal(a, o, d1, d2)),
        ("diagonal-negative-offset", "diagonal", (x, -1, 1, 2), lambda a, o, d1, d2: np.diagonal(a, o, d1, d2)),
        ("diagonal-past-the-end", "diagonal", (x, 5, 1, 2), lambda a, o, d1, d2: np.diagonal(a, o, d1, d2)),
        ("internal_overlap-expanded", "internal_overlap", (ViewOf("y", y, lambda b, a: b.broadcast_to(a, (2, 3, 4))),),
         lambda a: True),
        ("internal_overlap-plain", "internal_overlap", (x,), lambda a: False),
        ("internal_overlap-transposed", "internal_overlap", (ViewOf("x", x, lambda b, a: b.transpose(a, (2, 0, 1))),),
         lambda a: False),
        ("shares_memory-view", "shares_memory", (ViewOf("x", x), ViewOf("x", x, lambda b, a: b.getitem(a, (1,)))),
         lambda a, c: True),
        ("shares_memory-separate", "shares_memory", (x, x.copy()), lambda a, c: False),
        ("overlap-same", "overlap", (ViewOf("x", x), ViewOf("x", x)), lambda a, c: 1),
        ("overlap-partial", "overlap", (ViewOf("x", x), ViewOf("x", x, lambda b, a: b.getitem(a, (slice(0, 1),)))),
         lambda a, c: 2),
        ("overlap-transposed", "overlap", (ViewOf("x", x), ViewOf("x", x, lambda b, a: b.transpose(a, (0, 2, 1)))),
         lambda a, c: 2),
        ("overlap-disjoint", "overlap", (ViewOf("x", x, lambda b, a: b.getitem(a, (0,))),
                                         ViewOf("x", x, lambda b, a: b.getitem(a, (1,)))), lambda a, c: 0),
        ("overlap-separate", "overlap", (x, x.copy()), lambda a, c: 0),
        ("index_add-repeats", "index_add", ((5,), (np.array([0, 1, 0, 4, 0]),), np.arange(5, dtype=f), f),
         _np_index_add),
        ("index_add-2d", "index_add", ((2, 3), (np.array([1, 1, 0]), slice(None)), np.ones((3, 3), f), f),
         _np_index_add),
        ("index_add-zero-width", "index_add", ((3, 0), (np.array([0, 1, 1]),), np.zeros((3, 0), f), f), _np_index_add),
        ("index_add-uint64", "index_add", ((4, 3), (np.array([3, 0, 3], np.uint64),), x[0, :, :3].copy(), f),
         _np_index_add),
        # an embedding's gradient: a (batch, length) index array, repeats and negative indices, rows of values
        ("index_add-embedding", "index_add", ((4, 3), (np.array([[1, -1, 0], [3, 1, 1]]),), x[:, :, :3].copy(), f),
         _np_index_add),
        ("index_add-two-arrays", "index_add", ((3, 2, 4), (np.array([2, 0, 2, 2]), np.array([1, 1, 1, 0])),
                                               x.reshape(6, 4)[:4].copy(), f), _np_index_add),
        ("index_add-basic", "index_add", ((2, 3, 4), (slice(None), 1, slice(1, None, 2)), np.ones((2, 2), f), f),
         _np_index_add),
        ("index_add-basic-ellipsis", "index_add", ((2, 3), (Ellipsis, None, slice(0, 2)), np.ones((2, 1, 2), f), f),
         _np_index_add),
        ("concatenate", "concatenate", ([x, x[:, :1]], 1), np.concatenate),
        ("pad", "pad", (x, ((1, 0), (0, 2), (1, 1)), 0.0), lambda a, w, v: np.pad(a, w, constant_values=v)),
        ("matmul", "matmul", (x[0], x[1].T), np.matmul),
        ("matmul-1d-0d", "matmul", (x[0, 0], x[1, 1]), lambda a, b: np.asarray(np.matmul(a, b))),
        ("matmul-batched", "matmul", (x.reshape(2, 1, 3, 4), x.reshape(3, 4, 2)), np.matmul),
        ("matmul-1d-batched", "matmul", (x[0, :, 0], x), np.matmul),
        ("cholesky", "cholesky", (spd,), np.linalg.cholesky),
        ("inv", "inv", (sq,), np.linalg.inv),
        ("solve", "solve", (sq, x[:, :, :2].copy()), np.linalg.solve),
        ("solve-broadcast", "solve", (sq[0], x[:, :, :2].copy()), lambda a, b: np.linalg.solve(a[None], b)),
        ("slogdet", "slogdet", (sq,), lambda a: tuple(np.linalg.slogdet(a))),
        ("eigh", "eigh", (spd,), lambda a: tuple(np.linalg.eigh(a))),
        ("svd", "svd", (x,), lambda a: tuple(np.linalg.svd(a, full_matrices=False))),
        ("svd-wide", "svd", (x.mT.copy(),), lambda a: tuple(np.linalg.svd(a, full_matrices=False))),
        ("qr", "qr", (x.mT.copy(),), lambda a: tuple(np.linalg.qr(a))),
        # the fused kernels: the reference is their one definition, so no direct expression (None)
        ("im2col", "im2col", (img, 2, 3, 1), None),
        ("conv2d", "conv2d", (img, conv_w, 1), _np_conv2d),
        ("conv2d-stride", "conv2d", (img, conv_w[:, :, :, :2].copy(), 2), _np_conv2d),
        ("conv2d_backward", "conv2d_backward", (conv_g, img, conv_w, 1, True, True), None),
        ("conv2d_backward-stride", "conv2d_backward", (conv_g[:, :, :2, :3].copy(), img, conv_w[:, :, :, :2].copy(),
                                                       2, True, True), None),
        ("im2col-stride", "im2col", (img, 3, 2, 2), None),
        ("col2im", "col2im", (cols, (2, 3, 3, 4), 1), None),
        ("col2im-stride", "col2im", (cols, (2, 3, 4, 5), 2), None),
        ("relu_backward", "relu_backward", (x, yrelu), None),
        ("gelu_erf", "gelu_erf", (x * 3,), None),
        ("gelu_tanh", "gelu_tanh", (x * 3,), None),
        ("gelu_erf_backward", "gelu_erf_backward", (x[::-1].copy(), x * 3), None),
        ("gelu_tanh_backward", "gelu_tanh_backward", (x[::-1].copy(), x * 3), None),
        ("tanh_backward", "tanh_backward", (x, np.tanh(x)), None),
        ("sigmoid_backward", "sigmoid_backward", (x, ysig), None),
        ("max_pool2d", "max_pool2d", (pool, 2, 2, 2, 2), None),
        ("max_pool2d-overlap", "max_pool2d", (pool, 3, 2, 1, 2), None),
        ("max_pool2d-nan", "max_pool2d", (pool_nan, 2, 2, 1, 1), None),
        ("max_pool2d-nan-disjoint", "max_pool2d", (pool_nan, 2, 3, 2, 3), None),
        ("max_pool2d_backward-disjoint", "max_pool2d_backward",
         (rng.uniform(-1, 1, pool_idx2.shape).astype(f), pool_idx2, pool.shape), None),
        ("max_pool2d_backward", "max_pool2d_backward", (rng.uniform(-1, 1, pool_idx.shape).astype(f), pool_idx,
                                                        pool.shape), None),
        ("softmax_cross_entropy", "softmax_cross_entropy", (logits, targets, -100), None),
        ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward",
         (logits, targets, lse, np.array([1.0, 0.5, 2.0, -1.0], f), -100), None),
        ("softmax_cross_entropy-all-valid", "softmax_cross_entropy", (logits, np.abs(targets) % 5, -100), None),
        ("softmax_cross_entropy_backward-all-valid", "softmax_cross_entropy_backward",
         (logits, np.abs(targets) % 5, lse, np.array([1.0, 0.5, 2.0, -1.0], f), -100), None),
        ("batch_norm_stats", "batch_norm_stats", (img,), None),
        ("batch_norm_stats-2d", "batch_norm_stats", (x.reshape(6, 4),), None),
        ("batch_norm_apply", "batch_norm_apply", (img, bn_mean, bn_invstd, bn_w, bn_b), None),
        ("batch_norm_apply-no-affine", "batch_norm_apply", (img, bn_mean, bn_invstd, None, None), None),
        ("batch_norm_backward", "batch_norm_backward", (img[::-1].copy(), img, bn_mean, bn_invstd, bn_w, True), None),
        ("batch_norm_backward-eval", "batch_norm_backward", (img[::-1].copy(), img, bn_mean, bn_invstd, None, False),
         None),
        ("layer_norm", "layer_norm", (x.reshape(6, 4), bn_w[:1].repeat(4), bn_b[:1].repeat(4), 1e-5), None),
        ("layer_norm-no-affine", "layer_norm", (x.reshape(6, 4), None, None, 1e-5), None),
        ("layer_norm_backward", "layer_norm_backward", (x.reshape(6, 4)[::-1].copy(), x.reshape(6, 4),
                                                        x.reshape(6, 4).mean(1), ln_invstd, bn_w[:1].repeat(4)), None),
        ("layer_norm_backward-no-affine", "layer_norm_backward",
         (x.reshape(6, 4)[::-1].copy(), x.reshape(6, 4), x.reshape(6, 4).mean(1), ln_invstd, None), None),
        ("lstm_cell", "lstm_cell", (z, cell), None),
        ("lstm_cell_backward", "lstm_cell_backward", (cell[::-1].copy(), cell * 2, act, cell), None),
        ("assign_", "assign_", (np.zeros((2, 3, 4), f), x.astype(other)), _set),
        ("axpby_", "axpby_", (x.copy(), 0.9, x[::-1].copy(), -0.25), None),
        ("axpby_-add", "axpby_", (x.copy(), 1, x[::-1].copy(), 1.0), None),
        ("axpby_-broadcast", "axpby_", (x.copy(), 0.5, x[0, 0].copy(), 2), None),
        ("axpby_-blocked", "axpby_", (rng.standard_normal(150_001).astype(f), 0.9,
                                      rng.standard_normal(150_001).astype(f), -0.01), None),
        ("sgd_momentum_", "sgd_momentum_", (x.copy(), x[::-1].copy(), x[:, ::-1].copy(), 0.1, 0.9, 0.0), None),
        ("sgd_momentum_-dampening", "sgd_momentum_", (x.copy(), x[::-1].copy(), x[:, ::-1].copy(), 0.1, 0.9, 0.3),
         None),
        ("sgd_momentum_-undampened-inf", "sgd_momentum_",  # dampening 1: the gradient is not read (0 * inf)
         (x.copy(), x[::-1].copy(), np.full(x.shape, np.inf, f), 0.1, 0.9, 1.0),
         lambda p, b, g, lr, m, d: (p - lr * (m * b), m * b)),
        ("sgd_momentum_-blocked", "sgd_momentum_", tuple(rng.standard_normal(140_001).astype(f) for _ in range(3))
         + (0.01, 0.9, 0.0), None),
        ("axpby_-scale-only", "axpby_", (x.copy(), 0.5, np.full(x.shape, np.inf, f), 0), lambda y, a, x, b: a * y),
        ("synchronize", "synchronize", (), lambda: None),
    ]


CASES = [pytest.param(dt, c, id=f"{c[0]}-{np.dtype(dt).name}") for dt in (np.float32, np.float64) for c in cases(dt)]


def _check_same(got, expected, what):
    if expected is None or isinstance(expected, (bool, int)):
        assert got is expected or (type(got) is type(expected) and got == expected), f"{what}: {got!r} != {expected!r}"
        return
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    rtol, atol = TOL.get(expected.dtype, (0.0, 0.0))
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def test_primitive_list_is_the_contract():
    """PRIMITIVES is every public method of Backend, and each documents its contract."""
    assert "add" in PRIMITIVES and "im2col" in PRIMITIVES and "assign_" in PRIMITIVES
    for name in PRIMITIVES:
        assert inspect.getdoc(getattr(Backend, name)), f"primitive {name} has no docstring"


def test_every_primitive_has_a_conformance_case():
    covered = {c[1] for c in cases(np.float64)}
    assert set(PRIMITIVES) <= covered, f"primitives without a case here: {sorted(set(PRIMITIVES) - covered)}"


def test_backend_implements_every_primitive(backend):
    b = backend_object(backend)
    assert isinstance(b, Backend) and b.name == backend
    assert isinstance(b.array_type, type)
    for name in PRIMITIVES:
        impl = getattr(type(b), name, None)
        assert callable(impl), f"backend {backend!r} has no primitive {name!r}"
        stub = "self._missing(" in inspect.getsource(getattr(Backend, name))
        assert not (stub and impl is getattr(Backend, name)), f"backend {backend!r} leaves {name!r} unimplemented"


@pytest.mark.parametrize("dt, case", CASES)
def test_primitive_matches_the_reference(backend, dt, case):
    """Same result as the reference backend (and as the direct NumPy call, where there is one), in the backend's
    array type, without touching its inputs."""
    label, prim, args, direct = case
    b = backend_object(backend)
    b_args = _to(b, args)
    inputs = _arrays_in(b, b_args)
    written = WRITES.get(prim, 0)
    inputs = inputs[written:]  # in-place primitives write into their leading arguments, by contract
    before = [b.to_numpy(a) for a in inputs]
    np_args = _to(REFERENCE, args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning for log(0), x / 0, exp overflow...
        got = getattr(b, prim)(*b_args)
        expected = getattr(REFERENCE, prim)(*np_args)
    for a, old in zip(inputs, before):
        np.testing.assert_array_equal(b.to_numpy(a), old, err_msg=f"{prim} mutated an input")
    host_direct = None if direct is None else direct(*_host(args))
    if prim in ("all_finite", "synchronize", "internal_overlap", "shares_memory", "overlap"):
        _check_same(got, host_direct, f"{backend} {label}")
        _check_same(expected, host_direct, f"reference {label}")
        return
    if prim == "to_numpy":
        assert type(got) is np.ndarray
        assert not (isinstance(b_args[0], np.ndarray) and np.shares_memory(got, b_args[0])), "to_numpy must copy"
        _check_same(got, host_direct, f"{backend} {label}")
        return
    if prim in ("asarray", "astype", "copy") and isinstance(got, np.ndarray):
        assert not any(np.shares_memory(got, a) for a in _arrays_in(b, b_args)), f"{prim} must return a new array"
    if written:  # the destinations now hold the results
        assert got is b_args[0] and expected is np_args[0], f"{prim} must return its destination"
        got, expected = b_args[:written], np_args[:written]
        got, expected = (got[0], expected[0]) if written == 1 else (tuple(got), tuple(expected))
    many = isinstance(expected, tuple)  # max_pool2d, softmax_cross_entropy: several arrays
    assert isinstance(got, tuple) == many and (not many or len(got) == len(expected))
    directs = (host_direct if host_direct is not None else (None,) * len(expected)) if many else (host_direct,)
    for k, (g, e, d) in enumerate(zip(got, expected, directs) if many else [(got, expected, host_direct)]):
        what = f"{label}{f' result {k}' if many else ''}"
        assert isinstance(g, b.array_type), f"{what}: {type(g).__name__}, not {b.array_type.__name__}"
        _check_same(b.to_numpy(g), REFERENCE.to_numpy(e), f"{backend} {what} vs the reference backend")
        if d is not None:
            _check_same(REFERENCE.to_numpy(e), d, f"reference {what} vs NumPy")


# ---- the tricky primitives, against NumPy on every backend ---------------------------------------------

@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("kh, kw, stride, hw", [(2, 3, 1, (5, 6)), (3, 3, 2, (7, 8)), (1, 1, 1, (3, 3)),
                                                (2, 2, 3, (8, 7))])
def test_im2col_col2im_are_adjoint(backend, kh, kw, stride, hw, dt):
    """im2col of an image holding each pixel's own position gives, at patch entry (i, j) of window (p, q), the
    position (p stride + i, q stride + j); <im2col(x), y> == <x, col2im(y)>; both agree with the reference."""
    b = backend_object(backend)
    rng = np.random.default_rng(3)
    h, w = hw
    where = np.broadcast_to(np.arange(h * w, dtype=dt).reshape(h, w), (2, 3, h, w))
    cols = b.to_numpy(b.im2col(b.asarray(where, where.dtype), kh, kw, stride))
    i, j, p, q = np.ix_(range(kh), range(kw), range(cols.shape[4]), range(cols.shape[5]))
    np.testing.assert_array_equal(cols, np.broadcast_to((p * stride + i) * w + q * stride + j, cols.shape))
    x = rng.standard_normal((2, 3) + hw).astype(dt)
    cols = b.to_numpy(b.im2col(b.asarray(x, x.dtype), kh, kw, stride))
    np.testing.assert_allclose(cols, REFERENCE.im2col(x, kh, kw, stride), rtol=1e-6)
    y = rng.standard_normal(cols.shape).astype(dt)
    back = b.to_numpy(b.col2im(b.asarray(y, y.dtype), x.shape, stride))
    assert back.shape == x.shape and back.dtype == x.dtype
    np.testing.assert_allclose(back, REFERENCE.col2im(y, x.shape, stride), rtol=1e-5, atol=1e-6)
    lhs = np.dot(cols.astype(np.float64).ravel(), y.astype(np.float64).ravel())
    rhs = np.dot(x.astype(np.float64).ravel(), back.astype(np.float64).ravel())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10 if dt == np.float64 else 1e-5)


def test_index_add_accumulates_repeated_indices(backend):
    b = backend_object(backend)
    idx = np.array([2, 0, 2, 2, -1, 0])
    vals = np.array([1.0, 10.0, 100.0, 1000.0, 5.0, 0.5])
    got = b.to_numpy(b.index_add((4,), (b.asarray(idx, idx.dtype),), b.asarray(vals, vals.dtype), np.float64))
    np.testing.assert_array_equal(got, [10.5, 0.0, 1101.0, 5.0])
    # rows of a matrix, with a mask on the way back: index_add is getitem's adjoint
    rows = np.array([1, 1, 0])
    g = np.arange(12.0).reshape(3, 4)
    got = b.to_numpy(b.index_add((2, 4), (b.asarray(rows, rows.dtype), slice(None)), b.asarray(g, g.dtype),
                                 np.float64))
    np.testing.assert_array_equal(got, [g[2], g[0] + g[1]])
    mask = np.array([[True, False], [True, True]])
    got = b.to_numpy(b.index_add((2, 2), (b.asarray(mask, mask.dtype),), b.asarray(np.array([1.0, 2.0, 3.0]),
                                                                                   np.float64), np.float64))
    np.testing.assert_array_equal(got, [[1.0, 0.0], [2.0, 3.0]])


LOGITS = [[1000.0, 1000.0, -1000.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0], [0.0, 50.0, 100.0]]


def _shifted(x):
    x = x.astype(np.float64)
    return x - x.max(axis=1, keepdims=True)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_row_kernels_do_not_overflow(backend, dt):
    """logsumexp and softmax subtract the maximum: huge logits give finite, accurate answers."""
    b = backend_object(backend)
    x = np.array(LOGITS, dt)
    ax = b.asarray(x, x.dtype)
    sh = _shifted(x)
    rtol = 1e-10 if dt == np.float64 else 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got_lse = b.to_numpy(b.logsumexp(ax, (1,), False))
        got_sm = b.to_numpy(b.softmax(ax, 1))
        masked = b.to_numpy(b.logsumexp(b.asarray(np.full((1, 3), -np.inf, dt), dt), (1,), False))
    np.testing.assert_allclose(got_lse, np.log(np.exp(sh).sum(axis=1)) + x.max(axis=1), rtol=rtol)
    np.testing.assert_allclose(got_sm, np.exp(sh) / np.exp(sh).sum(axis=1, keepdims=True), rtol=rtol, atol=1e-30)
    assert got_lse.dtype == got_sm.dtype == dt
    assert np.isneginf(masked).all()  # a fully masked row: -inf, not NaN


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_log_softmax_is_accurate_for_large_logits(backend, dt):
    b = backend_object(backend)
    x = np.array(LOGITS, dt)
    sh = _shifted(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = b.to_numpy(b.log_softmax(b.asarray(x, dt), 1))
    assert got.dtype == dt
    np.testing.assert_allclose(got, sh - np.log(np.exp(sh).sum(axis=1, keepdims=True)),
                               rtol=1e-10 if dt == np.float64 else 1e-5, atol=0 if dt == np.float64 else 1e-5)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_sigmoid_saturates_without_warnings(backend, dt):
    b = backend_object(backend)
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dt)
    with warnings.catch_warnings(), np.errstate(over="raise", under="ignore"):
        warnings.simplefilter("error")
        got = b.to_numpy(b.sigmoid(b.asarray(x, dt)))
    assert got.dtype == dt
    np.testing.assert_allclose(got, _np_sigmoid(x.astype(np.float64)), rtol=1e-6 if dt == np.float32 else 1e-12,
                               atol=1e-30 if dt == np.float32 else 1e-300)  # float32 exp(-100) is subnormal
    assert got[-1] == 1.0 and 0.0 <= got[0] < 1e-30


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_blocked_axpby_is_the_plain_update_bit_for_bit(dt):
    rng = np.random.default_rng(3)
    y, x = rng.standard_normal((3, 70_001)).astype(dt), rng.standard_normal((3, 70_001)).astype(dt)
    want = y.copy()
    want *= dt(0.9)
    want += x * dt(-0.01)
    assert backend_object("numpy").axpby_(y, 0.9, x, -0.01) is y
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(REFERENCE.axpby_(want.copy(), 1.0, x, 0.5), want + x * dt(0.5))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_in_place_updates_read_aliased_operands_before_writing(backend, dt):
    """axpby_(y, a, y, b) is (a + b) y, and sgd_momentum_ with g aliasing buf uses g's value from before the
    update, as the definitions say: two in-place passes would read x after y was already scaled."""
    b = backend_object(backend)
    for n in (7, 200_003):  # a small array, and one the numpy backend would update in blocks
        y0 = np.linspace(-1, 1, n).astype(dt)
        y = b.asarray(y0, dt)
        assert b.axpby_(y, 0.5, y, 1.0) is y
        np.testing.assert_allclose(b.to_numpy(y), 1.5 * y0, rtol=1e-6)
        p, buf = b.asarray(y0, dt), b.asarray(y0, dt)
        b.sgd_momentum_(p, buf, buf, 0.1, 0.9, 0.0)
        np.testing.assert_allclose(b.to_numpy(buf), 1.9 * y0, rtol=1e-6)
        np.testing.assert_allclose(b.to_numpy(p), y0 - 0.1 * 1.9 * y0, rtol=1e-5, atol=1e-7)
