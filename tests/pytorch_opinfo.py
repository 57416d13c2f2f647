"""PyTorch's own operator samples (its OpInfo database) run on micrograd: values, dtypes and gradients compared.

    python tests/pytorch_opinfo.py [--backend numpy|numba] [--ops add,max,...] [--dtypes float64,int64] [-v]

For every OpInfo whose name micrograd has (a top-level function, a `micrograd.nn.functional` function or a
Tensor method), each sample PyTorch generates is converted to micrograd (tensors, dtypes, devices) and run
both ways. Outcomes:
- ok: same values (float64 within 1e-7 relative, float32 within 1e-4), dtype and shape; for float64 samples,
  the same gradients of a fixed random cotangent, and (where PyTorch has forward mode for the op) the same
  forward-mode tangents for fixed random tangents of the inputs;
- value / dtype / grad / jvp: a silent difference (a jvp difference where micrograd's tangent is nearer central
  differences of the forward values than PyTorch's is counted apart, as PyTorch's inaccuracy);
- raises: micrograd raises where PyTorch does not. Explained when the message names an argument micrograd does
  not support ("not supported", "unsupported", "micrograd"), unexplained otherwise;
- torch raises: PyTorch itself rejects the sample (not counted).
tests/test_pytorch_opinfo.py runs it and asserts that no sample is wrong and every raise is explained.
"""
import argparse
import collections
import math
import sys
import types
import warnings

import numpy as np

import micrograd as mg

RANDOM = {"randn", "rand", "randint", "randn_like", "rand_like", "randint_like", "randperm", "empty", "empty_like",
          "nn.functional.dropout", "nn.functional.dropout1d", "nn.functional.dropout2d", "nn.functional.dropout3d",
          "multinomial", "bernoulli", "normal", "empty_strided", "new_empty"}
EXPLAINED = ("not supported", "unsupported", "micrograd", "not implemented")
TIE_INDICES = {"topk", "kthvalue", "sort", "argsort"}  # PyTorch does not specify which of equal elements comes first
# eigen- and singular vectors are defined up to sign (LAPACK drivers differ): values are compared after the sample's
# own output_process_fn_grad, PyTorch's normalisation of them (|V|, or U and Vh made sign-uniform)
SIGN_FREE = {"linalg.eigh", "linalg.svd", "svd"}


def torch_module():
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    return torch, op_db


def _rebound(fn):
    """A copy of OpInfo's own Python function (a lambda such as `lambda self, c, o: torch.where(c, self, o)`) in
    which the name `torch` means micrograd."""
    glob = dict(fn.__globals__)
    glob["torch"] = mg
    return types.FunctionType(fn.__code__, glob, fn.__name__, fn.__defaults__, fn.__closure__)


def resolve(op):
    """micrograd's version of an OpInfo, as f(*args, **kwargs) taking the sample's input first; None if absent."""
    name = op.name
    exists = hasattr(mg.Tensor, name) if name.startswith("__") or name in ("T", "mT", "H", "mH") else (
        hasattr(mg.Tensor, name) or _attr(name) is not None)
    if not exists:
        return None
    if isinstance(op.op, types.FunctionType) and op.op.__module__.startswith("torch.testing"):
        return _rebound(op.op)  # PyTorch's wrapper lambda, run on micrograd
    if name.startswith("__") or name in ("T", "mT", "H", "mH", "item", "to"):
        return lambda x, *a, **k: getattr(mg.Tensor, name)(x, *a, **k)
    obj = _attr(name)
    if obj is not None and callable(obj):
        return obj
    if "." not in name and hasattr(mg.Tensor, name):
        return lambda x, *a, **k: getattr(x, name)(*a, **k)
    return None


def _attr(name):
    obj = mg
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def convert(torch, obj, backend):
    """A sample's argument in micrograd's terms."""
    if isinstance(obj, torch.Tensor):
        host = obj.detach().cpu().numpy()
        t = mg.tensor(host, dtype=host.dtype, device=backend)
        if obj.requires_grad:
            t.requires_grad_(True)
        return t
    if isinstance(obj, torch.dtype):
        return getattr(mg, str(obj).rpartition(".")[2])
    if isinstance(obj, torch.device):
        return mg.device(str(obj))
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, torch.memory_format):
        return None
    if isinstance(obj, (list, tuple)):
        return type(obj)(convert(torch, o, backend) for o in obj) if not hasattr(obj, "_fields") else obj
    if isinstance(obj, dict):
        return {k: convert(torch, v, backend) for k, v in obj.items()}
    return obj


def _leaves(torch, sample):
    ts = [sample.input] + list(sample.args) + list(sample.kwargs.values())
    flat = []
    for t in ts:
        if isinstance(t, (list, tuple)):
            flat.extend(t)
        else:
            flat.append(t)
    return [t for t in flat if isinstance(t, torch.Tensor)]


