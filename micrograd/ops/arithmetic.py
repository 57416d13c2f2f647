"""Broadcasting binary arithmetic (+ - * / ** // %), maximum and minimum, the bitwise operators, and PyTorch's type
promotion for all of them (`binary`)."""
import numbers

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..autograd import forward as fw
from ..errors import RuntimeTypeError, RuntimeValueError
from ..tensor import Tensor
from .elementwise import where
from .util import broadcast_shapes, export, unbroadcast

__all__ = ["Add", "Bitwise", "BitwiseNot", "Div", "FloorDivide", "Maximum", "Minimum", "Mul", "Pow", "PowScalar",
           "Remainder", "RoundedDiv", "Sub", "add", "binary", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
           "bitwise_right_shift", "bitwise_xor", "div", "floor_divide", "maximum", "minimum", "mul", "pow",
           "remainder", "sub"]


class Add(Function):
    """a + b; d/da = 1, d/db = 1 (reduced over broadcast axes)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.add(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(ta, a, None), (tb, b, None)])


class Sub(Function):
    """a - b; d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.sub(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(ta, a, None), (None if tb is None else -tb, b, None)])


class Mul(Function):
    """a * b; d/da = b, d/db = a (each saved only when the other's gradient needs it, as PyTorch saves)."""

    @staticmethod
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs:  # recording: backward needs the shapes and the operands each gradient reads
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
            ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.mul(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g * b, sa) if na else None, unbroadcast(g * a, sb) if nb else None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(ta, a, b), (tb, b, a)])


class Div(Function):
    """a / b; d/da = 1/b, d/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs:
            ctx.save_for_backward(a if needs[1] else None, b)
        ctx.shapes = (a._data.shape, b._data.shape)
        return a._backend.div(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g / b, sa) if na else None
        gb = unbroadcast(-g * a / (b * b), sb) if nb else None
        return ga, gb

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        return fw.combine(ctx, ctx.outs[0], [(ta, a, 1 / b), (tb, b, -ctx.outs[0] / b)])


class Pow(Function):
    """a ** b; d/da = b a^(b-1) (0 where b == 0), d/db = a^b log(a) (0 where a == 0 and b >= 0), as PyTorch."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.pow(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            ga = unbroadcast(where(b == 0, 0, g * b * a ** (b - 1)), a.shape)
        if nb:
            gb = unbroadcast(where((a == 0) & (b >= 0), 0, g * ctx.output() * a.log()), b.shape)
        return ga, gb

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        da = None if ta is None else where(b == 0, 0, b * a ** (b - 1))
        db = None if tb is None else where((a == 0) & (b >= 0), 0, ctx.outs[0] * a.log())
        return fw.combine(ctx, ctx.outs[0], [(ta, a, da), (tb, b, db)])


class PowScalar(Function):
    """a ** s for a Python number s, computed as PyTorch does for the exponents it special-cases (0.5 as sqrt,
    -0.5 as 1/sqrt, 2 and 3 as products, -1 and -2 as reciprocals); d/da = s a^(s-1), and 0 where s == 0."""

    @staticmethod
    def forward(ctx, a, s):
        ctx.save_for_backward(a)
        ctx.s = s
        return a._backend.pow_scalar(a._data, s)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if ctx.s == 0:
            return fw.zero_gradient(g), None
        return g * (PowScalar.apply(a, ctx.s - 1) * ctx.s), None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t, *_):
        if ctx.s == 0:
            return fw.zeros(ctx, ctx.outs[0])
        return t * (PowScalar.apply(ctx.primals[0], ctx.s - 1) * ctx.s)


class Maximum(Function):
    """max(a, b); the gradient goes to the larger input, split evenly on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.maximum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, g, a, b, "gt")

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        return _select_jvp(ctx, ta, tb, "gt")


class Minimum(Function):
    """min(a, b); the gradient goes to the smaller input, split evenly on ties (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.minimum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, g, a, b, "lt")

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        return _select_jvp(ctx, ta, tb, "lt")


def _select_grads(ctx, g, a, b, wins):
    wa, wb = _select_weights(a, b, wins, g.dtype)
    na, nb = ctx.needs_input_grad
    return (unbroadcast(g * wa, a.shape) if na else None, unbroadcast(g * wb, b.shape) if nb else None)


