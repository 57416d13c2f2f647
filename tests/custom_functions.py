"""User-defined Functions shared by the autograd and gradcheck tests."""
import micrograd as mg


class Scale(mg.Function):
    """x * k for a Python number k (a non-Tensor argument: its gradient is None)."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None
