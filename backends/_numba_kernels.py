"""The Numba backend's hand-written kernels: a fixed set, each written for one fixed array rank, each this
backend's optimised version of a reference primitive (backends/reference.py). The elementwise definitions
are compiled from backends/elementwise.py instead (backends/_numba_elementwise.py).

Every kernel takes C-contiguous float32 or float64 arrays of the rank its docstring gives and writes into
output arrays the caller allocates, so each compiles once per dtype and is cached on disk (cache=True).
Elementwise kernels see operands flattened to a (rows, mid, cols) layout with element strides (0 along a
broadcast axis); reductions and row kernels see (outer, axis, inner); image kernels see (N*C, H, W) planes.
Each output element is computed in one fixed order, so results are bit-identical run to run.

The kernels run on the calling thread. Parallel (prange) versions splitting planes and rows across threads
were measured on the 2-core machine this backend targets and lost: the BLAS matmuls already use both
cores, the kernels are memory-bound (about 0.4 ms per 1.4M-element pass), and Numba's OpenMP workers
spin-wait after each region against OpenBLAS's threads and any other process (relu_backward 0.45 ms on one
thread, 7 ms on two; with OMP_WAIT_POLICY=passive two threads gained at most 1.1x).

Two rules keep the inner loops vectorised (4-5x slower otherwise). Loops index from 0 (views such as x[t],
then range(n)): with any other start LLVM cannot prove an index non-negative and keeps Numba's negative-
index wraparound in every access; strides go through max(stride, 1) for the same reason. And an inner loop
chosen by a branch sits in its own small function (_vv, _vs, ...): several loops in the branches of one
function defeat LLVM's vectoriser. error_model="numpy" makes x / 0 give inf or NaN, as NumPy, rather than
raise. Importing this module needs numba; backends/numba.py reports failures.
"""
import math

from numba import njit

from . import _numba_math
from ._numba_norm import (affine2, batch_norm_backward_sums, batch_norm_stats, layer_norm,  # noqa: F401
                          layer_norm_backward, scale_shift)  # (the backend calls them as K.<name>)
from ._numba_math import exp as _vexp

# Op codes (Python ints: constants inside the compiled code).
ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM = range(6)  # binary3
SUM, MAX, MIN = range(3)  # reduce3


# ---- elementwise ------------------------------------------------------------------------------------------

@njit(cache=True, error_model="numpy", inline="always")
def _binop(op, x, y):
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == DIV:
        return x / y
    if op == MAXIMUM:  # NaN propagates, as numpy.maximum
        return x if x > y or x != x else y
    return x if x < y or x != x else y


@njit(cache=True, error_model="numpy")
def binary3(op, a, sa, b, sb, out):
    """out[i, j, k] = a[i sa0 + j sa1 + k sa2] (op) b[i sb0 + j sb1 + k sb2] for out (rows, mid, cols).

    a and b are flat; a stride of 0 broadcasts that operand along an axis (the innermost strides are 0 or 1).
    """
    rows, mid, cols = out.shape
    for i in range(rows):
        for j in range(mid):
            ao = i * sa[0] + j * sa[1]
            bo = i * sb[0] + j * sb[1]
            o = out[i, j]
            if sa[2] == 1 and sb[2] == 1:
                _vv(op, a[ao:ao + cols], b[bo:bo + cols], o)
            elif sb[2] == 0:
                _vs(op, a[ao:ao + cols], b[bo], o)
            else:
                _sv(op, a[ao], b[bo:bo + cols], o)


@njit(cache=True, error_model="numpy")
def _vv(op, x, y, out):
    for k in range(out.size):
        out[k] = _binop(op, x[k], y[k])


@njit(cache=True, error_model="numpy")
def _vs(op, x, y, out):
    for k in range(out.size):
        out[k] = _binop(op, x[k], y)


@njit(cache=True, error_model="numpy")
def _sv(op, x, y, out):
    for k in range(out.size):
        out[k] = _binop(op, x, y[k])


