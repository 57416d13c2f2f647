"""Max pooling as one op that keeps each window's argmax: forward, and the scatter/gather pair of its backward.

It could be written as a composite (im2col + max); fused for speed: the composite copies every window and
scatter-adds its gradient through generic indexing. Each backward is itself a Function written with
differentiable ops, so gradients of gradients still work.
"""
import numpy as np

from ..autograd import Function
from ..autograd import forward as fw

__all__ = ["MaxPool2d", "MaxPoolGather", "MaxPoolScatter", "max_pool2d"]


class MaxPool2d(Function):
    """Window maxima of x (N, C, H, W) (already padded); the gradient goes to each window's first maximum."""

    @staticmethod
    def forward(ctx, x, kh, kw, sh, sw):
        out, ctx.indices = x._backend.max_pool2d(x._data, kh, kw, sh, sw)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, indices=ctx.indices, shape=ctx.shape)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return fw.merged(ctx, t, lambda u: MaxPoolGather.apply(u, indices=fw.tiled(ctx, ctx.indices)))


class MaxPoolScatter(Function):
    """zeros(shape) with g added at max_pool2d's plane indices; linear, so d/dg is the gather by the same indices."""

    @staticmethod
    def forward(ctx, g, indices, shape):
        ctx.indices = indices
        return g._backend.max_pool2d_backward(g._data, indices, shape)

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolGather.apply(gg, indices=ctx.indices)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        shape = tuple(ctx.outs[0].shape)
        return fw.merged(ctx, t, lambda u: MaxPoolScatter.apply(u, indices=fw.tiled(ctx, ctx.indices),
                                                                shape=(u.shape[0],) + shape[1:]))


class MaxPoolGather(Function):
    """out[n, c, i, j] = x[n, c].flat[indices[n, c, i, j]]; the adjoint of MaxPoolScatter."""

    @staticmethod
    def forward(ctx, x, indices):
        b = x._backend
        ctx.indices, ctx.shape = indices, x.shape
        n, c, h, w = x.shape
        planes = b.reshape(b.arange(0, n * c, 1, np.int64), (n * c, 1))
        flat = b.getitem(b.reshape(x._data, (n * c, h * w)), (planes, b.reshape(indices, (n * c, -1))))
        return b.reshape(flat, indices.shape)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, indices=ctx.indices, shape=ctx.shape)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return fw.merged(ctx, t, lambda u: MaxPoolGather.apply(u, indices=fw.tiled(ctx, ctx.indices)))


def max_pool2d(x, kernel, stride):
    """Window maxima of an already padded x (N, C, H, W) for kernel and stride pairs."""
    return MaxPool2d.apply(x, kh=kernel[0], kw=kernel[1], sh=stride[0], sw=stride[1])
