"""A NumPy stand-in for the `cupy` and `cupyx` modules, so backends/cupy.py runs on machines without a GPU.

It offers only names that real CuPy has (tests/test_cupy_backend.py checks each against the installed cupy
where one can be imported): a call the backend makes that CuPy lacks fails here too. An ElementwiseKernel
runs the definition it was generated from (backends/elementwise.py) through the reference backend; a
RawKernel launch runs the reference primitive the kernel implements, its launch arguments mapped back to the
primitive's (LAUNCHES: argument plumbing only, no maths). Their CUDA source is compiled only by nvcc
(tests/test_cupy_backend.py) and on a real GPU. What the stand-in cannot show: that arrays stay on the device
(host NumPy arrays are this module's ndarray), CuPy-only dtype or broadcasting quirks, kernel speed.
"""
import types

import numpy as np

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


def _im2col(x, out, total, h, w, kh, kw, stride, oh, ow):
    out[...] = REFERENCE.im2col(x, int(kh), int(kw), int(stride))


def _col2im(cols, out, total, h, w, kh, kw, stride, oh, ow):
    out[...] = REFERENCE.col2im(cols, out.shape, int(stride))


def _max_pool2d(x, out, idx, total, h, w, kh, kw, sh, sw, oh, ow):
    out[...], idx[...] = REFERENCE.max_pool2d(x, int(kh), int(kw), int(sh), int(sw))


def _max_pool2d_backward(g, idx, out, total, per_plane, hw):
    out += REFERENCE.max_pool2d_backward(g, idx, out.shape)  # the kernel adds into a zeroed output


def _softmax_cross_entropy(logits, targets, loss, lse, n, c, ignore_index):
    loss[...], lse[...] = REFERENCE.softmax_cross_entropy(logits, targets, int(ignore_index))


def _softmax_cross_entropy_backward(logits, targets, lse, g, out, total, c, ignore_index):
    out[...] = REFERENCE.softmax_cross_entropy_backward(logits, targets, lse, g, int(ignore_index))


LAUNCHES = {"mg_im2col": _im2col, "mg_col2im": _col2im, "mg_max_pool2d": _max_pool2d,
            "mg_max_pool2d_backward": _max_pool2d_backward, "mg_softmax_cross_entropy": _softmax_cross_entropy,
            "mg_softmax_cross_entropy_backward": _softmax_cross_entropy_backward}


class RawKernel:
    """cupy.RawKernel(code, name): calling it as kernel(grid, block, args) runs the reference primitive."""

    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False, **kwargs):
        assert f"{name}(" in code, f"kernel {name!r} is not defined in its source"
        self.code, self.name = code, name
        self._launch = LAUNCHES[name.rsplit("_", 1)[0]]

    def __call__(self, grid, block, args, shared_mem=0, **kwargs):
        assert isinstance(args, tuple), "RawKernel arguments go in a tuple"
        for a in args:  # CuPy passes only device arrays and NumPy scalars of a fixed C type
            assert isinstance(a, (np.ndarray, np.generic)) and type(a) not in (int, float, bool), type(a)
        self._launch(*args)


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name): a call runs the definition it came from,
    with CuPy's calling convention (inputs, then optionally outputs; a call with inputs only returns new arrays)."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.kernel = elementwise.KERNELS[name[len("mg_"):]]
        assert (in_params, out_params, operation) == self.kernel.cuda(), f"{name} was not generated from its definition"

    def __call__(self, *args, **kwargs):
        k = self.kernel
        n_in = len(k.params) - len(k.inplace)
        assert len(args) in (n_in, len(k.params) + len(k.new_outputs)) and not kwargs, \
            "CuPy takes the inputs, or the inputs and every output"
        ins, outs = iter(args[:n_in]), args[n_in:]
        operands = [outs[k.inplace.index(p)] if p in k.inplace else next(ins) for p in k.params]
        new = outs[len(k.inplace):] or None
        return REFERENCE.run_elementwise(k, *operands, out=new)


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
    cupy.cuda = types.SimpleNamespace(Device=_Device, runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
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
              ("cupy", "cuda.runtime.getDeviceCount"), ("cupy", "__version__")]
    names += [("cupyx", n) for n in vars(cupyx) if not n.startswith("__")]
    return names


def backend(name="cupy-standin"):
    """A CupyBackend over the stand-in."""
    cupy, cupyx = make()
    return cupy_backend.CupyBackend(cupy, cupyx, name=name)
