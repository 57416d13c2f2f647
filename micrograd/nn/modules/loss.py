"""Loss modules: CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss, L1Loss, SmoothL1Loss, HuberLoss."""
from ...tensor import Tensor
from .. import functional as F
from ..losses import legacy_reduction
from ..module import Module

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    def __init__(self, reduction="mean", weight=None):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")
        self.reduction = reduction
        # PyTorch keeps class weights as a buffer, so they follow .to() and appear in the state dict.
        self.register_buffer("weight", None if weight is None else _as_tensor(weight))


def _as_tensor(x):
    return x.detach() if isinstance(x, Tensor) else Tensor(x)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d...) against class indices or probabilities."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction, weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):  # noqa: A002  (PyTorch's argument name)
        return F.cross_entropy(input, target, self.reduction, self.ignore_index, self.label_smoothing,
                               weight=self.weight)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices given log-probabilities (N, C) or (N, C, d...)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction, weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, self.reduction, self.ignore_index, weight=self.weight)


class MSELoss(_Loss):
    """Mean squared error between input and target."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] against targets of the same shape."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction, weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.reduction, weight=self.weight)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step; pos_weight weighs the positive class."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction, weight)
        self.register_buffer("pos_weight", None if pos_weight is None else _as_tensor(pos_weight))

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight,
                                                  weight=self.weight)


class L1Loss(_Loss):
    """Mean absolute error |input - target|, reduced (size_average and reduce: PyTorch's deprecated flags)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce)
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = input - target, reduced."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce)
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target, reduced."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
