"""Dense layers: Linear, and Identity."""
from .. import functional as F
from ..module import Module
from .util import WeightBias, as_input, check_input, positive_int


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer); takes and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(WeightBias):
    """y = x @ weight.T + bias over the last dimension of x.

    weight (out_features, in_features) is initialised with kaiming_uniform_(a=sqrt(5)) and bias from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch does.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features, 0)
        self.out_features = positive_int("Linear", "out_features", out_features, 0)
        self._create_parameters("Linear", (out_features, in_features), bias, dtype, device)

    def forward(self, x):
        x = as_input(self, x)
        check_input(self, x, range(1, max(x.ndim, 1) + 1), f"(*, {self.in_features})", -1, self.in_features)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
