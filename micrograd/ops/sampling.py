"""Random draws shaped by tensors, and counting: multinomial, normal, bernoulli, poisson, the in-place fills
(bernoulli_, exponential_, geometric_, cauchy_, log_normal_, random_), histc, histogram and bincount.

Draws are made on the host by micrograd's generators (micrograd/random.py; `generator=` or the default one), so
one seed gives the same numbers on every backend; the streams are not PyTorch's. Nothing here has a gradient.
"""
import numpy as np

from .. import dtypes, random, return_types
from ..errors import RuntimeValueError
from ..tensor import Tensor
from .util import export, register

__all__ = []


def _host(t):
    return t._backend.to_numpy(t._data) if isinstance(t, Tensor) else np.asarray(t)


def _tensor(host, like, dtype):
    b = like._backend if isinstance(like, Tensor) else None
    return Tensor(np.asarray(host), dtype=dtype, backend=None if b is None else b.name)


@export()
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):  # noqa: A002
    """int64 indices drawn from the categorical distribution(s) with weights `input` (1-d, or 2-d: one row each),
    num_samples per row, with or without replacement."""
    w = _host(input).astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeValueError(f"prob_dist must be 1 or 2 dim (multinomial: got shape {tuple(w.shape)})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeValueError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    n = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeValueError(f"cannot sample n_sample <= 0 samples (multinomial: num_samples={num_samples})")
    if not replacement and num_samples > n:
        raise RuntimeValueError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = random.host(generator, "multinomial")
    picks = np.empty((rows.shape[0], num_samples), np.int64)
    for r, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeValueError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and np.count_nonzero(row) < num_samples:
            raise RuntimeValueError("invalid multinomial distribution (with replacement=False, not enough "
                                    "non-negative category to sample)")
        picks[r] = rng.choice(n, num_samples, replace=replacement, p=row / total)
    return _tensor(picks.reshape(w.shape[:-1] + (num_samples,)), input, dtypes.int64)


@export(method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal draws: elementwise for tensor mean and/or std (broadcast), or of `size` for numbers."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m, s = _host(mean), _host(std)
        if (s < 0).any():
            raise RuntimeValueError(f"normal expects all elements of std >= 0.0 (got min {s.min()})")
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(m.shape, s.shape)
        draw = random.host(generator, "normal").normal(np.broadcast_to(m, shape), np.broadcast_to(s, shape))
        dt = like.dtype if like.dtype.kind == "f" else dtypes.get_default_dtype()
        return _tensor(draw, like, dt)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments: with number mean and std, give size")
    if std < 0:
        raise RuntimeValueError(f"normal expects std >= 0.0, but found std {std}")
    from ..factories import randn
    t = randn(*((size,) if isinstance(size, int) else tuple(size)), generator=generator, dtype=dtype,
              device=device)
    t = t * std + mean if (std, mean) != (1.0, 0.0) else t
    return t.requires_grad_(requires_grad)


@export()
def bernoulli(input, p=None, *, generator=None, out=None):  # noqa: A002
    """0/1 draws in input's dtype, each 1 with probability input's element (or p)."""
    probs = np.full(input.shape, p, np.float64) if p is not None else _host(input).astype(np.float64)
    if ((probs < 0) | (probs > 1) | np.isnan(probs)).any():
        raise RuntimeValueError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draw = random.host(generator, "bernoulli").random(probs.shape) < probs
    return _tensor(draw, input, input.dtype)


@export()
def poisson(input, generator=None):  # noqa: A002
    """Poisson draws with rates `input`, in input's dtype."""
    rates = _host(input)
    if (rates < 0).any():
        raise RuntimeValueError("invalid Poisson rate, expected rate to be non-negative")
    return _tensor(random.host(generator, "poisson").poisson(rates), input, input.dtype)


# ---- in-place fills -------------------------------------------------------------------------------------------

def _fill(name, draw):
    def method(self, *args, generator=None, **kwargs):
        from ..autograd import no_grad
        host = draw(random.host(generator, name), self.shape, *args, **kwargs)
        with no_grad():
            return self.copy_(Tensor(np.asarray(host), dtype=self.dtype, backend=self._backend.name))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Fill in place with {name[:-1]} draws (PyTorch's arguments)."
    register(name, None, method)


def _bernoulli_draw(g, shape, p=0.5):
    probs = _host(p) if isinstance(p, Tensor) else p
    return g.random(shape) < probs


def _random_draw(g, shape, low=0, high=None):
    if high is None:
        low, high = 0, low if low else 2 ** 24
    return g.integers(low, high, shape)


_fill("bernoulli_", _bernoulli_draw)
_fill("exponential_", lambda g, shape, lambd=1.0: g.exponential(1.0 / lambd, shape))
_fill("geometric_", lambda g, shape, p: g.geometric(p, shape))
_fill("cauchy_", lambda g, shape, median=0.0, sigma=1.0: median + sigma * g.standard_cauchy(shape))
_fill("log_normal_", lambda g, shape, mean=1.0, std=2.0: g.lognormal(mean, std, shape))
_fill("random_", _random_draw)


# ---- counting ---------------------------------------------------------------------------------------------------

@export()
def histc(input, bins=100, min=0, max=0):  # noqa: A001,A002  (PyTorch's argument names)
    """Counts of input's elements in `bins` equal bins over [min, max] (both 0: the data's range), as input's
    dtype; elements outside are ignored."""
    x = _host(input)
    if input.dtype.kind != "f":
        raise RuntimeValueError(f"\"histogram_cpu\" not implemented for '{dtypes.short_name(input.dtype)}'")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeValueError(f"torch.histc: max must be larger than min (got min {lo}, max {hi})")
    counts, _ = np.histogram(x[np.isfinite(x)], bins, (lo, hi))
    return _tensor(counts, input, input.dtype)


@export()
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """(hist, bin_edges): counts of input's elements in `bins` (a count or the edges as a tensor), optionally
    weighted or normalised to a density."""
    x = _host(input)
    edges = _host(bins) if isinstance(bins, Tensor) else bins
    w = None if weight is None else _host(weight)
    hist, bin_edges = np.histogram(x, edges, range, weights=w, density=density)
    return return_types.histogram(_tensor(hist, input, input.dtype), _tensor(bin_edges, input, input.dtype))


@export()
def bincount(input, weights=None, minlength=0):  # noqa: A002
    """Counts of each value 0..max(input) of a 1-d non-negative integer tensor (weighted sums with `weights`)."""
    x = _host(input)
    if x.ndim != 1 or input.dtype.kind not in "iub":
        raise RuntimeValueError("bincount only supports 1-d non-negative integral inputs.")
    if x.size and x.min() < 0:
        raise RuntimeValueError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else _host(weights)
    counts = np.bincount(x, w, minlength)
    dt = dtypes.int64 if weights is None else (weights.dtype if weights.dtype.kind == "f" else dtypes.float64)
    return _tensor(counts, input, dt)
