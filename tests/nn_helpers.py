"""Helpers shared by the nn and optim tests: calling a module with substitute parameters, and running a
micrograd module side by side with its PyTorch twin (same weights, same inputs)."""
import contextlib

import numpy as np
import pytest

import micrograd as mg

TORCH_REASON = "PyTorch is not installed; comparison with PyTorch skipped"


def flat(out):
    """A module's output (a Tensor, or nested tuples of them and None) as a flat list of tensors."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [] if out is None else [out]


def _owner(module, name):
    *path, leaf = name.split(".")
    for part in path:
        module = module._modules[part]
    return module, leaf


@contextlib.contextmanager
def swapped(module, names, tensors):
    """Within the block, the parameters `names` of `module` are replaced by `tensors` (any Tensors)."""
    saved = []
    try:
        for name, t in zip(names, tensors):
            owner, leaf = _owner(module, name)
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = t
        yield
    finally:
        for owner, leaf, p in reversed(saved):
            owner._parameters[leaf] = p


def gradcheck_module(module, inputs, call=None, **kwargs):
    """mg.gradcheck of module(*inputs) in float64 with respect to every parameter and every float input."""
    call = call or (lambda m, lib, *xs: m(*xs))
    module.double()
    names, params = zip(*module.named_parameters()) if module.parameters() else ((), ())
    xs = [mg.tensor(a, dtype="float64", requires_grad=True) if np.asarray(a).dtype.kind == "f" else a
          for a in inputs]

    def fn(*args):
        with swapped(module, names, args[:len(params)]):
            return tuple(flat(call(module, "mg", *args[len(params):])))

    return mg.gradcheck(fn, [*params, *xs], **kwargs)


def torch_pair(mg_module, torch_module, dtype):
    """Both modules in `dtype`, the micrograd one holding the PyTorch one's state dict (as NumPy arrays)."""
    import torch

    torch_module.to(getattr(torch, dtype))
    mg_module.to(dtype)
    result = mg_module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})
    assert result == ([], [])
    return mg_module, torch_module


def run_both(mg_module, torch_module, inputs, call=None, dtype="float64", train=True, seed=0):
    """Forward and backward (with a random cotangent per output) through both modules.

    Returns {name: (micrograd array, torch array)} for every output, input gradient and parameter gradient.
    """
    import torch

    call = call or (lambda m, lib, *xs: m(*xs))
    mg_module, torch_module = torch_pair(mg_module, torch_module, dtype)
    mg_module.train(train)
    torch_module.train(train)
    rng = np.random.default_rng(seed)
    host = [np.asarray(a, dtype=dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in inputs]
    mx = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in host]
    tx = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in host]
    mo, to = flat(call(mg_module, "mg", *mx)), flat(call(torch_module, "torch", *tx))
    assert len(mo) == len(to)
    pairs = {}
    mloss, tloss = 0, 0
    for i, (a, b) in enumerate(zip(mo, to)):
        pairs[f"output{i}"] = (a.detach().numpy(), b.detach().numpy())
        if a.dtype.kind == "f" and a.requires_grad:
            c = rng.standard_normal(a.shape).astype(dtype)
            mloss = mloss + (a * mg.tensor(c)).sum()
            tloss = tloss + (b * torch.tensor(c)).sum()
    if isinstance(mloss, mg.Tensor):
        mloss.backward()
        tloss.backward()
        for i, (a, b) in enumerate(zip(mx, tx)):
            if b.grad is not None:
                pairs[f"input{i}.grad"] = (a.grad.detach().numpy(), b.grad.detach().numpy())
        tparams = dict(torch_module.named_parameters())
        for name, p in mg_module.named_parameters():
            if tparams[name].grad is not None:
                pairs[f"{name}.grad"] = (p.grad.detach().numpy(), tparams[name].grad.detach().numpy())
    for name, b in torch_module.named_buffers():
        pairs[name] = (dict(mg_module.named_buffers())[name].detach().numpy(), b.detach().numpy())
    return pairs


def max_abs_diff(pairs):
    return max(float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0)) for a, b in pairs.values())


def assert_pairs_close(pairs, dtype):
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    for name, (a, b) in pairs.items():
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, err_msg=name, **tol)


def needs_torch():
    return pytest.importorskip("torch", reason=TORCH_REASON)
