"""The four dtypes micrograd supports, name parsing, and NumPy 2 promotion (Python scalars are weak)."""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int64, bool_)
FLOATS = (float32, float64)


def as_dtype(dtype, op="dtype"):
    """Return the NumPy dtype for `dtype` (an mg/NumPy dtype, a Python type or a name); others raise TypeError."""
    if dtype is float:
        return float64
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unsupported dtype; got {dtype!r} (supported: float32, float64, int64, bool)") from None
    if dt not in SUPPORTED:
        raise TypeError(f"{op}: unsupported dtype; got {dt.name} (supported: float32, float64, int64, bool)")
    return dt


def is_floating(dtype):
    return dtype == float32 or dtype == float64


def result_type(*args):
    """NumPy 2 promotion of dtypes and Python scalars (weak), identical on every backend."""
    return np.result_type(*args)


def infer_dtype(data):
    """Dtype for `mg.tensor(data)` as PyTorch infers it: Python floats -> float32, ints -> int64, arrays keep theirs."""
    if isinstance(data, (np.ndarray, np.generic)):
        dt = data.dtype
        if dt.kind == "f" and dt.itemsize < 4:
            raise TypeError(f"tensor: unsupported dtype; got {dt.name} (supported: float32, float64, int64, bool)")
        if dt.kind in "iu":
            return int64
        return dt if dt in SUPPORTED else as_dtype(dt, "tensor")
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int64
    if arr.dtype.kind == "b":
        return bool_
    raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} (dtype {arr.dtype})")
