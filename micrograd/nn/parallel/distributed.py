"""PyTorch's DistributedDataParallel: one model replica per rank, gradients averaged across ranks during backward.

At wrap time every rank checks that all ranks hold the same parameters and buffers (names, shapes, dtypes): a
difference is an error naming the first one, on every rank, before any exchange that could hang. Rank 0's values
are then broadcast to all.

Gradients travel in buckets: the parameters that require grad, in reverse registration order (roughly the order
backward finishes them), cut into buckets of one dtype each, the first about 1 MiB (so the first exchange starts
early), the others about `bucket_cap_mb`. Each bucket owns a persistent flat buffer. A parameter's
post-accumulate-grad hook copies its new gradient into its bucket; when a bucket's last parameter is ready, its
non-blocking allreduce starts, while backward goes on computing the rest (the later hooks also drive MPI's
progress). At the end of backward every bucket is waited for, divided by the world size and copied back into
`.grad`. A parameter that got no gradient this step is reduced as zeros (its `.grad` becomes zeros, as with
PyTorch's find_unused_parameters). Inside `no_sync()` gradients accumulate locally; the next backward outside it
averages the accumulated ones. With broadcast_buffers, rank 0's buffers are broadcast before each forward, as
PyTorch does; batch statistics in training are each rank's own shard's.
"""
import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import no_grad
from ...autograd.reverse import queue_callback
from ..module import Module

FIRST_BUCKET_BYTES = 1 << 20  # PyTorch's first bucket: about 1 MiB


class _Bucket:
    def __init__(self, params, backend, dtype):
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.buffer = backend.zeros((n,), dtype)
        self.backend = backend
        self.ready = 0
        self.request = None
        self.staged = None

    def reset(self):
        self.ready, self.request, self.staged = 0, None, None


class DistributedDataParallel(Module):
    """module, replicated: wrap after moving it to its backend and before making the optimizer.

    Args (PyTorch's): module; device_ids, output_device (accepted, unused: a rank uses its backend's device);
        broadcast_buffers (rank 0's buffers before each forward); bucket_cap_mb (25); find_unused_parameters
        (accepted: unused parameters are always handled, reduced as zeros); gradient_as_bucket_view (accepted).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        self.module = module
        self._group = dist._default(process_group, "DistributedDataParallel")
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.require_backward_grad_sync = True
        self._check_same_structure()
        with no_grad():
            for _, t in self._state():
                dist.broadcast(t, 0)
        self._buckets, self._where = self._make_buckets()
        self._pending = False
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                         for b in self._buckets for p in b.params]

    # ---- wrap time ----
    def _state(self):
        return list(self.module.named_parameters()) + list(self.module.named_buffers())

    def _check_same_structure(self):
        mine = [(n, tuple(t.shape), str(t.dtype)) for n, t in self._state()]
        every = [None] * self._group.size
        dist.all_gather_object(every, mine)
        for r, theirs in enumerate(every):
            if theirs == mine:
                continue
            for k in range(max(len(mine), len(theirs))):
                a = mine[k] if k < len(mine) else None
                b = theirs[k] if k < len(theirs) else None
                if a != b:
                    raise RuntimeError(
                        f"DistributedDataParallel: rank {self._group.rank} and rank {r} hold different models: entry "
                        f"{k} of the parameters and buffers is {_describe(a)} here and {_describe(b)} on rank {r}. "
                        f"Every rank must build the same model.")

    def _make_buckets(self):
        params = [p for _, p in self.module.named_parameters() if p.requires_grad][::-1]
        buckets, current, size, cap = [], [], 0, FIRST_BUCKET_BYTES
        for p in params:
            nbytes = p.numel() * p._data.dtype.itemsize
            if current and (size + nbytes > cap or p._data.dtype != current[0]._data.dtype):
                buckets.append(current)
                current, size, cap = [], 0, int(self.bucket_cap_mb * (1 << 20))
            current.append(p)
            size += nbytes
        if current:
            buckets.append(current)
        made = [_Bucket(b, b[0]._backend, b[0]._data.dtype) for b in buckets]
        where = {id(p): (b, k) for b in made for k, p in enumerate(b.params)}
        return made, where

    # ---- forward ----
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self._group.size > 1 and self.module.training:
            with no_grad():
                for _, buf in self.module.named_buffers():
                    dist.broadcast(buf, 0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Within the block, backward accumulates gradients locally (no exchange); the first backward after it
        averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- backward ----
    def _grad_ready(self, p):
        if not self.require_backward_grad_sync:
            return
        if not self._pending:
            self._pending = True
            for b in self._buckets:
                b.reset()
            queue_callback(self._finish)
        bucket, k = self._where[id(p)]
        self._copy_in(bucket, k, p)
        bucket.ready += 1
        if bucket.ready == len(bucket.params):
            self._start(bucket)
        self._progress()

    def _copy_in(self, bucket, k, p):
        n, off = p.numel(), bucket.offsets[k]
        view = bucket.buffer[off:off + n]
        if p.grad is None:
            view[...] = 0
        else:
            view[...] = p.grad._data.reshape(-1)

    def _start(self, bucket):
        comm = self._group.comm
        buf = bucket.buffer
        if not isinstance(buf, np.ndarray) and not isinstance(comm, dist._NcclComm):  # device array over MPI
            bucket.staged = np.ascontiguousarray(bucket.backend.to_numpy(buf))
            buf = bucket.staged
        bucket.request = comm.allreduce(buf, dist.ReduceOp.SUM, "all_reduce (DistributedDataParallel gradients)")

    def _progress(self):
        """Let MPI move the started buckets along (MPICH progresses non-blocking operations inside MPI calls)."""
        for b in self._buckets:
            if b.request is not None and hasattr(b.request, "Test"):
                b.request.Test()

    def _finish(self):
        self._pending = False
        comm, size = self._group.comm, self._group.size
        for b in self._buckets:
            if b.request is None and b.ready < len(b.params):  # parameters without a gradient this step: zeros
                for k, p in enumerate(b.params):
                    if p.grad is None:
                        b.buffer[b.offsets[k]:b.offsets[k] + p.numel()] = 0
                self._start(b)
        for b in self._buckets:
            comm.wait(b.request, "all_reduce (DistributedDataParallel gradients)")
            if b.staged is not None:
                b.buffer[...] = b.backend.asarray(b.staged)
            b.buffer /= size
            for k, p in enumerate(b.params):
                flat = b.buffer[b.offsets[k]:b.offsets[k] + p.numel()].reshape(tuple(p.shape))
                if p.grad is None:
                    from ...tensor import Tensor
                    p.grad = Tensor._make(b.backend.copy(flat), b.backend, False, None, 0)
                else:
                    p.grad._data[...] = flat
            b.reset()


def _describe(entry):
    if entry is None:
        return "missing"
    name, shape, dtype = entry
    return f"{name} {shape} {dtype}"
