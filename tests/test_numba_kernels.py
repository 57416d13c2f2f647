"""The Numba backend's kernels (backends/_numba_kernels.py, and the elementwise definitions compiled by
backends/_numba_elementwise.py) and the dispatch in front of them.

Each hand-written kernel runs on tiny fixed shapes twice, through its uncompiled Python function
(`kernel.py_func`, so a wrong index is a plain Python error with a line number) and compiled, against the
reference backend's primitive (its one NumPy reference); each compiled definition runs both ways, flat and over column blocks, against the reference
backend running the same definition. Then the backend's primitives, which pick a kernel layout or fall back
to NumPy, are compared with the numpy backend on the layouts, dtypes and edge cases the dispatch
distinguishes; and kernels are deterministic. The conformance and property suites run on numba too, through
the `backend` fixture.
"""

import numpy as np
import pytest

from micrograd.backend import backend_object, unavailable_reason

K = pytest.importorskip("micrograd.backends._numba_kernels", reason=f"numba unavailable: {unavailable_reason('numba')}")
NE = pytest.importorskip("micrograd.backends._numba_elementwise")
NB = pytest.importorskip("micrograd.backends.numba")
from micrograd.backends import elementwise as E  # noqa: E402
from micrograd.backends.reference import backend as REFERENCE  # noqa: E402
NUMBA = backend_object("numba")
NUMPY = backend_object("numpy")
FLOATS = [np.float32, np.float64]
MODES = ["python", "compiled"]


def _call(kernel, mode, *args):
    (kernel.py_func if mode == "python" else kernel)(*args)


def _close(got, want, dt):
    rtol = 1e-5 if np.dtype(dt) == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-2)


def _rng():
    return np.random.default_rng(7)


# ---- each kernel, uncompiled and compiled, against NumPy ----------------------------------------------

BINARY = {K.ADD: np.add, K.SUB: np.subtract, K.MUL: np.multiply, K.DIV: np.divide, K.MAXIMUM: np.maximum,
          K.MINIMUM: np.minimum}
LAYOUTS = [((2, 3), (2, 3)), ((4, 3), (3,)), ((2, 3, 2, 2), (1, 3, 1, 1)), ((), (2, 3)), ((3, 1), (1, 4)),
           ((2, 1, 3), (2, 4, 1))]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shapes", LAYOUTS, ids=str)
def test_binary3_every_op_and_layout(mode, dt, shapes):
    rng = _rng()
    a = rng.uniform(0.5, 2, shapes[0]).astype(dt)
    b = rng.uniform(-2, 2, shapes[1]).astype(dt)
    shape, dims, sa, sb = NB._layout3(a.shape, b.shape)
    for op, ref in BINARY.items():
        out = np.empty(shape, dt)
        _call(K.binary3, mode, op, a.reshape(-1), sa, b.reshape(-1), sb, out.reshape(dims))
        _close(out, ref(a, b), dt)


def test_layouts_merge_axes_and_refuse_exotic_broadcasts():
    assert NB._layout3((5, 6), (5, 6))[1:] == ((1, 1, 30), (0, 0, 1), (0, 0, 1))
    assert NB._layout3((8, 4, 3, 3), (1, 4, 1, 1))[1:] == ((8, 4, 9), (36, 9, 1), (0, 1, 0))
    assert NB._layout3((2, 3), ())[1:] == ((1, 1, 6), (0, 0, 1), (0, 0, 0))
    assert NB._layout3((2, 1, 3, 1), (1, 4, 1, 5)) is None  # four alternating runs: NumPy's job
    assert NB._layout3((2, 3), (4,)) is None  # not broadcastable: NumPy raises


def _operands(kernel, dt, shape, rng):
    """Arguments for `kernel`: arrays in (-1, 1) (scalars 0.9, -0.25, ...), as the reference takes them."""
    scalars = iter((0.9, -0.25, 0.75))
    return [dt(next(scalars)) if p in kernel.scalars else rng.uniform(-1, 1, shape).astype(dt) for p in kernel.params]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("name", sorted(E.KERNELS))
