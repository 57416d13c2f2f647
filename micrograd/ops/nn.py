"""Fused neural-net ops: max pooling with argmax indices, and softmax cross-entropy on class indices.

Both could be written as composites (im2col + max, log_softmax + gather); they are fused for speed: the
composites copy every window or keep (N, C) log-probabilities and scatter-add through generic indexing.
Each backward is itself a Function written with differentiable ops, so gradients of gradients still work.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .reduce import softmax


class MaxPool2d(Function):
    """Window maxima of x (N, C, H, W) (already padded); the gradient goes to each window's first maximum."""

    @staticmethod
    def forward(ctx, x, kh, kw, sh, sw):
        out, ctx.indices = x._backend.max_pool2d(x.data, kh, kw, sh, sw)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, indices=ctx.indices, shape=ctx.shape)


class MaxPoolScatter(Function):
    """zeros(shape) with g added at max_pool2d's plane indices; linear, so d/dg is the gather by the same indices."""

    @staticmethod
    def forward(ctx, g, indices, shape):
        ctx.indices = indices
        return g._backend.max_pool2d_backward(g.data, indices, shape)

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolGather.apply(gg, indices=ctx.indices)


class MaxPoolGather(Function):
    """out[n, c, i, j] = x[n, c].flat[indices[n, c, i, j]]; the adjoint of MaxPoolScatter."""

    @staticmethod
    def forward(ctx, x, indices):
        b = x._backend
        ctx.indices, ctx.shape = indices, x.shape
        n, c, h, w = x.shape
        planes = b.reshape(b.arange(0, n * c, 1, np.int64), (n * c, 1))
        flat = b.getitem(b.reshape(x.data, (n * c, h * w)), (planes, b.reshape(indices, (n * c, -1))))
        return b.reshape(flat, indices.shape)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, indices=ctx.indices, shape=ctx.shape)


class SoftmaxCrossEntropy(Function):
    """loss[n] = logsumexp(x[n]) - x[n, t[n]] (0 where t[n] is ignored); d/dx = g (softmax(x) - onehot(t)).

    With a `divisor` the op returns sum(loss) / divisor (0-d): the mean and sum reductions inside the op, not as
    two more recorded ops (and a scalar lifted to a tensor) per training step.
    """

    @staticmethod
    def forward(ctx, x, targets, ignore_index, divisor=None):
        bk = x._backend
        loss, ctx.lse = bk.softmax_cross_entropy(x.data, targets, ignore_index)
        ctx.save_for_backward(x)
        ctx.targets, ctx.ignore_index, ctx.divisor = targets, ignore_index, divisor
        return loss if divisor is None else bk.div(bk.sum(loss, (0,), False), divisor)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return SoftmaxCrossEntropyGrad.apply(x, g, targets=ctx.targets, lse=ctx.lse, ignore_index=ctx.ignore_index,
                                             divisor=ctx.divisor)


class SoftmaxCrossEntropyGrad(Function):
    """d[n] = g[n] (p[n] - onehot(t[n])) with p = softmax(x), 0 on ignored rows; with a `divisor`, g is the
    0-d gradient of sum(loss) / divisor and g[n] = g / divisor.

    d/dx (against gg) = g p (gg - sum(gg p)); d/dg = sum(gg (p - onehot(t))), both zero on ignored rows
    (summed over rows and divided by the divisor for a 0-d g).
    """

    @staticmethod
    def forward(ctx, x, g, targets, lse, ignore_index, divisor=None):
        ctx.save_for_backward(x, g)
        ctx.targets, ctx.ignore_index, ctx.divisor = targets, ignore_index, divisor
        bk = x._backend
        rows = g.data
        if divisor is not None:  # one contiguous row vector, as the fused kernels take it
            rows = bk.mul(bk.full((x.shape[0],), 1, x.dtype), bk.div(rows, divisor))
        return bk.softmax_cross_entropy_backward(x.data, targets, lse, rows, ignore_index)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        b = x._backend
        nx, ng = ctx.needs_input_grad
        valid = b.astype(b.compare("ne", ctx.targets, ctx.ignore_index), x.dtype)
        valid_t = Tensor._make(valid, b, False, None, 0)
        p = softmax(x, axis=1)
        rows = g if ctx.divisor is None else g / ctx.divisor
        gx = dg = None
        if nx:
            gx = (rows * valid_t).unsqueeze(1) * p * (gg - (gg * p).sum(axis=1, keepdims=True))
        if ng:
            safe = b.mul(ctx.targets, b.astype(valid, np.int64))  # ignored rows pick column 0, then get 0
            picked = gg[b.arange(0, x.shape[0], 1, np.int64), safe]
            dg = ((gg * p).sum(axis=1) - picked) * valid_t
            if ctx.divisor is not None:
                dg = dg.sum() / ctx.divisor
        return gx, dg


def max_pool2d(x, kernel, stride):
    """Window maxima of an already padded x (N, C, H, W) for kernel and stride pairs."""
    return MaxPool2d.apply(x, kh=kernel[0], kw=kernel[1], sh=stride[0], sw=stride[1])


def softmax_cross_entropy(logits, targets, ignore_index, divisor=None):
    """Per-row cross-entropy of logits (N, C) against validated host int64 class indices (N,); with a
    divisor, their sum divided by it (the mean or sum reduction)."""
    b = logits._backend
    return SoftmaxCrossEntropy.apply(logits, targets=b.asarray(targets, np.int64), ignore_index=ignore_index,
                                     divisor=divisor)
