"""micrograd.numpy: the Python Array API standard (2024.12) over micrograd's Tensors, with gradients.

    import micrograd as mg
    import micrograd.numpy as np
    x = np.asarray([0.5, 1.0], dtype=np.float64)
    mg.grad(np.sum(np.sin(x.requires_grad_()) * x), x)

The conventions are the standard's (`axis`, `keepdims`, `correction=0`, `copy=`, `device=`, its type promotion,
float64 as the default float), with NumPy 2 spellings autograd-style code uses (concatenate, arcsin, array, dot,
einsum, ddof=). Every function maps onto one of micrograd's ops, or composes them; none computes on its own.
Tensor operators (`+`, `*`, ...) stay PyTorch's: where the standard's promotion differs (a 0-d float64 array with a
float32 array) use the functions (np.add, np.multiply, ...).
"""
import math as _math

from ._dtypes import (__array_namespace_info__, astype, bool, can_cast, complex64, complex128,  # noqa: A004
                      finfo, float32, float64, iinfo, int8, int16, int32, int64, isdtype, result_type, uint8,
                      uint16, uint32, uint64)
from ._creation import (arange, array, asarray, empty, empty_like, eye, from_dlpack, full, full_like, linspace,
                        meshgrid, ones, ones_like, tril, triu, zeros, zeros_like)
from ._elementwise import *  # noqa: F401,F403  (the elementwise functions)
from ._reduce import *  # noqa: F401,F403  (statistical, utility and searching reductions)
from ._manipulation import *  # noqa: F401,F403  (manipulation, indexing, sorting, set, linear algebra)
from . import fft, linalg  # noqa: F401

__array_api_version__ = "2024.12"

e = _math.e
pi = _math.pi
inf = _math.inf
nan = _math.nan
newaxis = None

# NumPy's spellings of the standard's functions
absolute = abs  # noqa: F405
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh  # noqa: F405
arctan2 = atan2  # noqa: F405
power = pow  # noqa: F405
mod = remainder  # noqa: F405
invert = bitwise_invert  # noqa: F405
left_shift, right_shift = bitwise_left_shift, bitwise_right_shift  # noqa: F405
true_divide = divide  # noqa: F405
amax, amin = max, min  # noqa: F405
cumsum = cumulative_sum  # noqa: F405
cumprod = cumulative_prod  # noqa: F405


def swapaxes(x, axis1, axis2):
    """NumPy's swapaxes: two axes exchanged."""
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return permute_dims(x, axes)  # noqa: F405


def ravel(x):
    """NumPy's ravel: x flattened."""
    return reshape(x, (-1,))  # noqa: F405


def ndim(x):
    return x.ndim


def shape(x):
    return x.shape


def size(x):
    return x.numel()


_names = [n for n in dir() if not n.startswith("_") and n != "fft"] + ["fft"]
__all__ = sorted(set(_names) - {"promote"})
