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
PyTorch's find_unused_parameters; one whose .grad exists contributes it as it stands). Buckets start in bucket
order on every rank, whatever order their gradients arrive in, since MPI matches collectives by order. A parameter
no rank used this step keeps .grad None (a small allreduce of who used what, after the buckets). A forward run
inside `no_sync()` (or without grad) is followed by a backward that accumulates locally; the next backward after a
forward outside it averages the accumulated gradients. Before a synchronised forward, rank 0's buffers are broadcast
(broadcast_buffers), as PyTorch does; batch statistics in training are each rank's own shard's.
"""
import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import is_grad_enabled, no_grad
from ...autograd import reverse
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
        self.reset()

    def reset(self):
        self.done = [False] * len(self.params)  # which slots hold this step's gradient
        self.ready, self.request, self.staged = 0, None, None  # ready: how many of `done` are True

    def full(self):
        return self.ready == len(self.params)


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
        self._pass = None  # the backward pass whose gradients the buckets hold (reverse.current_pass())
        self._next = 0  # buckets start in order on every rank: MPI matches collectives by their order
        self._sync_backward = True  # decided at forward time, as PyTorch: no_sync around the forward counts
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                         for b in self._buckets for p in b.params]

    # ---- wrap time ----
    def _state(self):
        return list(self.module.named_parameters()) + list(self.module.named_buffers())

    def _check_same_structure(self):
        mine = [(n, tuple(t.shape), str(t.dtype), bool(t.requires_grad)) for n, t in self._state()]
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
        # As PyTorch's: a forward with grad enabled outside no_sync is followed by a synchronised backward, and
        # rank 0's buffers are broadcast before it.
        self._sync_backward = is_grad_enabled() and self.require_backward_grad_sync
        if self._sync_backward and self.broadcast_buffers and self._group.size > 1:
            with no_grad():
                for _, buf in self.module.named_buffers():
                    dist.broadcast(buf, 0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """A forward run within the block is followed by a backward that accumulates gradients locally (no exchange);
        the backward after the next forward outside it averages the accumulated gradients (PyTorch's rule)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- backward ----
    def _grad_ready(self, p):
        if not self._sync_backward:
            return
        current = reverse.current_pass()
        if current is not self._pass:  # the first gradient of a new backward pass (an aborted one is dropped)
            self._pass = current
            self._next = 0
            for b in self._buckets:
                b.reset()
            reverse.queue_callback(self._finish)
        bucket, k = self._where[id(p)]
        if not bucket.done[k]:
            bucket.done[k] = True
            bucket.ready += 1
        self._copy_in(bucket, k, p)
        while self._next < len(self._buckets) and self._buckets[self._next].full():
            self._start(self._buckets[self._next])
            self._next += 1
        self._progress()

    def _copy_in(self, bucket, k, p):
        """p's .grad (zeros when it has none) into its slot of the bucket."""
        n, off = p.numel(), bucket.offsets[k]
        view = bucket.buffer[off:off + n]
        if p.grad is None:
            view[...] = 0
        else:
            view[...] = p.grad._data.reshape(-1)

    def _start(self, bucket):
        comm = self._group.comm
        buf = bucket.buffer
        if dist._on_device(bucket.backend) and not isinstance(comm, dist._NcclComm):  # device memory over MPI
            bucket.staged = bucket.backend.to_numpy(buf).copy()
            buf = bucket.staged
        bucket.request = comm.allreduce(buf, dist.ReduceOp.SUM, "all_reduce (DistributedDataParallel gradients)")

    def _progress(self):
        """Let MPI move the started buckets along (MPICH progresses non-blocking operations inside MPI calls)."""
        for b in self._buckets:
            if b.request is not None and hasattr(b.request, "Test"):
                b.request.Test()

    def _finish(self):
        comm, size = self._group.comm, self._group.size
        self._pass = None
        for b in self._buckets[self._next:]:  # the rest, in order: parameters without a gradient this step
            for k, p in enumerate(b.params):  # contribute their .grad as it stands (zeros when None), as PyTorch
                if not b.done[k]:
                    self._copy_in(b, k, p)
            self._start(b)
        self._next = len(self._buckets)
        # Which parameters got a gradient on some rank (after every bucket, so the order matches on all ranks): one
        # that none used keeps .grad None, as PyTorch's.
        used = np.array([d for b in self._buckets for d in b.done], np.uint8)
        flags = comm.host if isinstance(comm, dist._NcclComm) else comm  # a host array: over MPI, never NCCL
        used_request = flags.allreduce(used, dist.ReduceOp.MAX, "all_reduce (DistributedDataParallel used parameters)")
        from ...tensor import Tensor
        for b in self._buckets:
            comm.wait(b.request, "all_reduce (DistributedDataParallel gradients)")
        flags.wait(used_request, "all_reduce (DistributedDataParallel used parameters)")
        k_used = 0
        for b in self._buckets:
            if b.staged is not None:
                b.buffer[...] = b.backend.asarray(b.staged, b.buffer.dtype)
            b.buffer /= size
            for k, p in enumerate(b.params):
                anywhere = bool(used[k_used])
                k_used += 1
                flat = b.buffer[b.offsets[k]:b.offsets[k] + p.numel()].reshape(tuple(p.shape))
                if p.grad is None:
                    if anywhere:
                        p.grad = Tensor._make(b.backend.copy(flat), b.backend, False, None, 0)
                else:
                    p.grad._data[...] = flat
            b.reset()


def _describe(entry):
    if entry is None:
        return "missing"
    name, shape, dtype, requires_grad = entry
    return f"{name} {shape} {dtype}" + ("" if requires_grad else " (requires_grad=False)")
