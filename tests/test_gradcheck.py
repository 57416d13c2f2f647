"""mg.gradcheck and mg.gradgradcheck: they pass on correct gradients, fail loudly on wrong ones, on every
backend, for Tensors, custom Functions and scalar Values, and never touch `.grad`."""
import re

import numpy as np
import pytest

import micrograd as mg
from custom_functions import Scale
from micrograd import Value


def randn(*shape, dtype="float64", seed=0, requires_grad=True):
    rng = np.random.default_rng(seed)
    return mg.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


class Square(mg.Function):
    """x**2 with a correct first derivative; `scale` multiplies it to make a deliberately wrong one."""

    scale = 1.0

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * (2 * cls.scale)


class TwiceSquare(Square):
    scale = 2.0


class SlightlyOffSquare(Square):
    scale = 1.01  # a 1% error


class DetachedSquare(Square):
    """Right first derivative, but written with a detached x, so its own derivative is lost."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.detach() * 2


class OneBadElement(Square):
    """Wrong only at element (1, 2) of a 2-d input."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bump = np.zeros(x.shape)
        bump[1, 2] = 1.0
        return g * x * 2 + mg.tensor(bump, dtype=x.dtype, backend=x.backend)


SMOOTH = [
    ("tanh", lambda x: x.tanh(), (3, 4)),
    ("exp_sum", lambda x: x.exp().sum(), (5,)),
    ("sigmoid_mul", lambda x: x.sigmoid() * x, (2, 3)),
    ("log_softmax", lambda x: x.log_softmax(-1), (3, 4)),
    ("var", lambda x: x.var(axis=0), (4, 3)),
    ("div_pow", lambda x: 1 / (x ** 2 + 1), (6,)),
    ("matmul_self", lambda x: x @ x.T, (3, 2)),
    ("scalar", lambda x: (x * 3).tanh(), ()),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,fn,shape", SMOOTH, ids=[s[0] for s in SMOOTH])
@pytest.mark.parametrize("max_full", [10**6, 0], ids=["full", "directions"])
def test_passes_on_correct_ops(backend, name, fn, shape, dtype, max_full):
    assert mg.gradcheck(fn, randn(*shape, dtype=dtype), max_full=max_full) is True


def test_passes_on_several_inputs_with_broadcasting(backend):
    a, b, c = randn(2, 3, seed=1), randn(3, seed=2), randn(2, 1, seed=3)
    fn = lambda a, b, c: (a * b + c).tanh() @ b.exp()  # noqa: E731
    assert mg.gradcheck(fn, [a, b, c])
    assert mg.gradcheck(fn, [a, b, c], max_full=0)


def test_large_input_uses_random_directions_small_uses_every_element(backend):
    calls = []

    def fn(x):
        calls.append(x.shape)
        return x.exp()

    # One analytic call and one float64 call at the input (to learn the dtype fn computes in), then:
    mg.gradcheck(fn, randn(4, 4))  # 16 elements: full Jacobian, 2 evaluations per element
    assert len(calls) == 2 + 2 * 16
    calls.clear()
    mg.gradcheck(fn, randn(20, 20), directions=3)  # 400 elements: 2 evaluations per direction
    assert len(calls) == 2 + 2 * 3
    calls.clear()
    mg.gradcheck(fn, randn(20, 20), max_full=400)
    assert len(calls) == 2 + 2 * 400


def test_functions_that_compute_in_float32_pass_with_the_defaults(backend):
    x = randn(3, 4)
    assert mg.gradcheck(lambda x: x.astype("float32").exp() * 3, x)
    assert mg.gradcheck(lambda x: (x.float() @ x.float().T).tanh(), x)


def test_ill_conditioned_float32_input_gets_a_float64_step(backend):
    # Two nearly equal values: the normalisation changes on a scale of 1e-3, so a 1e-3 step would be wrong.
    x = mg.tensor([0.5, 0.5012], requires_grad=True)
    assert mg.gradcheck(lambda x: (x - x.mean()) / (x.var() + 1e-6).sqrt(), x)


def test_numerical_side_runs_in_float64_on_the_inputs_backend(backend):
    seen = []

    def fn(x):
        seen.append((x.dtype, x.backend))
        return x.exp()

    mg.gradcheck(fn, randn(3, dtype="float32"))
    assert seen[0] == (mg.float32, backend)
    assert set(seen[1:]) == {(mg.float64, backend)}


def test_wrong_backward_fails_with_a_message_naming_everything(backend):
    x = randn(2, 3)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda c, x: TwiceSquare.apply(x) * c, [mg.tensor(2.0, dtype="float64"), x])
    msg = str(info.value)
    assert "input 1" in msg and "shape (2, 3)" in msg and "float64" in msg
    assert "at element (0, 0)" in msg and "6 of 6 elements disagree" in msg
    assert "eps=1e-06" in msg and "atol=1e-05" in msg and "rtol=0.001" in msg
    analytic = float(re.search(r"analytic (\S+),", msg).group(1))
    numerical = float(re.search(r"numerical (\S+);", msg).group(1))
    assert analytic == pytest.approx(2 * numerical, rel=1e-6)
    assert isinstance(info.value, AssertionError)


