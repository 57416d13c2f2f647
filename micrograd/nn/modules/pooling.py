"""Pooling layers: MaxPool2d and AvgPool2d."""
from .. import functional as F
from ..module import Module
from .util import as_input, check_input


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, x):
        x = as_input(self, x)
        check_input(self, x, (3, 4), "(N, C, H, W) or (C, H, W)")
        return self._fn(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over each kernel_size window of images (N, C, H, W); stride defaults to kernel_size."""

    _fn = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """Mean over each kernel_size window of images (N, C, H, W); zero padding counts toward the mean."""

    _fn = staticmethod(F.avg_pool2d)
