"""The scalar engine: Value's forward and backward against PyTorch and finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd.engine import Value

# Expressions written with operators and methods that Value and torch.Tensor share, so one function
# builds both graphs. Each names its input domain (away from kinks and outside no function's domain).
EXPRESSIONS = {
    "classic_sanity": (lambda x: _classic_sanity(x), [(-5.0, -3.0)]),
    "add_mul_sub": (lambda a, b: a * b - (a + b) * 3.0 + 2 - a, [(-3.0, 3.0), (-3.0, 3.0)]),
    "div": (lambda a, b: a / b + 1.5 / b - b / 4, [(-3.0, 3.0), (0.5, 3.0)]),
    "pow_number": (lambda a: a**3 + a**-2 + a**0.5, [(0.5, 3.0)]),
    "pow_value": (lambda a, b: a**b, [(0.5, 3.0), (-2.0, 2.0)]),
    "rpow": (lambda a: 2.0**a + 0.5**a, [(-3.0, 3.0)]),
    "neg_rsub_rdiv": (lambda a: -a + (1 - a) * (10.0 / a), [(0.5, 3.0)]),
    "relu": (lambda a, b: (a * b).relu() + (a - b).relu(), [(0.5, 2.0), (-2.0, -0.5)]),
    "tanh": (lambda a: (a * 2).tanh() * a, [(-2.0, 2.0)]),
    "exp": (lambda a, b: (a * b).exp() + a.exp(), [(-2.0, 2.0), (-2.0, 2.0)]),
    "log": (lambda a, b: (a * b).log() + a.log() * b, [(0.5, 3.0), (0.5, 3.0)]),
    "sigmoid": (lambda a: (a * 3 - 1).sigmoid() / (a.sigmoid() + 1), [(-4.0, 4.0)]),
    "reuse": (lambda a: (a * a + a) * a, [(-2.0, 2.0)]),
}


def _classic_sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def _grads(fn, xs):
    vals = [Value(x) for x in xs]
    y = fn(*vals)
    y.backward()
    return y.data, [v.grad for v in vals]


def _central_differences(fn, xs, h=1e-6):
    grads = []
    for i in range(len(xs)):
        hi = h * max(1.0, abs(xs[i]))
        up = [x + hi if j == i else x for j, x in enumerate(xs)]
        down = [x - hi if j == i else x for j, x in enumerate(xs)]
        grads.append((fn(*map(Value, up)).data - fn(*map(Value, down)).data) / (2 * hi))
    return grads


def _inputs(domain):
    return st.tuples(*[st.floats(lo, hi) for lo, hi in domain])


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@given(data=st.data())
def test_backward_matches_central_differences(name, data):
    fn, domain = EXPRESSIONS[name]
    xs = data.draw(_inputs(domain), label="inputs")
    _, grads = _grads(fn, xs)
    numeric = _central_differences(fn, xs)
    for i, (g, n) in enumerate(zip(grads, numeric)):
        assert g == pytest.approx(n, rel=1e-5, abs=1e-6), f"{name}: d/dx{i} at {xs}"


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_forward_and_backward_match_torch_float64(name):
    torch = pytest.importorskip("torch", reason="PyTorch is the float64 reference for this test")
    fn, domain = EXPRESSIONS[name]
    xs = [lo + 0.37 * (hi - lo) for lo, hi in domain]
    y, grads = _grads(fn, xs)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    yt = fn(*ts)
    yt.backward()
    assert y == pytest.approx(yt.item(), rel=1e-12, abs=1e-12)
    for i, (g, t) in enumerate(zip(grads, ts)):
        assert g == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-12), f"{name}: d/dx{i}"


def test_classic_example_values():
    # The classic micrograd README's example and the numbers it prints.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_data_is_float_and_grad_starts_at_zero():
    for x in (3, np.int64(3), np.float32(3.0), True):
        v = Value(x)
        assert type(v.data) is float and type(v.grad) is float
        assert v.grad == 0
    assert Value(3).data == 3.0


def test_gradients_stay_python_floats_with_numpy_constants():
    a = Value(2.0)
    y = a ** np.float32(3.0) * np.float64(2.0) + np.int64(1)
    y.backward()
    assert type(a.grad) is float and a.grad == 24.0


def test_pow_by_value_gradients():
    b, e = Value(3.0), Value(2.0)
    y = b**e
    y.backward()
    assert y.data == 9.0
    assert b.grad == pytest.approx(2 * 3.0)
    assert e.grad == pytest.approx(9.0 * math.log(3.0))
    assert y._prev == (b, e)


def test_pow_by_value_at_zero_base_and_negative_base():
    b, e = Value(0.0), Value(2.0)
    (b**e).backward()
    assert b.grad == 0.0 and e.grad == 0.0
    b, e = Value(-2.0), Value(2.0)
    y = b**e
    y.backward()
    assert y.data == 4.0 and b.grad == pytest.approx(-4.0)
    assert math.isnan(e.grad)


def test_rpow_number_to_value():
    x = Value(3.0)
    y = 2**x
    y.backward()
    assert y.data == 8.0
    assert x.grad == pytest.approx(8.0 * math.log(2.0))
    assert y._prev == (x,)


def test_pow_errors_name_the_problem():
    message = r"pow: a negative base needs an integer exponent; got -2.0 \*\* 0.5"
    with pytest.raises(ValueError, match=message):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="pow: 0.0 cannot be raised to a negative power"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(1.0) / Value(0.0)


def test_log_of_non_positive_raises_a_clear_error():
    with pytest.raises(ValueError, match=r"^log: input must be positive; got -1.0$"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match=r"^log: input must be positive; got 0.0$"):
        Value(0).log()


def test_exp_and_sigmoid_at_extremes():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    with pytest.raises(OverflowError, match=r"exp: result too large"):
        Value(1000.0).exp()


def test_relu_gradient_is_zero_at_and_below_zero():
    for x, expected in ((-1.0, 0.0), (0.0, 0.0), (2.0, 1.0)):
        v = Value(x)
        v.relu().backward()
        assert v.grad == expected


def test_gradients_accumulate_across_backward_calls():
    a = Value(3.0)
    y = a * a
    y.backward()
    assert a.grad == 6.0
    y.backward()
    assert a.grad == 12.0


def test_reused_input_gets_every_contribution():
    a = Value(3.0)
    y = a + a
    assert y._prev == (a, a)
    y.backward()
    assert a.grad == 2.0


def test_prev_is_an_ordered_tuple_and_op_is_recorded():
    a, b = Value(1.0), Value(2.0)
    y = a * b
    assert y._prev == (a, b) and y._op == "*"
    assert (a + b)._op == "+" and (a**2)._op == "**2" and a.relu()._op == "ReLU"
    assert a._prev == () and a._op == ""


def test_in_place_add_returns_a_new_value():
    a = Value(1.0)
    c = a
    c += 2
    assert c is not a and c.data == 3.0 and a.data == 1.0
    assert c._prev[0] is a


def test_hash_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2
    assert {a: 1, b: 2}[b] == 2


def test_repr_like_classic():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"


def test_unsupported_operand_raises_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        Value(1.0) ** "a"


def test_assigned_backward_runs_like_classic():
    # The classic way to add an op by hand: set out._backward to a closure.
    a = Value(2.0)
    out = Value(a.data**2, (a,), "square")

    def _backward():
        a.grad += 2 * a.data * out.grad

    out._backward = _backward
    (out * 3).backward()
    assert a.grad == 12.0


def test_million_node_chain_backward_does_not_recurse():
    x0 = Value(1.0)
    x = x0
    n = 1_000_000
    for _ in range(n):
        x = x * 1.000001
    x.backward()
    expected = 1.000001**n
    assert x.data == pytest.approx(expected, rel=1e-9)
    assert x0.grad == pytest.approx(expected, rel=1e-9)
