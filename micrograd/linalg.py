"""PyTorch's torch.linalg: decompositions, solves, determinants, norms and products over the last two axes (leading
axes are a batch), differentiable in both modes where PyTorch's are (the rules are in ops/decomp.py).

Gradients assume what PyTorch's do: distinct eigenvalues (eigh) and distinct nonzero singular values (svd, pinv,
the spectral and nuclear norms). svd's full_matrices=True completes U and Vh with columns whose gradient is ignored,
as PyTorch's; qr's mode='complete' with m > n is not differentiable, as PyTorch's.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from .autograd import no_grad
from .errors import RuntimeValueError
from .ops.cumulative import vector_norm
from .ops.decomp import Cholesky, Eigh, Eigvalsh, Inv, Pinv, Qr, Slogdet, Solve, Svd, Svdvals
from .ops.decomp import _const, _eye
from .ops.linalg import matmul
from .tensor import Tensor

__all__ = ["cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "matrix_power", "matrix_rank",
           "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm"]

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
qr_result = namedtuple("qr", ["Q", "R"])


def _matrices(op, a, square=True):
    """Check a is a floating (batch of) matrix, square where the op needs it."""
    if not isinstance(a, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor; got {type(a).__name__}")
    if a.ndim < 2:
        raise RuntimeValueError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeValueError(f"linalg.{op}: Expected a floating point or complex tensor as input. Got "
                                f"{a.dtype.name}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeValueError(f"linalg.{op}: A must be batches of square matrices, but they are "
                                f"{a.shape[-2]} by {a.shape[-1]} matrices")
    return a


def cholesky(A, *, upper=False):  # noqa: N803  (PyTorch's argument names)
    """The Cholesky factor of symmetric positive-definite A (lower, or upper = its transpose); reads A's lower
    triangle."""
    L = Cholesky.apply(_matrices("cholesky", A))
    return L.mT if upper else L


def inv(A):  # noqa: N803
    """The inverse of square A."""
    return Inv.apply(_matrices("inv", A))


def solve(A, B, *, left=True):  # noqa: N803
    """X with A X = B (left) or X A = B; B is a vector (or batch of vectors) when B.shape == A.shape[:-1] or
    B is 1-d; batch dims broadcast."""
    _matrices("solve", A)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.ndim < 2 or b.shape[-2] != A.shape[-1]:
        raise RuntimeValueError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                                f"({A.shape[-2]}x{A.shape[-1]} and {'x'.join(str(d) for d in B.shape[-2:])})")
    if A.dtype != B.dtype:
        raise RuntimeValueError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                                f"{A.dtype.name} and B of type {B.dtype.name} instead")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise RuntimeValueError(f"linalg.solve: batch dimensions cannot be broadcast; got A {tuple(A.shape)} and B "
                                f"{tuple(B.shape)}") from None
    x = Solve.apply(A, b)
    return x.squeeze(-1) if vector else x


def slogdet(A):  # noqa: N803
    """(sign, logabsdet) of square A: det A = sign * exp(logabsdet); the sign's gradient is zero."""
    return slogdet_result(*Slogdet.apply(_matrices("slogdet", A)))


def det(A):  # noqa: N803
    """The determinant of square A, as sign * exp(logabsdet) (its gradient needs A invertible)."""
    sign, logabs = slogdet(A)
    return sign * logabs.exp()


