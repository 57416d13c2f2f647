"""Batch and layer normalisation as one op each. BatchNorm: the per-channel affine map (x - mean) invstd weight + bias
of x (N, C, ...), with the statistics given (the batch's in training, the running ones in eval). LayerNorm: each
row of x (R, D) normalised by its own statistics, then scaled and shifted.

Their maths is defined once, by composites in nn.functional (`_batch_norm_composite`, `_layer_norm_composite`: ops
over ops, so they can be differentiated any number of times); these Functions run the backends' fused primitives
(batch_norm_apply / batch_norm_backward, layer_norm / layer_norm_backward: each a NumPy reference plus numba
kernels) for the forward and the first backward, and the composite where more is asked: a backward recorded for
create_graph, and the forward-mode rule.
"""
from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from .util import composite_backward, recorded_backward

__all__ = ["BatchNorm", "LayerNorm"]


class BatchNorm(Function):
    """y = (x - mean) invstd weight + bias per channel (axis 1). In training, mean and invstd are the batch's own
    (functions of x: their gradient flows), otherwise constants. `composite(x, weight, bias)` is the same map
    written with ops (for create_graph and forward mode)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, invstd, training, composite):
        ctx.mean, ctx.invstd, ctx.training, ctx.composite = mean, invstd, training, composite
        ctx.save_for_backward(x, weight, bias)
        return x._backend.batch_norm_apply(x._data, mean, invstd, None if weight is None else weight._data,
                                           None if bias is None else bias._data)

    @staticmethod
    def backward(ctx, g):
        x, weight, bias = ctx.saved_tensors
        if recorded_backward(g, x, weight, bias):  # create_graph or tangents: the composite's gradient
            return composite_backward(ctx.composite, (x, weight, bias), g) + (None, None, None, None)
        be = x._backend
        gx, gw, gb = be.batch_norm_backward(g._data, x._data, ctx.mean, ctx.invstd,
                                            None if weight is None else weight._data, ctx.training)
        wrap = (lambda a: Tensor._make(a, be, False, None, 0))  # noqa: E731
        return (wrap(gx), None if weight is None else wrap(gw.astype(weight._data.dtype, copy=False)),
                None if bias is None else wrap(gb.astype(bias._data.dtype, copy=False)), None, None, None, None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tw, tb, *_):
        return fw.through(ctx, ctx.composite, ctx.primals[:3], (tx, tw, tb))


class LayerNorm(Function):
    """y = (x - mean) invstd weight + bias over each row of x (R, D) (weight, bias (D,) or None).
    `composite(x, weight, bias)` is the same map written with ops."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, composite):
        ctx.composite = composite
        y, ctx.mean, ctx.invstd = x._backend.layer_norm(x._data, None if weight is None else weight._data,
                                                        None if bias is None else bias._data, eps)
        ctx.save_for_backward(x, weight, bias)
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, bias = ctx.saved_tensors
        if recorded_backward(g, x, weight, bias):  # create_graph or tangents: the composite's gradient
            return composite_backward(ctx.composite, (x, weight, bias), g) + (None, None)
        be = x._backend
        gx, gw, gb = be.layer_norm_backward(g._data, x._data, ctx.mean, ctx.invstd,
                                            None if weight is None else weight._data)
        wrap = (lambda a: Tensor._make(a, be, False, None, 0))  # noqa: E731
        return (wrap(gx), None if weight is None else wrap(gw), None if bias is None else wrap(gb), None, None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tw, tb, *_):
        return fw.through(ctx, ctx.composite, ctx.primals[:3], (tx, tw, tb))
