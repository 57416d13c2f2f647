"""Products and running reductions with PyTorch's signatures and gradients: prod, cumsum, cumprod, logcumsumexp,
cummax/cummin, and the norms (norm, linalg.vector_norm's rule).

prod's and cumprod's gradients are exact at zeros: a product's gradient is the product of the other elements
(the exclusive running products from both ends), computed with these same differentiable ops, so
grad-of-grad works too.
"""
import builtins

import numpy as np

from .. import dtypes, return_types
from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .elementwise import where
from .ordering import gather, reversed_view
from .reduce import Sum
from .shape import _dim, cat
from .util import constant, export

__all__ = ["Cumprod", "Cumsum", "Prod", "VectorNorm"]


def _result_dtype(x, dtype):
    if dtype is not None:
        return dtypes.as_dtype(dtype, "prod")
    return dtypes.int64 if x.dtype.kind in "biu" else x.dtype


def _exclusive_cumprod(x, d, reverse=False):
    """prod of the elements before each position along d (after it, with reverse); 1 at the first."""
    if reverse:
        return reversed_view(_exclusive_cumprod(reversed_view(x, d), d), d)
    n = x.shape[d]
    ones = constant(x, 1, x.shape[:d] + (1,) + x.shape[d + 1:])
    head = x[(slice(None),) * d + (slice(0, n - 1),)]
    return cat([ones, cumprod(head, d)], d) if n > 1 else ones


def _others_product(x, d):
    """For each element, the product of the other elements along d (exact with zeros)."""
    return _exclusive_cumprod(x, d) * _exclusive_cumprod(x, d, reverse=True)


class Prod(Function):
    """The product over one dim (or all, dim None); d/dx_i = the product of the other elements."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.dim, ctx.keepdim = dim, keepdim
        return x._backend.prod(x._data, dim, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if x._data.size == 0:
            return constant(x, 0, x.shape, g.dtype), None, None
        if ctx.dim is None:
            flat = x.reshape(-1)
            return (g.reshape(1) * _others_product(flat, 0)).reshape(x.shape), None, None
        gk = g if ctx.keepdim else g.unsqueeze(ctx.dim)
        return gk * _others_product(x, ctx.dim), None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x, out = ctx.primals[0], ctx.outs[0]
        if x._data.size == 0:
            return fw.zeros(ctx, out)
        if ctx.dim is None:
            flat = t.reshape(fw.shaped(ctx, (-1,))) * _others_product(x.reshape(-1), 0)
            return flat.sum(-1).reshape(fw.shaped(ctx, out.shape))
        return (t * _others_product(x, ctx.dim)).sum(fw.axis(ctx, ctx.dim), keepdim=ctx.keepdim)


@export()
def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002  (PyTorch's argument names)
    """The product of all elements, or over `dim`; bool and integers multiply in int64 (or `dtype`)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    dt = _result_dtype(x, dtype)
    if dt == dtypes.bool_:  # a product of truth values: all
        x = x.to(dt)
        return x.all() if dim is None else x.all(_dim("prod", x, dim), keepdim)
    x = x if x.dtype == dt else x.to(dt)
    if dim is None:
        return Prod.apply(x, None, False)
    if x.ndim == 0:
        _dim("prod", x, dim)
        return x.clone()
    return Prod.apply(x, _dim("prod", x, dim), bool(keepdim))


