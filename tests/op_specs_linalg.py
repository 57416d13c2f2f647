"""Op-spec rows for micrograd.linalg (tests/op_specs.py adds them to its table). Each row draws raw matrices X and
builds a well-conditioned input inside its function, the same way for micrograd, NumPy and PyTorch: X X^T + n I
(positive definite), X + D or sym(X) + D with D = diag(8, 16, 24, ...) (invertible, eigenvalues and singular
values at least 2 apart, since |X| <= 3). Outputs that depend on eigen- or singular vectors are invariant to their
signs (V diag(w) V^T), so every backend and PyTorch agree and finite differences are defined.
"""
import math

import numpy as np
from hypothesis import strategies as st

import micrograd as mg
from op_specs import Case, Domain, OpSpec, broadcast_shapes

UNIT = Domain(-1.0, 1.0)
UNIT_OFF0 = Domain(-1.0, 1.0, away=(0.0,), gap=0.1)  # matrix 1/inf norms: abs without kinks


def _const(x, arr):
    """A constant in x's library (micrograd, NumPy or PyTorch) and dtype."""
    if isinstance(x, mg.Tensor):
        return mg.tensor(np.asarray(arr), dtype=x.dtype)
    if isinstance(x, np.ndarray):
        return np.asarray(arr, x.dtype)
    import torch
    return torch.tensor(np.asarray(arr), dtype=x.dtype)


def _spread(x, signs=False):
    m, n = x.shape[-2:]
    d = np.zeros((m, n))
    for i in range(min(m, n)):
        d[i, i] = 8.0 * (i + 1) * (-1 if signs and i % 2 else 1)
    return x + _const(x, d)


def _spd(x):
    n = x.shape[-1]
    return x @ x.mT + _const(x, n * np.eye(n))


def _sym_spread(x):
    return _spread(0.5 * (x + x.mT))


def _cat(x, parts):
    parts = [p.reshape(tuple(p.shape[:-2]) + (-1,)) if p.ndim == x.ndim else p for p in parts]
    if isinstance(x, mg.Tensor):
        return mg.cat(parts, -1)
    if isinstance(x, np.ndarray):
        return np.concatenate(parts, -1)
    import torch
    return torch.cat(parts, -1)


def _weighted(v, w, vh):
    """v diag(w) vh: invariant to flipping the sign of a column of v with the same row of vh."""
    k = w.shape[-1]
    return (v * w.reshape(tuple(w.shape[:-1]) + (1, k))) @ vh


def _ramp(x, k):
    return _const(x, np.arange(1.0, k + 1.0))


@st.composite
def matrix_cases(draw, square=True, tall=False, **params):
    """(*batch, m, n) with at most one batch dim; square, or m >= n with `tall`."""
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    m = draw(st.integers(1, 3))
    n = m if square else draw(st.integers(1, m) if tall else st.integers(1, 3))
    return Case((batch + (m, n),), {k: draw(v) for k, v in params.items()})


@st.composite
def solve_cases(draw):
    # B never has exactly one axis fewer than A unless it is the vector case (PyTorch reads such a B as vectors)
    ba, bb = draw(st.sampled_from([((), ()), ((2,), (2,)), ((), (2,)), ((2,), (1,)), ((1,), (2,))]))
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    left, vector = draw(st.booleans()), draw(st.booleans())
    if vector:
        return Case((ba + (n, n), ba + (n,)), {"left": True, "vector": True})
    return Case((ba + (n, n), bb + ((n, k) if left else (k, n))), {"left": left, "vector": False})


# ---- the functions, written once over micrograd, NumPy and PyTorch (`lib` is the module) -----------------------

def _cholesky(lib, x, upper):
    a = _spd(x)
    if lib is np:
        out = np.linalg.cholesky(a)
        return out.mT if upper else out
    return lib.linalg.cholesky(a, upper=upper)


def _solve(lib, a, b, left, vector):
    a = _spread(a)
    if lib is np:
        if vector:
            return np.linalg.solve(a, b[..., None])[..., 0]
        return np.linalg.solve(a, b) if left else np.linalg.solve(a.mT, b.mT).mT
    return lib.linalg.solve(a, b, left=left)


def _slogdet(lib, x):
    sign, logabs = lib.linalg.slogdet(_spread(x, signs=True))
    return sign * logabs


def _eigh(lib, x, uplo):
    a = _sym_spread(x)
    w, v = np.linalg.eigh(a) if lib is np else lib.linalg.eigh(a, UPLO=uplo)
    return _cat(x, [w, _weighted(v, _ramp(x, w.shape[-1]), v.mT)])


def _svd(lib, x):
    a = _spread(x)
    u, s, vh = np.linalg.svd(a, full_matrices=False) if lib is np else lib.linalg.svd(a, full_matrices=False)
    return _cat(x, [s, _weighted(u, s * _ramp(x, s.shape[-1]), vh)])


