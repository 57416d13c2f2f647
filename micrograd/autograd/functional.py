"""torch.autograd.functional's API on micrograd's transforms: jacobian, hessian, vjp, jvp, hvp, vhp.

`inputs` is a Tensor or a tuple of Tensors and results follow its structure (and the output's): a Jacobian is J[i][j]
for output i and input j, each block of shape output.shape + input.shape. Results are detached from the graph
unless create_graph=True, as in PyTorch; `strict=True` raises for an output independent of an input.
"""
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(op, inputs):
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The {'inputs' if not single else 'input'} given to {op} must be either a Tensor or a "
                            f"tuple of Tensors but the value at index {i} has type {type(x).__name__}.")
    return xs, single


def _grad_inputs(xs, create_graph):
    """The inputs as the transforms see them: detached copies unless create_graph (results then stay on the
    caller's graph)."""
    return xs if create_graph else tuple(x.detach() for x in xs)


def _finish(obj, create_graph):
    from ..func import _tree_map
    from ..tensor import Tensor
    if create_graph:
        return obj
    return _tree_map(lambda t: t.detach() if isinstance(t, Tensor) else t, obj)


def _check_strict(op, func, xs):
    """strict mode: every output must depend on every input (PyTorch's check)."""
    from ..func import _differentiable, tree_flatten
    from .reverse import grad
    with enable_grad():
        ws = tuple(_differentiable(x.detach(), op) for x in xs)
        outs, _ = tree_flatten(func(*ws))
        for i, o in enumerate(outs):
            found = grad(o.sum(), ws, allow_unused=True) if o._requires_grad else (None,) * len(ws)
            for j, g in enumerate(found):
                if g is None:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                       f"This is not allowed in strict mode.")


def _vector(op, v, like, what):
    """v as a tuple matching `like`; None only where every element of like is a single element (ones)."""
    from ..factories import ones_like
    from ..tensor import Tensor
    if v is None:
        for t in like:
            if t.numel() != 1:
                raise RuntimeError(f"The vector v can only be None if the {what} to the user-provided function is a "
                                   f"single Tensor with a single element.")
        return tuple(ones_like(t) for t in like)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    if len(vs) != len(like):
        raise RuntimeError(f"{op}: v has {len(vs)} Tensors; expected {len(like)}, one per {what}")
    for a, t in zip(vs, like):
        if tuple(a.shape) != tuple(t.shape):
            raise RuntimeError(f"{op}: Mismatch in shape: v has a shape of {tuple(a.shape)} and the {what} has a "
                               f"shape of {tuple(t.shape)}")
    return vs


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs (one batched pass: reverse or forward mode as `strategy` says)."""
    from .. import func as F
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    xs, single = _as_tuple("jacobian", inputs)
    if strict:
        _check_strict("jacobian", func, xs)
    transform = F.jacrev if strategy == "reverse-mode" else F.jacfwd
    argnums = 0 if single else tuple(range(len(xs)))
    jac = transform(func, argnums=argnums)(*_grad_inputs(xs, create_graph))
    if strategy == "forward-mode" and not single:  # PyTorch's forward-mode strategy gives lists here
        jac = [list(j) for j in jac] if isinstance(jac[0], tuple) else list(jac)
    return _finish(jac, create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of func (a scalar function) at inputs; H[i][j] blocks for a tuple of inputs."""
    from .. import func as F
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    xs, single = _as_tuple("hessian", inputs)
    checked = _scalar(func, "hessian")
    if strict:
        _check_strict("hessian", checked, xs)
    argnums = 0 if single else tuple(range(len(xs)))
    outer = F.jacrev if outer_jacobian_strategy == "reverse-mode" else F.jacfwd
    hess = outer(F.jacrev(checked, argnums=argnums), argnums=argnums)(*_grad_inputs(xs, create_graph))
    return _finish(hess, create_graph)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ J): the vector-Jacobian product of func at inputs along v (shaped as func's output)."""
    from .. import func as F
    from ..func import tree_flatten
    xs, single = _as_tuple("vjp", inputs)
    if strict:
        _check_strict("vjp", func, xs)
    out, fn = F.vjp(func, *_grad_inputs(xs, create_graph))
    outs, _ = tree_flatten(out)
    vs = _vector("vjp", v, outs, "output")
    grads = fn(vs[0] if len(outs) == 1 and not isinstance(out, (tuple, list)) else tuple(vs))
    return _finish(out, create_graph), _finish(grads[0] if single else grads, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product of func at inputs along v (shaped as inputs), by forward
    mode (PyTorch computes it with two backward passes; the result is the same)."""
    from .. import func as F
    xs, single = _as_tuple("jvp", inputs)
    if strict:
        _check_strict("jvp", func, xs)
    vs = _vector("jvp", v, xs, "input")
    out, tangent = F.jvp(func, _grad_inputs(xs, create_graph), vs)
    return _finish(out, create_graph), _finish(tangent, create_graph)


def _scalar(func, op):
    from ..tensor import Tensor

    def checked(*args):
        out = func(*args)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {op} should contain a single element")
        return out.reshape(())
    return checked


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a scalar func, forward over reverse."""
    from .. import func as F
    xs, single = _as_tuple("hvp", inputs)
    f = _scalar(func, "hvp")
    if strict:
        _check_strict("hvp", f, xs)
    vs = _vector("hvp", v, xs, "input")
    xs = _grad_inputs(xs, create_graph)
    argnums = 0 if single else tuple(range(len(xs)))
    _, h = F.jvp(F.grad(f, argnums=argnums), xs, vs)
    return _finish(f(*xs), create_graph), _finish(h, create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ H): the vector-Hessian product of a scalar func, reverse over reverse."""
    from .. import func as F
    xs, single = _as_tuple("vhp", inputs)
    f = _scalar(func, "vhp")
    if strict:
        _check_strict("vhp", f, xs)
    vs = _vector("vhp", v, xs, "input")
    xs = _grad_inputs(xs, create_graph)
    argnums = 0 if single else tuple(range(len(xs)))
    _, fn = F.vjp(F.grad(f, argnums=argnums), *xs)
    got = fn(vs[0] if single else vs)
    return _finish(f(*xs), create_graph), _finish(got[0] if single else got, create_graph)
