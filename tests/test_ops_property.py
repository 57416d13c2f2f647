"""Property tests for every op of the Tensor engine on every available backend, driven by tests/op_specs.py.

For each row: the forward pass equals NumPy (float64 tightly; float32 within rtol 1e-4 / atol 1e-5, in
NumPy 2's result dtype); the backward pass matches float64 central differences (mg.gradcheck) and, for
smooth ops, so do second derivatives (mg.gradgradcheck); inputs are never mutated and gradients never alias
one another or the inputs. Random expression graphs built from the rows are gradchecked, and the scalar
engine agrees with the tensor engine on random expressions.
"""
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import micrograd as mg
from micrograd.backend import backend_object
from micrograd.engine import Value
from op_specs import BY_NAME, OPS, SMOOTH, TIES, broadcast_shapes, numpy_axes, points, shapes, values

try:
    import torch
except ImportError:  # PyTorch is an optional reference
    torch = None

# The `backend` fixture is entered once per test, not per example, which is what we want here.
SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
FEWER = settings(SETTINGS, max_examples=max(5, settings.default.max_examples * 3 // 5))

RTOL64, ATOL64 = 1e-10, 1e-12


def _rows(pred=lambda spec: True):
    return [pytest.param(spec, id=spec.name) for spec in OPS if pred(spec)]


def _draw(spec, data):
    case = data.draw(spec.cases(), label="case")
    arrays = data.draw(spec.inputs(case), label="inputs")
    return case, arrays


def _leaves(arrays, dtype=np.float64, requires_grad=True):
    return [mg.tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrays]


def _check_close(out, expected, rtol, atol, what=""):
    expected = np.asarray(expected)
    assert out.dtype == expected.dtype, f"{what}dtype {out.dtype} != NumPy's {expected.dtype}"
    assert out.shape == expected.shape, f"{what}shape {out.shape} != NumPy's {expected.shape}"
    got = out.detach().numpy()
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def _same_params(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same_params(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_params(a[k], b[k]) for k in a)
    return a == b


def _shares_memory(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.shares_memory(a, b)
    ia, ib = getattr(a, "__cuda_array_interface__", None), getattr(b, "__cuda_array_interface__", None)
    if ia is None or ib is None or a.size == 0 or b.size == 0:
        return False
    start_a, start_b = ia["data"][0], ib["data"][0]
    return start_a < start_b + b.nbytes and start_b < start_a + a.nbytes


# ---- per-row properties --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", _rows())
@SETTINGS
@given(data=st.data())
def test_forward_matches_numpy(spec, backend, data):
    case, arrays = _draw(spec, data)
    array_type = backend_object(backend).array_type
    for dtype, rtol, atol in ((np.float64, RTOL64, ATOL64), (np.float32, spec.rtol32, spec.atol32)):
        xs = [a.astype(dtype) for a in arrays]
        out = spec.fn(*_leaves(xs, dtype, requires_grad=False), **case.params)
        assert isinstance(out, mg.Tensor) and out.backend == backend
        assert isinstance(out._data, array_type), f"{type(out._data).__name__} is not {array_type.__name__}"
        _check_close(out, spec.ref(*xs, **case.params), rtol, atol, f"{spec.name} {np.dtype(dtype).name}: ")


@pytest.mark.parametrize("spec", _rows(lambda s: s.grad))
@SETTINGS
@given(data=st.data())
def test_backward_matches_finite_differences(spec, backend, data):
    case, arrays = _draw(spec, data)
    leaves = _leaves(arrays)
    assert mg.gradcheck(lambda *ts: spec.fn(*ts, **case.params), leaves, **spec.grad_kw)


@pytest.mark.parametrize("spec", _rows(lambda s: s.gradgrad))
@FEWER
@given(data=st.data())
def test_second_derivatives_match_finite_differences(spec, backend, data):
    case, arrays = _draw(spec, data)
    leaves = _leaves(arrays)
    assert mg.gradgradcheck(lambda *ts: spec.fn(*ts, **case.params), leaves, **spec.grad_kw)


@pytest.mark.parametrize("spec", _rows())
@SETTINGS
@given(data=st.data())
def test_inputs_not_mutated_and_grads_not_aliased(spec, backend, data):
    case, arrays = _draw(spec, data)
    params_before = copy.deepcopy(case.params)  # index arrays, masks, conditions
    leaves = _leaves(arrays, requires_grad=spec.grad)
    out = spec.fn(*leaves, **case.params)
    seed = mg.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape), dtype=out.dtype)
    seed_before = seed.detach().numpy()
    if spec.grad:
        out.backward(seed)
    for leaf, before in zip(leaves, arrays):
        np.testing.assert_array_equal(leaf.detach().numpy(), before, err_msg=f"{spec.name} mutated an input")
    np.testing.assert_array_equal(seed.detach().numpy(), seed_before, err_msg=f"{spec.name} backward mutated its grad")
    assert _same_params(case.params, params_before), f"{spec.name} mutated an index/condition argument"
    if not spec.grad:
        assert not out.requires_grad
        return
    others = [leaf._data for leaf in leaves] + [out._data, seed._data]
    for i, leaf in enumerate(leaves):
        g = leaf.grad
        assert g is not None and g.shape == leaf.shape and g.dtype == leaf.dtype
        assert g.backend == backend and not g.requires_grad
        for j, other in enumerate(others):
            assert not _shares_memory(g._data, other), f"{spec.name}: grad of input {i} aliases array {j}"
        for j, leaf2 in enumerate(leaves[:i]):
            assert not _shares_memory(g._data, leaf2.grad._data), f"{spec.name}: grads of inputs {j} and {i} alias"


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0): not compared")
@pytest.mark.parametrize("spec", _rows(lambda s: s.torch is not None))
@SETTINGS
@given(data=st.data())
def test_matches_pytorch(spec, data):
    """Rows with a PyTorch version give PyTorch's float64 values and gradients (the numpy backend: every
    backend matches it, above)."""
    case, arrays = _draw(spec, data)
    out = spec.fn(*_leaves(arrays, requires_grad=spec.grad), **case.params)
    tleaves = [torch.tensor(a, requires_grad=spec.grad) for a in arrays]
    tout = spec.torch(torch, *tleaves, **case.params)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=spec.name)
    if spec.grad:
        seed = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
        leaves = _leaves(arrays)
        spec.fn(*leaves, **case.params).backward(mg.tensor(seed))
        tout.backward(torch.tensor(seed))
        for leaf, t in zip(leaves, tleaves):
            np.testing.assert_allclose(leaf.grad.detach().numpy(), t.grad.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=spec.name)


