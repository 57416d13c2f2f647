"""`DataLoader`: batches of a dataset, in the main process or in worker processes, with PyTorch's arguments,
checks and messages."""
import multiprocessing
from typing import Generic, TypeVar

import numpy as np

from ... import random as rng
from ...errors import AssertionValueError
from ...tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import create_fetcher
from .multiprocess import MultiProcessingIter
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

T_co = TypeVar("T_co", covariant=True)

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _InfiniteConstantSampler(Sampler):
    """None forever: the keys of an iterable dataset, which ignores them (the stream decides when to end)."""

    def __iter__(self):
        while True:
            yield None


def _refuse_tuple_of_arrays(dataset):
    if isinstance(dataset, tuple) and dataset and all(isinstance(a, (np.ndarray, Tensor)) for a in dataset):
        shapes = ", ".join(str(tuple(a.shape)) for a in dataset)
        names = ", ".join("xyzw"[i] if i < 4 else f"a{i}" for i in range(len(dataset)))
        raise TypeError(f"DataLoader: got a tuple of arrays; wrap them as TensorDataset({names}) (a tuple is a "
                        f"dataset of {len(dataset)} samples, not columns); got shapes {shapes}")


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers):
    """PyTorch's checks of the worker options; returns the prefetch factor in force."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"DataLoader: num_workers must be an int; got {type(num_workers).__name__}")
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
                         "enable multiprocessing, otherwise set prefetch_factor to None.")
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _context(multiprocessing_context, num_workers):
    """The multiprocessing context workers start in: a start method's name or a context (default: the
    platform's default start method, fork on Linux)."""
    if multiprocessing_context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                         f"but got num_workers={num_workers}")
    if isinstance(multiprocessing_context, str):
        methods = multiprocessing.get_all_start_methods()
        if multiprocessing_context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                             f"but got multiprocessing_context={multiprocessing_context!r}")
        return multiprocessing.get_context(multiprocessing_context)
    if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a string specifying "
                        f"the start method, but got multiprocessing_context={multiprocessing_context}")
    return multiprocessing_context


def _iterable_checks(shuffle, sampler, batch_sampler):
    if shuffle not in {False, None}:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                         f"shuffle={shuffle}")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                         f"sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                         f"batch_sampler={batch_sampler}")


def _samplers(dataset, iterable, batch_size, shuffle, sampler, batch_sampler, drop_last, generator):
    """PyTorch's rules for the sampling options; returns (batch_size, drop_last, sampler, batch_sampler)."""
    if iterable:
        _iterable_checks(shuffle, sampler, batch_sampler)
    shuffle = bool(shuffle)
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                             "drop_last")
        batch_size, drop_last = None, False
    elif batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
    if sampler is None:
        if iterable:
            sampler = _InfiniteConstantSampler()
        else:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    if batch_size is not None and batch_sampler is None:
        batch_sampler = BatchSampler(sampler, batch_size, drop_last)
    return batch_size, drop_last, sampler, batch_sampler


class DataLoader(Generic[T_co]):
    """Batches of a dataset: PyTorch's DataLoader, with its arguments, defaults and checks.

    Args:
        dataset: a map-style dataset (`__getitem__`, `__len__`; e.g. `TensorDataset(x, y)`) or an
            `IterableDataset`. A tuple of arrays is refused: wrap them as `TensorDataset(x, y)`.
        batch_size: samples per batch; None turns batching off (each sample comes alone, arrays converted to
            tensors).
        shuffle: a new random order each pass (a `RandomSampler` on `generator`).
        sampler, batch_sampler: the order of keys, or of lists of keys (exclusive of the options they replace).
        num_workers: worker processes that fetch and collate batches (0: in this process). Batches come back in
            order; each worker seeds micrograd's, Python's and NumPy's global random streams from the loader's
            generator and its id; `get_worker_info()` describes the worker inside it.
        collate_fn: turns a list of samples into a batch (default `default_collate`).
        pin_memory, pin_memory_device: accepted and without effect: micrograd's CPU tensors need no pinning and
            its GPU backend copies from ordinary host memory.
        drop_last: drop a last batch smaller than `batch_size`.
        timeout: seconds to wait for a worker's batch before raising (0: wait as long as the workers live);
            worker processes only.
        worker_init_fn: called as `worker_init_fn(worker_id)` in each worker before it fetches anything.
        multiprocessing_context: a start method's name ("fork", "spawn", "forkserver") or a context (default:
            Python's default start method). With the cupy backend use "spawn": CUDA does not survive a fork.
        generator: the `micrograd.Generator` for shuffling and worker seeds (default: the default generator).
        prefetch_factor: batches each worker works ahead (default 2 with workers).
        persistent_workers: keep the workers between passes instead of starting new ones each pass.
        in_order: accepted; batches always come back in sampler order.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        _refuse_tuple_of_arrays(dataset)
        self.prefetch_factor = _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        if generator is not None:
            rng.host(generator, "DataLoader")  # a TypeError now rather than at the first shuffle
        self.multiprocessing_context = _context(multiprocessing_context, num_workers)
        self.dataset, self.num_workers, self.timeout = dataset, num_workers, timeout
        self.worker_init_fn = worker_init_fn
        self.pin_memory, self.pin_memory_device, self.in_order = pin_memory, pin_memory_device, in_order
        self._iterable = isinstance(dataset, IterableDataset)
        self.batch_size, self.drop_last, self.sampler, self.batch_sampler = _samplers(
            dataset, self._iterable, batch_size, shuffle, sampler, batch_sampler, drop_last, generator)
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn, self.persistent_workers = collate_fn, persistent_workers
        self._iterator = None
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        """An iterator over one pass; with persistent workers, the same workers serve every pass."""
        if self.num_workers == 0:
            return SingleProcessIter(self)
        if not self.persistent_workers:
            return MultiProcessingIter(self)
        if self._iterator is None or self._iterator.stopped:  # first pass, or the last ended in an error
            self._iterator = MultiProcessingIter(self)
        else:
            self._iterator.reset(self)
        return self._iterator

    def __len__(self):
        """The number of batches a pass yields (for an iterable dataset, from its `__len__` and the batch size)."""
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)


class SingleProcessIter:
    """One pass over a DataLoader, fetching and collating in this process."""

    def __init__(self, loader):
        if loader.timeout != 0:
            raise AssertionValueError(f"DataLoader: timeout applies to worker processes only; got "
                                      f"timeout={loader.timeout} with num_workers=0")
        self._index_sampler = loader._index_sampler
        rng.host(loader.generator).integers(0, 2 ** 63)  # the worker seed a multi-process pass draws: same streams
        self._sampler_iter = iter(self._index_sampler)
        self._fetcher = create_fetcher(loader._iterable, loader.dataset, loader._auto_collation, loader.collate_fn,
                                       loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")
