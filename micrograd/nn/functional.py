"""Neural-network functions with PyTorch's signatures and semantics (`import micrograd.nn.functional as F`).

Every function is a composite of the engine's differentiable ops (micrograd/ops/), some of them fused
(Linear, erf, max pooling, softmax and binary cross-entropy), so gradients and gradients of gradients need no
rules here. Class targets and other integer inputs may be NumPy arrays, lists or int Tensors.
"""
import math
import warnings

import numpy as np

from .. import dtypes, ops
from .. import random as rng
from ..factories import zeros_like
from ..ops import BinaryCrossEntropy, Erf, Linear
from ..errors import RuntimeTypeError, RuntimeValueError
from ..tensor import Tensor
from .activations import (celu, cosine_similarity, elu, glu, hardshrink, hardsigmoid, hardswish,  # noqa: F401
                          hardtanh, kl_div, leaky_relu, logsigmoid, mish, normalize, pairwise_distance, prelu, relu6,
                          rms_norm, selu, silu, softmin, softplus, softshrink, softsign, tanhshrink, threshold)
from .convolution import avg_pool2d, conv1d, conv2d, conv_transpose2d, max_pool2d  # noqa: F401  (F's functions)
from .dropout import dropout1d, dropout2d, dropout3d  # noqa: F401  (F's functions)
from .encoding import one_hot  # noqa: F401  (F's functions)
from .losses import huber_loss, l1_loss, smooth_l1_loss  # noqa: F401  (F's functions)
from .padding import pad  # noqa: F401  (F's functions)

_REDUCTIONS = ("none", "mean", "sum")


# helpers

def _tensor(x, op, like=None):
    """`x` as a Tensor (on `like`'s backend and, for host data, in `like`'s floating dtype)."""
    if isinstance(x, Tensor):
        return x
    if like is None:
        return Tensor(x)
    dtype = like.dtype if np.asarray(x).dtype.kind in "fiub" else None
    return Tensor(x, dtype=dtype, backend=like.backend)


def _const(arr, like):
    """A host array as a constant Tensor on `like`'s backend, in `like`'s dtype."""
    return Tensor(np.asarray(arr), dtype=like.dtype, backend=like.backend)


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# layers

def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight (out_features, in_features) as PyTorch stores it."""
    x = _tensor(x, "linear", weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be (out_features, in_features); got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input's last dimension must equal in_features={weight.shape[1]}; "
                         f"got input {x.shape} and weight {weight.shape}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},); got {bias.shape}")
    if x.ndim >= 2 and x.dtype == weight.dtype and (bias is None or bias.dtype == x.dtype):
        # Leading axes folded into rows, as PyTorch does: one product (and one for each gradient) instead of a
        # batch of small ones, and the bias added in place.
        rows = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        out = Linear.apply(rows, weight) if bias is None else Linear.apply(rows, weight, bias)
        return out if x.ndim == 2 else out.reshape(*x.shape[:-1], weight.shape[0])
    out = x @ weight.T
    return out if bias is None else out + bias


# activations

def relu(input, inplace=False):  # noqa: A002  (PyTorch's argument names)
    """max(x, 0) (in place with inplace=True)."""
    x = _tensor(input, "relu")
    return x.relu_() if inplace else ops.relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(_tensor(x, "sigmoid"))


def tanh(x):
    """tanh(x)."""
    return ops.tanh(_tensor(x, "tanh"))


def _softmax_dim(op, x, dim, axis):
    """dim (alias axis); None picks PyTorch's legacy dim (0 for 0-, 1- and 3-d input, else 1) with its warning."""
    if dim is not None and axis is not None:
        raise TypeError(f"{op}: pass dim or axis, not both")
    dim = dim if dim is not None else axis
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      f"as an argument.", UserWarning, stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along `dim`, computed in `dtype` if given."""
    x = _tensor(input, "softmax")
    return ops.softmax(x, _softmax_dim("softmax", x, dim, axis), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """x - logsumexp(x) along `dim`, computed in `dtype` if given."""
    x = _tensor(input, "log_softmax")
    return ops.log_softmax(x, _softmax_dim("log_softmax", x, dim, axis), dtype)


def gelu(x, approximate="none"):
    """x * Phi(x) with the exact erf (approximate="none") or PyTorch's tanh formula (approximate="tanh")."""
    x = _tensor(x, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}")
    if not x.is_floating_point():  # PyTorch's error
        raise NotImplementedError(f'"GeluKernelImpl" not implemented for \'{dtypes.short_name(x.dtype)}\' (gelu: '
                                  f'input of dtype {x.dtype})')
    if x.numel():  # one fused op (ops.Gelu); its maths is _gelu_composite
        return ops.Gelu.apply(x, approximate=approximate, composite=lambda x_: _gelu_composite(x_, approximate))
    return _gelu_composite(x, approximate)