def test_table_covers_the_api():
    """Every op of API.md's Tensor engine has a row (forward-only ones included)."""
    api = {"neg", "add", "sub", "mul", "div", "pow", "pow_scalar", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
           "relu", "clip", "sum", "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax", "reshape",
           "transpose", "permute", "T", "mT", "flatten", "unsqueeze", "squeeze", "broadcast_to", "getitem_basic",
           "getitem_array", "getitem_mask", "concatenate", "stack", "where", "maximum", "minimum", "pad", "matmul",
           "astype", "argmax", "argmin", "lt", "le", "gt", "ge", "eq", "ne"}
    assert api <= set(BY_NAME), sorted(api - set(BY_NAME))
    for spec in OPS:
        assert spec.gradgrad <= spec.grad, spec.name
        assert spec.arity >= 1 and spec.kind, spec.name


def _fixed_inputs(spec, shapes, seed):
    """Inputs of `shapes` from the row's domains without Hypothesis (distinct values where the row asks)."""
    rng = np.random.default_rng(seed)
    doms = spec.domains(len(shapes))
    return [np.asarray(rng.choice(np.array(points(d, i, len(shapes))), size=s, replace=not d.distinct))
            for i, (d, s) in enumerate(zip(doms, shapes))]


# ---- explicit cases the strategies must not leave to chance ---------------------------------------------

REDUCTIONS = ["sum", "mean", "var", "max", "min", "logsumexp"]
AXES = [None, (), 0, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("axis", AXES, ids=repr)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_axis_forms(name, axis, backend):
    """Negative and tuple axes, axis=(), keepdims and the dim/keepdim aliases, forward and backward."""
    spec = BY_NAME[name]
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) / 7.0 - 1.5  # distinct: no ties for max/min
    for keepdims in (False, True):
        extra = {"ddof": 0} if name == "var" else {}
        expected = spec.ref(x, axis=axis, keepdims=keepdims, alias=False, **extra)
        for alias in (False, True):
            (t,) = _leaves([x])
            out = spec.fn(t, axis=axis, keepdims=keepdims, alias=alias, **extra)
            _check_close(out, expected, RTOL64, ATOL64, f"{name} axis={axis!r} keepdims={keepdims}: ")
        assert mg.gradcheck(lambda t: spec.fn(t, axis=axis, keepdims=keepdims, alias=False, **extra), _leaves([x]))


