"""BatchNorm1d/2d (running statistics, num_batches_tracked, eval mode) and LayerNorm."""
import numbers

from ... import dtypes
from ...factories import ones, tensor, zeros
from .. import functional as F
from ..module import Module
from ..parameter import Parameter
from .util import as_input, check_input, float_dtype, positive_int


class _BatchNorm(Module):
    _ranks = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None; got {momentum!r}")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = float_dtype(name, dtype)
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
            self.bias = Parameter(zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.to(device) if device is not None else None

    def reset_running_stats(self):
        """Running mean 0, variance 1, num_batches_tracked 0."""
        if self.track_running_stats:
            for buf, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                buf._backend.assign_(buf._data, buf._backend.full(buf.shape, value, buf.dtype))

    def forward(self, x):
        x = as_input(self, x)
        check_input(self, x, self._ranks, self._layout.format(c=self.num_features), 1, self.num_features)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            n = self.num_batches_tracked
            n._backend.assign_(n._data, n._backend.add(n._data, 1))
            if self.momentum is None:  # a cumulative moving average, as PyTorch
                factor = 1.0 / int(n.item())
        use_batch_stats = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep else None, self.running_var if keep else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over all but the channel axis.

    In training it normalises by the batch statistics and updates running_mean/running_var (momentum,
    or a cumulative average when momentum is None) and num_batches_tracked; in eval it uses the running
    statistics.
    """

    _ranks = (2, 3)
    _layout = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W) per channel; see BatchNorm1d for train/eval behaviour."""

    _ranks = (4,)
    _layout = "(N, {c}, H, W)"


class LayerNorm(Module):
    """Normalises over the trailing `normalized_shape` dimensions, then scales by weight and shifts by bias."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(positive_int("LayerNorm", "normalized_shape", n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = float_dtype("LayerNorm", dtype)
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype))
            self.register_parameter("bias", Parameter(zeros(self.normalized_shape, dtype=dtype)) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.to(device) if device is not None else None

    def forward(self, x):
        x = as_input(self, x)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            check_input(self, x, (), f"(*, {', '.join(map(str, self.normalized_shape))})")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
