"""micrograd.testing.strategies: the strategies draw what they promise, and check_function passes correct
functions and fails wrong ones with a message naming the backend and shapes."""
import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

import micrograd as mg
from micrograd.backend import BackendUnavailableError
from micrograd.testing.strategies import (backends, broadcastable_shapes, check_function, tensors,
                                          valid_axes)

AVAILABLE = mg.available_backends()


class Softplus(mg.Function):
    """log(1 + exp(x)), computed stably; d/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + ((-x.abs()).exp() + 1).log()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class WrongSoftplus(Softplus):
    """The derivative of softplus off by a factor of 2."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid() * 2


class ScaledExp(mg.Function):
    """(a, b) -> a * exp(b), with a correct backward for both inputs (broadcasting)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b.exp()

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _reduce_to(g * b.exp(), a.shape), _reduce_to(g * a * b.exp(), b.shape)


def _reduce_to(g, shape):
    """Sum a broadcast gradient back to an input's shape."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g


# ---- tensors ----------------------------------------------------------------------------------------------

@given(tensors())
def test_tensors_defaults(t):
    assert isinstance(t, mg.Tensor)
    assert t.dtype == mg.float64 and t.backend == mg.get_backend() and not t.requires_grad
    assert 0 <= t.ndim <= 4 and all(1 <= n <= 5 for n in t.shape)
    x = t.detach().numpy()
    assert np.all(np.isfinite(x)) and np.all(np.abs(x) <= 3)
    assert not np.any((x != 0) & (np.abs(x) < np.finfo(np.float64).tiny))  # no subnormals


@given(tensors(shape=(2, 3), dtype="float32", requires_grad=True),
       tensors(shape=st.sampled_from([(4,), ()]), dtype=mg.int64),
       tensors(shape=5, dtype="bool"),
       tensors(dtype=st.sampled_from(["float32", "float64"]), min_dims=2, max_dims=2, max_side=2))
def test_tensors_shape_dtype_and_grad_as_asked(a, b, c, d):
    assert a.shape == (2, 3) and a.dtype == mg.float32 and a.requires_grad and a.is_leaf
    assert b.shape in ((4,), ()) and b.dtype == mg.int64 and np.all(np.abs(b.detach().numpy()) <= 10)
    assert c.shape == (5,) and c.dtype == mg.bool_
    assert d.ndim == 2 and max(d.shape) <= 2 and d.dtype in (mg.float32, mg.float64)


@given(tensors(elements=st.floats(0.5, 1.0), shape=(3, 3)))
def test_tensors_custom_elements(t):
    assert np.all((t.detach().numpy() >= 0.5) & (t.detach().numpy() <= 1.0))


@pytest.mark.parametrize("name", AVAILABLE)
@given(data=st.data())
def test_tensors_backend_explicit_strategy_or_current_default(name, data):
    assert data.draw(tensors(backend=name)).backend == name
    assert data.draw(tensors(backend=backends())).backend in AVAILABLE
    with mg.use_backend(name):
        assert data.draw(tensors()).backend == name  # None: the default current when drawn


def test_tensors_rejects_requires_grad_on_integers():
    with pytest.raises(ValueError, match="floating dtype"):
        tensors(dtype="int64", requires_grad=True)
    with pytest.raises(TypeError, match="unsupported dtype"):
        tensors(dtype="float16")


# ---- shapes, axes, backends -------------------------------------------------------------------------------

@given(st.integers(1, 4).flatmap(lambda n: st.tuples(st.just(n), broadcastable_shapes(n))))
def test_broadcastable_shapes_broadcast(drawn):
    n, shapes = drawn
    assert isinstance(shapes, tuple) and len(shapes) == n
    assert all(isinstance(s, tuple) and len(s) <= 4 and all(1 <= k <= 5 for k in s) for s in shapes)
    np.broadcast_shapes(*shapes)  # raises if they do not broadcast


@given(broadcastable_shapes(2, min_dims=2, max_dims=3, min_side=2, max_side=3))
def test_broadcastable_shapes_bounds(shapes):
    assert all(len(s) <= 3 and all(k == 1 or 2 <= k <= 3 for k in s) for s in shapes)
    assert len(np.broadcast_shapes(*shapes)) >= 2


def test_broadcastable_shapes_include_scalars_and_real_broadcasting():
    find(broadcastable_shapes(2), lambda s: () in s)
    find(broadcastable_shapes(2), lambda s: len(s[0]) != len(s[1]) and all(s))
    find(broadcastable_shapes(2), lambda s: s[0] != s[1] and len(s[0]) == len(s[1]) == 2)