BROADCAST_PAIRS = [((2, 1, 3), (4, 1)), ((), (2, 3)), ((3,), (2, 3)), ((2, 3), (1,)), ((1, 1), (3,)),
                   ((2, 1), (1, 3))]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_broadcast_gradients_reduce_to_input_shapes(name, shapes, backend):
    spec = BY_NAME[name]
    arrays = _fixed_inputs(spec, shapes, seed=1)
    a, b = _leaves(arrays)
    out = spec.fn(a, b)
    out.backward(mg.ones_like(out))
    assert a.grad.shape == shapes[0] and b.grad.shape == shapes[1]
    assert mg.gradcheck(spec.fn, _leaves(arrays))


def _first_extremum_mask(x, axis, mode):
    """1 at the first (row-major over the reduced axes) maximal/minimal element of each reduced slice."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(a % x.ndim for a in np.atleast_1d(axis)))
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    moved = np.transpose(x, kept + axes).reshape(tuple(x.shape[i] for i in kept) + (-1,))
    idx = (np.argmax if mode == "max" else np.argmin)(moved, axis=-1)
    mask = np.zeros_like(moved)
    np.put_along_axis(mask, idx[..., None], 1.0, axis=-1)
    mask = mask.reshape(tuple(x.shape[i] for i in kept + axes))
    return np.transpose(mask, np.argsort(kept + axes))


@pytest.mark.parametrize("mode", ["max", "min"])
@SETTINGS
@given(data=st.data())
def test_max_min_along_a_dim_send_the_gradient_to_the_first_extremum(mode, backend, data):
    """x.max(dim): the gradient goes to the element the returned index names (the first extremum), as PyTorch."""
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = data.draw(values(TIES, shape), label="x")  # five distinct values: ties are common
    (t,) = _leaves([x])
    values_, indices = getattr(t, mode)(axis)
    np.testing.assert_array_equal(indices.detach().numpy(), (np.argmax if mode == "max" else np.argmin)(x, axis))
    values_.sum().backward()
    np.testing.assert_array_equal(t.grad.detach().numpy(), _first_extremum_mask(x, axis, mode))


@pytest.mark.parametrize("mode", ["max", "min"])
@SETTINGS
@given(data=st.data())
def test_full_max_and_amax_split_the_gradient_evenly_over_ties(mode, backend, data):
    """x.max() and x.amax(dims): the gradient is split evenly over the elements that attain the extremum."""
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    axis = data.draw(numpy_axes(len(shape)), label="dims")
    x = data.draw(values(TIES, shape), label="x")
    (t,) = _leaves([x])
    axes = None if axis in (None, ()) else axis
    out = getattr(t, mode)() if axes is None else getattr(t, "a" + mode)(axes)
    out.sum().backward()
    best = (np.max if mode == "max" else np.min)(x, axis=axes, keepdims=True)
    hit = (x == best).astype(float)
    np.testing.assert_allclose(t.grad.detach().numpy(), hit / hit.sum(axis=axes, keepdims=True), rtol=1e-15)


@pytest.mark.parametrize("mode", ["maximum", "minimum"])
@SETTINGS
@given(data=st.data())
def test_maximum_minimum_ties_split_the_gradient_evenly(mode, backend, data):
    sa, sb = data.draw(broadcast_shapes(2, max_dims=3), label="shapes")
    a, b = data.draw(values(TIES, sa), label="a"), data.draw(values(TIES, sb), label="b")
    ta, tb = _leaves([a, b])
    getattr(mg, mode)(ta, tb).sum().backward()
    out_shape = np.broadcast_shapes(sa, sb)
    wins = (a > b) if mode == "maximum" else (a < b)
    wa = np.broadcast_to(np.where(wins, 1.0, np.where(a == b, 0.5, 0.0)), out_shape)

    def reduce_to(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)

    np.testing.assert_allclose(ta.grad.detach().numpy(), reduce_to(wa, sa), rtol=1e-12)
    np.testing.assert_allclose(tb.grad.detach().numpy(), reduce_to(1.0 - wa, sb), rtol=1e-12)


ZERO_DIM_ROWS = [spec for spec in OPS if spec.kind == "elementwise"]


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in ZERO_DIM_ROWS])
def test_zero_dim_tensors_stay_zero_dim(spec, backend):
    """0-d in, 0-d out, as the backend's array type (never a NumPy or Python scalar), 0-d gradients."""
    params = _FIXED_PARAMS.get(spec.name, {})
    arrays = _fixed_inputs(spec, [()] * spec.arity, seed=2)
    leaves = _leaves(arrays)
    out = spec.fn(*leaves, **params)
    assert out.shape == () and isinstance(out._data, backend_object(backend).array_type)
    _check_close(out, spec.ref(*arrays, **params), RTOL64, ATOL64)
    out.backward()
    for leaf in leaves:
        assert leaf.grad.shape == () and isinstance(leaf.grad._data, backend_object(backend).array_type)
    assert mg.gradcheck(lambda *ts: spec.fn(*ts, **params), _leaves(arrays))