def _select_jvp(ctx, ta, tb, wins):
    a, b = ctx.primals
    wa, wb = _select_weights(a, b, wins, ctx.outs[0].dtype)
    return fw.combine(ctx, ctx.outs[0], [(ta, a, wa), (tb, b, wb)])


def _select_weights(a, b, wins, dtype):
    # PyTorch's rule: each input's weight is 1, halved on ties and 0 where it loses, so a NaN on either side
    # (no comparison holds) passes the whole gradient to both.
    bk = a._backend
    g = Tensor._make(bk.zeros((), dtype), bk, False, None, 0)
    loses = ("lt", "gt") if wins == "gt" else ("gt", "lt")
    half_tie = bk.mul(bk.astype(bk.compare("eq", a._data, b._data), g.dtype), 0.5)
    one = bk.full((), 1, g.dtype)
    return tuple(Tensor._make(bk.sub(bk.sub(one, bk.astype(bk.compare(op, a._data, b._data), g.dtype)), half_tie),
                              bk, False, None, 0) for op in loses)


class FloorDivide(Function):
    """a // b, rounded toward negative infinity (PyTorch's floor_divide); it has no derivative."""

    @staticmethod
    def forward(ctx, a, b):
        return a._backend.floor_divide(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeValueError("derivative for floor_divide is not implemented")

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        raise RuntimeValueError("derivative for floor_divide is not implemented")


class RoundedDiv(Function):
    """a / b rounded toward zero ("trunc") or negative infinity ("floor"): div(rounding_mode=...); its gradient is
    zero almost everywhere, and PyTorch's is zero."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.shapes = (a._data.shape, b._data.shape)
        bk = a._backend
        return bk.floor_divide(a._data, b._data) if mode == "floor" else bk.trunc_divide(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad[:2]
        return unbroadcast(g * 0, sa) if na else None, unbroadcast(g * 0, sb) if nb else None, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb, *_):
        return fw.zeros(ctx, ctx.outs[0])


class Remainder(Function):
    """a % b with the sign of b (Python's, PyTorch's remainder); d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._backend.remainder(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g, a.shape) if na else None
        gb = unbroadcast(-g * RoundedDiv.apply(a, b, "floor").detach(), b.shape) if nb else None
        return ga, gb

    jvp_batched = True

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.primals
        q = None if tb is None else -RoundedDiv.apply(a, b, "floor").detach()
        return fw.combine(ctx, ctx.outs[0], [(ta, a, None), (tb, b, q)])


class Bitwise(Function):
    """A bitwise operation of integer or bool tensors ("and", "or", "xor", "left_shift", "right_shift"); no
    gradient."""

    @staticmethod
    def forward(ctx, a, b, op):
        return a._backend.bitwise(op, a._data, b._data)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, *tangents):
        return None


class BitwiseNot(Function):
    """~x for integer or bool tensors; no gradient."""

    @staticmethod
    def forward(ctx, x):
        return x._backend.bitwise_not(x._data)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, t):
        return None


@export()
def maximum(a, b):
    """Elementwise maximum; gradient split evenly on ties."""
    return binary(Maximum, a, b)


@export()
def minimum(a, b):
    """Elementwise minimum; gradient split evenly on ties."""
    return binary(Minimum, a, b)


