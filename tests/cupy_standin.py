"""A NumPy stand-in for the `cupy` and `cupyx` modules, so backends/cupy.py runs on machines without a GPU.

It offers only names that real CuPy has (tests/test_cupy_backend.py checks each against the installed cupy
where one can be imported): a call the backend makes that CuPy lacks fails here too. Kernel classes look up
the kernel's NumPy twin in backends/cupy.py's TWINS by name and run it; their CUDA source is compiled only by
nvcc (tests/test_cupy_backend.py) and on a real GPU. What the stand-in cannot show: that arrays stay on the
device (host NumPy arrays are this module's ndarray), CuPy-only dtype or broadcasting quirks, kernel speed.
"""
import types

import numpy as np

from micrograd.backends import cupy as cupy_backend

# NumPy names the backend reaches through `xp` (NumpyBackend's code included); each exists on cupy.
NUMPY_NAMES = (
    "ndarray", "array", "asarray", "ascontiguousarray", "empty", "empty_like", "zeros", "full", "arange", "eye",
    "negative", "reciprocal", "exp", "log", "sqrt", "abs", "sign", "tanh", "add", "subtract", "multiply", "true_divide",
    "power", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "where", "sum", "max", "min", "argmax", "argmin", "isfinite", "broadcast_to", "concatenate", "pad",
    "matmul", "bincount", "take_along_axis",
)


class RawKernel:
    """cupy.RawKernel(code, name): calling it as kernel(grid, block, args) runs the NumPy twin on args."""

    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False, **kwargs):
        assert f"{name}(" in code, f"kernel {name!r} is not defined in its source"
        self.code, self.name, self._twin = code, name, cupy_backend.TWINS[name]

    def __call__(self, grid, block, args, shared_mem=0, **kwargs):
        assert isinstance(args, tuple), "RawKernel arguments go in a tuple"
        for a in args:  # CuPy passes only device arrays and NumPy scalars of a fixed C type
            assert isinstance(a, (np.ndarray, np.generic)) and type(a) not in (int, float, bool), type(a)
        self._twin(*args)


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name): a call returns the NumPy twin's result."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.in_params, self.out_params, self.operation, self.name = in_params, out_params, operation, name
        self._twin = cupy_backend.TWINS[name]

    def __call__(self, *args, **kwargs):
        n_in, n_out = len(self.in_params.split(",")), len(self.out_params.split(","))
        assert len(args) in (n_in, n_in + n_out) and not kwargs, \
            "the stand-in supports kernels called with their inputs, or inputs and outputs"
        return np.asarray(self._twin(*args))


def _asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return np.array(a, copy=True, order=order)


class _Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def synchronize(self):
        return None


def _scatter_add(a, slices, value):
    np.add.at(a, slices, value)


def make():
    """(cupy, cupyx): new module objects standing in for the real ones."""
    cupy = types.ModuleType("cupy", "NumPy stand-in for cupy (tests only)")
    for name in NUMPY_NAMES:
        setattr(cupy, name, getattr(np, name))
    cupy.__version__ = "stand-in"
    cupy.asnumpy = _asnumpy
    cupy.RawKernel = RawKernel
    cupy.ElementwiseKernel = ElementwiseKernel
    cupy.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
        sliding_window_view=np.lib.stride_tricks.sliding_window_view))
    cupy.cuda = types.SimpleNamespace(Device=_Device, runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    cupyx = types.ModuleType("cupyx", "NumPy stand-in for cupyx (tests only)")
    cupyx.scatter_add = _scatter_add
    return cupy, cupyx


def offered_names():
    """Every dotted name the stand-in offers, as ("cupy" | "cupyx", "a.b.c"): the list checked against CuPy."""
    cupy, cupyx = make()
    names = [("cupy", n) for n in vars(cupy) if not n.startswith("__")]
    names = [(m, n) for m, n in names if n not in ("lib", "cuda")]
    names += [("cupy", "lib.stride_tricks.sliding_window_view"), ("cupy", "cuda.Device"),
              ("cupy", "cuda.runtime.getDeviceCount"), ("cupy", "__version__")]
    names += [("cupyx", n) for n in vars(cupyx) if not n.startswith("__")]
    return names


def backend(name="cupy-standin"):
    """A CupyBackend over the stand-in."""
    cupy, cupyx = make()
    return cupy_backend.CupyBackend(cupy, cupyx, name=name)
