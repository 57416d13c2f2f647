"""Forward-mode AD with PyTorch's API (micrograd.autograd.forward_ad), user Functions in forward mode (their own jvp,
or one derived from backward), and batched gradients (grad(is_grads_batched=True)), against PyTorch where it has
the same thing."""
import numpy as np
import pytest

import micrograd as mg
from micrograd.autograd import forward_ad as fwAD

try:
    import torch
    import torch.autograd.forward_ad as tfwAD
except ImportError:  # PyTorch is an optional reference
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")


def _t(a, backend):
    return mg.tensor(np.asarray(a, dtype=np.float64), backend=backend)


def _jvp(f, x, v):
    with fwAD.dual_level():
        return fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent


def _central(f, x, v, eps=1e-6):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def test_make_dual_and_unpack_dual(backend):
    x, v = _t([0.5, -1.0, 2.0], backend), _t([1.0, 2.0, 3.0], backend)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        primal, tangent = fwAD.unpack_dual(d)
        assert tangent is v
        np.testing.assert_array_equal(primal.numpy(), x.numpy())
        assert fwAD.unpack_dual(primal).tangent is None
        y = (d * d).sum()
        assert float(fwAD.unpack_dual(y).tangent) == pytest.approx(float((2 * x * v).sum()))
    assert fwAD.unpack_dual(y).tangent is None  # the level is gone


def test_errors_name_the_problem():
    x = mg.zeros(3, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="no dual level is open"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"different size.*\(2,\) for primal \(3,\)"):
            fwAD.make_dual(x, mg.zeros(2, dtype=mg.float64))
        with pytest.raises(ValueError, match="floating-point primal"):
            fwAD.make_dual(mg.zeros(3, dtype=mg.int64), x)


def test_forward_mode_works_under_no_grad_and_records_nothing(backend):
    x, v = _t([0.3, 0.7], backend), _t([1.0, -1.0], backend)
    with mg.no_grad(), fwAD.dual_level():
        y = fwAD.make_dual(x, v).sin().exp()
        t = fwAD.unpack_dual(y).tangent
    assert not y.requires_grad
    np.testing.assert_allclose(t.numpy(), (x.sin().exp() * x.cos() * v).numpy(), rtol=1e-14)


def test_nested_levels_give_second_derivatives(backend):
    """forward over forward: d2/dx2 sin(x) exp(x) along v, w."""
    x, v, w = _t([0.2, 0.9], backend), _t([1.0, 0.5], backend), _t([0.3, 2.0], backend)
    with fwAD.dual_level():
        outer = fwAD.make_dual(x, w)
        with fwAD.dual_level():
            inner = fwAD.make_dual(outer, v)
            y = inner.sin() * inner.exp()
            first = fwAD.unpack_dual(y).tangent
        second = fwAD.unpack_dual(first).tangent
    xs = x.numpy()
    f2 = 2 * np.cos(xs) * np.exp(xs)  # (sin e^x)'' = 2 cos(x) e^x
    np.testing.assert_allclose(second.numpy(), f2 * v.numpy() * w.numpy(), rtol=1e-12)


