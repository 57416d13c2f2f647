"""Elementwise maths with PyTorch's names: trigonometric and hyperbolic functions, logarithms and exponentials,
rounding, sign, the floating-point predicates, logical functions, comparisons as functions, and the binary
functions atan2, hypot, logaddexp(2), copysign and fmod.

Each differentiable function is one row of a table: its NumPy function (computed by every backend through the
`ufunc` primitive) and its derivative, written with ops, as PyTorch's derivatives.yaml gives it. Integer and bool
inputs are computed in the default float dtype, as PyTorch does, except where PyTorch keeps them (rounding,
sign).
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeTypeError
from ..tensor import Tensor
from .arithmetic import binary
from .elementwise import compare, unary, where
from .util import broadcast_shapes, constant, export, register, unbroadcast

__all__ = []  # the Function classes made below add themselves


def _zeros(g):
    return constant(g, 0, g.shape)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _floating(x):
    return x if x._data.dtype.kind == "f" else x.to(dtypes.get_default_dtype())


def _copy(x):
    return Tensor._make(x._backend.copy(x._data), x._backend, False, None, 0)


def _function(name, doc, forward, backward, jvp, saves_output=False):
    """A Function subclass called `name`, exported from micrograd.ops."""
    cls = type(name, (Function,), {"__doc__": doc, "__module__": __name__, "saves_output": saves_output,
                                   "forward": staticmethod(forward), "backward": staticmethod(backward),
                                   "jvp": staticmethod(jvp), "jvp_batched": True})
    globals()[name] = cls
    __all__.append(name)
    return cls


# ---- unary functions with a derivative -------------------------------------------------------------------------

def _unary(cls_name, ufunc, derivative, doc, names, floating=True):
    """Make the op `cls_name` computing NumPy's `ufunc` with d/dx = derivative(x, y) (y: the output), and register
    it as mg.<name> and Tensor.<name> (and the in-place twin name_) for each of `names`."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._backend.ufunc(ufunc, x._data)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * derivative(x, ctx.output())

    def jvp(ctx, t):
        return t * derivative(ctx.primals[0], ctx.outs[0])
    cls = _function(cls_name, f"{doc}; d/dx as PyTorch.", forward, backward, jvp, saves_output=True)
    for name in names:  # rounding keeps integers as they are (a copy), and refuses bools, as PyTorch
        unary(cls, f"{doc} elementwise.", name, floating=floating,
              integers=None if floating else lambda x, op=names[0]: _copy(_no_bool(op, x)))
    return cls


def _no_bool(name, x):
    if x.dtype == dtypes.bool_:
        raise RuntimeTypeError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
    return x


LN2, LN10 = math.log(2.0), math.log(10.0)
_unary("Tan", "tan", lambda x, y: 1 + y * y, "tan(x)", ["tan"])
_unary("Asin", "arcsin", lambda x, y: (1 - x * x) ** -0.5, "arcsin(x)", ["asin", "arcsin"])
_unary("Acos", "arccos", lambda x, y: -((1 - x * x) ** -0.5), "arccos(x)", ["acos", "arccos"])
_unary("Atan", "arctan", lambda x, y: 1 / (x * x + 1), "arctan(x)", ["atan", "arctan"])
_unary("Sinh", "sinh", lambda x, y: x.cosh(), "sinh(x)", ["sinh"])
_unary("Cosh", "cosh", lambda x, y: x.sinh(), "cosh(x)", ["cosh"])
_unary("Asinh", "arcsinh", lambda x, y: (x * x + 1) ** -0.5, "arcsinh(x)", ["asinh", "arcsinh"])
_unary("Acosh", "arccosh", lambda x, y: (x * x - 1) ** -0.5, "arccosh(x)", ["acosh", "arccosh"])
_unary("Atanh", "arctanh", lambda x, y: 1 / (1 - x * x), "arctanh(x)", ["atanh", "arctanh"])
_unary("Log2", "log2", lambda x, y: 1 / (x * LN2), "log2(x)", ["log2"])
_unary("Log10", "log10", lambda x, y: 1 / (x * LN10), "log10(x)", ["log10"])
_unary("Log1p", "log1p", lambda x, y: 1 / (x + 1), "log(1 + x)", ["log1p"])
_unary("Expm1", "expm1", lambda x, y: y + 1, "exp(x) - 1", ["expm1"])
_unary("Exp2", "exp2", lambda x, y: y * LN2, "2 ** x", ["exp2"])
_unary("Floor", "floor", lambda x, y: _zeros(x), "floor(x) (integers unchanged)", ["floor"], floating=False)
_unary("Ceil", "ceil", lambda x, y: _zeros(x), "ceil(x) (integers unchanged)", ["ceil"], floating=False)
_unary("Trunc", "trunc", lambda x, y: _zeros(x), "x rounded toward zero (integers unchanged)", ["trunc", "fix"],
       floating=False)


