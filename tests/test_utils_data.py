"""micrograd.utils.data: datasets, samplers, collation, DataLoader's options and checks, worker processes (same
batches as in-process loading, errors, timeouts, dead workers, shutdown), and PyTorch's torch.utils.data as the
reference where it is installed (same sequential batches, lengths, structure, messages; the random streams
differ on purpose)."""
import collections
import multiprocessing
import os
import re
import signal
import time

import numpy as np
import pytest

import micrograd as mg
from micrograd.utils import data as D
from micrograd.utils.data import multiprocess
from nn_helpers import needs_torch

Point = collections.namedtuple("Point", ["x", "y"])


def _batches(loader):
    """A loader's batches as nested Python lists (tensors by value), to compare passes and implementations."""
    def plain(b):
        if hasattr(b, "tolist"):
            return b.tolist()
        if isinstance(b, dict):
            return {k: plain(v) for k, v in b.items()}
        if isinstance(b, (list, tuple)):
            return [plain(v) for v in b]
        return b
    return [plain(b) for b in loader]


def _xy(n=10):
    return D.TensorDataset(mg.arange(n, dtype=mg.float32).reshape(n, 1) / 2, mg.arange(n))


# datasets

def test_tensor_dataset_indexes_rows_and_checks_first_dimensions():
    x, y = mg.arange(12.0).reshape(6, 2), mg.arange(6)
    ds = D.TensorDataset(x, y)
    row = ds[4]
    assert isinstance(row, tuple) and len(ds) == 6 and ds.tensors == (x, y)
    assert row[0].tolist() == [8.0, 9.0] and row[1].item() == 4
    with pytest.raises(AssertionError, match=r"^Size mismatch between tensors; TensorDataset got first dimensions "
                                             r"\[6, 5\]"):
        D.TensorDataset(x, y[:5])
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        D.TensorDataset(x, y[:5])
    with pytest.raises(TypeError, match="TensorDataset: expected Tensors; got ndarray at position 1"):
        D.TensorDataset(x, np.arange(6))
    with pytest.raises(ValueError, match="tensor 0 is 0-d"):
        D.TensorDataset(mg.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        D.TensorDataset()


class Squares(D.Dataset):
    def __init__(self, n=6):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(f"Squares: index {i} out of range")
        return i * i


class Count(D.IterableDataset):
    """start, ..., stop - 1; with workers each worker yields every num_workers-th number."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        info = D.get_worker_info()
        step, first = (1, self.start) if info is None else (info.num_workers, self.start + info.id)
        return iter(range(first, self.stop, step))

    def __len__(self):
        return self.stop - self.start


def test_subset_concat_stack_and_chain_datasets():
    sq = Squares()
    sub = D.Subset(sq, [5, 0, 2])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [25, 0, 4] and sub.__getitems__([2, 0]) == [4, 25]
    both = sq + D.Subset(sq, [1, 3])
    assert isinstance(both, D.ConcatDataset) and len(both) == 8 and both.cumulative_sizes == [6, 8]
    assert [both[i] for i in range(8)] == [0, 1, 4, 9, 16, 25, 1, 9] and both[-1] == 9 and both[-8] == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        both[-9]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        D.ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        D.ConcatDataset([sq, Count(0, 2)])
    assert D.StackDataset(sq, D.Subset(sq, range(6)))[3] == (9, 9)
    assert D.StackDataset(a=sq, b=D.Subset(sq, [4] * 6))[1] == {"a": 1, "b": 16}
    with pytest.raises(ValueError, match="Size mismatch between datasets; StackDataset got lengths \\[6, 3\\]"):
        D.StackDataset(sq, sub)
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        D.StackDataset()
    chain = Count(0, 3) + Count(10, 12)
    assert isinstance(chain, D.ChainDataset) and list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(D.ChainDataset([sq]))


def test_subset_subclass_must_override_getitems_too():
    class Doubled(D.Subset):
        def __getitem__(self, i):
            return 2 * super().__getitem__(i)

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Doubled(Squares(), [1])


def test_iterable_dataset_must_define_iter():
    with pytest.raises(TypeError):
        D.IterableDataset()


def test_random_split_lengths_fractions_and_reproducibility():
    parts = D.random_split(range(10), [3, 7], generator=mg.Generator().manual_seed(4))
    again = D.random_split(range(10), [3, 7], generator=mg.Generator().manual_seed(4))
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, D.Subset) for p in parts)
    assert [list(p) for p in parts] == [list(p) for p in again]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    perm = mg.randperm(10, generator=mg.Generator().manual_seed(4)).tolist()
    assert list(parts[0]) + list(parts[1]) == perm  # the permutation of randperm on that generator
    assert [len(p) for p in D.random_split(range(11), [0.3, 0.3, 0.4])] == [4, 3, 4]  # remainder round-robin
    mg.manual_seed(2)
    a = [list(p) for p in D.random_split(range(8), [0.5, 0.5])]
    mg.manual_seed(2)
    assert a == [list(p) for p in D.random_split(range(8), [0.5, 0.5])]  # the default generator
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        D.random_split(range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        D.random_split(range(10), [3, 6])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        D.random_split(range(10), [0.5, 1.5, -1.0])
    with pytest.raises(ValueError, match="non-negative ints"):
        D.random_split(range(10), [11, -1])


# samplers

def test_sequential_and_random_samplers():
    assert list(D.SequentialSampler(range(4))) == [0, 1, 2, 3] and len(D.SequentialSampler(range(4))) == 4
    s = D.RandomSampler(range(10), generator=mg.Generator().manual_seed(7))
    assert list(s) == mg.randperm(10, generator=mg.Generator().manual_seed(7)).tolist()
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second  # a new order each pass
    many = list(D.RandomSampler(range(10), num_samples=25, generator=mg.Generator().manual_seed(0)))
    assert len(many) == 25 and sorted(many[:10]) == sorted(many[10:20]) == list(range(10))  # whole permutations
    drawn = list(D.RandomSampler(range(3), replacement=True, num_samples=70, generator=mg.Generator().manual_seed(0)))
    assert len(drawn) == 70 and set(drawn) == {0, 1, 2}
    mg.manual_seed(5)
    a = list(D.RandomSampler(range(20)))
    mg.manual_seed(5)
    assert a == list(D.RandomSampler(range(20))) and a != list(range(20))  # the default generator seeds it
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        D.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        D.RandomSampler(range(0))


def test_subset_and_weighted_random_samplers():
    s = D.SubsetRandomSampler([10, 20, 30, 40], generator=mg.Generator().manual_seed(1))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4
    w = D.WeightedRandomSampler([0.0, 1.0, 3.0], 200, generator=mg.Generator().manual_seed(0))
    drawn = list(w)
    assert len(drawn) == len(w) == 200 and set(drawn) == {1, 2} and drawn.count(2) > drawn.count(1)
    once = list(D.WeightedRandomSampler(mg.tensor([1.0, 0.0, 5.0, 2.0]), 4, replacement=False))
    assert sorted(once) == [0, 1, 2, 3] and once[-1] == 1  # the zero weight comes last
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        D.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights have shape \\(1, 2\\)"):
        D.WeightedRandomSampler([[1.0, 2.0]], 1)
    with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan` or element < 0"):
        list(D.WeightedRandomSampler([1.0, -1.0], 1))
    with pytest.raises(RuntimeError, match="invalid multinomial distribution \\(sum of probabilities <= 0\\)"):
        list(D.WeightedRandomSampler([0.0, 0.0], 1))
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size\\(-1\\) samples without"):
        list(D.WeightedRandomSampler([1.0, 1.0], 3, replacement=False))


def test_batch_sampler():
    assert list(D.BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(D.BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(D.BatchSampler(range(7), 3, False)) == 3 and len(D.BatchSampler(range(7), 3, True)) == 2
    assert list(D.BatchSampler(range(6), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but got "
                                             f"batch_size={bad}"):
            D.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=0"):
        D.BatchSampler(range(3), 2, 0)


# collation

def test_default_collate_nested_structures():
    samples = [{"img": mg.full((2,), float(i)), "label": i, "w": i / 2, "name": f"s{i}", "ok": i > 0,
                "pt": Point(np.float32(i), np.arange(2) + i), "pair": (i, [i, -i])} for i in range(3)]
    b = D.default_collate(samples)
    assert set(b) == {"img", "label", "w", "name", "ok", "pt", "pair"}
    assert b["img"].shape == (3, 2) and b["img"].dtype == mg.float32 and b["img"][2].tolist() == [2.0, 2.0]
    assert b["label"].dtype == mg.int64 and b["label"].tolist() == [0, 1, 2]
    assert b["w"].dtype == mg.float64 and b["w"].tolist() == [0.0, 0.5, 1.0]
    assert b["name"] == ["s0", "s1", "s2"]
    assert b["ok"].dtype == mg.bool_ and b["ok"].tolist() == [False, True, True]
    assert isinstance(b["pt"], Point) and b["pt"].x.dtype == mg.float32 and b["pt"].y.dtype == mg.int64
    assert b["pt"].y.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert isinstance(b["pair"], list) and b["pair"][0].tolist() == [0, 1, 2]  # tuples give lists
    assert [t.tolist() for t in b["pair"][1]] == [[0, 1, 2], [0, -1, -2]]


def test_default_collate_arrays_tensors_and_errors():
    arrays = [np.full((2, 2), i, np.int32) for i in range(3)]
    t = D.default_collate(arrays)
    assert isinstance(t, mg.Tensor) and t.shape == (3, 2, 2) and t.dtype == mg.int32
    mixed = D.default_collate([np.zeros(2, np.float32), np.ones(2, np.float32)])
    assert mixed.tolist() == [[0, 0], [1, 1]]
    x = mg.ones(2, requires_grad=True)
    stacked = D.default_collate([x, 2 * x])
    stacked.sum().backward()
    assert stacked.shape == (2, 2) and x.grad.tolist() == [3.0, 3.0]  # collation is differentiable
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        D.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        D.default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        D.default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_and_a_custom_collate_table():
    out = D.default_convert({"a": np.arange(3), "b": (np.float64(1.5), "s"), "p": Point(np.zeros(1), 2)})
    assert isinstance(out["a"], mg.Tensor) and out["a"].dtype == mg.int64
    assert isinstance(out["b"], list) and out["b"][0].dtype == mg.float64 and out["b"][1] == "s"
    assert isinstance(out["p"], Point) and isinstance(out["p"].x, mg.Tensor) and out["p"].y == 2
    from micrograd.utils.data.collate import collate, default_collate_fn_map
    table = {**default_collate_fn_map, str: lambda batch, collate_fn_map: "".join(batch)}
    assert collate([("a", 1), ("b", 2)], collate_fn_map=table)[0] == "ab"


# DataLoader

def test_dataloader_batches_len_drop_last_and_backend(backend):
    ds = _xy()
    loader = D.DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert all(isinstance(b, list) and t.backend == backend for b in batches for t in b)
    assert batches[0][0].dtype == mg.float32 and batches[0][1].dtype == mg.int64
    assert sum((b[1].tolist() for b in batches), []) == list(range(10))
    dropped = D.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    assert len(D.DataLoader(ds)) == 10 and next(iter(D.DataLoader(ds)))[1].shape == (1,)


def test_dataloader_tensor_rows_take_the_same_values_as_per_sample_collation():
    x = mg.arange(24.0).reshape(8, 3).requires_grad_()
    ds = D.TensorDataset(x, mg.arange(8))
    fast = D.DataLoader(D.Subset(ds, [7, 1, 4, 2, 0]), batch_size=3)
    slow = D.DataLoader(D.Subset(ds, [7, 1, 4, 2, 0]), batch_size=3, collate_fn=lambda b: D.default_collate(b))
    assert _batches(fast) == _batches(slow) and _batches(fast)[0][1] == [7, 1, 4]
    for b in fast:
        b[0].sum().backward()
    assert x.grad.sum(1).tolist() == [3.0, 3.0, 3.0, 0.0, 3.0, 0.0, 0.0, 3.0]


def test_dataloader_shuffle_follows_the_generator_or_manual_seed():
    ds = _xy(20)

    def labels(loader):
        return [i for b in loader for i in b[1].tolist()]
    a = labels(D.DataLoader(ds, batch_size=6, shuffle=True, generator=mg.Generator().manual_seed(3)))
    b = labels(D.DataLoader(ds, batch_size=6, shuffle=True, generator=mg.Generator().manual_seed(3)))
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20))
    loader = D.DataLoader(ds, batch_size=6, shuffle=True)
    mg.manual_seed(11)
    epoch1, epoch2 = labels(loader), labels(loader)
    mg.manual_seed(11)
    assert labels(loader) == epoch1 and epoch1 != epoch2  # reproducible, and a new order each pass


def test_dataloader_samplers_collate_fn_and_no_batching():
    ds = Squares(7)
    assert _batches(D.DataLoader(ds, batch_size=None)) == [0, 1, 4, 9, 16, 25, 36]
    assert len(D.DataLoader(ds, batch_size=None)) == 7
    assert _batches(D.DataLoader(ds, batch_size=2, sampler=[6, 0, 3])) == [[36, 0], [9]]
    bs = D.BatchSampler(D.SequentialSampler(ds), 3, drop_last=True)
    loader = D.DataLoader(ds, batch_sampler=bs)
    assert _batches(loader) == [[0, 1, 4], [9, 16, 25]] and len(loader) == 2 and loader.batch_size is None
    assert _batches(D.DataLoader(ds, batch_size=3, collate_fn=sum)) == [5, 50, 36]
    arrays = D.DataLoader(np.arange(6.0).reshape(3, 2), batch_size=None)
    assert [type(b) for b in arrays] == [mg.Tensor] * 3  # default_convert: arrays become tensors


def test_dataloader_over_an_iterable_dataset():
    ds = Count(0, 7)
    loader = D.DataLoader(ds, batch_size=3)
    assert _batches(loader) == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    dropped = D.DataLoader(ds, batch_size=3, drop_last=True)
    assert _batches(dropped) == [[0, 1, 2], [3, 4, 5]] and len(dropped) == 2
    assert _batches(D.DataLoader(ds, batch_size=None)) == list(range(7))
    assert _batches(D.DataLoader(ds, shuffle=False)) == [[i] for i in range(7)]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative; use num_workers=0 to disable"),
    (dict(num_workers=1.5), TypeError, "DataLoader: num_workers must be an int; got float"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive with "
                                                          "batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], shuffle=True), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError, "batch_size=None option disables auto-batching and is "
                                                        "mutually exclusive with drop_last"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(drop_last=1), ValueError, "drop_last should be a boolean value, but got drop_last=1"),
    (dict(multiprocessing_context="fork"), ValueError, "multiprocessing_context can only be used with "
                                                       "multi-process loading"),
    (dict(num_workers=1, multiprocessing_context="nope"), ValueError, "should specify a valid start method in"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError, "multiprocessing_context option should be a valid "
                                                                "context object"),
    (dict(generator=np.random.default_rng(0)), TypeError, "DataLoader: generator must be a micrograd Generator"),
    (dict(seed=0), TypeError, "unexpected keyword argument 'seed'"),
])
def test_dataloader_argument_checks(kwargs, error, match):
    with pytest.raises(error, match=match):
        D.DataLoader(Squares(), **kwargs)


@pytest.mark.parametrize("kwargs, option", [
    (dict(shuffle=True), "shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), "sampler option, but got sampler=[0]"),
    (dict(batch_sampler=[[0]]), "batch_sampler option, but got batch_sampler=[[0]]"),
])
def test_dataloader_iterable_dataset_refuses_sampling_options(kwargs, option):
    with pytest.raises(ValueError, match=re.escape(f"DataLoader with IterableDataset: expected unspecified {option}")):
        D.DataLoader(Count(0, 3), **kwargs)


def test_dataloader_options_fixed_after_init_and_checks_when_iterated():
    loader = D.DataLoader(Squares(), batch_size=2, pin_memory=True)  # pin_memory: accepted, no effect on CPU
    assert _batches(loader) == [[0, 1], [4, 9], [16, 25]]
    for name in ("batch_size", "sampler", "dataset", "drop_last", "batch_sampler", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(loader, name, None)
    loader.num_workers = 0  # not one of the fixed options
    with pytest.raises(AssertionError, match="timeout applies to worker processes only; got timeout=5"):
        iter(D.DataLoader(Squares(), timeout=5))
    with pytest.raises(AssertionError, match="prefetch_factor must be greater than 0 with worker processes"):
        iter(D.DataLoader(Squares(), num_workers=1, prefetch_factor=0))


def test_dataloader_refuses_a_tuple_of_arrays_naming_tensordataset():
    with pytest.raises(TypeError, match=r"DataLoader: got a tuple of arrays; wrap them as TensorDataset\(x, y\)"):
        D.DataLoader((np.zeros((4, 2)), np.arange(4)), batch_size=2)
    assert _batches(D.DataLoader([(1, 2.0), (3, 4.0)], batch_size=2)) == [[[1, 3], [2.0, 4.0]]]  # a list of samples


# worker processes

@pytest.fixture
def no_hang():
    """Fail a test that takes over 60 seconds instead of hanging the run."""
    def expire(signum, frame):
        raise TimeoutError("worker test took over 60 s: a DataLoader wait did not end")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Tagged(D.Dataset):
    """Sample i: (i, the worker's id (-1 in the main process), a draw on micrograd's default generator)."""

    def __len__(self):
        return 9

    def __getitem__(self, i):
        info = D.get_worker_info()
        return i, -1 if info is None else info.id, float(mg.rand(1).item())


class Failing(D.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise KeyError(f"no sample {i} in Failing")
        return i


class Sleepy(D.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(0.5)
        return i


class Dying(D.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os._exit(3)
        return i


def test_workers_give_the_same_batches_as_the_main_process(no_hang, backend):
    ds = _xy(11)
    make = lambda n: D.DataLoader(ds, batch_size=3, shuffle=True, num_workers=n,  # noqa: E731
                                  generator=mg.Generator().manual_seed(6))
    with_workers = list(make(2))
    assert _batches(with_workers) == _batches(make(0)) and len(with_workers) == 4
    assert all(t.backend == backend for b in with_workers for t in b)


def test_workers_are_seeded_apart_and_know_who_they_are(no_hang):
    assert D.get_worker_info() is None
    batches = list(D.DataLoader(Tagged(), batch_size=3, num_workers=2, generator=mg.Generator().manual_seed(1)))
    assert [b[1].tolist() for b in batches] == [[0, 0, 0], [1, 1, 1], [0, 0, 0]]  # round-robin over workers
    assert batches[0][2].tolist() != batches[1][2].tolist()  # each worker has its own random stream
    again = list(D.DataLoader(Tagged(), batch_size=3, num_workers=2, generator=mg.Generator().manual_seed(1)))
    assert _batches(again) == _batches(batches)  # and the loader's generator seeds them


def _init_marks_dataset(worker_id):
    info = D.get_worker_info()
    info.dataset.start, info.dataset.stop = 100 + info.dataset.start, 100 + info.dataset.stop


def test_workers_over_an_iterable_dataset(no_hang):
    loader = D.DataLoader(Count(0, 7), batch_size=2, num_workers=2)
    assert _batches(loader) == [[0, 2], [1, 3], [4, 6], [5]]  # worker 0 has 0 2 4 6, worker 1 has 1 3 5
    assert _batches(D.DataLoader(Count(0, 5), batch_size=None, num_workers=2)) == [0, 1, 2, 3, 4]
    marked = D.DataLoader(Count(0, 4), batch_size=4, num_workers=2, worker_init_fn=_init_marks_dataset)
    assert _batches(marked) == [[100, 102], [101, 103]]


def _init_fails_in_worker_1(worker_id):
    return 1 // (1 - worker_id)


def test_an_error_in_a_worker_names_it_and_carries_the_traceback(no_hang):
    it = iter(D.DataLoader(Failing(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(KeyError) as info:
        next(it)
    text = str(info.value)
    assert "Caught KeyError in DataLoader worker process 0." in text and "Original Traceback" in text
    assert 'raise KeyError(f"no sample {i} in Failing")' in text and "'no sample 4 in Failing'" in text
    with pytest.raises(KeyError, match="DataLoader worker process 0"):
        list(D.DataLoader(Failing(), batch_size=3, num_workers=1))
    with pytest.raises(ZeroDivisionError, match="DataLoader worker process 1") as info:
        list(D.DataLoader(Squares(), num_workers=2, worker_init_fn=_init_fails_in_worker_1))
    assert "return 1 // (1 - worker_id)" in str(info.value)


def test_timeout_and_a_dead_worker_raise_instead_of_hanging(no_hang, monkeypatch):
    monkeypatch.setattr(multiprocess, "POLL_SECONDS", 0.05)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.1 seconds"):
        list(D.DataLoader(Sleepy(), num_workers=1, timeout=0.1))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly \(exit codes 3\)"):
        list(D.DataLoader(Dying(), batch_size=1, num_workers=1))


def _new_children(before):
    return [p for p in multiprocessing.active_children() if p not in before]


def test_workers_stop_at_the_end_of_a_pass_or_when_the_iterator_is_dropped(no_hang):
    before = multiprocessing.active_children()  # workers of iterators other tests left to the cycle collector
    it = iter(D.DataLoader(Squares(), batch_size=2, num_workers=2))
    assert len(_new_children(before)) == 2
    assert len(list(it)) == 3 and _new_children(before) == []
    it = iter(D.DataLoader(Squares(), batch_size=2, num_workers=2))
    next(it)
    del it
    assert _new_children(before) == []


def test_persistent_workers_serve_every_pass(no_hang):
    loader = D.DataLoader(_xy(7), batch_size=2, num_workers=2, persistent_workers=True)
    before = multiprocessing.active_children()
    first = loader.__iter__()
    workers = _new_children(before)
    next(first)  # an abandoned pass: its outstanding batches are discarded
    assert _batches(loader) == _batches(D.DataLoader(_xy(7), batch_size=2))
    assert _batches(loader) == _batches(D.DataLoader(_xy(7), batch_size=2))
    assert loader.__iter__() is first and _new_children(before) == workers and len(workers) == 2
    del loader, first  # the loader held the workers; dropping it stops them
    assert _new_children(before) == []
    streams = D.DataLoader(Count(0, 5), batch_size=2, num_workers=2, persistent_workers=True)
    assert _batches(streams) == _batches(streams) == [[0, 2], [1, 3], [4]]


def test_workers_under_spawn(no_hang):
    loader = D.DataLoader(_xy(5), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert _batches(loader) == _batches(D.DataLoader(_xy(5), batch_size=2))


# against PyTorch

def _torch_plain(b):
    if hasattr(b, "tolist"):
        return b.tolist()
    if isinstance(b, dict):
        return {k: _torch_plain(v) for k, v in b.items()}
    if isinstance(b, (list, tuple)):
        return [_torch_plain(v) for v in b]
    return b


def _kinds(b):
    """The structure of a batch: container types, and 'tensor' plus dtype name at the leaves."""
    if hasattr(b, "dtype") and hasattr(b, "shape"):
        return ("tensor", str(b.dtype).replace("torch.", ""), tuple(b.shape))
    if isinstance(b, dict):
        return {k: _kinds(v) for k, v in b.items()}
    if isinstance(b, (list, tuple)):
        return (type(b).__name__, [_kinds(v) for v in b])
    return type(b).__name__


class Records(D.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"a": np.full(2, i, np.float32), "n": i, "f": i * 0.5, "s": str(i), "b": i % 2 == 0,
                "p": Point(np.int32(i), [i, i + 1]), "t": (np.float64(i),)}


def test_collate_matches_pytorch_values_structure_and_dtypes():
    needs_torch()
    from torch.utils import data as T
    ours = list(D.DataLoader(Records(), batch_size=2))
    theirs = list(T.DataLoader(Records(), batch_size=2))
    assert [_kinds(b) for b in ours] == [_kinds(b) for b in theirs]
    assert _batches(ours) == [_torch_plain(b) for b in theirs]
    assert type(ours[0]["p"]) is type(theirs[0]["p"]) is Point
    assert _batches(D.DataLoader(Records(), batch_size=None))[:2] == [_torch_plain(b) for b in
                                                                       T.DataLoader(Records(), batch_size=None)][:2]


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)])
def test_sequential_batches_and_lengths_match_pytorch(n, batch_size, drop_last):
    torch = needs_torch()
    from torch.utils import data as T
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    ours = D.DataLoader(D.TensorDataset(mg.tensor(x), mg.arange(n)), batch_size=batch_size, drop_last=drop_last)
    theirs = T.DataLoader(T.TensorDataset(torch.tensor(x), torch.arange(n)), batch_size=batch_size,
                          drop_last=drop_last)
    assert len(ours) == len(theirs) and _batches(ours) == [_torch_plain(b) for b in theirs]
    assert [_kinds(b) for b in ours] == [_kinds(b) for b in theirs]
    shuffled = D.DataLoader(D.TensorDataset(mg.arange(n)), batch_size=batch_size, drop_last=drop_last, shuffle=True)
    assert len(shuffled) == len(T.DataLoader(T.TensorDataset(torch.arange(n)), batch_size=batch_size,
                                             drop_last=drop_last, shuffle=True))
    it_ours = D.DataLoader(Count(0, n), batch_size=batch_size, drop_last=drop_last)
    assert _batches(it_ours) == [_torch_plain(b) for b in T.DataLoader(_torch_count(n), batch_size=batch_size,
                                                                       drop_last=drop_last)]
    assert len(it_ours) == len(T.DataLoader(_torch_count(n), batch_size=batch_size, drop_last=drop_last))


def _torch_count(n):
    """Count(0, n) as an IterableDataset of PyTorch's."""
    from torch.utils.data import IterableDataset

    class TorchCount(IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n
    return TorchCount()


def _torch_strided_count(n):
    """Count(0, n) as PyTorch's IterableDataset, split between workers as Count splits it."""
    from torch.utils.data import IterableDataset, get_worker_info

    class TorchStrided(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            return iter(range(0, n) if info is None else range(info.id, n, info.num_workers))
    return TorchStrided()


@pytest.mark.parametrize("batch_size, drop_last", [(2, False), (2, True), (None, False)])
def test_worker_batch_order_matches_pytorch(no_hang, batch_size, drop_last):
    needs_torch()
    from torch.utils import data as T
    ours = D.DataLoader(Count(0, 9), batch_size=batch_size, drop_last=drop_last, num_workers=2)
    theirs = T.DataLoader(_torch_strided_count(9), batch_size=batch_size, drop_last=drop_last, num_workers=2)
    assert _batches(ours) == [_torch_plain(b) for b in theirs]
    mapped = D.DataLoader(Squares(7), batch_size=3, num_workers=2)
    assert _batches(mapped) == [_torch_plain(b) for b in T.DataLoader(Squares(7), batch_size=3, num_workers=2)]


def test_samplers_and_random_split_lengths_match_pytorch():
    needs_torch()
    from torch.utils import data as T
    for args in [(range(10), 3, False), (range(10), 4, True), (range(3), 5, False)]:
        assert list(D.BatchSampler(*args)) == list(T.BatchSampler(*args))
        assert len(D.BatchSampler(*args)) == len(T.BatchSampler(*args))
    for n, lengths in [(10, [0.3, 0.3, 0.4]), (11, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (5, [2, 3]), (13, [0.1] * 10)]:
        assert [len(p) for p in D.random_split(range(n), lengths)] == [len(p) for p in T.random_split(range(n),
                                                                                                       lengths)]
    assert len(D.RandomSampler(range(4), replacement=True, num_samples=9)) == len(
        T.RandomSampler(range(4), replacement=True, num_samples=9))


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2), dict(batch_size=None, drop_last=True),
    dict(batch_size=0), dict(multiprocessing_context="fork"),
])
def test_argument_errors_match_pytorch(kwargs):
    needs_torch()
    from torch.utils import data as T
    with pytest.raises(Exception) as theirs:
        T.DataLoader(list(range(6)), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        D.DataLoader(list(range(6)), **kwargs)
    assert str(ours.value).startswith(str(theirs.value))
