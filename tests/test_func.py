"""micrograd.func and micrograd.autograd.functional against torch.func and torch.autograd.functional: the same
functions, nested inputs and outputs, argnums, has_aux and compositions, with the same values and structures."""
import numpy as np
import pytest

import micrograd as mg
from micrograd import func
from micrograd.autograd import functional as AF

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0): not compared")
import torch.autograd.functional as TAF  # noqa: E402
import torch.func as tfunc  # noqa: E402

RNG = np.random.default_rng(0)
A, B, C = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 2))
S = RNG.standard_normal(5)


def _inputs(lib, backend):
    if lib is torch:
        return torch.tensor(A), torch.tensor(B), torch.tensor(C)
    return tuple(mg.tensor(a, backend=backend) for a in (A, B, C))


# f(lib, x, y, w) -> a Tensor or a nested structure of them
FUNCTIONS = {
    "matmul_tanh": lambda m, x, y, w: ((x * y) @ w).tanh(),
    "scalar": lambda m, x, y, w: ((x @ w).sin() ** 2).sum() + (y * y.exp()).mean(),
    "softmax_ce": lambda m, x, y, w: m.nn.functional.cross_entropy(x @ w, m.tensor([0, 1, 1])),
    "tuple_out": lambda m, x, y, w: (x.sum(0) * y, (x @ w).relu()),
    "dict_out": lambda m, x, y, w: {"a": (x @ w).cumsum(0), "b": m.stack([y.prod(), y.norm()])},
    "indexing": lambda m, x, y, w: m.cat([x[:, 1:3] * y[:2], x[[0, 2, 2]][:, :2]], 0),
    "reductions": lambda m, x, y, w: m.logsumexp(x, 1) + x.std(1) + x.amax(1),
}
SCALAR = ["scalar", "softmax_ce"]


