"""Convolution layers: Conv2d."""
from .. import functional as F
from .util import WeightBias, as_input, check_input, positive_int


def _pair(op, name, v):
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints; got {v!r}")
    return tuple(positive_int(op, name, n, 0) for n in pair)


class Conv2d(WeightBias):
    """2-d convolution (cross-correlation) of images (N, C_in, H, W) with weight (C_out, C_in / groups, kh, kw).

    Args:
        kernel_size, stride, dilation: an int or a (height, width) pair.
        padding: an int, a pair, "valid" (none) or "same" (stride 1 only); padding_mode "zeros".
        groups: in_channels and out_channels are split into this many independent groups.
    Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        self.in_channels = positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2d", "out_channels", out_channels)
        self.groups = positive_int("Conv2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: padding_mode={padding_mode!r} is not supported by micrograd (only 'zeros')")
        self.padding_mode = padding_mode
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size)
        if min(self.kernel_size) < 1:
            raise ValueError(f"Conv2d: kernel_size must be positive; got {kernel_size!r}")
        self.stride = _pair("Conv2d", "stride", stride)
        if min(self.stride) < 1:
            raise ValueError(f"Conv2d: stride must be positive; got {stride!r}")
        self.dilation = _pair("Conv2d", "dilation", dilation)
        if min(self.dilation) < 1:
            raise ValueError(f"Conv2d: dilation must be positive; got {dilation!r}")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same'; got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1; got stride {stride!r}")
            self.padding = padding
        else:
            self.padding = _pair("Conv2d", "padding", padding)
        self._create_parameters("Conv2d", (out_channels, in_channels // groups, *self.kernel_size), bias, dtype,
                                device)

    def forward(self, x):
        x = as_input(self, x)
        c = self.in_channels
        check_input(self, x, (3, 4), f"(N, {c}, H, W) or ({c}, H, W)", -3, c)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")
