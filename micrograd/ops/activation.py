"""Activation functions and their gradients: tanh, sigmoid, relu (each gradient a fused op of its own, so that
grad-of-grad works), and erf for the exact GELU."""
import math

from ..autograd import Function
from ..autograd import forward as fw
from .elementwise import sign, unary, where

__all__ = ["Erf", "Relu", "ReluGrad", "Sigmoid", "SigmoidGrad", "Tanh", "TanhGrad", "erf", "relu", "sigmoid", "tanh"]


class Tanh(Function):
    """tanh(x); d/dx = 1 - tanh(x)^2."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.tanh(x._data)

    @staticmethod
    def backward(ctx, g):
        return TanhGrad.apply(g, ctx.output())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        y = ctx.outs[0]
        return TanhGrad.apply(t, y) if t.shape == y.shape else t * (1 - y * y)


class Sigmoid(Function):
    """s(x) = 1 / (1 + exp(-x)); d/dx = s(x) (1 - s(x))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.sigmoid(x._data)

    @staticmethod
    def backward(ctx, g):
        return SigmoidGrad.apply(g, ctx.output())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        y = ctx.outs[0]
        return SigmoidGrad.apply(t, y) if t.shape == y.shape else t * (y * (1 - y))


class Relu(Function):
    """max(x, 0); d/dx = 1 where x > 0, else 0."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.relu(x._data)

    @staticmethod
    def backward(ctx, g):
        return ReluGrad.apply(g, ctx.output())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        y = ctx.outs[0]
        return ReluGrad.apply(t, y) if t.shape == y.shape else t * (y > 0).to(y.dtype)


# The activations' gradients given their outputs, each fused into one backend pass (the composite rules
# made two or three temporaries per backward); each has its own backward, so grad-of-grad still works.

class ReluGrad(Function):
    """g [y > 0] (relu's gradient, y its output); d/dg = [y > 0], d/dy = 0."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        return g._backend.relu_backward(g._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(gg, y), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tg, ty):
        if tg is None:
            return fw.zeros(ctx, ctx.outs[0])
        y = ctx.primals[1]
        return ReluGrad.apply(tg, y) if tg.shape == y.shape else tg * (y > 0).to(y.dtype)


class TanhGrad(Function):
    """g (1 - y^2) (tanh's gradient, y its output); d/dg = 1 - y^2, d/dy = -2 g y."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g._backend.tanh_backward(g._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ng, ny = ctx.needs_input_grad
        return TanhGrad.apply(gg, y) if ng else None, -2 * gg * g * y if ny else None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tg, ty):
        g, y = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(tg, g, 1 - y * y), (ty, y, -2 * g * y)])


class SigmoidGrad(Function):
    """g y (1 - y) (the sigmoid's gradient, y its output); d/dg = y (1 - y), d/dy = g (1 - 2y)."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g._backend.sigmoid_backward(g._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ng, ny = ctx.needs_input_grad
        return SigmoidGrad.apply(gg, y) if ng else None, gg * g * (1 - 2 * y) if ny else None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tg, ty):
        g, y = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(tg, g, y * (1 - y)), (ty, y, g * (1 - 2 * y))])



# Cody's rational Chebyshev approximations (W. J. Cody, Math. Comp. 23 (1969) 631-637; netlib specfun
# CALERF): erf on |x| <= 0.46875, erfc on 0.46875..4 and beyond 4. Measured against math.erf on a dense
# grid over [-8, 8] and down to 1e-300: relative error below 5e-16 in float64 (about 1 ulp in float32).
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
          8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
          2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
          3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
          6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
          2.33520497626869185e-3)


def _ratio(z, p, q, n):
    """(((p[n] z + p0) z + p1) z ...) / ((z + q0) z + ...), Cody's nested form with n inner steps."""
    num, den = p[-1] * z, z
    for i in range(n):
        num, den = (num + p[i]) * z, (den + q[i]) * z
    return num + p[n], den + q[n]


class Erf(Function):
    """erf(x); d/dx = 2/sqrt(pi) exp(-x^2).

    A Function rather than a composite: the approximation records ~60 ops per call, and differentiating
    it would give the derivative of the approximation instead of the exact one used here.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = x.abs()
        small = y.clip(max=0.5)
        num, den = _ratio(small * small, _ERF_A, _ERF_B, 3)
        erf_small = x * num / den
        mid = y.clip(0.46875, 4.0)
        num, den = _ratio(mid, _ERF_C, _ERF_D, 7)
        erfc_mid = num / den * (-mid * mid).exp()
        big = y.clip(min=4.0)
        inv = 1 / (big * big)
        num, den = _ratio(inv, _ERF_P, _ERF_Q, 4)
        erfc_big = (1 / math.sqrt(math.pi) - inv * num / den) / big * (-big * big).exp()
        erfc = where(y <= 4.0, erfc_mid, erfc_big)
        return where(y <= 0.46875, erf_small, sign(x) * (1 - erfc))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((2 / math.sqrt(math.pi)) * (-x * x).exp())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        x = ctx.primals[0]
        return t * ((2 / math.sqrt(math.pi)) * (-x * x).exp())



tanh = unary(Tanh, "tanh(x) elementwise.")
sigmoid = unary(Sigmoid, "1 / (1 + exp(-x)) elementwise.")
relu = unary(Relu, "max(x, 0) elementwise.", floating=False)
erf = unary(Erf, "The error function erf(x) elementwise.")
