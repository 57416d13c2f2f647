"""Convolution layers: Conv1d, Conv2d and ConvTranspose2d."""
from .. import functional as F
from .util import WeightBias, as_input, check_input, positive_int

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(op, name, v, n):
    """An int or a sequence of n ints as an n-tuple of non-negative ints."""
    values = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(values) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n}; got {v!r}")
    return tuple(positive_int(op, name, e, 0) for e in values)


class _ConvNd(WeightBias):
    """What Conv1d, Conv2d and ConvTranspose2d share: the arguments' checks, the parameters (weight
    (out, in / groups, *kernel), or (in, out / groups, *kernel) when transposed) and PyTorch's repr.

    Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias.
    """

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 device, dtype, output_padding=0):
        super().__init__()
        op, n = type(self).__name__, self._dims
        self.in_channels = positive_int(op, "in_channels", in_channels)
        self.out_channels = positive_int(op, "out_channels", out_channels)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be a positive integer ({op}: groups={groups!r})")
        self.groups = groups
        if in_channels % groups:
            raise ValueError(f"in_channels must be divisible by groups ({op}: in_channels={in_channels}, "
                             f"groups={groups})")
        if out_channels % groups:
            raise ValueError(f"out_channels must be divisible by groups ({op}: out_channels={out_channels}, "
                             f"groups={groups})")
        self._check_padding_mode(padding_mode)
        self.padding_mode = padding_mode
        self.kernel_size = _tuple(op, "kernel_size", kernel_size, n)
        self.stride = _tuple(op, "stride", stride, n)
        self.dilation = _tuple(op, "dilation", dilation, n)
        for name, value in (("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
            if min(getattr(self, name)) < 1:
                raise ValueError(f"{op}: {name} must be positive; got {value!r}")
        self.output_padding = _tuple(op, "output_padding", output_padding, n)
        self.padding = self._padding(op, padding)
        shape = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        self._create_parameters(op, shape + self.kernel_size, bias, dtype, device, bias_size=out_channels)

    def _check_padding_mode(self, padding_mode):
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{type(self).__name__}: padding_mode={padding_mode!r} is not supported by "
                                      f"micrograd (only 'zeros')")

    def _padding(self, op, padding):
        if not isinstance(padding, str):
            return _tuple(op, "padding", padding, self._dims)
        if padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
        if padding == "same" and self.stride != (1,) * self._dims:
            raise ValueError(f"padding='same' is not supported for strided convolutions ({op}: padding='same' needs "
                             f"stride 1; got stride {self.stride})")
        return padding

    def _check_channels(self, x, layout):
        c = self.in_channels
        n = self._dims
        check_input(self, x, (n + 1, n + 2), f"(N, {c}, {layout}) or ({c}, {layout})", -n - 1, c)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            value = getattr(self, name)
            if value != (default,) * self._dims:
                s += f", {name}={value}"  # a padding string unquoted, as PyTorch prints it
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-d convolution (cross-correlation) of sequences (N, C_in, L) or (C_in, L) with weight (C_out, C_in / groups,
    k).

    Args:
        kernel_size, stride, dilation: an int or a 1-tuple.
        padding: an int, "valid" (none) or "same" (stride 1 only); padding_mode "zeros".
        groups: in_channels and out_channels are split into this many independent groups.
    """

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x):
        x = as_input(self, x)
        self._check_channels(x, "L")
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) of images (N, C_in, H, W) with weight (C_out, C_in / groups, kh, kw).

    Args:
        kernel_size, stride, dilation: an int or a (height, width) pair.
        padding: an int, a pair, "valid" (none) or "same" (stride 1 only); padding_mode "zeros".
        groups: in_channels and out_channels are split into this many independent groups.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x):
        x = as_input(self, x)
        self._check_channels(x, "H, W")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transposed 2-d convolution (conv2d's gradient with respect to its input) of images (N, C_in, H, W) with
    weight (C_in, C_out / groups, kh, kw); output (H - 1) * stride - 2 * padding + dilation * (kh - 1) +
    output_padding + 1 high (likewise wide).

    Args:
        kernel_size, stride, padding, output_padding, dilation: an int or a (height, width) pair; output_padding
            (smaller than stride or dilation) adds rows and columns at the bottom and right.
        groups: in_channels and out_channels are split into this many independent groups.
    forward(input, output_size=None): output_size picks the output_padding that gives that (H, W).
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise TypeError(f"ConvTranspose2d: padding must be an int or a pair of ints; got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def _check_padding_mode(self, padding_mode):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for ConvTranspose2d (got padding_mode='
                             f'{padding_mode!r})')

    def _output_padding(self, x, output_size):
        """PyTorch's output_padding for a requested output_size ((H, W), or with the leading dims)."""
        if output_size is None:
            return self.output_padding
        lead = x.ndim - 2
        size = [int(s) for s in output_size]
        if len(size) == lead + 2:
            size = size[lead:]
        if len(size) != 2:
            raise ValueError(f"ConvTranspose2D: for {x.ndim}D input, output_size must have 2 or {lead + 2} elements "
                             f"(got {len(size)})")
        low = [(x.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d] +
               self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(2)]
        high = [m + s - 1 for m, s in zip(low, self.stride)]
        if any(not a <= s <= b for s, a, b in zip(size, low, high)):
            raise ValueError(f"requested an output size of {tuple(output_size)}, but valid sizes range from {low} to "
                             f"{high} (for an input of {x.shape[lead:]})")
        return tuple(s - a for s, a in zip(size, low))

    def forward(self, input, output_size=None):  # noqa: A002  (PyTorch's argument names)
        x = as_input(self, input)
        self._check_channels(x, "H, W")
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)
