"""Elementwise ops: unary maths, comparisons, where, casts, backend transfers (binary arithmetic: arithmetic.py;
activations: activation.py)."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .util import broadcast_shapes, constant, export, lift, register, unbroadcast

__all__ = ["Abs", "Cast", "ClampTensor", "Clip", "Cos", "Exp", "Log", "Neg", "ScaleGrad", "Sin", "Sqrt", "ToBackend",
           "Where", "abs",
           "clamp", "clamp_max", "clamp_min", "clip", "compare", "cos", "exp", "log", "neg", "negative", "sin",
           "sqrt", "where"]



class Neg(Function):
    """-x; d/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return x._backend.neg(x._data)

    @staticmethod
    def backward(ctx, g):
        return -g

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return -t


class Exp(Function):
    """exp(x); d/dx = exp(x)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.exp(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output()

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.outs[0]


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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return t / ctx.primals[0]


class Sqrt(Function):
    """sqrt(x); d/dx = 1 / (2 sqrt(x))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x._backend.sqrt(x._data)

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.output())

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return t / (2 * ctx.outs[0])


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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.primals[0].cos()


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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return -t * ctx.primals[0].sin()


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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return t * sign(ctx.primals[0])


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

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return Clip.backward(ctx, t)


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
        zero = constant(g, 0)
        ga = unbroadcast(where(cond, g, zero), sa) if na else None
        gb = unbroadcast(where(cond, zero, g), sb) if nb else None
        return None, ga, gb

    jvp_batched = True

    @staticmethod
    def jvp(ctx, _, ta, tb):
        if ta is None and tb is None:
            return None
        out = ctx.outs[0]
        zero = constant(out, 0)
        ta, tb = (zero if t is None else fw.aligned(ctx, t, out.ndim) for t in (ta, tb))
        return fw.fit(ctx, where(ctx.primals[0], ta, tb), out)


class ScaleGrad(Function):
    """x itself (a copy), with its gradient multiplied by a constant `scale` (embedding's scale_grad_by_freq)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x._backend.copy(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return t  # the value's derivative: the scale acts on gradients only


class Cast(Function):
    """x as another dtype; d/dx = 1 cast back (no gradient flows into integer or bool tensors)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x._backend.astype(x._data, dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        dtype = ctx.outs[0].dtype
        return Cast.apply(t, dtype) if dtype.kind == "f" else None


class ToBackend(Function):
    """x copied to another backend; the gradient is copied back."""

    crosses_backends = True

    @staticmethod
    def forward(ctx, x, backend):
        ctx.source, ctx.target = x._backend.name, backend
        return Tensor._make(backend.asarray(x._backend.to_numpy(x._data), x.dtype), backend, False, None, 0)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.source)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        return ToBackend.apply(t, ctx.target)


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
def where(condition, input=None, other=None):  # noqa: A002  (PyTorch's argument names)
    """Elements of `input` where `condition` (a bool tensor) holds, else of `other`, broadcast, in the dtype PyTorch's
    promotion gives; differentiable in input and other. where(condition) alone: the indices of its nonzeros."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
        condition = Tensor(np.asarray(condition, dtype=bool), backend=None if like is None else like._backend)
    if condition.dtype != dtypes.bool_:
        raise RuntimeValueError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                                f"{dtypes.short_name(condition.dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dt = dtypes.result_type(input, other)
        input = Tensor._make(condition._backend.asarray(input, dt), condition._backend, False, None, 0)
    like = input if isinstance(input, Tensor) else other
    dt = dtypes.result_type(*(v for v in (input, other)))
    a, b = (v.to(dt) if isinstance(v, Tensor) and v.dtype != dt else v if isinstance(v, Tensor) else
            Tensor._make(like._backend.asarray(v, dt), like._backend, False, None, 0) for v in (input, other))
    broadcast_shapes("where", condition.shape, a.shape, b.shape)
    return Where.apply(condition, a, b)


def _where_method(input, condition, other):  # noqa: A002
    return where(condition, input, other)


register("where", None, _where_method)


class ClampTensor(Function):
    """minimum(maximum(x, lo), hi) with tensor bounds (either may be None), broadcast; PyTorch's gradients: to x
    where lo <= x <= hi, to lo where x < lo <= hi, to hi where max(x, lo) > hi."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        b = x._backend
        low = x._data if lo is None else b.maximum(x._data, lo._data)
        out = low if hi is None else b.minimum(low, hi._data)
        ctx.save_for_backward(x, lo, hi)
        return b.copy(out) if out is x._data else out

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        nx, nlo, nhi = ctx.needs_input_grad
        zero = constant(g, 0)
        inside = None
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = (x <= hi) if inside is None else inside & (x <= hi)
        gx = where(inside, g, zero) if nx else None
        glo = ghi = None
        if nlo:
            below = (x < lo) if hi is None else (x < lo) & (lo <= hi)
            glo = unbroadcast(where(below, g, zero), lo.shape)
        if nhi:
            above = (x > hi) if lo is None else (where(x > lo, x, lo) > hi)
            ghi = unbroadcast(where(above, g, zero), hi.shape)
        return (unbroadcast(gx, x.shape) if gx is not None else None), glo, ghi

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tlo, thi):
        x, lo, hi = ctx.primals
        inside = below = above = None
        if lo is not None:
            inside = x >= lo
            below = (x < lo) if hi is None else (x < lo) & (lo <= hi)
        if hi is not None:
            inside = (x <= hi) if inside is None else inside & (x <= hi)
            above = (x > hi) if lo is None else (where(x > lo, x, lo) > hi)
        dt = ctx.outs[0].dtype
        return fw.combine(ctx, ctx.outs[0], [(tx, x, inside.to(dt)), (tlo, lo, None if below is None else below.to(dt)),
                                             (thi, hi, None if above is None else above.to(dt))])


