"""The worker side of multi-process loading: `get_worker_info()`, the loop each worker process runs, and how
batches and errors travel back to the main process.

A worker takes `(task, keys)` from its own queue, fetches and collates that batch, and puts `(task, payload)` on
the queue all workers share. Payloads are pickled in the worker, so a batch that cannot be pickled becomes an
error there rather than a batch that never arrives; a tensor travels as its values (a NumPy array), its
backend's name and its requires_grad flag, and is rebuilt in the main process.
"""
import io
import multiprocessing
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ... import backend as _registry
from ... import random as rng
from ...tensor import Tensor
from .fetch import create_fetcher

POLL_SECONDS = 1.0  # how often a waiting worker checks that the main process is alive, and vice versa


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself: `id` (0 .. num_workers - 1), `num_workers`, `seed` (its default
    generator's seed) and `dataset` (its own copy of the dataset)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """The current worker's `WorkerInfo` inside a DataLoader worker process; None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback as text."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        self.where = where
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            pickle.dumps(exc_type)  # a class defined inside a function cannot travel; RuntimeError stands in
            self.exc_type = exc_type
        except (pickle.PicklingError, AttributeError, TypeError):
            self.exc_type = None

    def reraise(self):
        """Raise the worker's exception type (RuntimeError where it cannot be rebuilt) with the worker and the
        original traceback in its message."""
        name = self.exc_type.__name__ if self.exc_type is not None else "exception"
        msg = f"Caught {name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg) if self.exc_type is not None else None
        except Exception:
            exception = None
        if exception is None:
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError quotes its message (repr); this keeps the traceback text readable."""

    def __repr__(self):
        return self


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Persistent workers: start a new pass (a fresh fetcher); the worker answers with this same marker."""

    epoch: int


def _rebuild_tensor(values, backend, requires_grad):
    return Tensor(values, backend=backend, requires_grad=requires_grad)


class _BatchPickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _rebuild_tensor, (obj._host(), obj.backend, obj.requires_grad)
        return NotImplemented


def dumps(data):
    """`data` pickled, each tensor as its values, backend name and requires_grad flag."""
    buffer = io.BytesIO()
    _BatchPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(data)
    return buffer.getvalue()


def _seed_worker(base_seed, worker_id):
    """Seed this worker's random streams (micrograd's, Python's, NumPy's global one) apart from the others'."""
    seed = (base_seed + worker_id) % 2 ** 64
    rng.manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _fetch_payload(fetcher, task, worker_id, iterable):
    """What answers one task: the pickled batch, an exhausted-stream marker, or the error that occurred."""
    try:
        return dumps(fetcher.fetch(task))
    except StopIteration:
        if iterable:
            return IterableDatasetStopIteration(worker_id)
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    except Exception:
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")


def _start(setup, worker_id, base_seed):
    """Make this process a worker: the main process's backend, its own seeds, `get_worker_info()`, the user's
    `worker_init_fn`; returns the fetcher, or the error that stopped one being made."""
    global _worker_info
    try:
        _registry.set_backend(setup["backend"])
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, setup["num_workers"], seed, setup["dataset"])
        if setup["worker_init_fn"] is not None:
            setup["worker_init_fn"](worker_id)
    except Exception:
        return None, ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    return _restart(setup, worker_id)


def _new_fetcher(setup):
    return create_fetcher(setup["iterable"], setup["dataset"], setup["auto_collation"], setup["collate_fn"],
                          setup["drop_last"])


def _restart(setup, worker_id):
    try:
        return _new_fetcher(setup), None
    except Exception:
        return None, ExceptionWrapper(f"in DataLoader worker process {worker_id}")


def _no_fetcher(worker_id):
    try:
        raise RuntimeError(f"DataLoader worker {worker_id} could not start; its first batch carried the reason")
    except RuntimeError:
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")


def worker_loop(setup, index_queue, result_queue, done_event, worker_id, base_seed):
    """The body of worker process `worker_id`: answer tasks until told to stop (None) or the parent is gone.

    Args:
        setup: a dict with `dataset`, `iterable`, `auto_collation`, `collate_fn`, `drop_last`, `num_workers`,
            `worker_init_fn` and `backend` (the main process's default backend, made this process's too).
    """
    try:
        _serve(setup, index_queue, result_queue, done_event, worker_id, base_seed)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main process reports it
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()  # the main process stopped reading: exit without flushing
    result_queue.close()


def _serve(setup, index_queue, result_queue, done_event, worker_id, base_seed):
    parent = multiprocessing.parent_process()
    fetcher, error = _start(setup, worker_id, base_seed)
    ended = False
    while True:
        try:
            message = index_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():  # nobody will read what we make
                return
            continue
        if message is None:
            return
        if isinstance(message, ResumeIteration):
            ended = False
            fetcher, error = _restart(setup, worker_id)
            result_queue.put((message, None))
            continue
        if done_event.is_set() or ended:
            continue
        task, keys = message
        if error is not None:
            payload, error = error, None  # the first task reports it; later ones find no fetcher
        elif fetcher is None:
            payload = _no_fetcher(worker_id)
        else:
            payload = _fetch_payload(fetcher, keys, worker_id, setup["iterable"])
        ended = isinstance(payload, IterableDatasetStopIteration)
        result_queue.put((task, payload))