def _outputs(x):
    if isinstance(x, (tuple, list)):
        return [o for item in x for o in _outputs(item)]
    return [x]


def _host(torch, o):
    if isinstance(o, torch.Tensor):
        return o.detach().cpu().numpy()
    if isinstance(o, mg.Tensor):
        return o.detach()._host()
    return np.asarray(o)


def _dtype_name(torch, o):
    if isinstance(o, torch.Tensor):
        return str(o.dtype).rpartition(".")[2]
    if isinstance(o, mg.Tensor):
        return o.dtype.name.replace("bool_", "bool")
    return type(o).__name__


def compare_values(torch, theirs, mine, dtype, loose):
    """None when equal, else what differs."""
    t_out, m_out = _outputs(theirs), _outputs(mine)
    if len(t_out) != len(m_out):
        return "value", f"{len(t_out)} outputs in PyTorch, {len(m_out)} in micrograd"
    for k, (t, m) in enumerate(zip(t_out, m_out)):
        if isinstance(t, torch.Tensor) != isinstance(m, mg.Tensor):
            if isinstance(t, torch.Tensor) or not isinstance(t, (bool, int, float)) or isinstance(m, mg.Tensor):
                return "value", f"output {k}: {type(t).__name__} in PyTorch, {type(m).__name__} in micrograd"
        if isinstance(t, torch.Tensor):
            if _dtype_name(torch, t) != _dtype_name(torch, m):
                return "dtype", f"output {k}: {_dtype_name(torch, t)} in PyTorch, {_dtype_name(torch, m)} in micrograd"
            if tuple(t.shape) != tuple(m.shape):
                return "value", f"output {k}: shape {tuple(t.shape)} in PyTorch, {tuple(m.shape)} in micrograd"
        elif type(t) is not type(m) and not (isinstance(t, float) and isinstance(m, float)):
            return "value", f"output {k}: {type(t).__name__} in PyTorch, {type(m).__name__} in micrograd"
        if loose:
            continue
        a, b = _host(torch, t), _host(torch, m)
        rtol = 1e-4 if dtype == "float32" or a.dtype == np.float32 else 1e-7
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            ok = np.allclose(b, a, rtol=rtol, atol=rtol, equal_nan=True)
        else:
            ok = np.array_equal(a, b)
        if not ok:
            return "value", f"output {k}: max |diff| {np.nanmax(np.abs(a.astype(float) - b.astype(float))) if a.size else 0}"
    return None


def compare_grads(torch, sample, t_leaves, m_leaves, theirs, mine):
    t_out = [o for o in _outputs(sample.output_process_fn_grad(theirs))
             if isinstance(o, torch.Tensor) and o.requires_grad and o.dtype.is_floating_point]
    m_out = [o for o in _outputs(sample.output_process_fn_grad(mine))
             if isinstance(o, mg.Tensor) and o.requires_grad]
    if len(t_out) != len(m_out):
        return "grad", f"{len(t_out)} differentiable outputs in PyTorch, {len(m_out)} in micrograd"
    if not t_out:
        return None
    rng = np.random.default_rng(0)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in t_out]
    t_in = [t for t in t_leaves if t.requires_grad]
    m_in = [m for t, m in zip(t_leaves, m_leaves) if t.requires_grad]
    if not t_in:
        return None
    try:
        t_g = torch.autograd.grad(t_out, t_in, [torch.tensor(s, dtype=o.dtype) for s, o in zip(seeds, t_out)],
                                  allow_unused=True)
    except RuntimeError:
        return None
    try:
        m_g = mg.grad(m_out, m_in, [mg.tensor(s, dtype=o.dtype) for s, o in zip(seeds, m_out)], allow_unused=True)
    except Exception as exc:  # noqa: BLE001  (reported)
        return "grad", f"micrograd's backward raised {type(exc).__name__}: {exc}"
    for k, (a, b) in enumerate(zip(t_g, m_g)):
        a = np.zeros(tuple(t_in[k].shape)) if a is None else a.detach().numpy(force=True)  # force: a ZeroTensor
        b = np.zeros(tuple(t_in[k].shape)) if b is None else b.detach()._host()
        if a.shape != b.shape or not np.allclose(b, a, rtol=1e-7, atol=1e-7, equal_nan=True):
            diff = np.nanmax(np.abs(a - b)) if a.shape == b.shape and a.size else "shape"
            return "grad", f"input {k}: max |diff| {diff}"
    return None


def _swap(obj, mapping):
    """obj (a sample's argument) with the tensors in `mapping` (by id) replaced by their duals."""
    if id(obj) in mapping:
        return mapping[id(obj)]
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_swap(o, mapping) for o in obj)
    if isinstance(obj, dict):
        return {k: _swap(v, mapping) for k, v in obj.items()}
    return obj


