"""The primitive set every backend implements: the whole contract between the engine and a backend.

Rules for every primitive:
- Arguments are this backend's arrays (plus Python numbers, shapes, axes); results are this backend's array
  type, a 0-d result included (never a NumPy or Python scalar).
- Broadcasting, `axis` (None, an int or a tuple, already normalised to non-negative ints by the engine)
  and `keepdims` follow NumPy.
- Result dtypes follow NumPy 2 promotion; Python scalars are weak (float32 array * 2.0 stays float32).
- Inputs are never mutated, except by the primitives whose names end in `_` (in-place updates).
- A backend knows nothing about gradients and never imports the engine.

The elementwise kernels of backends/elementwise.py marked `primitive` are primitives too, under their own names
(relu, sigmoid, the activations' gradients, ...): their definition is their contract. A backend implements
them all at once through `run_elementwise`.
"""
from . import elementwise


class Backend:
    """A named implementation of the primitive set; subclasses override every method below."""

    name = "base"
    array_type = None
    device = "cpu"  # where its arrays live: "cpu", or "cuda:N"

    def __repr__(self):
        return f"<micrograd backend {self.name}>"

    def _missing(self, prim):
        raise NotImplementedError(f"backend {self.name!r} does not implement the primitive {prim!r}")

    # the machinery behind the elementwise kernels (not primitives themselves)
    def run_elementwise(self, kernel, *operands, out=None):
        """Run the elementwise kernel `kernel` (a backends.elementwise definition) on operands of one shape and
        float dtype (arrays, or what `column_blocks` returned; numbers for its scalars). Outputs that are
        arguments are written in place; the others go to `out` (a tuple with an array or None per new output)
        or to new arrays. Returns the outputs: one array, or a tuple."""
        self._missing("run_elementwise")

    def column_blocks(self, a, k):
        """The k equal column blocks of the 2-d array `a`, as operands for run_elementwise (views, or whatever
        this backend's kernels take)."""
        self._missing("column_blocks")

    # creation and transfer
    def asarray(self, data, dtype):
        """A new array holding `data` (a NumPy array, nested lists or a number), cast to `dtype`."""
        self._missing("asarray")

    def to_numpy(self, a):
        """A NumPy copy of `a` (on the host)."""
        self._missing("to_numpy")

    def zeros(self, shape, dtype):
        """An array of zeros."""
        self._missing("zeros")

    def full(self, shape, value, dtype):
        """An array filled with `value`."""
        self._missing("full")

    def arange(self, start, stop, step, dtype):
        """Evenly spaced values in [start, stop), as numpy.arange."""
        self._missing("arange")

    def eye(self, n, m, dtype):
        """An n x m identity matrix."""
        self._missing("eye")

    def astype(self, a, dtype):
        """`a` cast to `dtype` (a new array)."""
        self._missing("astype")

    def copy(self, a):
        """A contiguous copy of `a`."""
        self._missing("copy")

    # elementwise unary (floating inputs unless noted)
    def neg(self, a):
        """-a (any numeric dtype)."""
        self._missing("neg")

    def exp(self, a):
        """exp(a)."""
        self._missing("exp")

    def log(self, a):
        """Natural log; -inf at 0, nan below."""
        self._missing("log")

    def sqrt(self, a):
        """Square root."""
        self._missing("sqrt")

    def abs(self, a):
        """|a| (any numeric dtype)."""
        self._missing("abs")

    def sign(self, a):
        """-1, 0 or 1 with a's dtype."""
        self._missing("sign")

    # NumPy's own elementwise functions by name, each computed with the backend's array module (NumPy and CuPy
    # share these names); they need no kernel of their own.
    UFUNCS = frozenset({"tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
                        "log2", "log10", "log1p", "expm1", "exp2", "floor", "ceil", "trunc", "rint", "isnan",
                        "isinf", "isfinite", "signbit", "logical_not", "logical_and", "logical_or", "logical_xor",
                        "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign", "fmod", "fmax", "fmin"})

    def ufunc(self, name, *arrays):
        """NumPy's elementwise function `name` (one of UFUNCS) of the arrays, broadcast, NumPy's result dtype;
        no floating-point warnings."""
        self._missing("ufunc")

    def tanh(self, a):
        """tanh(a)."""
        self._missing("tanh")

    # elementwise binary, broadcasting
    def add(self, a, b):
        """a + b."""
        self._missing("add")

    def sub(self, a, b):
        """a - b."""
        self._missing("sub")

    def mul(self, a, b):
        """a * b."""
        self._missing("mul")

    def div(self, a, b):
        """a / b (true division; integers give float64)."""
        self._missing("div")

    def pow(self, a, b):
        """a ** b."""
        self._missing("pow")

    def pow_scalar(self, a, s):
        """a ** s for a float array a and a Python number s, with PyTorch's forms for the exponents it treats
        apart (they differ from pow at -0, +-inf and in the last bit): 0.5 sqrt, -0.5 1/sqrt, 2 and 3 products,
        -1 and -2 reciprocals."""
        one = self.full((), 1, a.dtype)
        if s == 0.5:
            return self.sqrt(a)
        if s == -0.5:
            return self.div(one, self.sqrt(a))
        if s in (2, 3, -1, -2):
            p = a if s == -1 else self.mul(a, a)
            p = self.mul(p, a) if s == 3 else p
            return self.div(one, p) if s < 0 else p
        return self.pow(a, self.full((), s, a.dtype))

    def floor_divide(self, a, b):
        """a // b rounded toward negative infinity (integers: division by zero raises ZeroDivisionError)."""
        self._missing("floor_divide")

    def trunc_divide(self, a, b):
        """a / b rounded toward zero, in the operands' dtype (integers: exact)."""
        self._missing("trunc_divide")

    def remainder(self, a, b):
        """a - b * floor(a / b): the remainder with the sign of b (Python's %)."""
        self._missing("remainder")

    def bitwise(self, op, a, b):
        """A bitwise op of integer or bool arrays: "and", "or", "xor", "left_shift" or "right_shift"."""
        self._missing("bitwise")

    def bitwise_not(self, a):
        """~a for integer or bool arrays."""
        self._missing("bitwise_not")

    def maximum(self, a, b):
        """Elementwise maximum (NaN propagates)."""
        self._missing("maximum")

    def minimum(self, a, b):
        """Elementwise minimum (NaN propagates)."""
        self._missing("minimum")

    def compare(self, op, a, b):
        """A bool array: `op` is one of "eq", "ne", "lt", "le", "gt", "ge"."""
        self._missing("compare")

    def where(self, cond, a, b):
        """Elements of `a` where the bool array `cond` holds, else of `b`."""
        self._missing("where")

    def clip(self, a, lo, hi):
        """`a` limited to [lo, hi]; either bound may be None."""
        self._missing("clip")

    # reductions
    def sum(self, a, axis, keepdims):
        """Sum over `axis` (None: all); bool and int64 sum to int64."""
        self._missing("sum")

    def max(self, a, axis, keepdims):
        """Maximum over `axis`; raises ValueError on an empty reduction."""
        self._missing("max")

    def min(self, a, axis, keepdims):
        """Minimum over `axis`."""
        self._missing("min")

    def prod(self, a, axis, keepdims):
        """Product over `axis` (None: all); bool and integers multiply in int64."""
        self._missing("prod")

    def cumsum(self, a, axis):
        """Running sums along the int `axis`; bool and integers sum in int64."""
        self._missing("cumsum")

    def cumprod(self, a, axis):
        """Running products along the int `axis`; bool and integers multiply in int64."""
        self._missing("cumprod")

    def argsort(self, a, axis, descending):
        """int64 indices that sort `a` along the int `axis`, stably (equal elements keep their order); NaN sorts
        above every number (last ascending, first descending), as PyTorch."""
        self._missing("argsort")

    def einsum(self, subscripts, *arrays):
        """NumPy's einsum of the arrays (explicit output subscripts, no repeated letter within an operand)."""
        self._missing("einsum")

    def argmax(self, a, axis):
        """int64 index of the first maximum along the int `axis` (None: of the flattened array)."""
        self._missing("argmax")

    def argmin(self, a, axis):
        """int64 index of the first minimum along the int `axis` (None: of the flattened array)."""
        self._missing("argmin")

    def all_finite(self, a):
        """A Python bool: no NaN or Inf in `a` (synchronises with the device)."""
        self._missing("all_finite")

    # row kernels: reductions over one axis that fuse several passes
    def logsumexp(self, a, axis, keepdims):
        """log(sum(exp(a), axis)), stable (the maximum is subtracted first); `axis` is a tuple."""
        self._missing("logsumexp")

    def softmax(self, a, axis):
        """exp(a - logsumexp(a, axis)) along the int `axis`."""
        self._missing("softmax")

    def log_softmax(self, a, axis):
        """a - logsumexp(a, axis) along the int `axis`."""
        self._missing("log_softmax")

    def masked_softmax(self, a, keep):
        """Attention's softmax along the last axis of `a` where the bool array `keep` (broadcastable to a's shape;
        None: everywhere) holds, the other entries taken as -inf (0 in the result); a row that is -inf throughout
        (nothing kept, say) gives zeros, not softmax's NaN (PyTorch's _safe_softmax)."""
        self._missing("masked_softmax")

    def softmax_backward(self, y, g, axis):
        """y (g - sum(g y, axis)): softmax's gradient given its output y and the output's gradient g (one shape and
        float dtype) along the int `axis`."""
        self._missing("softmax_backward")

    # movement
    def reshape(self, a, shape):
        """`a` with a new shape of the same size (may share memory with `a`)."""
        self._missing("reshape")

    def transpose(self, a, axes):
        """`a` with its axes permuted (may share memory)."""
        self._missing("transpose")

    def broadcast_to(self, a, shape):
        """`a` broadcast to `shape` (may share memory; its elements may alias one another: the engine never writes
        into such an array, see internal_overlap)."""
        self._missing("broadcast_to")

    def diagonal(self, a, offset, axis1, axis2):
        """The diagonal `offset` of the planes (axis1, axis2) of `a`, as its last axis: a view that can be written
        (NumPy's own is read-only)."""
        self._missing("diagonal")

    def internal_overlap(self, a):
        """Whether some elements of `a` share memory (a stride of 0 along an axis longer than 1)."""
        self._missing("internal_overlap")

    def getitem(self, a, index):
        """a[index]: ints, slices, None, Ellipsis, integer arrays and bool arrays of this backend, as NumPy."""
        self._missing("getitem")

    def index_add(self, shape, index, values, dtype):
        """A zero array of `shape` with `values` added at `index` (repeated indices accumulate).

        The adjoint of getitem: index_add(a.shape, idx, g)[idx] sums every g aimed at one element.
        """
        self._missing("index_add")

    def concatenate(self, arrays, axis):
        """Arrays joined along an existing axis."""
        self._missing("concatenate")

    def shares_memory(self, a, b):
        """Whether arrays a and b may share memory (a view's test: false for any two independent arrays)."""
        self._missing("shares_memory")

    def overlap(self, a, b):
        """How arrays a and b overlap in memory, as PyTorch judges it for in-place writes: 0 (not at all, or not
        decidable cheaply: a non-dense array), 1 (fully: the same memory, the same layout) or 2 (partially)."""
        self._missing("overlap")

    def setitem_(self, a, index, value):
        """a[index] = value in place (index as getitem takes it; value broadcast to the selection and cast to a's
        dtype); returns a."""
        self._missing("setitem_")

    def pad(self, a, pad_width, value):
        """`a` padded with the constant `value`; pad_width is ((before, after),) per axis."""
        self._missing("pad")

    # linear algebra
    def matmul(self, a, b):
        """a @ b with NumPy's rules (1-d operands, broadcast batch dimensions)."""
        self._missing("matmul")

    # matrix decompositions over the last two axes (leading axes are a batch; float32/float64)
    def cholesky(self, a):
        """The lower Cholesky factor L of symmetric positive-definite a (reads a's lower triangle): a = L L^T."""
        self._missing("cholesky")

    def inv(self, a):
        """The inverse of square a."""
        self._missing("inv")

    def solve(self, a, b):
        """x with a @ x = b: a (..., n, n), b (..., n, k), batch axes broadcast."""
        self._missing("solve")

    def slogdet(self, a):
        """(sign, log|det a|) of square a, each of shape a.shape[:-2]."""
        self._missing("slogdet")

    def eigh(self, a):
        """(w, v) of symmetric a (reads a's lower triangle): eigenvalues ascending, eigenvectors as columns."""
        self._missing("eigh")

    def svd(self, a, full_matrices=False):
        """The SVD (u, s, vh) of a (..., m, n): k = min(m, n) singular values descending; u (..., m, k) and
        vh (..., k, n), or (..., m, m) and (..., n, n) with full_matrices."""
        self._missing("svd")

    def qr(self, a, complete=False):
        """The reduced QR (q, r) of a (..., m, n): q (..., m, k) orthonormal columns, r (..., k, n) upper; with
        complete, q (..., m, m) and r (..., m, n)."""
        self._missing("qr")

    # convolution helpers (the image is already padded)
    def im2col(self, x, kh, kw, stride):
        """Patches of x (N, C, H, W) as (N, C, kh, kw, OH, OW), OH = (H - kh) // stride + 1."""
        self._missing("im2col")

    def conv2d(self, x, w, stride):
        """The cross-correlation of x (N, C, H, W) with w (O, C, kh, kw) at the int `stride` (no padding, dilation
        or groups: callers pad first), shape (N, O, OH, OW): im2col's patches times the weight matrix, one op."""
        self._missing("conv2d")

    def conv2d_backward(self, g, x, w, stride, need_x, need_w):
        """conv2d's gradients (dx or None, dw or None) given the output's gradient g (N, O, OH, OW): dx the col2im
        of W^T g, dw the sum over images of g patches^T."""
        self._missing("conv2d_backward")

    def col2im(self, cols, shape, stride):
        """The adjoint of im2col: sums patches (N, C, kh, kw, OH, OW) back into an array of `shape`."""
        self._missing("col2im")

    # fused neural-net kernels: one pass where the composite ops would make several temporaries
    def max_pool2d(self, x, kh, kw, sh, sw):
        """Window maxima of x (N, C, H, W) (already padded) and where they are: a tuple (values, indices).

        Both are (N, C, OH, OW), OH = (H - kh) // sh + 1; indices are int64 positions in the flattened H*W
        plane, of the first maximal element of each window in row-major order (the first NaN, if any).
        """
        self._missing("max_pool2d")

    def max_pool2d_backward(self, g, indices, shape):
        """The adjoint of gathering by max_pool2d's indices: zeros of `shape` (N, C, H, W) with each
        g[n, c, i, j] added at plane position indices[n, c, i, j] (overlapping windows accumulate)."""
        self._missing("max_pool2d_backward")

    def softmax_cross_entropy(self, logits, targets, ignore_index):
        """Per-row cross-entropy of logits (N, C) against int64 class indices (N,): a tuple (loss, lse).

        loss[n] = lse[n] - logits[n, targets[n]] with lse = logsumexp over the row, and 0 where
        targets[n] == ignore_index; both (N,) in the logits' dtype. Targets are already validated.
        """
        self._missing("softmax_cross_entropy")

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        """The gradient of softmax_cross_entropy's loss: g[n] (exp(logits[n] - lse[n]) - onehot(targets[n])),
        zero rows where targets[n] == ignore_index; (N, C) in the logits' dtype (g is (N,))."""
        self._missing("softmax_cross_entropy_backward")

    # batch normalisation over every axis but 1 (channels) of x (N, C, *spatial)
    def batch_norm_stats(self, x):
        """(mean, var): each channel's mean and biased variance over the other axes, (C,) arrays of x's dtype."""
        self._missing("batch_norm_stats")

    def batch_norm_apply(self, x, mean, invstd, weight, bias):
        """(x - mean) * invstd * weight + bias per channel; mean, invstd, weight, bias are (C,) (weight and bias may
        be None: 1 and 0)."""
        self._missing("batch_norm_apply")

    def batch_norm_backward(self, g, x, mean, invstd, weight, training):
        """(gx, gweight, gbias) of batch_norm_apply for the output gradient g: with xhat = (x - mean) invstd and
        s = invstd * weight, gbias = sum(g), gweight = sum(g xhat) over the other axes, and gx = s (g - gbias / n -
        xhat gweight / n) in training (mean and invstd from x's own n values per channel), s g otherwise."""
        self._missing("batch_norm_backward")

    # layer normalisation over the last axis of x (R, D)
    def layer_norm(self, x, weight, bias, eps):
        """(y, mean, invstd) for x (R, D): each row's mean and 1 / sqrt(biased variance + eps), (R,) arrays, and
        y = (x - mean) invstd weight + bias with weight, bias (D,) or None."""
        self._missing("layer_norm")

    def layer_norm_backward(self, g, x, mean, invstd, weight):
        """(gx, gweight, gbias) of layer_norm for g (R, D): xhat = (x - mean) invstd, gh = g weight,
        gx = invstd (gh - mean(gh) - xhat mean(gh xhat)) per row, gweight = sum over rows of g xhat, gbias = sum of g
        (both (D,), whether or not there is a weight)."""
        self._missing("layer_norm_backward")

    def lstm_cell(self, z, c):
        """One LSTM step from the gate pre-activations z (N, 4H), blocks in PyTorch's order i, f, g, o, and the
        cell c (N, H) of one float dtype: a tuple (h, c_new, act), computed per unit by the elementwise kernel
        lstm_cell_units, with act (N, 5H) = [i, f, g, o, tanh(c_new)] (what lstm_cell_backward needs)."""
        self._missing("lstm_cell")

    def lstm_cell_backward(self, gh, gc, act, c, dz=None):
        """The gradients through lstm_cell given those of its h and c_new (gh, gc: (N, H)), its act and the cell
        c it started from: a tuple (dz (N, 4H), dc (N, H)), computed per unit by lstm_cell_units_backward. `dz`: a
        C-contiguous (N, 4H) array to write dz into (a step's slot of the sequence's gradient), or None."""
        self._missing("lstm_cell_backward")

    # in-place updates (for optimizers and load_state_dict)
    def assign_(self, dst, src):
        """dst[...] = src, casting to dst's dtype."""
        self._missing("assign_")

    def axpby_(self, y, a, x, b):
        """y = a y + b x in place (the kernel axpby), computed in y's dtype (a, b Python numbers; x an array
        broadcastable to y's shape, of y's dtype); with b == 0, x is not read (0 * inf would be NaN); returns
        y. Optimizer updates: one pass, no temporaries where a kernel exists."""
        self._missing("axpby_")

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        """SGD with momentum, both updates in place and in p's dtype (p, buf, g of one shape and float dtype): the
        kernel sgd_momentum with damp = 1 - dampening; returns p. The same numbers as axpby_(buf, momentum, g,
        1 - dampening) then axpby_(p, 1, buf, -lr), in one pass over the three (CPU backends bit for bit; a GPU
        may fuse the multiply-adds, a last-bit difference)."""
        self._missing("sgd_momentum_")

    # device
    def synchronize(self):
        """Wait for queued work to finish (a no-op on CPU backends)."""
        return None


def _elementwise_primitive(kernel):
    def primitive(self, *operands):
        return self.run_elementwise(kernel, *operands)
    primitive.__name__ = primitive.__qualname__ = kernel.name
    primitive.__doc__ = kernel.__doc__
    primitive.kernel = kernel
    return primitive


for _kernel in elementwise.KERNELS.values():
    if _kernel.primitive:
        setattr(Backend, _kernel.name, _elementwise_primitive(_kernel))

MACHINERY = ("run_elementwise", "column_blocks")
PRIMITIVES = tuple(
    name for name, value in vars(Backend).items()
    if callable(value) and not name.startswith("_") and name not in MACHINERY
)