def test_compiled_definitions_compute_the_definition_bit_for_bit(mode, dt, name):
    """The flat loop and the column-block loop give what the reference backend's evaluation of the same
    definition gives, bit for bit (the same expression in the same dtype and order; transcendental functions
    within a few ulps: Numba's libm against NumPy's SIMD loops)."""
    kernel, rng = E.KERNELS[name], _rng()
    flat, rows = NE.compiled(kernel, dt)
    ops = _operands(kernel, dt, (3, 4), rng)
    want = REFERENCE.run_elementwise(kernel, *[o.copy() if isinstance(o, np.ndarray) else o for o in ops])
    want = want if isinstance(want, tuple) else (want,)
    compare = _close if kernel.transcendental else np.testing.assert_array_equal
    got = [o.copy() if isinstance(o, np.ndarray) else o for o in ops]
    new = [np.full((3, 4), np.nan, dt) for _ in kernel.new_outputs]
    _call(flat, mode, *[o.reshape(-1) if isinstance(o, np.ndarray) else o for o in got + new])
    for g, w in zip([got[kernel.params.index(p)] for p in kernel.inplace] + new, want):
        compare(g, w) if compare is np.testing.assert_array_equal else compare(g, w, dt)
    # the same operands as column blocks of wider arrays, each at its own offset
    parents = [np.full((3, 4 * (i + 2)), np.nan, dt) for i in range(len(kernel.params) + len(kernel.new_outputs))]
    args, results = [3, 4], []
    for i, o in enumerate(ops + [None] * len(kernel.new_outputs)):
        if o is not None and not isinstance(o, np.ndarray):
            args.append(o)
            continue
        off = 4 * (i % 2 + 1)
        if o is not None:
            parents[i][:, off:off + 4] = o
        args += [parents[i], off]
        results.append(parents[i][:, off:off + 4])
    _call(rows, mode, *args)
    written = [results[[p for p in kernel.params if p not in kernel.scalars].index(p)] for p in kernel.inplace]
    for g, w in zip(written + results[len(results) - len(kernel.new_outputs):], want):
        compare(g, w) if compare is np.testing.assert_array_equal else compare(g, w, dt)


@pytest.mark.parametrize("dt", FLOATS)
def test_in_place_updates_are_numpys_bit_for_bit(dt):
    """axpby_ and sgd_momentum_ compiled are NumPy's in-place passes (y *= a; y += b x) bit for bit."""
    rng = _rng()
    y, x = rng.standard_normal(3000).astype(dt), rng.standard_normal(3000).astype(dt)
    want = y.copy()
    want *= dt(0.9)
    want += x * dt(-0.01)
    assert NUMBA.axpby_(y, 0.9, x, -0.01) is y
    np.testing.assert_array_equal(y, want)
    p, buf, g = (rng.standard_normal(4001).astype(dt) for _ in range(3))
    want_p, want_buf = p.copy(), buf.copy()
    NUMPY.axpby_(want_buf, 0.9, g, 0.75)
    NUMPY.axpby_(want_p, 1, want_buf, -0.01)
    assert NUMBA.sgd_momentum_(p, buf, g, 0.01, 0.9, 0.25) is p
    np.testing.assert_array_equal(buf, want_buf)
    np.testing.assert_array_equal(p, want_p)


@pytest.mark.parametrize("dt", FLOATS)
def test_lstm_cell_backward_is_the_numpy_composite_bit_for_bit(dt):
    rng = _rng()
    z, c, gh, gc = (rng.standard_normal(s).astype(dt) * 2 for s in ((16, 256), (16, 64), (16, 64), (16, 64)))
    act = NUMPY.lstm_cell(z, c)[2]
    used = []
    real = NE.compiled
    try:
        NE.compiled = lambda k, d: used.append(k.name) or real(k, d)
        dz, dc = NUMBA.lstm_cell_backward(gh, gc, act, c)
    finally:
        NE.compiled = real
    assert used == ["lstm_cell_units_backward"]
    want_dz, want_dc = NUMPY.lstm_cell_backward(gh, gc, act, c)
    np.testing.assert_array_equal(dz, want_dz)
    np.testing.assert_array_equal(dc, want_dc)


def test_axpby_dispatch_falls_back_where_the_kernel_does_not_apply():
    rng = _rng()
    y = rng.standard_normal((4, 3)).astype(np.float32)
    for x, a, b in ((y[0].copy(), 0.5, 2.0), (y.T.copy().T, 1.0, -1.0), (np.full((4, 3), np.inf, np.float32), 0.5, 0),
                    (y, 0.5, 1.0)):
        got, want = y.copy(), y.copy()
        if x is y:
            x_got, x_want = got, want
        else:
            x_got = x_want = x
        assert NUMBA.axpby_(got, a, x_got, b) is got
        NUMPY.axpby_(want, a, x_want, b)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", [(2, 5, 1), (3, 4, 2), (1, 6, 3)])
