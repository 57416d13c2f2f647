"""conv1d, conv2d, conv_transpose2d, max_pool2d and avg_pool2d with PyTorch's arguments (stride, padding,
dilation, groups, output_padding, ceil_mode, count_include_pad, divisor_override, return_indices), as composites
of the engine's ops: image patches (Im2Col) and a matrix product for convolution, a matrix product and the
patches' adjoint (Col2Im) for the transposed convolution, the fused max pooling where it applies.

nn.functional re-exports them.
"""
import math

import numpy as np

from .. import ops
from ..errors import RuntimeValueError
from ..ops import Col2Im, Im2Col
from ..tensor import Tensor


def _pair(op, name, v, minimum):
    """An int or a pair of ints as a pair, each at least `minimum`."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints; got {v!r}")
    if min(pair) < minimum:
        raise RuntimeValueError(f"{op}: {name} should be at least {minimum}, but got {name}={v!r}")
    return int(pair[0]), int(pair[1])


def _batched_image(op, x):
    """x as (N, C, H, W) and whether it was an unbatched (C, H, W) image."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise RuntimeValueError(f"{op}: Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of "
                                f"size: {list(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _out_size(op, n, k, s, p, d, ceil):
    """PyTorch's pooling output size along one dim (a window must start inside the input or its left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    if span < 0:
        raise RuntimeValueError(f"{op}: Given input size too small: the effective kernel {d * (k - 1) + 1} is "
                                f"larger than the padded input {n + 2 * p}")
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def windows(x, kernel, stride, padding, dilation, out, value):
    """Patches (N, C, kh, kw, OH, OW) of x (N, C, H, W) padded with `value`: `padding` on every side, and at the
    bottom/right as far as the `out` windows need (ceil_mode)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, padding, dilation, out
    h, w = x.shape[2:]
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the dilated kernel's extent
    need_h, need_w = (oh - 1) * sh + eh, (ow - 1) * sw + ew
    bottom, right = max(need_h - h - ph, 0), max(need_w - w - pw, 0)
    if ph or pw or bottom or right:
        x = ops.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), value=value)
    if need_h < x.shape[2] or need_w < x.shape[3]:  # rows/columns no window reaches
        x = x[:, :, :need_h, :need_w]
    uniform = sh == sw and dh == dw == 1
    cols = Im2Col.apply(x, kh=eh, kw=ew, stride=sh if uniform else 1)
    if dh > 1 or dw > 1:
        cols = cols[:, :, ::dh, ::dw]
    if not uniform:
        cols = cols[:, :, :, :, ::sh, ::sw]
    return cols


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-d cross-correlation of input (N, C, H, W) with weight (O, C / groups, kh, kw), as patches and a matrix
    product. stride, padding and dilation are ints or (height, width) pairs; padding may be "valid" or "same"
    (stride 1; any odd extra on the bottom/right)."""
    x, unbatched = _batched_image("conv2d", input)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise RuntimeValueError(f"conv2d: weight must be (out_channels, in_channels / groups, kh, kw); got "
                                f"{getattr(weight, 'shape', weight)}")
    o, cg, kh, kw = weight.shape
    if not isinstance(groups, int) or groups < 1 or o % groups:
        raise RuntimeValueError(f"conv2d: groups must be a positive int dividing out_channels {o}; got {groups}")
    if x.shape[1] != cg * groups:
        raise RuntimeValueError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                                f"{list(x.shape)} to have {cg * groups} channels, but got {x.shape[1]} channels "
                                f"instead (conv2d)")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeValueError(f"conv2d: bias must have shape ({o},); got {tuple(bias.shape)}")
    stride = _pair("conv2d", "stride", stride, 1)
    dilation = _pair("conv2d", "dilation", dilation, 1)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of ('valid', 'same')")
        if padding == "same" and stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        if padding == "same":
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            x = ops.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
        padding = 0
    padding = _pair("conv2d", "padding", padding, 0)
    h, w = x.shape[2:]
    if any(d * (k - 1) + 1 > n + 2 * p for n, k, p, d in zip((h, w), (kh, kw), padding, dilation)):
        raise RuntimeValueError(f"Calculated padded input size per channel: ({h + 2 * padding[0]} x "
                                f"{w + 2 * padding[1]}). Kernel size: ({dilation[0] * (kh - 1) + 1} x "
                                f"{dilation[1] * (kw - 1) + 1}). Kernel size can't be greater than actual input size "
                                f"(conv2d: input {tuple(x.shape)}, weight {tuple(weight.shape)})")
    out = tuple(_out_size("conv2d", n, k, s, p, d, False)
                for n, k, s, p, d in zip((h, w), (kh, kw), stride, padding, dilation))
    if groups == 1 and dilation == (1, 1) and stride[0] == stride[1] and x.dtype == weight.dtype \
            and x.dtype.kind == "f":  # one op (Conv2d), whose maths is the patches-times-matrix composite
        if padding != (0, 0):
            x = ops.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
        result = ops.Conv2d.apply(x, weight, stride=stride[0],
                                  composite=lambda x_, w_: _conv2d_composite(x_, w_, stride[0]))
        if bias is not None:
            result = result + bias.reshape(1, o, 1, 1)
        return result.squeeze(0) if unbatched else result
    cols = windows(x, (kh, kw), stride, padding, dilation, out, 0.0)
    n, k = x.shape[0], cg * kh * kw
    oh, ow = out
    if groups == 1:
        result = weight.reshape(o, k) @ cols.reshape(n, k, oh * ow)
    else:
        result = weight.reshape(groups, o // groups, k) @ cols.reshape(n, groups, k, oh * ow)
    result = result.reshape(n, o, oh, ow)
    if bias is not None:
        result = result + bias.reshape(1, o, 1, 1)
    return result.squeeze(0) if unbatched else result


def _conv2d_composite(x, weight, stride):
    """conv2d of a padded x at an int stride as ops: Im2Col's patches times the weight matrix (Conv2d's maths)."""
    o, c, kh, kw = weight.shape
    cols = Im2Col.apply(x, kh=kh, kw=kw, stride=stride)
    n, oh, ow = x.shape[0], cols.shape[4], cols.shape[5]
    return (weight.reshape(o, c * kh * kw) @ cols.reshape(n, c * kh * kw, oh * ow)).reshape(n, o, oh, ow)


def _pool_args(op, input, kernel_size, stride, padding, dilation):  # noqa: A002
    x, unbatched = _batched_image(op, input)
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    dilation = _pair(op, "dilation", dilation, 1)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeValueError(f"pad should be at most half of effective kernel size, but got pad={padding[0]}, "
                                f"kernel_size={kernel[0]} and dilation={dilation[0]} ({op})")
    return x, kernel, stride, padding, dilation, unbatched


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """The maximum over each window (stride defaults to kernel_size; padding is -inf, so it never wins). On ties
    the gradient goes to the first maximal element of the window in row-major order, as in PyTorch. With
    return_indices, also each maximum's index in its (unpadded) input plane, flattened."""
    x, kernel, stride, padding, dilation, unbatched = _pool_args("max_pool2d", input, kernel_size, stride, padding,
                                                                 dilation)
    h, w = x.shape[2:]
    out = tuple(_out_size("max_pool2d", n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    fused = dilation == (1, 1) and not return_indices and not ceil_mode
    if fused:
        lowest = -math.inf if x.dtype.kind == "f" else int(np.iinfo(x.dtype).min) if x.dtype.kind in "iu" else False
        x_pad = ops.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), value=lowest) \
            if padding != (0, 0) else x
        values = ops.max_pool2d(x_pad, kernel, stride)
        return values.squeeze(0) if unbatched else values
    lowest = -math.inf if x.dtype.kind == "f" else int(np.iinfo(x.dtype).min) if x.dtype.kind in "iu" else False
    cols = windows(x, kernel, stride, padding, dilation, out, lowest)
    n, c = x.shape[:2]
    flat = cols.reshape(n, c, kernel[0] * kernel[1], out[0], out[1])
    values, which = flat.max(2)
    if unbatched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    indices = _plane_indices(which, kernel, stride, padding, dilation, (h, w))
    return values, (indices.squeeze(0) if unbatched else indices)


