"""Matrix products: matmul (the one product Function), PyTorch's mm/bmm/mv/dot/outer with their shape checks,
tensordot, and einsum (its own Function over the backend's einsum)."""
import math
import numpy as np

from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .movement import Permute
from .util import export, lift, unbroadcast

__all__ = ["Einsum", "MatMul", "matmul"]


class MatMul(Function):
    """a @ b (2-d or more, batch dims broadcast); d/da = g @ b^T, d/db = a^T @ g."""

    @staticmethod
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs:  # recording: backward needs the shapes and the operands each gradient reads
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
            ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        if len(sa) == 2 and len(sb) == 2:  # shapes known to fit: skip matmul()'s checks (hot path)
            ga = MatMul.apply(g, Permute.apply(b, axes=(1, 0))) if na else None
            gb = MatMul.apply(Permute.apply(a, axes=(1, 0)), g) if nb else None
            return ga, gb
        ga = unbroadcast(g @ b.mT, sa) if na else None
        gb = unbroadcast(a.mT @ g, sb) if nb else None
        return ga, gb

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        if ctx.batch and (a.ndim == 1 or b.ndim == 1) and max(a.ndim, b.ndim) > 2:
            return fw.per_direction(MatMul, ctx, (ta, tb))
        nd, total = max(a.ndim, b.ndim), None
        if ta is not None:
            total = (fw.aligned(ctx, ta, nd) if a.ndim > 1 else ta) @ b
        if tb is not None:
            if b.ndim == 1 and ctx.batch:
                term = (a @ tb.unsqueeze(-1)).squeeze(-1)
            else:
                term = a @ (fw.aligned(ctx, tb, nd) if b.ndim > 1 else tb)
            total = term if total is None else total + term
        return fw.fit(ctx, total, ctx.outs[0])