def test_forward_over_reverse_and_reverse_over_forward(backend):
    x, v = _t([0.2, -0.4, 0.9], backend), _t([1.0, 0.5, -2.0], backend)

    def f(x):
        return (x.tanh() * x.sum()).sum()
    hvp = _jvp(lambda x: mg.func.grad(f)(x), x, v)
    xr = x.detach().requires_grad_()
    with fwAD.dual_level():
        y = f(fwAD.make_dual(xr, v))
        jv = fwAD.unpack_dual(y).tangent
    (vhp,) = mg.grad(jv, xr)
    h = mg.func.hessian(f)(x)
    np.testing.assert_allclose(hvp.numpy(), (h @ v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(vhp.numpy(), (v @ h).numpy(), rtol=1e-12)


class Cube(mg.Function):
    """x^3 with its own jvp, reading what forward saved with save_for_forward (PyTorch's protocol)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return x._backend.mul(x._data, x._backend.mul(x._data, x._data))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x * x

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 3 * t * x * x


class CubeNoJvp(mg.Function):
    """x^2 y with a backward only: forward mode derives its JVP from that backward."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._backend.mul(x._backend.mul(x._data, x._data), y._data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return 2 * g * x * y, g * x * x


class RawBackward(mg.Function):
    """A backward written on raw arrays: not differentiable, so no JVP can be derived from it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.mul(x._data, x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        b = x._backend
        return mg.Tensor._make(b.mul(b.mul(g._data, x._data), 2.0), b, False, None, 0)


def test_user_function_with_its_own_jvp(backend):
    x, v = _t([0.5, -1.5], backend), _t([2.0, 1.0], backend)
    np.testing.assert_allclose(_jvp(Cube.apply, x, v).numpy(), (3 * x * x * v).numpy(), rtol=1e-14)
    assert mg.gradcheck(Cube.apply, (x.detach().requires_grad_(),), check_forward_ad=True)


def test_user_function_without_jvp_gets_one_derived_from_backward(backend):
    x, y = _t([0.5, -1.5, 2.0], backend), _t([1.0, 3.0, -0.5], backend)
    vx, vy = _t([1.0, -2.0, 0.5], backend), _t([0.3, 0.1, 1.0], backend)
    with fwAD.dual_level():
        out = CubeNoJvp.apply(fwAD.make_dual(x, vx), fwAD.make_dual(y, vy))
        t = fwAD.unpack_dual(out).tangent
    expected = _central(lambda s: CubeNoJvp.apply(x + s * vx, y + s * vy), _t(0.0, backend), _t(1.0, backend))
    np.testing.assert_allclose(t.numpy(), expected.numpy(), rtol=1e-7)
    assert mg.gradcheck(CubeNoJvp.apply, (x.detach().requires_grad_(), y.detach().requires_grad_()), check_forward_ad=True,
                        check_batched_forward_grad=True)
    # the derived JVP composes: a Hessian through it
    h = mg.func.hessian(lambda x: CubeNoJvp.apply(x, y).sum())(x)
    np.testing.assert_allclose(h.numpy(), np.diag(2 * y.numpy()), rtol=1e-10, atol=1e-12)  # d2/dx2 of x^2 y


def test_derived_jvp_refuses_a_backward_on_raw_arrays():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64)
    with pytest.raises(mg.RuntimeValueError, match="RawBackward: cannot derive a JVP from its backward"):
        _jvp(RawBackward.apply, x, mg.ones(2, dtype=mg.float64))


def test_inplace_ops_carry_tangents(backend):
    x, v = _t([0.5, 1.5, -1.0], backend), _t([1.0, 2.0, 3.0], backend)

    def f(x):
        y = x.clone()
        y.mul_(x)  # x^2
        y[0] = x[1] * 3.0  # setitem through autograd's rules
        y.add_(1.0)
        return y
    np.testing.assert_allclose(_jvp(f, x, v).numpy(), _central(f, x, v).numpy(), rtol=1e-8, atol=1e-10)
    xr = x.detach().requires_grad_()  # and while recording, through a view
    with fwAD.dual_level():
        d = fwAD.make_dual(xr, v)
        y = d * 1.0
        y[1:].mul_(2.0)
        t = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(t.numpy(), v.numpy() * np.array([1.0, 2.0, 2.0]))


@needs_torch
def test_tangents_match_pytorch_forward_ad():
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    w = rng.standard_normal((5, 3))
    fns = [
        lambda m, x, W: (x @ W).softmax(-1).log(),
        lambda m, x, W: m.nn.functional.gelu(x).cumsum(1).prod(0),
        lambda m, x, W: (x.sort(1).values * x.amax(0)).norm(),
        lambda m, x, W: m.nn.functional.layer_norm(x, (5,)) ** 3,
        lambda m, x, W: m.where(x > 0, x.exp(), x.sin()).max(1).values,
    ]
    for f in fns:
        with fwAD.dual_level():
            ours = fwAD.unpack_dual(f(mg, fwAD.make_dual(mg.tensor(a), mg.tensor(v)), mg.tensor(w))).tangent
        with tfwAD.dual_level():
            theirs = tfwAD.unpack_dual(f(torch, tfwAD.make_dual(torch.tensor(a), torch.tensor(v)),
                                         torch.tensor(w))).tangent
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_is_grads_batched_matches_pytorch():
    rng = np.random.default_rng(1)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    cts = rng.standard_normal((6, 3, 5))
    x, W = mg.tensor(a, requires_grad=True), mg.tensor(w, requires_grad=True)
    xt, Wt = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = mg.grad((x @ W).tanh(), (x, W), mg.tensor(cts), is_grads_batched=True)
    theirs = torch.autograd.grad((xt @ Wt).tanh(), (xt, Wt), torch.tensor(cts), is_grads_batched=True)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)


def test_is_grads_batched_checks_its_arguments():
    x = mg.ones(3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad_output of shape \(2, 4\) does not match the output's shape \(3,\)"):
        mg.grad(x * 2, x, mg.ones(2, 4, dtype=mg.float64), is_grads_batched=True)
    with pytest.raises(ValueError, match="one batched grad_output per output"):
        mg.grad(x * 2, x, is_grads_batched=True)


def test_batched_grads_of_a_backward_on_raw_arrays_fall_back_per_row():
    """A user backward that the batch cannot pass through still gives the right rows, one backward each."""
    from micrograd.autograd import reverse
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    cts = mg.tensor(np.arange(6.0).reshape(2, 3))
    (g,) = mg.grad(RawBackward.apply(x), x, cts, is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), 2 * x.detach().numpy() * cts.numpy())
    assert any(n.endswith("RawBackward") for n in reverse.row_fallbacks())
