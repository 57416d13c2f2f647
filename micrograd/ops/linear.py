"""The Linear layer's op: x @ w^T + b for 2-d x, and its gradients as one op of their own."""
from ..autograd import Function
from ..autograd import forward as fw

__all__ = ["Linear", "LinearGrad"]


class Linear(Function):
    """x @ w^T + b for 2-d x (b optional); d/dx = g @ w, d/dw = g^T @ x, d/db = sum of g over rows.

    Fused for speed: the composite makes a transpose node per step, adds the bias as a broadcast op and
    leaves d/dw as a transposed view that backward must copy; here d/dw comes out of one product in w's layout.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        bk = x._backend
        out = bk.matmul(x._data, bk.transpose(w._data, (1, 0)))
        if b is None:
            return out
        # The product is a fresh array: add the bias in place unless promotion needs a wider result.
        return bk.axpby_(out, 1, b._data, 1) if b._data.dtype == out.dtype else bk.add(out, b._data)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        which = (needs[0], needs[1], len(needs) == 3 and needs[2])
        got = LinearGrad.apply(g, x, w, which=which)
        got = iter(got if isinstance(got, tuple) else (got,))
        grads = tuple(next(got) if want else None for want in which)
        return grads[:len(needs)]

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tw, tb=None):
        x, w = ctx.primals[:2]
        terms = [(tx, x, None) if tx is None else (tx @ w.mT, x, None), (None if tw is None else x @ tw.mT, w, None),
                 (tb, x, None)]
        return fw.combine(ctx, ctx.outs[0], terms)


class LinearGrad(Function):
    """Linear's gradients from g (N, out), as one op: g @ w, g^T @ x and the sum of g's rows, each only where
    `which` (for x, w, b) asks, returned in that order (one Tensor, or a tuple for several).

    One op instead of four (two products, a transpose, a sum) per layer and step. Its backward, for gradients
    of gradients, is the adjoint of those three products written with differentiable ops: given ggx, ggw, ggb,
    d/dg = ggx @ w^T + x @ ggw^T + ggb, d/dx = g @ ggw, d/dw = g^T @ ggx.
    """

    @staticmethod
    def forward(ctx, g, x, w, which):
        bk = g._backend
        ctx.save_for_backward(g, x, w)
        ctx.which = which
        out = []
        if which[0]:
            out.append(bk.matmul(g._data, w._data))
        if which[1]:
            out.append(bk.matmul(bk.transpose(g._data, (1, 0)), x._data))
        if which[2]:
            out.append(bk.sum(g._data, (0,), False))
        return out[0] if len(out) == 1 else tuple(out)

    @staticmethod
    def backward(ctx, *ggs):
        g, x, w = ctx.saved_tensors
        got = iter(ggs)
        ggx, ggw, ggb = (next(got) if want else None for want in ctx.which)
        need_g, need_x, need_w = ctx.needs_input_grad[:3]
        dg = dx = dw = None
        if need_g:
            for term in (ggx is not None and ggx @ w.T, ggw is not None and x @ ggw.T, ggb):
                if term is not None and term is not False:
                    dg = term if dg is None else dg + term
            if dg.shape != g.shape:  # ggb alone
                dg = dg.broadcast_to(g.shape)
        if need_x and ggw is not None:
            dx = g @ ggw
        if need_w and ggx is not None:
            dw = g.T @ ggx
        return dg, dx, dw, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tg, tx, tw):
        g, x, w = ctx.primals[:3]
        outs, out = iter(ctx.outs), []
        if ctx.which[0]:
            o = next(outs)
            out.append(fw.combine(ctx, o, [(None if tg is None else tg @ w, o, None),
                                           (None if tw is None else g @ tw, o, None)]))
        if ctx.which[1]:
            o = next(outs)
            out.append(fw.combine(ctx, o, [(None if tg is None else tg.mT @ x, o, None),
                                           (None if tx is None else g.mT @ tx, o, None)]))
        if ctx.which[2]:
            out.append(None if tg is None else tg.sum(fw.axis(ctx, 0)))
        return out[0] if len(out) == 1 else tuple(out)
