"""The Numba backend: NumPy arrays, with compiled kernels behind the hot primitives.

Two kinds of compiled code: the elementwise definitions of backends/elementwise.py, compiled from their one
definition (backends/_numba_elementwise.py), and the hand-written kernels of backends/_numba_kernels.py
(broadcasting arithmetic, reductions, row kernels, convolution, pooling, scatter-add), each this backend's
optimised version of a reference primitive and tested against it. Everything else is inherited from the numpy backend,
and so is every case a kernel does not cover (integer and bool dtypes, mixed dtypes, non-contiguous or
read-only inputs, exotic broadcasts): a kernel runs only on the contiguous float32/float64 layouts it was
written for, so it compiles once per dtype. exp and tanh in compiled code are backends/_numba_math.py's
vectorisable versions, so the definitions built on them (the sigmoid, GELU, the LSTM cell) and the softmax rows
compile to SIMD loops; NumPy keeps what it already does best: matrix products (BLAS), the rest of libm
(log, sqrt, sin, ...: its SIMD loops beat a scalar-libm kernel 2-4x), indexing, copies and padding. conv2d's
chunked patches-times-weights loop is the numpy backend's, with this backend's im2col/col2im kernels inside.
"""
import math

import numpy as np

from . import elementwise as E
from ._layout import groups as _groups, keep_rows, layout3 as _layout3, out_shape as _out_shape
from ._layout import single_run as _single_run
from .numpy import NumpyBackend
from .reference import ReferenceBackend, may_overlap

try:
    from . import _numba_elementwise as NE
    from . import _numba_kernels as K
except ImportError as exc:  # numba missing, or built for another NumPy: check_available says so
    K = NE = None
    _IMPORT_ERROR = exc

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Below these sizes (elements) NumPy's single call (~0.5 us of overhead) beats the kernel's dispatch (2-4 us):
# measured per primitive family; the tests set them to 0 so their small arrays exercise the kernels.
SMALL = {"binary": 8192, "flat": 1024, "reduce": 2048}
_WEAK = (float, int, bool)
_F64 = np.dtype(np.float64)


def check_available():
    """Raise ImportError saying why the backend cannot be used (numba missing or unusable)."""
    if K is None:
        raise ImportError(f"numba cannot be imported ({type(_IMPORT_ERROR).__name__}: {_IMPORT_ERROR}); install "
                          f"it with pip install 'micrograd[numba]'")


def _ok(a):
    """a is a contiguous, writeable float32/float64 ndarray: the one layout the kernels are compiled for."""
    return type(a) is np.ndarray and a.dtype in _FLOATS and a.flags.c_contiguous and a.flags.writeable


def _operands(a, b):
    """a and b as two kernel-ready arrays of one float dtype (a Python number becomes a 0-d array of the
    other operand's dtype, as NumPy 2's weak promotion does), or None where NumPy must handle them."""
    if type(a) in _WEAK and type(b) is np.ndarray and b.dtype in _FLOATS:
        a = np.asarray(a, b.dtype)
    elif type(b) in _WEAK and type(a) is np.ndarray and a.dtype in _FLOATS:
        b = np.asarray(b, a.dtype)
    if not (_ok(a) and _ok(b)) or a.dtype != b.dtype or a.size == 0 or b.size == 0:
        return None
    return a, b