def test_reduce3(mode, dt, shape):
    x = _rng().uniform(-2, 2, shape).astype(dt)
    x[0, 1, 0] = np.nan  # max and min propagate NaN; the NaN-free rows check the values
    for op, ref in ((K.SUM, REFERENCE.sum), (K.MAX, REFERENCE.max), (K.MIN, REFERENCE.min)):
        out = np.empty((shape[0], shape[2]), np.float64 if op == K.SUM else dt)
        _call(K.reduce3, mode, op, x, out)
        want = ref(x.astype(np.float64), (1,), False)
        np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
        _close(np.nan_to_num(out), np.nan_to_num(want), dt)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4, 1), (2, 3, 2)])
def test_row_kernels(mode, dt, shape):
    x = _rng().uniform(-5, 5, shape).astype(dt)
    x[0, :, 0] += 1e4  # huge logits: the maximum is subtracted first
    out = np.empty((shape[0], shape[2]), dt)
    _call(K.logsumexp3, mode, x, out)
    _close(out, REFERENCE.logsumexp(x, (1,), False), dt)
    for log, prim in ((False, REFERENCE.softmax), (True, REFERENCE.log_softmax)):
        out = np.empty_like(x)
        _call(K.softmax3, mode, x, out, log)
        _close(out, prim(x, 1), dt)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
def test_softmax_cross_entropy_kernels(mode, dt):
    x = _rng().uniform(-3, 3, (4, 5)).astype(dt)
    t = np.array([2, -100, 0, 4], np.int64)
    loss, lse = np.empty(4, dt), np.empty(4, dt)
    _call(K.softmax_cross_entropy, mode, x, t, -100, loss, lse)
    want_loss, want_lse = REFERENCE.softmax_cross_entropy(x, t, -100)
    _close(lse, want_lse, dt)
    _close(loss, want_loss, dt)
    g = np.array([1.0, 2.0, -0.5, 3.0], dt)
    out = np.empty_like(x)
    _call(K.softmax_cross_entropy_backward, mode, x, t, lse, g, -100, out)
    _close(out, REFERENCE.softmax_cross_entropy_backward(x, t, want_lse, g, -100), dt)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("kh, kw, stride", [(2, 3, 1), (3, 2, 2), (1, 1, 3)])
def test_im2col_and_col2im(mode, dt, kh, kw, stride):
    """The kernels take (N*C, H, W) planes; the reference, (N, C, H, W) images."""
    rng = _rng()
    x = rng.standard_normal((3, 7, 8)).astype(dt)
    want = REFERENCE.im2col(x[None], kh, kw, stride)[0]
    out = np.empty_like(want)
    _call(K.im2col, mode, x, kh, kw, stride, out)
    np.testing.assert_array_equal(out, want)
    cols = rng.standard_normal(want.shape).astype(dt)
    back = np.full(x.shape, np.nan, dt)  # the kernel zeroes its output first
    _call(K.col2im, mode, cols, stride, back)
    _close(back, REFERENCE.col2im(cols[None], (1,) + x.shape, stride)[0], dt)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("kh, kw, sh, sw", [(2, 2, 2, 2), (3, 2, 1, 2), (2, 3, 2, 1)])
def test_max_pool2d_kernels(mode, dt, kh, kw, sh, sw):
    rng = _rng()
    x = np.round(rng.uniform(-1, 1, (2, 6, 7)), 1).astype(dt)  # rounded: windows hold ties
    x[1, 2, 3] = np.nan  # the first NaN of a window wins
    oh, ow = (6 - kh) // sh + 1, (7 - kw) // sw + 1
    out, idx = np.empty((2, oh, ow), dt), np.empty((2, oh, ow), np.int64)
    _call(K.max_pool2d, mode, x, kh, kw, sh, sw, out, idx)
    want, want_idx = REFERENCE.max_pool2d(x[None], kh, kw, sh, sw)
    np.testing.assert_array_equal(idx, want_idx[0])
    np.testing.assert_array_equal(out, want[0])
    g = rng.standard_normal(out.shape).astype(dt)
    back = np.full((2, 42), np.nan, dt)
    _call(K.max_pool2d_backward, mode, g.reshape(2, -1), idx.reshape(2, -1), back)
    _close(back.reshape(2, 6, 7), REFERENCE.max_pool2d_backward(g[None], idx[None], (1, 2, 6, 7))[0], dt)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dt", FLOATS)
