"""`Parameter`: a Tensor that a Module registers as trainable when assigned as an attribute."""
from .. import dtypes
from ..autograd import inplace
from ..tensor import Tensor


class Parameter(Tensor):
    """A floating-point leaf Tensor with requires_grad=True (by default) that modules register.

    Args:
        data: a Tensor (its array is shared, as in PyTorch), or numbers, lists or a NumPy array (copied).
        requires_grad: whether the optimizer trains it.
    """

    __slots__ = ()
    _is_parameter = True

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor([], dtype=dtypes.get_default_dtype())
        if isinstance(data, Tensor):
            if data.dtype.kind != "f":
                raise TypeError(f"Parameter: only floating-point tensors can be parameters; got dtype "
                                f"{data.dtype.name}")
            arr, backend = data._data, data._backend
            counter = inplace.counter(data)  # shares storage and version with data, as PyTorch's does
        else:
            t = Tensor(data)
            if t.dtype.kind != "f":
                raise TypeError(f"Parameter: only floating-point data can be a parameter; got dtype {t.dtype.name}")
            arr, backend, counter = t._data, t._backend, None
        self._data = arr
        self._backend = backend
        self.grad = None
        self._node = None
        self._index = 0
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = bool(requires_grad)
        self._version_counter = counter
        self._view = None
        self._tangents = None

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