_FIXED_PARAMS = {
    "exp": {"via": "method"}, "log": {"via": "function"}, "sqrt": {"via": "method"}, "abs": {"via": "builtin"},
    "tanh": {"via": "function"}, "sigmoid": {"via": "method"}, "relu": {"via": "function"},
    "clip": {"lo": -0.5, "hi": 0.5, "via": "clip_method"}, "where": {"cond": np.array(True), "as_tensor": True},
    "pow_scalar": {"p": 2.5}, "pow_int": {"p": 3}, "scalar_arith": {"op": "truediv", "c": 2, "reflected": True},
    "ndarray_arith": {"op": "sub", "arr": np.array(3.0)}, "masked_fill": {"mask": np.array(True), "value": -1.5},
}


# ---- random expression graphs ---------------------------------------------------------------------------

def _call(name, side, *args, **params):
    spec = BY_NAME[name]
    return (spec.fn if side == "fn" else spec.ref)(*args, **params)


def _positive(side, x):
    """sigmoid(x) * 2.5 + 0.5: maps any value into (0.5, 3), the domain of log, sqrt and pow bases."""
    s = _call("sigmoid", side, x, via="function")
    s = _call("scalar_arith", side, s, op="mul", c=2.5, reflected=False)
    return _call("scalar_arith", side, s, op="add", c=0.5, reflected=False)


def _bounded(side, x):
    return _call("tanh", side, x, via="method")


# Each node: (arity, builder(side, args, params)); every rule keeps values finite and away from poles.
DAG_NODES = {
    "add": (2, lambda side, a, b, p: _call("add", side, a, b)),
    "sub": (2, lambda side, a, b, p: _call("sub", side, a, b)),
    "mul": (2, lambda side, a, b, p: _call("mul", side, a, b)),
    "div": (2, lambda side, a, b, p: _call("div", side, a, _positive(side, b))),
    "pow": (2, lambda side, a, b, p: _call("pow", side, _positive(side, a), _bounded(side, b))),
    "neg": (1, lambda side, a, p: _call("neg", side, a)),
    "exp": (1, lambda side, a, p: _call("exp", side, _bounded(side, a), via="method")),
    "log": (1, lambda side, a, p: _call("log", side, _positive(side, a), via="method")),
    "sqrt": (1, lambda side, a, p: _call("sqrt", side, _positive(side, a), via="function")),
    "tanh": (1, lambda side, a, p: _call("tanh", side, a, via="function")),
    "sigmoid": (1, lambda side, a, p: _call("sigmoid", side, a, via="method")),
    "pow_scalar": (1, lambda side, a, p: _call("pow_scalar", side, _positive(side, a), p=-1.5)),
    "square": (1, lambda side, a, p: _call("pow_int", side, a, p=2)),
    "sum": (1, lambda side, a, p: _call("sum", side, a, axis=p["axis"], keepdims=True, alias=False)),
    "mean": (1, lambda side, a, p: _call("mean", side, a, axis=p["axis"], keepdims=True, alias=True)),
    "var": (1, lambda side, a, p: _call("var", side, a, axis=p["axis"], keepdims=True, alias=False, ddof=0)),
    "logsumexp": (1, lambda side, a, p: _call("logsumexp", side, a, axis=p["axis"], keepdims=True, alias=False)),
    "softmax": (1, lambda side, a, p: _call("softmax", side, a, axis=p["one_axis"], alias=False)),
    "log_softmax": (1, lambda side, a, p: _call("log_softmax", side, a, axis=p["one_axis"], alias=True)),
}


@st.composite
def dags(draw):
    """1-3 inputs of broadcastable shapes and 3-8 nodes, each reading any earlier node (fan-out included).

    Reductions keep their dims, so every node broadcasts against every other; the output adds up the
    nodes nothing else reads, so every node counts.
    """
    n_in = draw(st.integers(1, 3))
    in_shapes = draw(broadcast_shapes(n_in, max_dims=3))
    ndims = [len(s) for s in in_shapes]
    steps = []
    for _ in range(draw(st.integers(3, 8))):
        name = draw(st.sampled_from(sorted(DAG_NODES)))
        arity = DAG_NODES[name][0]
        args = tuple(draw(st.integers(0, len(ndims) - 1)) for _ in range(arity))
        nd = max(ndims[i] for i in args)
        params = {}
        if name in ("sum", "mean", "var", "logsumexp"):
            params["axis"] = draw(numpy_axes(nd))
        if name in ("softmax", "log_softmax"):
            params["one_axis"] = draw(st.integers(-nd, nd - 1)) if nd else None
            if nd == 0:
                name, params = "tanh", {}
        steps.append((name, args, params))
        ndims.append(nd)
    arrays = tuple(draw(values(SMOOTH, s)) for s in in_shapes)
    return in_shapes, steps, arrays


