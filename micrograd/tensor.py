"""Tensor: an array on one backend, with the operator overloads and methods that call differentiable ops."""
import weakref

import numpy as np

from . import autograd
from . import backend as _registry
from . import dtypes


def _to_backend_array(data, dtype, backend, op="tensor"):
    """Convert host data (numbers, nested lists, NumPy arrays, Tensors) to `backend`'s array of `dtype`."""
    if isinstance(data, Tensor):
        src = data.data if data._backend is backend else data._backend.to_numpy(data.data)
        return backend.asarray(src, dtype if dtype is not None else data.dtype)
    if isinstance(data, backend.array_type) and not isinstance(data, np.ndarray):
        return backend.asarray(data, dtype if dtype is not None else data.dtype)
    if dtype is None:
        dtype = dtypes.infer_dtype(data)
    try:
        arr = np.asarray(data)
    except ValueError as exc:
        raise ValueError(f"{op}: cannot make a tensor from ragged or malformed data: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__} holding non-numeric values")
    return backend.asarray(arr, dtype)


class Tensor:
    """An n-dimensional array on one backend that records the ops applied to it for reverse-mode autodiff.

    Args:
        data: numbers, nested lists, a NumPy array or a Tensor.
        dtype: float32, float64, int64 or bool (a micrograd/NumPy dtype or its name); inferred when None.
        requires_grad: record ops on this tensor so `backward()` fills its `.grad`.
        backend: the backend's name; the current default when None.
    """

    __slots__ = ("data", "_backend", "requires_grad", "grad", "_node", "_index", "_hooks", "_retains_grad",
                 "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators (ndarray + Tensor -> Tensor)
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad=False, backend=None):
        b = _registry.current() if backend is None else _registry.backend_object(backend)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, "tensor")
        self.data = _to_backend_array(data, dtype, b)
        self._backend = b
        self.grad = None
        self._node = None
        self._index = 0
        self._hooks = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, backend, requires_grad, node, index):
        t = object.__new__(Tensor)
        t.data = data
        t._backend = backend
        t.requires_grad = requires_grad
        t.grad = None
        t._node = node
        t._index = index
        t._hooks = None
        t._retains_grad = False
        return t

    # attributes
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def backend(self):
        """The name of the backend holding this tensor's data."""
        return self._backend.name

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (None for leaves and untracked results)."""
        return self._node

    def numel(self):
        return int(self.data.size)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len: a 0-d tensor has no length")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iter: cannot iterate over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} elements is ambiguous; "
                               f"use .any() or .all() on the comparison, or .item()")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"index: only single-element integer tensors can be used as an index; got "
                            f"{self.dtype.name} of shape {self.shape}")
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (dtypes.float32, dtypes.int64):
            extras.append(f"dtype={self.dtype.name}")
        if self._backend.name != "numpy":
            extras.append(f"backend={self._backend.name!r}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    # conversion
    def numpy(self):
        """A NumPy copy of the data (also when requires_grad is set)."""
        return self._backend.to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only single-element tensors convert to a Python number; got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._make(self.data, self._backend, False, None, 0)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on a leaf in place; only floating tensors can require grad."""
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients; got dtype "
                            f"{self.dtype.name}")
        if self._node is not None and not requires_grad:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad on a non-leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` during backward (leaves always keep theirs)."""
        if self._node is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: the tensor does not require grad")
            return
        if self._node.retained is None:
            self._node.retained = {}
        self._node.retained[self._index] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a non-None return replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
        else:
            node = self._node
            if node.hooks is None:
                node.hooks = {}
            node.hooks.setdefault(self._index, []).append(hook)
        return hook

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate the gradient of this tensor into `.grad` of every leaf that requires grad.

        Args:
            grad: d(loss)/d(self); required unless the tensor has a single element.
            retain_graph: keep the graph's buffers so backward can run through it again.
            create_graph: record the backward pass, so gradients can be differentiated (grad of grad).
        """
        autograd.backward(self, grad, retain_graph, create_graph)

    def to(self, target):
        """A copy on another backend (a backend name; differentiable) or with another dtype."""
        if _registry.is_name(target):
            b = _registry.backend_object(target)
            return self if b is self._backend else ops.ToBackend.apply(self, backend=b)
        return self.astype(target)

    def astype(self, dtype):
        """This tensor cast to `dtype` (differentiable between floating dtypes)."""
        dtype = dtypes.as_dtype(dtype, "astype")
        if dtype == self.dtype:
            return self
        return ops.Cast.apply(self, dtype=dtype)

    def float(self):
        return self.astype(dtypes.float32)

    def double(self):
        return self.astype(dtypes.float64)

    def long(self):
        return self.astype(dtypes.int64)

    # operators
    def __add__(self, other):
        return ops.binary(ops.Add, self, other)

    def __radd__(self, other):
        return ops.binary(ops.Add, other, self)

    def __sub__(self, other):
        return ops.binary(ops.Sub, self, other)

    def __rsub__(self, other):
        return ops.binary(ops.Sub, other, self)

    def __mul__(self, other):
        return ops.binary(ops.Mul, self, other)

    def __rmul__(self, other):
        return ops.binary(ops.Mul, other, self)

    def __truediv__(self, other):
        return ops.binary(ops.Div, self, other)

    def __rtruediv__(self, other):
        return ops.binary(ops.Div, other, self)

    def __pow__(self, other):
        return ops.binary(ops.Pow, self, other)

    def __rpow__(self, other):
        return ops.binary(ops.Pow, other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __lt__(self, other):
        return ops.compare("lt", self, other)

    def __le__(self, other):
        return ops.compare("le", self, other)

    def __gt__(self, other):
        return ops.compare("gt", self, other)

    def __ge__(self, other):
        return ops.compare("ge", self, other)

    def __eq__(self, other):
        return ops.compare("eq", self, other)

    def __ne__(self, other):
        return ops.compare("ne", self, other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # exp, log, sum, reshape, softmax, ... : every op registered as a method in micrograd/ops is attached below
    def all(self):
        return bool(self._backend.to_numpy(self.data).all())

    def any(self):
        return bool(self._backend.to_numpy(self.data).any())

    # shape
    def view(self, *shape):
        return ops.reshape(self, *shape)

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions; got shape {self.shape}")
        return ops.transpose(self, -2, -1)

    def expand(self, *sizes):
        """This tensor broadcast to `sizes` (ints or one tuple), as PyTorch: -1 keeps a dimension's size."""
        return ops.expand(self, *sizes)



autograd.function._Tensor = Tensor
from . import ops  # noqa: E402  (ops builds on Tensor)

for _name, _method in ops.METHODS.items():
    if _name not in vars(Tensor):  # methods written out above win
        setattr(Tensor, _name, _method)
del _name, _method
