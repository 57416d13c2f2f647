"""The scalar engine: `Value`, the classic micrograd API with an iterative backward."""

import gc
import math
import numbers

from micrograd.graph import toposort


def _prev(v):
    return v._prev


class Value:
    """A Python float, its gradient and its tangent, recording the ops that produce it.

    A superset of the classic micrograd `Value`: the same attributes (`data`, `grad`, `_prev`, `_op`,
    `_backward`) and the same float arithmetic, so its results match it bit for bit. `_prev` is a tuple
    (ordered, so a backward pass is deterministic) and `backward()` walks the graph without recursion.
    Binary ops take a Value or a real number; anything else returns NotImplemented.

    Forward mode too (dual numbers): `Value(x, tangent=v)` seeds an input's `.tangent` (default 0.0, as for
    numbers an op lifts to Values), and each op sets its output's tangent to its derivative times its
    input's tangent, f'(x) * x.tangent (for two inputs, the sum over both). With tangents v_i seeded on the
    inputs x_i, y.tangent is the directional derivative sum_i dy/dx_i * v_i, found in the forward pass:
    after y.backward() it equals sum_i x_i.grad * v_i up to rounding. An op whose inputs all have tangent
    0.0 skips its rule, so unused tangents cost one test per input, and a zero tangent stays 0.0 even where
    the derivative is infinite or NaN.

    Each op stores its derivative rule as `_grad_fn(out)` rather than as a closure over `out`: no
    reference cycle per node, so graphs are freed as soon as they are dropped and a million-node graph
    stays cheap for the garbage collector. `v._backward()` runs that rule, as in the classic micrograd,
    and assigning a callable to `v._backward` (the classic way to add an op by hand) still works.
    """

    __slots__ = ("data", "grad", "tangent", "_prev", "_op", "_grad_fn", "__dict__", "__weakref__")

    # Ops pass all five arguments: CPython calls __init__ faster when it has no default to fill in.
    def __init__(self, data, _children=(), _op="", _grad_fn=None, tangent=0.0):
        """A Value holding float(data), its tangent float(tangent); the rest is set by ops (see the class)."""
        self.data = float(data)
        self.grad = 0.0
        self.tangent = float(tangent) if tangent else 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._grad_fn = _grad_fn

    def _backward(self):
        """Add this node's contribution to the grads of its inputs (`_prev`)."""
        if self._grad_fn is not None:
            self._grad_fn(self)

    def __add__(self, other):
        """self + other; d/dself = d/dother = 1."""
        other = _lift(other)
        if other is NotImplemented:
            return NotImplemented
        t = self.tangent + other.tangent if self.tangent or other.tangent else 0.0
        return Value(self.data + other.data, (self, other), "+", Value._add_backward, t)

    @staticmethod
    def _add_backward(out):
        a, b = out._prev
        a.grad += out.grad
        b.grad += out.grad

    def __mul__(self, other):
        """self * other; d/dself = other, d/dother = self."""
        other = _lift(other)
        if other is NotImplemented:
            return NotImplemented
        t = self.tangent * other.data + self.data * other.tangent if self.tangent or other.tangent else 0.0
        return Value(self.data * other.data, (self, other), "*", Value._mul_backward, t)

    @staticmethod
    def _mul_backward(out):
        a, b = out._prev
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def __pow__(self, other):
        """self ** other; d/dself = other * self**(other-1), d/dother = self**other * log(self).

        The exponent is a number (as in the classic micrograd) or a Value. The derivative with respect to
        a Value exponent is taken as 0 where the base is 0 and the result is 0, and NaN for a negative base.
        """
        if isinstance(other, Value):
            y = _pow("pow", self.data, other.data)
            # Term by term: the exponent's partial is NaN at a negative base and must not spill into the
            # tangent when only the base moves (x ** n for a Value n holding an integer).
            t = (other.data * self.data ** (other.data - 1)) * self.tangent if self.tangent else 0.0
            t += _dpow_dexponent(self.data, y) * other.tangent if other.tangent else 0.0
            return Value(y, (self, other), "**", Value._pow_backward, t)
        if not isinstance(other, numbers.Real):
            return NotImplemented
        e = float(other)

        def _grad_fn(out):
            x = out._prev[0]
            x.grad += (e * x.data ** (e - 1)) * out.grad

        y = _pow("pow", self.data, e)
        t = (e * self.data ** (e - 1)) * self.tangent if self.tangent else 0.0
        return Value(y, (self,), f"**{other}", _grad_fn, t)

    @staticmethod
    def _pow_backward(out):
        x, e = out._prev
        x.grad += (e.data * x.data ** (e.data - 1)) * out.grad
        e.grad += _dpow_dexponent(x.data, out.data) * out.grad

    def __rpow__(self, other):
        """other ** self for a number `other`; d/dself = other**self * log(other)."""
        if not isinstance(other, numbers.Real):
            return NotImplemented
        base = float(other)

        def _grad_fn(out):
            out._prev[0].grad += _dpow_dexponent(base, out.data) * out.grad

        y = _pow("rpow", base, self.data)
        t = _dpow_dexponent(base, y) * self.tangent if self.tangent else 0.0
        return Value(y, (self,), f"{other}**", _grad_fn, t)

    def relu(self):
        """max(self, 0); d/dself = 1 where the output is positive, else 0."""
        y = 0.0 if self.data < 0 else self.data
        t = (y > 0) * self.tangent if self.tangent else 0.0
        return Value(y, (self,), "ReLU", Value._relu_backward, t)

    @staticmethod
    def _relu_backward(out):
        out._prev[0].grad += (out.data > 0) * out.grad

    def tanh(self):
        """tanh(self); d/dself = 1 - tanh(self)**2."""
        y = math.tanh(self.data)
        t = (1 - y**2) * self.tangent if self.tangent else 0.0
        return Value(y, (self,), "tanh", Value._tanh_backward, t)

    @staticmethod
    def _tanh_backward(out):
        out._prev[0].grad += (1 - out.data**2) * out.grad

    def exp(self):
        """exp(self); d/dself = exp(self)."""
        try:
            y = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp: result too large for a float; got exp({self.data})") from None
        t = y * self.tangent if self.tangent else 0.0
        return Value(y, (self,), "exp", Value._exp_backward, t)

    @staticmethod
    def _exp_backward(out):
        out._prev[0].grad += out.data * out.grad

    def log(self):
        """log(self) (natural); d/dself = 1 / self. Raises ValueError unless self > 0."""
        if not self.data > 0:
            raise ValueError(f"log: input must be positive; got {self.data}")
        t = self.tangent / self.data if self.tangent else 0.0
        return Value(math.log(self.data), (self,), "log", Value._log_backward, t)

    @staticmethod
    def _log_backward(out):
        x = out._prev[0]
        x.grad += out.grad / x.data

    def sigmoid(self):
        """1 / (1 + exp(-self)); d/dself = sigmoid(self) * (1 - sigmoid(self))."""
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            # exp(-x) would overflow for very negative x; this form only underflows.
            e = math.exp(x)
            s = e / (1.0 + e)
        t = s * (1 - s) * self.tangent if self.tangent else 0.0
        return Value(s, (self,), "sigmoid", Value._sigmoid_backward, t)

    @staticmethod
    def _sigmoid_backward(out):
        out._prev[0].grad += out.data * (1 - out.data) * out.grad

    def backward(self):
        """Accumulate d(self)/d(node) into `.grad` of every node of the graph, setting self.grad to 1.

        As in the classic micrograd, gradients add to what `.grad` already holds; the graph is walked with
        an explicit stack, so graphs millions of nodes deep work.
        """
        # The walk allocates one stack entry per node but frees no cycles; pausing the cyclic collector
        # keeps it from re-scanning a large graph many times over (several-fold faster at 1e6 nodes).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            topo = toposort(self, _prev)
        finally:
            if was_enabled:
                gc.enable()
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        if not isinstance(other, (Value, numbers.Real)):
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        if not isinstance(other, (Value, numbers.Real)):
            return NotImplemented
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        return other * self**-1

    __hash__ = object.__hash__

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def _lift(x):
    """x as a Value: a Value as is, a real number wrapped, anything else NotImplemented."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (float, int)) or isinstance(x, numbers.Real):
        return Value(x)
    return NotImplemented


def _pow(op, base, exponent):
    """base ** exponent as Python floats, with errors that say what went wrong."""
    try:
        y = base**exponent
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"{op}: 0.0 cannot be raised to a negative power; got {base} ** {exponent}"
        ) from None
    except OverflowError:
        raise OverflowError(f"{op}: result too large for a float; got {base} ** {exponent}") from None
    if isinstance(y, complex):
        raise ValueError(f"{op}: a negative base needs an integer exponent; got {base} ** {exponent}")
    return y


def _dpow_dexponent(base, out):
    """d(base**e)/de = base**e * log(base), continued as 0 where base == 0 and the power is 0."""
    if base > 0:
        return out * math.log(base)
    if out == 0:
        return 0.0
    return math.nan
