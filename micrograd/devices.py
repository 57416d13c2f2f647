"""PyTorch's devices over micrograd's backends: `mg.device("cpu" | "cuda" | "cuda:N")`, and the backend a
device (or a backend name) names.

"cpu" is the CPU backend in force: the current one when it is a CPU backend (numpy or numba), else the one
MICROGRAD_BACKEND names when that is a CPU backend, else numpy. "cuda" is the CuPy backend, on the device
CuPy uses in this process (`mg.cuda.set_device(N)` picks it; one device per process). Backend names
("numpy", "numba", "cupy") are accepted wherever a device is.
"""
from . import backend as _registry
from .errors import RuntimeValueError

_TYPES = ("cpu", "cuda")


class device:  # noqa: N801  (PyTorch's name)
    """A device: `type` ("cpu" or "cuda") and `index` (None, or the device number).

    device("cuda:1"), device("cuda", 1), device("cpu") and device(0) (= cuda:0) as in PyTorch.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given with a device object")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: got {type!r}; expected a "
                            f"string such as 'cpu' or 'cuda:0', or a device index")
        kind, sep, number = type.strip().partition(":")
        if kind not in _TYPES:
            raise RuntimeValueError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeValueError(f"type (string) must not include an index because index was passed "
                                        f"explicitly: {type}")
            if not number.isdigit():
                raise RuntimeValueError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise RuntimeValueError(f"Device index must not be negative; got {index!r}")
            if kind == "cpu" and index != 0:
                raise RuntimeValueError(f"CPU device index must be -1 or zero, got {index}")
        self.type, self.index = kind, index

    def __eq__(self, other):
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


_of_backend = {}


def of_backend(b):
    """The device (an object cached per backend device string) a backend's arrays live on."""
    d = _of_backend.get(b.device)
    if d is None:
        d = _of_backend[b.device] = device(b.device)
    return d


def cpu_backend():
    """The CPU backend in force (see the module docstring)."""
    b = _registry.current()
    if b.device == "cpu":
        return b
    try:
        b = _registry.backend_object(_registry.env_backend_name())
    except _registry.BackendUnavailableError:
        b = None
    return b if b is not None and b.device == "cpu" else _registry.backend_object("numpy")


def cuda_backend(index=None, op="to"):
    """The CuPy backend, checked to be on cuda:`index` (the device this process uses, when None)."""
    b = _registry.current()
    if not b.device.startswith("cuda"):
        b = _registry.backend_object("cupy")
    if index is not None and b.device != f"cuda:{index}":
        raise RuntimeValueError(f"{op}: micrograd's CUDA backend works on one device per process, here {b.device};"
                                f" call mg.cuda.set_device({index}) before making tensors on cuda:{index}")
    return b


def backend_for(target, op="to"):
    """The backend object that `target` names: None (the current backend), a backend name, a backend object, a
    device, or a device string or index."""
    if target is None:
        return _registry.current()
    if _registry.is_name(target):
        return _registry.backend_object(target)
    if _is_backend(target):
        return target
    if not isinstance(target, (device, str, int)) or isinstance(target, bool):
        raise TypeError(f"{op}: expected a device ('cpu', 'cuda', 'cuda:N', mg.device) or a backend name "
                        f"({', '.join(_registry.NAMES)}); got {target!r}")
    d = device(target)
    return cpu_backend() if d.type == "cpu" else cuda_backend(d.index, op)


def _is_backend(target):
    return hasattr(target, "array_type") and hasattr(target, "device") and not isinstance(target, device)


def is_device(target):
    """Whether `target` names a device or a backend (rather than a dtype): for Tensor.to's arguments."""
    if isinstance(target, device) or _registry.is_name(target) or _is_backend(target):
        return True
    if isinstance(target, str):
        return target.strip().partition(":")[0] in _TYPES
    return False


def parse_to(args, kwargs, op):
    """PyTorch's `to` arguments: (device, dtype, non_blocking=False, copy=False) in any of its forms, to(dtype),
    to(device, dtype), to(other_tensor) or keywords. Returns (device or backend or None, dtype or None, copy)."""
    kwargs = dict(kwargs)
    device_ = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    args = list(args)
    if args:
        first = args.pop(0)
        if hasattr(first, "_backend") and hasattr(first, "dtype"):  # a tensor: its device and dtype
            device_, dtype = first._backend, first.dtype
        elif first is None or is_device(first) or (isinstance(first, int) and not isinstance(first, bool)):
            device_ = first
            if args and not isinstance(args[0], bool):
                dtype = args.pop(0)
        else:
            dtype = first
    if len(args) > 2 or not all(isinstance(a, bool) for a in args):
        raise TypeError(f"{op}() received an invalid combination of arguments: expected (device, dtype, "
                        f"non_blocking, copy), (dtype, non_blocking, copy) or (tensor, non_blocking, copy)")
    if len(args) == 2:
        copy = args[1]
    return device_, dtype, copy


def backend_of_target(current, target, op="to"):
    """The backend a tensor on backend `current` moves to for `target`: a backend name or object names one; a
    device that `current` already is on keeps it (t.to("cpu") of a numba tensor stays on numba)."""
    if _registry.is_name(target) or _is_backend(target):
        return backend_for(target, op)
    d = device(target) if not isinstance(target, int) else device("cuda", target)
    here = of_backend(current)
    if d.type == here.type and (d.index is None or d == here):
        return current
    return backend_for(d, op)
