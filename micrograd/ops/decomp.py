"""Matrix decompositions and solves over the last two axes (leading axes are a batch): Cholesky, Inv, Solve,
Slogdet, Eigh, Svd (reduced), Qr (reduced, m >= n). Each forward is one backend primitive; backward and jvp are
written with ops (matmul, Inv, Solve), so gradients of gradients work and tangents may carry a leading batch axis
(primals broadcast against it). micrograd.linalg holds the public functions."""
import numpy as np

from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from .util import unbroadcast

__all__ = ["Cholesky", "Eigh", "Eigvalsh", "Inv", "Pinv", "Qr", "Slogdet", "Solve", "Svd", "Svdvals"]


def _const(like, array):
    """A host array as a constant tensor on like's backend, in like's dtype."""
    b = like._backend
    return Tensor._make(b.asarray(np.asarray(array), like.dtype), b, False, None, 0)


def _eye(like, n):
    return _const(like, np.eye(n))


def _diag(v):
    """diag_embed over the last axis: (..., n) -> (..., n, n)."""
    return v.unsqueeze(-1) * _eye(v, v.shape[-1])


def _phi(x):
    """The lower triangle of x with its diagonal halved (the Cholesky rules' projection)."""
    n = x.shape[-1]
    return x * _const(x, np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _tril(x, k=0):
    n = x.shape[-1]
    return x * _const(x, np.tril(np.ones((x.shape[-2], n)), k))


def _inv_gaps(w):
    """F with F_ij = 1 / (w_j - w_i) off the diagonal and 0 on it (w distinct)."""
    n = w.shape[-1]
    off = _const(w, 1.0 - np.eye(n))
    gap = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye(w, n)  # ones on the diagonal: no division by zero there
    return off / gap


def _sum_tangents(ctx, out, *terms):
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    return None if total is None else fw.fit(ctx, total, out)


class Cholesky(Function):
    """L with A = L L^T (lower); gA = sym(L^-T phi(L^T gL) L^-1) / 2, dL = L phi(L^-1 dA L^-T)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return a._backend.cholesky(a._data)

    @staticmethod
    def backward(ctx, g):
        L = ctx.output()
        linv = Inv.apply(L)
        ga = linv.mT @ _phi(L.mT @ g) @ linv
        return 0.5 * (ga + ga.mT)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        L = ctx.outs[0]
        linv = Inv.apply(L)
        return fw.fit(ctx, L @ _phi(linv @ t @ linv.mT), L)


class Inv(Function):
    """Y = A^-1; gA = -Y^T g Y^T, dY = -Y dA Y."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return a._backend.inv(a._data)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return -(y.mT @ g @ y.mT)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        y = ctx.outs[0]
        return fw.fit(ctx, -(y @ t @ y), y)


class Solve(Function):
    """X with A X = B (B a stack of matrices, batch axes broadcast); gB = A^-T g, gA = -gB X^T,
    dX = A^-1 (dB - dA X)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a)
        return a._backend.solve(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        x = ctx.output()
        gb = Solve.apply(a.mT, g)
        ga = unbroadcast(-(gb @ x.mT), ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        return ga, unbroadcast(gb, ctx.shapes[1]) if ctx.needs_input_grad[1] else None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a = ctx.primals[0]
        x = ctx.outs[0]
        nd = x.ndim  # a and b may have fewer batch axes than x: align their tangents past the tangent batch axis
        ta = None if ta is None else fw.aligned(ctx, ta, nd)
        tb = None if tb is None else fw.aligned(ctx, tb, nd)
        rhs = _sum_tangents(ctx, x, tb, None if ta is None else -(ta @ x))
        return fw.fit(ctx, Solve.apply(a, rhs), x)


class Slogdet(Function):
    """(sign, log|det A|); d log|det A| = tr(A^-1 dA), so gA = g A^-T; the sign is piecewise constant."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a._backend.slogdet(a._data)

    @staticmethod
    def backward(ctx, gsign, glog):
        (a,) = ctx.saved_tensors
        return glog.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        a = ctx.primals[0]
        sign, logabs = ctx.outs
        return None, fw.fit(ctx, (Inv.apply(a).mT * t).sum((-2, -1)), logabs)


class Eigh(Function):
    """(w ascending, V) with A = V diag(w) V^T (A symmetric, eigenvalues distinct);
    gA = V (diag(gw) + F o skew(V^T gV)) V^T with F_ij = 1 / (w_j - w_i) (PyTorch's), dw = diag(V^T dA V),
    dV = V (F o (V^T dA V))."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, upper=False):
        data = a._data
        if upper:  # the upper triangle as the lower one of the transpose; the rules treat A as symmetric either way
            data = a._backend.transpose(data, tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2))
        return a._backend.eigh(data)

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.output(0), ctx.output(1)
        k = v.mT @ gv
        inner = _diag(gw) + _inv_gaps(w) * (0.5 * (k - k.mT))
        return v @ inner @ v.mT, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, _):
        w, v = ctx.outs
        k = v.mT @ t @ v
        return fw.fit(ctx, k.diagonal(0, -2, -1), w), fw.fit(ctx, v @ (_inv_gaps(w) * k), v)


class Svd(Function):
    """The reduced SVD (U, S, Vh) of a real A (m, n), singular values distinct and nonzero; backward is PyTorch's
    svd_backward, jvp its linalg_svd_jvp: with dP = U^T dA V, dS = diag(dP), dU = U (F o (dP S + S dP^T))
    (+ (I - U U^T) dA V S^-1 when m > n), dV likewise, F_ij = 1 / (s_j^2 - s_i^2)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.mn = a.shape[-2:]
        return a._backend.svd(a._data)

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.output(0), ctx.output(1), ctx.output(2)
        m, n = ctx.mn
        k = s.shape[-1]
        v, gv = vh.mT, gvh.mT
        uhgu, vhgv = u.mT @ gu, v.mT @ gv
        uhgu, vhgv = uhgu - uhgu.mT, vhgv - vhgv.mT
        f = _inv_gaps(s * s)  # 1 / (s_j^2 - s_i^2) off the diagonal
        inner = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) * f + _diag(gs)
        if m > k:
            gus = gu / s.unsqueeze(-2)
            return (u @ inner + gus - u @ (u.mT @ gus)) @ vh
        if n > k:
            sgvh = gvh / s.unsqueeze(-1)
            return u @ (inner @ vh + sgvh - (sgvh @ v) @ vh)
        return u @ inner @ vh

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        u, s, vh = ctx.outs
        m, n = ctx.mn
        k = s.shape[-1]
        v = vh.mT
        dp = u.mT @ t @ v
        f = _inv_gaps(s * s)
        du = u @ (f * (dp * s.unsqueeze(-2) + s.unsqueeze(-1) * dp.mT))
        dv = v @ (f * (s.unsqueeze(-1) * dp + dp.mT * s.unsqueeze(-2)))
        if m > k:
            tv = t @ v
            du = du + (tv - u @ (u.mT @ tv)) / s.unsqueeze(-2)
        if n > k:
            tu = t.mT @ u
            dv = dv + (tu - v @ (v.mT @ tu)) / s.unsqueeze(-2)
        return fw.fit(ctx, du, u), fw.fit(ctx, dp.diagonal(0, -2, -1), s), fw.fit(ctx, dv.mT, vh)


