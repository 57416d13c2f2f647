"""Matrix decompositions and solves over the last two axes (leading axes are a batch): Cholesky, Inv, Solve,
Slogdet, Eigh, Svd (reduced), Qr (reduced, m >= n). Each forward is one backend primitive; backward and jvp are
written with ops (matmul, Inv, Solve), so gradients of gradients work and tangents may carry a leading batch axis
(primals broadcast against it). micrograd.linalg holds the public functions."""
import numpy as np

from ..autograd import Function
from ..autograd import forward as fw
from ..tensor import Tensor
from ..errors import RuntimeValueError
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


def _pad_last(t, extra):
    """t with `extra` zero columns appended."""
    from .movement import Pad
    return Pad.apply(t, pad_width=((0, 0),) * (t.ndim - 1) + ((0, extra),), value=0)


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
    """The SVD (U, S, Vh) of a real A (m, n), singular values distinct and nonzero; backward is PyTorch's
    svd_backward, jvp its linalg_svd_jvp: with dP = U^T dA V, dS = diag(dP), dU = U (F o (dP S + S dP^T))
    (+ (I - U U^T) dA V S^-1 when m > n), dV likewise, F_ij = 1 / (s_j^2 - s_i^2). With `full` (full_matrices on
    a non-square A) the extra columns of U (rows of Vh) are any orthonormal completion: as in PyTorch, their
    gradient is ignored and their tangent is zero."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, full=False):
        ctx.mn = a.shape[-2:]
        return a._backend.svd(a._data, full_matrices=full)

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        m, n = ctx.mn
        k = min(m, n)
        u, s, vh = ctx.output(0)[..., :k], ctx.output(1), ctx.output(2)[..., :k, :]
        gu, gvh = gu[..., :k], gvh[..., :k, :]
        v, gv = vh.mT, gvh.mT
        uhgu, vhgv = u.mT @ gu, v.mT @ gv
        uhgu, vhgv = uhgu - uhgu.mT, vhgv - vhgv.mT
        f = _inv_gaps(s * s)  # 1 / (s_j^2 - s_i^2) off the diagonal
        inner = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) * f + _diag(gs)
        if m > k:
            gus = gu / s.unsqueeze(-2)
            return (u @ inner + gus - u @ (u.mT @ gus)) @ vh, None
        if n > k:
            sgvh = gvh / s.unsqueeze(-1)
            return u @ (inner @ vh + sgvh - (sgvh @ v) @ vh), None
        return u @ inner @ vh, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        u_full, s, vh_full = ctx.outs
        m, n = ctx.mn
        k = s.shape[-1]
        u, vh = u_full[..., :k], vh_full[..., :k, :]
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
        if u_full.shape[-1] > k:  # full_matrices: the completion's tangent is zero
            du = _pad_last(du, u_full.shape[-1] - k)
        if vh_full.shape[-2] > k:
            dv = _pad_last(dv, vh_full.shape[-2] - k)
        return fw.fit(ctx, du, u_full), fw.fit(ctx, dp.diagonal(0, -2, -1), s), fw.fit(ctx, dv.mT, vh_full)


class Qr(Function):
    """The QR (Q, R) of A (m, n), R's leading k = min(m, n) columns invertible. For m >= n, gA = (gQ + Q copyltu(M))
    R^-T with M = R gR^T - gQ^T Q (PyTorch's linalg_qr_backward); with C = Q^T dA R^-1 and
    O = tril(C, -1) - tril(C, -1)^T, dR = (C - O) R and dQ = dA R^-1 - Q (C - O). For m < n, A = [X | Y] and
    R = [U | V] with X = Q U (the square case) and V = Q^T Y: gY = Q gV, and X's rule runs with gQ + Y gV^T.
    `complete` with m > n (Q completed to m by m) is not differentiable, as in PyTorch."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, complete=False):
        m, n = a.shape[-2:]
        ctx.tall_complete = complete and m > n
        if m < n:
            ctx.save_for_backward(a)
        return a._backend.qr(a._data, complete=complete)

    @staticmethod
    def _refuse(ctx):
        if ctx.tall_complete:
            raise RuntimeValueError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")

    @staticmethod
    def backward(ctx, gq, gr):
        Qr._refuse(ctx)
        q, r = ctx.output(0), ctx.output(1)
        m, n = q.shape[-2], r.shape[-1]
        if m >= n:
            return _qr_square_backward(q, r, gq, gr), None
        (a,) = ctx.saved_tensors
        y, gv = a[..., m:], gr[..., m:]
        gx = _qr_square_backward(q, r[..., :m], gq + y @ gv.mT, gr[..., :m])
        from .movement import Concatenate
        return Concatenate.apply(gx, q @ gv, axis=a.ndim - 1), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        Qr._refuse(ctx)
        q, r = ctx.outs
        m, n = q.shape[-2], r.shape[-1]
        u = r if m >= n else r[..., :m]
        tx = t if m >= n else t[..., :m]
        rinv = Inv.apply(u)
        tr = tx @ rinv
        c = q.mT @ tr
        low = _tril(c, -1)
        upper = c - (low - low.mT)
        dq, du = tr - q @ upper, upper @ u
        if m < n:
            from .movement import Concatenate
            y = ctx.primals[0][..., m:]
            dv = fw.fit(ctx, dq, q).mT @ y + q.mT @ t[..., m:]
            du = fw.fit(ctx, du, u)
            du = Concatenate.apply(du, fw.fit(ctx, dv, r[..., m:]), axis=du.ndim - 1)
        return fw.fit(ctx, dq, q), fw.fit(ctx, du, r)


def _qr_square_backward(q, r, gq, gr):
    """The m >= n rule of Qr."""
    m = r @ gr.mT - gq.mT @ q
    copyltu = _tril(m) + _tril(m, -1).mT
    return (gq + q @ copyltu) @ Inv.apply(r).mT


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