def _leaves(tree):
    if isinstance(tree, dict):
        return [v for k in tree for v in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [v for x in tree for v in _leaves(x)]
    return [tree]


def _structure(tree):
    if isinstance(tree, dict):
        return {k: _structure(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree).__name__, [_structure(x) for x in tree]
    return tuple(tree.shape)


def _same(ours, theirs, rtol=1e-10, atol=1e-12):
    assert _structure(ours) == _structure(theirs)
    for a, b in zip(_leaves(ours), _leaves(theirs)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("argnums", [0, 2, (0, 2), (1,)], ids=str)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_match_torch_func(transform, name, argnums, backend):
    f = FUNCTIONS[name]
    ours = getattr(func, transform)(lambda *a: f(mg, *a), argnums=argnums)(*_inputs(mg, backend))
    theirs = getattr(tfunc, transform)(lambda *a: f(torch, *a), argnums=argnums)(*_inputs(torch, backend))
    _same(ours, theirs)


@pytest.mark.parametrize("argnums", [0, (0, 1, 2)], ids=str)
@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("transform", ["grad", "hessian"])
def test_grad_and_hessian_match_torch_func(transform, name, argnums, backend):
    f = FUNCTIONS[name]
    ours = getattr(func, transform)(lambda *a: f(mg, *a), argnums=argnums)(*_inputs(mg, backend))
    theirs = getattr(tfunc, transform)(lambda *a: f(torch, *a), argnums=argnums)(*_inputs(torch, backend))
    _same(ours, theirs)


@pytest.mark.parametrize("outer", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("inner", ["jacrev", "jacfwd"])
def test_compositions_match_torch_func(inner, outer, backend):
    def f(m):
        return lambda x: (x.sin() * x.sum()).exp()
    ours = getattr(func, outer)(getattr(func, inner)(f(mg)))(mg.tensor(S, backend=backend))
    theirs = getattr(tfunc, outer)(getattr(tfunc, inner)(f(torch)))(torch.tensor(S))
    _same(ours, theirs)
    g3 = func.grad(func.grad(func.grad(lambda x: x.sin() * x.exp())))(mg.tensor(0.7, dtype=mg.float64))
    t3 = tfunc.grad(tfunc.grad(tfunc.grad(lambda x: x.sin() * x.exp())))(torch.tensor(0.7, dtype=torch.float64))
    assert float(g3) == pytest.approx(float(t3), rel=1e-12)


def test_has_aux_and_grad_and_value(backend):
    def f(m):
        return lambda x, y: ((x * y).sum(), {"mean": x.mean()})
    x, y = mg.tensor(A[0], backend=backend), mg.tensor(B, backend=backend)
    (g, aux) = func.grad(f(mg), argnums=1, has_aux=True)(x, y)
    (tg, taux) = tfunc.grad(f(torch), argnums=1, has_aux=True)(torch.tensor(A[0]), torch.tensor(B))
    _same((g, aux), (tg, taux))
    (g, (v, aux)) = func.grad_and_value(f(mg), has_aux=True)(x, y)
    (tg, (tv, taux)) = tfunc.grad_and_value(f(torch), has_aux=True)(torch.tensor(A[0]), torch.tensor(B))
    _same((g, v, aux), (tg, tv, taux))
    jac, aux = func.jacrev(lambda x: (x.exp(), x.sum()), has_aux=True)(x)
    tjac, taux = tfunc.jacrev(lambda x: (x.exp(), x.sum()), has_aux=True)(torch.tensor(A[0]))
    _same((jac, aux), (tjac, taux))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vjp_jvp_linearize_match_torch_func(name, backend):
    f = FUNCTIONS[name]
    xs, ts = _inputs(mg, backend), _inputs(torch, backend)
    out, fn = func.vjp(lambda *a: f(mg, *a), *xs)
    tout, tfn = tfunc.vjp(lambda *a: f(torch, *a), *ts)
    cts = [RNG.standard_normal(o.shape) for o in _leaves(tout)]
    from micrograd.func import tree_flatten, tree_unflatten
    _, spec = tree_flatten(out)
    ours_ct = tree_unflatten([mg.tensor(c, backend=backend) for c in cts], spec)
    theirs_ct = torch.utils._pytree.tree_unflatten([torch.tensor(c) for c in cts],
                                                   torch.utils._pytree.tree_flatten(tout)[1])
    _same((out, fn(ours_ct)), (tout, tfn(theirs_ct)))
    vs = [RNG.standard_normal(a.shape) for a in (A, B, C)]
    ours = func.jvp(lambda *a: f(mg, *a), xs, tuple(mg.tensor(v, backend=backend) for v in vs))
    theirs = tfunc.jvp(lambda *a: f(torch, *a), ts, tuple(torch.tensor(v) for v in vs))
    _same(ours, theirs)
    out, jvp_fn = func.linearize(lambda *a: f(mg, *a), *xs)
    _same(jvp_fn(*(mg.tensor(v, backend=backend) for v in vs)), theirs[1])


def test_transforms_leave_inputs_and_their_graph_alone(backend):
    x = mg.tensor(B, requires_grad=True, backend=backend)
    g = func.grad(lambda x: (x ** 3).sum())(x)
    assert x.grad is None
    assert g.requires_grad  # x requires grad: the result stays differentiable (PyTorch's too)
    (gg,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * B, rtol=1e-14)
    plain = func.grad(lambda x: (x ** 3).sum())(x.detach())
    assert not plain.requires_grad


def test_errors_match_torch_func():
    x = mg.ones(3, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        func.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        func.jvp(lambda x: x, x, x)
    with pytest.raises(RuntimeError, match="only 1 positional inputs"):
        func.jacrev(lambda x: x, argnums=1)(x)
    with pytest.raises(RuntimeError, match="output of function f should be a tuple"):
        func.grad(lambda x: x.sum(), has_aux=True)(x)


FUNCTIONAL = {
    "jacobian": (lambda f, xs: AF.jacobian(f, xs), lambda f, xs: TAF.jacobian(f, xs)),
    "jacobian_fwd": (lambda f, xs: AF.jacobian(f, xs, strategy="forward-mode"),
                     lambda f, xs: TAF.jacobian(f, xs, vectorize=True, strategy="forward-mode")),
    "hessian": (lambda f, xs: AF.hessian(lambda *a: f(*a).sum(), xs),
                lambda f, xs: TAF.hessian(lambda *a: f(*a).sum(), xs)),
}


@pytest.mark.parametrize("kind", sorted(FUNCTIONAL))
def test_autograd_functional_matches_pytorch(kind, backend):
    ours_fn, theirs_fn = FUNCTIONAL[kind]
    f = FUNCTIONS["matmul_tanh"]
    _same(ours_fn(lambda *a: f(mg, *a), _inputs(mg, backend)), theirs_fn(lambda *a: f(torch, *a),
                                                                          _inputs(torch, backend)))
    _same(ours_fn(lambda x: (x * 2).sin(), mg.tensor(B, backend=backend)),
          theirs_fn(lambda x: (x * 2).sin(), torch.tensor(B)))


@pytest.mark.parametrize("kind", ["hvp", "vhp", "vjp", "jvp"])
def test_products_match_pytorch(kind, backend):
    def f(m):
        return lambda x, y: ((x @ y).tanh() ** 2).sum()
    xs = (mg.tensor(A, backend=backend), mg.tensor(B, backend=backend))
    ts = (torch.tensor(A), torch.tensor(B))
    vs = (RNG.standard_normal(A.shape), RNG.standard_normal(B.shape)) if kind != "vjp" else None
    v_ours = tuple(mg.tensor(v, backend=backend) for v in vs) if vs else None
    v_theirs = tuple(torch.tensor(v) for v in vs) if vs else None
    _same(getattr(AF, kind)(f(mg), xs, v_ours), getattr(TAF, kind)(f(torch), ts, v_theirs))


def _twin_models():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian"])
def test_functional_call_with_transforms_matches_torch_func(transform):
    """The usual way to differentiate a module by its parameters: transform(functional_call)(params, x); the
    parameters given detached (a regression: a detached parameter's alias once lost requires_grad)."""
    ours, theirs = _twin_models()
    x = RNG.standard_normal((5, 3))
    mp = {k: v.detach() for k, v in ours.named_parameters()}
    tp = {k: v.detach() for k, v in theirs.named_parameters()}

    def f(lib, call, model):
        if transform in ("grad", "hessian"):
            return lambda p, x: call(model, p, (x,)).pow(2).sum()
        return lambda p, x: call(model, p, (x,))
    _same(getattr(func, transform)(f(mg, func.functional_call, ours))(mp, mg.tensor(x)),
          getattr(tfunc, transform)(f(torch, tfunc.functional_call, theirs))(tp, torch.tensor(x)))
    assert all(p.grad is None for p in ours.parameters())
    np.testing.assert_array_equal(ours[0].weight.detach().numpy(), theirs[0].weight.detach().numpy())


def test_functional_call_restores_the_module_and_checks_keys():
    ours, _ = _twin_models()
    before = {k: v.detach().numpy().copy() for k, v in ours.state_dict().items()}
    zeros = {k: mg.zeros_like(v) for k, v in ours.named_parameters()}
    out = func.functional_call(ours, zeros, (mg.ones(2, 3, dtype=mg.float64),))
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 2)))
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
        assert isinstance(dict(ours.named_parameters())[k], mg.nn.Parameter)
    with pytest.raises(RuntimeError, match=r"missing keys \['0.bias', '2.bias', '2.weight'\]"):
        func.functional_call(ours, {"0.weight": zeros["0.weight"]}, (mg.ones(2, 3, dtype=mg.float64),), strict=True)
    with pytest.raises(ValueError, match="multiple values for keys \\['0.bias'\\]"):
        func.functional_call(ours, ({"0.bias": zeros["0.bias"]}, {"0.bias": zeros["0.bias"]}), (mg.ones(1, 3),))
    assert ours.get_submodule("2") is ours[2]
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        ours.get_submodule("nope")


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)], ids=str)
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_of_empty_inputs_match_torch_func(transform, shape):
    """Inputs with no elements (jacfwd once failed to reshape their zero-row tangents; torch.func.jacfwd itself
    raises there, so the reference is torch.func.jacrev: the same Jacobian)."""
    for f in (lambda x: x.sin(), lambda x: x.sum(), lambda x: x.reshape(-1)[:0]):
        ours = getattr(func, transform)(f)(mg.zeros(*shape, dtype=mg.float64))
        _same(ours, tfunc.jacrev(f)(torch.zeros(*shape, dtype=torch.float64)))
