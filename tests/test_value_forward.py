"""The scalar engine's forward mode: Value tangents against finite differences, reverse mode and PyTorch."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from micrograd.engine import Value

# One row per op of Value: the attribute it exercises, the function (the op alone, so a wrong rule shows
# up in its own row) and one input interval per argument, away from kinks and inside the op's domain.
OPS = {
    "add": ("__add__", lambda a, b: a + b, [(-3.0, 3.0), (-3.0, 3.0)]),
    "add_number": ("__add__", lambda a: a + 1.5, [(-3.0, 3.0)]),
    "radd": ("__radd__", lambda a: 1.5 + a, [(-3.0, 3.0)]),
    "sub": ("__sub__", lambda a, b: a - b, [(-3.0, 3.0), (-3.0, 3.0)]),
    "rsub": ("__rsub__", lambda a: 1.5 - a, [(-3.0, 3.0)]),
    "mul": ("__mul__", lambda a, b: a * b, [(-3.0, 3.0), (-3.0, 3.0)]),
    "rmul": ("__rmul__", lambda a: 2.5 * a, [(-3.0, 3.0)]),
    "neg": ("__neg__", lambda a: -a, [(-3.0, 3.0)]),
    "truediv": ("__truediv__", lambda a, b: a / b, [(-3.0, 3.0), (0.5, 3.0)]),
    "rtruediv": ("__rtruediv__", lambda a: 1.5 / a, [(0.5, 3.0)]),
    "pow_number": ("__pow__", lambda a: a**2.5, [(0.5, 3.0)]),
    "pow_negative": ("__pow__", lambda a: a**-1.5, [(0.5, 3.0)]),
    "pow_int_negative_base": ("__pow__", lambda a: a**3, [(-3.0, -0.5)]),
    "pow_value": ("__pow__", lambda a, b: a**b, [(0.5, 3.0), (-2.0, 2.0)]),
    "rpow": ("__rpow__", lambda a: 2.0**a, [(-3.0, 3.0)]),
    "rpow_small_base": ("__rpow__", lambda a: 0.5**a, [(-3.0, 3.0)]),
    "relu_positive": ("relu", lambda a: a.relu(), [(0.1, 3.0)]),
    "relu_negative": ("relu", lambda a: a.relu(), [(-3.0, -0.1)]),
    "tanh": ("tanh", lambda a: a.tanh(), [(-3.0, 3.0)]),
    "exp": ("exp", lambda a: a.exp(), [(-3.0, 3.0)]),
    "log": ("log", lambda a: a.log(), [(0.5, 3.0)]),
    "sigmoid": ("sigmoid", lambda a: a.sigmoid(), [(-4.0, 4.0)]),
}

# Attributes of Value that are not ops.
NOT_OPS = {"__init__", "__repr__", "__hash__", "backward"}

DIRECTION = st.floats(-2.0, 2.0)


def _leaves(xs, vs):
    return [Value(x, tangent=v) for x, v in zip(xs, vs)]


def _directional_difference(fn, xs, vs, h=1e-6):
    """(f(x + h v) - f(x - h v)) / 2h in float, h scaled to the inputs' size."""
    h *= max(1.0, *map(abs, xs))
    up = fn(*[Value(x + h * v) for x, v in zip(xs, vs)]).data
    down = fn(*[Value(x - h * v) for x, v in zip(xs, vs)]).data
    return (up - down) / (2 * h)


def _inputs(domain):
    return st.tuples(*[st.floats(lo, hi) for lo, hi in domain])


def test_table_covers_every_op_of_value():
    ops = {name for name, f in vars(Value).items()
           if callable(f) and name not in NOT_OPS and not (name.startswith("_") and not name.endswith("__"))}
    assert ops == {op for op, _, _ in OPS.values()}


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_tangent_matches_central_differences(name, data):
    _, fn, domain = OPS[name]
    xs = data.draw(_inputs(domain), label="inputs")
    vs = data.draw(st.tuples(*[DIRECTION] * len(domain)), label="direction")
    out = fn(*_leaves(xs, vs))
    assert type(out.tangent) is float
    numeric = _directional_difference(fn, xs, vs)
    assert out.tangent == pytest.approx(numeric, rel=1e-5, abs=1e-6), f"{name} at {xs} along {vs}"


# Random expressions: nodes written to be finite for any finite inputs (positive bases and log arguments,
# bounded exponents), so every drawn program runs.
NODES = {
    "add": (2, lambda a, b: a + b), "sub": (2, lambda a, b: a - b), "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 0.5)), "pow_value": (2, lambda a, b: (a * a + 0.5) ** b.tanh()),
    "square": (1, lambda a: a**2), "cube": (1, lambda a: a**3),
    "pow_neg": (1, lambda a: (a * a + 0.5) ** -1.5),
    "neg": (1, lambda a: -a), "relu": (1, lambda a: a.relu()), "tanh": (1, lambda a: a.tanh()),
    "exp": (1, lambda a: (a.tanh() * 3).exp()), "log": (1, lambda a: (a * a + 0.5).log()),
    "sigmoid": (1, lambda a: a.sigmoid()), "radd": (1, lambda a: 1.5 + a), "rsub": (1, lambda a: 1 - a),
    "rmul": (1, lambda a: 2 * a), "rdiv": (1, lambda a: 10.0 / (a * a + 0.5)),
    "rpow": (1, lambda a: 2.0 ** a.tanh()),
}


@st.composite
def programs(draw):
    """(steps, xs, vs): a random DAG over 1-3 inputs (each step reads any earlier node), a point and a
    direction."""
    n_in = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        name = draw(st.sampled_from(sorted(NODES)))
        steps.append((name, tuple(draw(st.integers(0, n_in + k - 1)) for _ in range(NODES[name][0]))))
    xs = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_in, max_size=n_in))
    vs = draw(st.lists(DIRECTION, min_size=n_in, max_size=n_in))
    return steps, xs, vs


