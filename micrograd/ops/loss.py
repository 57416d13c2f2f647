"""Fused losses: softmax cross-entropy on class indices (and its gradient, an op of its own), and binary
cross-entropy with PyTorch's clamped logarithms.

Softmax cross-entropy could be written as log_softmax + gather; it is fused for speed (the composite keeps
(N, C) log-probabilities and scatter-adds through generic indexing). Each backward is written with
differentiable ops, so gradients of gradients still work.
"""
import numpy as np

from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from .reduce import softmax

__all__ = ["BinaryCrossEntropy", "SoftmaxCrossEntropy", "SoftmaxCrossEntropyGrad", "softmax_cross_entropy"]


class SoftmaxCrossEntropy(Function):
    """loss[n] = logsumexp(x[n]) - x[n, t[n]] (0 where t[n] is ignored); d/dx = g (softmax(x) - onehot(t)).

    With a `divisor` the op returns sum(loss) / divisor (0-d): the mean and sum reductions inside the op, not as
    two more recorded ops (and a scalar lifted to a tensor) per training step.
    """

    @staticmethod
    def forward(ctx, x, targets, ignore_index, divisor=None):
        bk = x._backend
        loss, ctx.lse = bk.softmax_cross_entropy(x._data, targets, ignore_index)
        ctx.save_for_backward(x)
        ctx.targets, ctx.ignore_index, ctx.divisor = targets, ignore_index, divisor
        return loss if divisor is None else bk.div(bk.sum(loss, (0,), False), divisor)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return SoftmaxCrossEntropyGrad.apply(x, g, targets=ctx.targets, lse=ctx.lse, ignore_index=ctx.ignore_index,
                                             divisor=ctx.divisor)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x = ctx.primals[0]
        p, valid, picked = _softmax_parts(ctx, x, t)
        rows = ((t * p).sum(-1) - picked) * valid
        return rows if ctx.divisor is None else rows.sum(-1) / ctx.divisor


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
        rows = g._data
        if divisor is not None:  # one contiguous row vector, as the fused kernels take it
            rows = bk.mul(bk.full((x.shape[0],), 1, x.dtype), bk.div(rows, divisor))
        return bk.softmax_cross_entropy_backward(x._data, targets, lse, rows, ignore_index)

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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tg, *_):
        x, g = ctx.primals[:2]
        b = x._backend
        p = softmax(x, axis=1)
        valid = Tensor._make(b.astype(b.compare("ne", ctx.targets, ctx.ignore_index), x.dtype), b, False, None, 0)
        rows = (g if ctx.divisor is None else g / ctx.divisor) * valid
        total = None
        if tx is not None:
            total = rows.unsqueeze(-1) * p * (tx - (tx * p).sum(-1, keepdim=True))
        if tg is not None:
            safe = b.mul(ctx.targets, b.astype(b.compare("ne", ctx.targets, ctx.ignore_index), np.int64))
            onehot = Tensor._make(b.astype(b.compare("eq", b.reshape(safe, (-1, 1)),
                                                     b.reshape(b.arange(0, x.shape[1], 1, np.int64), (1, -1))),
                                           x.dtype), b, False, None, 0)
            tg = tg if ctx.divisor is None else fw.aligned(ctx, tg, 1) / ctx.divisor
            term = fw.aligned(ctx, tg, 1).unsqueeze(-1) * (valid.unsqueeze(-1) * (p - onehot))
            total = term if total is None else total + term
        return total


def _softmax_parts(ctx, x, t):
    """softmax(x), the rows' validity (0 where ignored) and t[..., n, target[n]], for the jvp rule."""
    b = x._backend
    ok = b.compare("ne", ctx.targets, ctx.ignore_index)
    valid = Tensor._make(b.astype(ok, x.dtype), b, False, None, 0)
    safe = b.mul(ctx.targets, b.astype(ok, np.int64))  # ignored rows pick column 0, then get 0
    picked = t[(Ellipsis, b.arange(0, x.shape[0], 1, np.int64), safe)]
    return softmax(x, axis=1), valid, picked


def softmax_cross_entropy(logits, targets, ignore_index, divisor=None):
    """Per-row cross-entropy of logits (N, C) against validated host int64 class indices (N,); with a
    divisor, their sum divided by it (the mean or sum reduction)."""
    b = logits._backend
    return SoftmaxCrossEntropy.apply(logits, targets=b.asarray(targets, np.int64), ignore_index=ignore_index,
                                     divisor=divisor)


_BCE_EPS = float(np.float32(1e-12))  # PyTorch clamps x (1-x) at its EPSILON, a float32 constant


class BinaryCrossEntropy(Function):
    """-(t log(x) + (1-t) log(1-x)), each log clamped at -100 as PyTorch.

    d/dx = (x - t) / max(x (1-x), 1e-12) and d/dt = log(1-x) - log(x) (clamped likewise). Fused for
    stability: the composite's gradient is 0/0 = NaN where x is exactly 0 or 1 (a saturated float32
    sigmoid), while PyTorch's rule, used here, stays finite.
    """

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return -(t * x.log().clip(min=-100.0) + (1 - t) * (1 - x).log().clip(min=-100.0))

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        nx, nt = ctx.needs_input_grad
        gx = g * (x - t) / (x * (1 - x)).clip(min=_BCE_EPS) if nx else None
        gt = g * ((1 - x).log().clip(min=-100.0) - x.log().clip(min=-100.0)) if nt else None
        return gx, gt

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tt):
        x, t = ctx.primals
        dx = None if tx is None else (x - t) / (x * (1 - x)).clip(min=_BCE_EPS)
        dt = None if tt is None else (1 - x).log().clip(min=-100.0) - x.log().clip(min=-100.0)
        return fw.combine(ctx, ctx.outs[0], [(tx, x, dx), (tt, t, dt)])