# ---- reductions over (outer, axis, inner) -----------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def reduce3(op, x, out):
    """out[o, j] = sum, max or min of x[o, :, j] for x (outer, axis, inner) and out (outer, inner).

    Sums accumulate in out's dtype (float64 for float32 input: the caller casts back); a row sum is
    reassociated into vector lanes (the same order every run). Max and min propagate NaN, as NumPy.
    """
    outer, n, inner = x.shape
    if inner == 1:
        rows = x.reshape(outer, n)  # x[o, :, 0] would be a strided view
        for o in range(outer):
            out[o, 0] = _sum_row(rows[o]) if op == SUM else _extreme_row(op, rows[o])
        return
    for o in range(outer):
        xo, oo = x[o], out[o]
        _copy(xo[0], oo)
        for k in range(1, n):
            if op == SUM:
                _accumulate(xo[k], oo)
            else:
                _extreme_into(op, xo[k], oo)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_row(x):
    acc = 0.0
    for k in range(x.size):
        acc += x[k]
    return acc


@njit(cache=True, error_model="numpy")
def _extreme_row(op, x):
    m = x[0]
    for k in range(1, x.size):
        v = x[k]
        if ((v > m if op == MAX else v < m) or v != v) and m == m:
            m = v
    return m


@njit(cache=True, error_model="numpy")
def _copy(x, out):
    for j in range(out.size):
        out[j] = x[j]


@njit(cache=True, error_model="numpy")
def _accumulate(x, out):
    for j in range(out.size):
        out[j] += x[j]


@njit(cache=True, error_model="numpy")
def _extreme_into(op, x, out):
    for j in range(out.size):
        v, m = x[j], out[j]
        if ((v > m if op == MAX else v < m) or v != v) and m == m:
            out[j] = v


# ---- row kernels over (outer, axis, inner) ----------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _row_max(row):
    m = row[0]
    for k in range(1, row.size):
        v = row[k]
        if v > m or (v != v and m == m):  # the first NaN wins
            m = v
    return m


@njit(cache=True, error_model="numpy")
def logsumexp3(x, out):
    """out[o, j] = log(sum(exp(x[o, :, j]))) for x (outer, axis, inner), the row maximum subtracted first
    (0 instead where it is not finite, as the numpy backend)."""
    outer, n, inner = x.shape
    for o in range(outer):
        for j in range(inner):
            row = x[o, :, j]
            m = _row_max(row)
            if not math.isfinite(m):
                m = 0
            s = 0.0
            for k in range(n):
                s += math.exp(row[k] - m)
            out[o, j] = math.log(s) + m


@njit(cache=True, error_model="numpy")
def softmax3(x, out, log):
    """softmax (log=False) or log_softmax (log=True) of x (outer, axis, inner) along the axis."""
    outer, n, inner = x.shape
    for o in range(outer):
        for j in range(inner):
            row, orow = x[o, :, j], out[o, :, j]
            m = _row_max(row)
            s = 0.0
            for k in range(n):
                s += math.exp(row[k] - m)
            if log:
                # (x - max) - log(sum) stays exact for huge logits, where x - logsumexp(x) loses the low bits.
                ls = math.log(s)
                for k in range(n):
                    orow[k] = (row[k] - m) - ls
            else:
                for k in range(n):
                    orow[k] = math.exp(row[k] - m) / s


@njit(cache=True, error_model="numpy")
def softmax_rows(x, out, log):
    """softmax3 over the last axis of x (R, n): each exp computed once, in vectorised loops (_numba_math)."""
    for r in range(x.shape[0]):
        row, orow = x[r], out[r]
        m = _row_max(row)
        _exp_shifted(row, m, orow)
        s = _sum_in_order(orow)
        if log:
            _log_shifted(row, m, row.dtype.type(math.log(s)), orow)
        else:
            _divide(orow, orow.dtype.type(s))


