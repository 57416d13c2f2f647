"""The reference backend: plain NumPy, obviously right; the oracle every other backend is tested against.

Written against `self.xp` so a backend whose module mirrors NumPy (CuPy) can reuse it.
"""
import numpy as np

from ._heap import pad_heap
from .base import Backend

pad_heap()  # keep freed activations' pages between training steps (see backends/_heap.py)

_BLOCK = 1 << 16  # elements per block of the blocked in-place update
_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
            "ge": "greater_equal"}


class NumpyBackend(Backend):
    name = "numpy"
    xp = np
    array_type = np.ndarray

    def _arr(self, x):
        """NumPy ufuncs return scalars for 0-d inputs; the contract says arrays."""
        return x if type(x) is self.array_type else self.xp.asarray(x)

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
        return self._arr(self.xp.sign(a))

    def tanh(self, a):
        return self._arr(self.xp.tanh(a))

    def sigmoid(self, a):
        flat = a.reshape(-1)  # at least 1-d: ufuncs on 0-d arrays return scalars, which take no out=
        return self._sigmoid_to(flat, self.xp.empty(flat.shape, a.dtype)).reshape(a.shape)

    def _sigmoid_to(self, a, out):
        """The sigmoid of a (at least 1-d) written into out (a's shape; a view is fine); returns out."""
        xp = self.xp
        # With e = exp(-|a|) (never overflows): s = 1 / (1 + e) for a >= 0 and e / (1 + e) below, written as
        # max(e, a >= 0) / (1 + e) with no select (numpy.where on a random mask is ~10x slower than a pass).
        e = xp.abs(a)
        xp.negative(e, out=e)
        xp.exp(e, out=e)
        r = e + a.dtype.type(1)
        xp.reciprocal(r, out=r)
        xp.maximum(e, a >= 0, out=out)
        out *= r
        return out

    def relu(self, a):
        return self._arr(self.xp.maximum(a, a.dtype.type(0)))

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
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._arr(self.xp.power(a, b))

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
        e = xp.exp(a - xp.max(a, axis=axis, keepdims=True))
        return self._arr(e / xp.sum(e, axis=axis, keepdims=True))

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
        return self.xp.broadcast_to(a, shape)

    def getitem(self, a, index):
        return self._arr(a[index])

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        self.xp.add.at(out, index, values)
        return out

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def pad(self, a, pad_width, value):
        return self.xp.pad(a, pad_width, mode="constant", constant_values=value)

    def matmul(self, a, b):
        return self._arr(self.xp.matmul(a, b))

    def im2col(self, x, kh, kw, stride):
        win = self.xp.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
        win = win[:, :, ::stride, ::stride]
        return self.xp.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))

    def col2im(self, cols, shape, stride):
        n, c, kh, kw, oh, ow = cols.shape
        out = self.xp.zeros(shape, dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += cols[:, :, i, j]
        return out

    def relu_backward(self, g, y):
        mask = (y > 0).astype(g.dtype)  # a float mask, then one in-place product: 35% faster than g * (y > 0)
        mask *= g
        return self._arr(mask)

    def tanh_backward(self, g, y):
        return self._arr(g * (1 - y * y))

    def sigmoid_backward(self, g, y):
        return self._arr(g * (y * (1 - y)))

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
        if xp is np and logits.size:  # host arrays: checks that cost a device sync elsewhere are free here
            m = logits.max(axis=1)
            if np.isfinite(m).all() and (targets != ignore_index).all():  # the common case, in fewer passes
                e = logits - m[:, None]
                np.exp(e, out=e)
                lse = np.log(e.sum(axis=1))  # each sum is >= 1 (its maximum's term): no log(0)
                lse += m
                return lse - logits[np.arange(logits.shape[0]), targets], lse
        lse = self.logsumexp(logits, (1,), False)
        valid = targets != ignore_index
        picked = logits[xp.arange(logits.shape[0]), xp.where(valid, targets, 0)]
        return self._arr(xp.where(valid, lse - picked, logits.dtype.type(0))), lse

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        xp = self.xp
        valid = targets != ignore_index
        d = xp.exp(logits - lse[:, None])
        if xp is np and valid.all():  # host arrays, nothing ignored: no selects
            d[np.arange(logits.shape[0]), targets] -= 1
            d *= g[:, None]
            return d
        rows = xp.arange(logits.shape[0])[valid]
        d[rows, targets[valid]] -= 1
        return xp.where(valid[:, None], d * g[:, None], logits.dtype.type(0))

    def lstm_cell(self, z, c):
        xp = self.xp
        n = c.shape[-1]
        act = xp.empty((z.shape[0], 5 * n), z.dtype)
        # One sigmoid over all of z (contiguous: faster than three strided ones), the g block then overwritten.
        act[:, :4 * n] = self.sigmoid(z)
        xp.tanh(z[:, 2 * n:3 * n], out=act[:, 2 * n:3 * n])
        i, f, g, o = (act[:, k * n:(k + 1) * n] for k in range(4))
        c_new = f * c
        c_new += i * g
        t = act[:, 4 * n:]
        xp.tanh(c_new, out=t)
        return self._arr(o * t), c_new, act

    def lstm_cell_backward(self, gh, gc, act, c):
        xp = self.xp
        n = c.shape[-1]
        i, f, g, o, t = (act[:, k * n:(k + 1) * n] for k in range(5))
        one = act.dtype.type(1)
        gc = gc + gh * o * (one - t * t)
        dz = xp.empty((act.shape[0], 4 * n), act.dtype)
        dz[:, :n] = gc * g * (i * (one - i))
        dz[:, n:2 * n] = gc * c * (f * (one - f))
        dz[:, 2 * n:3 * n] = gc * i * (one - g * g)
        dz[:, 3 * n:] = gh * t * (o * (one - o))
        return dz, self._arr(gc * f)

    def assign_(self, dst, src):
        dst[...] = src
        return dst

    def axpby_(self, y, a, x, b):
        for yb, xb in self._blocks(y, x):
            self._axpby(yb, a, xb, b)
        return y

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        for pb, bb, gb in self._blocks(p, buf, g):  # buf's block is still in the cache when p's update reads it
            self._axpby(bb, momentum, gb, 1 - dampening)
            self._axpby(pb, 1, bb, -lr)
        return p

    @staticmethod
    def _blocks(*arrays):
        """Matching blocks of equally shaped C-contiguous arrays, so that several passes over them stay in the
        cache: about 30% less memory traffic for the optimizers' updates of large weights, bit for bit the same
        result. Small or differently laid out arrays come whole, as one block."""
        first = arrays[0]
        if first.size <= 2 * _BLOCK or any(a.shape != first.shape or not a.flags.c_contiguous for a in arrays):
            return (arrays,)
        flat = [a.reshape(-1) for a in arrays]
        return (tuple(f[s:s + _BLOCK] for f in flat) for s in range(0, first.size, _BLOCK))

    @staticmethod
    def _axpby(y, a, x, b):
        """y = a y + b x in place, in y's dtype; b == 0 reads nothing of x."""
        if a != 1:
            y *= y.dtype.type(a)
        if b == 1:
            y += x
        elif b == -1:
            y -= x
        elif b != 0:
            y += x * y.dtype.type(b)


backend = NumpyBackend()
