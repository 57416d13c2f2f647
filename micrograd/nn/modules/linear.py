"""Dense and convolutional layers, pooling, and the shape helpers Flatten and Identity."""
import math

from ... import dtypes
from ...factories import zeros
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .util import as_input, check_input, positive_int


def _float_dtype(op, dtype):
    dtype = dtypes.float32 if dtype is None else dtypes.as_dtype(dtype, op)
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{op}: parameters must be floating-point; got dtype {dtype.name}")
    return dtype


class _WeightBias(Module):
    """A layer with a weight and an optional bias per output, initialised as PyTorch's Linear and Conv."""

    def _create_parameters(self, op, weight_shape, bias, dtype):
        dtype = _float_dtype(op, dtype)
        self.weight = Parameter(zeros(*weight_shape, dtype=dtype))
        if bias:
            self.bias = Parameter(zeros(weight_shape[0], dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) weights and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer); takes and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim into one (default: all but the batch dimension)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return as_input(self, x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Linear(_WeightBias):
    """y = x @ weight.T + bias over the last dimension of x.

    weight (out_features, in_features) is initialised with kaiming_uniform_(a=sqrt(5)) and bias from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch does.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features, 0)
        self.out_features = positive_int("Linear", "out_features", out_features, 0)
        self._create_parameters("Linear", (out_features, in_features), bias, dtype)

    def forward(self, x):
        x = as_input(self, x)
        check_input(self, x, range(1, max(x.ndim, 1) + 1), f"(*, {self.in_features})", -1, self.in_features)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _pair(op, name, v):
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints; got {v!r}")
    return tuple(positive_int(op, name, n, 0) for n in pair)


class Conv2d(_WeightBias):
    """2-d convolution (cross-correlation) of images (N, C_in, H, W) with weight (C_out, C_in, kh, kw).

    Args:
        kernel_size, stride: an int or a (height, width) pair.
        padding: an int, a pair, "valid" (none) or "same" (stride 1 only).
    Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype=None):
        super().__init__()
        self.in_channels = positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2d", "out_channels", out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size)
        if min(self.kernel_size) < 1:
            raise ValueError(f"Conv2d: kernel_size must be positive; got {kernel_size!r}")
        self.stride = _pair("Conv2d", "stride", stride)
        if min(self.stride) < 1:
            raise ValueError(f"Conv2d: stride must be positive; got {stride!r}")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same'; got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1; got stride {stride!r}")
            self.padding = padding
        else:
            self.padding = _pair("Conv2d", "padding", padding)
        self._create_parameters("Conv2d", (out_channels, in_channels, *self.kernel_size), bias, dtype)

    def forward(self, x):
        x = as_input(self, x)
        c = self.in_channels
        check_input(self, x, (3, 4), f"(N, {c}, H, W) or ({c}, H, W)", -3, c)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        return s + ("" if self.bias is not None else ", bias=False")


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
