"""More of torch.nn.functional's activations, normalisations and distances, each a composite of ops with PyTorch's
signature, defaults and derivative conventions at kinks (so reverse and forward mode come from the ops).

Where PyTorch's gradient at a kink differs from the composite's natural one, the composite is written to give
PyTorch's: hardtanh and its relatives pass gradient strictly inside their interval; leaky_relu and elu take the
negative side's slope at 0.
"""
import numpy as np

from ..factories import full_like, zeros_like
from ..ops.elementwise import where
from ..ops.shape import broadcast_tensors
from ..tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _x(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor; got {type(x).__name__}")
    return x


def _maybe_inplace(x, y, inplace):
    """y, or y written into x (PyTorch's inplace=True)."""
    return x.copy_(y) if inplace else y


def _zero(x):
    return zeros_like(x)


def silu(input, inplace=False):  # noqa: A002  (PyTorch's argument names)
    """x * sigmoid(x)."""
    x = _x(input, "silu")
    return _maybe_inplace(x, x * x.sigmoid(), inplace)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, alpha (exp(x) - 1) otherwise."""
    x = _x(input, "elu")
    return _maybe_inplace(x, where(x > 0, x, alpha * x.clamp(max=0.0).expm1()), inplace)


def selu(input, inplace=False):  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _maybe_inplace(input, SELU_SCALE * elu(input, SELU_ALPHA), inplace)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, alpha (exp(x / alpha) - 1) otherwise."""
    x = _x(input, "celu")
    return _maybe_inplace(x, where(x > 0, x, alpha * (x.clamp(max=0.0) / alpha).expm1()), inplace)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's linear regime)."""
    x = _x(input, "softplus")
    bx = x * beta
    return where(bx > threshold, x, bx.clamp(max=threshold).exp().log1p() / beta)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, negative_slope * x otherwise."""
    x = _x(input, "leaky_relu")
    return _maybe_inplace(x, where(x > 0, x, x * negative_slope), inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clamped to [min_val, max_val]; the gradient passes strictly inside the interval (PyTorch's)."""
    x = _x(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if x.dtype.kind != "f":  # integers stay integers, as PyTorch's (bounds taken in the tensor's dtype)
        return _maybe_inplace(x, x.clamp(int(min_val), int(max_val)).to(x.dtype), inplace)
    inside = (x > min_val) & (x < max_val)
    return _maybe_inplace(x, where(inside, x, x.clamp(min_val, max_val).detach()), inplace)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """relu6(x + 3) / 6."""
    x = _x(input, "hardsigmoid")
    return _maybe_inplace(x, hardtanh(x + 3, 0.0, 6.0) / 6, inplace)


def hardswish(input, inplace=False):  # noqa: A002
    """x * relu6(x + 3) / 6 (its derivative, x / 3 + 1/2 inside (-3, 3), is PyTorch's but at the two kinks)."""
    x = _x(input, "hardswish")
    return _maybe_inplace(x, x * hardtanh(x + 3, 0.0, 6.0) / 6, inplace)


def mish(input, inplace=False):  # noqa: A002
    """x * tanh(softplus(x))."""
    x = _x(input, "mish")
    return _maybe_inplace(x, x * softplus(x).tanh(), inplace)


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), smooth at 0 (its derivative there is 1/2)."""
    return -softplus(-_x(input, "logsigmoid"))


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    x = _x(input, "softsign")
    return x / (1 + x.abs())


def tanhshrink(input):  # noqa: A002
    """x - tanh(x)."""
    x = _x(input, "tanhshrink")
    return x - x.tanh()


def softshrink(input, lambd=0.5):  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    x = _x(input, "softshrink")
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return where(x > lambd, x - lambd, where(x < -lambd, x + lambd, _zero(x)))


def hardshrink(input, lambd=0.5):  # noqa: A002
    """x where |x| > lambd, else 0."""
    x = _x(input, "hardshrink")
    return where((x > lambd) | (x < -lambd), x, _zero(x))


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else value."""
    x = _x(input, "threshold")
    return _maybe_inplace(x, where(x > threshold, x, full_like(x, value)), inplace)


def glu(input, dim=-1):  # noqa: A002
    """a * sigmoid(b), with a and b the two halves of input along dim."""
    x = _x(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if x.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % x.ndim} is size {x.shape[dim]}")
    a, b = x.chunk(2, dim)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """softmax(-x) along dim."""
    from .functional import softmax
    x = _x(input, "softmin")
    return softmax(-(x if dtype is None else x.to(dtype)), dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """x / max(||x||_p along dim, eps)."""
    x = _x(input, "normalize")
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported by micrograd")
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 x2) / (||x1|| ||x2||) along dim (broadcast), each norm at least eps, as PyTorch computes it."""
    x1, x2 = broadcast_tensors(_x(x1, "cosine_similarity"), _x(x2, "cosine_similarity"))  # then the norms
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim."""
    x1, x2 = _x(x1, "pairwise_distance"), _x(x2, "pairwise_distance")
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """The pointwise KL divergence target (log target - input) (input: log-probabilities), reduced: "mean" over
    elements, "batchmean" over the first dim, "sum", or "none"."""
    x, t = _x(input, "kl_div"), _x(target, "kl_div")
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = t.exp() * (t - x)
    else:
        safe = where(t > 0, t, full_like(t, 1.0))
        loss = where(t > 0, t * safe.log(), _zero(t)) - t * x  # 0 log 0 = 0
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return loss


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """x / sqrt(mean(x^2) over the last len(normalized_shape) dims + eps) * weight; eps defaults to the dtype's
    machine epsilon, as PyTorch's."""
    x = _x(input, "rms_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: expected input with shape [*, {', '.join(map(str, shape))}], but got input "
                           f"of size {list(x.shape)}")
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def prelu(input, weight):  # noqa: A002
    """x for x > 0, weight * x otherwise; weight has one element or one per channel (dim 1)."""
    x = _x(input, "prelu")
    w = weight.reshape(()) if weight.numel() == 1 else weight  # one weight: the output keeps the input's shape
    if w.numel() != 1:
        if x.ndim < 2 or x.shape[1] != w.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{w.numel()} and channel size = {x.shape[1] if x.ndim >= 2 else 1}.")
        w = w.reshape((-1,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, w * x)


__all__ = ["celu", "cosine_similarity", "elu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
           "kl_div", "leaky_relu", "logsigmoid", "mish", "normalize", "pairwise_distance", "prelu", "relu6",
           "rms_norm", "selu", "silu", "softmin", "softplus", "softshrink", "softsign", "tanhshrink", "threshold"]
