"""The standard's elementwise functions over micrograd's ops, with the standard's type promotion: two arrays are
first cast to their result type (a 0-d array counts as fully as any other), and a Python scalar takes its array's
dtype. Every function records gradients through the op it calls."""
import numbers

from .. import factories as _factories
from ..tensor import Tensor
from ._dtypes import DEFAULT_FLOAT, builtins_bool, result_type
from ._engine import ops as _ops

_UNARY = ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "exp", "expm1", "floor",
          "isfinite", "isinf", "isnan", "log", "log1p", "log2", "log10", "logical_not", "negative", "signbit", "sin", "sinh", "square", "sqrt", "tan", "tanh", "trunc", "reciprocal"]
_BINARY = ["add", "atan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
           "copysign", "divide", "greater", "greater_equal", "hypot", "less", "less_equal",
           "logaddexp", "logical_and", "logical_or", "logical_xor", "maximum", "minimum", "multiply", "not_equal",
           "pow", "remainder", "subtract"]
# Functions whose result is floating: integer inputs become the namespace's default float (float64) first
_FLOATING = {"acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "expm1", "log", "log1p",
             "log2", "log10", "sin", "sinh", "sqrt", "tan", "tanh", "reciprocal", "atan2", "divide", "hypot",
             "logaddexp", "copysign"}
_COMPATIBLE = {"b": (builtins_bool,), "i": (builtins_bool, numbers.Integral), "u": (builtins_bool, numbers.Integral),
               "f": (builtins_bool, numbers.Integral, numbers.Real)}


def promote(x1, x2, op):
    """Both operands as Tensors of the standard's result dtype (a scalar takes the array's dtype)."""
    if isinstance(x1, Tensor) and isinstance(x2, Tensor):
        dt = result_type(x1, x2)
        return x1.astype(dt), x2.astype(dt)
    if isinstance(x1, Tensor) or isinstance(x2, Tensor):
        arr = x1 if isinstance(x1, Tensor) else x2
        scalar = x2 if arr is x1 else x1
        if isinstance(scalar, complex):
            raise TypeError(f"{op}: complex dtypes are not supported")
        if isinstance(scalar, _COMPATIBLE[arr.dtype.kind]):
            s = Tensor(scalar, dtype=arr.dtype, backend=arr.backend)
            return (arr, s) if arr is x1 else (s, arr)
        return x1, x2
    raise TypeError(f"{op}: at least one argument must be an array; got {type(x1).__name__} and "
                    f"{type(x2).__name__}")


def _floating(x):
    return x if x.dtype.kind == "f" else x.astype(DEFAULT_FLOAT)


def _unary(name):
    fn = getattr(_ops, name)
    floating = name in _FLOATING

    def f(x, /):
        return fn(_floating(x) if floating else x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"The standard's {name}(x), elementwise (micrograd's {name}; differentiable where it has a derivative)."
    return f


def _binary(name, op_name=None):
    fn = getattr(_ops, op_name or name)
    floating = name in _FLOATING

    def f(x1, x2, /):
        a, b = promote(x1, x2, name)
        if floating:
            a, b = _floating(a), _floating(b)
        return fn(a, b)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"The standard's {name}(x1, x2), elementwise, after the standard's type promotion."
    return f


globals().update({n: _unary(n) for n in _UNARY})
globals().update({n: _binary(n) for n in _BINARY})
equal = _binary("equal", "eq")  # mg.equal is PyTorch's whole-tensor comparison (a bool); the standard's is eq


def floor_divide(x1, x2, /):
    """The greatest integer not above x1 / x2, elementwise: floor(x1 / x2) for floats, as the standard defines it
    (so inf // 2 is inf and -1 // inf is -0; PyTorch's operator `//` keeps PyTorch's rules)."""
    a, b = promote(x1, x2, "floor_divide")
    if a.dtype.kind == "f":
        return _ops.floor(_ops.divide(a, b))
    return _ops.floor_divide(a, b)
bitwise_invert = _unary("bitwise_not")
bitwise_invert.__name__ = "bitwise_invert"


def sign(x, /):
    """-1, 0 or 1 by the sign of x; NaN stays NaN, as the standard says (PyTorch's sign gives 0)."""
    out = _ops.sign(x)
    return _ops.where(_ops.isnan(x), x, out) if x.dtype.kind == "f" else out


def positive(x, /):
    """+x: the values of x, as a new array."""
    return _ops.clone(x)


def round(x, /):  # noqa: A001  (the standard's name)
    """Round half to even, elementwise."""
    return _ops.round(x)


def clip(x, /, min=None, max=None):  # noqa: A002
    """x clipped to [min, max] (scalars or arrays); the result keeps x's dtype."""
    if min is None and max is None:
        return _ops.clone(x)
    lo = min.astype(x.dtype) if isinstance(min, Tensor) else min
    hi = max.astype(x.dtype) if isinstance(max, Tensor) else max
    out = x
    if lo is not None:
        out = _ops.maximum(out, lo if isinstance(lo, Tensor) else Tensor(lo, dtype=x.dtype, backend=x.backend))
    if hi is not None:
        out = _ops.minimum(out, hi if isinstance(hi, Tensor) else Tensor(hi, dtype=x.dtype, backend=x.backend))
    return out.astype(x.dtype)


def nextafter(x1, x2, /):
    """The next float after x1 towards x2 (the backend's own nextafter; no gradient: piecewise constant steps)."""
    a, b = promote(x1, x2, "nextafter")
    return Tensor._make(a._backend.xp.nextafter(a._data, b._data), a._backend, False, None, 0)


def conj(x, /):
    """The complex conjugate: a real array is its own conjugate (complex dtypes are not supported)."""
    return _ops.clone(x)


def real(x, /):
    """The real part: a real array itself (complex dtypes are not supported)."""
    return _ops.clone(x)


def imag(x, /):
    """The imaginary part: zeros for a real array (complex dtypes are not supported)."""
    return _factories.zeros_like(x)


__all__ = _UNARY + _BINARY + ["equal", "floor_divide", "sign", "bitwise_invert", "positive", "round", "clip", "nextafter",
                              "conj", "real", "imag", "promote"]
