"""Neural-network functions with PyTorch's signatures and semantics (`import micrograd.nn.functional as F`).

Every function is a composite of the engine's differentiable ops (micrograd/ops/), some of them fused
(Linear, erf, max pooling, softmax and binary cross-entropy), so gradients and gradients of gradients need no
rules here. Class targets and other integer inputs may be NumPy arrays, lists or int Tensors.
"""
import math
import warnings

import numpy as np

from .. import ops
from .. import random as rng
from ..factories import zeros_like
from ..ops import BinaryCrossEntropy, Erf, Im2Col, Linear
from ..tensor import Tensor

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


def _pair(op, name, v, minimum):
    """An int or a pair of ints as a pair, each at least `minimum`."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints; got {v!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}; got {v!r}")
    return int(pair[0]), int(pair[1])


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _batched_image(op, x):
    """x as (N, C, H, W) and whether it was an unbatched (C, H, W) image."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: input must be (N, C, H, W) or (C, H, W); got shape {x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _padded(op, x, kernel, padding, value):
    """x (N, C, H, W) padded on each side with `value`, checked to hold at least one window."""
    (kh, kw), (ph, pw) = kernel, padding
    if ph or pw:
        x = ops.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), value=value)
    h, w = x.shape[2:]
    if kh > h or kw > w:
        raise ValueError(f"{op}: kernel size ({kh}, {kw}) is larger than the padded input ({h}, {w}); "
                         f"got input {(x.shape[0], x.shape[1], h - 2 * ph, w - 2 * pw)}")
    return x


