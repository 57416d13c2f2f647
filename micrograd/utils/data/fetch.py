"""Fetchers: one batch (or one sample) from a dataset given what the sampler yielded; the same code runs in the
main process and in the worker processes."""
import numpy as np

from .collate import default_collate
from .dataset import Subset, TensorDataset


def _tensor_rows(dataset, indices):
    """What default_collate makes of `dataset`'s samples at `indices`, as one gather per tensor, when `dataset` is
    a TensorDataset (under any Subsets); None otherwise.

    Stacking the rows and gathering them give the same tensors (values, dtype, backend, gradient); the gather
    costs one op instead of one per row. Exact types only: a subclass may change what a sample is.
    """
    while type(dataset) is Subset:
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    try:
        idx = np.asarray(indices)
    except (TypeError, ValueError):
        return None
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or not len(idx):
        return None
    return [t[idx] for t in dataset.tensors]


class MapDatasetFetcher:
    """Samples by key: with automatic batching a list of keys gives the collated batch (through
    `__getitems__` where the dataset has it), else one key gives one sample, converted by `collate_fn`."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.collate_fn is default_collate:
            batch = _tensor_rows(self.dataset, index)
            if batch is not None:
                return batch
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.collate_fn(self.dataset.__getitems__(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableDatasetFetcher:
    """Samples in stream order: with automatic batching as many as the batch has keys (fewer at the end of the
    stream, none with `drop_last`); StopIteration once the stream is done."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    """The fetcher for an iterable-style (`iterable` True) or a map-style dataset."""
    kind = IterableDatasetFetcher if iterable else MapDatasetFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)