class Qr(Function):
    """The reduced QR (Q, R) of A (m, n), m >= n, R invertible; gA = (gQ + Q copyltu(M)) R^-T with
    M = R gR^T - gQ^T Q (PyTorch's linalg_qr_backward); with C = Q^T dA R^-1 and O = tril(C, -1) - tril(C, -1)^T,
    dR = (C - O) R and dQ = dA R^-1 - Q (C - O)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a):
        if a.shape[-2] < a.shape[-1] and (any(ctx.needs_input_grad) or fw.carries(a)):
            raise NotImplementedError(f"linalg.qr: the derivative of QR for inputs with fewer rows than columns is not "
                                      f"implemented by micrograd; got {a.shape[-2]} by {a.shape[-1]}")
        return a._backend.qr(a._data)

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.output(0), ctx.output(1)
        m = r @ gr.mT - gq.mT @ q
        low = _tril(m)
        copyltu = low + _tril(m, -1).mT
        return (gq + q @ copyltu) @ Inv.apply(r).mT

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        q, r = ctx.outs
        rinv = Inv.apply(r)
        tr = t @ rinv
        c = q.mT @ tr
        low = _tril(c, -1)
        upper = c - (low - low.mT)
        return fw.fit(ctx, tr - q @ upper, q), fw.fit(ctx, upper @ r, r)


class Eigvalsh(Function):
    """The eigenvalues w of symmetric A alone: gA = V diag(g) V^T, dw = diag(V^T dA V); unlike Eigh's rule, defined at
    repeated eigenvalues (PyTorch's)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a._backend.eigh(a._data)[0]

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        v = Eigh.apply(a)[1]
        return (v * g.unsqueeze(-2)) @ v.mT

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        v = Eigh.apply(ctx.primals[0])[1]
        return fw.fit(ctx, ((v.mT @ t) * v.mT).sum(-1), ctx.outs[0])


class Svdvals(Function):
    """The singular values s of A alone: gA = U diag(g) Vh, ds = diag(U^T dA V); unlike Svd's rule, defined at repeated
    singular values (PyTorch's)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a._backend.svd(a._data)[1]

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        u, _, vh = Svd.apply(a)
        return (u * g.unsqueeze(-2)) @ vh

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        u, _, vh = Svd.apply(ctx.primals[0])
        return fw.fit(ctx, ((u.mT @ t) * vh).sum(-1), ctx.outs[0])


class Pinv(Function):
    """P = pinv(A) with singular values at or below `cut(s)` dropped (by the SVD, or by eigh of A's lower triangle
    when hermitian); for constant rank dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, so
    gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A) (PyTorch's pinv_backward and pinv_jvp)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, cut, hermitian):
        ctx.save_for_backward(a)
        if hermitian:
            w, v = Eigh.apply(a)
            u, s, vh = v * w.sign().unsqueeze(-2), w.abs(), v.mT
        else:
            u, s, vh = Svd.apply(a)
        keep = s > cut(s)
        inv_s = keep * (1 / s.where(keep, _const(s, 1.0)))
        return ((vh.mT * inv_s.unsqueeze(-2)) @ u.mT)._data

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.output()
        gt = g.mT
        out = -(p.mT @ g @ p.mT)
        out = out + (gt - a @ (p @ gt)) @ (p @ p.mT)
        return out + (p.mT @ p) @ (gt - (gt @ p) @ a), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        a, p = ctx.primals[0], ctx.outs[0]
        tt = t.mT
        out = -(p @ t @ p) + (p @ p.mT) @ (tt - (tt @ a) @ p) + (tt - p @ (a @ tt)) @ (p.mT @ p)
        return fw.fit(ctx, out, p)
