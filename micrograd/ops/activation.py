"""Activation functions and their gradients: tanh, sigmoid, relu (each gradient a fused op of its own, so that
grad-of-grad works), and erf for the exact GELU."""
import math

from ..autograd import Function
from ..autograd import forward as fw
from .elementwise import unary
from .util import composite_backward, recorded_backward

__all__ = ["Erf", "Gelu", "Relu", "ReluGrad", "Sigmoid", "SigmoidGrad", "Tanh", "TanhGrad", "erf", "relu", "sigmoid",
           "tanh"]


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



class Erf(Function):
    """erf(x); d/dx = 2/sqrt(pi) exp(-x^2).

    The forward is the backend primitive erf (one definition in backends/elementwise.py, compiled into one loop
    where the backend compiles definitions); the derivative is the exact one, not the approximation's.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.erf(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((2 / math.sqrt(math.pi)) * (-x * x).exp())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        x = ctx.primals[0]
        return t * ((2 / math.sqrt(math.pi)) * (-x * x).exp())

class Gelu(Function):
    """GELU, x Phi(x), exact (approximate="none", through erf) or PyTorch's tanh formula: one fused definition each
    for the value and the gradient (backends/elementwise.py: gelu_erf, gelu_tanh and their _backward). Its maths is
    also written with ops in `composite(x)` (nn.functional's), which the backward recorded for create_graph and the
    forward-mode rule differentiate."""

    @staticmethod
    def forward(ctx, x, approximate, composite):
        ctx.approximate, ctx.composite = approximate, composite
        ctx.save_for_backward(x)
        b = x._backend
        return b.gelu_tanh(x._data) if approximate == "tanh" else b.gelu_erf(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if recorded_backward(g, x):  # create_graph or tangents: the composite's gradient, itself differentiable
            return composite_backward(ctx.composite, (x,), g) + (None, None)
        b = x._backend
        out = (b.gelu_tanh_backward if ctx.approximate == "tanh" else b.gelu_erf_backward)(g._data, x._data)
        return type(x)._make(out, b, False, None, 0), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return fw.through(ctx, ctx.composite, [ctx.primals[0]], [t])


tanh = unary(Tanh, "tanh(x) elementwise.")
sigmoid = unary(Sigmoid, "1 / (1 + exp(-x)) elementwise.")
relu = unary(Relu, "max(x, 0) elementwise.", floating=False)
erf = unary(Erf, "The error function erf(x) elementwise.")
