"""micrograd: a small, fast, correct automatic-differentiation engine (scalar Value and n-d Tensor)."""
from .autograd import Function, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from .backend import available_backends, get_backend, set_backend, synchronize, use_backend
from .dtypes import bool_, float32, float64, int64
from .engine import Value
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .factories import (arange, eye, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros,
                        zeros_like)
from .tensor import Tensor
from . import ops
globals().update(ops.PUBLIC)  # each op's function: mg.exp, mg.sum, mg.cat, ... (registered with ops.util.export)
from .viz import to_dot
from .io import load, save
from . import nn, optim  # noqa: E402  (built on everything above)

__version__ = "0.2.0"
