"""Matrix products."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .movement import Permute
from .util import export, lift, unbroadcast

__all__ = ["MatMul", "matmul"]


class MatMul(Function):
    """a @ b (2-d or more, batch dims broadcast); d/da = g @ b^T, d/db = a^T @ g."""

    @staticmethod
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs:  # recording: backward needs the shapes and the operands each gradient reads
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
            ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        if len(sa) == 2 and len(sb) == 2:  # shapes known to fit: skip matmul()'s checks (hot path)
            ga = MatMul.apply(g, Permute.apply(b, axes=(1, 0))) if na else None
            gb = MatMul.apply(Permute.apply(a, axes=(1, 0)), g) if nb else None
            return ga, gb
        ga = unbroadcast(g @ b.mT, sa) if na else None
        gb = unbroadcast(a.mT @ g, sb) if nb else None
        return ga, gb


@export(method=False)
def matmul(a, b):
    """a @ b with NumPy's rules: 1-d operands are promoted to matrices and the added axis removed."""
    if not isinstance(a, Tensor):
        a = lift(a, b, "matmul")
    if not isinstance(b, Tensor):
        b = lift(b, a, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension; got {a.shape} @ {b.shape}")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ; got {a.shape} @ {b.shape}")
    try:
        if a2.ndim > 2 or b2.ndim > 2:
            np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions cannot be broadcast; got {a.shape} @ {b.shape}") from None
    out = MatMul.apply(a2, b2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    if a.ndim == 1:
        out = out.squeeze(-2 if b.ndim > 1 else -1)
    return out