@given(st.integers(0, 4).flatmap(lambda nd: st.tuples(st.just(nd), valid_axes(nd))))
def test_valid_axes_are_valid(drawn):
    ndim, axis = drawn
    x = np.zeros((2,) * ndim)
    if isinstance(axis, tuple):
        assert len({a % ndim for a in axis}) == len(axis) if ndim else axis == ()
    elif axis is not None:
        assert isinstance(axis, int) and -ndim <= axis < ndim
    np.sum(x, axis=axis)  # NumPy accepts it
    mg.tensor(x, dtype="float64").sum(axis=axis)


def test_valid_axes_cover_every_form():
    find(valid_axes(3), lambda a: a is None)
    find(valid_axes(3), lambda a: isinstance(a, int) and a < 0)
    find(valid_axes(3), lambda a: a == ())
    find(valid_axes(3), lambda a: isinstance(a, tuple) and len(a) >= 2 and any(k < 0 for k in a))
    find(valid_axes(0), lambda a: a == ())


@given(valid_axes(3, allow_none=False, allow_tuple=False), valid_axes(0))
def test_valid_axes_options(single, zero_dim):
    assert isinstance(single, int) and -3 <= single < 3
    assert zero_dim in (None, ())


def test_valid_axes_with_nothing_left_raises():
    with pytest.raises(ValueError, match="no axis fits"):
        valid_axes(0, allow_none=False, allow_tuple=False)


@given(backends())
def test_backends_are_available(name):
    assert name in AVAILABLE


def test_backends_cover_all_available():
    for name in AVAILABLE:
        find(backends(), lambda b: b == name)


# ---- check_function ---------------------------------------------------------------------------------------

def test_check_function_passes_a_correct_function_class():
    check_function(Softplus, 1, max_examples=10)
    check_function(Softplus, 1, domain=(-6, 6), dtype="float32", max_examples=10)


def test_check_function_passes_plain_callables_and_fixed_or_drawn_shapes():
    check_function(lambda a, b: a * b.exp() - (a * a + 1).log(), 2, max_examples=10)
    check_function(lambda a, b: (a @ b).tanh(), 2, shapes=[(2, 3), (3, 4)], max_examples=5)
    check_function(lambda x: x.softmax(-1), 1, shapes=st.tuples(st.sampled_from([(3,), (2, 4)])), max_examples=5)
    check_function(ScaledExp, 2, domain=(-1, 1), max_examples=10)


def test_check_function_keeps_values_inside_the_domain():
    seen = []

    def fn(x):
        seen.append(x.detach().numpy())
        return x.log()  # NaN (and a failure) anywhere at or below 0

    check_function(fn, 1, domain=(0.0, 2.0), max_examples=10)
    low = min(float(np.min(s)) for s in seen if s.size)
    assert low > 0 and max(float(np.max(s)) for s in seen if s.size) < 2


def test_check_function_fails_a_wrong_backward():
    with pytest.raises(mg.GradcheckError) as info:
        check_function(WrongSoftplus, 1, max_examples=10)
    msg = str(info.value)
    assert "check_function(WrongSoftplus) on backend 'numpy'" in msg and "input shapes" in msg
    assert "gradient of input 0" in msg and "analytic" in msg and "numerical" in msg


def test_check_function_fails_a_wrong_jvp():
    class WrongJvp(Softplus):
        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * x.sigmoid() * 1.5  # backward is right; forward mode is not

    check_function(Softplus, 1, max_examples=5)  # without a jvp, the one derived from backward passes
    with pytest.raises(mg.GradcheckError, match="forward-mode derivative .* of input 0"):
        check_function(WrongJvp, 1, max_examples=5)


def test_check_function_fails_a_wrong_gradient_for_one_of_two_inputs():
    class WrongB(ScaledExp):
        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return _reduce_to(g * b.exp(), a.shape), _reduce_to(g * b.exp(), b.shape)  # missing the factor a

    with pytest.raises(mg.GradcheckError, match="gradient of input 1"):
        check_function(WrongB, 2, domain=(0.5, 2), max_examples=10)


@pytest.mark.skipif(len(AVAILABLE) < 2, reason="needs a second backend to disagree with numpy")
def test_check_function_fails_a_backend_whose_forward_differs():
    def fn(x):
        return x * (1.0 if x.backend == "numpy" else 1.001)

    with pytest.raises(AssertionError, match="differs from the numpy backend's"):
        check_function(fn, 1, max_examples=5)


def test_check_function_bad_arguments():
    with pytest.raises(ValueError, match="arity"):
        check_function(Softplus, 0)
    with pytest.raises(ValueError, match="domain"):
        check_function(Softplus, 1, domain=(1, 1))
    with pytest.raises(ValueError, match="float32 or float64"):
        check_function(Softplus, 1, dtype="int64")
    with pytest.raises(ValueError, match="needs 1 shapes"):
        check_function(Softplus, 1, shapes=[(2,), (2,)])
    with pytest.raises(TypeError, match="callable"):
        check_function(3, 1)
    with pytest.raises(BackendUnavailableError):
        check_function(Softplus, 1, backends=["nonexistent"])
