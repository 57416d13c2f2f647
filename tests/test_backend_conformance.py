"""Backend conformance: every backend implements every primitive of backends/base.py and computes what the
numpy backend computes (float64 within rtol 1e-10, float32 within rtol 1e-4 / atol 1e-5), returning its own
array type (0-d included) and never mutating its inputs (except the in-place `assign_`, `axpby_` and
`sgd_momentum_`).

Each case also carries a direct NumPy expression, so the numpy backend, the oracle, is itself checked; the
tricky primitives (im2col/col2im, index_add, the stable row kernels, sigmoid) get dedicated tests.
"""
import inspect
import warnings

import numpy as np
import pytest

from micrograd.backend import backend_object
from micrograd.backends.base import PRIMITIVES, Backend

NUMPY = backend_object("numpy")
TOL = {np.dtype(np.float64): (1e-10, 0.0), np.dtype(np.float32): (1e-4, 1e-5)}


class Host:
    """An argument passed to the primitive as host data (asarray's input), not converted to the backend."""

    def __init__(self, value):
        self.value = value


def _to(b, obj):
    """`obj` with every NumPy array inside turned into backend `b`'s array."""
    if isinstance(obj, Host):
        return obj.value
    if isinstance(obj, np.ndarray):
        return b.asarray(obj, obj.dtype)
    if isinstance(obj, tuple):
        return tuple(_to(b, o) for o in obj)
    if isinstance(obj, list):
        return [_to(b, o) for o in obj]
    return obj


def _arrays_in(b, obj):
    if isinstance(obj, b.array_type) and not isinstance(obj, Host):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [a for o in obj for a in _arrays_in(b, o)]
    return []


def _host(obj):
    if isinstance(obj, Host):
        return obj.value
    if isinstance(obj, tuple):
        return tuple(_host(o) for o in obj)
    if isinstance(obj, list):
        return [_host(o) for o in obj]
    return obj


def _np_sigmoid(x):
    e = np.exp(-np.abs(x))  # exp of a non-positive number: no overflow
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_im2col(x, kh, kw, stride):
    n, c, h, w = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, c, kh, kw, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            for p in range(oh):
                for q in range(ow):
                    out[:, :, i, j, p, q] = x[:, :, p * stride + i, q * stride + j]
    return out


def _np_col2im(cols, shape, stride):
    n, c, kh, kw, oh, ow = cols.shape
    out = np.zeros(shape, cols.dtype)
    for i in range(kh):
        for j in range(kw):
            for p in range(oh):
                for q in range(ow):
                    out[:, :, p * stride + i, q * stride + j] += cols[:, :, i, j, p, q]
    return out


def _np_index_add(shape, index, values, dtype):
    out = np.zeros(shape, dtype)
    np.add.at(out, index, values)
    return out


def _np_max_pool2d(x, kh, kw, sh, sw):
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    values, indices = np.zeros((n, c, oh, ow), x.dtype), np.zeros((n, c, oh, ow), np.int64)
    for i, j in np.ndindex(oh, ow):
        win = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(n, c, -1)
        k = win.argmax(axis=-1)  # the first maximum in row-major window order
        values[:, :, i, j] = win.max(axis=-1)
        indices[:, :, i, j] = (i * sh + k // kw) * w + j * sw + k % kw
    return values, indices


def _np_max_pool2d_backward(g, indices, shape):
    n, c, h, w = shape
    out = np.zeros((n, c, h * w), g.dtype)
    for a, b in np.ndindex(n, c):
        np.add.at(out[a, b], indices[a, b].ravel(), g[a, b].ravel())
    return out.reshape(shape)


def _np_softmax_cross_entropy(logits, targets, ignore_index):
    lse = _np_logsumexp(logits, 1, False)
    valid = targets != ignore_index
    picked = logits[np.arange(len(targets)), np.where(valid, targets, 0)]
    return np.where(valid, lse - picked, 0).astype(logits.dtype), lse


def _np_softmax_cross_entropy_backward(logits, targets, lse, g, ignore_index):
    valid = targets != ignore_index
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[np.where(valid, targets, 0)]
    return np.where(valid[:, None], (np.exp(logits - lse[:, None]) - onehot) * g[:, None], 0).astype(logits.dtype)


def _set(dst, src):
    dst = dst.copy()
    dst[...] = src
    return dst


def _axpby(y, a, x, b):
    return (a * y.astype(np.float64) + b * x).astype(y.dtype)


def _np_lstm_cell(z, c):
    n = c.shape[1]
    i, f, o = (_np_sigmoid(z[:, k * n:(k + 1) * n]) for k in (0, 1, 3))
    g = np.tanh(z[:, 2 * n:3 * n])
    c_new = f * c + i * g
    t = np.tanh(c_new)
    return o * t, c_new, np.concatenate([i, f, g, o, t], axis=1)


def _np_lstm_cell_backward(gh, gc, act, c):
    i, f, g, o, t = np.split(act, 5, axis=1)
    gc = gc + gh * o * (1 - t * t)
    dz = np.concatenate([gc * g * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - g * g), gh * t * o * (1 - o)],
                        axis=1)
    return dz, gc * f