class NumbaBackend(NumpyBackend):
    name = "numba"

    # elementwise definitions: compiled unless they call libm functions other than exp and tanh (log, sqrt, sin
    # ... stay with NumPy's vectorised ufuncs) and are not marked fused
    def run_elementwise(self, kernel, *operands, out=None):
        got = self._compiled(kernel, operands, out)
        if got is not None:
            return got
        return super().run_elementwise(kernel, *_views(operands), out=None if out is None else _views(out))

    def column_blocks(self, a, k):
        if not (_ok(a) and a.ndim == 2):
            return super().column_blocks(a, k)
        n = a.shape[1] // k
        return [_Cols(a, i * n, n) for i in range(k)]

    def _compiled(self, kernel, operands, out=None):
        """The compiled kernel's results, or None where it does not apply (NumPy's code runs instead)."""
        if kernel.scalar_libm and not kernel.fused:
            return None
        plan = _plan(kernel, operands, out)
        if plan is None:
            return None
        loop, args, results = plan
        NE.compiled(kernel, results[0].dtype)[loop](*args)
        return results[0] if len(results) == 1 else tuple(results)

    def lstm_cell(self, z, c):
        # As lstm_cell_backward below: the row loop of lstm_cell_units called directly.
        n = c.shape[-1] if c.ndim == 2 else 0
        if not (n and c.size >= SMALL["flat"] and _ok(z) and _ok(c) and z.dtype == c.dtype
                and z.shape == (c.shape[0], 4 * n)):
            return super().lstm_cell(z, c)
        act = np.empty((c.shape[0], 5 * n), c.dtype)
        h, c_new = np.empty_like(c), np.empty_like(c)
        NE.compiled(E.lstm_cell_units, c.dtype)[1](
            c.shape[0], n, z, 0, z, n, z, 2 * n, z, 3 * n, c, 0,
            act, 0, act, n, act, 2 * n, act, 3 * n, act, 4 * n, c_new, 0, h, 0)
        return h, c_new, act

    def lstm_cell_backward(self, gh, gc, act, c, dz=None):
        # The generic dispatch (run_elementwise over column_blocks) costs more than the kernel at an LSTM's
        # usual sizes, 28 times per sequence: the gate blocks' offsets are known here, so the row loop of
        # lstm_cell_units_backward is called directly.
        n = c.shape[-1] if c.ndim == 2 else 0
        if not (n and c.size >= SMALL["flat"] and all(_ok(a) and a.dtype == c.dtype for a in (gh, gc, act, c))
                and gh.shape == gc.shape == c.shape and act.shape == (c.shape[0], 5 * n)):
            return super().lstm_cell_backward(gh, gc, act, c, dz)
        dz = np.empty((c.shape[0], 4 * n), c.dtype) if dz is None else dz
        dc = np.empty_like(c)
        NE.compiled(E.lstm_cell_units_backward, c.dtype)[1](
            c.shape[0], n, gh, 0, gc, 0, act, 0, act, n, act, 2 * n, act, 3 * n, act, 4 * n, c, 0,
            dz, 0, dz, n, dz, 2 * n, dz, 3 * n, dc, 0)
        return dz, dc

    # the in-place updates: the flat loops called directly (optimizer steps and gradient sums call them often)
    def axpby_(self, y, a, x, b):
        # b == 0 is NumPy's (x is then not read at all: 0 * inf would make NaN).
        if type(a) in _WEAK and type(b) in _WEAK and b != 0 and _same_layout(y, x):
            t = y.dtype.type
            NE.compiled(E.axpby, y.dtype)[0](y.reshape(-1), t(a), x.reshape(-1), t(b))
            return y
        return super().axpby_(y, a, x, b)

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        if dampening != 1 and _same_layout(p, buf, g):  # dampening 1: g is not read (NumPy's two updates)
            t = p.dtype.type
            NE.compiled(E.sgd_momentum, p.dtype)[0](p.reshape(-1), buf.reshape(-1), g.reshape(-1), t(lr),
                                                    t(momentum), t(1 - dampening))
            return p
        return super().sgd_momentum_(p, buf, g, lr, momentum, dampening)

    def _binary(self, op, a, b, fallback):
        small = SMALL["binary"]
        if getattr(a, "size", 1) < small and getattr(b, "size", 1) < small:  # checked first: it is the cheapest
            return fallback(a, b)
        ops = _operands(a, b)
        layout = ops and _layout3(ops[0].shape, ops[1].shape)
        if not layout:
            return fallback(a, b)
        a, b = ops
        shape, dims, sa, sb = layout
        out = np.empty(shape, a.dtype)
        K.binary3(op, a.reshape(-1), sa, b.reshape(-1), sb, out.reshape(dims))
        return out

    def add(self, a, b):
        return self._binary(K.ADD, a, b, super().add)

    def sub(self, a, b):
        return self._binary(K.SUB, a, b, super().sub)

    def mul(self, a, b):
        return self._binary(K.MUL, a, b, super().mul)

    def div(self, a, b):
        return self._binary(K.DIV, a, b, super().div)

    def maximum(self, a, b):
        return self._binary(K.MAXIMUM, a, b, super().maximum)

    def minimum(self, a, b):
        return self._binary(K.MINIMUM, a, b, super().minimum)

    # reductions: one (outer, axis, inner) pass per run of adjacent reduced axes, the last run first
    def _reduce(self, op, a, axis, keepdims, fallback):
        axes = tuple(range(a.ndim)) if axis is None else axis
        runs = _groups(a.shape, axes) if _ok(a) and a.size >= max(SMALL["reduce"], 1) else []
        if not any(red for red, _ in runs):
            return fallback(a, axis, keepdims)
        x = a
        while any(red for red, _ in runs):
            k = max(i for i, (red, _) in enumerate(runs) if red)
            outer = math.prod(n for _, n in runs[:k])
            inner = math.prod(n for _, n in runs[k + 1:])
            out = np.empty((outer, inner), _F64 if op == K.SUM else a.dtype)
            K.reduce3(op, x.reshape(outer, runs[k][1], inner), out)
            x = out
            del runs[k]
        return x.astype(a.dtype, copy=False).reshape(_out_shape(a.shape, axes, keepdims))

    def sum(self, a, axis, keepdims):
        return self._reduce(K.SUM, a, axis, keepdims, super().sum)

    def max(self, a, axis, keepdims):
        return self._reduce(K.MAX, a, axis, keepdims, super().max)

    def min(self, a, axis, keepdims):
        return self._reduce(K.MIN, a, axis, keepdims, super().min)

    # row kernels
    def logsumexp(self, a, axis, keepdims):
        dims = _single_run(a.shape, axis) if _ok(a) and a.size else None
        if dims is None:
            return super().logsumexp(a, axis, keepdims)
        out = np.empty((dims[0], dims[2]), a.dtype)
        K.logsumexp3(a.reshape(dims), out)
        return out.reshape(_out_shape(a.shape, axis, keepdims))

    def _softmax(self, a, axis, log, fallback):
        if not _ok(a) or a.ndim == 0 or a.size == 0:
            return fallback(a, axis)
        out = np.empty_like(a)
        dims = (math.prod(a.shape[:axis]), a.shape[axis], math.prod(a.shape[axis + 1:]))
        if dims[2] == 1:  # the last axis (attention, classifiers): contiguous rows, vectorised loops
            K.softmax_rows(a.reshape(dims[:2]), out.reshape(dims[:2]), log)
        else:
            K.softmax3(a.reshape(dims), out.reshape(dims), log)
        return out

    def softmax(self, a, axis):
        return self._softmax(a, axis, False, super().softmax)

    def masked_softmax(self, a, keep):
        ok = _ok(a) and a.ndim >= 1 and a.size and (keep is None or (type(keep) is np.ndarray
                                                                      and keep.dtype == np.bool_))
        rows = keep_rows(np, keep, a.shape) if ok else None
        if rows is None:
            return super().masked_softmax(a, keep)
        n = a.shape[-1]
        out = np.empty_like(a)
        K.masked_softmax_rows(a.reshape(-1, n), rows, out.reshape(-1, n))
        return out

    def softmax_backward(self, y, g, axis):
        if not (_ok(y) and _ok(g) and y.dtype == g.dtype and y.shape == g.shape and y.ndim and y.size
                and axis == y.ndim - 1):
            return super().softmax_backward(y, g, axis)
        out = np.empty_like(y)
        rows = (y.size // y.shape[-1], y.shape[-1])
        K.softmax_backward_rows(y.reshape(rows), g.reshape(rows), out.reshape(rows))
        return out

    def log_softmax(self, a, axis):
        return self._softmax(a, axis, True, super().log_softmax)

    def softmax_cross_entropy(self, logits, targets, ignore_index):
        if not (_ok(logits) and logits.ndim == 2 and _targets_ok(targets, logits.shape, ignore_index)):
            return super().softmax_cross_entropy(logits, targets, ignore_index)
        loss = np.empty(logits.shape[0], logits.dtype)
        lse = np.empty(logits.shape[0], logits.dtype)
        K.softmax_cross_entropy(logits, np.ascontiguousarray(targets), ignore_index, loss, lse)
        return loss, lse

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        if not (_ok(logits) and logits.ndim == 2 and _targets_ok(targets, logits.shape, ignore_index)
                and lse.dtype == g.dtype == logits.dtype and lse.shape == g.shape == targets.shape):
            return super().softmax_cross_entropy_backward(logits, targets, lse, g, ignore_index)
        out = np.empty_like(logits)
        K.softmax_cross_entropy_backward(logits, np.ascontiguousarray(targets), np.ascontiguousarray(lse),
                                         np.ascontiguousarray(g), ignore_index, out)
        return out

    # batch normalisation: statistics, the per-channel affine map and its gradient, one fused pass each
    @staticmethod
    def _nc_s(x):
        return x.reshape(x.shape[0], x.shape[1], -1)

    def batch_norm_stats(self, x):
        if not (_ok(x) and x.ndim >= 2 and x.size):
            return super().batch_norm_stats(x)
        mean, var = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], x.dtype)
        K.batch_norm_stats(self._nc_s(x), mean, var)
        return mean, var

    def batch_norm_apply(self, x, mean, invstd, weight, bias):
        if not (_ok(x) and x.ndim >= 2 and x.size):
            return super().batch_norm_apply(x, mean, invstd, weight, bias)
        scale, shift = self.batch_norm_affine(mean, invstd, weight, bias)
        out = np.empty_like(x)
        K.scale_shift(self._nc_s(x), np.ascontiguousarray(scale, x.dtype), np.ascontiguousarray(shift, x.dtype),
                      self._nc_s(out))
        return out

    def batch_norm_backward(self, g, x, mean, invstd, weight, training):
        if not (_ok(x) and _ok(g) and g.dtype == x.dtype and g.shape == x.shape and x.ndim >= 2 and x.size):
            return super().batch_norm_backward(g, x, mean, invstd, weight, training)
        ch = x.shape[1]
        n = x.size // ch
        sg, sgx = np.empty(ch, np.float64), np.empty(ch, np.float64)
        mean64 = np.asarray(mean, np.float64)
        K.batch_norm_backward_sums(self._nc_s(g), self._nc_s(x), mean64, sg, sgx)
        invstd64 = np.asarray(invstd, np.float64)
        scale = invstd64 if weight is None else invstd64 * weight
        gweight, gbias = (sgx * invstd64).astype(x.dtype), sg.astype(x.dtype)
        if training:  # gx = scale (g - sg / n - (x - mean) invstd^2 sgx / n)
            b = -scale * invstd64 * invstd64 * sgx / n
            k = -scale * sg / n - b * mean64
        else:
            b, k = np.zeros(ch), np.zeros(ch)
        out = np.empty_like(x)
        K.affine2(self._nc_s(g), self._nc_s(x), scale.astype(x.dtype), b.astype(x.dtype), k.astype(x.dtype),
                  self._nc_s(out))
        return out, gweight, gbias

    def layer_norm(self, x, weight, bias, eps):
        affine = weight is not None and bias is not None
        if not (_ok(x) and x.ndim == 2 and x.size and (weight is None) == (bias is None)
                and (not affine or (weight.dtype == bias.dtype == x.dtype))):
            return super().layer_norm(x, weight, bias, eps)
        y = np.empty_like(x)
        mean, invstd = np.empty(x.shape[0], x.dtype), np.empty(x.shape[0], x.dtype)
        w = np.ascontiguousarray(weight) if affine else x[0]
        b = np.ascontiguousarray(bias) if affine else x[0]
        K.layer_norm(x, w, b, float(eps), affine, y, mean, invstd)
        return y, mean, invstd

    def layer_norm_backward(self, g, x, mean, invstd, weight):
        if not (_ok(x) and _ok(g) and g.shape == x.shape and g.dtype == x.dtype and x.ndim == 2 and x.size
                and (weight is None or weight.dtype == x.dtype)):
            return super().layer_norm_backward(g, x, mean, invstd, weight)
        affine = weight is not None
        gx = np.empty_like(x)
        gw, gb = np.empty(x.shape[1]), np.empty(x.shape[1])
        K.layer_norm_backward(g, x, np.ascontiguousarray(mean), np.ascontiguousarray(invstd),
                              np.ascontiguousarray(weight) if affine else x[0], affine, gx, gw, gb)
        return gx, gw.astype(x.dtype), gb.astype(x.dtype)

    # scatter-add: integer arrays on the leading axes (embedding and row-picking gradients; the numpy backend's
    # index_add plans them) get a kernel
    @staticmethod
    def _sum_rows(pos, vals, rows, d):
        out = np.empty((rows, d), vals.dtype)
        K.index_add_rows(pos, vals, out)
        return out

    # convolution and pooling: the kernels work on whole (n, c) image planes
    # im2col / col2im (the reference's allocate, these fill) and conv2d's chunks (NumpyBackend.conv2d), by the kernels
    _conv_dx_wide = False  # col2im's kernel adds rows as vectors: no padded layout needed

    def _im2col_into(self, x, kh, kw, stride, out):
        if not (_ok(x) and _ok(out) and out.dtype == x.dtype):
            return super()._im2col_into(x, kh, kw, stride, out)
        n, c, h, w = x.shape
        K.im2col(x.reshape(n * c, h, w), kh, kw, stride, out.reshape((n * c,) + out.shape[2:]))

    def _col2im_into(self, cols, stride, out):
        cols = np.ascontiguousarray(cols)
        if not (_ok(cols) and _ok(out) and out.dtype == cols.dtype):
            return super()._col2im_into(cols, stride, out)
        n, c, h, w = out.shape
        K.col2im(cols.reshape((n * c,) + cols.shape[2:]), stride, out.reshape(n * c, h, w))

    def max_pool2d(self, x, kh, kw, sh, sw):
        if not _ok(x):
            return super().max_pool2d(x, kh, kw, sh, sw)
        n, c, h, w = x.shape
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        out = np.empty((n, c, oh, ow), x.dtype)
        idx = np.empty((n, c, oh, ow), np.int64)
        K.max_pool2d(x.reshape(n * c, h, w), kh, kw, sh, sw, out.reshape(n * c, oh, ow), idx.reshape(n * c, oh, ow))
        return out, idx

    def max_pool2d_backward(self, g, indices, shape):
        g = np.ascontiguousarray(g)
        if not _ok(g) or indices.dtype != np.int64:
            return super().max_pool2d_backward(g, indices, shape)
        n, c, h, w = shape
        out = np.empty((n * c, h * w), g.dtype)
        K.max_pool2d_backward(g.reshape(n * c, -1), np.ascontiguousarray(indices).reshape(n * c, -1), out)
        return out.reshape(shape)


