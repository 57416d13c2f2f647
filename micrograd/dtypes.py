"""The dtypes micrograd supports, their names and PyTorch's aliases, the default float dtype, and PyTorch's type
promotion (the top-level namespace's; micrograd.numpy follows the Array API standard's).
"""
import numbers

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
bool_ = np.dtype(np.bool_)
float16 = np.dtype(np.float16)  # a name PyTorch programs use: making a tensor of it raises "not supported"


class _Unsupported:
    """A PyTorch dtype name NumPy has no dtype for (bfloat16, complex32): it exists, and using it raises."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"micrograd.{self.name}"


bfloat16 = _Unsupported("bfloat16")

FLOATS = (float32, float64)
INTEGERS = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
SUPPORTED = FLOATS + INTEGERS + (bool_,)
_NAMES = ", ".join(d.name for d in SUPPORTED)

_default_float = float32


def set_default_dtype(dtype):
    """The dtype of Python floats in new tensors and of float results of integer inputs (float32 or float64)."""
    global _default_float
    dt = as_dtype(dtype, "set_default_dtype")
    if dt not in FLOATS:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type; got "
                        f"{dt.name}")
    _default_float = dt


def get_default_dtype():
    return _default_float


def as_dtype(dtype, op="dtype"):
    """The NumPy dtype for `dtype` (a micrograd/NumPy dtype, a Python type or a name); others raise TypeError."""
    if dtype is float:
        return _default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, _Unsupported):
        raise TypeError(f"{op}: unsupported dtype; got {dtype.name}: {dtype.name} is not supported (supported: "
                        f"{_NAMES})")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unsupported dtype; got {dtype!r} (supported: {_NAMES})") from None
    if dt not in SUPPORTED:
        what = "complex dtypes are" if dt.kind == "c" else f"{dt.name} is"
        raise TypeError(f"{op}: unsupported dtype; got {dt.name}: {what} not supported (supported: {_NAMES})")
    return dt


def is_floating(dtype):
    return dtype == float32 or dtype == float64


def category(dtype):
    """0 for bool, 1 for integers, 2 for floats: promotion never moves a result to a lower category."""
    return 2 if dtype.kind == "f" else (0 if dtype.kind == "b" else 1)


def promote_types(a, b):
    """PyTorch's promote_types: the wider of two dtypes of one category; an integer or bool with a float gives the
    float, a bool with an integer the integer."""
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    if ca == 2:
        return float64 if float64 in (a, b) else float32
    return np.promote_types(a, b)


def _scalar_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, numbers.Integral):
        return int64
    return _default_float


def result_type(*operands):
    """PyTorch's result type of an op on Tensors (or arrays) and Python numbers: tensors with dimensions decide
    within their category; 0-d tensors, then numbers, count only when they are of a higher category (a
    number's dtype is then the default for its category: int64, or the default float)."""
    dim = zero = wrapped = None
    for x in operands:
        if hasattr(x, "dtype") and not isinstance(x, np.generic):
            group = "dim" if x.ndim else "zero"
            dt = x.dtype
        else:
            group, dt = "wrapped", np.dtype(x.dtype) if isinstance(x, np.generic) else _scalar_dtype(x)
        if group == "dim":
            dim = dt if dim is None else promote_types(dim, dt)
        elif group == "zero":
            zero = dt if zero is None else promote_types(zero, dt)
        else:
            wrapped = dt if wrapped is None else promote_types(wrapped, dt)
    return _combine(dim, _combine(zero, wrapped))


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None or category(higher) == 2:
        return higher
    if higher == bool_ or category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def can_cast(from_, to):
    """PyTorch's can_cast: whether an in-place op may write a result of dtype `from_` into a tensor of dtype `to`
    (no float into an integer tensor, nothing but bool into a bool tensor)."""
    return category(from_) <= category(to)


def float_result(dtype):
    """The dtype of a floating result from inputs of `dtype`: itself if floating, else the default float."""
    return dtype if dtype.kind == "f" else _default_float


def infer_dtype(data):
    """Dtype for `mg.tensor(data)` as PyTorch infers it: Python floats -> the default float, ints -> int64, bools
    -> bool; NumPy arrays keep theirs."""
    if isinstance(data, (np.ndarray, np.generic)):
        return as_dtype(data.dtype, "tensor")
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return _default_float
    if arr.dtype.kind in "iu":
        return int64
    if arr.dtype.kind == "b":
        return bool_
    raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} (dtype {arr.dtype})")


_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor", int32: "IntTensor",
               int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor", bool_: "BoolTensor"}


def type_string(dtype, cuda=False):
    """PyTorch's name of a tensor type: "torch.FloatTensor", "torch.cuda.LongTensor", ..."""
    name = _TYPE_NAMES.get(dtype, f"{dtype.name}Tensor")
    return f"torch.cuda.{name}" if cuda else f"torch.{name}"


def short_name(dtype):
    """PyTorch's short name of a dtype in messages: Float, Double, Long, Int, Bool, ..."""
    return type_string(dtype)[6:-6]


def from_type_string(name):
    """The dtype a PyTorch tensor type string names ("torch.FloatTensor", "torch.cuda.LongTensor")."""
    short = name.rpartition(".")[2]
    for dt, n in _TYPE_NAMES.items():
        if n == short:
            return dt
    raise TypeError(f"type: invalid type: '{name}'")