@njit(cache=True, error_model="numpy")
def masked_softmax_rows(x, keep, out):
    """softmax_rows over the entries of each row of x (R, n) that keep[r % M] (keep (M, n) bool, M dividing R)
    holds, the others 0; a row whose kept maximum is -inf (nothing kept, say) is 0, one whose kept maximum is NaN is
    NaN (the reference's masked_softmax)."""
    m_rows = keep.shape[0]
    for r in range(x.shape[0]):
        row, krow, orow = x[r], keep[r % m_rows], out[r]
        m = _masked_max(row, krow)
        if m != m:
            orow[:] = math.nan
            continue
        if m == -math.inf:
            orow[:] = 0
            continue
        _masked_exp_shifted(row, krow, m, orow)
        _divide(orow, orow.dtype.type(_sum_in_order(orow)))


@njit(cache=True, error_model="numpy")
def _sum_in_order(row):
    """The float64 sum of row, element after element (a float reduction in order does not vectorise; the exps
    before it do)."""
    s = 0.0
    for k in range(row.size):
        s += row[k]
    return s


@njit(cache=True, error_model="numpy")
def _masked_max(row, krow):
    m = -math.inf
    for k in range(row.size):
        if krow[k]:
            v = row[k]
            if v > m or v != v:  # the first NaN wins
                if v != v:
                    return v
                m = v
    return row.dtype.type(m)


@njit(cache=True, error_model="numpy")
def _masked_exp_shifted(row, krow, m, orow):
    zero = row.dtype.type(0)
    for k in range(row.size):
        e = _vexp(row[k] - m)
        orow[k] = e if krow[k] else zero


@njit(cache=True, error_model="numpy")
def softmax_backward_rows(y, g, out):
    """out = y (g - sum(g y)) along each row of y, g (R, n): softmax's gradient given its output y."""
    for r in range(y.shape[0]):
        yr, gr = y[r], g[r]
        s = 0.0
        for k in range(yr.size):
            s += gr[k] * yr[k]
        _times_shifted(yr, gr, yr.dtype.type(s), out[r])


@njit(cache=True, error_model="numpy")
def _times_shifted(y, g, s, out):
    for k in range(y.size):
        out[k] = y[k] * (g[k] - s)


@njit(cache=True, error_model="numpy")
def _exp_shifted(row, m, orow):
    for k in range(row.size):
        orow[k] = _vexp(row[k] - m)


@njit(cache=True, error_model="numpy")
def _log_shifted(row, m, ls, orow):
    for k in range(row.size):
        orow[k] = (row[k] - m) - ls


@njit(cache=True, error_model="numpy")
def _divide(orow, s):
    for k in range(orow.size):
        orow[k] = orow[k] / s


@njit(cache=True, error_model="numpy")
def softmax_cross_entropy(x, t, ignore, loss, lse):
    """Per row r of x (N, C): lse[r] = logsumexp(x[r]), loss[r] = lse[r] - x[r, t[r]] (0 where t[r] == ignore)."""
    for r in range(x.shape[0]):
        row = x[r]
        m = _row_max(row)
        if not math.isfinite(m):
            m = 0
        s = 0.0
        for k in range(row.size):
            s += math.exp(row[k] - m)
        lse[r] = math.log(s) + m
        loss[r] = 0 if t[r] == ignore else lse[r] - row[t[r]]


@njit(cache=True, error_model="numpy")
def softmax_cross_entropy_backward(x, t, lse, g, ignore, out):
    """out[r] = g[r] (exp(x[r] - lse[r]) - onehot(t[r])) for x (N, C), 0 where t[r] == ignore."""
    for r in range(x.shape[0]):
        row, orow = x[r], out[r]
        if t[r] == ignore:
            orow[:] = 0
            continue
        for k in range(row.size):
            orow[k] = math.exp(row[k] - lse[r]) * g[r]
        orow[t[r]] = (math.exp(row[t[r]] - lse[r]) - 1) * g[r]


# ---- convolution and pooling over (N*C, H, W) image planes ------------------------------------------------