def _plane_indices(which, kernel, stride, padding, dilation, size):
    """Each window's argmax (an index into its kh * kw elements) as an index into the input plane, flattened."""
    b = which._backend
    k = which._host()
    oh, ow = k.shape[2:]
    ki, kj = k // kernel[1], k % kernel[1]
    rows = np.arange(oh)[:, None] * stride[0] - padding[0] + ki * dilation[0]
    cols = np.arange(ow)[None, :] * stride[1] - padding[1] + kj * dilation[1]
    return Tensor._make(b.asarray(rows * size[1] + cols, np.int64), b, False, None, 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """The mean over each window. Zero padding counts toward the mean with count_include_pad (PyTorch's default);
    windows that ceil_mode adds past the padding count only what they cover; divisor_override replaces the
    count."""
    x, kernel, stride, padding, _, unbatched = _pool_args("avg_pool2d", input, kernel_size, stride, padding, 1)
    h, w = x.shape[2:]
    out = tuple(_out_size("avg_pool2d", n, k, s, p, 1, ceil_mode)
                for n, k, s, p in zip((h, w), kernel, stride, padding))
    sums = windows(x, kernel, stride, padding, (1, 1), out, 0.0).sum((2, 3))
    if divisor_override is not None:
        if not divisor_override:
            raise RuntimeValueError("avg_pool2d: divisor must be not zero")
        divisor = divisor_override
    else:
        divisor = _window_counts(x, kernel, stride, padding, out, count_include_pad)
    # integer images average with integer division (truncated), as PyTorch computes them
    result = sums / divisor if x.dtype.kind == "f" else ops.div(sums, divisor, rounding_mode="trunc").to(x.dtype)
    return result.squeeze(0) if unbatched else result


def _window_counts(x, kernel, stride, padding, out, count_include_pad):
    """How many elements each window averages: the window clipped to the padded input (or, without
    count_include_pad, to the input itself)."""
    counts = []
    for n, k, s, p, m in zip(x.shape[2:], kernel, stride, padding, out):
        start = np.arange(m) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.int64)
    grid = np.outer(counts[0], counts[1]).astype(dt)
    return Tensor._make(x._backend.asarray(grid, dt), x._backend, False, None, 0)