def test_one_wrong_element_is_located(backend):
    with pytest.raises(mg.GradcheckError, match=r"at element \(1, 2\).*1 of 12 elements disagree"):
        mg.gradcheck(lambda x: OneBadElement.apply(x).sum(), randn(3, 4))


def test_wrong_backward_fails_along_random_directions(backend):
    with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(10, 10\), float64\) along random direction "
                                                r"1 of 3.*max_full>=100"):
        mg.gradcheck(TwiceSquare, randn(10, 10))


@pytest.mark.parametrize("max_full", [10**6, 0], ids=["full", "directions"])
def test_a_one_percent_error_fails_in_float64(max_full):
    x = randn(4, 5) + 2  # away from 0, where the gradient 2x is small
    assert mg.gradcheck(Square, x, max_full=max_full)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(SlightlyOffSquare, x, max_full=max_full)


def test_float32_defaults_and_overrides():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    # float32 input, but fn computes in float64 on the numerical side: float64's eps, float32's tolerances
    with pytest.raises(mg.GradcheckError, match=r"float32\).*eps=1e-06, atol=0\.001, rtol=0\.001"):
        mg.gradcheck(TwiceSquare, x)
    # fn returns float32 even for float64 inputs: a larger step, so float32 rounding does not swamp it
    with pytest.raises(mg.GradcheckError, match=r"float64\).*eps=0\.001, atol=0\.001, rtol=0\.001"):
        mg.gradcheck(lambda x: TwiceSquare.apply(x.float()), x.double())
    with pytest.raises(mg.GradcheckError, match=r"eps=0\.01, atol=0\.5, rtol=0\.1"):
        mg.gradcheck(TwiceSquare, x, eps=1e-2, atol=0.5, rtol=0.1)
    assert mg.gradcheck(TwiceSquare, x, atol=100.0)  # loose enough to pass anything finite


def test_function_subclass_with_non_tensor_arguments(backend):
    x = randn(2, 2)
    assert mg.gradcheck(lambda x: Scale.apply(x, 3.0), x)
    assert mg.gradcheck(Scale, [x, 3.0])  # the class itself; 3.0 is passed through


def test_non_checked_arguments_pass_through(backend):
    x = randn(3, 4)
    const = randn(3, 4, seed=5, requires_grad=False)
    idx = np.array([2, 0, 2])
    assert mg.gradcheck(lambda x, c, axis, idx: (x * c).sum(axis=axis)[idx], [x, const, 0, idx])


def test_same_tensor_in_two_places_is_one_variable(backend):
    x = randn(2, 3)
    assert mg.gradcheck(lambda a, b: a * b.exp(), [x, x])


def test_several_outputs_with_an_integer_one(backend):
    x, y = randn(3, 2), randn(2, seed=1)
    assert mg.gradcheck(lambda x, y: ((x * y).tanh(), x.sum(), x.argmax(axis=0)), [x, y])


def test_unused_input_and_constant_output(backend):
    x, y = randn(3), randn(2, seed=1)
    assert mg.gradcheck(lambda x, y: x.exp(), [x, y])
    assert mg.gradcheck(lambda x: mg.ones(3, dtype="float64"), x)


def test_a_detached_path_is_caught(backend):
    with pytest.raises(mg.GradcheckError, match="analytic 0,"):
        mg.gradcheck(lambda x: x.detach().exp().sum() + x.sum() * 0, randn(3))


def test_nan_fails(backend):
    with pytest.raises(mg.GradcheckError, match="analytic nan, numerical nan"):
        mg.gradcheck(lambda x: x * float("nan"), randn(2))


def test_inputs_grad_is_never_touched(backend):
    x, w = randn(3, 2), randn(2, 2, seed=1)
    w.grad = mg.ones(2, 2, dtype="float64")
    before = w.grad
    mg.gradcheck(lambda x, w: (x @ w).tanh(), [x, w])
    mg.gradgradcheck(lambda x, w: (x @ w).tanh(), [x, w])
    assert x.grad is None
    assert w.grad is before and np.array_equal(w.grad.detach().numpy(), np.ones((2, 2)))


def test_scalar_values():
    a, b = Value(1.3), Value(-0.7)
    assert mg.gradcheck(lambda a, b: (a * b + b ** 2).tanh() + a.exp() / b - (a - 2).relu(), [a, b])
    assert mg.gradcheck(lambda a: (a.sigmoid(), a.log() * a), a)  # two outputs
    assert mg.gradcheck(lambda a, k: a ** k, [a, 3])


def test_scalar_values_keep_their_grad_including_closed_over_ones():
    w = Value(2.0)
    w.grad = 5.0
    a = Value(0.5)
    a.grad = 7.0
    mg.gradcheck(lambda a: (a * w).tanh(), a)
    assert (a.grad, w.grad) == (7.0, 5.0)