WRITES = {"assign_": 1, "axpby_": 1, "sgd_momentum_": 2}  # in-place primitives: how many leading args they write


def _sgd_momentum(p, buf, g, lr, momentum, dampening):
    buf = (momentum * buf.astype(np.float64) + (1 - dampening) * g).astype(buf.dtype)
    return (p - lr * buf.astype(np.float64)).astype(p.dtype), buf


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
    img = rng.uniform(-1, 1, (2, 3, 5, 6)).astype(f)
    cols = rng.uniform(-1, 1, (2, 3, 2, 3, 2, 2)).astype(f)
    other = np.float32 if f == np.float64 else np.float64
    yrelu = np.maximum(x, 0)  # relu's output, zeros included
    ysig = _np_sigmoid(x)
    pool = np.round(rng.uniform(-1, 1, (2, 2, 5, 6)), 1).astype(f)  # rounded: windows hold ties
    pool_idx = _np_max_pool2d(pool, 3, 2, 1, 2)[1]
    logits = rng.uniform(-3, 3, (4, 5)).astype(f)
    targets = np.array([2, 0, -100, 4], np.int64)
    lse = _np_logsumexp(logits, 1, False)
    z = rng.uniform(-4, 4, (3, 8)).astype(f)  # an LSTM cell with N = 3, H = 2
    cell = rng.uniform(-2, 2, (3, 2)).astype(f)
    act = _np_lstm_cell(z, cell)[2]
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
        ("tanh", "tanh", (x,), np.tanh),
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
        ("reshape", "reshape", (x, (4, 6)), np.reshape),
        ("transpose", "transpose", (x, (2, 0, 1)), np.transpose),
        ("broadcast_to", "broadcast_to", (y, (2, 3, 4)), np.broadcast_to),
        ("getitem-basic", "getitem", (x, (0, slice(None, None, -1), None)), lambda a, i: a[i]),
        ("getitem-0d", "getitem", (x, (1, 2, 3)), lambda a, i: np.asarray(a[i])),
        ("getitem-ints", "getitem", (x, (Ellipsis, np.array([0, 0, 3, -1]))), lambda a, i: a[i]),
        ("getitem-mask", "getitem", (x, (np.array([[True, False, True], [False, True, True]]),)), lambda a, i: a[i]),
        ("index_add-repeats", "index_add", ((5,), (np.array([0, 1, 0, 4, 0]),), np.arange(5, dtype=f), f),
         _np_index_add),
        ("index_add-2d", "index_add", ((2, 3), (np.array([1, 1, 0]), slice(None)), np.ones((3, 3), f), f),
         _np_index_add),
        ("concatenate", "concatenate", ([x, x[:, :1]], 1), np.concatenate),
        ("pad", "pad", (x, ((1, 0), (0, 2), (1, 1)), 0.0), lambda a, w, v: np.pad(a, w, constant_values=v)),
        ("matmul", "matmul", (x[0], x[1].T), np.matmul),
        ("matmul-1d-0d", "matmul", (x[0, 0], x[1, 1]), lambda a, b: np.asarray(np.matmul(a, b))),
        ("matmul-batched", "matmul", (x.reshape(2, 1, 3, 4), x.reshape(3, 4, 2)), np.matmul),
        ("matmul-1d-batched", "matmul", (x[0, :, 0], x), np.matmul),
        ("im2col", "im2col", (img, 2, 3, 1), _np_im2col),
        ("im2col-stride", "im2col", (img, 3, 2, 2), _np_im2col),
        ("col2im", "col2im", (cols, (2, 3, 3, 4), 1), _np_col2im),
        ("col2im-stride", "col2im", (cols, (2, 3, 4, 5), 2), _np_col2im),
        ("relu_backward", "relu_backward", (x, yrelu), lambda g, y: np.where(y > 0, g, 0).astype(g.dtype)),
        ("tanh_backward", "tanh_backward", (x, np.tanh(x)), lambda g, y: g * (1 - y * y)),
        ("sigmoid_backward", "sigmoid_backward", (x, ysig), lambda g, y: g * (y * (1 - y))),
        ("max_pool2d", "max_pool2d", (pool, 2, 2, 2, 2), _np_max_pool2d),
        ("max_pool2d-overlap", "max_pool2d", (pool, 3, 2, 1, 2), _np_max_pool2d),
        ("max_pool2d_backward", "max_pool2d_backward", (rng.uniform(-1, 1, pool_idx.shape).astype(f), pool_idx,
                                                        pool.shape), _np_max_pool2d_backward),
        ("softmax_cross_entropy", "softmax_cross_entropy", (logits, targets, -100), _np_softmax_cross_entropy),
        ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward",
         (logits, targets, lse, np.array([1.0, 0.5, 2.0, -1.0], f), -100), _np_softmax_cross_entropy_backward),
        ("softmax_cross_entropy-all-valid", "softmax_cross_entropy", (logits, np.abs(targets) % 5, -100),
         _np_softmax_cross_entropy),
        ("softmax_cross_entropy_backward-all-valid", "softmax_cross_entropy_backward",
         (logits, np.abs(targets) % 5, lse, np.array([1.0, 0.5, 2.0, -1.0], f), -100),
         _np_softmax_cross_entropy_backward),
        ("lstm_cell", "lstm_cell", (z, cell), _np_lstm_cell),
        ("lstm_cell_backward", "lstm_cell_backward", (cell[::-1].copy(), cell * 2, act, cell), _np_lstm_cell_backward),
        ("assign_", "assign_", (np.zeros((2, 3, 4), f), x.astype(other)), _set),
        ("axpby_", "axpby_", (x.copy(), 0.9, x[::-1].copy(), -0.25), _axpby),
        ("axpby_-add", "axpby_", (x.copy(), 1, x[::-1].copy(), 1.0), _axpby),
        ("axpby_-broadcast", "axpby_", (x.copy(), 0.5, x[0, 0].copy(), 2), _axpby),
        ("axpby_-blocked", "axpby_", (rng.standard_normal(150_001).astype(f), 0.9,
                                      rng.standard_normal(150_001).astype(f), -0.01), _axpby),
        ("sgd_momentum_", "sgd_momentum_", (x.copy(), x[::-1].copy(), x[:, ::-1].copy(), 0.1, 0.9, 0.0), _sgd_momentum),
        ("sgd_momentum_-dampening", "sgd_momentum_", (x.copy(), x[::-1].copy(), x[:, ::-1].copy(), 0.1, 0.9, 0.3),
         _sgd_momentum),
        ("sgd_momentum_-blocked", "sgd_momentum_", tuple(rng.standard_normal(140_001).astype(f) for _ in range(3))
         + (0.01, 0.9, 0.0), _sgd_momentum),
        ("axpby_-scale-only", "axpby_", (x.copy(), 0.5, np.full(x.shape, np.inf, f), 0), lambda y, a, x, b: a * y),
        ("synchronize", "synchronize", (), lambda: None),
    ]