def _svd_full(lib, x):
    """full_matrices=True: the completed columns are not unique, so only U's and Vh's first k enter the value."""
    a = _spread(x)
    k = min(a.shape[-2:])
    u, s, vh = np.linalg.svd(a, full_matrices=True) if lib is np else lib.linalg.svd(a, full_matrices=True)
    return _cat(x, [s, _weighted(u[..., :k], s * _ramp(x, k), vh[..., :k, :])])


def _qr(lib, x):
    q, r = lib.linalg.qr(_spread(x))
    return _cat(x, [_weighted(q, _ramp(x, q.shape[-1]), q.mT), r.mT @ r])


def _matrix_norm(lib, x, ord, dim, keepdim):
    a = _spread(x)
    if lib is not np:
        return lib.linalg.matrix_norm(a, ord, dim, keepdim)
    out = np.linalg.norm(a, ord, dim, keepdim)
    return np.asarray(out)


def _matrix_power(lib, x, n):
    a = _spread(x)
    return (lib.linalg if lib is not np else np.linalg).matrix_power(a, n)


def _row(name, fn, arity, cases, domain=UNIT, **kw):
    """A row whose micrograd, NumPy and PyTorch versions are fn(lib, *inputs, **params)."""
    return OpSpec(name, lambda *xs, **p: fn(mg, *xs, **p), lambda *xs, **p: np.asarray(fn(np, *xs, **p)), arity,
                  "linalg", cases, domain, torch=lambda torch, *xs, **p: fn(torch, *xs, **p), **kw)


def _np_cross(a, b):
    return np.cross(a, b, axis=-1)


@st.composite
def cross_cases(draw):
    sa, sb = draw(broadcast_shapes(2, min_dims=0, max_dims=2, max_side=2))
    return Case((sa + (3,), sb + (3,)))


@st.composite
def vecdot_cases(draw):
    sa, sb = draw(broadcast_shapes(2, min_dims=0, max_dims=2, max_side=2))
    n = draw(st.integers(1, 3))
    return Case((sa + (n,), sb + (n,)))


@st.composite
def multi_dot_cases(draw):
    a, b, c, d = (draw(st.integers(1, 3)) for _ in range(4))
    first, last = draw(st.booleans()), draw(st.booleans())
    return Case((((b,) if first else (a, b)), (b, c), ((c,) if last else (c, d))))


LINALG_ROWS = (
    _row("linalg.cholesky", _cholesky, 1, lambda: matrix_cases(upper=st.booleans())),
    _row("linalg.inv", lambda lib, x: lib.linalg.inv(_spread(x, signs=True)), 1, matrix_cases),
    _row("linalg.solve", _solve, 2, solve_cases),
    _row("linalg.slogdet", _slogdet, 1, matrix_cases),
    _row("linalg.det", lambda lib, x: lib.linalg.det(_spread(x, signs=True)), 1, matrix_cases),
    _row("linalg.eigh", _eigh, 1, lambda: matrix_cases(uplo=st.sampled_from(["L", "U"]))),
    _row("linalg.eigvalsh", lambda lib, x: lib.linalg.eigvalsh(_sym_spread(x)), 1, matrix_cases),
    _row("linalg.svd", _svd, 1, lambda: matrix_cases(square=False)),
    _row("linalg.svd-full", _svd_full, 1, lambda: matrix_cases(square=False)),
    _row("linalg.svdvals", lambda lib, x: lib.linalg.svdvals(_spread(x)), 1, lambda: matrix_cases(square=False)),
    _row("linalg.pinv", lambda lib, x: lib.linalg.pinv(_spread(x)), 1, lambda: matrix_cases(square=False)),
    _row("linalg.qr", _qr, 1, lambda: matrix_cases(square=False)),
    _row("linalg.matrix_norm", _matrix_norm, 1, lambda: matrix_cases(
        ord=st.sampled_from(["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]),
        dim=st.sampled_from([(-2, -1), (-1, -2)]), keepdim=st.booleans()), UNIT_OFF0),
    _row("linalg.matrix_power", _matrix_power, 1, lambda: matrix_cases(n=st.sampled_from([-2, -1, 1, 2, 3]))),
    OpSpec("linalg.cross", lambda a, b: mg.linalg.cross(a, b), _np_cross, 2, "linalg", cross_cases,
           torch=lambda torch, a, b: torch.linalg.cross(*torch.broadcast_tensors(a, b))),
    OpSpec("linalg.vecdot", lambda a, b: mg.linalg.vecdot(a, b), lambda a, b: np.sum(a * b, -1), 2, "linalg",
           vecdot_cases,
           torch=lambda torch, a, b: torch.linalg.vecdot(a, b)),
    OpSpec("linalg.multi_dot", lambda *xs: mg.linalg.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs), 3,
           "linalg", multi_dot_cases, torch=lambda torch, *xs: torch.linalg.multi_dot(xs)),
    OpSpec("linalg.matrix_rank", lambda x: mg.linalg.matrix_rank(x @ x.mT), lambda x: np.asarray(
        np.linalg.matrix_rank(x @ x.mT)), 1, "linalg", lambda: matrix_cases(square=False), UNIT, grad=False,
        gradgrad=False, torch=lambda torch, x: torch.linalg.matrix_rank(x @ x.mT)),
)