def test_scalar_value_with_a_wrong_derivative():
    def bad_square(a):
        out = Value(a.data ** 2, (a,), "sq")

        def _backward():
            a.grad += 3 * a.data * out.grad  # should be 2 * a.data
        out._backward = _backward
        return out

    with pytest.raises(mg.GradcheckError, match=r"input 0 \(a Value\) disagrees") as info:
        mg.gradcheck(bad_square, Value(1.5))
    analytic, numerical = re.search(r"analytic (\S+), numerical (\S+);", str(info.value)).groups()
    assert float(analytic) == pytest.approx(4.5) and float(numerical) == pytest.approx(3.0)


SECOND_ORDER = [
    ("tanh", lambda x: x.tanh(), [(3, 2)]),
    ("exp_mul", lambda x, y: (x * y).exp(), [(2, 3), (3,)]),
    ("matmul_tanh", lambda x, w: (x @ w).tanh().sum(), [(2, 3), (3, 2)]),
    ("composition", lambda x, w: (x @ w).exp() * x.sum(axis=1, keepdims=True).tanh(), [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("name,fn,shapes", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_gradgradcheck_passes(backend, name, fn, shapes):
    xs = [randn(*s, seed=i) * 0.5 for i, s in enumerate(shapes)]
    xs = [x.detach().requires_grad_() for x in xs]
    assert mg.gradgradcheck(fn, xs)
    assert mg.gradgradcheck(fn, xs, max_full=0)


def test_gradgradcheck_with_given_grad_outputs_and_float32(backend):
    x = randn(2, 3, dtype="float32")
    go = mg.tensor(np.full((2, 3), 0.5), dtype="float32")  # no requires_grad: not checked itself
    assert mg.gradgradcheck(lambda x: x.exp() * x, x, grad_outputs=go)
    assert mg.gradgradcheck(lambda x: x.exp() * x, x, grad_outputs=[go.detach().requires_grad_()])


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(backend):
    x = randn(2, 3)
    assert mg.gradcheck(DetachedSquare, x)  # first derivatives are right...
    with pytest.raises(mg.GradcheckError, match=r"second derivative .* of input 0 .*analytic 0,"):
        mg.gradgradcheck(DetachedSquare, x)  # ...but d/dx of the backward is lost
    assert mg.gradgradcheck(Square, x)


def test_gradgradcheck_names_grad_outputs(backend):
    class WrongInG(Square):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * g.detach() * 0 + g.detach() * x * 2  # right value; no path to g

    with pytest.raises(mg.GradcheckError, match=r"of grad_outputs\[0\]"):
        mg.gradgradcheck(WrongInG, randn(3))


def test_bad_arguments():
    x = randn(3)
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda x: x.exp(), randn(3, requires_grad=False))
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda x: x, [mg.tensor([1, 2])])
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradgradcheck(lambda x: x.exp(), randn(3, requires_grad=False))
    with pytest.raises(TypeError, match="inputs must be"):
        mg.gradcheck(lambda x: x, np.ones(3))
    with pytest.raises(TypeError, match="callable"):
        mg.gradcheck(3, x)
    with pytest.raises(TypeError, match="mix Values and Tensors"):
        mg.gradcheck(lambda a, x: x, [Value(1.0), x])
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of them for Tensor inputs; got str"):
        mg.gradcheck(lambda x: "nope", x)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        mg.gradcheck(lambda x: x, x, eps=0)
    with pytest.raises(ValueError, match="non-negative"):
        mg.gradcheck(lambda x: x, x, atol=-1)
    with pytest.raises(ValueError, match="directions"):
        mg.gradcheck(lambda x: x, x, directions=0)
    with pytest.raises(ValueError, match="max_full"):
        mg.gradcheck(lambda x: x, x, max_full=None)
    with pytest.raises(TypeError, match="needs Tensor inputs"):
        mg.gradgradcheck(lambda a: a * a, Value(1.0))
    with pytest.raises(ValueError, match="one Tensor per floating output"):
        mg.gradgradcheck(lambda x: x.exp(), x, grad_outputs=[randn(3), randn(3)])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\)"):
        mg.gradgradcheck(lambda x: x.exp(), x, grad_outputs=randn(2))


def test_non_leaf_input_and_its_graph_stay_usable(backend):
    x = randn(3)
    h = x * 2  # requires grad, not a leaf
    assert mg.gradcheck(lambda h: h.exp(), h)
    assert mg.gradcheck(lambda h: h.tanh(), h)
    (h * h).sum().backward()  # the caller's graph from x to h was not consumed
    np.testing.assert_allclose(x.grad.detach().numpy(), 8 * x.detach().numpy())


def test_outputs_must_match_the_kind_of_inputs():
    with pytest.raises(TypeError, match="must return a Value .* got Tensor"):
        mg.gradcheck(lambda a: mg.tensor(a.data), Value(1.0))
    with pytest.raises(TypeError, match="must return a Tensor .* got Value"):
        mg.gradcheck(lambda x: Value(1.0), randn(2))
