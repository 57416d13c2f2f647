"""Tensor: an array on one backend, with the operator overloads and methods that call differentiable ops."""
import weakref

import numpy as np

from . import autograd
from . import backend as _registry
from . import devices as _device
from . import dtypes
from .autograd import inplace
from .errors import RuntimeTypeError, RuntimeValueError


def _to_backend_array(data, dtype, backend, op="tensor"):
    """Convert host data (numbers, nested lists, NumPy arrays, Tensors) to `backend`'s array of `dtype`."""
    if isinstance(data, Tensor):
        src = data._data if data._backend is backend else data._backend.to_numpy(data._data)
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

    # _data is the backend array (NumPy's ndarray, CuPy's); `.data` is PyTorch's detached view of the values.
    __slots__ = ("_data", "_backend", "_requires_grad", "grad", "_node", "_index", "_hooks", "_retains_grad",
                 "_version_counter", "_view", "_tangents", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators (ndarray + Tensor -> Tensor)
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad=False, backend=None):
        b = _registry.current() if backend is None else _registry.backend_object(backend)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, "tensor")
        self._data = _to_backend_array(data, dtype, b)
        self._backend = b
        self.grad = None
        self._node = None
        self._index = 0
        self._hooks = None
        self._retains_grad = False
        self._version_counter = None
        self._view = None
        self._tangents = None  # forward mode: {dual level: tangent} (autograd/forward.py)
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, backend, requires_grad, node, index):
        t = object.__new__(Tensor)
        t._data = data
        t._backend = backend
        t._requires_grad = requires_grad
        t.grad = None
        t._node = node
        t._index = index
        t._hooks = None
        t._retains_grad = False
        t._version_counter = None
        t._view = None
        t._tangents = None
        return t

    def _alias(self):
        """A tensor with this one's values, graph position and tangents but not its version (see autograd.inplace)."""
        t = Tensor._make(self._data, self._backend, self._requires_grad, self._node, self._index)
        t._tangents = self._tangents
        return t

    def _host(self):
        """The values as a NumPy array (a copy off the CPU), whatever requires_grad says: for micrograd's own use."""
        return self._backend.to_numpy(self._data)

    @property
    def data(self):
        """The values as a tensor outside autograd, sharing this one's storage (PyTorch's `.data`): changes made
        through it are not seen by autograd, nor counted by its version checks. The backend array itself is
        `._data`."""
        return Tensor._make(self._data, self._backend, False, None, 0)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: the new value must be a Tensor; got {type(value).__name__}")
        if value._backend.device != self._backend.device:
            raise RuntimeValueError(f"data: a tensor on {self._backend.device} cannot take the storage of a tensor "
                                    f"on {value._backend.device}")
        self._data, self._backend = value._data, value._backend

    @property
    def _version(self):
        """How many in-place changes this tensor's storage has seen (PyTorch's `_version`)."""
        return inplace.version(self)

    # attributes
    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def backend(self):
        """The name of the backend holding this tensor's data."""
        return self._backend.name

    @property
    def requires_grad(self):
        """Whether ops on this tensor are recorded for backward (a view follows its base's in-place changes)."""
        if self._view is not None:
            inplace.refresh(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def is_leaf(self):
        if self._view is not None:
            inplace.refresh(self)
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (None for leaves and untracked results)."""
        if self._view is not None:
            inplace.refresh(self)
        return self._node

    def numel(self):
        return int(self._data.size)

    def __reduce_ex__(self, protocol):
        """Pickle the values, dtype, backend name and requires_grad (a view or a tensor with a history unpickles as
        a leaf of its own, as PyTorch's does); a Parameter stays a Parameter."""
        return _rebuild, (type(self), self._host(), self._backend.name, self._requires_grad)

    def __deepcopy__(self, memo):
        """A copy of a leaf's values, requires_grad and gradient; PyTorch refuses tensors with a history."""
        if self._node is not None:
            raise RuntimeValueError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                                    "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                                    "because of a torch.nn.utils.weight_norm usage, see "
                                    "https://github.com/pytorch/pytorch/pull/103001")
        new = _rebuild(type(self), self._backend.copy(self._data), self._backend.name, self._requires_grad)
        memo[id(self)] = new
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo) if self.grad._node is None else self.grad.detach().clone()
        return new

    is_sparse = False  # micrograd's tensors are all dense (strided)

    def to_sparse(self, *args, **kwargs):
        """PyTorch's conversion to a sparse layout: micrograd has no sparse tensors, so this raises."""
        raise NotImplementedError("to_sparse: sparse tensors are not supported by micrograd; keep the tensor dense "
                                  "(its products give the same values)")

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The tensor itself (micrograd's tensors are dense), cast to `dtype` if given, as PyTorch's to_dense."""
        return self if dtype is None else self.to(dtype)

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (f"{loss:.4f}"), as PyTorch; others as their repr."""
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

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
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous; "
                               f"use .any() or .all() on the comparison, or .item()")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"index: only single-element integer tensors can be used as an index; got "
                            f"{self.dtype.name} of shape {self.shape}")
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self._host(), separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (dtypes.float32, dtypes.int64):
            extras.append(f"dtype={self.dtype.name}")
        if self._backend.name != "numpy":
            extras.append(f"backend={self._backend.name!r}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    # conversion
    def numpy(self, force=False):
        """The values as a NumPy array, sharing this tensor's memory on the CPU backends (PyTorch's numpy()).

        A tensor that requires grad raises (use t.detach().numpy()), and so does one on a GPU (use t.cpu()),
        unless force=True: then the values are returned whatever requires_grad says, copied off a GPU.
        """
        if force:
            return self._data if type(self._data) is np.ndarray else self._backend.to_numpy(self._data)
        if self._requires_grad:
            raise RuntimeValueError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                                    "instead.")
        if type(self._data) is not np.ndarray:
            raise RuntimeTypeError(f"can't convert {self._backend.device} device type tensor to numpy. Use "
                                   f"Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t): the values (shared on the CPU backends), under numpy()'s rules."""
        arr = self.numpy()
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The DLPack capsule of the values (shared, zero-copy): np.from_dlpack(t), torch.from_dlpack(t), ...; a
        tensor that requires grad raises, as PyTorch's does."""
        if self._requires_grad:
            raise RuntimeValueError("Can't export tensors that require gradient, use tensor.detach()")
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version), ("dl_device", dl_device),
                                    ("copy", copy)) if v is not None}
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        """(device type, device id) as DLPack numbers them: (1, 0) on the CPU backends, (2, n) on GPU n."""
        return self._data.__dlpack_device__()

    def tolist(self):
        return self._host().tolist()

    def item(self):
        if self._data.size != 1:
            raise RuntimeValueError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                                    f"(item: shape {self.shape})")
        return self._host().reshape(()).item()

    def detach(self):
        """A tensor sharing this one's storage and version counter, cut from the graph."""
        t = Tensor._make(self._data, self._backend, False, None, 0)
        t._view = inplace.Detached(self)
        return t

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad."""
        if self._view is not None and getattr(self._view, "fn", None) is not None:
            raise RuntimeValueError("Can't detach views in-place. Use detach() instead. If you are using "
                                    "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                                    "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                                    "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                                    "function in torch/optim/optimizer.py as the solution.")
        self._node = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on a leaf in place; only floating tensors can require grad."""
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeTypeError(f"only Tensors of floating point and complex dtype can require gradients; got "
                                   f"{self.dtype.name}")
        if self._node is not None and not requires_grad:
            raise RuntimeValueError("you can only change requires_grad flags of leaf variables. If you want to use a "
                                    "computed variable in a subgraph that doesn't require differentiation use "
                                    "var_no_grad = var.detach().")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` during backward (leaves always keep theirs)."""
        if self._node is None:
            if not self._requires_grad:
                raise RuntimeError("retain_grad: the tensor does not require grad")
            return
        if self._node.retained is None:
            self._node.retained = {}
        self._node.retained[self._index] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a non-None return replaces the gradient."""
        if not self._requires_grad:
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

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` after backward has accumulated this leaf's gradient into `.grad` (PyTorch's; as soon as
        its last contribution arrives, before the rest of the pass). Returns a handle whose `remove()` unregisters
        it."""
        from .autograd import reverse
        from .utils.hooks import RemovableHandle

        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        wrapped = reverse.PostAccumulateHook(hook)
        self._hooks.append(wrapped)
        reverse.POST_HOOKS[0] += 1
        return RemovableHandle(self._hooks, wrapped, on_remove=reverse.post_hook_removed)

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate the gradient of this tensor into `.grad` of every leaf that requires grad.

        Args:
            grad: d(loss)/d(self); required unless the tensor has a single element.
            retain_graph: keep the graph's buffers so backward can run through it again.
            create_graph: record the backward pass, so gradients can be differentiated (grad of grad).
        """
        autograd.backward(self, grad, retain_graph, create_graph)

    @property
    def device(self):
        """The device holding the data: device("cpu") on the numpy and numba backends, cuda:N on cupy."""
        return _device.of_backend(self._backend)

    def to_device(self, device, /, *, stream=None):
        """The Array API's move to `device` (a device or its name; differentiable); `stream` is not supported."""
        if stream is not None:
            raise ValueError(f"to_device: streams are not supported; got stream={stream!r}")
        return self.to(device)

    def __array_namespace__(self, *, api_version=None):
        """The Array API namespace of micrograd's tensors: micrograd.numpy (standard versions 2021.12 to 2024.12)."""
        if api_version is not None and api_version not in ("2021.12", "2022.12", "2023.12", "2024.12"):
            raise ValueError(f"__array_namespace__: unsupported api_version; got {api_version!r} (supported: "
                             f"2021.12 to 2024.12)")
        from . import numpy
        return numpy

    @property
    def is_cuda(self):
        return self._backend.device != "cpu"

    @property
    def is_cpu(self):
        return self._backend.device == "cpu"

    def to(self, *args, **kwargs):
        """This tensor on another device or backend and/or with another dtype, as PyTorch's `to`: to(dtype),
        to(device, dtype=None), to(other_tensor), with keywords device=, dtype=, copy=. A device may be a
        backend name ("numba"). Returns self when nothing changes (unless copy=True); differentiable."""
        target, dtype, copy = _device.parse_to(args, kwargs, "to")
        out = self
        if target is not None:
            b = _device.backend_of_target(self._backend, target)
            if b is not self._backend:
                out = ops.ToBackend.apply(out, backend=b)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, "to")
            if dtype != out.dtype:
                out = ops.Cast.apply(out, dtype=dtype)
        if copy and out is self:
            out = ops.clone(self)
        return out

    def cpu(self, memory_format=None):
        """This tensor on the CPU backend in force (itself when it is on a CPU backend already)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """This tensor on the CUDA backend (CuPy)."""
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")

    def astype(self, dtype):
        """This tensor cast to `dtype` (differentiable between floating dtypes)."""
        dtype = dtypes.as_dtype(dtype, "astype")
        if dtype == self.dtype:
            return self
        return ops.Cast.apply(self, dtype=dtype)

    def type(self, dtype=None, non_blocking=False):  # noqa: A003  (PyTorch's name)
        """With no argument, PyTorch's type string ("torch.FloatTensor"); else this tensor cast to `dtype`."""
        if dtype is None:
            return dtypes.type_string(self.dtype, self.is_cuda)
        return self.astype(dtypes.from_type_string(dtype) if isinstance(dtype, str) else dtype)

    def type_as(self, other):
        return self.astype(other.dtype)

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def is_complex(self):
        return False

    def element_size(self):
        return self.dtype.itemsize

    def nelement(self):
        return int(self._data.size)

    def float(self, memory_format=None):  # noqa: A003
        return self.astype(dtypes.float32)

    def double(self, memory_format=None):
        return self.astype(dtypes.float64)

    def half(self, memory_format=None):
        return self.astype(dtypes.float16)

    def bfloat16(self, memory_format=None):
        return self.astype(dtypes.bfloat16)

    def long(self, memory_format=None):
        return self.astype(dtypes.int64)

    def int(self, memory_format=None):  # noqa: A003
        return self.astype(dtypes.int32)

    def short(self, memory_format=None):
        return self.astype(dtypes.int16)

    def char(self, memory_format=None):
        return self.astype(dtypes.int8)

    def byte(self, memory_format=None):
        return self.astype(dtypes.uint8)

    def bool(self, memory_format=None):  # noqa: A003
        return self.astype(dtypes.bool_)

    # operators (+ - * / ... and their augmented forms): micrograd/operators.py attaches them
    def __setitem__(self, index, value):
        """t[index] = value, in place: every index form reading takes; value broadcast and cast to t's dtype;
        differentiable with respect to t and value (see micrograd/autograd/inplace.py)."""
        ops.setitem(self, index, value)

    # in-place updates (PyTorch's rules: micrograd/autograd/inplace.py); `@=` rebinds, as in PyTorch
    def _inplace(self, compute, inputs=()):
        """Make compute(alias of self), an out-of-place result of self's shape, self's new value (`inputs`: the
        tensors it reads besides self, checked for a partial overlap with self, as PyTorch does)."""
        if inputs:
            inplace.check_overlap(self, inputs)
        return inplace.commit(self, inplace.run(self, compute))

    def zero_(self):
        """Fill with zeros, in place."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with `value` (a number, or a 0-d tensor, differentiably), in place."""
        scalar = not isinstance(value, Tensor)
        if scalar:
            value = Tensor._make(self._backend.full((), value, self.dtype), self._backend, False, None, 0)
        elif value.ndim:
            raise RuntimeValueError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                    f"{value.ndim} dimensions.")
        else:
            value = value.astype(self.dtype)
        # Overwrite keeps self's old history, with a zero gradient, as PyTorch's fill_ does; a number may fill
        # aliased elements (an expand), a tensor may not (PyTorch's rules)
        return inplace.commit(self, inplace.run(self, lambda a: ops.Overwrite.apply(a, value.expand(a.shape))),
                              fill=scalar)

    def copy_(self, src, non_blocking=False):
        """Copy src's values (broadcast to this tensor's shape, cast to its dtype, moved to its backend) into it;
        differentiable with respect to src."""
        if not isinstance(src, Tensor):
            src = Tensor(src, dtype=self.dtype, backend=self._backend.name)
        if src._backend is not self._backend:
            src = src.to(self._backend.name)
        same = src.shape == self.shape and src.dtype == self.dtype and self._backend.overlap(self._data, src._data) == 1
        if not same:
            inplace.check_overlap(self, (src,))
        fitted = src.astype(self.dtype)
        fitted = fitted if fitted.shape == self.shape else fitted.expand(self.shape)
        # A tensor copied into itself: nothing new to write, but a version and a history all the same (PyTorch's)
        return inplace.commit(self, inplace.run(self, lambda a: ops.Overwrite.apply(a, fitted)), fill=same)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with samples from U(a, b), drawn on the host (micrograd's generator unless one is given)."""
        from . import random
        host = random.host(generator, "uniform_").uniform(a, b, self.shape)
        return self.copy_(Tensor(host, dtype=self.dtype, backend=self._backend.name))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples from N(mean, std^2), drawn on the host."""
        from . import random
        host = random.host(generator, "normal_").normal(mean, std, self.shape)
        return self.copy_(Tensor(host, dtype=self.dtype, backend=self._backend.name))

    # exp, log, sum, reshape, softmax, ... : every op registered as a method in micrograd/ops is attached below
    # shape (view, expand, ... come from micrograd/ops/shape.py)
    @property
    def T(self):
        """The dims reversed (PyTorch deprecates it beyond 2 dims, and so uses it on matrices)."""
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped."""
        if self.ndim < 2:
            raise RuntimeValueError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                                    f"{self.ndim}-D tensor.")
        return ops.transpose(self, -2, -1)


autograd.function._Tensor = Tensor
def _rebuild(cls, array, backend, requires_grad):
    """A tensor of class `cls` (Tensor or Parameter) holding `array` on `backend`: what pickling a tensor stores."""
    t = Tensor(array, dtype=array.dtype, backend=backend)
    if cls is not Tensor:
        return cls(t, requires_grad=requires_grad)
    return t.requires_grad_(True) if requires_grad else t


from . import ops, operators  # noqa: E402  (ops builds on Tensor)

operators.install(Tensor)
