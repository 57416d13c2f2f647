"""The numpy backend: the reference backend (backends/reference.py) plus host fast paths that pay.

Each override is this backend's one optimised version of a reference primitive (an elementwise definition or
another kernel): it computes what the reference computes, faster on NumPy arrays on the host (fewer passes and
temporaries, no selects, blocked updates that stay in the cache), and the conformance tests compare it with the
reference. This is what MICROGRAD_BACKEND=numpy gives, and the base of the numba backend.
"""
import math

import numpy as np

from . import elementwise as E
from .reference import ReferenceBackend, may_overlap

_BLOCK = 1 << 16  # elements per block of the blocked in-place updates
CONV_CHUNK_BYTES = 1 << 20  # conv2d's patch buffer: about the L2 cache of one core


def _host_float(a):
    """a is a C-contiguous float32/float64 ndarray (conv2d's chunked path)."""
    return type(a) is np.ndarray and a.dtype.kind == "f" and a.dtype.itemsize in (4, 8) and a.flags.c_contiguous


class NumpyBackend(ReferenceBackend):
    name = "numpy"

    # conv2d: the batch in chunks of images whose patch matrix fits the L2 cache (CONV_CHUNK_BYTES), each chunk's
    # patches written into one reused buffer (_im2col_into) and multiplied at once. The whole batch's patches
    # (9x the input for a 3x3 kernel) never reach memory: at the deep ConvNet's sizes a third less time than
    # im2col + one batched matmul, and none of that memory kept for backward, which makes each chunk's patches
    # again. The numba backend fills and sums the chunks with its kernels.
    def _conv_plan(self, x, w, stride):
        if not (_host_float(x) and _host_float(w) and x.dtype == w.dtype and x.ndim == w.ndim == 4
                and x.shape[1] == w.shape[1] and x.shape[0] and w.shape[0] and x.shape[1] and stride >= 1):
            return None
        n, c, h, wd = x.shape
        kh, kw = w.shape[2:]
        oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
        if oh < 1 or ow < 1:
            return None
        k = c * kh * kw
        chunk = max(1, min(n, CONV_CHUNK_BYTES // (k * oh * ow * x.itemsize)))
        return n, c, kh, kw, oh, ow, k, chunk

    def _patches(self, x, plan, n0, n1, buf, stride):
        n, c, kh, kw, oh, ow, k, chunk = plan
        cols = buf[:n1 - n0]
        self._im2col_into(x[n0:n1], kh, kw, stride, cols)
        return cols.reshape(n1 - n0, k, oh * ow)

    def conv2d(self, x, w, stride):
        plan = self._conv_plan(x, w, stride)
        if plan is None:
            return super().conv2d(x, w, stride)
        n, c, kh, kw, oh, ow, k, chunk = plan
        out = np.empty((n, w.shape[0], oh * ow), x.dtype)
        w2 = w.reshape(w.shape[0], k)
        buf = np.empty((chunk, c, kh, kw, oh, ow), x.dtype)
        for n0 in range(0, n, chunk):
            n1 = min(n0 + chunk, n)
            np.matmul(w2, self._patches(x, plan, n0, n1, buf, stride), out=out[n0:n1])
        return out.reshape(n, w.shape[0], oh, ow)

    def conv2d_backward(self, g, x, w, stride, need_x, need_w):
        plan = self._conv_plan(x, w, stride)
        if plan is None or g.dtype != x.dtype or g.shape[:2] != (x.shape[0], w.shape[0]):
            return super().conv2d_backward(g, x, w, stride, need_x, need_w)
        g = np.ascontiguousarray(g)
        n, c, kh, kw, oh, ow, k, chunk = plan
        o = w.shape[0]
        g3 = g.reshape(n, o, oh * ow)
        w2t = w.reshape(o, k).T
        buf = np.empty((chunk, c, kh, kw, oh, ow), x.dtype)
        dx = np.empty_like(x) if need_x else None
        # dw^T summed image by image, in order: patches (k, L) @ g^T (L, o) runs ~15% faster than g @ patches^T
        dwt, part = (np.zeros((k, o), x.dtype), np.empty((k, o), x.dtype)) if need_w else (None, None)
        wd = x.shape[3]
        wide = need_x and self._conv_dx_wide and stride == 1 and kw > 1 and bool(np.isfinite(w).all())
        if wide:  # g with zero columns up to the input's width, and its patches' gradient in that layout
            gw = np.zeros((chunk, o, oh, wd), x.dtype)
            dwide = np.empty((chunk, k, oh * wd), x.dtype)
        for n0 in range(0, n, chunk):
            n1 = min(n0 + chunk, n)
            if need_w:
                cols = self._patches(x, plan, n0, n1, buf, stride)
                for i in range(n1 - n0):
                    np.matmul(cols[i], g3[n0 + i].T, out=part)
                    dwt += part
            if wide:
                self._col2im_wide(w2t, g, n0, n1, plan, gw, dwide, dx)
            elif need_x:
                dcols = buf[:n1 - n0]
                np.matmul(w2t, g3[n0:n1], out=dcols.reshape(n1 - n0, k, oh * ow))
                self._col2im_into(dcols, stride, dx[n0:n1])
        return dx, None if dwt is None else np.ascontiguousarray(dwt.T).reshape(w.shape)

    # conv2d's input gradient at stride 1 without col2im's strided adds (NumPy runs those as many short inner
    # loops): with g's rows padded by zeros to the input's width W, the patches' gradient W^T g has rows of W
    # columns, and window offset (i, j) adds into the input's flat planes at i W + j as one contiguous run. The
    # padded columns are exact zeros (a finite weight times 0), so each pixel gets what col2im gives it, in the
    # same (i, j) order. For 8% more GEMM work (W over OW columns) the adds run 2x faster.
    _conv_dx_wide = True

    @staticmethod
    def _col2im_wide(w2t, g, n0, n1, plan, gw, dwide, dx):
        n, c, kh, kw, oh, ow, k, chunk = plan
        m, (h, wd) = n1 - n0, dx.shape[2:]
        gw[:m, :, :, :ow] = g[n0:n1]
        np.matmul(w2t, gw[:m].reshape(m, w2t.shape[1], oh * wd), out=dwide[:m])
        src = dwide[:m].reshape(m * c, kh * kw, oh * wd)
        dst = dx[n0:n1].reshape(m * c, h * wd)
        dst[...] = 0
        for i in range(kh):
            for j in range(kw):
                off = i * wd + j
                run = min(oh * wd, h * wd - off)  # past the last row: only padding columns, zeros
                dst[:, off:off + run] += src[:, i * kw + j, :run]

    def max_pool2d(self, x, kh, kw, sh, sw):
        # The reference's loop over window elements, with the running argmax kept as a small window position
        # (uint8) instead of plane indices updated by int64 products; NaN windows, rare, are settled after the
        # loop (their first NaN wins, as the reference's).
        if not (_host_float(x) and kh * kw <= 255 and x.size):
            return super().max_pool2d(x, kh, kw, sh, sw)
        w = x.shape[3]
        oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
        best = x[:, :, :sh * oh:sh, :sw * ow:sw].copy()
        pos = np.zeros(best.shape, np.uint8)
        take, moved = np.empty(best.shape, np.bool_), np.empty(best.shape, np.uint8)
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    v = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
                    np.greater(v, best, out=take)
                    # positions only grow, so the max with take * position moves exactly the taken windows (a
                    # masked copy over a random mask costs 6x more)
                    np.multiply(take.view(np.uint8), np.uint8(i * kw + j), out=moved)
                    np.maximum(pos, moved, out=pos)
                    np.maximum(best, v, out=best)
        nan = np.isnan(best)
        if nan.any():  # the first NaN of each such window
            found = np.zeros(best.shape, np.bool_)
            for i in range(kh):
                for j in range(kw):
                    first = nan & ~found & np.isnan(x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
                    pos[first] = np.uint8(i * kw + j)
                    found |= first
        offsets = (np.arange(kh, dtype=np.int64)[:, None] * w + np.arange(kw, dtype=np.int64)).reshape(-1)
        k = offsets.take(pos)  # window position -> offset in the plane
        k += (np.arange(oh, dtype=np.int64) * (sh * w)).reshape(oh, 1) + np.arange(ow, dtype=np.int64) * sw
        return best, k

    def max_pool2d_backward(self, g, indices, shape):
        # Windows that do not overlap (the usual stride = kernel) pick distinct positions: a plain scatter then,
        # where the reference sums repeats with a float64 bincount.
        n, c, h, w = shape
        if not (_host_float(g) and g.size):
            return super().max_pool2d_backward(g, indices, shape)
        total = n * c * h * w
        flat = (indices + (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)).reshape(-1)
        hit = np.zeros(total, np.bool_)
        hit[flat] = True
        if np.count_nonzero(hit) != flat.size:  # some position is picked twice: the sums
            return super().max_pool2d_backward(g, indices, shape)
        out = np.zeros(total, g.dtype)
        out[flat] = g.reshape(-1)
        return out.reshape(shape)

    # The GELUs and their gradients (run through _fast below): the definitions' operations, in the same order, in a
    # few reused arrays; the tanh GELU's select for v > 80 (rare) only where it applies. A third to a half of the
    # reference's time.
    @staticmethod
    def _gelu_tanh_den(a):
        """(1 + exp(min(v, 80)), v > 80) with v = -1.5957691216057308 (x + 0.044715 x^3): the tanh GELU is x over
        the first, and 0 where the second holds."""
        t = a.dtype.type
        v = a * a
        v *= a
        v *= t(0.044715)
        v += a
        v *= t(-1.5957691216057308)
        big = v > 80
        np.minimum(v, t(80), out=v)
        np.exp(v, out=v)
        v += t(1)
        return v, big

    def _gelu_tanh(self, a):
        out, big = self._gelu_tanh_den(a)
        np.divide(a, out, out=out)
        if big.any():
            out[big] = a[big] * a.dtype.type(0)
        return out

    def _gelu_tanh_backward(self, g, a):
        t = a.dtype.type
        s, big = self._gelu_tanh_den(a)
        np.divide(t(1), s, out=s)  # s = 1 / (1 + exp(v))
        c = np.clip(a, t(-100), t(100))  # x clipped (the definition's select; NaN stays NaN)
        q = c * c  # q = 0.7978845608028654 (1 + 0.134145 c^2)
        q *= t(0.134145)
        q += t(1)
        q *= t(0.7978845608028654)
        u = t(1) - s  # s (1 - s)
        u *= s
        d = t(2) * c  # d = s + 2 c (s (1 - s)) q
        d *= u
        d *= q
        d += s
        d *= g
        if big.any():
            d[big] = g[big] * (a[big] * t(0))
        return d

    def index_add(self, shape, index, values, dtype):
        # Rows picked by integer arrays (an embedding's gradient): sorted by row (stably), each row's values summed by
        # one add.reduceat and written once, where the reference's add.at adds row by row, unbuffered (10x slower);
        # the sums may differ from add.at's in the last bits (reduceat's own order within a row).
        plan = rows_plan(shape, index, values, dtype)
        if plan is None:
            return super().index_add(shape, index, values, dtype)
        return self._sum_rows(*plan).reshape(shape)

    @staticmethod
    def _sum_rows(pos, vals, rows, d):
        """out (rows, d) with out[pos[m]] the sum of the rows vals[m] picking it (index_add's plan; numba's kernel
        overrides)."""
        out = np.zeros((rows, d), vals.dtype)
        if pos.size:
            order = np.argsort(pos, kind="stable")
            picked = pos[order]
            starts = np.flatnonzero(np.concatenate(([True], picked[1:] != picked[:-1])))
            out[picked[starts]] = np.add.reduceat(vals[order], starts, axis=0)
        return out

    def relu(self, a):
        return self._arr(np.maximum(a, a.dtype.type(0)))

    def sigmoid(self, a):
        flat = a.reshape(-1)  # at least 1-d: ufuncs on 0-d arrays return scalars, which take no out=
        return self._sigmoid_to(flat, np.empty(flat.shape, a.dtype)).reshape(a.shape)

    @staticmethod
    def _sigmoid_to(a, out):
        """The sigmoid of a (at least 1-d) written into out (a's shape; a view is fine); returns out."""
        # With e = exp(-|a|): max(e, a >= 0) / (1 + e), with no select (numpy.where on a random mask is ~10x
        # slower than a pass) and the division as a product with the reciprocal.
        e = np.abs(a)
        np.negative(e, out=e)
        np.exp(e, out=e)
        r = e + a.dtype.type(1)
        np.reciprocal(r, out=r)
        np.maximum(e, a >= 0, out=out)
        out *= r
        return out

    def erf(self, a):
        # The reference evaluates all three branch definitions on every element and selects twice; here the two
        # common branches run on every element (a pass over a random mask costs more than a branch), the rare one
        # (|x| > 4) only on its elements, and one masked copy selects. Out of its range a branch's values are
        # discarded; NaN and the infinities come out of the branches as the reference gives them.
        x = a.reshape(-1)
        y = np.abs(x)
        with np.errstate(all="ignore"):
            out = E.erf_from_erfc(x, self._erfc_abs(y))
            np.copyto(out, E.erf_small(x), where=y <= a.dtype.type(0.46875))
        return self._arr(out.reshape(a.shape))

    @staticmethod
    def _erfc_abs(y):
        """erfc(y) for y = |x| >= 0.46875 (its values below are discarded): the mid branch on every element, the
        rare big one (y > 4) only on its own."""
        tail = E.erfc_mid(y)
        big = y > y.dtype.type(4.0)
        if big.any():
            tail[big] = E.erfc_big(y[big])
        return tail

    def _one_plus_erf(self, z):
        """The definition one_plus_erf, its branches applied as erf's fast path above applies them."""
        y = np.abs(z)
        tail = self._erfc_abs(y)
        out = np.where(z < 0, tail, z.dtype.type(2) - tail)
        np.copyto(out, z.dtype.type(1) + E.erf_small(z), where=y <= z.dtype.type(0.46875))
        np.copyto(out, z, where=z != z)
        return out

    def _gelu_erf(self, a):
        t = a.dtype.type
        e = self._one_plus_erf(a * t(0.7071067811865476))
        h = t(0.5) * a
        h *= e
        return h

    def _gelu_erf_backward(self, g, a):
        t = a.dtype.type
        d = self._one_plus_erf(a * t(0.7071067811865476))  # 0.5 (1 + erf(x / sqrt(2)))
        d *= t(0.5)
        q = a * a  # + x (0.3989422804014327 exp(-0.5 x^2))
        q *= t(-0.5)
        np.exp(q, out=q)
        q *= t(0.3989422804014327)
        q *= a
        d += q
        d *= g
        return d

    def relu_backward(self, g, y):
        mask = np.less_equal(y, 0, out=np.empty(y.shape, np.bool_))  # an array even when y is 0-d
        np.logical_not(mask, out=mask)  # PyTorch's threshold_backward: a NaN output passes the gradient
        mask = mask.astype(g.dtype)  # a float mask, then one in-place product: 35% faster than g * (y > 0)
        mask *= g
        return self._arr(mask)

    def softmax_cross_entropy(self, logits, targets, ignore_index):
        if logits.size:
            m = logits.max(axis=1)
            if np.isfinite(m).all() and (targets != ignore_index).all():  # the common case, in fewer passes
                e = logits - m[:, None]
                np.exp(e, out=e)
                lse = np.log(e.sum(axis=1))  # each sum is >= 1 (its maximum's term): no log(0)
                lse += m
                return lse - logits[np.arange(logits.shape[0]), targets], lse
        return super().softmax_cross_entropy(logits, targets, ignore_index)

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        if not (targets != ignore_index).all():
            return super().softmax_cross_entropy_backward(logits, targets, lse, g, ignore_index)
        d = np.exp(logits - lse[:, None])  # nothing ignored: no selects
        d[np.arange(logits.shape[0]), targets] -= 1
        d *= g[:, None]
        return d

    def lstm_cell(self, z, c):
        n = c.shape[-1]
        act = np.empty((z.shape[0], 5 * n), z.dtype)
        # One sigmoid over all of z (contiguous: faster than three strided ones), the g block then overwritten.
        self._sigmoid_to(z, act[:, :4 * n])
        np.tanh(z[:, 2 * n:3 * n], out=act[:, 2 * n:3 * n])
        i, f, g, o = (act[:, k * n:(k + 1) * n] for k in range(4))
        c_new = f * c
        c_new += i * g
        t = act[:, 4 * n:]
        np.tanh(c_new, out=t)
        return self._arr(o * t), c_new, act

    def axpby_(self, y, a, x, b):
        # Two passes (or blocks) read x after writing y: overlapping operands take the reference's one expression.
        # A single `y += x` is one ufunc, which handles overlap itself: no check on gradient sums' hot path.
        if b != 0 and (a != 1 or y.size > 2 * _BLOCK) and may_overlap(x, y):
            return super().axpby_(y, a, x, b)
        for yb, xb in self._blocks(y, x):
            self._axpby(yb, a, xb, b)
        return y

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        if may_overlap(p, buf) or may_overlap(p, g) or may_overlap(buf, g):
            return super().sgd_momentum_(p, buf, g, lr, momentum, dampening)
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
        """y = a y + b x in place, in y's dtype, as two in-place passes; b == 0 reads nothing of x."""
        if a != 1:
            y *= y.dtype.type(a)
        if b == 1:
            y += x
        elif b == -1:
            y -= x
        elif b != 0:
            y += x * y.dtype.type(b)


def _fast(name):
    """The primitive `name` as this backend's `_<name>` on C-contiguous host float arrays of one shape and dtype, under
    errstate as the reference evaluates definitions (inf * 0, overflow), and as the reference otherwise."""
    def primitive(self, *arrays):
        a = arrays[-1]
        if not (a.ndim and all(_host_float(x) and x.shape == a.shape and x.dtype == a.dtype for x in arrays)):
            return getattr(ReferenceBackend, name)(self, *arrays)
        with np.errstate(all="ignore"):
            return getattr(self, "_" + name)(*arrays)
    primitive.__name__ = primitive.__qualname__ = name
    return primitive


for _name in ("gelu_tanh", "gelu_tanh_backward", "gelu_erf", "gelu_erf_backward"):
    setattr(NumpyBackend, _name, _fast(_name))

backend = NumpyBackend()


def rows_plan(shape, index, values, dtype):
    """index_add's kernel plan (positions, values (M, D), rows, D) when `index` is integer arrays on the
    leading axes followed only by full slices or an Ellipsis, every index in range; else None."""
    if not isinstance(index, tuple) or type(values) is not np.ndarray or values.dtype != dtype \
            or values.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        return None
    k = 0
    while k < len(index) and type(index[k]) is np.ndarray and index[k].dtype.kind in "iu":
        k += 1
    arrays, rest = index[:k], index[k:]
    if k == 0 or k > len(shape) or sum(p is Ellipsis for p in rest) > 1 or not all(
            p is Ellipsis or (isinstance(p, slice) and p == slice(None)) for p in rest):
        return None
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        return None
    pos = np.zeros(arrays[0].shape, np.int64)
    for a, n in zip(arrays, shape[:k]):
        if a.size and (a.min() < -n or a.max() >= n):
            return None  # out of range: NumPy raises the IndexError
        a = a.astype(np.int64, copy=False)  # (uint64 with int64 would promote to float64)
        pos = pos * n + np.where(a < 0, a + n, a)
    rows, d = math.prod(shape[:k]), math.prod(shape[k:])
    if d == 0:
        return None
    try:
        vals = np.broadcast_to(values, pos.shape + tuple(shape[k:]))
    except ValueError:
        return None
    return pos.reshape(-1), np.ascontiguousarray(vals).reshape(-1, d), rows, d