def eigh(A, UPLO="L"):  # noqa: N803
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A, read from its lower (UPLO='L') or upper
    ('U') triangle. Eigenvectors are defined up to sign; their gradients need distinct eigenvalues: at repeated
    eigenvalues they are infinite or NaN, as PyTorch documents (eigvalsh's gradient is defined everywhere)."""
    _matrices("eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeValueError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, v = Eigh.apply(A, UPLO == "U")
    return eigh_result(w, v)


def eigvalsh(A, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric A, ascending (differentiable at repeated eigenvalues too)."""
    _matrices("eigvalsh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeValueError(f"linalg.eigvalsh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return Eigvalsh.apply(A if UPLO == "L" else A.mT)


def svd(A, full_matrices=True, *, driver=None):  # noqa: N803
    """(U, S, Vh) with A = U diag(S) Vh, S descending. full_matrices=False is the reduced SVD, U (..., m, k) and
    Vh (..., k, n) with k = min(m, n); full_matrices=True (PyTorch's default) completes U to (..., m, m) and Vh to
    (..., n, n) with orthonormal columns (rows) that are not unique: as in PyTorch, a gradient through them is
    ignored and their forward-mode tangent is zero.

    Gradients through U and Vh are defined where the singular values are distinct (and, for non-square A,
    nonzero): at repeated singular values they are infinite or NaN, as PyTorch documents. svdvals' gradient is
    defined everywhere."""
    _matrices("svd", A, square=False)
    return svd_result(*Svd.apply(A, full=bool(full_matrices) and A.shape[-1] != A.shape[-2]))


def svdvals(A):  # noqa: N803
    """The singular values of A, descending (differentiable at repeated singular values too)."""
    return Svdvals.apply(_matrices("svdvals", A, square=False))


def qr(A, mode="reduced"):  # noqa: N803
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular: Q (..., m, k), R (..., k, n) with
    k = min(m, n) for mode='reduced'; Q (..., m, m), R (..., m, n) for 'complete'; 'r' gives an empty Q, as
    PyTorch's. Differentiable where R's leading k columns are invertible, except mode='complete' with m > n (whose
    completed columns are not unique) and mode='r', as in PyTorch."""
    _matrices("qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeValueError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                                "'r', or 'complete'")
    q, r = Qr.apply(A, complete=mode == "complete")
    if mode == "r":
        q = _const(A, np.zeros((0,)))
    return qr_result(q, r)


def pinv(A, *, atol=None, rtol=None, hermitian=False):  # noqa: N803
    """The Moore-Penrose pseudo-inverse by the reduced SVD (hermitian: by eigh of A's lower triangle); singular
    values at or below max(atol, rtol * largest) count as zero (rtol defaults to eps * max(m, n) unless atol is
    given). Differentiable where the rank is locally constant, as PyTorch's."""
    _matrices("pinv", A, square=hermitian)
    if rtol is None:
        rtol = 0.0 if atol is not None else np.finfo(A.dtype).eps * max(A.shape[-2:])

    def cut(s):
        smax = s.amax(-1, keepdim=True) if s.shape[-1] else s[..., :1]
        return (smax * _tol(s, rtol)).maximum(_tol(s, 0.0 if atol is None else atol))
    return Pinv.apply(A, cut, bool(hermitian))


def _last_two(op, A, dim):
    if len(dim) != 2:
        raise RuntimeValueError(f"linalg.{op}: dim must be a 2-tuple. Got {dim}")
    d = tuple(x % A.ndim if -A.ndim <= x < A.ndim else None for x in dim)
    if None in d or d[0] == d[1]:
        raise RuntimeValueError(f"linalg.{op}: dims must be different and within range; got {dim} for a "
                                f"{A.ndim}-d tensor")
    return A.movedim(d, (-2, -1)), d


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: N803, A002
    """The matrix norm of A over the two dims: 'fro', 'nuc' (sum of singular values), 2 / -2 (largest / smallest
    singular value), 1 / -1 (largest / smallest column abs-sum), inf / -inf (the same over rows)."""
    _matrices("matrix_norm", A, square=False)
    if dtype is not None:
        A = A.to(dtype)
    x, d = _last_two("matrix_norm", A, tuple(dim))
    if ord == "fro":
        out = vector_norm(x, 2, (-2, -1))
    elif ord == "nuc":
        out = Svdvals.apply(x).sum(-1)
    elif ord in (2, -2, 1, -1, math.inf, -math.inf):
        # the largest / smallest singular value or abs-sum; over none, the largest is 0 and the smallest undefined
        vals = Svdvals.apply(x) if ord in (2, -2) else x.abs().sum(-2 if ord in (1, -1) else -1)
        if vals.shape[-1] == 0:
            if ord < 0:
                raise RuntimeValueError(f"linalg.matrix_norm: ord={ord} of matrices of shape {tuple(A.shape)} "
                                        "takes a minimum over an empty set")
            out = vals.sum(-1)
        else:  # ties (a zero matrix) share the gradient, as PyTorch's
            out = vals.amax(-1) if ord > 0 else vals.amin(-1)
    else:
        raise RuntimeValueError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        for k in sorted(d):
            out = out.unsqueeze(k)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: N803, A002
    """torch.linalg.norm: the vector norm over one dim (or every element when ord and dim are None), the matrix
    norm over two dims (or of a 2-d A when ord is given)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeValueError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                                f"Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def matrix_power(A, n):  # noqa: N803
    """A to the integer power n by repeated squaring (n < 0: of inv(A); n = 0: the identity)."""
    _matrices("matrix_power", A)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int; got {type(n).__name__}")
    if n == 0:
        return A * 0 + _eye(A, A.shape[-1])  # PyTorch's is differentiable (a zero gradient)
    base, n, out = (inv(A) if n < 0 else A), builtins.abs(int(n)), None
    while n:
        if n & 1:
            out = base if out is None else out @ base
        n >>= 1
        if n:
            base = base @ base
    return out


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):  # noqa: N803
    """The number of singular values above max(atol, rtol * largest) (int64; no gradient)."""
    _matrices("matrix_rank", A, square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    if rtol is None:
        rtol = 0.0 if atol is not None else np.finfo(A.dtype).eps * max(A.shape[-2:])
    with no_grad():
        s = (Eigvalsh.apply(A.detach()).abs().sort(-1, descending=True).values if hermitian
             else Svdvals.apply(A.detach()))
        smax = s.amax(-1, keepdim=True) if s.shape[-1] else s[..., :1]
        cut = (smax * _tol(s, rtol)).maximum(_tol(s, 0.0 if atol is None else atol))
        return (s > cut).sum(-1)


def _tol(like, tol):
    """A tolerance (a number, or a tensor over the batch dims) shaped to broadcast against like (..., k)."""
    if isinstance(tol, Tensor):
        return tol.to(like.dtype).unsqueeze(-1)
    return _const(like, builtins.float(tol))


def cross(input, other, *, dim=-1):  # noqa: A002
    """The cross product of 3-vectors along `dim` (inputs broadcast)."""
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if not shape or shape[dim] != 3 or input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeValueError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                                f"{input.shape[dim] if input.ndim else 0} and {other.shape[dim] if other.ndim else 0}")
    a, b = input.expand(*shape), other.expand(*shape)
    return a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)


def vecdot(x, y, *, dim=-1):
    """The dot product of x and y along `dim` (other dims broadcast)."""
    nx, ny = (x.shape[dim] if x.ndim else 0), (y.shape[dim] if y.ndim else 0)
    if nx != ny:
        raise RuntimeValueError(f"inconsistent tensor size, expected tensor [{nx}] and src [{ny}] to have the same "
                                f"number of elements, but got {nx} and {ny} elements respectively")
    return (x * y).sum(dim)


def multi_dot(tensors):
    """The product of a chain of matrices, left to right; the first and last may be 1-d."""
    if len(tensors) < 2:
        raise RuntimeValueError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out