class Cumsum(Function):
    """Running sums along dim; the gradient is the running sum of g from the end."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x._backend.cumsum(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        return reversed_view(Cumsum.apply(reversed_view(g, ctx.dim), ctx.dim), ctx.dim), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Cumsum.apply(t, fw.axis(ctx, ctx.dim))


class Cumprod(Function):
    """Running products along dim; d out_k / d x_i = prod_{j <= k, j != i} x_j (exact at zeros)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        return x._backend.cumprod(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = ctx.dim
        if bool((x != 0).all()):
            return reversed_view(cumsum(reversed_view(g * ctx.output(), d), d), d) / x, None
        # with zeros: sum over k >= i of g_k * prod_{j <= k, j != i} x_j, one position i at a time
        n = x.shape[d]
        parts = []
        for i in range(n):
            mask = np.ones(n, bool)
            mask[i] = False
            keep = Tensor._make(x._backend.asarray(mask.reshape((n,) + (1,) * (x.ndim - d - 1)), dtypes.bool_),
                                x._backend, False, None, 0)
            y = cumprod(where(keep, x, constant(x, 1)), d)
            tail = (slice(None),) * d + (slice(i, n),)
            parts.append((g[tail] * y[tail]).sum(d, keepdim=True))
        return cat(parts, d), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x, out, d = ctx.primals[0], ctx.outs[0], ctx.dim
        if bool((x != 0).all()):
            return out * Cumsum.apply(t / x, fw.axis(ctx, d))
        # with zeros: d out_k = sum over i <= k of t_i prod_{j <= k, j != i} x_j, one position i at a time
        n, total = x.shape[d], None
        k = Tensor._make(x._backend.asarray(np.arange(n).reshape((n,) + (1,) * (x.ndim - d - 1)), dtypes.int64),
                         x._backend, False, None, 0)
        for i in range(n):
            keep = k != i
            y = cumprod(where(keep, x, constant(x, 1)), d) * (k >= i).to(x.dtype)
            ti = t[(slice(None),) * fw.axis(ctx, d) + (slice(i, i + 1),)]
            total = ti * y if total is None else total + ti * y
        return total


def _running(op, cls, input, dim, dtype):
    x = input if isinstance(input, Tensor) else Tensor(input)
    dt = _result_dtype(x, dtype)
    x = x if x.dtype == dt else x.to(dt)
    if x.ndim == 0:
        _dim(op, x, dim)
        return x.clone()
    return cls.apply(x, _dim(op, x, dim))


@export(inplace=True)
def cumsum(input, dim, *, dtype=None):  # noqa: A002
    """Running sums along `dim`; bool and integers sum in int64 (or `dtype`)."""
    return _running("cumsum", Cumsum, input, dim, dtype)


@export(inplace=True)
def cumprod(input, dim, *, dtype=None):  # noqa: A002
    """Running products along `dim`; bool and integers multiply in int64 (or `dtype`)."""
    return _running("cumprod", Cumprod, input, dim, dtype)


@export()
def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(input))) along `dim`, computed stably."""
    x = input
    d = _dim("logcumsumexp", x, dim) if x.ndim else 0
    m = x.detach().amax(d, keepdim=True) if x.ndim else x.detach()
    m = where(m.isfinite(), m, constant(x, 0))
    return (x - m).exp().cumsum(d).log() + m


def _cumextreme(op, input, dim, better):
    x = input
    d = _dim(op, x, dim) if x.ndim else 0
    host = x._backend.to_numpy(x._data)
    n = host.shape[d] if x.ndim else 1
    idx = np.zeros(host.shape, np.int64)
    if x.ndim and n:
        moved = np.moveaxis(host, d, -1)
        best = moved[..., 0].copy()
        arg = np.zeros(best.shape, np.int64)
        out = np.moveaxis(idx, d, -1)
        for k in range(n):
            v = moved[..., k]
            take = better(v, best) | (v == best) | np.isnan(v)
            take &= ~np.isnan(best) | np.isnan(v)
            best = np.where(take, v, best)
            arg = np.where(take, k, arg)
            out[..., k] = arg
    indices = Tensor._make(x._backend.asarray(idx, dtypes.int64), x._backend, False, None, 0)
    values = gather(x, d, indices) if x.ndim else x.clone()
    return getattr(return_types, op)(values, indices)


@export()
def cummax(input, dim):  # noqa: A002
    """(values, indices) of the running maximum along `dim` (the last of equal maxima, as PyTorch)."""
    return _cumextreme("cummax", input, dim, np.greater)


@export()
def cummin(input, dim):  # noqa: A002
    """(values, indices) of the running minimum along `dim` (the last of equal minima, as PyTorch)."""
    return _cumextreme("cummin", input, dim, np.less)


# ---- norms -----------------------------------------------------------------------------------------------------

class VectorNorm(Function):
    """The p-norm over dims (all when None); PyTorch's gradients: 0 where the norm is 0, sign(x) for p = 1, split
    evenly over the largest |x| for p = inf."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        b = x._backend
        a = b.abs(x._data) if ord != 2 else None
        axes = dims
        if ord == 2:
            return b.sqrt(b.sum(b.mul(x._data, x._data), axes, keepdim))
        if ord == 1:
            return b.sum(a, axes, keepdim)
        if ord == float("inf"):
            return b.max(a, axes, keepdim) if a.size else b.zeros(b.sum(a, axes, keepdim).shape, x.dtype)
        if ord == -float("inf"):
            return b.min(a, axes, keepdim)
        if ord == 0:
            return b.sum(b.astype(b.compare("ne", x._data, b.zeros((), x.dtype)), x.dtype), axes, keepdim)
        return b.pow_scalar(b.sum(b.pow_scalar(a, ord), axes, keepdim), 1.0 / ord)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        p, dims = ctx.ord, ctx.dims
        y = ctx.output()
        if not ctx.keepdim and dims is not None:
            for d in sorted(dims):
                g, y = g.unsqueeze(d), y.unsqueeze(d)
        zero = constant(x, 0)
        if p == 0:
            return g * (x.detach() * 0), None, None, None
        if p == 1:
            return g * x.sign(), None, None, None
        if p in (float("inf"), -float("inf")):
            hit = (x.abs() == y)
            count = hit.to(x.dtype).sum(dims, keepdim=True) if dims is not None else hit.to(x.dtype).sum()
            return g * x.sign() * hit.to(x.dtype) / count, None, None, None
        safe = where(y == 0, constant(x, 1), y)
        if p == 2:
            return where(y == 0, zero, g * x / safe), None, None, None
        scale = x * x.abs() ** (p - 2) / safe ** (p - 1)
        return where(y == 0, zero, g * scale), None, None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        x, out = ctx.primals[0], ctx.outs[0]
        if ctx.ord == 0:
            return fw.zeros(ctx, out)
        factor = VectorNorm.backward(ctx, constant(out, 1, out.shape))[0]  # d norm / dx, x's shape
        dims = range(x.ndim) if ctx.dims is None else ctx.dims
        total = Sum.apply(t * factor, axes=fw.axes(ctx, dims), keepdims=ctx.keepdim)
        return total.reshape(fw.shaped(ctx, out.shape))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The vector `ord`-norm of x over `dim` (all dims when None): sum(|x|^ord)^(1/ord), inf/-inf the largest/
    smallest |x|, 0 the count of nonzeros."""
    if x.dtype.kind != "f":
        raise RuntimeValueError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                                f"{dtypes.short_name(x.dtype)}")
    if dtype is not None:
        x = x.to(dtype)
    if dim is None or x.ndim == 0:
        if x.ndim == 0 and dim is not None:
            for d in ((dim,) if isinstance(dim, int) else dim):
                _dim("vector_norm", x, d)
        dims = None
    else:
        dims = tuple(sorted({_dim("vector_norm", x, d) for d in ((dim,) if isinstance(dim, int) else dim)}))
    if dims is None and keepdim:
        out = VectorNorm.apply(x, ord, tuple(range(x.ndim)), True)
        return out
    return VectorNorm.apply(x, ord, dims, bool(keepdim))


@export()
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """PyTorch's norm: the 2-norm for p='fro' (over `dim`, or every element), the vector p-norm for a number p
    (over `dim`, or every element); 'nuc' is not supported."""
    if p == "nuc":
        raise NotImplementedError("norm: p='nuc' (the nuclear norm) is not supported by micrograd")
    if p == "fro" or p is None:
        p = 2
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        raise RuntimeValueError(f"norm: p must be a number, 'fro' or 'nuc'; got {p!r}")
    return vector_norm(input, builtins.float(p), dim, keepdim, dtype=dtype)
