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


def kernel(fn=None, *, scalars=(), primitive=False, fused=False):
    """Register `fn` as an elementwise kernel (see the module docstring). `fused`: compiled backends compile it even
    though it calls libm functions other than exp and tanh (those alone NumPy's vectorised versions compute faster
    than a scalar-libm loop; numba vectorises its own exp and tanh): for long expressions."""
    def register(f):
        k = Kernel(f, scalars=tuple(scalars), primitive=primitive, known=KERNELS, fused=fused)
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


# The error function by W. J. Cody's rational approximations (Math. Comp. 23 (1969) 631-637; netlib specfun
# CALERF): erf on |x| <= 0.46875, erfc on 0.46875..4 and beyond 4. Relative error below 5e-16 in float64
# against math.erf (a few ulp in float32). Each branch is a definition of its own, so that a backend may apply
# each to its own elements (the numpy backend's erf); `erf` combines them.

@kernel
def erf_small(x):
    """erf(x) for |x| <= 0.5: x P(x^2) / Q(x^2)."""
    z = x * x
    num = ((((1.85777706184603153e-1 * z + 3.16112374387056560e00) * z + 1.13864154151050156e02) * z
            + 3.77485237685302021e02) * z + 3.20937758913846947e03)
    den = ((((z + 2.36012909523441209e01) * z + 2.44024637934444173e02) * z + 1.28261652607737228e03) * z
           + 2.84423683343917062e03)
    return x * num / den


@kernel
def erfc_mid(y):
    """erfc(y) for 0.46875 <= y <= 4: P(y) / Q(y) exp(-y^2)."""
    num = (((((((2.15311535474403846e-8 * y + 5.64188496988670089e-1) * y + 8.88314979438837594e00) * y
               + 6.61191906371416295e01) * y + 2.98635138197400131e02) * y + 8.81952221241769090e02) * y
            + 1.71204761263407058e03) * y + 2.05107837782607147e03) * y + 1.23033935479799725e03
    den = (((((((y + 1.57449261107098347e01) * y + 1.17693950891312499e02) * y + 5.37181101862009858e02) * y
              + 1.62138957456669019e03) * y + 3.29079923573345963e03) * y + 4.36261909014324716e03) * y
           + 3.43936767414372164e03) * y + 1.23033935480374942e03
    return num / den * np.exp(-y * y)


@kernel
def erfc_big(y):
    """erfc(y) for y >= 4: (1/sqrt(pi) - R(1/y^2) / y^2) / y exp(-y^2)."""
    inv = 1 / (y * y)
    num = (((((1.63153871373020978e-2 * inv + 3.05326634961232344e-1) * inv + 3.60344899949804439e-1) * inv
             + 1.25781726111229246e-1) * inv + 1.60837851487422766e-2) * inv + 6.58749161529837803e-4)
    den = ((((inv + 2.56852019228982242e00) * inv + 1.87295284992346725e00) * inv + 5.27905102951428412e-1) * inv
           + 6.05183413124413191e-2) * inv + 2.33520497626869185e-3
    return (5.64189583547756287e-1 - inv * num / den) / y * np.exp(-y * y)


@kernel
def erf_from_erfc(x, erfc):
    """erf(x) = sign(x) (1 - erfc(|x|))."""
    return np.where(x < 0, erfc - 1, 1 - erfc)


@kernel(primitive=True, fused=True)
def erf(x):
    """erf(x) from the three branches, each fed an argument clipped to its range; NaN stays NaN."""
    y = np.abs(x)
    small = erf_small(np.where(y < 0.5, x, 0.5))
    mid = erfc_mid(np.where(y < 0.46875, 0.46875, np.where(y > 4.0, 4.0, y)))
    big = erfc_big(np.where(y > 4.0, y, 4.0))
    return np.where(x != x, x, np.where(y <= 0.46875, small, erf_from_erfc(x, np.where(y <= 4.0, mid, big))))


@kernel
def one_plus_erf(z):
    """1 + erf(z) without cancellation: erfc(|z|) below -0.46875 (where 1 + erf(z) would lose every digit that
    erf's rounding near -1 leaves), 2 - erfc(z) above 0.46875, 1 + erf(z) between; NaN stays NaN."""
    y = np.abs(z)
    small = 1 + erf_small(np.where(y < 0.5, z, 0.5))
    mid = erfc_mid(np.where(y < 0.46875, 0.46875, np.where(y > 4.0, 4.0, y)))
    tail = np.where(y <= 4.0, mid, erfc_big(np.where(y > 4.0, y, 4.0)))
    return np.where(z != z, z, np.where(y <= 0.46875, small, np.where(z < 0, tail, 2 - tail)))


# GELU, x Phi(x): exactly (through erfc, as 2 Phi(x) = 1 + erf(x / sqrt(2))) and by PyTorch's tanh formula; each
# with its gradient given x, one loop each where the backend compiles definitions (a dozen operations per
# element, with a tanh or an erf and an exp).

@kernel(primitive=True, fused=True)
def gelu_erf(x):
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))."""
    return 0.5 * x * one_plus_erf(x * 0.7071067811865476)


@kernel(primitive=True, fused=True)
def gelu_erf_backward(g, x):
    """g (Phi(x) + x phi(x)): the exact GELU's gradient given its input x."""
    return g * (0.5 * one_plus_erf(x * 0.7071067811865476) + x * (0.3989422804014327 * np.exp(-0.5 * (x * x))))


@kernel(primitive=True, fused=True)
def gelu_tanh(x):
    """0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3): PyTorch's approximate="tanh", computed as
    x / (1 + exp(-2 u)) (the same number: 0.5 (1 + tanh(u)) is the logistic of 2 u), which loses no digits where
    tanh(u) is near -1."""
    v = -1.5957691216057308 * (x + 0.044715 * (x * x * x))
    # Past v = 80 the value is 0 to the dtype (x 0: -0, and NaN at -inf, as PyTorch's); exp stays finite.
    return np.where(v > 80, x * 0, x / (1 + np.exp(np.where(v > 80, 80, v))))


@kernel(primitive=True, fused=True)
def gelu_tanh_backward(g, x):
    """The tanh GELU's gradient given its input x: with s = 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2 u)),
    g (s + 2 x s (1 - s) sqrt(2 / pi) (1 + 3 0.044715 x^2))."""
    v = -1.5957691216057308 * (x + 0.044715 * (x * x * x))
    s = 1 / (1 + np.exp(np.where(v > 80, 80, v)))
    # s (1 - s) is exactly 0 long before |x| reaches 100; x clipped there keeps x^2 finite (0, not 0 inf = NaN)
    c = np.where(x > 100, 100, np.where(x < -100, -100, x))
    d = s + 2 * c * (s * (1 - s)) * (0.7978845608028654 * (1 + 0.134145 * (c * c)))
    return np.where(v > 80, g * (x * 0), g * d)


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
