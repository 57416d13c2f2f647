"""Helpers the layer modules share: input conversion, errors that name the layer, parameter creation."""
import math
import numbers

from ... import dtypes
from ...factories import zeros
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter


def layer_name(module):
    """The layer as its repr shows it on one line, e.g. 'Linear(in_features=4, out_features=3, bias=True)'."""
    extra = module.extra_repr()
    return f"{type(module).__name__}({extra})" if "\n" not in extra else type(module).__name__


def as_input(module, x):
    """`x` as a Tensor (Tensors pass through; NumPy arrays and lists become float32 or their own dtype)."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{layer_name(module)}: input must be a Tensor or array-like; got "
                        f"{type(x).__name__} ({exc})") from None


def check_input(module, x, ranks, expected, axis=None, size=None):
    """Raise a ValueError naming the layer unless x.ndim is in `ranks` and x.shape[axis] == size.

    `expected` describes the accepted shapes for the message, e.g. "(N, 3, H, W) or (3, H, W)".
    """
    if x.ndim not in ranks or (axis is not None and x.shape[axis] != size):
        raise ValueError(f"{layer_name(module)}: expected input of shape {expected}; got shape {x.shape}")


def positive_int(op, name, value, minimum=1):
    """`value` as an int, checked to be at least `minimum`."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def probability(op, name, p):
    """`p` as a float in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{op}: {name} must be a probability in [0, 1]; got {p!r}")
    return float(p)


def float_dtype(op, dtype):
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, op)
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{op}: parameters must be floating-point; got dtype {dtype.name}")
    return dtype


class WeightBias(Module):
    """A layer with a weight and an optional bias per output, initialised as PyTorch's Linear and Conv."""

    def _create_parameters(self, op, weight_shape, bias, dtype, device=None, bias_size=None):
        """weight of `weight_shape` and, with `bias`, a bias of `bias_size` (default: weight_shape[0])."""
        dtype = float_dtype(op, dtype)
        self.weight = Parameter(zeros(*weight_shape, dtype=dtype, device=device))
        if bias:
            size = weight_shape[0] if bias_size is None else bias_size
            self.bias = Parameter(zeros(size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) weights and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)
