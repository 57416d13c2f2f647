"""Helpers shared by the ops: the public-name registry, argument normalisation and the one broadcast-gradient
reduction."""
import numbers

import numpy as np

from ..tensor import Tensor

PUBLIC = {}  # name -> function: micrograd.<name> (micrograd/__init__.py exports them all)
METHODS = {}  # name -> function taking the tensor first: Tensor.<name> (micrograd/tensor.py attaches them)
INPLACE = set()  # names whose in-place twin Tensor.<name>_ exists (PyTorch's), made from the method


def register(name, function=None, method=None, inplace=False):
    """Make `function` micrograd.<name> and `method` Tensor.<name> (either may be None), and with `inplace` the
    in-place twin Tensor.<name>_ (the method's result written into the tensor)."""
    if function is not None:
        PUBLIC[name] = function
    if method is not None:
        METHODS[name] = method
    if inplace:
        INPLACE.add(name)


def export(*names, method=True, function=True, inplace=False):
    """Register the decorated function as micrograd.<name> and, with `method`, as Tensor.<name> (and with
    `inplace`, Tensor.<name>_), under each of `names` (default: its own name). An op is then added in one
    place: its module in micrograd/ops/."""
    def decorate(fn):
        for name in names or (fn.__name__,):
            register(name, fn if function else None, fn if method else None, inplace)
        return fn
    return decorate


def constant(like, value, shape=(), dtype=None):
    """A tensor of `shape` filled with `value`, on like's backend in like's dtype (or `dtype`), with no history."""
    b = like._backend
    return Tensor._make(b.full(tuple(shape), value, dtype or like.dtype), b, False, None, 0)


def lift(x, like, op):
    """`x` as a Tensor on `like`'s backend; a Python number becomes a weak 0-d tensor (NumPy 2 promotion)."""
    if isinstance(x, Tensor):
        return x
    if (type(x) is float or type(x) is int) and like.dtype.kind == "f":
        # the common case: a weak Python number takes a floating tensor's dtype (NumPy 2), no result_type
        return Tensor._make(like._backend.asarray(x, like.dtype), like._backend, False, None, 0)
    if isinstance(x, (bool, numbers.Number)) and not isinstance(x, np.ndarray):
        if isinstance(x, np.generic):
            dtype = np.result_type(like.dtype, x.dtype)
        else:
            dtype = np.result_type(like.dtype, x)
        return Tensor._make(like._backend.asarray(x, dtype), like._backend, False, None, 0)
    if isinstance(x, (np.ndarray, list, tuple)) or isinstance(x, like._backend.array_type):
        return Tensor(x, dtype=x.dtype if hasattr(x, "dtype") else None, backend=like._backend.name)
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}")


def broadcast_shapes(op, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{op}: shapes cannot be broadcast together; got "
                         f"{' and '.join(str(tuple(s)) for s in shapes)}") from None


def unbroadcast(g, shape):
    """Sum the gradient `g` of a broadcast result back to an input's `shape` (differentiable)."""
    if g._data.shape == shape:  # the common case first: nothing was broadcast
        return g
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    out = g.sum(axis=axes, keepdims=True) if axes else g
    return out.reshape(shape) if out.shape != shape else out


def normalize_axis(axis, ndim, op, shape=None):
    """`axis` (None, int or sequence; negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    many = isinstance(axis, (tuple, list))
    axes = tuple(axis) if many else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):  # a float tensor is no dim (PyTorch)
            raise TypeError(f"{op}(): argument 'dim' must be an int, a tuple of ints or None; got "
                            f"{type(axis).__name__ if not many else axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):  # a 0-d tensor takes 0 and -1, as in PyTorch
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions"
                             f"{'' if shape is None else f'; got shape {tuple(shape)}'}")
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def axis_args(op, axis, keepdims, dim, keepdim):
    """Merge NumPy's words (axis, keepdims) with PyTorch's aliases (dim, keepdim)."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: pass axis or dim, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


def single_axis(axis, ndim, op, shape):
    """One axis as a non-negative int."""
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise ValueError(f"{op}: takes a single axis; got {axis!r}")
        axis = axis[0]
    return normalize_axis(axis, ndim, op, shape)[0] if ndim else 0


def keepdims_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def recorded_backward(*tensors):
    """Whether a fused op's backward must be its composite's gradient (recorded ops) rather than its primitives:
    under create_graph, or when the output's gradient or a saved input carries forward-mode tangents (a batched or
    forward-over-reverse backward)."""
    from ..autograd import forward as fw
    from ..autograd.grad_mode import is_grad_enabled
    return is_grad_enabled() or fw.carries(*tensors)


def composite_backward(composite, primals, g):
    """The gradients of composite(*primals) for the output gradient g (None for a primal that is None or needs no
    gradient): the backward of a fused op when more than its first derivative is asked, through the composite that
    defines its maths. Recorded when grad mode is on (create_graph); with it off (a batched or forward-over-reverse
    backward, whose g carries tangents) the composite is still recorded for this one backward."""
    from ..autograd import enable_grad, grad
    from ..autograd.grad_mode import is_grad_enabled
    create = is_grad_enabled()
    wants = [p is not None and p.requires_grad for p in primals]
    if not any(wants):
        return tuple(None for _ in primals)
    with enable_grad():
        # each primal through a view of its own, so that a tensor passed twice (attention(x, x, x)) gets each
        # position's share, not its whole gradient at every position
        own = [p[...] if want else p for p, want in zip(primals, wants)]
        out = composite(*own)
    got = iter(grad(out, [p for p, want in zip(own, wants) if want], g, create_graph=create, allow_unused=True))
    return tuple(next(got) if want else None for want in wants)
