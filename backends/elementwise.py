"""Every elementwise kernel, defined once.

A definition is a plain Python function of arrays (or numbers), written with + - * /, comparisons,
np.where and NumPy's elementwise math functions (np.exp, np.sin, ...: codegen.FUNCTIONS), and calls of
earlier definitions. It is the single source of the kernel's maths:

- the reference backend calls it as it is, on NumPy (or CuPy) arrays, where Python numbers are weak (NumPy 2):
  a float32 operand keeps the computation in float32;
- backends/codegen.py turns its source into a compiled loop for the numba backend and into the operation of
  a CUDA ElementwiseKernel for the cupy backend, number literals typed as the operands' float dtype, so each
  backend computes the same expression in the same dtype, in the same order.

A definition returns one expression (its output is called `out`), or names of its locals; a returned name
that is also an argument is written in place. `scalars` names the arguments that are numbers, not arrays.
The kernels whose definitions are marked `primitive` are backend primitives under their own name
(backends/base.py); the others are the elementwise part of a primitive that lays out its operands first
(lstm_cell, axpby_, ...). Adding a fused elementwise kernel: one definition here, one conformance row.
"""
import numpy as np

from .codegen import Kernel

KERNELS = {}


def kernel(fn=None, *, scalars=(), primitive=False):
    """Register `fn` as an elementwise kernel (see the module docstring)."""
    def register(f):
        k = Kernel(f, scalars=tuple(scalars), primitive=primitive, known=KERNELS)
        KERNELS[k.name] = k
        return k
    return register(fn) if fn is not None else register


# ---- maths ----------------------------------------------------------------------------------------------------

@kernel(primitive=True)
def sin(x):
    """sin(x)."""
    return np.sin(x)


@kernel(primitive=True)
def cos(x):
    """cos(x)."""
    return np.cos(x)


# ---- activations and their gradients given the activation's output y --------------------------------------

@kernel(primitive=True)
def relu(x):
    """max(x, 0), keeping x's dtype; NaN stays NaN."""
    return np.where(x <= 0, 0, x)


@kernel(primitive=True)
def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: with e = exp(-|x|), 1 / (1 + e) for x >= 0 and e / (1 + e) below."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


@kernel(primitive=True)
def relu_backward(g, y):
    """g where y > 0 or y is NaN (PyTorch's threshold_backward), else 0 g (so a NaN in g stays NaN): relu's gradient
    given its output y (one shape and dtype)."""
    return np.where(y <= 0, 0 * g, g)


@kernel(primitive=True)
def tanh_backward(g, y):
    """g (1 - y^2): tanh's gradient given its output y (g and y of one shape and float dtype)."""
    return g * (1 - y * y)


@kernel(primitive=True)
def sigmoid_backward(g, y):
    """g y (1 - y): the sigmoid's gradient given its output y (g and y of one shape and float dtype)."""
    return g * (y * (1 - y))


# ---- in-place updates (the primitives axpby_ and sgd_momentum_) -------------------------------------------

@kernel(scalars=("a", "b"))
def axpby(y, a, x, b):
    """y = a y + b x, in place."""
    y = a * y + b * x
    return y


@kernel(scalars=("lr", "momentum", "damp"))
def sgd_momentum(p, buf, g, lr, momentum, damp):
    """SGD with momentum, in place: buf = momentum buf + damp g, then p = p - lr buf."""
    buf = momentum * buf + damp * g
    p = p - lr * buf
    return p, buf


# ---- one LSTM step per unit (the primitives lstm_cell and lstm_cell_backward lay out the gate blocks) -------

@kernel
def lstm_cell_units(zi, zf, zg, zo, c):
    """From the gate pre-activations and the cell c: the gates i, f, g, o, t = tanh(c_new), c_new and h."""
    i = sigmoid(zi)
    f = sigmoid(zf)
    g = np.tanh(zg)
    o = sigmoid(zo)
    c_new = f * c + i * g
    t = np.tanh(c_new)
    h = o * t
    return i, f, g, o, t, c_new, h


@kernel
def lstm_cell_units_backward(gh, gc, i, f, g, o, t, c):
    """The gradients of the gate pre-activations and of the cell c, from those of h and c_new (gh, gc)."""
    d = gc + gh * o * (1 - t * t)
    di = d * g * (i * (1 - i))
    df = d * c * (f * (1 - f))
    dg = d * i * (1 - g * g)
    do = gh * t * (o * (1 - o))
    dc = d * f
    return di, df, dg, do, dc
