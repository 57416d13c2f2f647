"""The fused ops (micrograd/ops/nn.py and the activations' gradient ops) on every backend: they compute what
the composites they replace compute, forward and backward, and their backward rules are differentiable
again (gradients of gradients, and beyond for the activations)."""
import math

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd.ops.movement import Im2Col
from micrograd.ops.nn import MaxPool2d, SoftmaxCrossEntropy

TARGETS = np.array([2, -100, 0, 4, 4, 1])


def _leaf(a, dtype="float64"):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def _composite_cross_entropy(x, t, reduction):
    return F.nll_loss(F.log_softmax(x, 1), t, reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_takes_the_fused_path_and_matches_the_composite(backend, reduction, dtype):
    a = np.random.default_rng(0).uniform(-3, 3, (6, 5))
    x, y = _leaf(a, dtype), _leaf(a, dtype)
    fused = F.cross_entropy(x, TARGETS, reduction=reduction)
    composite = _composite_cross_entropy(y, TARGETS, reduction)
    assert fused.dtype == composite.dtype == mg.tensor(0.0, dtype=dtype).dtype
    node = fused.grad_fn
    while node is not None and node.fn is not SoftmaxCrossEntropy:
        node = next(iter(node.parents()), None)
    assert node is not None, "cross_entropy on (N, C) class indices should use the fused op"
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), **tol)
    cot = mg.tensor(np.random.default_rng(1).standard_normal(fused.shape), dtype=dtype)
    fused.backward(cot)
    composite.backward(cot)
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), **tol)
    assert not x.grad.numpy()[1].any()  # the ignored row gets no gradient


def test_cross_entropy_fused_gradients_and_second_derivatives(backend):
    x = _leaf(np.random.default_rng(2).uniform(-2, 2, (6, 5)))
    assert mg.gradcheck(lambda x: F.cross_entropy(x, TARGETS), x)
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS, reduction="none"), x)
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS), x)


def test_cross_entropy_with_every_target_ignored_is_nan(backend):
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(_leaf(np.zeros((2, 3))), [-100, -100])
    assert math.isnan(loss.item())


def _composite_max_pool(x, k, s):
    return Im2Col.apply(x, kh=k, kw=k, stride=s).max(axis=(2, 3))


@pytest.mark.parametrize("k, s", [(2, 2), (3, 1), (2, 3)])
def test_max_pool_matches_the_composite_forward_and_backward(backend, k, s):
    a = np.round(np.random.default_rng(3).uniform(-1, 1, (2, 3, 7, 8)), 1)  # rounded: ties
    x, y = _leaf(a), _leaf(a)
    fused, composite = F.max_pool2d(x, k, stride=s), _composite_max_pool(y, k, s)
    assert fused.grad_fn.fn is MaxPool2d
    np.testing.assert_array_equal(fused.numpy(), composite.numpy())
    cot = mg.tensor(np.random.default_rng(4).standard_normal(fused.shape))
    fused.backward(cot)
    composite.backward(cot)
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_pool_second_derivatives_and_padding(backend):
    x = _leaf(np.random.default_rng(5).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 10)  # distinct values
    assert mg.gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), x)
    assert mg.gradgradcheck(lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1), x)
    assert mg.gradgradcheck(lambda x: F.max_pool2d(x, 2) * F.max_pool2d(x, 2), x)


def test_max_pool_propagates_nan(backend):
    a = np.arange(16.0).reshape(1, 1, 4, 4)
    a[0, 0, 0, 1] = np.nan
    out = F.max_pool2d(mg.tensor(a), 2).numpy()
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 1] == 15


@pytest.mark.parametrize("name, derivs", [
    ("tanh", lambda x: (1 - np.tanh(x) ** 2, -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
                        (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2))),
    ("sigmoid", lambda x: _sigmoid_derivs(1 / (1 + np.exp(-x)))),
    ("relu", lambda x: ((x > 0) * 1.0, 0 * x, 0 * x)),
])
def test_activation_gradients_differentiate_three_times(backend, name, derivs):
    a = np.array([-2.5, -0.7, 0.3, 1.1, 2.0])
    x = _leaf(a)
    grads, y = [], getattr(x, name)()
    for _ in range(3):  # relu's gradient is piecewise constant: no path back to x (None), read as zeros
        (y,) = mg.grad(y.sum(), x, create_graph=True, allow_unused=True) if y is not None else (None,)
        grads.append(np.zeros_like(a) if y is None else y.numpy())
    for got, want in zip(grads, derivs(a)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def _sigmoid_derivs(s):
    return s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_takes_the_fused_path_and_matches_the_composite(backend, bias, dtype):
    from micrograd.ops.linalg import Linear
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((6, 4), (3, 4), (3,))]
    fused_in = [_leaf(a, dtype) for a in arrays]
    comp_in = [_leaf(a, dtype) for a in arrays]
    b_f, b_c = (fused_in[2], comp_in[2]) if bias else (None, None)
    fused = F.linear(fused_in[0], fused_in[1], b_f)
    composite = comp_in[0] @ comp_in[1].T
    composite = composite if b_c is None else composite + b_c
    assert fused.grad_fn.fn is Linear and fused.dtype == composite.dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), **tol)
    cot = mg.tensor(rng.standard_normal(fused.shape), dtype=dtype)
    fused.backward(cot)
    composite.backward(cot)
    for f, c in zip(fused_in[:3 if bias else 2], comp_in):
        assert f.grad.dtype == c.grad.dtype
        np.testing.assert_allclose(f.grad.numpy(), c.grad.numpy(), **tol)


def _composite_lstm_cell(z, c):
    i, f, g, o = (z[:, k * 3:(k + 1) * 3] for k in range(4))
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_cell_matches_the_composite_forward_and_backward(backend, dtype):
    from micrograd.nn.modules.rnn import LSTMCell
    rng = np.random.default_rng(0)
    za, ca = rng.standard_normal((2, 12)) * 2, rng.standard_normal((2, 3))
    z1, c1, z2, c2 = _leaf(za, dtype), _leaf(ca, dtype), _leaf(za, dtype), _leaf(ca, dtype)
    fused, composite = LSTMCell.apply(z1, c1), _composite_lstm_cell(z2, c2)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for a, b in zip(fused, composite):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)
    gh, gc = (mg.tensor(rng.standard_normal((2, 3)), dtype=dtype) for _ in range(2))
    ((fused[0] * gh).sum() + (fused[1] * gc).sum()).backward()
    ((composite[0] * gh).sum() + (composite[1] * gc).sum()).backward()
    for a, b in ((z1, z2), (c1, c2)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)
    # only h used: c''s gradient arrives as None and is taken as zeros
    z3 = _leaf(za, dtype)
    LSTMCell.apply(z3, c1)[0].sum().backward()
    z4 = _leaf(za, dtype)
    _composite_lstm_cell(z4, c2)[0].sum().backward()
    np.testing.assert_allclose(z3.grad.numpy(), z4.grad.numpy(), **tol)


def test_lstm_cell_gradients_and_second_derivatives_match_finite_differences():
    from micrograd.nn.modules.rnn import LSTMCell
    rng = np.random.default_rng(1)
    z, c = _leaf(rng.standard_normal((2, 8))), _leaf(rng.standard_normal((2, 2)))
    fn = lambda z, c: LSTMCell.apply(z, c)[0].tanh() + LSTMCell.apply(z, c)[1]  # noqa: E731
    assert mg.gradcheck(fn, [z, c])
    assert mg.gradgradcheck(fn, [z, c])
