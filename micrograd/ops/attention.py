"""Scaled dot-product attention as one op: softmax(q k^T scale + mask) v, where a row of scores that is -inf
throughout (every position masked) gets weights 0, not NaN (PyTorch's _safe_softmax).

Its maths is defined once, by the composite nn.functional.scaled_dot_product_attention builds (matmuls, a where or
an add for the mask, softmax, so it can be differentiated any number of times). This Function runs the backends'
primitives for the forward and the first backward: two matmuls and a fused masked softmax forward (keeping
only the weights p), and backward

    dv = p^T g,   dp = g v^T,   ds = p (dp - sum(dp p)) scale   (softmax_backward),   dq = ds k,   dk = ds^T q

and the composite where more is asked (a backward recorded for create_graph, the forward-mode rule).
"""
from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from .util import composite_backward, recorded_backward

__all__ = ["ScaledDotProductAttention"]


def _mT(be, a):
    axes = tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2)
    return be.transpose(a, axes)


class ScaledDotProductAttention(Function):
    """softmax(q k^T scale + bias, masked where `keep` is False) v for q (..., L, E), k (..., S, E), v (..., S, Ev)
    of one float dtype and one batch shape. `keep`: a backend bool array broadcastable to (..., L, S) or None;
    `bias`: a backend float array added to the scores, or None. `composite(q, k, v)` is the same map as ops."""

    @staticmethod
    def forward(ctx, q, k, v, keep, bias, scale, composite):
        be = q._backend
        scores = be.mul(be.matmul(q._data, _mT(be, k._data)), scale)
        if bias is not None:
            scores = be.add(scores, bias)
        p = be.masked_softmax(scores, keep)
        ctx.p, ctx.scale, ctx.composite = p, scale, composite
        ctx.save_for_backward(q, k, v)
        return be.matmul(p, v._data)

    @staticmethod
    def backward(ctx, g):
        q, k, v = ctx.saved_tensors
        if recorded_backward(g, q, k, v):  # create_graph, tangents: the composite's gradient
            return composite_backward(ctx.composite, (q, k, v), g) + (None, None, None, None)
        be = q._backend
        nq, nk, nv = ctx.needs_input_grad[:3]
        p, gd = ctx.p, g._data
        dq = dk = dv = None
        if nv:
            dv = be.matmul(_mT(be, p), gd)
        if nq or nk:
            ds = be.mul(be.softmax_backward(p, be.matmul(gd, _mT(be, v._data)), p.ndim - 1), ctx.scale)
            dq = be.matmul(ds, k._data) if nq else None
            dk = be.matmul(_mT(be, ds), q._data) if nk else None
        wrap = (lambda a: None if a is None else Tensor._make(a, be, False, None, 0))  # noqa: E731
        return wrap(dq), wrap(dk), wrap(dv), None, None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tq, tk, tv, *_):
        return fw.through(ctx, ctx.composite, ctx.primals[:3], (tq, tk, tv))
