"""Indexing ops with PyTorch's signatures: nonzero, masked_fill."""
import numpy as np

from .. import dtypes
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .elementwise import where
from .util import export

__all__ = ["masked_fill", "nonzero"]


@export()
def nonzero(input, *, as_tuple=False):  # noqa: A002  (PyTorch's argument names)
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or with as_tuple one 1-d tensor per dim
    (no gradient)."""
    b = input._backend
    host = np.nonzero(b.to_numpy(input._data).reshape(input.shape or (1,)))
    if as_tuple:
        return tuple(Tensor._make(b.asarray(i, dtypes.int64), b, False, None, 0) for i in host)
    idx = np.stack(host, axis=1) if input.ndim else np.zeros((len(host[0]), 0), np.int64)
    return Tensor._make(b.asarray(idx.astype(np.int64), dtypes.int64), b, False, None, 0)


@export(inplace=True)
def masked_fill(input, mask, value):  # noqa: A002
    """input with `value` (a number or a 0-d tensor, differentiably) where the bool `mask` (broadcast) is True."""
    if not isinstance(mask, Tensor):  # PyTorch's TypeError for a NumPy array or a list
        raise TypeError(f"masked_fill() received an invalid combination of arguments - got "
                        f"({type(mask).__module__}.{type(mask).__name__}, {type(value).__name__}): the mask must be "
                        f"a bool Tensor")
    if mask.dtype != dtypes.bool_:
        raise RuntimeValueError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.name}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeValueError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                                    f"{value.ndim} dimension(s).")
        value = value.to(input.dtype) if value.dtype != input.dtype else value
    else:
        value = Tensor._make(input._backend.asarray(value, input.dtype), input._backend, False, None, 0)
    return where(mask, value, input)