def _run_dag(steps, inputs, side):
    nodes = list(inputs)
    read = set()
    for name, args, params in steps:
        nodes.append(DAG_NODES[name][1](side, *(nodes[i] for i in args), params))
        read.update(args)
    sinks = [nodes[i] for i in range(len(inputs), len(nodes)) if i not in read]
    out = sinks[0]
    for s in sinks[1:]:
        out = _call("add", side, out, s)
    return out


@SETTINGS
@given(dag=dags())
def test_random_expression_graphs(backend, dag):
    in_shapes, steps, arrays = dag
    out = _run_dag(steps, _leaves(arrays, requires_grad=False), "fn")
    _check_close(out, _run_dag(steps, arrays, "ref"), 1e-9, 1e-11, f"{steps}: ")
    assert mg.gradcheck(lambda *ts: _run_dag(steps, ts, "fn"), _leaves(arrays))


@FEWER
@given(dag=dags())
def test_random_expression_graphs_second_derivatives(backend, dag):
    in_shapes, steps, arrays = dag
    assert mg.gradgradcheck(lambda *ts: _run_dag(steps, ts, "fn"), _leaves(arrays))


# ---- the scalar engine against the tensor engine ---------------------------------------------------------

def _relu_or_tanh(a):
    # Both engines take the same branch: a relu input within rounding of its kink would make them differ.
    return a.relu() if abs(float(a.data)) > 1e-6 else a.tanh()


# Written once with the operators and methods Value and Tensor share, so both engines run the same program.
SCALAR_NODES = {
    "add": (2, lambda a, b: a + b), "sub": (2, lambda a, b: a - b), "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 0.5)), "pow_value": (2, lambda a, b: (a * a + 0.5) ** b.tanh()),
    "square": (1, lambda a: a ** 2), "cube": (1, lambda a: a ** 3), "pow_neg": (1, lambda a: (a * a + 0.5) ** -1.5),
    "neg": (1, lambda a: -a), "relu": (1, _relu_or_tanh), "tanh": (1, lambda a: a.tanh()),
    "exp": (1, lambda a: (a.tanh() * 3).exp()), "log": (1, lambda a: (a * a + 0.5).log()),
    "sigmoid": (1, lambda a: a.sigmoid()), "radd": (1, lambda a: 1.5 + a), "rsub": (1, lambda a: 1 - a),
    "rmul": (1, lambda a: 2 * a), "rdiv": (1, lambda a: 10.0 / (a * a + 0.5)),
    "rpow": (1, lambda a: 2.0 ** a.tanh()), "iadd": (2, lambda a, b: _iadd(a, b)),
}


def _iadd(a, b):
    a = a * 1  # a Tensor's += changes it in place (a leaf that requires grad may not); a Value's rebinds
    a += b
    return a


@st.composite
def scalar_programs(draw):
    n_in = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        name = draw(st.sampled_from(sorted(SCALAR_NODES)))
        steps.append((name, tuple(draw(st.integers(0, n_in + k - 1)) for _ in range(SCALAR_NODES[name][0]))))
    xs = draw(st.lists(st.sampled_from(points(SMOOTH, 0, 1)), min_size=n_in, max_size=n_in))
    return steps, xs


def _run_scalar(steps, inputs):
    nodes = list(inputs)
    for name, args in steps:
        nodes.append(SCALAR_NODES[name][1](*(nodes[i] for i in args)))
    return nodes[-1]


@SETTINGS
@given(program=scalar_programs())
def test_scalar_engine_agrees_with_tensor_engine(backend, program):
    steps, xs = program
    vs = [Value(x) for x in xs]
    ts = [mg.tensor(x, dtype=mg.float64, requires_grad=True) for x in xs]
    v_out, t_out = _run_scalar(steps, vs), _run_scalar(steps, ts)
    assert t_out.shape == () and t_out.dtype == np.float64
    np.testing.assert_allclose(t_out.item(), v_out.data, rtol=1e-12, atol=1e-12)
    v_out.backward()
    t_out.backward()
    for v, t in zip(vs, ts):
        tg = 0.0 if t.grad is None else t.grad.item()
        np.testing.assert_allclose(tg, v.grad, rtol=1e-12, atol=1e-12)
