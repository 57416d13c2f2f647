"""The reference backend: plain NumPy, obviously right; the oracle every backend is tested against.

Written against `self.xp` so a backend whose module mirrors NumPy (CuPy) can reuse it. Elementwise kernels
run their definitions (backends/elementwise.py) as they are; every other kernel's NumPy reference is here.
It has no host fast paths (those are the numpy backend's, backends/numpy.py) and changes nothing
process-wide. It is not a backend users select: the numpy, numba and cupy backends are tested against it.
"""
import math

import numpy as np

from . import elementwise as K
from .base import Backend


def _dense(a):
    """Whether the array's elements fill one block of memory with no gaps or repeats (any axis order)."""
    dims = sorted((s, n) for s, n in zip(a.strides, a.shape) if n != 1)
    expected = a.itemsize  # negative strides (NumPy's reversed views; PyTorch has none) count as not dense
    for stride, n in dims:
        if stride != expected:
            return False
        expected *= n
    return True


def may_overlap(a, b):
    """Whether arrays a and b may share memory (two distinct arrays that own their data never do: cheap to rule
    out on hot paths). `a is b` counts as overlapping; callers whose loops allow exact aliasing say so."""
    return a is b or ((getattr(a, "base", None) is not None or getattr(b, "base", None) is not None)
                      and np.may_share_memory(a, b))

_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
            "ge": "greater_equal"}