def _targets_ok(targets, shape, ignore_index):
    """int64 class indices, one per row, each a column of `shape` or ignore_index (never read out of bounds)."""
    if type(targets) is not np.ndarray or targets.dtype != np.int64 or targets.shape != shape[:1]:
        return False
    return not np.any(((targets < 0) | (targets >= shape[1])) & (targets != ignore_index))


class _Cols:
    """Columns offset .. offset + width of a C-contiguous 2-d array: an operand of the compiled row loops."""

    __slots__ = ("parent", "offset", "width")

    def __init__(self, parent, offset, width):
        self.parent, self.offset, self.width = parent, offset, width

    def view(self):
        return self.parent[:, self.offset:self.offset + self.width]


def _views(operands):
    return tuple(o.view() if type(o) is _Cols else o for o in operands)


def _plan(kernel, operands, out):
    """(the loop to run: 0 flat, 1 rows; its arguments; the output arrays) for `operands`, or None where the
    loops do not apply. They take arrays of one float dtype, all C-contiguous and of one shape (the flat loop),
    or 2-d arrays and column blocks of one (rows, cols) shape (the row loop), none too small, and for in-place
    kernels none overlapping another. New outputs go to `out` or to new arrays. One plain pass: on an LSTM's
    28 steps per batch this dispatch runs 28 times per backward."""
    first = operands[0]  # the cheapest check first: small arrays are NumPy's (see SMALL)
    if type(first) is np.ndarray and first.size < SMALL["flat"]:
        return None
    scalars, shape, dt, blocked, checked = kernel.scalars, None, None, False, set()
    for o in operands if out is None else list(operands) + list(out):
        if type(o) is _Cols:
            base, oshape, blocked = o.parent, (o.parent.shape[0], o.width), True
        elif type(o) is np.ndarray:
            base, oshape = o, o.shape
        else:
            continue  # a scalar (checked by the kernel's signature below)
        if shape is None:
            shape, dt = oshape, base.dtype
            if dt not in _FLOATS:
                return None
        if oshape != shape or (id(base) not in checked and not (base.dtype == dt and _ok(base))):
            return None
        checked.add(id(base))
    if shape is None or math.prod(shape) < max(SMALL["flat"], 1) or (blocked and len(shape) != 2):
        return None
    if kernel.inplace and _overlap([o.parent if type(o) is _Cols else o for p, o in zip(kernel.params, operands)
                                    if p not in scalars]):
        return None
    new = list(out) if out is not None else [np.empty(shape, dt) for _ in kernel.new_outputs]
    outs = [operands[kernel.params.index(o)] for o in kernel.inplace] + new
    t = dt.type
    if not blocked:
        return 0, [o.reshape(-1) if type(o) is np.ndarray else t(o) for o in list(operands) + new], outs
    args = [shape[0], shape[1]]
    for o in list(operands) + new:
        if type(o) is _Cols:
            args += [o.parent, o.offset]
        elif type(o) is np.ndarray:
            args += [o, 0]
        else:
            args.append(t(o))
    return 1, args, [o.view() if type(o) is _Cols else o for o in outs]


