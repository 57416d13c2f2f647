"""Convolution's building blocks: image patches (im2col) and their adjoint (col2im); conv2d is their composite
with a matrix product (nn.functional.conv2d)."""
from ..autograd import Function
from ..autograd import forward as fw

__all__ = ["Col2Im", "Im2Col"]


class Im2Col(Function):
    """Patches (N, C, kh, kw, OH, OW) of an image (N, C, H, W); the adjoint is Col2Im."""

    @staticmethod
    def forward(ctx, x, kh, kw, stride):
        ctx.shape, ctx.stride = x.shape, stride
        return x._backend.im2col(x._data, kh, kw, stride)

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, shape=ctx.shape, stride=ctx.stride), None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        kh, kw = ctx.outs[0].shape[2:4]
        return fw.merged(ctx, t, lambda u: Im2Col.apply(u, kh=kh, kw=kw, stride=ctx.stride))


class Col2Im(Function):
    """Patches summed back into an image; the adjoint is Im2Col."""

    @staticmethod
    def forward(ctx, cols, shape, stride):
        ctx.k, ctx.stride = cols.shape[2:4], stride
        return cols._backend.col2im(cols._data, shape, stride)

    @staticmethod
    def backward(ctx, g):
        return Im2Col.apply(g, kh=ctx.k[0], kw=ctx.k[1], stride=ctx.stride), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        shape = tuple(ctx.outs[0].shape)
        return fw.merged(ctx, t, lambda u: Col2Im.apply(u, shape=(u.shape[0],) + shape[1:], stride=ctx.stride))
