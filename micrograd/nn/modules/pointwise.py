"""PyTorch's pointwise activation modules beyond ReLU/GELU/Tanh/Sigmoid, the similarity and distance modules,
KLDivLoss, RMSNorm and PReLU: thin wrappers over micrograd.nn.functional (nn/activations.py)."""
from ...factories import full, ones
from .. import functional as F
from ..module import Module
from ..parameter import Parameter
from .util import as_input, float_dtype


class _Pointwise(Module):
    """fn(x, **settings): the settings are the constructor's arguments, shown by repr as PyTorch shows them."""

    _fn = None
    _shown = ()  # settings named in extra_repr (inplace is shown only when True, as PyTorch does)
    _repr = "named"  # "bare": values without names (Softshrink(0.5)); "quiet": inplace never shown

    def __init__(self, **settings):
        super().__init__()
        for k, v in settings.items():
            setattr(self, k, v)
        self._settings = tuple(settings)

    def forward(self, x):
        return type(self)._fn(as_input(self, x), **{k: getattr(self, k) for k in self._settings})

    def extra_repr(self):
        parts = [f"{getattr(self, k)}" if self._repr == "bare" else f"{k}={getattr(self, k)}" for k in self._shown]
        if getattr(self, "inplace", False) and self._repr != "quiet":
            parts.append("inplace=True")
        return ", ".join(parts)


def _pointwise(name, fn, doc, shown=(), repr_style="named", **defaults):
    """A module class `name` calling fn with the constructor's settings (PyTorch's names and defaults)."""
    def __init__(self, *args, **kwargs):
        settings = dict(defaults)
        names = list(defaults)
        if len(args) > len(names):
            raise TypeError(f"{name}() takes at most {len(names)} positional arguments ({len(args)} given)")
        settings.update(zip(names, args))
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        settings.update(kwargs)
        _Pointwise.__init__(self, **settings)
    return type(name, (_Pointwise,), {"__doc__": doc, "__init__": __init__, "_fn": staticmethod(fn),
                                      "_shown": tuple(shown), "_repr": repr_style, "__module__": __name__})


SiLU = _pointwise("SiLU", F.silu, "x * sigmoid(x).", inplace=False)
Mish = _pointwise("Mish", F.mish, "x * tanh(softplus(x)).", inplace=False)
ELU = _pointwise("ELU", F.elu, "x for x > 0, alpha (exp(x) - 1) otherwise.", ("alpha",), alpha=1.0, inplace=False)
CELU = _pointwise("CELU", F.celu, "x for x > 0, alpha (exp(x / alpha) - 1) otherwise.", ("alpha",), alpha=1.0,
                  inplace=False)
SELU = _pointwise("SELU", F.selu, "scale * elu(x, alpha), self-normalising.", inplace=False)
Softplus = _pointwise("Softplus", F.softplus, "log(1 + exp(beta x)) / beta (linear above threshold).",
                      ("beta", "threshold"), beta=1.0, threshold=20.0)
LeakyReLU = _pointwise("LeakyReLU", F.leaky_relu, "x for x > 0, negative_slope * x otherwise.", ("negative_slope",),
                       negative_slope=0.01, inplace=False)
Hardtanh = _pointwise("Hardtanh", F.hardtanh, "x clamped to [min_val, max_val].", ("min_val", "max_val"),
                      min_val=-1.0, max_val=1.0, inplace=False)
ReLU6 = _pointwise("ReLU6", F.relu6, "min(max(x, 0), 6).", inplace=False)
Hardsigmoid = _pointwise("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6.", repr_style="quiet", inplace=False)
Hardswish = _pointwise("Hardswish", F.hardswish, "x * relu6(x + 3) / 6.", repr_style="quiet", inplace=False)
LogSigmoid = _pointwise("LogSigmoid", F.logsigmoid, "log(sigmoid(x)).")
Softsign = _pointwise("Softsign", F.softsign, "x / (1 + |x|).")
Tanhshrink = _pointwise("Tanhshrink", F.tanhshrink, "x - tanh(x).")
Softshrink = _pointwise("Softshrink", F.softshrink, "x -+ lambd outside [-lambd, lambd], 0 inside.", ("lambd",),
                        "bare", lambd=0.5)
Hardshrink = _pointwise("Hardshrink", F.hardshrink, "x outside [-lambd, lambd], 0 inside.", ("lambd",), "bare",
                        lambd=0.5)
Threshold = _pointwise("Threshold", F.threshold, "x where x > threshold, else value.", ("threshold", "value"),
                       threshold=None, value=None, inplace=False)
GLU = _pointwise("GLU", F.glu, "a * sigmoid(b) for the halves a, b of x along dim.", ("dim",), dim=-1)
Softmin = _pointwise("Softmin", F.softmin, "softmax(-x) along dim.", ("dim",), dim=None)
CosineSimilarity = _pointwise("CosineSimilarity", None, "cos of the angle between x1 and x2 along dim.", dim=1,
                              eps=1e-8)
PairwiseDistance = _pointwise("PairwiseDistance", None, "||x1 - x2 + eps||_p along the last dim.", p=2.0, eps=1e-6,
                              keepdim=False)


def _pair_forward(fn):
    def forward(self, x1, x2):
        return fn(as_input(self, x1), as_input(self, x2), **{k: getattr(self, k) for k in self._settings})
    return forward


CosineSimilarity.forward = _pair_forward(F.cosine_similarity)
PairwiseDistance.forward = _pair_forward(F.pairwise_distance)


class KLDivLoss(Module):
    """F.kl_div(input, target, reduction, log_target) as a loss module."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__()
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class RMSNorm(Module):
    """x / sqrt(mean(x^2) over the trailing normalized_shape + eps), times a weight (elementwise_affine)."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=float_dtype("RMSNorm", dtype)))
        else:
            self.register_parameter("weight", None)
        self.to(device) if device is not None else None

    def forward(self, x):
        return F.rms_norm(as_input(self, x), self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class PReLU(Module):
    """x for x > 0, weight * x otherwise, with a learned weight (one, or one per channel)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), init, dtype=float_dtype("PReLU", dtype)))
        self.to(device) if device is not None else None

    def forward(self, x):
        return F.prelu(as_input(self, x), self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


__all__ = ["CELU", "CosineSimilarity", "ELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
           "KLDivLoss", "LeakyReLU", "LogSigmoid", "Mish", "PReLU", "PairwiseDistance", "RMSNorm", "ReLU6", "SELU",
           "SiLU", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanhshrink", "Threshold"]