@njit(cache=True, error_model="numpy")
def im2col(x, kh, kw, stride, out):
    """out[t, i, j, p, q] = x[t, p stride + i, q stride + j] for x (N*C, H, W), out (N*C, kh, kw, OH, OW)."""
    stride = max(stride, 1)
    oh, ow = out.shape[3], out.shape[4]
    if stride == 1:  # unit-stride rows copy as vectors (1.5x)
        for t in range(out.shape[0]):
            for p in range(oh):
                for i in range(kh):
                    src = x[t, p + i]
                    for j in range(kw):
                        dst = out[t, i, j, p]
                        for q in range(ow):
                            dst[q] = src[q + j]
        return
    for t in range(out.shape[0]):
        src = x[t]
        for i in range(kh):
            for j in range(kw):
                dst = out[t, i, j]
                for p in range(oh):
                    for q in range(ow):
                        dst[p, q] = src[p * stride + i, q * stride + j]


@njit(cache=True, error_model="numpy")
def col2im(cols, stride, out):
    """The adjoint of im2col: out (N*C, H, W) is zeroed, then gets every entry of cols (N*C, kh, kw, OH, OW)
    added back where im2col took it from."""
    stride = max(stride, 1)
    kh, kw, oh, ow = cols.shape[1:]
    out[:] = 0
    if stride == 1:  # unit-stride rows add as vectors (about 2.5x)
        for t in range(out.shape[0]):
            for i in range(kh):
                for j in range(kw):
                    for p in range(oh):
                        _add_row(cols[t, i, j, p], out[t, p + i, j:])
        return
    for t in range(out.shape[0]):
        dst = out[t]
        for i in range(kh):
            for j in range(kw):
                src = cols[t, i, j]
                for p in range(oh):
                    for q in range(ow):
                        dst[p * stride + i, q * stride + j] += src[p, q]


@njit(cache=True, error_model="numpy")
def _add_row(src, dst):
    for q in range(src.size):
        dst[q] += src[q]


@njit(cache=True, error_model="numpy")
def max_pool2d(x, kh, kw, sh, sw, out, idx):
    """Window maxima of x (N*C, H, W) into out (N*C, OH, OW), and their positions in the H*W plane into idx.

    The first maximum in row-major window order wins ties; the first NaN wins over everything.
    """
    sh, sw = max(sh, 1), max(sw, 1)
    w = x.shape[2]
    oh, ow = out.shape[1], out.shape[2]
    for t in range(out.shape[0]):
        src = x[t]
        for p in range(oh):
            for q in range(ow):
                top, left = p * sh, q * sw
                best, bi, bj = src[top, left], 0, 0
                nan = False  # a flag rather than a NaN test inside the comparison, which costs 2.5x
                for i in range(kh):
                    for j in range(kw):
                        v = src[top + i, left + j]
                        nan |= v != v
                        if v > best:
                            best, bi, bj = v, i, j
                if nan:
                    best, bi, bj = _first_nan(src, top, left, kh, kw)
                out[t, p, q] = best
                idx[t, p, q] = (top + bi) * w + left + bj


@njit(cache=True, error_model="numpy")
def _first_nan(src, top, left, kh, kw):
    for i in range(kh):
        for j in range(kw):
            v = src[top + i, left + j]
            if v != v:
                return v, i, j
    return src[top, left], 0, 0


@njit(cache=True, error_model="numpy", boundscheck=True)
def max_pool2d_backward(g, idx, out):
    """out (N*C, H*W) is zeroed, then gets g (N*C, P) added at plane positions idx (N*C, P), in order.

    Bounds-checked (IndexError): the positions come from the caller, and a bad one must not write
    outside `out`. The check costs about 10% of this kernel.
    """
    for t in range(out.shape[0]):
        dst, gt, it = out[t], g[t], idx[t]
        dst[:] = 0
        for k in range(gt.size):
            dst[it[k]] += gt[k]


# ---- scatter-add ------------------------------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def index_add_rows(pos, values, out):
    """out (R, D) is zeroed, then gets row values[m] added at row pos[m] for values (M, D), in the order of m."""
    out[:] = 0
    for m in range(pos.size):
        _accumulate(values[m], out[pos[m]])


# These kernels inline backends/_numba_math.py's exp: Numba's cache checks only this file, so their cached code is
# dropped when that file changes (its KEY).
_numba_math.guard_cache(softmax_rows, masked_softmax_rows, _exp_shifted, _masked_exp_shifted)