def _tangents_of(unpack, outs, kind):
    def floating(o):
        return o.dtype.is_floating_point if hasattr(o.dtype, "is_floating_point") else o.dtype.kind == "f"
    return [unpack(o).tangent for o in outs if isinstance(o, kind) and floating(o)]


def compare_jvps(torch, op, fn, sample, t_leaves, m_leaves, m_call):
    """The forward-mode tangents of the outputs for fixed random input tangents, PyTorch's against micrograd's."""
    import torch.autograd.forward_ad as tfw
    from micrograd.autograd import forward_ad as mfw
    pairs = [(t, m) for t, m in zip(t_leaves, m_leaves) if t.requires_grad and t.dtype.is_floating_point]
    if not pairs:
        return None
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(tuple(t.shape)) for t, _ in pairs]
    try:
        with tfw.dual_level():
            duals = {id(t): tfw.make_dual(t.detach(), torch.tensor(v, dtype=t.dtype)) for (t, _), v in zip(pairs, vs)}
            out = op(_swap(sample.input, duals), *_swap(tuple(sample.args), duals), **_swap(dict(sample.kwargs), duals))
            out = sample.output_process_fn_grad(out) if op.name in SIGN_FREE else out
            theirs = [None if t is None else t.detach().numpy() for t in _tangents_of(tfw.unpack_dual, _outputs(out),
                                                                                      torch.Tensor)]
    except Exception:  # noqa: BLE001  (PyTorch has no forward mode for this sample)
        return None
    m_input, m_args, m_kwargs = m_call
    try:
        with mfw.dual_level():
            duals = {id(m): mfw.make_dual(m.detach(), mg.tensor(v, dtype=m.dtype, device=m.backend))
                     for (_, m), v in zip(pairs, vs)}
            out = fn(_swap(m_input, duals), *_swap(m_args, duals), **_swap(m_kwargs, duals))
            out = sample.output_process_fn_grad(out) if op.name in SIGN_FREE else out
            mine = [None if t is None else t._host() for t in _tangents_of(
                mfw.unpack_dual, _outputs(out), mg.Tensor)]
    except Exception as exc:  # noqa: BLE001  (reported)
        return "jvp", f"micrograd's forward mode raised {type(exc).__name__}: {exc}"
    if len(theirs) != len(mine):
        return "jvp", f"{len(theirs)} floating outputs in PyTorch, {len(mine)} in micrograd"
    for k, (a, b) in enumerate(zip(theirs, mine)):
        if a is None and b is None:
            continue
        a = np.zeros_like(b) if a is None else a
        b = np.zeros_like(a) if b is None else b
        if a.shape != b.shape or not np.allclose(b, a, rtol=1e-7, atol=1e-7, equal_nan=True):
            diff = np.nanmax(np.abs(a - b)) if a.shape == b.shape and a.size else "shape"
            fd = _central_difference(torch, op, sample, pairs, vs, k)
            if fd is not None and a.shape == b.shape == fd.shape and np.nanmax(np.abs(b - fd)) < np.nanmax(
                    np.abs(a - fd)):
                return "jvp (PyTorch's is further from finite differences)", f"output {k}: max |diff| {diff}"
            return "jvp", f"output {k}: max |diff| {diff}"
    return None


def _central_difference(torch, op, sample, pairs, vs, k, eps=1e-6):
    """Output k's directional derivative along the tangents by PyTorch's forward values, (f(x+eps v) - f(x-eps v)) /
    2 eps: the referee when the two forward modes disagree."""
    def at(sign):
        moved = {id(t): (t.detach() + sign * eps * torch.tensor(v, dtype=t.dtype)) for (t, _), v in zip(pairs, vs)}
        out = op(_swap(sample.input, moved), *_swap(tuple(sample.args), moved), **_swap(dict(sample.kwargs), moved))
        outs = [o for o in _outputs(out) if isinstance(o, torch.Tensor) and o.dtype.is_floating_point]
        return outs[k].detach().numpy()
    try:
        return (at(1) - at(-1)) / (2 * eps)
    except Exception:  # noqa: BLE001
        return None


def _same_values_at(torch, name, sample, theirs, mine, m_input):
    """For ops whose indices among equal elements PyTorch leaves unspecified (its heap and quickselect orders):
    micrograd's values equal PyTorch's, and its indices pick those values from the input along the dim."""
    dim = sample.kwargs.get("dim", sample.args[1] if name in ("topk", "kthvalue") and len(sample.args) > 1 else
                            sample.args[0] if name in ("sort", "argsort") and sample.args else -1)
    if name == "argsort":
        m_idx, t_vals = mine, torch.sort(sample.input, dim, descending=sample.kwargs.get("descending", False)).values
    else:
        m_idx, t_vals = mine[1], theirs[0]
        if not np.array_equal(_host(torch, theirs[0]), _host(torch, mine[0]), equal_nan=True):
            return False
    if m_input.ndim == 0:
        return True
    keepdim = sample.kwargs.get("keepdim", sample.args[2] if len(sample.args) > 2 else False)
    keep = name == "kthvalue" and not keepdim
    idx = m_idx.unsqueeze(dim) if keep else m_idx
    picked = m_input.gather(dim, idx)
    picked = picked.squeeze(dim) if keep else picked
    return np.array_equal(picked._host(), _host(torch, t_vals), equal_nan=True)


