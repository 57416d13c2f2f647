"""Convolution's building blocks: image patches (im2col) and their adjoint (col2im); conv2d is their composite
with a matrix product (nn.functional.conv2d), and Conv2d that composite as one op where a backend fuses it."""
from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from .util import composite_backward, recorded_backward

__all__ = ["Col2Im", "Conv2d", "Im2Col"]


class Conv2d(Function):
    """The cross-correlation of x (N, C, H, W), already padded, with weight (O, C, kh, kw) at an int stride, as one
    op: the backends' conv2d / conv2d_backward primitives (a NumPy reference over im2col and matmul; the numpy and
    numba backends run the batch in cache-sized chunks and keep no patches). Its maths is `composite(x, weight)`
    (Im2Col and a matrix product, nn.functional's), which gives the backward recorded for create_graph and the
    forward-mode rule, as BatchNorm's."""

    @staticmethod
    def forward(ctx, x, weight, stride, composite):
        ctx.stride, ctx.composite = stride, composite
        ctx.save_for_backward(x, weight)
        return x._backend.conv2d(x._data, weight._data, stride)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        if recorded_backward(g, x, weight):  # create_graph, tangents: the composite's gradient
            return composite_backward(ctx.composite, (x, weight), g) + (None, None)
        be = x._backend
        nx, nw = ctx.needs_input_grad[:2]
        dx, dw = be.conv2d_backward(g._data, x._data, weight._data, ctx.stride, nx, nw)
        wrap = (lambda a: None if a is None else Tensor._make(a, be, False, None, 0))  # noqa: E731
        return wrap(dx), wrap(dw), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tw, *_):
        return fw.through(ctx, ctx.composite, ctx.primals[:2], (tx, tw))


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
