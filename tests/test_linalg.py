"""micrograd.linalg beyond its op-spec rows (tests/op_specs_linalg.py): hard but defined inputs, PyTorch's argument
forms and result tuples, and the errors, on every backend."""
import math

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="PyTorch is not installed: linalg is compared with torch.linalg")


def _rotated(eigenvalues, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues),) * 2))
    return q @ np.diag(eigenvalues) @ q.T


def _both_grads(fn_mg, fn_torch, a):
    x = mg.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out, tout = fn_mg(x), fn_torch(t)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    seed = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
    out.backward(mg.tensor(seed))
    tout.backward(torch.tensor(seed))
    return x.grad.numpy(), t.grad.numpy()


def test_solve_near_singular_but_defined(backend):
    a = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-4]])  # condition number about 4e4
    b = np.array([[2.0, 0.5], [2.0001, -1.0]])
    x = mg.linalg.solve(mg.tensor(a), mg.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-8)
    np.testing.assert_allclose(a @ x.numpy(), b, atol=1e-10)
    ga, gt = _both_grads(lambda t: mg.linalg.solve(t, mg.tensor(b)), lambda t: torch.linalg.solve(t, torch.tensor(b)),
                         a)
    np.testing.assert_allclose(ga, gt, rtol=1e-6)
    assert mg.gradcheck(lambda t, u: mg.linalg.solve(t, u), [mg.tensor(a, requires_grad=True),
                                                             mg.tensor(b, requires_grad=True)],
                        eps=1e-9, atol=1e-3, rtol=1e-4, check_forward_ad=True)


def test_eigh_close_but_distinct_eigenvalues(backend):
    a = _rotated([1.0, 1.0 + 1e-3, 3.0])

    def f(lib):
        def g(t):
            w, v = lib.linalg.eigh(t)
            return (v * lib.tensor([1.0, 2.0, 3.0], dtype=t.dtype)) @ v.mT + w.sum()
        return g
    ga, gt = _both_grads(f(mg), f(torch), a)
    np.testing.assert_allclose(ga, gt, rtol=1e-7, atol=1e-9)
    x = mg.tensor(a, requires_grad=True)
    assert mg.gradcheck(lambda t: f(mg)(0.5 * (t + t.mT)), [x], eps=1e-8, atol=1e-4, check_forward_ad=True)


@pytest.mark.parametrize("name", ["pinv", "svdvals", "eigvalsh", "matrix_norm"])
def test_rank_deficient_and_repeated_values_have_pytorchs_gradients(backend, name):
    """pinv of a rank-1 matrix, and the singular/eigenvalues of matrices with repeated ones (PyTorch's rules need
    no distinct values there)."""
    a = np.outer([1.0, 2.0, -1.0], [0.5, -1.0, 2.0]) if name == "pinv" else np.diag([2.0, 2.0, 5.0])
    fns = {"pinv": lambda lib: lib.linalg.pinv, "svdvals": lambda lib: lib.linalg.svdvals,
           "eigvalsh": lambda lib: lib.linalg.eigvalsh, "matrix_norm": lambda lib: lambda t: lib.linalg.matrix_norm(
               t, "nuc")}
    ga, gt = _both_grads(fns[name](mg), fns[name](torch), a)
    np.testing.assert_allclose(ga, gt, rtol=1e-9, atol=1e-12)


