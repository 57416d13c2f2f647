"""Channel dropout with PyTorch's signatures and input conventions: dropout1d, dropout2d, dropout3d zero whole
channels (every element of an (N, C) pair of the batched input) with probability p and scale the rest by
1/(1-p); identity when not training.

As PyTorch: dropout1d takes (N, C, L) or (C, L) and refuses anything else; dropout2d and dropout3d warn on
other dimension counts and carry on, dropout2d reading 3-d input as (N, C, L) (PyTorch's historical rule, with
its warning). Masks are drawn on the host from micrograd's generator, as F.dropout's are.
"""
import warnings

import numpy as np

from .. import random as rng
from ..errors import RuntimeValueError
from ..tensor import Tensor


def _feature_dropout(name, input, p, training, inplace):  # noqa: A002
    """Drop (N, C) pairs of `input` (at least 2-d): PyTorch's feature_dropout."""
    if not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if input.ndim < 2:
        raise RuntimeValueError(f"Feature dropout requires at least 2 dimensions in the input ({name}: input shape "
                                f"{tuple(input.shape)})")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = rng.host(None, name).random(shape) >= p
    scale = keep.astype(np.float64) / (1 - p) if p < 1 else np.zeros(shape)
    mask = Tensor(scale, dtype=input.dtype, backend=input.backend)
    return input.mul_(mask) if inplace else input * mask


def _unbatched(name, input, p, training, inplace, batched):  # noqa: A002
    """feature dropout of input, with a batch dim of one added first when `batched` is False."""
    if batched:
        return _feature_dropout(name, input, p, training, inplace)
    out = _feature_dropout(name, input.unsqueeze(0), p, training, False).squeeze(0)
    return input.copy_(out) if inplace and out is not input else out


def _deprecated_dims(name, input, dims):  # noqa: A002
    if input.ndim not in (dims + 1, dims + 2):
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
                      f"{dims} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{dims + 1}D or {dims + 2}D inputs).", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) input."""
    if input.ndim not in (2, 3):
        raise RuntimeValueError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                                f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
                                f"a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched("dropout1d", input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) input; 3-d input is read as (N, C, L), as PyTorch does."""
    _deprecated_dims("dropout2d", input, 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", UserWarning, stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _deprecated_dims("dropout3d", input, 3)
    return _unbatched("dropout3d", input, p, training, inplace, input.ndim == 5)