def _gelu_composite(x, approximate):
    """GELU written with ops (the definition ops.Gelu's fused kernels implement)."""
    if approximate == "none":
        return 0.5 * x * (1 + Erf.apply(x * (1 / math.sqrt(2))))
    return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))).tanh())


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training (in place
    with inplace=True).

    The mask is drawn on the host from micrograd's generator, so one seed gives one mask on every backend.
    """
    if not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:  # a bool is 0 or 1, as PyTorch takes it
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _tensor(input, "dropout")
    if not training or p == 0:
        return x
    scale = _const(rng.host().random(x.shape) >= p, x) * (1 / (1 - p)) if p < 1 else x.detach() * 0
    return x.mul_(scale) if inplace else x * scale


# losses

def _class_targets(op, targets, n_classes, ignore_index):
    """Integer class targets as a host int64 array, every value in [0, n_classes) or ignore_index."""
    if isinstance(targets, Tensor):  # only read here: a host tensor's own array needs no copy
        arr = targets._data if type(targets._data) is np.ndarray else targets._host()
    else:
        arr = np.asarray(targets)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: class targets must be integers; got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    bad = arr[(arr != ignore_index) & ((arr < 0) | (arr >= n_classes))]
    if bad.size:
        raise ValueError(f"{op}: target {int(bad.flat[0])} is out of range for {n_classes} classes "
                         f"(valid: 0..{n_classes - 1} or ignore_index={ignore_index})")
    return arr


def _check_target_shape(op, logits, t):
    want = (logits.shape[0],) + logits.shape[2:]
    if t.shape != want:
        raise ValueError(f"{op}: targets must have shape {want} for input {logits.shape}; got {t.shape}")


def _class_loss(op, logp, targets, reduction, ignore_index, weight, smoothing):
    """Negative log-likelihood of class indices (plus label smoothing) for log-probabilities (N, C, d...)."""
    c = logp.shape[1]
    t = _class_targets(op, targets, c, ignore_index)
    _check_target_shape(op, logp, t)
    weight = None if weight is None else _tensor(weight, op, logp)
    if weight is not None and weight.shape != (c,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({c},); got {weight.shape}")
    valid = t != ignore_index
    safe = np.where(valid, t, 0).reshape(-1)
    rows = logp if logp.ndim == 2 else logp.permute(0, *range(2, logp.ndim), 1).reshape(-1, c)
    picked = rows[np.arange(safe.size), safe]
    mask = _const(valid.reshape(-1), logp)
    w = mask if weight is None else weight[safe] * mask
    parts = [(-(picked * w), 1.0 - smoothing)]
    if smoothing:
        per_class = logp if weight is None else logp * weight.reshape((1, c) + (1,) * (logp.ndim - 2))
        parts.append((-per_class.sum(axis=1).reshape(-1) * mask, smoothing / c))
    out = 0
    for loss, scale in parts:
        if reduction == "none":
            loss = loss.reshape(t.shape)
        elif reduction == "sum":
            loss = loss.sum()
        else:
            loss = loss.sum() / (int(valid.sum()) if weight is None else w.sum())
        out = loss * scale + out
    return out


def _unbatched(op, logits, targets):
    """(C,) logits with a scalar target as a batch of one, as PyTorch accepts them."""
    if logits.ndim == 0:
        raise ValueError(f"{op}: input must be (N, C), (N, C, d...) or (C,); got shape {logits.shape}")
    if logits.ndim != 1:
        return logits, targets, False
    if isinstance(targets, Tensor):
        targets = targets.reshape((1,) + targets.shape)
    else:
        targets = np.asarray(targets)[None]
    return logits.unsqueeze(0), targets, True


def cross_entropy(logits, targets, reduction="mean", ignore_index=-100, label_smoothing=0.0, *, weight=None):
    """Softmax cross-entropy of logits (N, C) or (N, C, d...) against class indices or class probabilities.

    Args:
        targets: class indices (a NumPy array, list or int Tensor) of shape (N,) or (N, d...), or float
            class probabilities with the logits' shape.
        reduction: "none", "mean" (over non-ignored targets; weighted by `weight` when given) or "sum".
        ignore_index: a class-index target that contributes neither loss nor gradient.
        label_smoothing: mixes the targets with the uniform distribution over classes, as PyTorch.
        weight: optional per-class weights (C,).
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1]; got {label_smoothing!r}")
    logits, targets, unbatched = _unbatched("cross_entropy", _tensor(logits, "cross_entropy"), targets)
    is_prob = (targets.dtype.kind == "f" if isinstance(targets, Tensor)
               else np.asarray(targets).dtype.kind == "f")
    if is_prob:
        loss = _prob_loss(ops.log_softmax(logits, 1), _tensor(targets, "cross_entropy", logits), reduction, weight,
                          label_smoothing)
    elif logits.ndim == 2 and weight is None and not label_smoothing and logits.dtype.kind == "f":
        loss = _fused_class_loss(logits, targets, reduction, ignore_index)
    else:
        loss = _class_loss("cross_entropy", ops.log_softmax(logits, 1), targets, reduction, ignore_index, weight,
                           label_smoothing)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def _fused_class_loss(logits, targets, reduction, ignore_index):
    """Cross-entropy of logits (N, C) and class indices through the fused softmax-cross-entropy op."""
    t = _class_targets("cross_entropy", targets, logits.shape[1], ignore_index)
    _check_target_shape("cross_entropy", logits, t)
    if reduction == "none":
        return ops.softmax_cross_entropy(logits, t, ignore_index)
    divisor = int((t != ignore_index).sum()) if reduction == "mean" else 1
    return ops.softmax_cross_entropy(logits, t, ignore_index, divisor)