CASES = [pytest.param(dt, c, id=f"{c[0]}-{np.dtype(dt).name}") for dt in (np.float32, np.float64) for c in cases(dt)]


def _check_same(got, expected, what):
    if expected is None or isinstance(expected, bool):
        assert got is expected or (isinstance(got, bool) and got == expected), f"{what}: {got!r} != {expected!r}"
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
def test_primitive_matches_numpy_backend(backend, dt, case):
    """Same result as the numpy backend (and as a direct NumPy expression), in the backend's array type,
    without touching its inputs."""
    label, prim, args, direct = case
    b = backend_object(backend)
    b_args = _to(b, args)
    inputs = _arrays_in(b, b_args)
    written = WRITES.get(prim, 0)
    inputs = inputs[written:]  # in-place primitives write into their leading arguments, by contract
    before = [b.to_numpy(a) for a in inputs]
    np_args = _to(NUMPY, args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning for log(0), x / 0, exp overflow...
        got = getattr(b, prim)(*b_args)
        expected = getattr(NUMPY, prim)(*np_args)
    for a, old in zip(inputs, before):
        np.testing.assert_array_equal(b.to_numpy(a), old, err_msg=f"{prim} mutated an input")
    host_direct = direct(*_host(args))
    if prim in ("all_finite", "synchronize"):
        _check_same(got, host_direct, f"{backend} {label}")
        _check_same(expected, host_direct, f"numpy {label}")
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
    assert isinstance(got, tuple) == many and (not many or len(got) == len(expected) == len(host_direct))
    for k, (g, e, d) in enumerate(zip(got, expected, host_direct) if many else [(got, expected, host_direct)]):
        what = f"{label}{f' result {k}' if many else ''}"
        assert isinstance(g, b.array_type), f"{what}: {type(g).__name__}, not {b.array_type.__name__}"
        _check_same(b.to_numpy(g), NUMPY.to_numpy(e), f"{backend} {what} vs the numpy backend")
        _check_same(NUMPY.to_numpy(e), d, f"numpy {what} vs NumPy")


# ---- the tricky primitives, against NumPy on every backend ---------------------------------------------

@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("kh, kw, stride, hw", [(2, 3, 1, (5, 6)), (3, 3, 2, (7, 8)), (1, 1, 1, (3, 3)),
                                                (2, 2, 3, (8, 7))])
def test_im2col_col2im_are_adjoint(backend, kh, kw, stride, hw, dt):
    """<im2col(x), y> == <x, col2im(y)>, and both match a loop over patches."""
    b = backend_object(backend)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3) + hw).astype(dt)
    cols = b.to_numpy(b.im2col(b.asarray(x, x.dtype), kh, kw, stride))
    np.testing.assert_allclose(cols, _np_im2col(x, kh, kw, stride), rtol=1e-6)
    y = rng.standard_normal(cols.shape).astype(dt)
    back = b.to_numpy(b.col2im(b.asarray(y, y.dtype), x.shape, stride))
    assert back.shape == x.shape and back.dtype == x.dtype
    np.testing.assert_allclose(back, _np_col2im(y, x.shape, stride), rtol=1e-5, atol=1e-6)
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
    assert NUMPY.axpby_(y, 0.9, x, -0.01) is y
    np.testing.assert_array_equal(y, want)
