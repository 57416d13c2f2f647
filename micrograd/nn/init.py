"""Parameter initialisers with PyTorch's names and formulas (`import micrograd.nn.init as init`).

Each fills a Tensor in place and returns it. Random values are drawn in float64 on the host from
micrograd's generator (`mg.manual_seed`), then cast to the tensor's dtype, so one seed gives the same
numbers on every backend.
"""
import math

import numpy as np

from .. import random as rng
from ..autograd import inplace
from ..tensor import Tensor


def _check(op, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expects a Tensor; got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expects a floating-point tensor; got dtype {t.dtype.name}")


def _fill(t, host):
    b = t._backend
    b.assign_(t._data, b.asarray(np.asarray(host), t.dtype))
    inplace.counter(t)[0] += 1  # an in-place change under no_grad, as PyTorch's initialisers make
    return t


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation: 1 for linear/sigmoid, 5/3 tanh, sqrt(2) relu, ..."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope must be a number; got {param!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity; got {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(t):
    """(fan_in, fan_out) of a weight (out, in, *kernel), as PyTorch computes them."""
    if t.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions; got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(op, t, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out'; got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples from U(a, b)."""
    _check("uniform_", tensor)
    return _fill(tensor, rng.host(generator, "uniform_").uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    _check("normal_", tensor)
    return _fill(tensor, rng.host(generator, "normal_").normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with `val`."""
    _check("constant_", tensor)
    return _fill(tensor, np.full(tensor.shape, val, dtype=np.float64))


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    _check("xavier_uniform_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))  # PyTorch's order of roundings
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check("xavier_normal_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain(nonlinearity, a) * sqrt(3 / fan)."""
    _check("kaiming_uniform_", tensor)
    if 0 in tensor.shape:
        return tensor
    fan = _fan("kaiming_uniform_", tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))  # PyTorch's order of roundings
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan)."""
    _check("kaiming_normal_", tensor)
    if 0 in tensor.shape:
        return tensor
    fan = _fan("kaiming_normal_", tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)