def _ints(op, name, v, n):
    """An int or a sequence of 1 or n ints as an n-tuple, as PyTorch expands a convolution's arguments."""
    seq = list(v) if isinstance(v, (tuple, list)) else [v]
    if not all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in seq):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(v).__name__}")
    if len(seq) == 1:
        seq = seq * n
    if len(seq) != n:
        raise RuntimeValueError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                                f"convolution dimensions, but got {name}={seq} ({op})")
    return tuple(int(e) for e in seq)


def _check_conv(op, x, weight, bias, stride, padding, dilation, groups, transposed):
    """PyTorch's checks of a convolution's arguments: signs, groups, channels and the bias's size."""
    for name, values, low, what in (("stride", stride, 1, "non-positive"), ("dilation", dilation, 1, "non-positive"),
                                    ("padding", padding, 0, "negative")):
        if min(values) < low:
            raise RuntimeValueError(f"{what} {name} is not supported ({op}: {name}={values})")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise RuntimeValueError(f"non-positive groups is not supported ({op}: groups={groups!r})")
    shape = list(weight.shape)
    if shape[0] % groups:
        raise RuntimeValueError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                                f"but got weight of size [{shape}] instead ({op})")
    given = "Given transposed=1, weight" if transposed else f"Given groups={groups}, weight"
    channels = shape[0] if transposed else shape[1] * groups
    if x.shape[1] != channels:
        raise RuntimeValueError(f"{given} of size {shape}, expected input{list(x.shape)} to have {channels} channels, "
                                f"but got {x.shape[1]} channels instead ({op})")
    out = shape[1] * groups if transposed else shape[0]
    if bias is not None and tuple(bias.shape) != (out,):
        raise RuntimeValueError(f"Given {'transposed=1, ' if transposed else ''}weight of size {shape}, expected bias "
                                f"to be 1-dimensional with {out} elements, but got bias of size {list(bias.shape)} "
                                f"instead ({op})")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-d cross-correlation of input (N, C, L) or (C, L) with weight (O, C / groups, k): conv2d over images of
    height 1. stride, padding and dilation are ints (or 1-tuples); padding may be "valid" or "same" (stride 1; any
    odd extra on the right)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"conv1d(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeValueError(f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: "
                                f"{list(input.shape)}")
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise RuntimeValueError(f"weight should have three dimensions (out_channels, in_channels / groups, "
                                f"kernel_size) (conv1d: weight of shape {getattr(weight, 'shape', weight)})")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    stride, dilation = _ints("conv1d", "stride", stride, 1), _ints("conv1d", "dilation", dilation, 1)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeValueError(f"Invalid padding string: {padding!r} (conv1d)")
        if padding == "same" and stride != (1,):
            raise RuntimeValueError(f"padding='same' is not supported for strided convolutions (conv1d: "
                                    f"stride={stride})")
        pad = 0
    else:
        pad = _ints("conv1d", "padding", padding, 1)[0]
    _check_conv("conv1d", x, weight, bias, stride, (pad,), dilation, groups, False)
    span, length = dilation[0] * (weight.shape[2] - 1) + 1, x.shape[2] + 2 * pad
    if padding != "same" and span > length:
        raise RuntimeValueError(f"Calculated padded input size per channel: ({length}). Kernel size: ({span}). "
                                f"Kernel size can't be greater than actual input size (conv1d: input "
                                f"{tuple(x.shape)}, weight {tuple(weight.shape)})")
    pad2 = padding if isinstance(padding, str) else (0, pad)
    # a height-1 image and kernel: stride and dilation along the height change nothing, and equal pairs take
    # conv2d's strided patches directly
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride * 2, pad2, dilation * 2, groups).squeeze(2)
    return out.squeeze(0) if input.ndim == 2 else out


