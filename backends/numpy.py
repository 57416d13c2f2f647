"""The numpy backend: the reference backend (backends/reference.py) plus host fast paths that pay.

Each override is this backend's one optimised version of a reference primitive (an elementwise definition or
another kernel): it computes what the reference computes, faster on NumPy arrays on the host (fewer passes and
temporaries, no selects, blocked updates that stay in the cache), and the conformance tests compare it with the
reference. This is what MICROGRAD_BACKEND=numpy gives, and the base of the numba backend.
"""
import numpy as np

from . import elementwise as E
from .reference import ReferenceBackend, may_overlap

_BLOCK = 1 << 16  # elements per block of the blocked in-place updates


class NumpyBackend(ReferenceBackend):
    name = "numpy"

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
            out = E.erf_from_erfc(x, E.erfc_mid(y))
            big = y > a.dtype.type(4.0)
            if big.any():
                out[big] = E.erf_from_erfc(x[big], E.erfc_big(y[big]))
            np.copyto(out, E.erf_small(x), where=y <= a.dtype.type(0.46875))
        return self._arr(out.reshape(a.shape))

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


backend = NumpyBackend()
