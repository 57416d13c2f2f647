"""A NumPy stand-in for the `cupy` and `cupyx` modules, so backends/cupy.py runs on machines without a GPU.

It offers only names that real CuPy has (tests/test_cupy_backend.py checks each against the installed cupy
where one can be imported): a call the backend makes that CuPy lacks fails here too. Kernels run as written:
a RawKernel launch and an ElementwiseKernel call run the kernel's CUDA source built for the CPU by
backends/cuda_cpu.py (the system C++ compiler), with the backend's own grid, block and arguments; nothing stands
in for a kernel's maths. What the stand-in cannot show: that arrays stay on the device (host NumPy arrays are
this module's ndarray), CuPy-only dtype or broadcasting quirks, races between threads (the build runs them one
after another), kernel speed.
"""
import contextlib
import contextvars
import types

import numpy as np

from micrograd.backends import cuda_cpu
from micrograd.backends import cupy as cupy_backend
from micrograd.backends import elementwise
from micrograd.backends.reference import backend as REFERENCE

# NumPy names the backend reaches through `xp` (ReferenceBackend's code included); each exists on cupy.
NUMPY_NAMES = (
    "ndarray", "array", "asarray", "ascontiguousarray", "empty", "zeros", "full", "arange", "eye",
    "negative", "exp", "log", "sqrt", "abs", "sign", "tanh", "add", "subtract", "multiply", "true_divide",
    "power", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "where", "sum", "max", "min", "argmax", "argmin", "isfinite", "broadcast_to", "concatenate", "pad",
    "matmul", "bincount", "may_share_memory", "floor_divide", "remainder", "trunc", "all", "any",
    "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "invert",
    "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10", "log1p",
    "expm1", "exp2", "floor", "ceil", "rint", "isnan", "isinf", "signbit", "logical_not", "logical_and",
    "logical_or", "logical_xor", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmod", "cumsum",
    "cumprod", "argsort", "flip", "einsum",
)
LINALG_NAMES = ("cholesky", "inv", "solve", "slogdet", "eigh", "svd", "qr")  # cupy.linalg's, as NumPy's


# A test may run only some blocks of a launch (the 64-bit offset tests): a function of the grid giving the range of
# block numbers to run, or None for all of them.
_BLOCKS = contextvars.ContextVar("blocks", default=None)


@contextlib.contextmanager
def only_blocks(choose):
    """Within the block, RawKernel launches run only the blocks in range(*choose(grid)) (blocks numbered x first).
    Blocks of these kernels are independent, so this is what those blocks do in a full launch."""
    token = _BLOCKS.set(choose)
    try:
        yield
    finally:
        _BLOCKS.reset(token)


