"""Channel dropout with PyTorch's signatures: dropout1d, dropout2d, dropout3d zero whole channels (every
element of a (N, C) pair) with probability p and scale the rest by 1/(1-p); identity when not training.

Masks are drawn on the host from micrograd's generator, as F.dropout's are.
"""
import numpy as np

from .. import random as rng
from ..errors import RuntimeValueError
from ..tensor import Tensor


def _feature_dropout(name, input, p, training, inplace, dims):  # noqa: A002
    if not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeValueError(f"{name}: Expected {dims + 1}D or {dims + 2}D input, but received a "
                                f"{input.ndim}D input. Received shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    batched = input.ndim == dims + 2
    lead = input.shape[:2] if batched else input.shape[:1]
    shape = tuple(lead) + (1,) * dims
    keep = rng.host(None, name).random(shape) >= p
    scale = keep.astype(np.float64) / (1 - p) if p < 1 else np.zeros(shape)
    mask = Tensor(scale, dtype=input.dtype, backend=input.backend)
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)