def _run(steps, inputs):
    nodes = list(inputs)
    for name, args in steps:
        nodes.append(NODES[name][1](*(nodes[i] for i in args)))
    return nodes[-1]


@given(program=programs())
def test_forward_mode_agrees_with_reverse_mode(program):
    steps, xs, vs = program
    leaves = _leaves(xs, vs)
    try:
        out = _run(steps, leaves)
    except OverflowError:
        assume(False)
    out.backward()
    terms = [x.grad * v for x, v in zip(leaves, vs)]
    assume(all(map(math.isfinite, [out.data, out.tangent, *terms])))
    # Both sums hold the same products, rounded in another order: the error scales with the terms.
    scale = sum(map(abs, terms))
    assert out.tangent == pytest.approx(math.fsum(terms), rel=1e-9, abs=1e-12 + 1e-9 * scale)


@given(program=programs())
def test_tangents_leave_data_and_grads_unchanged(program):
    steps, xs, vs = program
    plain, seeded = [Value(x) for x in xs], _leaves(xs, vs)
    try:
        out_plain, out_seeded = _run(steps, plain), _run(steps, seeded)
    except OverflowError:
        assume(False)
    out_plain.backward()
    out_seeded.backward()
    # Bit for bit: repr round-trips a float exactly (and tells -0.0 from 0.0).
    assert repr(out_seeded.data) == repr(out_plain.data)
    assert [repr(s.grad) for s in seeded] == [repr(p.grad) for p in plain]
    assert out_plain.tangent == 0.0


# Expressions over Values and torch tensors alike, each with a point inside every op's domain.
TORCH_EXPRESSIONS = {
    "arithmetic": (lambda a, b: a * b - (a + b) / 3.0 + 2 - a / b + 1.5 / b, [1.3, -0.7]),
    "powers": (lambda a, b: a**3 + a**-2 + a**0.5 + a**b + 2.0**b + 0.5**a, [1.7, -0.6]),
    "activations": (lambda a, b: (a * b).tanh() + (a - b).relu() + (b - a).relu() + (a * 3 - 1).sigmoid(),
                    [0.4, -1.1]),
    "exp_log": (lambda a, b, c: (a * b).exp() * (a * a + c).log() + c.exp().log(), [0.3, -0.8, 1.9]),
    "reuse": (lambda a: ((a * a + a) * a).tanh() * a.sigmoid(), [0.6]),
}


@pytest.mark.parametrize("name", sorted(TORCH_EXPRESSIONS))
def test_tangent_matches_torch_forward_ad(name):
    torch = pytest.importorskip("torch", reason="PyTorch forward AD is the float64 reference for this test")
    from torch.autograd import forward_ad

    fn, xs = TORCH_EXPRESSIONS[name]
    vs = [0.9, -1.7, 0.35][: len(xs)]
    out = fn(*_leaves(xs, vs))
    with forward_ad.dual_level():
        f64 = torch.float64
        duals = [forward_ad.make_dual(torch.tensor(x, dtype=f64), torch.tensor(v, dtype=f64))
                 for x, v in zip(xs, vs)]
        primal, tangent = forward_ad.unpack_dual(fn(*duals))
        assert out.data == pytest.approx(primal.item(), rel=1e-12, abs=1e-12)
        assert out.tangent == pytest.approx(tangent.item(), rel=1e-12, abs=1e-12)
    assert out.tangent != 0.0


def test_tangent_defaults_to_zero_and_is_stored_as_a_float():
    v = Value(2.0)
    assert v.tangent == 0.0 and type(v.tangent) is float
    assert (v * v + v.exp()).tangent == 0.0
    w = Value(2.0, tangent=-0.25)
    assert w.tangent == -0.25 and w.data == 2.0 and w.grad == 0.0
    u = Value(3, tangent=1)
    assert type(u.tangent) is float and u.tangent == 1.0


def test_tangent_is_writable_and_seeds_the_ops_after_it():
    x = Value(3.0)
    x.tangent = 2.0
    y = x * x
    assert y.tangent == 12.0
    x.tangent = 0.0
    assert (x * x).tangent == 0.0 and y.tangent == 12.0


def test_numbers_lifted_into_values_carry_no_tangent():
    x = Value(2.0, tangent=1.0)
    assert (x * 3).tangent == 3.0
    assert (3 * x + 5).tangent == 3.0
    assert (10.0 / x).tangent == -2.5
    assert (x**3).tangent == 12.0


def test_backward_leaves_tangents_alone():
    x = Value(0.5, tangent=1.5)
    y = x.tanh() * x
    before = y.tangent
    y.backward()
    assert y.tangent == before and x.tangent == 1.5


def test_zero_tangent_skips_rules_whose_derivative_is_not_finite():
    # sqrt at 0: the derivative is infinite, but a zero tangent gives 0.0 rather than an error or NaN.
    assert (Value(0.0) ** 0.5).tangent == 0.0
    # A Value exponent at a negative base: its partial is NaN; when only the base moves it must not count.
    b, e = Value(-2.0, tangent=1.0), Value(2.0)
    y = b**e
    assert y.data == 4.0 and y.tangent == -4.0
    e.tangent = 1.0
    assert math.isnan((b**e).tangent)
    # At a zero base the base's partial 0.0**(e-1) has no float value; when only the exponent moves, the
    # tangent is the exponent's partial, 0.0 there.
    assert (Value(0.0) ** Value(0.5, tangent=1.0)).tangent == 0.0