def _prob_loss(logp, target, reduction, weight, smoothing):
    if target.shape != logp.shape:
        raise ValueError(f"cross_entropy: probability targets must have the input's shape {logp.shape}; got "
                         f"{target.shape} (class-index targets must be integers)")
    c = logp.shape[1]
    if target.dtype != logp.dtype:
        target = target.astype(logp.dtype)
    if smoothing:
        target = target * (1 - smoothing) + smoothing / c
    per_class = logp * target
    if weight is not None:
        per_class = per_class * _tensor(weight, "cross_entropy", logp).reshape((1, c) + (1,) * (logp.ndim - 2))
    loss = -per_class.sum(axis=1)
    if reduction == "mean":
        return loss.sum() / (logp.numel() // c)
    return _reduce(loss, reduction)


def nll_loss(log_probs, targets, reduction="mean", ignore_index=-100, *, weight=None):
    """Negative log-likelihood of class indices given log-probabilities (N, C) or (N, C, d...)."""
    _check_reduction("nll_loss", reduction)
    logp, targets, unbatched = _unbatched("nll_loss", _tensor(log_probs, "nll_loss"), targets)
    loss = _class_loss("nll_loss", logp, targets, reduction, ignore_index, weight, 0.0)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def _loss_target(op, x, target, broadcast):
    x = _tensor(x, op)
    target = _tensor(target, op, x)
    if target.shape != x.shape:
        if not broadcast:
            raise ValueError(f"{op}: target must have the input's shape; got input {x.shape} and target "
                             f"{target.shape}")
        warnings.warn(f"{op}: target shape {target.shape} differs from input shape {x.shape}; they will be "
                      f"broadcast, which is likely a mistake", UserWarning, stacklevel=3)
    return x, target


def mse_loss(input, target, reduction="mean"):  # noqa: A002  (PyTorch's argument name)
    """Mean squared error (input - target)^2, reduced; differing shapes broadcast with a warning, as PyTorch."""
    _check_reduction("mse_loss", reduction)
    x, target = _loss_target("mse_loss", input, target, broadcast=True)
    diff = x - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy(input, target, reduction="mean", *, weight=None):  # noqa: A002
    """Binary cross-entropy of probabilities `input` in [0, 1] against `target` of the same shape."""
    _check_reduction("binary_cross_entropy", reduction)
    x, target = _loss_target("binary_cross_entropy", input, target, broadcast=False)
    if (x < 0).any() or (x > 1).any():
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]; got values outside; "
                         "use binary_cross_entropy_with_logits for raw scores")
    loss = BinaryCrossEntropy.apply(x, target)
    return _reduce(loss if weight is None else loss * _tensor(weight, "binary_cross_entropy", x), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None, *,  # noqa: A002
                                     weight=None):
    """sigmoid + binary cross-entropy in the stable form (1-t) x + (1 + (pw-1) t) softplus(-x).

    softplus(-x) is logsumexp over (0, -x): stable for any x, with the exact gradient at x = 0.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, target = _loss_target("binary_cross_entropy_with_logits", input, target, broadcast=False)
    softplus_neg = ops.stack([zeros_like(x), -x], axis=-1).logsumexp(axis=-1)
    if pos_weight is not None:
        pos_weight = _tensor(pos_weight, "binary_cross_entropy_with_logits", x)
        loss = (1 - target) * x + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * x + softplus_neg
    if weight is not None:
        loss = loss * _tensor(weight, "binary_cross_entropy_with_logits", x)
    return _reduce(loss, reduction)


# normalisation

def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing `normalized_shape` axes (biased variance), then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"layer_norm: input's trailing dimensions must equal normalized_shape {shape}; "
                         f"got input {x.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}; got {p.shape}")
    if weight is not None and bias is None or weight is None and bias is not None or x.numel() == 0:
        return _layer_norm_composite(x, weight, bias, shape, eps)
    d = int(np.prod(shape))
    flat = x.reshape(-1, d)
    out = ops.LayerNorm.apply(flat, None if weight is None else weight.reshape(d),
                              None if bias is None else bias.reshape(d), eps=eps,
                              composite=lambda x_, w_, b_: _layer_norm_composite(x_, w_, b_, (d,), eps))
    return out.reshape(x.shape)


def _layer_norm_composite(x, weight, bias, shape, eps):
    """Layer normalisation written with ops (the definition ops.LayerNorm's fused primitives implement)."""
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    out = centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of x (N, C, ...) by batch statistics (training) or running ones.

    In training, the batch's biased variance normalises and the running buffers are updated in place
    (no gradient) with momentum and the unbiased variance, as PyTorch.
    """
    x = _tensor(x, "batch_norm")
    c = x.shape[1] if x.ndim >= 2 else 0  # PyTorch's channel count of a 1-d input is 0
    for name, p in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if p is not None and int(np.prod(np.shape(p) if not isinstance(p, Tensor) else p.shape)) != c:
            raise RuntimeValueError(f"{name} should contain {c} elements not "
                                    f"{int(np.prod(np.shape(p) if not isinstance(p, Tensor) else p.shape))} "
                                    f"(batch_norm: input of shape {x.shape})")
    if x.ndim < 2:
        if x.numel():
            raise RuntimeValueError(f"batch_norm: input must be (N, C) or (N, C, ...); got shape {x.shape}")
        return x * 1  # an empty 1-d input: nothing to normalise
    if training:
        n = x.numel() // c if c else 0
        if n < 2:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        mean, var = x._backend.batch_norm_stats(x._data)  # the batch's, one fused pass where the backend has one
        for buf, stat in ((running_mean, mean), (running_var, var * (n / (n - 1)))):
            if isinstance(buf, Tensor):
                stat_t = Tensor._make(stat, x._backend, False, None, 0)
                new = buf.detach() * (1 - momentum) + stat_t.to(buf.dtype) * momentum
                buf.copy_(new)  # in place (no history: new is detached); the version counts the change
            elif buf is not None:  # a NumPy buffer, updated in place on the host
                buf[...] = buf * (1 - momentum) + x._backend.to_numpy(stat) * momentum
        stats = None
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training; got None")
        stats = (_tensor(running_mean, "batch_norm", x).detach().to(x.dtype),
                 _tensor(running_var, "batch_norm", x).detach().to(x.dtype))
        mean, var = stats[0]._data.reshape(c), stats[1]._data.reshape(c)
    weight = None if weight is None else _tensor(weight, "batch_norm", x).reshape(c)
    bias = None if bias is None else _tensor(bias, "batch_norm", x).reshape(c)
    invstd = 1 / (var + x._data.dtype.type(eps)) ** 0.5
    return ops.BatchNorm.apply(x, weight, bias, mean=mean, invstd=invstd.astype(x._data.dtype, copy=False),
                               training=training,
                               composite=lambda x_, w_, b_: _batch_norm_composite(x_, w_, b_, stats, eps))


def _batch_norm_composite(x, weight, bias, stats, eps):
    """Batch normalisation written with ops (the definition ops.BatchNorm's fused primitives implement): by the
    batch's statistics when `stats` is None, else by the (mean, var) tensors given."""
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    if stats is None:
        centred = x - x.mean(axis=axes, keepdims=True)
        var = (centred * centred).mean(axis=axes, keepdims=True)
    else:
        centred = x - stats[0].reshape(per_channel)
        var = stats[1].reshape(per_channel)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(per_channel)
    return out if bias is None else out + bias.reshape(per_channel)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,  # noqa: A002
              sparse=False):
    """Rows of weight (num_embeddings, dim) picked by integer indices; gradients scatter-add into the rows.

    Rows picked at `padding_idx` get no gradient (their values are still returned); with max_norm, the picked
    rows whose norm_type-norm exceeds it are first rescaled in place to that norm; with scale_grad_by_freq, a
    row's gradient is divided by how often the input picks it, as PyTorch.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported by micrograd")
    if weight.ndim != 2:
        raise RuntimeValueError(f"'weight' must be 2-D (embedding: weight of shape {weight.shape})")
    idx = input._host() if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeTypeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                               f"types: Long, Int; but got {idx.dtype} instead (embedding)")
    v = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        bad = idx[(idx < 0) | (idx >= v)].flat[0]
        raise IndexError(f"index out of range in self (embedding: index {int(bad)} for {v} embeddings)")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type)
    out = weight[idx]
    if scale_grad_by_freq and idx.size:
        counts = np.bincount(idx.reshape(-1), minlength=v)[idx].astype(np.float64)
        out = ops.ScaleGrad.apply(out, scale=_const((1.0 / counts)[..., None], weight))
    if padding_idx is None:
        return out
    if not -v <= padding_idx < v:
        raise AssertionError(f"Padding_idx must be within num_embeddings (embedding: {padding_idx} for {v})")
    padded = (idx == padding_idx % v)[..., None]
    return ops.where(_const(padded, weight).to(bool), weight.detach()[idx], out) if padded.any() else out


def _renorm_rows(weight, rows, max_norm, norm_type):
    """Rescale weight's `rows` whose norm exceeds max_norm to that norm, in place (PyTorch's embedding_renorm_)."""
    from ..autograd import no_grad
    with no_grad():
        picked = weight.detach()[rows]
        norms = (picked.abs() ** norm_type).sum(1) ** (1.0 / norm_type)
        scale = ops.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = picked * scale.unsqueeze(1)


# attention

def _attention_inputs(q, k, v, attn_mask, is_causal, enable_gqa):
    """scaled_dot_product_attention's checks; (key, value with each head repeated for its query group under
    enable_gqa, the mask as a Tensor (a bool one for is_causal) or None)."""
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need at least 2 dimensions; got "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query and key must share the last dimension and key and "
                         f"value the sequence dimension; got query {tuple(q.shape)}, key {tuple(k.shape)}, value "
                         f"{tuple(v.shape)}")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal, not both")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeValueError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                                f"{q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead. "
                                f"(scaled_dot_product_attention)")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and v.ndim >= 3:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk == 0 or hv == 0 or hq % hk or hq % hv:
            raise ValueError(f"scaled_dot_product_attention: with enable_gqa the number of heads in key ({hk}) and "
                             f"value ({hv}) must divide the number of query heads ({hq})")
        k = k.repeat_interleave(hq // hk, dim=-3) if hk != hq else k
        v = v.repeat_interleave(hq // hv, dim=-3) if hv != hq else v
    mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool)) if is_causal else attn_mask
    if mask is not None and not isinstance(mask, Tensor):
        mask = np.asarray(mask)
        mask = Tensor(mask, backend=q.backend) if mask.dtype.kind == "b" else _const(mask, q)
    if mask is not None:
        if mask.dtype.kind != "b" and mask.dtype != q.dtype:
            raise RuntimeValueError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                                    f"attn_mask.dtype: {mask.dtype} and query.dtype: {q.dtype} instead. "
                                    f"(scaled_dot_product_attention)")
        scores = tuple(np.broadcast_shapes(tuple(q.shape[:-2]), tuple(k.shape[:-2]))) + (q.shape[-2], k.shape[-2])
        try:
            fits = np.broadcast_shapes(tuple(mask.shape), scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeValueError(f"scaled_dot_product_attention: attn_mask of shape {list(mask.shape)} does not "
                                    f"broadcast to the scores' shape {list(scores)}")
    return k, v, mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + mask) value over query (..., L, E), key (..., S, E), value (..., S, Ev).

    Args:
        attn_mask: a bool mask (True = may attend, as PyTorch) or a float mask added to the scores;
            broadcast to (..., L, S).
        dropout_p: dropout on the attention weights (training-time; 0 by default, as PyTorch).
        is_causal: position i attends to positions j <= i (top-left aligned); excludes attn_mask.
        scale: defaults to 1/sqrt(E).
        enable_gqa: key and value may have fewer heads (dimension -3) than query, a divisor of its count; each
            serves a group of query heads (grouped-query attention).

    A row of scores masked throughout (every position -inf) gives zeros, as PyTorch's (softmax alone gives NaN).
    One op (ops.ScaledDotProductAttention: two matmuls and a fused masked softmax, keeping only the weights) when
    query, key and value share a float dtype and batch shape and dropout is off; the same maths as recorded ops
    otherwise.
    """
    q = query
    k, v, mask = _attention_inputs(query, key, value, attn_mask, is_causal, enable_gqa)
    # with no features the scores are exactly 0 whatever the scale (PyTorch scales q and k, both empty)
    scale = 1.0 if q.shape[-1] == 0 else 1 / math.sqrt(q.shape[-1]) if scale is None else scale

    def composite(q_, k_, v_):
        scores = (q_ @ k_.mT) * scale
        if mask is not None:
            scores = ops.where(mask, scores, -math.inf) if mask.dtype.kind == "b" else scores + mask
        # rows masked throughout weigh nothing (PyTorch's _safe_softmax), where softmax would give NaN; their
        # scores are replaced before softmax too, so that no NaN reaches the gradient either
        dead = (scores == -math.inf).all(-1, keepdim=True)
        weights = ops.where(dead, 0.0, ops.softmax(ops.where(dead, 0.0, scores), -1))
        if dropout_p > 0:
            weights = dropout(weights, dropout_p)
        return weights @ v_

    fused = (dropout_p == 0 and q.dtype.kind == "f" and k.shape[-2] > 0
             and tuple(q.shape[:-2]) == tuple(k.shape[:-2]) == tuple(v.shape[:-2])
             and (mask is None or (mask._backend is q._backend and not mask.requires_grad)))
    if not fused:
        return composite(q, k, v)
    keep = mask._data if mask is not None and mask.dtype.kind == "b" else None
    bias = mask._data if mask is not None and mask.dtype.kind != "b" else None
    return ops.ScaledDotProductAttention.apply(q, k, v, keep=keep, bias=bias, scale=float(scale), composite=composite)