def _alike(arrays):
    """Kernel-ready arrays (see _ok) of one dtype and shape."""
    first = arrays[0]
    dt, shape = first.dtype, first.shape
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dt or a.shape != shape or not a.flags.c_contiguous \
                or not a.flags.writeable:
            return False
    return dt in _FLOATS


def _same_layout(*arrays):
    """Kernel-ready arrays of one shape and dtype, none overlapping another: what the flat loops take."""
    first = arrays[0]
    for a in arrays:
        if not (_ok(a) and a.dtype == first.dtype and a.shape == first.shape):
            return False
    return not _overlap(arrays)


def _overlap(arrays):
    """Whether two of the arrays may share memory, the same array twice excepted: a loop that loads every
    operand of an element before storing it allows exact aliasing, not a shifted overlap."""
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            if a is not b and may_overlap(a, b):
                return True
    return False


def _compiled_primitive(kernel):
    """The numba version of a primitive definition: its flat loop on same-shaped contiguous arrays (checked
    here, the common case), the general dispatch (_compiled) otherwise, and the numpy backend's version, or the
    reference evaluation, where neither applies."""
    fallback = getattr(NumpyBackend, kernel.name)
    if getattr(fallback, "kernel", None) is kernel:  # no host fast path: evaluate the definition directly
        def fallback(self, *operands):
            return ReferenceBackend.run_elementwise(self, kernel, *operands)
    simple = len(kernel.new_outputs) == 1 and not kernel.inplace and not kernel.scalars

    def primitive(self, *operands):
        first = operands[0]
        if type(first) is np.ndarray and first.size >= SMALL["flat"]:  # small arrays: NumPy's (see SMALL)
            if simple and _alike(operands):  # a new output: the operands may overlap one another freely
                out = np.empty(first.shape, first.dtype)
                loop = NE.compiled(kernel, first.dtype)[0]
                if len(operands) == 2:  # the activations' gradients: spelled out, no comprehension (hot path)
                    loop(first.reshape(-1), operands[1].reshape(-1), out.reshape(-1))
                else:
                    loop(*[o.reshape(-1) for o in operands], out.reshape(-1))
                return out
            got = self._compiled(kernel, operands)
            if got is not None:
                return got
        return fallback(self, *operands)
    primitive.__name__ = primitive.__qualname__ = kernel.name
    primitive.__doc__ = kernel.__doc__
    return primitive


