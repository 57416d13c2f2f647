"""The main-process side of loading with worker processes: hand out batches of keys, put the results back in
sampler order, surface workers' errors and deaths, and shut the workers down.

Batch k goes to worker k mod num_workers (skipping workers whose iterable dataset is exhausted); at most
`prefetch_factor * num_workers` batches are out at once. Waiting for a result never blocks for good: with
`timeout` it raises after that many seconds, without it the workers' liveness is checked every second. The
workers stop when the pass ends (unless persistent), when the iterator is garbage-collected, or on an error in
the main process's handling.
"""
import itertools
import multiprocessing
import pickle
import queue

from ... import backend as _registry
from ... import random as rng
from ...errors import AssertionValueError
from .worker import (POLL_SECONDS, ExceptionWrapper, IterableDatasetStopIteration, ResumeIteration,
                     worker_loop)

JOIN_SECONDS = 5.0  # how long a stopping worker may take before it is terminated


class MultiProcessingIter:
    """One pass over a DataLoader (every pass, with persistent workers) served by `num_workers` processes."""

    def __init__(self, loader):
        self._shutdown = True  # until the workers exist, there is nothing to shut down
        if loader.prefetch_factor < 1:
            raise AssertionValueError(f"DataLoader: prefetch_factor must be greater than 0 with worker processes; "
                                      f"got prefetch_factor={loader.prefetch_factor}")
        self._index_sampler = loader._index_sampler
        self._num_workers, self._timeout = loader.num_workers, loader.timeout
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._persistent = loader.persistent_workers
        self._base_seed = int(rng.host(loader.generator).integers(0, 2 ** 63))
        self._epoch = 0
        self._workers, self._index_queues = [], []
        try:
            self._start_workers(loader)
        except BaseException:
            if self._workers:  # one failed to start (say, an unpicklable dataset under spawn): stop the others
                self._shutdown = False
                self._shutdown_workers()
            raise
        self._shutdown = False
        self._begin()

    def _start_workers(self, loader):
        ctx = loader.multiprocessing_context or multiprocessing
        setup = {"dataset": loader.dataset, "iterable": loader._iterable, "auto_collation": loader._auto_collation,
                 "collate_fn": loader.collate_fn, "drop_last": loader.drop_last, "num_workers": loader.num_workers,
                 "worker_init_fn": loader.worker_init_fn, "backend": _registry.get_backend()}
        self._result_queue, self._done_event = ctx.Queue(), ctx.Event()
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()  # never block this process's exit on tasks no worker will take
            w = ctx.Process(target=worker_loop, daemon=True, args=(
                setup, index_queue, self._result_queue, self._done_event, worker_id, self._base_seed))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)

    def _begin(self):
        """Start a pass: a fresh sampler iterator, every worker active, the first batches handed out."""
        self._sampler_iter = iter(self._index_sampler)
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._send_idx = self._rcvd_idx = self._outstanding = 0
        self._task_info = {}  # task -> (worker,) while out, (worker, payload) once it came back out of order
        for _ in range(self._prefetch):
            self._put_task()

    def reset(self, loader):
        """Persistent workers: a new pass over the same workers. Results of an abandoned pass are discarded."""
        self._index_sampler = loader._index_sampler
        self._epoch += 1
        marker = ResumeIteration(self._epoch)
        for index_queue in self._index_queues:
            index_queue.put(marker)
        answered = 0
        while answered < self._num_workers:
            task, _ = self._get()
            answered += task == marker  # each worker answers after everything it was given before
        self._begin()

    @property
    def stopped(self):
        """Whether the workers are gone (the pass ended, or a timeout or a dead worker ended it)."""
        return self._shutdown

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")

    def _put_task(self):
        if self._outstanding >= self._prefetch:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._next_worker)
            if self._active[worker_id]:
                break
        else:
            return  # every worker's stream is exhausted
        try:
            keys = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[worker_id].put((self._send_idx, keys))
        self._task_info[self._send_idx] = (worker_id,)
        self._outstanding += 1
        self._send_idx += 1

    def _get(self):
        """The next (task, payload) any worker sends; raises if the wait passes `timeout` or a worker died."""
        waited = 0.0
        while True:
            wait = POLL_SECONDS if self._timeout <= 0 else min(POLL_SECONDS, self._timeout - waited)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                waited += wait
            dead = [w for w, active in zip(self._workers, self._active) if active and not w.is_alive()]
            if dead:
                self._shutdown_workers()
                pids = ", ".join(str(w.pid) for w in dead)
                codes = ", ".join(str(w.exitcode) for w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit codes {codes})")
            if 0 < self._timeout <= waited:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _ready(self):
        """The next task in order that can still arrive or has arrived; None when the pass is over."""
        while self._rcvd_idx < self._send_idx:
            info = self._task_info.get(self._rcvd_idx)
            if info is not None and (len(info) == 2 or self._active[info[0]]):
                return info
            self._task_info.pop(self._rcvd_idx, None)  # sent to a worker whose stream ended first: never comes
            self._rcvd_idx += 1
        return None

    def __next__(self):
        while True:
            if self._shutdown:  # stopped by an error (a timeout, a dead worker): this pass is over
                raise StopIteration
            info = self._ready()
            if info is None:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._unpack(info[1])
            task, payload = self._get()
            if isinstance(task, ResumeIteration):
                continue
            self._outstanding -= 1
            if isinstance(payload, IterableDatasetStopIteration):
                self._retire(payload.worker_id)
                self._put_task()
            elif task == self._rcvd_idx:
                del self._task_info[task]
                self._rcvd_idx += 1
                return self._unpack(payload)
            elif task in self._task_info:
                self._task_info[task] += (payload,)

    def _retire(self, worker_id):
        """A worker's iterable dataset is exhausted: give it no more tasks (and let it exit unless persistent)."""
        self._active[worker_id] = False
        if not self._persistent:
            self._index_queues[worker_id].put(None)

    def _unpack(self, payload):
        self._put_task()
        if isinstance(payload, ExceptionWrapper):
            payload.reraise()
        return pickle.loads(payload)

    def _shutdown_workers(self):
        """Stop every worker (asked first, terminated after JOIN_SECONDS) and close the queues; idempotent."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for index_queue, w in zip(self._index_queues, self._workers):
            if w.is_alive():
                index_queue.put(None)
        for w in self._workers:
            w.join(timeout=JOIN_SECONDS)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # at interpreter exit the modules this needs may be gone; daemonic workers die anyway
            pass
