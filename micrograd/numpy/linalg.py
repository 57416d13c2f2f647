"""The Array API's linalg extension over micrograd.linalg (PyTorch's torch.linalg with gradients): the standard's
argument names and conventions (`axis`, `keepdims`, `rtol`, `upper`, `mode`, `full_matrices`), the same ops."""
from .. import linalg as _L
from ._dtypes import astype, result_type
from ._reduce import sum as _sum
from ._manipulation import matmul, matrix_transpose, outer, tensordot, vecdot  # noqa: F401  (the standard's too)

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
           "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]


def cholesky(x, /, *, upper=False):
    """The Cholesky factor of a symmetric positive-definite x: lower (upper=False) or upper."""
    return _L.cholesky(x, upper=upper)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along axis (broadcast)."""
    return _L.cross(x1, x2, dim=axis)


def det(x, /):
    """The determinant of each matrix."""
    return _L.det(x)


def diagonal(x, /, *, offset=0):
    """The diagonal `offset` of each matrix (the last two axes)."""
    return x.diagonal(offset, -2, -1)


def eigh(x, /):
    """(eigenvalues ascending, eigenvectors) of each symmetric matrix."""
    return _L.eigh(x)


def eigvalsh(x, /):
    """The eigenvalues of each symmetric matrix, ascending."""
    return _L.eigvalsh(x)


def inv(x, /):
    """The inverse of each matrix."""
    return _L.inv(x)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The matrix norm of each matrix: "fro", "nuc", 1, 2, inf and their negatives."""
    return _L.matrix_norm(x, ord, (-2, -1), keepdims)


def matrix_power(x, n, /):
    """x to the integer power n (negative n through the inverse)."""
    return _L.matrix_power(x, n)


def matrix_rank(x, /, *, rtol=None):
    """The rank of each matrix: singular values above rtol times the largest (no gradient)."""
    return _L.matrix_rank(x, rtol=rtol)


def pinv(x, /, *, rtol=None):
    """The Moore-Penrose pseudo-inverse of each matrix."""
    return _L.pinv(x, rtol=rtol)


def qr(x, /, *, mode="reduced"):
    """(Q, R) of each matrix, mode "reduced" or "complete"."""
    return _L.qr(x, mode)


def slogdet(x, /):
    """(sign, logabsdet) of each matrix's determinant."""
    return _L.slogdet(x)


def solve(x1, x2, /):
    """X with x1 X = x2 (x2 a matrix, or a vector when x2 is 1-d), in the two arrays' promoted dtype."""
    dt = result_type(x1, x2)
    return _L.solve(astype(x1, dt), astype(x2, dt))


def svd(x, /, *, full_matrices=True):
    """(U, S, Vh) of each matrix."""
    return _L.svd(x, full_matrices=full_matrices)


def svdvals(x, /):
    """The singular values of each matrix, descending."""
    return _L.svdvals(x)


def trace(x, /, *, offset=0, dtype=None):
    """The sum of each matrix's diagonal `offset`."""
    return _sum(x.diagonal(offset, -2, -1), axis=-1, dtype=dtype)  # the standard's accumulation dtypes


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The vector p-norm over axis (all axes when None)."""
    return _L.vector_norm(x, ord, axis, keepdims)
