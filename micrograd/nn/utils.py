"""Gradient utilities: clip_grad_norm_ and clip_grad_value_ (`micrograd.nn.utils`)."""
import math

from ..factories import tensor
from ..tensor import Tensor


def _grads(op, parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expects Tensors (e.g. model.parameters()); got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their joint norm is at most `max_norm`, as PyTorch does.

    The norm is taken over all gradients together, as if concatenated; every gradient is multiplied
    by min(1, max_norm / (total_norm + 1e-6)).

    Args:
        parameters: a Tensor or an iterable of Tensors (their `.grad` is clipped; None grads are skipped).
        norm_type: p of the p-norm, or float("inf") for the largest absolute value.
        error_if_nonfinite: raise if the total norm is NaN or infinite.
    Returns:
        The total norm of the gradients before clipping, as a 0-d float Tensor.
    """
    grads = _grads("clip_grad_norm_", parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return tensor(0.0)
    norms = []
    for g in grads:
        b, a = g._backend, g._backend.abs(g._data)
        if norm_type == math.inf:
            norms.append(float(b.to_numpy(b.max(a, None, False))) if a.size else 0.0)
        else:
            norms.append(float(b.to_numpy(b.sum(b.pow(a, norm_type), None, False))) ** (1 / norm_type))
    if norm_type == math.inf:
        total = max(norms)
    else:
        total = math.fsum(n ** norm_type for n in norms) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           f"pass error_if_nonfinite=False to clip anyway")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        b = g._backend
        b.assign_(g._data, b.mul(g._data, coef))
    return tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient elementwise to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads("clip_grad_value_", parameters):
        b = g._backend
        b.assign_(g._data, b.clip(g._data, -clip_value, clip_value))