def _spread(x, axis, step):
    """x with step - 1 zeros between neighbours along `axis` (length n becomes (n - 1) * step + 1): the adjoint of
    taking every step-th element."""
    if step == 1:
        return x
    n = x.shape[axis]
    widths = [(0, 0)] * (x.ndim + 1)
    widths[axis + 1] = (0, step - 1)
    y = ops.pad(x.unsqueeze(axis + 1), widths).reshape(x.shape[:axis] + (n * step,) + x.shape[axis + 1:])
    return y.narrow(axis, 0, (n - 1) * step + 1)


def _col2im(cols, stride, dilation):
    """The adjoint of `windows` without padding: patches (N, C, kh, kw, H, W) summed into the image they were taken
    from, of size ((H - 1) * sh + eh, (W - 1) * sw + ew) with eh, ew the dilated kernel's extent."""
    cols = _spread(_spread(cols, 2, dilation[0]), 3, dilation[1])
    step = stride[0]
    if stride[0] != stride[1]:
        cols, step = _spread(_spread(cols, 4, stride[0]), 5, stride[1]), 1
    n, c, eh, ew, h, w = cols.shape
    return Col2Im.apply(cols, shape=(n, c, (h - 1) * step + eh, (w - 1) * step + ew), stride=step)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """The transposed 2-d convolution (the gradient of conv2d with respect to its input) of input (N, C_in, H, W)
    or (C_in, H, W) with weight (C_in, C_out / groups, kh, kw): a matrix product gives every input pixel's patch,
    and Col2Im sums the patches into the output, (H - 1) * stride - 2 * padding + dilation * (kh - 1) +
    output_padding + 1 high (likewise wide); output_padding adds rows and columns at the bottom and right."""
    op = "conv_transpose2d"
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    x, unbatched = _batched_image(op, input)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise RuntimeValueError(f"{op}: weight must be (in_channels, out_channels / groups, kh, kw); got "
                                f"{getattr(weight, 'shape', weight)}")
    stride, padding = _ints(op, "stride", stride, 2), _ints(op, "padding", padding, 2)
    dilation, extra = _ints(op, "dilation", dilation, 2), _ints(op, "output_padding", output_padding, 2)
    _check_conv(op, x, weight, bias, stride, padding, dilation, groups, True)
    if min(extra) < 0:
        raise RuntimeValueError(f"negative output_padding is not supported ({op}: output_padding={extra})")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeValueError(f"output padding must be smaller than either stride or dilation, but got "
                                f"output_padding_height: {extra[0]} output_padding_width: {extra[1]} stride_height: "
                                f"{stride[0]} stride_width: {stride[1]} dilation_height: {dilation[0]} "
                                f"dilation_width: {dilation[1]}")
    n, cin, h, w = x.shape
    _, cog, kh, kw = weight.shape
    size = [(m - 1) * s - 2 * p + d * (k - 1) + e + 1
            for m, s, p, d, k, e in zip((h, w), stride, padding, dilation, (kh, kw), extra)]
    if min(size) < 1:
        raise RuntimeValueError(f"Given input size per channel: ({h} x {w}). Calculated output size per channel: "
                                f"({size[0]} x {size[1]}). Output size is too small")
    k = cog * kh * kw
    if groups == 1:
        cols = weight.reshape(cin, k).T @ x.reshape(n, cin, h * w)
    else:
        cols = weight.reshape(groups, cin // groups, k).mT @ x.reshape(n, groups, cin // groups, h * w)
    image = _col2im(cols.reshape(n, cog * groups, kh, kw, h, w), stride, dilation)
    below = [max(p + m - full, 0) for p, m, full in zip(padding, size, image.shape[2:])]
    if any(below):
        image = ops.pad(image, ((0, 0), (0, 0), (0, below[0]), (0, below[1])))
    out = image[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