def run_sample(torch, op, fn, sample, dtype, backend):
    """(outcome, detail) of one sample."""
    t_leaves = _leaves(torch, sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = op(sample.input, *sample.args, **sample.kwargs)
        except Exception as exc:  # noqa: BLE001
            return "torch raises", f"{type(exc).__name__}: {exc}"
        m_input = convert(torch, sample.input, backend)
        m_args = convert(torch, tuple(sample.args), backend)
        m_kwargs = convert(torch, dict(sample.kwargs), backend)
        try:
            mine = fn(m_input, *m_args, **m_kwargs)
        except Exception as exc:  # noqa: BLE001
            text = f"{type(exc).__name__}: {exc}"
            return ("raises (explained)" if any(w in str(exc) for w in EXPLAINED) else "raises"), text
    loose = op.name in RANDOM or bool(sample.kwargs.get("dropout_p")) or bool(sample.kwargs.get("p", 0)) and \
        "dropout" in op.name
    if op.name in SIGN_FREE:
        bad = compare_values(torch, sample.output_process_fn_grad(theirs), sample.output_process_fn_grad(mine), dtype,
                             loose)
    else:
        bad = compare_values(torch, theirs, mine, dtype, loose)
    if bad and op.name in TIE_INDICES and _same_values_at(torch, op.name, sample, theirs, mine, m_input):
        bad = None
    if bad:
        return bad
    if dtype == "float64" and op.supports_autograd and not loose:
        m_leaves = _mg_leaves(m_input, m_args, m_kwargs)
        if len(m_leaves) == len(t_leaves):
            bad = compare_grads(torch, sample, t_leaves, m_leaves, theirs, mine)
            if not bad and op.supports_forward_ad:
                bad = compare_jvps(torch, op, fn, sample, t_leaves, m_leaves, (m_input, m_args, m_kwargs))
            if bad:
                return bad
    return "ok", ""


def _mg_leaves(m_input, m_args, m_kwargs):
    flat = []
    for t in [m_input] + list(m_args) + list(m_kwargs.values()):
        flat.extend(t if isinstance(t, (list, tuple)) else [t])
    return [t for t in flat if isinstance(t, mg.Tensor)]


def run(ops=None, dtypes=("float64", "float32", "int64", "bool"), backend="numpy", verbose=False, limit=None):
    """{outcome: [(op, variant, dtype, detail)]} over the OpInfos micrograd has."""
    torch, op_db = torch_module()
    results = collections.defaultdict(list)
    for op in op_db:
        if ops and op.name not in ops:
            continue
        fn = resolve(op)
        if fn is None:
            continue
        for dt in dtypes:
            tdt = getattr(torch, dt)
            if tdt not in op.supported_dtypes("cpu"):
                continue
            grad = dt == "float64" and op.supports_autograd
            try:
                samples = list(op.sample_inputs("cpu", tdt, requires_grad=grad))
            except Exception:  # noqa: BLE001  (PyTorch cannot make samples for this dtype)
                continue
            for k, sample in enumerate(samples[:limit]):
                torch.manual_seed(0)
                mg.manual_seed(0)
                outcome, detail = run_sample(torch, op, fn, sample, dt, backend)
                results[outcome].append((op.name, op.variant_test_name, dt, k, detail))
                if verbose and outcome not in ("ok", "torch raises"):
                    print(f"{outcome:20s} {op.name}[{op.variant_test_name}] {dt} #{k}: {detail[:300]}")
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", default="numpy")
    p.add_argument("--ops", default="")
    p.add_argument("--dtypes", default="float64,float32,int64,bool")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    results = run(set(filter(None, args.ops.split(","))) or None, tuple(args.dtypes.split(",")), args.backend,
                  args.verbose, args.limit)
    total = sum(len(v) for k, v in results.items() if k != "torch raises")
    print(f"backend {args.backend}: {total} samples")
    for outcome in sorted(results):
        by_op = collections.Counter(r[0] for r in results[outcome])
        print(f"  {outcome:20s} {len(results[outcome]):5d}  " + (", ".join(f"{o}:{n}" for o, n in by_op.most_common(12))
                                                            if outcome != "ok" else ""))
    return 0 if all(not results[k] for k in ("value", "dtype", "grad", "jvp", "raises")) else 1


if __name__ == "__main__":
    sys.exit(main())