def _windows(op, x, kernel, stride, padding, value):
    """Patches (N, C, kh, kw, OH, OW) of x (N, C, H, W) padded on each side with `value`."""
    (kh, kw), (sh, sw) = kernel, stride
    x = _padded(op, x, kernel, padding, value)
    if sh == sw:
        return Im2Col.apply(x, kh=kh, kw=kw, stride=sh)
    # im2col takes one stride; unequal strides take every window and keep each sh-th row, sw-th column.
    return Im2Col.apply(x, kh=kh, kw=kw, stride=1)[:, :, :, :, ::sh, ::sw]


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
    if x.ndim == 2 and x.dtype == weight.dtype and (bias is None or bias.dtype == x.dtype):
        return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)
    out = x @ weight.T
    return out if bias is None else out + bias


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-d cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), as pad -> im2col -> matmul.

    Args:
        stride, padding: an int or a (height, width) pair; padding is zeros on both sides, or "valid"
            (none) or "same" (stride 1; output as large as the input, any odd extra on the bottom/right).
    """
    x, unbatched = _batched_image("conv2d", x)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (out_channels, in_channels, kh, kw); got shape {weight.shape}")
    o, c, kh, kw = weight.shape
    if x.shape[1] != c:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels but weight expects {c}; "
                         f"got input {x.shape} and weight {weight.shape}")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},); got {bias.shape}")
    stride = _pair("conv2d", "stride", stride, 1)
    if padding == "valid":
        padding = 0
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1; got stride {stride}")
        before = ((kh - 1) // 2, (kw - 1) // 2)
        widths = ((0, 0), (0, 0), (before[0], kh - 1 - before[0]), (before[1], kw - 1 - before[1]))
        x, padding = ops.pad(x, widths), (0, 0)
    padding = _pair("conv2d", "padding", padding, 0)
    cols = _windows("conv2d", x, (kh, kw), stride, padding, 0.0)
    n, _, _, _, oh, ow = cols.shape
    out = weight.reshape(o, c * kh * kw) @ cols.reshape(n, c * kh * kw, oh * ow)
    out = out.reshape(n, o, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out.squeeze(0) if unbatched else out


def _pool_args(op, x, kernel_size, stride, padding):
    x, unbatched = _batched_image(op, x)
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding must be at most half the kernel size; got padding {padding} "
                         f"for kernel {kernel}")
    return x, kernel, stride, padding, unbatched


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each window (stride defaults to kernel_size; padding is -inf, so it never wins).

    On ties the gradient goes to the first maximal element of the window in row-major order, as PyTorch.
    """
    x, kernel, stride, padding, unbatched = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    out = ops.max_pool2d(_padded("max_pool2d", x, kernel, padding, -math.inf), kernel, stride)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window; zero padding counts toward the mean (PyTorch's count_include_pad=True)."""
    x, kernel, stride, padding, unbatched = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    out = _windows("avg_pool2d", x, kernel, stride, padding, 0.0).mean(axis=(2, 3))
    return out.squeeze(0) if unbatched else out


# activations

def relu(x):
    """max(x, 0)."""
    return ops.relu(_tensor(x, "relu"))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(_tensor(x, "sigmoid"))


def tanh(x):
    """tanh(x)."""
    return ops.tanh(_tensor(x, "tanh"))


def _dim(op, dim, axis):
    if dim is not None and axis is not None:
        raise TypeError(f"{op}: pass dim or axis, not both")
    return -1 if dim is None and axis is None else (dim if dim is not None else axis)


def softmax(x, dim=None, *, axis=None):
    """exp(x) / sum(exp(x)) along `dim` (alias `axis`; default the last axis)."""
    return ops.softmax(_tensor(x, "softmax"), _dim("softmax", dim, axis))


def log_softmax(x, dim=None, *, axis=None):
    """x - logsumexp(x) along `dim` (alias `axis`; default the last axis)."""
    return ops.log_softmax(_tensor(x, "log_softmax"), _dim("log_softmax", dim, axis))


def gelu(x, approximate="none"):
    """x * Phi(x) with the exact erf (approximate="none") or PyTorch's tanh formula (approximate="tanh")."""
    x = _tensor(x, "gelu")
    if approximate == "none":
        return 0.5 * x * (1 + Erf.apply(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))).tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}")


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training.

    The mask is drawn on the host from micrograd's generator, so one seed gives one mask on every backend.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1]; got {p!r}")
    x = _tensor(x, "dropout")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = rng.host().random(x.shape) >= p
    return x * _const(keep * (1 / (1 - p)), x)


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
    axes = tuple(range(x.ndim - k, x.ndim))
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
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, ...); got shape {x.shape}")
    c = x.shape[1]
    for name, p in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if p is not None and tuple(np.shape(p) if not isinstance(p, Tensor) else p.shape) != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for input {x.shape}; got "
                             f"{tuple(np.shape(p) if not isinstance(p, Tensor) else p.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.numel() // c
        if n < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel; got input {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        for buf, stat in ((running_mean, mean.detach()), (running_var, var.detach() * (n / (n - 1)))):
            if isinstance(buf, Tensor):
                new = buf.detach() * (1 - momentum) + stat.reshape(c) * momentum
                buf._backend.assign_(buf._data, new._data)
            elif buf is not None:  # a NumPy buffer, updated in place on the host
                buf[...] = buf * (1 - momentum) + stat._host().reshape(c) * momentum
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training; got None")
        centred = x - _tensor(running_mean, "batch_norm", x).detach().reshape(per_channel)
        var = _tensor(running_var, "batch_norm", x).detach().reshape(per_channel)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * _tensor(weight, "batch_norm", x).reshape(per_channel)
    return out if bias is None else out + _tensor(bias, "batch_norm", x).reshape(per_channel)


def embedding(input, weight, padding_idx=None):  # noqa: A002
    """Rows of weight (num_embeddings, dim) picked by integer indices; gradients scatter-add into the rows.

    Rows picked at `padding_idx` get no gradient (their values are still returned), as PyTorch.
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim); got shape {weight.shape}")
    idx = input._host() if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers; got dtype {idx.dtype}")
    v = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        bad = idx[(idx < 0) | (idx >= v)].flat[0]
        raise IndexError(f"embedding: index {int(bad)} is out of range for {v} embeddings")
    out = weight[idx]
    if padding_idx is None:
        return out
    if not -v <= padding_idx < v:
        raise ValueError(f"embedding: padding_idx must be in [-{v}, {v}); got {padding_idx}")
    padded = (idx == padding_idx % v)[..., None]
    return ops.where(padded, weight.detach()[idx], out) if padded.any() else out


# attention

def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(q k^T * scale + mask) v over q (..., L, E), k (..., S, E), v (..., S, Ev).

    Args:
        attn_mask: a bool mask (True = may attend, as PyTorch) or a float mask added to the scores;
            broadcast to (..., L, S).
        is_causal: position i attends to positions j <= i (top-left aligned); excludes attn_mask.
        scale: defaults to 1/sqrt(E).
    """
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: q, k and v need at least 2 dimensions; got "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: q and k must share the last dimension and k and v "
                         f"the sequence dimension; got q {q.shape}, k {k.shape}, v {v.shape}")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal, not both")
    length, source = q.shape[-2], k.shape[-2]
    scores = (q @ k.mT) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        attn_mask = np.tril(np.ones((length, source), dtype=bool))
    if attn_mask is not None:
        mask = attn_mask
        if not isinstance(mask, Tensor):
            mask = np.asarray(mask)
            mask = Tensor(mask, backend=q.backend) if mask.dtype.kind == "b" else _const(mask, scores)
        if mask.dtype.kind == "b":
            scores = ops.where(mask, scores, -math.inf)
        else:
            scores = scores + mask
    weights = ops.softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ v
