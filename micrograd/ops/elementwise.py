"""Elementwise ops: unary maths, comparisons, where, casts, backend transfers (binary arithmetic: arithmetic.py;
activations: activation.py)."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .util import broadcast_shapes, export, lift, register, unbroadcast

__all__ = ["Abs", "Cast", "Clip", "Cos", "Exp", "Log", "Neg", "Sin", "Sqrt", "ToBackend", "Where", "abs", "clip",
           "compare", "cos", "exp", "log", "neg", "negative", "sign", "sin", "sqrt", "where"]



class Neg(Function):
    """-x; d/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return x._backend.neg(x._data)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """exp(x); d/dx = exp(x)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.exp(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output()


class Log(Function):
    """log(x); d/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.log(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """sqrt(x); d/dx = 1 / (2 sqrt(x))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.sqrt(x._data)

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.output())


class Sin(Function):
    """sin(x); d/dx = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.sin(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """cos(x); d/dx = -sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.cos(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


class Abs(Function):
    """|x|; d/dx = sign(x) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.abs(x._data)

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
        return x._backend.clip(x._data, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        b = x._backend
        inside = b.full(x.shape, True, dtypes.bool_)
        if ctx.lo is not None:
            inside = b.mul(inside, b.compare("ge", x._data, ctx.lo))
        if ctx.hi is not None:
            inside = b.mul(inside, b.compare("le", x._data, ctx.hi))
        return g * Tensor._make(b.astype(inside, g.dtype), b, False, None, 0)


def sign(x):
    """sign(x) as a constant tensor of x's dtype (no gradient)."""
    return Tensor._make(x._backend.sign(x._data), x._backend, False, None, 0)


class Where(Function):
    """where(cond, a, b); d/da = cond, d/db = not cond."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.where(cond._data, a._data, b._data)

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
        return x._backend.astype(x._data, dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None


class ToBackend(Function):
    """x copied to another backend; the gradient is copied back."""

    crosses_backends = True

    @staticmethod
    def forward(ctx, x, backend):
        ctx.source = x._backend.name
        return Tensor._make(backend.asarray(x._backend.to_numpy(x._data), x.dtype), backend, False, None, 0)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.source)


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
    if a._data.shape != b._data.shape:
        broadcast_shapes(opname, a.shape, b.shape)
    return Tensor._make(a._backend.compare(opname, a._data, b._data), a._backend, False, None, 0)


@export(method=False)
def where(cond, a, b):
    """Elements of `a` where `cond` holds, else of `b` (broadcasting; differentiable in a and b)."""
    like = next((t for t in (a, b, cond) if isinstance(t, Tensor)), None)
    if like is None:
        like = Tensor(np.asarray(a))
    if not isinstance(cond, Tensor):
        cond = Tensor(np.asarray(cond, dtype=bool), backend=like.backend)
    if cond.dtype != dtypes.bool_:
        cond = Tensor._make(cond._backend.compare("ne", cond._data, 0), cond._backend, False, None, 0)
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


@export("clip", "clamp", inplace=True)
def clip(x, min=None, max=None):
    """x limited to [min, max] (either may be None); gradient 1 inside the closed interval."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    for bound in (min, max):
        if bound is not None and not isinstance(bound, (int, float, np.number)):
            raise TypeError(f"clip: bounds must be numbers; got {type(bound).__name__}")
    return Clip.apply(x, lo=min, hi=max)


def unary(cls, doc, name=None, inplace=True):
    """The function mg.<name>(x) applying the one-input op `cls` (x may be array-like), registered as that and
    as the method Tensor.<name>() (which calls the op directly: the hot path)."""
    name = name or cls.__name__.lower()

    def fn(x):
        return cls.apply(x if isinstance(x, Tensor) else Tensor(x))

    def method(self):
        return cls.apply(self)
    for f in (fn, method):
        f.__name__, f.__qualname__, f.__doc__ = name, name, doc
    register(name, fn, method, inplace)
    return fn


neg = unary(Neg, "-x elementwise.")
negative = unary(Neg, "-x elementwise.", "negative")
exp = unary(Exp, "exp(x) elementwise.")
log = unary(Log, "Natural logarithm elementwise.")
sqrt = unary(Sqrt, "Square root elementwise.")
abs = unary(Abs, "|x| elementwise.")  # noqa: A001  (mg.abs as in NumPy)
sin = unary(Sin, "sin(x) elementwise.")
cos = unary(Cos, "cos(x) elementwise.")
