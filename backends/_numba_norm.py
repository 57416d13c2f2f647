"""The Numba backend's batch and layer normalisation kernels (a part of backends/_numba_kernels.py, whose rules
they follow: C-contiguous float32/float64 arrays of a fixed rank, outputs allocated by the caller, cached on disk;
backends/numba.py calls them as `K.<name>`)."""
import math

from numba import njit


# ---- batch normalisation over (N, C, S): channels on axis 1 -------------------------------------------------

@njit(cache=True, error_model="numpy")
def batch_norm_stats(x, mean, var):
    """mean[c], var[c] (biased) of x[:, c, :] for x (N, C, S), accumulated in float64, two passes (as NumPy's)."""
    n, ch, sp = x.shape
    count = n * sp
    for c in range(ch):
        acc = 0.0
        for i in range(n):
            acc += _sum8(x[i, c])
        m = acc / count
        acc = 0.0
        for i in range(n):
            acc += _sumsq8(x[i, c], m)
        mean[c] = m
        var[c] = acc / count


# Float sums in eight running lanes (lane k takes elements k, k + 8, ...; the lanes then combine pairwise, the
# remainder last): a fixed order, so results stay bit-identical run to run, and eight independent chains that
# LLVM turns into vector adds, where one running sum waits on each add in turn (3-4x slower).

@njit(cache=True, error_model="numpy")
def _sum8(row):
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    n8 = row.size // 8
    for j in range(n8):
        k = 8 * j
        a0 += row[k]
        a1 += row[k + 1]
        a2 += row[k + 2]
        a3 += row[k + 3]
        a4 += row[k + 4]
        a5 += row[k + 5]
        a6 += row[k + 6]
        a7 += row[k + 7]
    t = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for k in range(8 * n8, row.size):
        t += row[k]
    return t


@njit(cache=True, error_model="numpy")
def _sumsq8(row, m):
    """sum of (row - m)^2, as _sum8."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    n8 = row.size // 8
    for j in range(n8):
        k = 8 * j
        d0, d1, d2, d3 = row[k] - m, row[k + 1] - m, row[k + 2] - m, row[k + 3] - m
        d4, d5, d6, d7 = row[k + 4] - m, row[k + 5] - m, row[k + 6] - m, row[k + 7] - m
        a0 += d0 * d0
        a1 += d1 * d1
        a2 += d2 * d2
        a3 += d3 * d3
        a4 += d4 * d4
        a5 += d5 * d5
        a6 += d6 * d6
        a7 += d7 * d7
    t = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for k in range(8 * n8, row.size):
        d = row[k] - m
        t += d * d
    return t


@njit(cache=True, error_model="numpy")
def _sum_dot8(g, row, m):
    """(sum of g, sum of g (row - m)), as _sum8, in one pass."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = 0.0
    n8 = row.size // 8
    for j in range(n8):
        k = 8 * j
        g0, g1, g2, g3, g4, g5, g6, g7 = g[k], g[k + 1], g[k + 2], g[k + 3], g[k + 4], g[k + 5], g[k + 6], g[k + 7]
        a0 += g0
        a1 += g1
        a2 += g2
        a3 += g3
        a4 += g4
        a5 += g5
        a6 += g6
        a7 += g7
        b0 += g0 * (row[k] - m)
        b1 += g1 * (row[k + 1] - m)
        b2 += g2 * (row[k + 2] - m)
        b3 += g3 * (row[k + 3] - m)
        b4 += g4 * (row[k + 4] - m)
        b5 += g5 * (row[k + 5] - m)
        b6 += g6 * (row[k + 6] - m)
        b7 += g7 * (row[k + 7] - m)
    a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    b = ((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + b7))
    for k in range(8 * n8, row.size):
        a += g[k]
        b += g[k] * (row[k] - m)
    return a, b


@njit(cache=True, error_model="numpy")
def scale_shift(x, scale, shift, out):
    """out[i, c, k] = x[i, c, k] scale[c] + shift[c] for x, out (N, C, S)."""
    n, ch, sp = x.shape
    for i in range(n):
        for c in range(ch):
            row, orow, a, b = x[i, c], out[i, c], scale[c], shift[c]
            for k in range(sp):
                orow[k] = row[k] * a + b


@njit(cache=True, error_model="numpy")
def batch_norm_backward_sums(g, x, mean, sg, sgx):
    """sg[c] = sum of g[:, c, :], sgx[c] = sum of g (x - mean[c]) over (N, C, S), accumulated in float64."""
    n, ch, sp = x.shape
    for c in range(ch):
        a = 0.0
        b = 0.0
        m = mean[c]
        for i in range(n):
            da, db = _sum_dot8(g[i, c], x[i, c], m)
            a += da
            b += db
        sg[c] = a
        sgx[c] = b


@njit(cache=True, error_model="numpy")
def affine2(g, x, a, b, k, out):
    """out[i, c, j] = a[c] g[i, c, j] + b[c] x[i, c, j] + k[c] for g, x, out (N, C, S)."""
    n, ch, sp = x.shape
    for i in range(n):
        for c in range(ch):
            grow, row, orow, ac, bc, kc = g[i, c], x[i, c], out[i, c], a[c], b[c], k[c]
            for j in range(sp):
                orow[j] = ac * grow[j] + bc * row[j] + kc


# ---- layer normalisation over the rows of x (R, D) ----------------------------------------------------------

@njit(cache=True, error_model="numpy")
def layer_norm(x, w, b, eps, affine, y, mean, invstd):
    """Per row r of x (R, D): mean[r], invstd[r] = 1 / sqrt(biased var + eps) (two passes, float64 sums), and
    y[r] = (x[r] - mean) invstd (* w + b when affine)."""
    r, d = x.shape
    for i in range(r):
        row, out = x[i], y[i]
        acc = 0.0
        for k in range(d):
            acc += row[k]
        m = acc / d
        acc = 0.0
        for k in range(d):
            t = row[k] - m
            acc += t * t
        s = 1.0 / math.sqrt(acc / d + eps)
        mean[i] = m
        invstd[i] = s
        if affine:
            for k in range(d):
                out[k] = (row[k] - m) * s * w[k] + b[k]
        else:
            for k in range(d):
                out[k] = (row[k] - m) * s


@njit(cache=True, error_model="numpy")
def layer_norm_backward(g, x, mean, invstd, w, affine, gx, gw, gb):
    """The gradient of layer_norm per row (see backends/base.py); gw, gb (D,) float64 accumulators, zeroed here."""
    r, d = x.shape
    gw[:] = 0
    gb[:] = 0
    for i in range(r):
        grow, row, out = g[i], x[i], gx[i]
        m, s = mean[i], invstd[i]
        a = 0.0
        c = 0.0
        for k in range(d):
            xh = (row[k] - m) * s
            gh = grow[k] * w[k] if affine else grow[k]
            a += gh
            c += gh * xh
            gw[k] += grow[k] * xh
            gb[k] += grow[k]
        a /= d
        c /= d
        for k in range(d):
            xh = (row[k] - m) * s
            gh = grow[k] * w[k] if affine else grow[k]
            out[k] = s * (gh - a - xh * c)
