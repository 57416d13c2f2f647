"""Helpers the layer modules share: input conversion and errors that name the layer."""
import numbers

from ...tensor import Tensor


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
