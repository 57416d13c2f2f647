"""Recurrent ops: one direction of one LSTM layer over a whole sequence, as one op."""
from .. import autograd
from ..autograd import Function, is_grad_enabled
from ..autograd import forward as fw
from ..tensor import Tensor
from .movement import Unbind
from .shape import stack
from .util import recorded_backward

__all__ = ["LSTMLayer", "lstm_layer"]


def lstm_composite(proj, h0, c0, w_hh, reverse):
    """LSTMLayer's function with recorded per-step ops: what it differentiates under create_graph."""
    n = h0.shape[-1]
    steps = Unbind.apply(proj, axis=0)
    w_t = w_hh.T
    h, c = h0, c0
    hs = [None] * len(steps)
    for t in step_order(len(steps), reverse):
        z = steps[t] + h @ w_t
        i, f, g, o = (z[:, k * n:(k + 1) * n] for k in range(4))
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        hs[t] = h
    return stack(hs, axis=0), h, c


def step_order(steps, reverse):
    """The time steps in processing order."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _stack(bk, arrays):
    """Backend arrays of one shape stacked along a new leading axis."""
    return bk.concatenate([bk.reshape(a, (1,) + a.shape) for a in arrays], 0)


class LSTMLayer(Function):
    """One direction of one LSTM layer over a whole sequence, as one op.

    From proj (T, N, 4H) = x_t W_ih^T + b_ih + b_hh (all steps in one product beforehand), the initial state
    h0, c0 (N, H) and W_hh (4H, H), it steps t = 0 .. T-1 (T-1 .. 0 with reverse):

        z_t = proj_t + h_{t-1} W_hh^T;  (h_t, c_t) = the backend's lstm_cell(z_t, c_{t-1})

    and returns (out (T, N, H) holding every h_t, h_n, c_n); all four inputs share one float dtype. Recorded
    per step, the same computation costs about thirty op applications per step forwards and backwards, which
    dominated the time of small recurrent models; as one op the loop runs on backend primitives only.

    Backward, for first derivatives: the reverse loop runs the fused lstm_cell_backward and one matmul per
    step, and d/dW_hh comes out of one (4H, T N) @ (T N, H) product at the end. Under create_graph it
    recomputes the sequence with recorded ops (`lstm_composite`) and differentiates that, so gradients of
    gradients flow as through any composite.
    """

    @staticmethod
    def forward(ctx, proj, h0, c0, w_hh, reverse=False):
        bk = proj._backend
        steps = proj.shape[0]
        w_t = bk.copy(bk.transpose(w_hh._data, (1, 0)))  # contiguous: BLAS multiplies it ~20% faster, T times
        h, c = h0._data, c0._data
        hs, cells, acts = [None] * steps, [None] * steps, [None] * steps
        for t in step_order(steps, reverse):
            z = bk.matmul(h, w_t)
            bk.axpby_(z, 1, bk.getitem(proj._data, (t,)), 1)
            cells[t] = c
            h, c, acts[t] = bk.lstm_cell(z, c)
            hs[t] = h
        out = _stack(bk, hs)
        ctx.save_for_backward(proj, h0, c0, w_hh)
        ctx.reverse = reverse
        ctx.steps = (out, cells, acts)
        return out, h, c

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        proj, h0, c0, w_hh = ctx.saved_tensors
        needs = ctx.needs_input_grad[:4]
        create = is_grad_enabled()
        if recorded_backward(g_out, g_h, g_c, *ctx.saved_tensors):
            # create_graph, or gradients with forward-mode tangents: differentiate the recorded composite
            wanted = [t for t, need in zip((proj, h0, c0, w_hh), needs) if need]
            with autograd.enable_grad():
                found = iter(autograd.grad(lstm_composite(proj, h0, c0, w_hh, ctx.reverse), wanted,
                                           (g_out, g_h, g_c), create_graph=create, allow_unused=True))
            return tuple(next(found) if need else None for need in needs) + (None,)
        bk = proj._backend
        out, cells, acts = ctx.steps
        steps, n = out.shape[0], out.shape[2]
        w = w_hh._data
        gh, gc, gout = g_h._data, g_c._data, g_out._data
        dproj = bk.zeros((steps,) + gout.shape[1:-1] + (4 * n,), out.dtype)  # each step writes its slot
        for t in reversed(step_order(steps, ctx.reverse)):
            gh = bk.add(gh, bk.getitem(gout, (t,)))
            dz, gc = bk.lstm_cell_backward(gh, gc, acts[t], cells[t], bk.getitem(dproj, (t,)))
            gh = bk.matmul(dz, w)
        dw = None
        if needs[3]:  # sum over t of dz_t^T h_{t-1}, with h_{t-1} the state each step started from
            first = bk.reshape(h0._data, (1,) + h0.shape)
            before = [bk.getitem(out, (slice(1, None),)), first] if ctx.reverse \
                else [first, bk.getitem(out, (slice(0, steps - 1),))]
            prev = bk.reshape(bk.concatenate(before, 0), (-1, n))
            dw = bk.matmul(bk.transpose(bk.reshape(dproj, (-1, 4 * n)), (1, 0)), prev)
        wrap = (lambda a: None if a is None else Tensor._make(a, bk, False, None, 0))
        return (wrap(dproj) if needs[0] else None, wrap(gh) if needs[1] else None,
                wrap(gc) if needs[2] else None, wrap(dw), None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, *tangents):
        primals = ctx.primals[:4]
        return fw.through(ctx, lambda *p: lstm_composite(*p, ctx.reverse), primals, tangents[:4])


def lstm_layer(proj, h0, c0, w_hh, reverse=False):
    """One LSTM layer's direction over a sequence (see LSTMLayer): (out (T, N, H), h_n, c_n).

    Mixed dtypes (say a float64 input with a float32 state) take the recorded composite, which promotes as
    every op does; the fused op works in one dtype."""
    args = (proj, h0, c0, w_hh)
    if len({a.dtype for a in args}) > 1:
        return lstm_composite(*args, reverse)
    return LSTMLayer.apply(*args, reverse)