@export(method=False)
def matmul(a, b):
    """a @ b with NumPy's rules: 1-d operands are promoted to matrices and the added axis removed."""
    if not isinstance(a, Tensor):
        a = lift(a, b, "matmul")
    if not isinstance(b, Tensor):
        b = lift(b, a, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension; got {a.shape} @ {b.shape}")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ; got {a.shape} @ {b.shape}")
    try:
        if a2.ndim > 2 or b2.ndim > 2:
            np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions cannot be broadcast; got {a.shape} @ {b.shape}") from None
    if a2.ndim > 2 and b2.ndim == 2 and a.ndim > 1:  # (..., m, k) @ (k, n): one product over the folded rows, as
        rows = math.prod(a2.shape[:-1])
        out = MatMul.apply(a2.reshape(rows, a2.shape[-1]), b2).reshape(*a2.shape[:-1], b2.shape[-1])  # PyTorch's
    else:
        out = MatMul.apply(a2, b2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    if a.ndim == 1:
        out = out.squeeze(-2 if b.ndim > 1 else -1)
    return out


def _same_dtype(op, a, b):
    if a.dtype != b.dtype:
        raise RuntimeValueError(f"{op}: expected a and b to have the same dtype, but got: {a.dtype.name} != "
                                f"{b.dtype.name}")


@export()
def mm(input, mat2):  # noqa: A002  (PyTorch's argument names)
    """The matrix product of two 2-d tensors."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeValueError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix (mm: shapes "
                                f"{tuple(input.shape)} and {tuple(mat2.shape)})")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeValueError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
                                f"{mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype("mm", input, mat2)
    return MatMul.apply(input, mat2)


@export(method=False)
def spmm(input, mat2):  # noqa: A002
    """PyTorch's sparse-by-dense product; micrograd's tensors are dense, so this is mm."""
    return mm(input, mat2)


@export()
def bmm(input, mat2):  # noqa: A002
    """Batched matrix products of two 3-d tensors with the same batch size."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeValueError(f"batch1 must be a 3D tensor (bmm: shapes {tuple(input.shape)} and "
                                f"{tuple(mat2.shape)})")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeValueError(f"Expected size for first two dimensions of batch2 tensor to be: "
                                f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _same_dtype("bmm", input, mat2)
    return MatMul.apply(input, mat2)


@export()
def mv(input, vec):  # noqa: A002
    """The product of a matrix and a vector."""
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeValueError(f"size mismatch, got input ({input.shape[0] if input.ndim else 0}x"
                                f"{input.shape[-1] if input.ndim else 0}), vec ({vec.shape[0] if vec.ndim else 0})")
    return matmul(input, vec)


@export()
def dot(input, tensor):  # noqa: A002
    """The inner product of two 1-d tensors of equal length (a 0-d tensor)."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeValueError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeValueError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                                f"[{tensor.shape[0]}] to have the same number of elements, but got {input.shape[0]} "
                                f"and {tensor.shape[0]} elements respectively")
    _same_dtype("dot", input, tensor)
    return matmul(input, tensor)


@export("outer", "ger")
def outer(input, vec2):  # noqa: A002
    """The outer product of two 1-d tensors."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


@export(method=False)
def tensordot(a, b, dims=2):
    """Sum of products over the last `dims` dims of a and the first of b (an int), or over the listed dims
    (a pair of lists); size-1 dims broadcast, as PyTorch's."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeValueError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeValueError("both dimension lists should have same length")
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j % b.ndim] = sa[i % a.ndim]
    contracted = {sa[i % a.ndim] for i in da}
    out = [c for c in sa if c not in contracted] + [c for c in sb if c not in contracted]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


class Einsum(Function):
    """einsum with explicit output subscripts and no repeated letter within an operand; the gradient of each
    operand is the einsum of the output gradient with the other operands, broadcast over letters only it has."""

    @staticmethod
    def forward(ctx, *xs, inputs, output):
        ctx.save_for_backward(*xs)
        ctx.inputs, ctx.output_subs = inputs, output
        return xs[0]._backend.einsum(f"{','.join(inputs)}->{output}", *(x._data for x in xs))

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        grads = []
        for k, (x, sub) in enumerate(zip(xs, ctx.inputs)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(ctx.output_subs, g)] + [(s, y) for j, (s, y) in enumerate(zip(ctx.inputs, xs)) if j != k]
            have = set("".join(s for s, _ in others))
            kept = "".join(c for c in sub if c in have)
            part = Einsum.apply(*(t for _, t in others), inputs=[s for s, _ in others], output=kept)
            for pos, c in enumerate(sub):
                if c not in have:
                    part = part.unsqueeze(pos)
            grads.append(part.expand(*x.shape) if part.shape != x.shape else part)
        return tuple(grads)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, *ts):
        xs, total = ctx.primals, None
        z = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                 if c not in "".join(ctx.inputs) + ctx.output_subs) if ctx.batch else ""
        for k, t in enumerate(ts):
            if t is None:
                continue
            subs = [z + s if j == k else s for j, s in enumerate(ctx.inputs)]
            term = Einsum.apply(*(t if j == k else x for j, x in enumerate(xs)), inputs=subs, output=z + ctx.output_subs)
            total = term if total is None else total + term
        return total


@export(method=False)
def einsum(equation, *operands):
    """Einstein summation as PyTorch's einsum: "ij,jk->ik", implicit outputs ("ij,jk": the letters seen once,
    sorted), "..." for broadcast dims, repeated letters within an operand (diagonals, traces)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeValueError(f"einsum(): more operands were provided than specified in the equation"
                                if len(operands) > len(subs) else
                                "einsum(): fewer operands were provided than specified in the equation")
    subs, out, operands = _expand_ellipsis(subs, out if arrow else None, list(operands))
    ops_, subs_ = [], []
    for x, sub in zip(operands, subs):
        if len(sub) != x.ndim:
            raise RuntimeValueError(f"einsum(): the number of subscripts in the equation ({len(sub)}) does not match "
                                    f"the number of dimensions ({x.ndim}) for operand and no ellipsis was given")
        x, sub = _take_diagonals(x, sub)
        ops_.append(x)
        subs_.append(sub)
    return Einsum.apply(*ops_, inputs=subs_, output=out)


def _expand_ellipsis(subs, out, operands):
    """Replace "..." with letters of their own (broadcast dims first), and make the output explicit."""
    used = set("".join(subs) + (out or ""))
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    width = max([x.ndim - (len(s) - 3) for s, x in zip(subs, operands) if "..." in s] or [0])
    ell = "".join(spare[:width])
    new = []
    for k, (s, x) in enumerate(zip(subs, operands)):
        if "..." in s:
            n = x.ndim - (len(s) - 3)
            s = s.replace("...", ell[width - n:])
        new.append(s)
    if out is None:
        counts = {c: "".join(new).count(c) for c in set("".join(new))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    for k, (s, x) in enumerate(zip(new, operands)):  # broadcast size-1 dims against the other operands
        sizes = {}
        for t, y in zip(new, operands):
            for c, n in zip(t, y.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        target = [sizes[c] for c in s]
        if list(x.shape) != target and len(s) == x.ndim:
            operands[k] = x.expand(*target)
    return new, out, operands


def _take_diagonals(x, sub):
    """An operand whose subscripts repeat a letter ("ii") as its diagonal, so every letter appears once."""
    while len(set(sub)) != len(sub):
        c = next(ch for ch in sub if sub.count(ch) > 1)
        i = sub.index(c)
        j = sub.index(c, i + 1)
        x = x.diagonal(0, i, j)
        sub = sub[:i] + sub[i + 1:j] + sub[j + 1:] + c
    return x, sub