def _bound(x, v, like, dt):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return v if v.dtype == dt else v.to(dt)
    return Tensor._make(like._backend.asarray(v, dt), like._backend, False, None, 0)


@export("clamp", "clip", inplace=True)
def clamp(input, min=None, max=None):  # noqa: A002  (PyTorch's argument names)
    """input limited to [min, max] (numbers or tensors, either may be None; min > max gives max), in the dtype
    PyTorch's promotion gives; gradient 1 inside the closed interval."""
    if min is None and max is None:
        raise RuntimeValueError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    dt = dtypes.result_type(input, *(v for v in (min, max) if v is not None))
    x = input if input.dtype == dt else input.to(dt)
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        for bound in (min, max):
            if bound is not None and not isinstance(bound, (int, float, np.number)):
                raise TypeError(f"clamp(): min and max must be numbers or Tensors; got {type(bound).__name__}")
        return Clip.apply(x, lo=min, hi=max)
    lo, hi = _bound(x, min, x, dt), _bound(x, max, x, dt)
    broadcast_shapes("clamp", x.shape, *(v.shape for v in (lo, hi) if v is not None))
    return ClampTensor.apply(x, lo, hi)


@export(inplace=True)
def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


@export(inplace=True)
def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


clip = clamp


def unary(cls, doc, name=None, inplace=True, floating=True, integers=None):
    """The function mg.<name>(x) applying the one-input op `cls` (a Function, or a function of one tensor; x may
    be array-like), registered as that and as the method Tensor.<name>() (which calls the op directly: the hot
    path). Integer and bool input goes to `integers(x)` when given; else a `floating` op computes it in the
    default float dtype, as PyTorch does."""
    name = name or cls.__name__.lower()
    apply = cls.apply if isinstance(cls, type) else cls

    def method(self):
        if self._data.dtype.kind != "f":
            if integers is not None:
                return integers(self)
            if floating:
                return apply(self.to(dtypes.get_default_dtype()))
        return apply(self)

    def fn(input):  # noqa: A002  (PyTorch's argument name)
        return method(input if isinstance(input, Tensor) else Tensor(input))
    for f in (fn, method):
        f.__name__, f.__qualname__, f.__doc__ = name, name, doc
    register(name, fn, method, inplace)
    return fn


neg = unary(Neg, "-x elementwise.", floating=False)
negative = unary(Neg, "-x elementwise.", "negative", floating=False)
exp = unary(Exp, "exp(x) elementwise.")
log = unary(Log, "Natural logarithm elementwise.")
sqrt = unary(Sqrt, "Square root elementwise.")
abs = unary(Abs, "|x| elementwise.", floating=False)  # noqa: A001  (mg.abs as in NumPy)
sin = unary(Sin, "sin(x) elementwise.")
cos = unary(Cos, "cos(x) elementwise.")