for _kernel in E.KERNELS.values():
    if _kernel.primitive and (_kernel.fused or not _kernel.scalar_libm):
        setattr(NumbaBackend, _kernel.name, _compiled_primitive(_kernel))


def warm(dtypes=(np.float32, np.float64)):
    """Compile every kernel for `dtypes`, or load it from Numba's disk cache: a first training step, a test
    session or a timing then pays nothing for it. The elementwise definitions warm themselves; the list below
    is the hand-written kernels'."""
    saved = dict(SMALL)
    SMALL.update(dict.fromkeys(SMALL, 0))  # the small arrays below must reach the kernels
    try:
        NE.warm(dtypes)
        _warm(backend, dtypes)
    finally:
        SMALL.update(saved)


def _warm(b, dtypes):
    for dt in dtypes:
        x = np.linspace(-2, 2, 2 * 3 * 6 * 6, dtype=dt).reshape(2, 3, 6, 6)
        for op in (b.add, b.sub, b.mul, b.div, b.maximum, b.minimum):
            op(x, x[:1, :, :1, :1].copy())
        for reduce in (b.sum, b.max, b.min):
            reduce(x, (0, 2, 3), False)
            reduce(x, (3,), False)
        b.logsumexp(x, (1,), False), b.softmax(x, 3), b.log_softmax(x, 3)
        rows = x.reshape(12, 18)
        targets = np.arange(12, dtype=np.int64) % 18
        loss, lse = b.softmax_cross_entropy(rows, targets, -100)
        b.softmax_cross_entropy_backward(rows, targets, lse, loss, -100)
        b.col2im(b.im2col(x, 3, 3, 1), x.shape, 1), b.col2im(b.im2col(x, 3, 3, 2), x.shape, 2)
        out, idx = b.max_pool2d(x, 2, 2, 2, 2)
        b.max_pool2d_backward(out, idx, x.shape)
        b.index_add((20, 18), (targets,), rows, dt)
        mean, var = b.batch_norm_stats(x)
        invstd = 1 / np.sqrt(var + 1e-5)
        b.batch_norm_backward(b.batch_norm_apply(x, mean, invstd, var, mean), x, mean, invstd, var, True)
        for w in (None, rows[0].copy()):
            y, m, s = b.layer_norm(rows, w, None if w is None else w * 2, 1e-5)
            b.layer_norm_backward(y, rows, m, s, w)


backend = NumbaBackend()
