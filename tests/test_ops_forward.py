"""Forward mode and batching for every op-spec row (tests/op_specs.py), on every available backend.

Per row: the Jacobian-vector product by forward mode matches float64 central differences (mg.gradcheck with
check_forward_ad); forward and reverse agree through the adjoint identity <u, J v> = <Jᵀ u, v> (no finite
differences: the two modes are independent code); and a batch of cotangents through one backward pass, and of
tangents through one forward pass, equals one pass per row. Random graphs built from the rows have
jacrev == jacfwd to 1e-10. A row added later gets all of this, so every new op needs its jvp rule.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import micrograd as mg
from micrograd import func
from micrograd.autograd import Function, forward, forward_ad, reverse
from op_specs import BY_NAME, OPS, SMOOTH, broadcast_shapes, values

SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large],
                    max_examples=max(4, settings.default.max_examples * 2 // 5))


def _rows(pred=lambda spec: True):
    return [pytest.param(spec, id=spec.name) for spec in OPS if pred(spec)]


def _draw(spec, data):
    case = data.draw(spec.cases(), label="case")
    arrays = data.draw(spec.inputs(case), label="inputs")
    return case, [mg.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("spec", _rows(lambda s: s.grad))
@SETTINGS
@given(data=st.data())
def test_jvp_matches_finite_differences(spec, backend, data):
    case, leaves = _draw(spec, data)
    assert mg.gradcheck(lambda *ts: spec.fn(*ts, **case.params), leaves, check_backward_ad=False,
                        check_forward_ad=True, **spec.grad_kw)


def _flat_outputs(out):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, mg.Tensor) and o.dtype.kind == "f"]


@pytest.mark.parametrize("spec", _rows(lambda s: s.grad))
@SETTINGS
@given(data=st.data())
def test_forward_and_reverse_agree(spec, backend, data):
    """<u, J v> by forward mode equals <Jᵀ u, v> by reverse mode, for random u and v, in float64."""
    case, leaves = _draw(spec, data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    vs = [mg.tensor(rng.standard_normal(x.shape)) for x in leaves]
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, v) for x, v in zip(leaves, vs)]
        outs = _flat_outputs(spec.fn(*duals, **case.params))
        jv = [forward_ad.unpack_dual(o).tangent for o in outs]
    outs = _flat_outputs(spec.fn(*leaves, **case.params))
    us = [mg.tensor(rng.standard_normal(o.shape)) for o in outs]
    forward_side = sum(float((u * t).sum()) for u, t in zip(us, jv) if t is not None)
    live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
    grads = mg.grad([o for o, _ in live], leaves, [u for _, u in live], allow_unused=True) if live else []
    reverse_side = sum(float((g * v).sum()) for g, v in zip(grads, vs) if g is not None)
    scale = 1 + abs(forward_side) + abs(reverse_side)
    tol = 1e-10 if all(o.dtype == mg.float64 for o in outs) else 1e-5  # a cast to float32 rounds both sides
    assert abs(forward_side - reverse_side) <= tol * scale, (spec.name, forward_side, reverse_side)


@pytest.mark.parametrize("spec", _rows(lambda s: s.grad))
@SETTINGS
@given(data=st.data())
def test_batched_matches_unbatched(spec, backend, data):
    case, leaves = _draw(spec, data)
    assert mg.gradcheck(lambda *ts: spec.fn(*ts, **case.params), leaves, check_backward_ad=False,
                        check_batched_grad=True, check_batched_forward_grad=True)


def _all_functions(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_functions(sub)


def test_every_builtin_op_has_its_own_jvp_rule():
    """Forward mode for the built-ins comes from written rules, not from the derivation from backward that user
    Functions without a jvp get."""
    builtins = [c for c in _all_functions() if c.__module__.startswith("micrograd.")]
    assert len(builtins) > 60
    missing = [c.__name__ for c in builtins if c.jvp is Function.jvp]
    assert missing == []


def test_no_builtin_rule_falls_back_to_one_pass_per_row():
    """The fallbacks seen by this process (the batched tests above run first in this file) are user Functions only:
    every built-in backward and jvp rule carries the batch axis."""
    # run one batched pass of each kind through a model touching many ops, so the list is not empty by accident
    x = mg.randn(4, 3, 8, 8, dtype=mg.float64)
    conv = mg.nn.Conv2d(3, 2, 3, padding=1).double()
    lstm = mg.nn.LSTM(8, 5).double()

    def model(x):
        h = mg.nn.functional.max_pool2d(conv(x).relu(), 2).flatten(1)
        out, _ = lstm(h[:, :8].unsqueeze(1))
        return mg.nn.functional.cross_entropy(out.squeeze(1), mg.tensor([0, 1, 2, 3]))
    func.jacrev(model)(x)
    func.jacfwd(lambda w: model(x * w.sum()))(mg.ones(2, dtype=mg.float64))
    assert [n for n in forward.fallbacks() if n.startswith("micrograd.")] == []
    assert [n for n in reverse.row_fallbacks() if n.startswith("micrograd.")] == []


# smooth on [-1, 1], where tanh keeps every intermediate value: (row, its params)
GRAPH_OPS = [(BY_NAME[name], {"via": "method"} if via else {}) for name, via in (
    ("neg", False), ("add", False), ("sub", False), ("mul", False), ("exp", True), ("tanh", True), ("sin", True),
    ("cos", True), ("sigmoid", True), ("erf", True), ("sinh", True), ("cosh", True), ("square", True))]


@settings(SETTINGS, max_examples=max(4, settings.default.max_examples // 2))
@given(data=st.data())
def test_random_graphs_jacrev_equals_jacfwd(backend, data):
    """Random expression graphs of smooth elementwise rows over two inputs: reverse and forward Jacobians agree."""
    a_shape, b_shape = data.draw(broadcast_shapes(2, max_dims=2), label="shapes")
    a = mg.tensor(data.draw(values(SMOOTH, a_shape, 0, 2), label="a"))
    b = mg.tensor(data.draw(values(SMOOTH, b_shape, 1, 2), label="b"))
    steps = data.draw(st.lists(st.tuples(st.sampled_from(GRAPH_OPS), st.integers(0, 10), st.integers(0, 10)),
                               min_size=1, max_size=6), label="steps")

    def f(a, b):
        pool = [a, b]
        for (spec, params), i, j in steps:
            args = [pool[i % len(pool)], pool[j % len(pool)]][:spec.arity]
            pool.append(spec.fn(*args, **params).tanh())  # tanh keeps values in every row's smooth domain
        return pool[-1] * 1.0
    rev = func.jacrev(f, argnums=(0, 1))(a, b)
    fwd = func.jacfwd(f, argnums=(0, 1))(a, b)
    for r, w in zip(rev, fwd):
        np.testing.assert_allclose(r.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)
