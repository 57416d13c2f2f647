"""Regression losses with PyTorch's signatures: l1_loss, smooth_l1_loss and huber_loss (nn.functional re-exports
them), composites of abs, where and the reductions, so gradients follow PyTorch's at the kinks (|x|'s is 0 at 0);
and the deprecated size_average/reduce pair as PyTorch translates it."""
import warnings

from .. import ops
from ..errors import RuntimeValueError
from ..tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, stacklevel=3):
    """PyTorch's reduction for the deprecated size_average and reduce flags (None counts as True), with its
    warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  UserWarning, stacklevel=stacklevel)
    return reduction


def _operands(op, input, target, reduction, weight=None):  # noqa: A002  (PyTorch's argument name)
    """input and target as Tensors (host data takes the input's dtype and backend), PyTorch's warning when their
    shapes differ (they broadcast), and the checked reduction and weight."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(target, dtype=x.dtype, backend=x.backend)
    if t.shape != x.shape:
        warnings.warn(f"Using a target size ({t.shape}) that is different to the input size ({x.shape}). This will "
                      f"likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction ({op}: one of {_REDUCTIONS})")
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else Tensor(weight, dtype=x.dtype, backend=x.backend)
        if weight.shape != x.shape:
            raise ValueError(f"Weights and input must have the same size. ({op}: weight {weight.shape}, input "
                             f"{x.shape})")
    return x, t, weight


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """|input - target|, reduced; with `weight` (input's shape), each term weighted and the mean taken as
    sum(w |d|) / sum(w), as PyTorch."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    x, t, weight = _operands("l1_loss", input, target, reduction, weight)
    loss = (x - t).abs()
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = input - target; beta = 0 is l1_loss."""
    if beta < 0:
        raise RuntimeValueError(f"smooth_l1_loss does not support negative values for beta. (got beta={beta})")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    x, t, _ = _operands("smooth_l1_loss", input, target, reduction)
    d = x - t
    z = d.abs()
    if beta == 0:
        return _reduce(z, reduction)
    return _reduce(ops.where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target; with `weight` (input's
    shape), each term weighted before the reduction, as PyTorch."""
    if not delta > 0:
        raise RuntimeValueError(f"huber_loss does not support non-positive values for delta. (got delta={delta})")
    x, t, weight = _operands("huber_loss", input, target, reduction, weight)
    d = x - t
    z = d.abs()
    loss = ops.where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)