@export(inplace=True)
def round(input, *, decimals=0):  # noqa: A001,A002  (PyTorch's names)
    """input rounded to `decimals` decimal places, halves to even (integers unchanged); zero gradient."""
    x = _as_tensor(input)
    if x._data.dtype.kind != "f":
        return _copy(_no_bool("round", x))
    if decimals == 0:
        return Round.apply(x)
    scale = 10.0 ** decimals
    return Round.apply(x * scale) / scale


def _round_forward(ctx, x):
    return x._backend.ufunc("rint", x._data)


_function("Round", "x rounded to the nearest integer, halves to even; zero gradient.", _round_forward,
          lambda ctx, g: fw.zero_gradient(g), lambda ctx, t: fw.zeros(ctx, ctx.outs[0]))


@export(inplace=True)
def frac(input):  # noqa: A002
    """The fractional part, input - trunc(input), with the sign of input; d/dx = 1."""
    x = _as_tensor(input)
    if x._data.dtype.kind != "f":
        raise RuntimeTypeError(f"\"frac_cpu\" not implemented for '{dtypes.short_name(x.dtype)}'")
    return x - x.detach().trunc()


def _sign_forward(ctx, x):
    return x._backend.sign(x._data)


_function("Sign", "sign(x): -1, 0 or 1 (0 at NaN, as PyTorch); zero gradient.", _sign_forward,
          lambda ctx, g: fw.zero_gradient(g), lambda ctx, t: fw.zeros(ctx, ctx.outs[0]))


@export("sign", "sgn", inplace=True)
def sign(input):  # noqa: A002
    """-1, 0 or 1 elementwise in input's dtype (a bool input stays bool); zero gradient."""
    x = _as_tensor(input)
    if x.dtype == dtypes.bool_:
        return _copy(x)
    return Sign.apply(x)


@export(inplace=True)
def square(input):  # noqa: A002
    """input * input (integers stay integers)."""
    x = _as_tensor(input)
    return x ** 2 if x.dtype != dtypes.bool_ else x.to(dtypes.int64) ** 2


@export(inplace=True)
def rsqrt(input):  # noqa: A002
    """1 / sqrt(input)."""
    return _floating(_as_tensor(input)) ** -0.5


@export(inplace=True)
def reciprocal(input):  # noqa: A002
    """1 / input (integers give the default float)."""
    return _floating(_as_tensor(input)) ** -1


