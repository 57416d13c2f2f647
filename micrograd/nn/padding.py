"""nn.functional.pad with PyTorch's arguments: `pad` is a flat sequence of (left, right) pairs starting from the
last dimension, negative amounts crop, and the modes are constant, reflect, replicate and circular.

Composites of differentiable ops, so gradients and their gradients flow: "constant" is a crop (slicing) and the
constant pad op (micrograd.pad, NumPy's pad_width); the other modes gather each padded dimension with one integer
index (its gradient scatter-adds, as the reflected or repeated elements need).
"""
import numpy as np

from .. import ops
from ..errors import RuntimeValueError
from ..tensor import Tensor

_MODES = ("constant", "reflect", "replicate", "circular")
_SUPPORTED = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pairs(x, pad):
    """`pad` checked as PyTorch does, as one (dim, left, right) per padded dimension, the last dimension first."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not {type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(p).__name__} at pos {i}")
    if len(pad) % 2:
        raise RuntimeValueError(f"Padding length must be divisible by 2 (pad: got pad={tuple(pad)})")
    if len(pad) > 2 * x.ndim:
        raise RuntimeValueError(f"Padding length should be less than or equal to two times the input dimension but "
                                f"got padding length {len(pad)} and input of dimension {x.ndim}")
    return [(x.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


def pad(input, pad, mode="constant", value=None):  # noqa: A002  (PyTorch's argument names)
    """input padded (or, for negative amounts, cropped) along its last len(pad) // 2 dimensions.

    Args:
        pad: (left, right) for the last dimension, then (top, bottom) for the one before, and so on.
        mode: "constant" (fill with `value`, default 0; any number of dimensions), "reflect" (mirror without
            repeating the edge), "replicate" (repeat the edge) or "circular" (wrap around); the last three pad the
            last 1, 2 or 3 dimensions of a tensor with one or two more dimensions, as PyTorch.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    pairs = _pairs(input, pad)
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        return _constant(input, pairs, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeValueError(f'Padding mode "{mode}" doesn\'t take in value argument')
    n = len(pairs)
    if n not in (1, 2, 3) or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(f"Padding size {2 * n} is not supported for {input.ndim}D input tensor.\n"
                                  f"{_SUPPORTED}")
    _check_circular(input.shape, pairs) if mode == "circular" else _check_edge(input.shape, mode, pairs)
    x = input
    for dim, left, right in pairs:
        index = _circular(input.shape, dim, left, right) if mode == "circular" else \
            _edge(input.shape, mode, dim, left, right, n)
        if left or right:
            x = x[(slice(None),) * dim + (index,)]
    return ops.clone(x) if x is input else x  # a new tensor, never the input or a view of it, as PyTorch


def _constant(x, pairs, value):
    """Crop the negative amounts, then pad the positive ones with `value`."""
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for dim, left, right in pairs:
        n = x.shape[dim]
        start, stop = max(-left, 0), n - max(-right, 0)
        if stop < start:
            raise RuntimeValueError(f"narrow(): length must be non-negative. (pad: padding ({left}, {right}) of "
                                    f"dimension {dim} of size {n} leaves {stop - start} elements)")
        crop[dim] = slice(start, stop)
        widths[dim] = (max(left, 0), max(right, 0))
    if any(s != slice(None) for s in crop):
        x = x[tuple(crop)]
    return ops.pad(x, tuple(widths), value=value) if any(a or b for a, b in widths) else ops.clone(x)


def _check_edge(shape, mode, pairs):
    """PyTorch's checks for reflect and replicate: no empty dimension but the batch one, and reflect's padding
    smaller than the dimension it mirrors."""
    n = len(pairs)
    if 0 in shape[1 if len(shape) == n + 2 else 0:]:
        raise RuntimeValueError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 batch size and "
                                f"other non-zero dimensions for input, but got: {list(shape)}")
    for i, (dim, left, right) in enumerate(pairs):
        if mode == "reflect" and (left >= shape[dim] or right >= shape[dim]):
            raise RuntimeValueError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding "
                                    f"input dimension, but got: padding ({left}, {right}) at dimension {dim} of input "
                                    f"{list(shape)}")
    if mode == "replicate" and n == 2:  # PyTorch's 2-d replicate padding alone refuses an empty plane
        (w, *w_pad), (h, *h_pad) = pairs
        out_h, out_w = shape[h] + sum(h_pad), shape[w] + sum(w_pad)
        if max(out_h, out_w) < 1:
            raise RuntimeValueError(f"input (H: {shape[h]}, W: {shape[w]} ) is too small. Calculated output H: "
                                    f"{out_h} W: {out_w}")


def _edge(shape, mode, dim, left, right, n):
    """The source index of each output element along `dim` for reflect and replicate (n padded dimensions)."""
    size = shape[dim]
    out = size + left + right
    if out < (1 if n == 1 else 0):
        raise RuntimeValueError(f"input (W: {size}) is too small. Calculated output W: {out}" if n == 1 else
                                f"Trying to create tensor with negative dimension {out} (pad: padding ({left}, "
                                f"{right}) of dimension {dim} of size {size})")
    j = np.arange(-left, size + right)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    j = np.abs(j)
    return np.where(j >= size, 2 * (size - 1) - j, j)


def _check_circular(shape, pairs):
    """PyTorch's checks for circular padding, outermost padded dimension first."""
    for dim, left, right in reversed(pairs):
        if left > shape[dim] or right > shape[dim]:
            raise RuntimeValueError(f"Padding value causes wrapping around more than once. (pad: padding ({left}, "
                                    f"{right}) of dimension {dim} of size {shape[dim]})")
        if shape[dim] + left + right < 0:
            raise RuntimeValueError(f"Negative padding value is resulting in an empty dimension (pad: padding "
                                    f"({left}, {right}) of dimension {dim} of size {shape[dim]})")


def _circular(shape, dim, left, right):
    """The source index of each output element along `dim` for circular padding: the negative amounts crop first,
    then the cropped dimension wraps around."""
    size = shape[dim]
    start = max(-left, 0)
    kept = size - start - max(-right, 0)
    if size + left + right and max(left, right, 0) > kept:
        raise RuntimeValueError(f"pad: circular padding ({left}, {right}) of dimension {dim} wraps around the "
                                f"{max(kept, 0)} elements its negative padding leaves more than once")
    return start + np.arange(-max(left, 0), kept + max(right, 0)) % max(kept, 1)