def binary(cls, a, b, *args):
    """Apply the broadcasting binary op `cls` to Tensors, NumPy arrays and Python numbers, in the dtype PyTorch's
    promotion gives (a float result for true division of integers)."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    like = a if ta else b
    if cls is Pow and ta and (type(b) is float or type(b) is int):
        if a._data.dtype.kind != "f" and type(b) is float:
            a = a.astype(dtypes.get_default_dtype())
        if a._data.dtype.kind == "f":
            return PowScalar.apply(a, b)
    if not tb and (type(b) is float or type(b) is int) and like._data.dtype.kind == "f":
        b = Tensor._make(like._backend.asarray(b, like._data.dtype), like._backend, False, None, 0)  # the fast path
    elif not (ta and tb and a._data.dtype == b._data.dtype and cls is not Div):
        a, b = _promoted(cls, a, b, like)
    if a._data.shape != b._data.shape:
        broadcast_shapes(cls.__name__.lower(), a.shape, b.shape)
    return cls.apply(a, b, *args)


def _promoted(cls, a, b, like):
    dt = dtypes.result_type(_operand(a, like, cls), _operand(b, like, cls))
    if cls is Div:
        dt = dtypes.float_result(dt)
    elif cls is Pow and dt.kind in "iu" and not isinstance(b, Tensor) and _negative(b):
        raise RuntimeValueError("Integers to negative integer powers are not allowed.")
    return _as(a, dt, like), _as(b, dt, like)


def _operand(x, like, cls):
    if isinstance(x, (Tensor, numbers.Number, np.generic)):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or isinstance(x, like._backend.array_type):
        return np.asarray(x) if not isinstance(x, like._backend.array_type) else x
    raise TypeError(f"{cls.__name__.lower()}: unsupported operand type {type(x).__name__}")


def _negative(x):
    return bool((np.asarray(x._host() if isinstance(x, Tensor) else x) < 0).any())


def _as(x, dt, like):
    """x as a Tensor of dtype dt on like's backend (a cast is recorded, so gradients flow through it)."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == dt else x.astype(dt)
    if isinstance(x, like._backend.array_type) and not isinstance(x, np.ndarray):
        return Tensor._make(like._backend.astype(x, dt), like._backend, False, None, 0)
    return Tensor._make(like._backend.asarray(np.asarray(x), dt), like._backend, False, None, 0)


def _integral(op, x):
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        raise RuntimeTypeError(f"\"{op}_cpu\" not implemented for '{x.dtype.name.capitalize()}'")


@export(inplace=True)
def add(input, other, *, alpha=1):  # noqa: A002  (PyTorch's argument names)
    """input + alpha * other."""
    return binary(Add, input, other if alpha == 1 else other * alpha)


@export("sub", "subtract", inplace=True)
def sub(input, other, *, alpha=1):  # noqa: A002
    """input - alpha * other."""
    return binary(Sub, input, other if alpha == 1 else other * alpha)


@export("mul", "multiply", inplace=True)
def mul(input, other):  # noqa: A002
    """input * other."""
    return binary(Mul, input, other)


@export("div", "divide", inplace=True)
def div(input, other, *, rounding_mode=None):  # noqa: A002
    """input / other: true division (integers give the default float), or rounded toward zero ("trunc") or
    negative infinity ("floor") in the operands' promoted dtype."""
    if rounding_mode is None:
        return binary(Div, input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                                f"'{rounding_mode}'")
    return binary(RoundedDiv, input, other, rounding_mode)


@export("true_divide", inplace=True)
def true_divide(input, other):  # noqa: A002
    return binary(Div, input, other)


@export(inplace=True)
def floor_divide(input, other):  # noqa: A002
    """input // other, rounded toward negative infinity (no derivative)."""
    return binary(FloorDivide, input, other)


@export(inplace=True)
def remainder(input, other):  # noqa: A002
    """input % other, with the sign of other (Python's and PyTorch's remainder)."""
    return binary(Remainder, input, other)


@export(inplace=True)
def pow(input, exponent):  # noqa: A001,A002
    """input ** exponent."""
    return binary(Pow, input, exponent)


def _bitwise(op, name):
    def fn(input, other):  # noqa: A002
        _integral(name, input)
        _integral(name, other)
        return binary(Bitwise, input, other, op)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The bitwise {op.replace('_', ' ')} of integer or bool tensors."
    return export(inplace=True)(fn)


bitwise_and = _bitwise("and", "bitwise_and")
bitwise_or = _bitwise("or", "bitwise_or")
bitwise_xor = _bitwise("xor", "bitwise_xor")
bitwise_left_shift = _bitwise("left_shift", "bitwise_left_shift")
bitwise_right_shift = _bitwise("right_shift", "bitwise_right_shift")


@export(inplace=True)
def bitwise_not(input):  # noqa: A002
    """~input for integer or bool tensors."""
    _integral("bitwise_not", input)
    return BitwiseNot.apply(input)