@export(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (default: the dtype's largest and smallest
    finite values); the gradient passes where input was finite."""
    x = _as_tensor(input)
    if x._data.dtype.kind != "f":
        return _copy(x)
    info = np.finfo(x.dtype)
    out = where(isnan(x), constant(x, nan), x)
    out = where(isposinf(x), constant(x, info.max if posinf is None else posinf), out)
    return where(isneginf(x), constant(x, info.min if neginf is None else neginf), out)


# ---- predicates and logical functions: bool results, no gradient -----------------------------------------------

def _predicate(name, ufunc, doc, integers=False):
    """`integers`: the answer for every integer or bool element (a bool, or a function of the tensor)."""
    def method(self):
        return Tensor._make(self._backend.ufunc(ufunc, self._data), self._backend, False, None, 0)

    def on_integers(x):
        return integers(x) if callable(integers) else constant(x, integers, x.shape, dtypes.bool_)
    return unary(method, doc, name, inplace=False, integers=on_integers)


isnan = _predicate("isnan", "isnan", "Whether each element is NaN.")
isinf = _predicate("isinf", "isinf", "Whether each element is +inf or -inf.")
isfinite = _predicate("isfinite", "isfinite", "Whether each element is finite (integers always are).",
                      integers=True)
signbit = _predicate("signbit", "signbit", "Whether each element's sign bit is set (-0.0 included).",
                     integers=lambda x: x < 0)


@export()
def isposinf(input):  # noqa: A002
    """Whether each element is +inf."""
    x = _as_tensor(input)
    return isinf(x) & (x > 0)


@export()
def isneginf(input):  # noqa: A002
    """Whether each element is -inf."""
    x = _as_tensor(input)
    return isinf(x) & (x < 0)


@export(inplace=True)
def logical_not(input):  # noqa: A002
    """Elementwise not of input's truth values (nonzero is True): a bool tensor."""
    x = _as_tensor(input)
    return Tensor._make(x._backend.ufunc("logical_not", x._data), x._backend, False, None, 0)


def _logical(op):
    def fn(input, other):  # noqa: A002
        a = _as_tensor(input)
        b = other if isinstance(other, Tensor) else Tensor(other, backend=a.backend)
        broadcast_shapes(f"logical_{op}", a.shape, b.shape)
        return Tensor._make(a._backend.ufunc(f"logical_{op}", a._data, b._data), a._backend, False, None, 0)
    fn.__name__ = fn.__qualname__ = f"logical_{op}"
    fn.__doc__ = f"Elementwise {op} of the truth values (nonzero is True), broadcast: a bool tensor."
    return export(inplace=True)(fn)


logical_and, logical_or, logical_xor = _logical("and"), _logical("or"), _logical("xor")


# ---- comparisons as functions ------------------------------------------------------------------------------------

def _comparison(op, names):
    def fn(input, other):  # noqa: A002
        return compare(op, _as_tensor(input), other)
    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = f"Elementwise `{op}` comparison, broadcast: a bool tensor."
    return export(*names, inplace=True)(fn)


eq = _comparison("eq", ["eq"])
ne = _comparison("ne", ["ne", "not_equal"])
lt = _comparison("lt", ["lt", "less"])
le = _comparison("le", ["le", "less_equal"])
gt = _comparison("gt", ["gt", "greater"])
ge = _comparison("ge", ["ge", "greater_equal"])


@export()
def equal(input, other):  # noqa: A002
    """True if the two tensors have the same shape and elements (a Python bool)."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


@export()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol |other| elementwise (infinities equal when equal; NaN only with
    equal_nan): a bool tensor."""
    a, b = _as_tensor(input), _as_tensor(other) if not isinstance(other, Tensor) else other
    if a.dtype != b.dtype:
        raise RuntimeTypeError(f"{dtypes.short_name(b.dtype)} did not match {dtypes.short_name(a.dtype)}")
    a, b = a.detach(), b.detach()
    close = eq(a, b)
    if a.dtype.kind == "f":
        finite = isfinite(a) & isfinite(b)
        close = close | (finite & ((a - b).abs() <= atol + rtol * b.abs()))
        if equal_nan:
            close = close | (isnan(a) & isnan(b))
    elif rtol or atol:
        diff = (a.to(dtypes.float64) - b.to(dtypes.float64)).abs()
        close = close | (diff <= atol + rtol * b.to(dtypes.float64).abs())
    return close


@export()
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Whether isclose holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


# ---- binary functions with derivatives ---------------------------------------------------------------------------

def _binary(cls_name, ufunc, grads, doc, names, floating=True):
    """The broadcasting op `cls_name` computing NumPy's `ufunc` of two tensors in PyTorch's result dtype (with
    `floating`, integers computed in the default float), with (d/da, d/db) = grads(a, b, out)."""
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.ufunc(ufunc, a._data, b._data)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da, db = grads(a, b, ctx.output())
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g * da, a.shape) if na else None, unbroadcast(g * db, b.shape) if nb else None)

    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        da, db = grads(a, b, ctx.outs[0])
        return fw.combine(ctx, ctx.outs[0], [(ta, a, da), (tb, b, db)])
    cls = _function(cls_name, f"{doc}; derivatives as PyTorch's.", forward, backward, jvp, saves_output=True)

    def fn(input, other):  # noqa: A002
        dt = dtypes.result_type(input, other)
        dt = dtypes.float_result(dt) if floating else dt
        a = input.to(dt) if isinstance(input, Tensor) else input
        b = other.to(dt) if isinstance(other, Tensor) else other
        if not isinstance(a, Tensor):
            a = Tensor(a, dtype=dt, backend=b.backend)
        return binary(cls, a, b)
    fn.__doc__ = f"{doc} elementwise, broadcast."
    for name in names:
        register(name, fn, fn, inplace=True)
    return fn


def _atan2_grads(a, b, out):
    r = 1 / (a * a + b * b)
    return b * r, -a * r


def _copysign_grads(a, b, out):
    ratio = where(a == 0, constant(a, 0.0), out / where(a == 0, constant(a, 1.0), a))
    return ratio, _zeros(b)


atan2 = _binary("Atan2", "arctan2", _atan2_grads, "atan2(input, other): the angle of the point (other, input)",
                ["atan2", "arctan2"])
hypot = _binary("Hypot", "hypot", lambda a, b, h: (a / h, b / h), "sqrt(input^2 + other^2)", ["hypot"])
logaddexp = _binary("Logaddexp", "logaddexp", lambda a, b, y: (1 / (1 + (b - a).exp()), 1 / (1 + (a - b).exp())),
                    "log(exp(input) + exp(other))", ["logaddexp"])
logaddexp2 = _binary("Logaddexp2", "logaddexp2",
                     lambda a, b, y: (1 / (1 + 2 ** (b - a)), 1 / (1 + 2 ** (a - b))),
                     "log2(2^input + 2^other)", ["logaddexp2"])
copysign = _binary("Copysign", "copysign", _copysign_grads, "|input| with the sign of other", ["copysign"])
fmod = _binary("Fmod", "fmod", lambda a, b, y: (constant(a, 1.0) + _zeros(a), -(a / b).detach().trunc()),
               "input - trunc(input / other) * other (the remainder with input's sign, C's fmod)", ["fmod"],
               floating=False)
