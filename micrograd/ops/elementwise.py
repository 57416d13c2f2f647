"""Elementwise ops: unary maths, broadcasting binary arithmetic, comparisons, where, casts (activations:
activation.py)."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .util import broadcast_shapes, export, lift, register, unbroadcast

__all__ = ["Abs", "Add", "Cast", "Clip", "Cos", "Div", "Exp", "Log", "Maximum", "Minimum", "Mul", "Neg", "Pow", "Sin",
           "Sqrt", "Sub", "ToBackend", "Where", "abs", "binary", "clip", "compare", "cos", "exp", "log", "maximum",
           "minimum", "sign", "sin", "sqrt", "where"]



class Neg(Function):
    """-x; d/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return x._backend.neg(x.data)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """exp(x); d/dx = exp(x)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.exp(x.data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output()


class Log(Function):
    """log(x); d/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.log(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """sqrt(x); d/dx = 1 / (2 sqrt(x))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.sqrt(x.data)

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.output())


class Sin(Function):
    """sin(x); d/dx = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.sin(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """cos(x); d/dx = -sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.cos(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


class Abs(Function):
    """|x|; d/dx = sign(x) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.abs(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sign(x)


class Clip(Function):
    """clip(x, lo, hi); d/dx = 1 where lo <= x <= hi, else 0 (PyTorch's clamp)."""

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return x._backend.clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        b = x._backend
        inside = b.full(x.shape, True, dtypes.bool_)
        if ctx.lo is not None:
            inside = b.mul(inside, b.compare("ge", x.data, ctx.lo))
        if ctx.hi is not None:
            inside = b.mul(inside, b.compare("le", x.data, ctx.hi))
        return g * Tensor._make(b.astype(inside, g.dtype), b, False, None, 0)


def sign(x):
    """sign(x) as a constant tensor of x's dtype (no gradient)."""
    return Tensor._make(x._backend.sign(x.data), x._backend, False, None, 0)


class Add(Function):
    """a + b; d/da = 1, d/db = 1 (reduced over broadcast axes)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a._backend.add(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None)


class Sub(Function):
    """a - b; d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a._backend.sub(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None)


class Mul(Function):
    """a * b; d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.mul(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g * b, a.shape) if na else None, unbroadcast(g * a, b.shape) if nb else None)


class Div(Function):
    """a / b; d/da = 1/b, d/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.div(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g / b, a.shape) if na else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if nb else None
        return ga, gb


class Pow(Function):
    """a ** b; d/da = b a^(b-1), d/db = a^b log(a) (taken as 0 where a == 0, as PyTorch)."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.pow(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            ga = unbroadcast(g * b * a ** (b - 1), a.shape)
        if nb:
            safe = where(a == 0, 1, a)
            gb = unbroadcast(g * ctx.output() * safe.log(), b.shape)
        return ga, gb


class Maximum(Function):
    """max(a, b); the gradient goes to the larger input, split evenly on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.maximum(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, g, a, b, "gt")


class Minimum(Function):
    """min(a, b); the gradient goes to the smaller input, split evenly on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.minimum(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, g, a, b, "lt")


def _select_grads(ctx, g, a, b, wins):
    bk = a._backend
    win = bk.astype(bk.compare(wins, a.data, b.data), g.dtype)
    tie = bk.astype(bk.compare("eq", a.data, b.data), g.dtype)
    wa = Tensor._make(bk.add(win, bk.mul(tie, 0.5)), bk, False, None, 0)
    wb = Tensor._make(bk.sub(bk.sub(bk.full((), 1, g.dtype), win), bk.mul(tie, 0.5)), bk, False, None, 0)
    na, nb = ctx.needs_input_grad
    return (unbroadcast(g * wa, a.shape) if na else None, unbroadcast(g * wb, b.shape) if nb else None)


class Where(Function):
    """where(cond, a, b); d/da = cond, d/db = not cond."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return a._backend.where(cond.data, a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        _, na, nb = ctx.needs_input_grad
        zero = Tensor._make(g._backend.zeros((), g.dtype), g._backend, False, None, 0)
        ga = unbroadcast(where(cond, g, zero), sa) if na else None
        gb = unbroadcast(where(cond, zero, g), sb) if nb else None
        return None, ga, gb


class Cast(Function):
    """x as another dtype; d/dx = 1 cast back (no gradient flows into integer or bool tensors)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x._backend.astype(x.data, dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None


class ToBackend(Function):
    """x copied to another backend; the gradient is copied back."""

    crosses_backends = True

    @staticmethod
    def forward(ctx, x, backend):
        ctx.source = x._backend.name
        return Tensor._make(backend.asarray(x._backend.to_numpy(x.data), x.dtype), backend, False, None, 0)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.source)


def binary(cls, a, b):
    """Apply the broadcasting binary op `cls` to Tensors, NumPy arrays and Python numbers."""
    op = cls.__name__.lower()
    if not isinstance(a, Tensor):
        a = lift(a, b, op)
    elif not isinstance(b, Tensor):
        b = lift(b, a, op)
    if a.data.shape != b.data.shape:
        broadcast_shapes(op, a.shape, b.shape)
    return cls.apply(a, b)


def compare(opname, a, b):
    """An elementwise comparison: a bool tensor with no gradient."""
    if not isinstance(a, Tensor):
        a = lift(a, b, opname)
    elif not isinstance(b, Tensor):
        try:
            b = lift(b, a, opname)
        except TypeError:
            return NotImplemented
    if a._backend is not b._backend:
        raise ValueError(f"{opname}: tensors live on different backends; got {a.backend!r} and {b.backend!r}")
    if a.data.shape != b.data.shape:
        broadcast_shapes(opname, a.shape, b.shape)
    return Tensor._make(a._backend.compare(opname, a.data, b.data), a._backend, False, None, 0)


@export(method=False)
def where(cond, a, b):
    """Elements of `a` where `cond` holds, else of `b` (broadcasting; differentiable in a and b)."""
    like = next((t for t in (a, b, cond) if isinstance(t, Tensor)), None)
    if like is None:
        like = Tensor(np.asarray(a))
    if not isinstance(cond, Tensor):
        cond = Tensor(np.asarray(cond, dtype=bool), backend=like.backend)
    if cond.dtype != dtypes.bool_:
        cond = Tensor._make(cond._backend.compare("ne", cond.data, 0), cond._backend, False, None, 0)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(np.asarray(a))
    if not isinstance(a, Tensor):
        a = lift(a, b, "where")
    if not isinstance(b, Tensor):
        b = lift(b, a, "where")
    broadcast_shapes("where", cond.shape, a.shape, b.shape)
    dt = np.result_type(a.dtype, b.dtype)
    a, b = (a if a.dtype == dt else a.astype(dt)), (b if b.dtype == dt else b.astype(dt))
    return Where.apply(cond, a, b)


@export(method=False)
def maximum(a, b):
    """Elementwise maximum; gradient split evenly on ties."""
    return binary(Maximum, a, b)


@export(method=False)
def minimum(a, b):
    """Elementwise minimum; gradient split evenly on ties."""
    return binary(Minimum, a, b)


@export("clip", "clamp")
def clip(x, min=None, max=None):
    """x limited to [min, max] (either may be None); gradient 1 inside the closed interval."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    for bound in (min, max):
        if bound is not None and not isinstance(bound, (int, float, np.number)):
            raise TypeError(f"clip: bounds must be numbers; got {type(bound).__name__}")
    return Clip.apply(x, lo=min, hi=max)


def unary(cls, doc, name=None):
    """The function mg.<name>(x) applying the one-input op `cls` (x may be array-like), registered as that and
    as the method Tensor.<name>() (which calls the op directly: the hot path)."""
    name = name or cls.__name__.lower()

    def fn(x):
        return cls.apply(x if isinstance(x, Tensor) else Tensor(x))

    def method(self):
        return cls.apply(self)
    for f in (fn, method):
        f.__name__, f.__qualname__, f.__doc__ = name, name, doc
    register(name, fn, method)
    return fn


exp = unary(Exp, "exp(x) elementwise.")
log = unary(Log, "Natural logarithm elementwise.")
sqrt = unary(Sqrt, "Square root elementwise.")
abs = unary(Abs, "|x| elementwise.")  # noqa: A001  (mg.abs as in NumPy)
sin = unary(Sin, "sin(x) elementwise.")
cos = unary(Cos, "cos(x) elementwise.")