class ReferenceBackend(Backend):
    name = "reference"
    xp = np
    array_type = np.ndarray

    def _arr(self, x):
        """NumPy ufuncs return scalars for 0-d inputs; the contract says arrays."""
        return x if type(x) is self.array_type else self.xp.asarray(x)

    def run_elementwise(self, kernel, *operands, out=None):
        """The definition called on the arrays; results written into the in-place arguments and `out`."""
        if out is None and not kernel.inplace and len(kernel.outputs) == 1 and not kernel.transcendental:
            return self._arr(kernel(*operands))  # the common case: arithmetic, one new output
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            results = kernel(*operands)
        results = results if isinstance(results, tuple) else (results,)
        new = iter(out if out is not None else (None,) * len(kernel.new_outputs))
        done = []
        for name, value in zip(kernel.outputs, results):
            dst = operands[kernel.params.index(name)] if name in kernel.inplace else next(new)
            if dst is None:
                done.append(self._arr(value))
            else:
                dst[...] = value
                done.append(dst)
        return done[0] if len(done) == 1 else tuple(done)

    def relu(self, a):
        if a.dtype.kind != "f":  # integers and bools: NumPy's maximum keeps the dtype (the definition is for floats)
            return self._arr(self.xp.maximum(a, a.dtype.type(0)))
        return self.run_elementwise(K.relu, a)

    def column_blocks(self, a, k):
        n = a.shape[1] // k
        return [a[:, i * n:(i + 1) * n] for i in range(k)]

    def asarray(self, data, dtype):
        return self.xp.array(data, dtype=dtype, copy=True)

    def to_numpy(self, a):
        return np.array(a, copy=True)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype)

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=dtype)

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step, dtype=dtype)

    def eye(self, n, m, dtype):
        return self.xp.eye(n, m, dtype=dtype)

    def astype(self, a, dtype):
        return a.astype(dtype, copy=True)

    def copy(self, a):
        return self.xp.array(a, copy=True, order="C")

    def neg(self, a):
        return self._arr(self.xp.negative(a))

    def exp(self, a):
        return self._arr(self.xp.exp(a))

    def log(self, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._arr(self.xp.log(a))

    def sqrt(self, a):
        with np.errstate(invalid="ignore"):
            return self._arr(self.xp.sqrt(a))

    def abs(self, a):
        return self._arr(self.xp.abs(a))

    def sign(self, a):
        if a.dtype.kind != "f":
            return self._arr(self.xp.sign(a))
        xp = self.xp  # PyTorch's sign: (a > 0) - (a < 0), so 0 at NaN (NumPy's gives NaN)
        return self._arr(xp.subtract(xp.greater(a, 0), xp.less(a, 0), dtype=a.dtype))

    def tanh(self, a):
        return self._arr(self.xp.tanh(a))

    def ufunc(self, name, *arrays):
        if name not in self.UFUNCS:
            raise ValueError(f"ufunc: {name!r} is not one of the backend's elementwise functions "
                             f"({', '.join(sorted(self.UFUNCS))})")
        with np.errstate(all="ignore"):
            return self._arr(getattr(self.xp, name)(*arrays))

    def add(self, a, b):
        return self._arr(self.xp.add(a, b))

    def sub(self, a, b):
        return self._arr(self.xp.subtract(a, b))

    def mul(self, a, b):
        return self._arr(self.xp.multiply(a, b))

    def div(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._arr(self.xp.true_divide(a, b))

    def pow(self, a, b):
        xp = self.xp
        if a.dtype.kind in "iu" and getattr(b, "dtype", np.dtype(int)).kind in "iu" and bool(xp.any(b < 0)):
            # integer powers with negative exponents: 1 ** -n = 1, (-1) ** -n = +-1, anything else 0 (PyTorch's)
            safe = xp.power(a, xp.where(b < 0, 0, b))
            neg = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0)).astype(safe.dtype)
            return self._arr(xp.where(b < 0, neg, safe))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._arr(xp.power(a, b))

    def floor_divide(self, a, b):
        if a.dtype.kind in "iub":
            self._no_integer_zero(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._arr(self.xp.floor_divide(a, b))

    def trunc_divide(self, a, b):
        xp = self.xp
        if a.dtype.kind not in "iub":
            with np.errstate(divide="ignore", invalid="ignore"):
                return self._arr(xp.trunc(xp.true_divide(a, b)))
        self._no_integer_zero(b)
        q = xp.floor_divide(a, b)
        inexact = xp.not_equal(q * b, a) & xp.not_equal(xp.less(a, 0), xp.less(b, 0))
        return self._arr(q + inexact.astype(q.dtype))

    def remainder(self, a, b):
        if a.dtype.kind in "iub":
            self._no_integer_zero(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._arr(self.xp.remainder(a, b))

    def _no_integer_zero(self, b):
        if not bool(self.xp.all(b != 0)):
            raise ZeroDivisionError("integer division by zero")

    def bitwise(self, op, a, b):
        name = op if op.endswith("shift") else f"bitwise_{op}"
        return self._arr(getattr(self.xp, name)(a, b))

    def bitwise_not(self, a):
        return self._arr(self.xp.invert(a))

    def maximum(self, a, b):
        return self._arr(self.xp.maximum(a, b))

    def minimum(self, a, b):
        return self._arr(self.xp.minimum(a, b))

    def compare(self, op, a, b):
        return self._arr(getattr(self.xp, _COMPARE[op])(a, b))

    def where(self, cond, a, b):
        return self._arr(self.xp.where(cond, a, b))

    def clip(self, a, lo, hi):
        xp = self.xp
        out = a
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return self._arr(out if out is not a else a.copy())

    def sum(self, a, axis, keepdims):
        dtype = np.int64 if a.dtype.kind in "biu" else None
        return self._arr(a.sum(axis=axis, keepdims=keepdims, dtype=dtype))  # the method: no Python wrapper

    def max(self, a, axis, keepdims):
        return self._arr(a.max(axis=axis, keepdims=keepdims))

    def min(self, a, axis, keepdims):
        return self._arr(a.min(axis=axis, keepdims=keepdims))

    def prod(self, a, axis, keepdims):
        dtype = np.int64 if a.dtype.kind in "biu" else None
        with np.errstate(all="ignore"):
            return self._arr(a.prod(axis=axis, keepdims=keepdims, dtype=dtype))

    def cumsum(self, a, axis):
        return self._arr(self.xp.cumsum(a, axis=axis, dtype=np.int64 if a.dtype.kind in "biu" else None))

    def cumprod(self, a, axis):
        with np.errstate(all="ignore"):
            return self._arr(self.xp.cumprod(a, axis=axis, dtype=np.int64 if a.dtype.kind in "biu" else None))

    def argsort(self, a, axis, descending):
        xp = self.xp
        if not descending:
            return self._arr(xp.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False))
        # descending and stable: sort the reversed array ascending and read the result backwards
        n = a.shape[axis]
        rev = xp.flip(a, axis=axis)
        idx = xp.flip(xp.argsort(rev, axis=axis, kind="stable"), axis=axis)
        return self._arr((n - 1 - idx).astype(np.int64, copy=False))

    def einsum(self, subscripts, *arrays):
        if self.xp is np and len(arrays) > 2:
            return self._arr(np.einsum(subscripts, *arrays, optimize=True))
        return self._arr(self.xp.einsum(subscripts, *arrays))

    def argmax(self, a, axis):
        return self._arr(self.xp.argmax(a, axis=axis).astype(np.int64, copy=False))

    def argmin(self, a, axis):
        return self._arr(self.xp.argmin(a, axis=axis).astype(np.int64, copy=False))

    def all_finite(self, a):
        return bool(self.xp.isfinite(a).all())

    def logsumexp(self, a, axis, keepdims):
        xp = self.xp
        m = a.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, a.dtype.type(0))
        with np.errstate(divide="ignore"):
            out = xp.log(xp.exp(a - m).sum(axis=axis, keepdims=True)) + m
        if not keepdims:
            out = out.reshape([n for i, n in enumerate(a.shape) if i not in axis])
        return self._arr(out)

    def softmax(self, a, axis):
        xp = self.xp
        with np.errstate(invalid="ignore"):  # a row of -inf only (attention masked it out entirely): NaN
            e = xp.exp(a - xp.max(a, axis=axis, keepdims=True))
            return self._arr(e / xp.sum(e, axis=axis, keepdims=True))

    def masked_softmax(self, a, keep):
        xp = self.xp
        s = a if keep is None else xp.where(keep, a, a.dtype.type(-np.inf))
        dead = xp.all(s == -np.inf, axis=-1, keepdims=True)
        return self._arr(xp.where(dead, a.dtype.type(0), self.softmax(s, a.ndim - 1)))

    def softmax_backward(self, y, g, axis):
        return self._arr(y * (g - (g * y).sum(axis=axis, keepdims=True)))

    def log_softmax(self, a, axis):
        xp = self.xp
        if a.ndim == 0:
            return self._arr(a - a)
        # (a - max) - log(sum(exp(a - max))): subtracting the max first keeps float32 exact for large logits.
        shifted = a - xp.max(a, axis=axis, keepdims=True)
        return self._arr(shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True)))

    def reshape(self, a, shape):
        return a.reshape(shape)

    def transpose(self, a, axes):
        return a.transpose(axes)

    def broadcast_to(self, a, shape):
        return self.xp.broadcast_to(a, shape)  # NumPy's is read-only: writes through it unlock it (_write)

    def diagonal(self, a, offset, axis1, axis2):
        if self.xp is not np:
            return self.xp.diagonal(a, offset, axis1, axis2)
        n1, n2 = a.shape[axis1], a.shape[axis2]
        start = [slice(None)] * a.ndim
        if offset >= 0:
            start[axis2], length = slice(min(offset, n2), None), max(0, min(n1, n2 - offset))
        else:
            start[axis1], length = slice(min(-offset, n1), None), max(0, min(n1 + offset, n2))
        first = a[tuple(start)]  # a view starting at the diagonal's first element
        rest = [k for k in range(a.ndim) if k not in (axis1, axis2)]
        shape = tuple(a.shape[k] for k in rest) + (length,)
        strides = tuple(a.strides[k] for k in rest) + (a.strides[axis1] + a.strides[axis2],)
        return np.lib.stride_tricks.as_strided(first, shape, strides, writeable=a.flags.writeable)

    def internal_overlap(self, a):
        # NumPy gives an empty array's axes any stride (often 0): with no elements there is nothing to alias
        return a.size > 1 and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape))

    def getitem(self, a, index):
        if not any(p is Ellipsis for p in index):
            index = index + (Ellipsis,)  # a single element stays a 0-d view, not a scalar copy (as PyTorch)
        return self._arr(a[index])

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        if all(p is None or p is Ellipsis or type(p) is slice or type(p) is int for p in index):
            out[index] = values  # basic indexing picks each element once: a plain write (add.at is unbuffered)
        else:
            self.xp.add.at(out, index, values)
        return out

    def shares_memory(self, a, b):
        return bool(self.xp.may_share_memory(a, b))

    def overlap(self, a, b):
        if a.size == 0 or b.size == 0 or not may_overlap(a, b):
            return 0
        a0, b0 = self._address(a), self._address(b)
        if a0 == b0 and a.shape == b.shape and a.strides == b.strides:
            return 1
        if not (_dense(a) and _dense(b)):
            return 0
        a1, b1 = a0 + a.size * a.itemsize, b0 + b.size * b.itemsize
        if (a0, a1) == (b0, b1):
            return 1 if a.strides == b.strides else 2
        return 2 if a0 < b1 and b0 < a1 else 0

    def _address(self, a):
        """The address of a dense array's lowest element."""
        return a.__array_interface__["data"][0]

    def setitem_(self, a, index, value):
        _write(a, index, value)
        return a

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def pad(self, a, pad_width, value):
        return self.xp.pad(a, pad_width, mode="constant", constant_values=value)

    def matmul(self, a, b):
        return self._arr(self.xp.matmul(a, b))

    def cholesky(self, a):
        return self.xp.linalg.cholesky(a)

    def inv(self, a):
        return self.xp.linalg.inv(a)

    def solve(self, a, b):
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])  # b stays a stack of matrices in every NumPy
        xp = self.xp
        return xp.linalg.solve(xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))

    def slogdet(self, a):
        sign, logabs = self.xp.linalg.slogdet(a)
        return self._arr(sign), self._arr(logabs)

    def eigh(self, a):
        w, v = self.xp.linalg.eigh(a)
        return w, v

    def svd(self, a, full_matrices=False):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=full_matrices)
        return u, s, vh

    def qr(self, a, complete=False):
        q, r = self.xp.linalg.qr(a, mode="complete" if complete else "reduced")
        return q, r

    def im2col(self, x, kh, kw, stride):
        n, c, h, w = x.shape
        out = self.xp.empty((n, c, kh, kw, (h - kh) // stride + 1, (w - kw) // stride + 1), x.dtype)
        self._im2col_into(x, kh, kw, stride, out)
        return out

    def _im2col_into(self, x, kh, kw, stride, out):
        """out (N, C, kh, kw, OH, OW) = im2col(x (N, C, H, W)), written in place (also the numpy backend's
        conv2d chunks)."""
        win = self.xp.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
        out[...] = win.transpose(0, 1, 4, 5, 2, 3)

    def conv2d(self, x, w, stride):
        n, o, k = x.shape[0], w.shape[0], math.prod(w.shape[1:])
        cols = self.im2col(x, w.shape[2], w.shape[3], stride)
        oh, ow = cols.shape[4:]
        return self._arr(self.xp.matmul(w.reshape(o, k), cols.reshape(n, k, oh * ow)).reshape(n, o, oh, ow))

    def conv2d_backward(self, g, x, w, stride, need_x, need_w):
        xp = self.xp
        o, c, kh, kw = w.shape
        n, (oh, ow) = x.shape[0], g.shape[2:]
        g3 = g.reshape(n, o, oh * ow)
        dx = dw = None
        if need_w:
            cols = self.im2col(x, kh, kw, stride).reshape(n, c * kh * kw, oh * ow)
            dw = self._arr(xp.matmul(g3, cols.transpose(0, 2, 1)).sum(0).reshape(w.shape))
        if need_x:
            dcols = xp.matmul(w.reshape(o, c * kh * kw).T, g3).reshape(n, c, kh, kw, oh, ow)
            dx = self.col2im(dcols, x.shape, stride)
        return dx, dw

    def col2im(self, cols, shape, stride):
        out = self.xp.empty(shape, dtype=cols.dtype)
        self._col2im_into(cols, stride, out)
        return out

    @staticmethod
    def _col2im_into(cols, stride, out):
        """out (N, C, H, W) = col2im(cols (N, C, kh, kw, OH, OW)), written in place (also the numpy backend's
        conv2d chunks)."""
        kh, kw, oh, ow = cols.shape[2:]
        out[...] = 0
        for i in range(kh):
            for j in range(kw):
                out[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += cols[:, :, i, j]

    def max_pool2d(self, x, kh, kw, sh, sw):
        xp = self.xp
        w = x.shape[3]
        oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
        # Window element (i, j) of every window is one strided slice; visiting them in row-major order and
        # taking only strictly greater values (or a first NaN) keeps the first maximum, as argmax does.
        best = x[:, :, :sh * oh:sh, :sw * ow:sw].copy()
        k = xp.zeros(best.shape, np.int64)
        for i in range(kh):
            for j in range(kw):
                v = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
                take = (v > best) | ((v != v) & (best == best))
                k += take * (i * w + j - k)
                best = xp.maximum(best, v)  # NaN propagates: the first NaN stays
        top = (xp.arange(oh, dtype=np.int64) * (sh * w)).reshape(oh, 1)
        left = xp.arange(ow, dtype=np.int64) * sw
        return best, k + top + left

    def max_pool2d_backward(self, g, indices, shape):
        xp = self.xp
        n, c, h, w = shape
        plane = (xp.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
        # bincount sums repeated positions (overlapping windows) in float64, in a fixed order.
        out = xp.bincount((indices + plane).ravel(), weights=g.ravel(), minlength=n * c * h * w)
        return out.astype(g.dtype).reshape(shape)

    def softmax_cross_entropy(self, logits, targets, ignore_index):
        xp = self.xp
        lse = self.logsumexp(logits, (1,), False)
        valid = targets != ignore_index
        picked = logits[xp.arange(logits.shape[0]), xp.where(valid, targets, 0)]
        return self._arr(xp.where(valid, lse - picked, logits.dtype.type(0))), lse

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        xp = self.xp
        valid = targets != ignore_index
        d = xp.exp(logits - lse[:, None])
        rows = xp.arange(logits.shape[0])[valid]
        d[rows, targets[valid]] -= 1
        return xp.where(valid[:, None], d * g[:, None], logits.dtype.type(0))

    # batch normalisation (the NumPy reference; numba has the fused kernels)
    @staticmethod
    def _per_channel(x):
        return (1, x.shape[1]) + (1,) * (x.ndim - 2), (0,) + tuple(range(2, x.ndim))

    def batch_norm_stats(self, x):
        shape, axes = self._per_channel(x)
        mean = x.mean(axis=axes)
        centred = x - mean.reshape(shape)
        return mean, (centred * centred).mean(axis=axes)

    @staticmethod
    def batch_norm_affine(mean, invstd, weight, bias):
        """(scale, shift) per channel with batch_norm_apply's map = x scale + shift (every backend's version uses
        these)."""
        scale = invstd if weight is None else invstd * weight
        return scale, (-mean * scale if bias is None else bias - mean * scale)

    def batch_norm_apply(self, x, mean, invstd, weight, bias):
        shape, _ = self._per_channel(x)
        scale, shift = self.batch_norm_affine(mean, invstd, weight, bias)
        return self._arr(x * scale.reshape(shape) + shift.reshape(shape))

    def batch_norm_backward(self, g, x, mean, invstd, weight, training):
        shape, axes = self._per_channel(x)
        xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
        gbias, gweight = g.sum(axis=axes), (g * xhat).sum(axis=axes)
        scale = (invstd if weight is None else invstd * weight).reshape(shape)
        if not training:
            return self._arr(g * scale), gweight, gbias
        n = x.size // x.shape[1] if x.shape[1] else 0
        gx = scale * (g - (gbias / n).reshape(shape) - xhat * (gweight / n).reshape(shape))
        return self._arr(gx), gweight, gbias

    def layer_norm(self, x, weight, bias, eps):
        mean = x.mean(axis=1)
        centred = x - mean[:, None]
        invstd = 1 / self.xp.sqrt((centred * centred).mean(axis=1) + x.dtype.type(eps))
        y = centred * invstd[:, None]
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return self._arr(y), mean, invstd.astype(x.dtype, copy=False)

    def layer_norm_backward(self, g, x, mean, invstd, weight):
        xhat = (x - mean[:, None]) * invstd[:, None]
        gh = g if weight is None else g * weight
        gx = invstd[:, None] * (gh - gh.mean(axis=1, keepdims=True) - xhat * (gh * xhat).mean(axis=1, keepdims=True))
        return (self._arr(gx),) + self._layer_norm_param_grads(g, xhat)

    @staticmethod
    def _layer_norm_param_grads(g, xhat):
        """layer norm's weight and bias gradients (column sums) given the normalised input xhat."""
        return (g * xhat).sum(axis=0), g.sum(axis=0)

    def lstm_cell(self, z, c):
        xp = self.xp
        n = c.shape[-1]
        act = xp.empty((z.shape[0], 5 * n), z.dtype)
        h, c_new = xp.empty(c.shape, c.dtype), xp.empty(c.shape, c.dtype)
        self.run_elementwise(K.lstm_cell_units, *self.column_blocks(z, 4), c,
                             out=(*self.column_blocks(act, 5), c_new, h))
        return h, c_new, act

    def lstm_cell_backward(self, gh, gc, act, c, dz=None):
        xp = self.xp
        dz = xp.empty((act.shape[0], 4 * c.shape[-1]), act.dtype) if dz is None else dz
        dc = xp.empty(c.shape, c.dtype)
        self.run_elementwise(K.lstm_cell_units_backward, gh, gc, *self.column_blocks(act, 5), c,
                             out=(*self.column_blocks(dz, 4), dc))
        return dz, dc

    def assign_(self, dst, src):
        _write(dst, Ellipsis, src)
        return dst

    def axpby_(self, y, a, x, b):
        if b == 0:  # x is not read: 0 * inf would be NaN
            y *= y.dtype.type(a)
            return y
        return self.run_elementwise(K.axpby, y, a, x, b)

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        if dampening == 1:  # g is not read (0 * inf would be NaN): the two updates of the contract
            self.axpby_(buf, momentum, g, 0)
            return self.axpby_(p, 1, buf, -lr)
        self.run_elementwise(K.sgd_momentum, p, buf, g, lr, momentum, 1 - dampening)
        return p


backend = ReferenceBackend()


def _write(a, index, value):
    """a[index] = value. A NumPy view that is read-only only because a broadcast made it so (PyTorch's expand is
    writable) is made writable first, with the views between it and the memory's owner, when the owner is."""
    try:
        a[index] = value
    except ValueError:
        if not isinstance(a, np.ndarray) or a.flags.writeable:
            raise
        chain = [a]
        while isinstance(chain[-1].base, np.ndarray):
            chain.append(chain[-1].base)
        if not chain[-1].flags.writeable:
            raise
        for v in reversed(chain):
            v.flags.writeable = True
        a[index] = value