def test_result_tuples_and_argument_forms(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 3))
    a = x @ x.transpose(0, 2, 1) + 3 * np.eye(3)
    ma, ta = mg.tensor(a), torch.tensor(a)
    sign, logabs = mg.linalg.slogdet(ma)
    assert mg.linalg.slogdet(ma).logabsdet is not None and sign.shape == (2,)
    np.testing.assert_allclose(logabs.numpy(), torch.linalg.slogdet(ta).logabsdet.numpy())
    res = mg.linalg.eigh(ma, UPLO="U")
    np.testing.assert_allclose(res.eigenvalues.numpy(), torch.linalg.eigh(ta, UPLO="U").eigenvalues.numpy())
    upper = np.triu(a) + np.triu(a, 1).transpose(0, 2, 1) * 0  # only the upper triangle is meaningful
    np.testing.assert_allclose(mg.linalg.eigvalsh(mg.tensor(upper), UPLO="U").numpy(),
                               torch.linalg.eigvalsh(torch.tensor(upper), UPLO="U").numpy())
    np.testing.assert_allclose(mg.linalg.cholesky(ma, upper=True).numpy(),
                               torch.linalg.cholesky(ta, upper=True).numpy())
    np.testing.assert_allclose(mg.linalg.matrix_power(ma, 0).numpy(), np.broadcast_to(np.eye(3), a.shape))
    np.testing.assert_allclose(mg.linalg.matrix_power(ma, -3).numpy(), torch.linalg.matrix_power(ta, -3).numpy())
    q, r = mg.linalg.qr(ma, mode="r")
    assert q.numel() == 0 and r.shape == (2, 3, 3)
    u, s, vh = mg.linalg.svd(ma)  # full_matrices=True: square inputs
    np.testing.assert_allclose((u.numpy() * s.numpy()[:, None]) @ vh.numpy(), a, atol=1e-12)
    for kw in ({}, {"ord": 2, "dim": (0, 2)}, {"dim": 1}, {"ord": "nuc", "dim": (-1, -2)}, {"ord": -math.inf,
                                                                                          "dim": (1, 2)}):
        np.testing.assert_allclose(mg.linalg.norm(ma, **kw).numpy(), torch.linalg.norm(ta, **kw).numpy())
    np.testing.assert_allclose(mg.linalg.vector_norm(ma, 3).numpy(), torch.linalg.vector_norm(ta, 3).numpy())
    rank = mg.linalg.matrix_rank(mg.tensor(np.ones((2, 4, 3))))
    assert rank.dtype == mg.int64 and rank.tolist() == [1, 1]
    b = rng.standard_normal((2, 3))
    np.testing.assert_allclose(mg.linalg.solve(ma, mg.tensor(b)).numpy(),
                               torch.linalg.solve(ta, torch.tensor(b)).numpy())
    np.testing.assert_allclose(mg.linalg.solve(ma, mg.tensor(a), left=False).numpy(),
                               torch.linalg.solve(ta, ta, left=False).numpy(), atol=1e-12)


def test_float32_stays_float32(backend):
    a = mg.tensor(np.diag([1.0, 2.0, 4.0]) + 0.1, dtype=mg.float32, requires_grad=True)  # distinct eigenvalues
    outs = [mg.linalg.inv(a), mg.linalg.cholesky(a), mg.linalg.det(a), mg.linalg.eigh(a)[1], mg.linalg.svd(a)[0],
            mg.linalg.qr(a)[0], mg.linalg.pinv(a), mg.linalg.matrix_norm(a, "nuc")]
    assert all(o.dtype == mg.float32 for o in outs)
    sum(o.sum() for o in outs).backward()
    assert a.grad.dtype == mg.float32 and np.isfinite(a.grad.numpy()).all()