class RawKernel:
    """cupy.RawKernel(code, name): the kernel's CUDA source built for the CPU (backends/cuda_cpu.py); calling it as
    kernel(grid, block, args) runs that build with exactly this grid, block and these arguments."""

    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False, **kwargs):
        assert f"{name}(" in code, f"kernel {name!r} is not defined in its source"
        self.code, self.name = code, name
        self._cpu = cuda_cpu.kernel(code, name)

    def __call__(self, grid, block, args, shared_mem=0, **kwargs):
        assert isinstance(args, tuple), "RawKernel arguments go in a tuple"
        for a in args:  # CuPy passes only device arrays and NumPy scalars of a fixed C type
            assert isinstance(a, (np.ndarray, np.generic)) and type(a) not in (int, float, bool), type(a)
        choose = _BLOCKS.get()
        self._cpu(grid, block, args, blocks=None if choose is None else choose(grid))


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name): a call runs the kernel's CUDA operation,
    built for the CPU as one thread per element (cupy.py's elementwise_harness, launched as the raw kernels are),
    with CuPy's calling convention: inputs, then optionally every output; a call with inputs only returns new
    arrays. As CuPy, the inputs (scalars too) are broadcast to the output shape; the harness takes them flat."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.kernel = elementwise.KERNELS[name[len("mg_"):]]
        assert (in_params, out_params, operation) == self.kernel.cuda(), f"{name} was not generated from its definition"
        self.name = name
        self.n_in, self.n_out = len(in_params.split(",")), len(out_params.split(","))
        self._builds = {}  # dtype -> the harness built for it

    def __call__(self, *args, **kwargs):
        k = self.kernel
        assert len(args) in (self.n_in, self.n_in + self.n_out) and not kwargs, \
            "CuPy takes the inputs, or the inputs and every output"
        ins, outs = args[:self.n_in], list(args[self.n_in:])
        arrays = [a for a in ins if isinstance(a, np.ndarray)]
        dtype = arrays[0].dtype if arrays else np.result_type(*ins)
        shape = np.broadcast_shapes(*(np.shape(a) for a in list(ins) + outs))
        if not outs:
            outs = [np.empty(shape, dtype) for _ in range(self.n_out)]
        flat_in = [np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype), shape)).reshape(-1) for a in ins]
        flat_out = [o.reshape(-1) if o.flags.c_contiguous else np.ascontiguousarray(o).reshape(-1) for o in outs]
        n = int(np.prod(shape))
        if n:
            build = self._builds.get(dtype)
            if build is None:
                build = self._builds[dtype] = cuda_cpu.kernel(*cupy_backend.elementwise_source(k, dtype))
            build(*cupy_backend._launch(n), (*flat_in, *flat_out, np.int64(n)))
        for o, f in zip(outs, flat_out):
            if not np.shares_memory(o, f):
                o[...] = f.reshape(o.shape)
        return outs[0] if len(outs) == 1 else tuple(outs)


def _diagonal(a, offset=0, axis1=0, axis2=1):
    """CuPy's diagonal is a writable view (NumPy's is read-only)."""
    return REFERENCE.diagonal(a, offset, axis1, axis2)


def _asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return np.array(a, copy=True, order=order)


class _Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def synchronize(self):
        return None

    def use(self):
        return None


class _Stream:
    """cupy.cuda.get_current_stream()'s: the null stream (its pointer 0); work on the host is already done."""

    ptr = 0

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
    cupy.diagonal = _diagonal
    cupy.linalg = types.SimpleNamespace(**{n: getattr(np.linalg, n) for n in LINALG_NAMES})
    cupy.RawKernel = RawKernel
    cupy.ElementwiseKernel = ElementwiseKernel
    cupy.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
        sliding_window_view=np.lib.stride_tricks.sliding_window_view))
    cupy.cuda = types.SimpleNamespace(Device=_Device, runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
                                      get_current_stream=lambda device=None: _Stream())
    cupyx = types.ModuleType("cupyx", "NumPy stand-in for cupyx (tests only)")
    cupyx.scatter_add = _scatter_add
    return cupy, cupyx


def offered_names():
    """Every dotted name the stand-in offers, as ("cupy" | "cupyx", "a.b.c"): the list checked against CuPy."""
    cupy, cupyx = make()
    names = [("cupy", n) for n in vars(cupy) if not n.startswith("__")]
    names = [(m, n) for m, n in names if n not in ("lib", "cuda", "linalg")]
    names += [("cupy", f"linalg.{n}") for n in LINALG_NAMES]
    names += [("cupy", "lib.stride_tricks.sliding_window_view"), ("cupy", "cuda.Device"),
              ("cupy", "cuda.runtime.getDeviceCount"), ("cupy", "cuda.get_current_stream"), ("cupy", "__version__")]
    names += [("cupyx", n) for n in vars(cupyx) if not n.startswith("__")]
    return names


def backend(name="cupy-standin"):
    """A CupyBackend over the stand-in."""
    cupy, cupyx = make()
    return cupy_backend.CupyBackend(cupy, cupyx, name=name)
