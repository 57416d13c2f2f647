"""Samplers, with PyTorch's names: the orders in which a DataLoader visits a map-style dataset's keys.

Random samplers draw on a `micrograd.Generator` (the `generator=` given, else the default generator, so
`micrograd.manual_seed` makes them reproducible). The orders are micrograd's own streams, not PyTorch's.
"""
import itertools
from typing import Generic, TypeVar

import numpy as np

from ... import factories
from ... import random as rng
from ...errors import RuntimeValueError
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class of samplers: `__iter__` yields keys (or lists of keys, for a batch sampler); `__len__`, when
    defined, says how many."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _fresh_generator():
    """A generator seeded from the default one: one draw per epoch, however many samples the epoch takes."""
    return rng.Generator().manual_seed(int(rng.host(None).integers(0, 2 ** 63)))


class RandomSampler(Sampler[int]):
    """The keys in a random order (a new one each pass), or `num_samples` keys drawn with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw each key independently (keys may repeat).
        num_samples: how many keys a pass yields (default len(data_source)); without replacement, a value
            above the length repeats whole permutations.
        generator: the `micrograd.Generator` to draw on; when None each pass seeds a fresh generator from
            the default one.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _fresh_generator()
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from factories.randint(n, (32,), generator=generator).tolist()
            yield from factories.randint(n, (self.num_samples % 32,), generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from factories.randperm(n, generator=generator).tolist()
            yield from factories.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given keys in a random order (a new one each pass), drawn on `generator` or the default generator."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in factories.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """`num_samples` keys in 0 .. len(weights) - 1, each drawn with probability proportional to its weight.

    Args:
        weights: a 1-d sequence of non-negative weights (they need not sum to 1).
        num_samples: how many keys a pass yields.
        replacement: with False, no key is drawn twice in a pass.
        generator: the `micrograd.Generator` to draw on (default: the default generator).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights._host() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = factories.tensor(w)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def _checked_weights(self):
        w = self.weights._host()
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeValueError("probability tensor contains either `inf`, `nan` or element < 0")
        if w.sum() <= 0:
            raise RuntimeValueError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > len(w):
            raise RuntimeValueError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement; "
                                    f"WeightedRandomSampler got num_samples={self.num_samples} for {len(w)} weights")
        return w

    def __iter__(self):
        w = self._checked_weights()
        draw = rng.host(self.generator, "WeightedRandomSampler")
        if self.replacement:
            yield from draw.choice(len(w), size=self.num_samples, p=w / w.sum()).tolist()
            return
        # An exponential race: the key with the smallest Exp(1) / weight comes first, which is drawing one key
        # at a time with probability proportional to weight; zero weights come last, in random order.
        with np.errstate(divide="ignore"):
            finish = draw.exponential(size=len(w)) / w
        yield from np.lexsort((draw.random(len(w)), finish))[:self.num_samples].tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Lists of `batch_size` keys from `sampler` (any iterable of keys); the last list is shorter unless
    `drop_last` drops it."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        keys = iter(self.sampler)
        while True:
            batch = list(itertools.islice(keys, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