@pytest.mark.parametrize("call, message", [
    (lambda: mg.linalg.inv(mg.ones(2, 3)), "linalg.inv: A must be batches of square matrices, but they are 2 by 3"),
    (lambda: mg.linalg.cholesky(mg.ones(3)), "linalg.cholesky: The input tensor A must have at least 2 dimensions"),
    (lambda: mg.linalg.solve(mg.eye(3), mg.ones(4, 1)), r"linalg.solve: Incompatible shapes of A and B .*3x3 and 4x1"),
    (lambda: mg.linalg.eigh(mg.eye(2), UPLO="X"), "Expected UPLO argument to be 'L' or 'U'"),
    (lambda: mg.linalg.cross(mg.ones(2), mg.ones(2)), "linalg.cross: inputs dimension -1 must have length 3"),
    (lambda: mg.linalg.matrix_norm(mg.eye(2), ord=3), "linalg.matrix_norm: Order 3 not supported"),
])
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_qr_modes_against_pytorch():
    """Wide inputs differentiate (PyTorch's m < n rule); mode='complete' with m > n computes but, as PyTorch,
    refuses to differentiate, naming why."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for shape, mode in [((2, 3), "reduced"), ((2, 4), "complete"), ((3, 2, 4), "reduced")]:
        a = rng.standard_normal(shape)
        x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        (q, r), (tq, tr) = mg.linalg.qr(x, mode=mode), torch.linalg.qr(t, mode=mode)
        np.testing.assert_allclose(q.detach().numpy() @ r.detach().numpy(), a, atol=1e-12)
        wq, wr = rng.standard_normal(q.shape), rng.standard_normal(r.shape)
        ((q * mg.tensor(wq)).sum() + (r * mg.tensor(wr)).sum()).backward()
        ((tq * torch.tensor(wq)).sum() + (tr * torch.tensor(wr)).sum()).backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)
    tall = mg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    q, r = mg.linalg.qr(tall, mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 2)
    np.testing.assert_allclose(q.detach().numpy() @ r.detach().numpy(), tall.detach().numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        q.sum().backward()


@pytest.mark.parametrize("shape", [(4, 2), (2, 5), (3, 4, 2)])
def test_svd_full_matrices_against_pytorch(shape):
    """full_matrices=True on non-square input: U (m, m), Vh (n, n) orthonormal, and, as PyTorch's, the gradient
    through the completed columns is ignored and their tangent is zero."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape)
    x = mg.tensor(a, requires_grad=True)
    u, s, vh = mg.linalg.svd(x)
    m, n = shape[-2:]
    assert u.shape == shape[:-2] + (m, m) and vh.shape == shape[:-2] + (n, n)
    np.testing.assert_allclose((u.mT @ u).detach().numpy(), np.broadcast_to(np.eye(m), u.shape), atol=1e-12)
    k = min(m, n)
    np.testing.assert_allclose(((u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]).detach().numpy(), a, atol=1e-12)
    t = torch.tensor(a, requires_grad=True)
    tu, ts, tvh = torch.linalg.svd(t)
    wu, wv = rng.standard_normal(u.shape), rng.standard_normal(vh.shape)

    def loss(lib, u, s, vh):  # invariant to the sign of each singular pair, as the completion's columns are not
        return ((u[..., :k] * u[..., :k]) * lib.tensor(wu[..., :k])).sum() + s.sum() + \
            ((vh[..., :k, :] ** 2) * lib.tensor(wv[..., :k, :])).sum() + (u[..., k:] ** 2).sum()
    loss(mg, u, s, vh).backward()
    loss(torch, tu, ts, tvh).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)
    ju = mg.func.jacfwd(lambda y: mg.linalg.svd(y)[0])(mg.tensor(a))
    assert ju.shape == u.shape + shape
    assert np.all(ju.numpy()[(slice(None),) * (len(shape) - 1) + (slice(k, None),)] == 0)


@pytest.mark.parametrize("ord_", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 0)])
def test_matrix_norm_of_empty_matrices(ord_, shape):
    """As PyTorch: a largest value over none is 0; a smallest over none raises, naming the op and the shape."""
    x = mg.zeros(shape, dtype=mg.float64, requires_grad=True)
    k = (shape[-2] if ord_ in (math.inf, -math.inf) else shape[-1] if ord_ in (1, -1) else min(shape[-2:]))
    if ord_ in (-2, -1, -math.inf) and k == 0:
        with pytest.raises(RuntimeError, match=r"matrix_norm: ord=.* shape \(.*\) takes a minimum over an empty set"):
            mg.linalg.matrix_norm(x, ord=ord_)
        return
    y = mg.linalg.matrix_norm(x, ord=ord_)
    assert y.shape == shape[:-2] and np.all(y.detach().numpy() == 0)
    y.sum().backward()
    assert x.grad.shape == shape