def test_index_add_rows(mode, dt):
    pos = np.array([3, 0, 3, 3, 1])
    values = _rng().standard_normal((5, 4)).astype(dt)
    out = np.full((4, 4), np.nan, dt)
    _call(K.index_add_rows, mode, pos, values, out)
    _close(out, REFERENCE.index_add((4, 4), (pos,), values, dt), dt)


# ---- the backend's dispatch, against the numpy backend ------------------------------------------------

def _same(prim, *args, atol32=1e-8):
    """numba's primitive gives the numpy backend's result: dtype, shape, values (NaN where NumPy has NaN)."""
    got, want = getattr(NUMBA, prim)(*args), getattr(NUMPY, prim)(*args)
    for g, w in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
        assert type(g) is np.ndarray and g.dtype == w.dtype and g.shape == w.shape, (prim, g.dtype, w.dtype)
        if w.dtype.kind == "f":
            rtol, atol = (1e-5, atol32) if w.dtype == np.float32 else (1e-12, 1e-15)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=prim)
        else:
            np.testing.assert_array_equal(g, w, err_msg=prim)
    return got


OPERANDS = [
    ((64, 16, 9, 9), (1, 16, 1, 1)), ((128, 40), (40,)), ((300,), ()), ((7, 1, 5), (1, 6, 5)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),  # exotic: NumPy
]


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shapes", OPERANDS, ids=str)
@pytest.mark.parametrize("prim", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_primitives(prim, shapes, dt):
    rng = _rng()
    a, b = rng.uniform(0.5, 2, shapes[0]).astype(dt), rng.uniform(0.5, 2, shapes[1]).astype(dt)
    _same(prim, a, b)
    _same(prim, b, a)
    assert _same(prim, a, 3).dtype == dt and _same(prim, 2.5, a).dtype == dt  # Python numbers are weak
    _same(prim, a, True)


@pytest.mark.parametrize("args", [
    (np.arange(6).reshape(2, 3), np.arange(3)),  # int64: NumPy
    (np.ones((2, 3), np.float32), np.ones(3)),  # mixed dtypes promote: NumPy
    (np.ones((3, 2)).T, np.ones(3)),  # non-contiguous: NumPy
    (np.broadcast_to(np.ones(3), (2, 3)), np.ones(3)),  # read-only broadcast view: NumPy
    (np.ones((0, 3)), np.ones(3)),  # empty
    (np.float64(2.0), np.ones(3, np.float32)),  # a NumPy scalar is strong: float64
])
def test_binary_fallbacks_match_numpy(args):
    for prim in ("add", "mul", "div", "maximum"):
        _same(prim, *args)


AXES = [None, (0,), (1,), (3,), (0, 2, 3), (1, 2), (0, 3), (0, 1, 2, 3), ()]


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("axes", AXES, ids=str)
@pytest.mark.parametrize("prim", ["sum", "max", "min"])
def test_reductions_over_any_axes(prim, axes, dt):
    x = _rng().standard_normal((6, 1, 5, 700)).astype(dt)
    # float32 sums: numba accumulates in float64, NumPy pairwise in float32; both are within float32
    # rounding of the sum of magnitudes (a cancelling sum has a large relative error either way).
    atol32 = 1e-6 * float(np.abs(x).sum(axis=axes).max()) if prim == "sum" else 1e-8
    for keepdims in (False, True):
        _same(prim, x, axes, keepdims, atol32=atol32)
    _same(prim, x[..., :3], axes, False)  # non-contiguous: NumPy
    if prim == "sum":
        _same(prim, (x > 0), axes, False)  # bool sums to int64: NumPy


@pytest.mark.parametrize("dt", FLOATS)
def test_row_primitives(dt):
    x = _rng().uniform(-4, 4, (3, 5, 4)).astype(dt)
    for axis in range(3):
        _same("softmax", x, axis)
        _same("log_softmax", x, axis)
        _same("logsumexp", x, (axis,), True)
    _same("logsumexp", x, (1, 2), False)
    _same("logsumexp", x, (0, 2), False)  # two runs: NumPy
    _same("logsumexp", np.full((2, 3), -np.inf, dt), (1,), False)  # all -inf: -inf


@pytest.mark.parametrize("dt", FLOATS)
def test_unary_and_fused_primitives(dt):
    x = _rng().uniform(-30, 30, (64, 33)).astype(dt)
    y = np.tanh(x)
    for prim, args in (("relu", (x,)), ("sigmoid", (x,)), ("relu_backward", (x, np.maximum(x, 0))),
                       ("tanh_backward", (x, y)), ("sigmoid_backward", (x, NUMPY.sigmoid(x))),
                       ("relu", (x.T,)), ("tanh_backward", (x, y.astype(np.float64)))):
        _same(prim, *args)


@pytest.mark.parametrize("dt", FLOATS)
def test_image_primitives(dt):
    rng = _rng()
    x = rng.standard_normal((4, 3, 11, 10)).astype(dt)
    for kh, kw, s in ((3, 3, 1), (2, 3, 2)):
        cols = _same("im2col", x, kh, kw, s)
        _same("col2im", cols, x.shape, s)
        _same("col2im", cols.transpose(1, 0, 2, 3, 4, 5).copy().transpose(1, 0, 2, 3, 4, 5), x.shape, s)
    for kh, kw, sh, sw in ((2, 2, 2, 2), (3, 3, 1, 2)):
        _, idx = _same("max_pool2d", np.round(x, 1), kh, kw, sh, sw)
        g = rng.standard_normal(idx.shape).astype(dt)
        _same("max_pool2d_backward", g, idx, x.shape)
        _same("max_pool2d_backward", np.broadcast_to(g[:1], g.shape), idx, x.shape)


@pytest.mark.parametrize("dt", FLOATS)
def test_cross_entropy_primitives(dt):
    x = _rng().uniform(-3, 3, (9, 7)).astype(dt)
    t = np.array([0, 6, -100, 3, 3, 1, -100, 5, 2])
    loss, lse = _same("softmax_cross_entropy", x, t, -100)
    g = np.broadcast_to(np.array(0.25, dt), (9,))  # the mean's gradient: a broadcast view
    _same("softmax_cross_entropy_backward", x, t, lse, g, -100)
    with pytest.raises(IndexError):  # an unchecked target never reaches the kernel
        NUMBA.softmax_cross_entropy(x, np.array([0, 7, 0, 0, 0, 0, 0, 0, 0]), -100)


@pytest.mark.parametrize("dt", FLOATS)
def test_index_add_patterns(dt):
    rng = _rng()
    shape = (6, 4, 3)
    rows = np.array([[5, 0], [5, -1]])
    mask = np.arange(72).reshape(shape) % 5 == 0
    cases = [
        ((rows,), rng.standard_normal((2, 2, 4, 3))),  # embedding gradient: rows of the first axis
        ((rows, Ellipsis), rng.standard_normal((2, 2, 4, 3))),
        ((np.array([0, 5, 0]), np.array([1, 3, 1])), rng.standard_normal((3, 3))),  # (row, column) picks
        ((np.array([1, 1]), slice(None), np.array([2, 0])), rng.standard_normal((2, 4))),  # array-slice-array: NumPy
        ((slice(1, 3),), rng.standard_normal((2, 4, 3))),  # slices: NumPy
        ((mask,), rng.standard_normal(int(mask.sum()))),  # a bool mask: NumPy
    ]
    for index, values in cases:
        _same("index_add", shape, index, values.astype(dt), dt)
    with pytest.raises(IndexError):  # out of range: NumPy raises, the kernel never writes
        NUMBA.index_add(shape, (np.array([6]),), np.ones((1, 4, 3), dt), dt)


def test_kernels_are_deterministic():
    """Two runs of every kernel-backed primitive give bit-identical results."""
    rng = _rng()
    x = rng.standard_normal((16, 8, 12, 12)).astype(np.float32)
    t = rng.integers(0, 8, 16)
    runs = []
    for _ in range(2):
        cols = NUMBA.im2col(x, 3, 3, 1)
        pooled, idx = NUMBA.max_pool2d(x, 2, 2, 2, 2)
        logits = NUMBA.sum(x, (2, 3), False)
        loss, lse = NUMBA.softmax_cross_entropy(logits, t, -100)
        runs.append([cols, NUMBA.col2im(cols, x.shape, 1), pooled, idx,
                     NUMBA.max_pool2d_backward(pooled, idx, x.shape), NUMBA.add(x, x[:1, :, :1]),
                     NUMBA.relu_backward(x, x), NUMBA.sum(x, (0, 2, 3), True), NUMBA.softmax(x, 1),
                     NUMBA.logsumexp(x, (3,), False), logits, loss,
                     NUMBA.softmax_cross_entropy_backward(logits, t, lse, loss, -100),
                     NUMBA.index_add((20, 8), (t,), logits, np.float32)])
    for a, b in zip(*runs):
        assert a.tobytes() == b.tobytes()


def test_check_available_names_the_problem(monkeypatch):
    monkeypatch.setattr(NB, "K", None)
    monkeypatch.setattr(NB, "_IMPORT_ERROR", ImportError("No module named 'numba'"), raising=False)
    with pytest.raises(ImportError, match=r"numba cannot be imported .*No module named 'numba'.*pip install"):
        NB.check_available()


def _signatures():
    kernels = dict(vars(K))
    for (name, dt), loops in NE._COMPILED.items():
        kernels.update({f"{name}-{dt}-{i}": loop for i, loop in enumerate(loops)})
    return {name: set(k.signatures) for name, k in kernels.items() if hasattr(k, "signatures")}


def test_warm_covers_every_signature_the_primitives_use():
    """After warm(), a float32 and a float64 training-like workload compiles nothing new: the kernel set is
    fixed and small, so the disk cache holds all of it."""
    NB.warm()
    before = _signatures()
    rng = _rng()
    for dt in FLOATS:
        x = rng.standard_normal((8, 3, 10, 10)).astype(dt)
        h = NUMBA.relu(NUMBA.add(x, rng.standard_normal((1, 3, 1, 1)).astype(dt)))
        pooled, idx = NUMBA.max_pool2d(h, 2, 2, 2, 2)
        NUMBA.max_pool2d_backward(NUMBA.relu_backward(pooled, pooled), idx, h.shape)
        NUMBA.col2im(NUMBA.im2col(x, 3, 3, 1), x.shape, 1)
        logits = NUMBA.mul(NUMBA.sum(pooled, (2, 3), False), 0.5)
        t = rng.integers(0, 3, 8)
        loss, lse = NUMBA.softmax_cross_entropy(logits, t, -100)
        NUMBA.sum(NUMBA.softmax_cross_entropy_backward(logits, t, lse, loss, -100), (0,), True)
        NUMBA.index_add((5, 3), (t,), logits, dt)
        NUMBA.log_softmax(logits, 1), NUMBA.logsumexp(logits, (1,), True), NUMBA.max(logits, (1,), False)
        p = x.reshape(8, -1).copy()
        NUMBA.sgd_momentum_(p, p.copy(), x.reshape(8, -1), 0.1, 0.9, 0.0), NUMBA.axpby_(p, 0.5, p.copy(), 2.0)
        z, cell = rng.standard_normal((8, 4 * 75)).astype(dt), p[:, :75].copy()
        NUMBA.lstm_cell_backward(cell, cell, NUMBA.lstm_cell(z, cell)[2], cell)
    assert _signatures() == before


def test_tensors_move_between_numba_and_numpy_differentiably():
    import micrograd as mg

    x = mg.tensor([1.0, 2.0], backend="numba", requires_grad=True)
    y = x.to("numpy")
    assert y.backend == "numpy" and y.grad_fn is not None
    (g,) = mg.grad((y * y * y).sum(), x, create_graph=True)
    assert g.backend == "numba" and g.tolist() == [3.0, 12.0]
    g.sum().backward()
    assert x.grad.backend == "numba" and x.grad.tolist() == [6.0, 12.0]


def test_small_arrays_go_to_numpy_and_large_ones_to_the_kernels(monkeypatch):
    """With the shipped thresholds (the test session zeroes them), small elementwise ops and reductions are
    NumPy's calls and large ones the kernels', with the same results either way."""
    monkeypatch.setattr(NB, "SMALL", {"binary": 8192, "flat": 1024, "reduce": 2048})
    used = []
    for name in ("binary3", "reduce3"):
        kernel = getattr(K, name)
        monkeypatch.setattr(K, name, lambda *args, _k=kernel, _n=name: (used.append(_n), _k(*args))[1])
    monkeypatch.setattr(NE, "compiled", lambda k, dt, _c=NE.compiled: used.append("flat") or _c(k, dt))
    rng = _rng()
    for n, expect_kernel in ((32, False), (20_000, True)):
        x, y = (rng.standard_normal((n // 4, 4)).astype(np.float32) for _ in range(2))
        used.clear()
        for prim, args in (("mul", (x, y)), ("relu", (x,)), ("relu_backward", (x, y)), ("sum", (x, (0,), False))):
            _same(prim, *args)
        assert (sorted(set(used)) == ["binary3", "flat", "reduce3"]) == expect_kernel, (n, used)
        assert expect_kernel or not used, used
