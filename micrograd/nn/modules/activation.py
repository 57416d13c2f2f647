"""Activation modules and Dropout: thin wrappers over micrograd.nn.functional."""
import warnings

from .. import functional as F
from ..module import Module
from .util import as_input, probability


class ReLU(Module):
    """max(x, 0) elementwise (in place with inplace=True)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(as_input(self, x), self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """x * Phi(x), exact (approximate="none") or with PyTorch's tanh formula (approximate="tanh")."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(as_input(self, x), approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x):
        return F.tanh(as_input(self, x))


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x):
        return F.sigmoid(as_input(self, x))


def _legacy_softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (dim=None picks PyTorch's legacy axis, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        x = as_input(self, x)
        dim = _legacy_softmax_dim("softmax", x.ndim) if self.dim is None else self.dim
        return F.softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        x = as_input(self, x)
        dim = _legacy_softmax_dim("log_softmax", x.ndim) if self.dim is None else self.dim
        return F.log_softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout(Module):
    """In training, zeroes each element with probability p and scales the rest by 1/(1-p); identity in eval."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = probability("Dropout", "p", p)
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(as_input(self, x), self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Dropout):
    _fn = None

    def forward(self, x):
        return type(self)._fn(as_input(self, x), self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """In training, zeroes whole channels of (N, C, L) input with probability p, scaling the rest by 1/(1-p)."""

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """In training, zeroes whole channels of (N, C, H, W) input with probability p, scaling the rest by 1/(1-p)."""

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """In training, zeroes whole channels of (N, C, D, H, W) input with probability p, scaling the rest."""

    _fn = staticmethod(F.dropout3d)
