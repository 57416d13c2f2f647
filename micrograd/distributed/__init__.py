"""PyTorch's torch.distributed for data-parallel training, on MPI (mpi4py), with NCCL for gradients on GPUs.

    mpiexec -n 2 python train.py            # or: mpiexec -n 2 python -m mpi4py train.py

    import micrograd.distributed as dist
    dist.init_process_group("mpi")          # "gloo" is an alias on the CPU; "nccl" with the cupy backend
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t)                      # in place, ReduceOp.SUM
    ...
    dist.destroy_process_group()

The launcher is MPI's `mpiexec` (MPICH from the `mpich` wheel, `pip install -e ".[mpich]"`, or a system MPI with
`pip install -e ".[mpi]"`). mpi4py is imported only by init_process_group, and only when a launcher started more
than one process: a program run without one is a world of size 1 that needs no MPI at all.

Faults end the job, never hang it:
- an exception that reaches the top of any rank prints "rank R of N failed" with its traceback and aborts every
  rank (`MPI_Abort`, installed as sys.excepthook; `python -m mpi4py` does the same for its script);
- every MPI collective waits with a deadline (`timeout` of init_process_group, 30 minutes by default): a rank that
  does not join within it (stalled, or looping) makes the waiting ranks abort the job, naming the collective;
- a rank killed by a signal makes `mpiexec` end the others.
NCCL collectives (backend "nccl") are queued on the device's stream and have no deadline of their own: a stalled
rank there is caught only at the next MPI collective (objects, barrier) or by the launcher.

Tensors are reduced on their own storage: NumPy arrays (numpy and numba backends) go to MPI directly; with the
cupy backend, "mpi" stages through host memory and "nccl" runs NCCL on the device's current stream (the unique
id travels over MPI, which keeps start-up, objects and abort).
"""
import datetime
import enum
import os
import pickle
import sys
import time
import traceback

import numpy as np

from ..autograd.inplace import counter

__all__ = ["Backend", "ReduceOp", "all_gather", "all_gather_object", "all_reduce", "barrier", "broadcast",
           "broadcast_object_list", "destroy_process_group", "get_backend", "get_node_local_rank", "get_rank",
           "get_world_size", "init_process_group", "is_available", "is_initialized", "is_mpi_available",
           "is_nccl_available"]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
_LAUNCHER_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_UNIVERSE_SIZE")
_LAUNCHER_LOCAL = (("MPI_LOCALRANKID", "MPI_LOCALNRANKS"), ("OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
                   ("PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"))


class ReduceOp(enum.Enum):
    """How all_reduce combines: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Backend(str):
    """Backend names: Backend.MPI, Backend.GLOO (an alias of MPI on the CPU), Backend.NCCL."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"


def launcher_size():
    """The world size a launcher (mpiexec, srun) announced in the environment, or None."""
    for name in _LAUNCHER_SIZE:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return None


def launcher_local():
    """(local rank, local size) on this host from the launcher's environment, or None."""
    for rank, size in _LAUNCHER_LOCAL:
        if os.environ.get(rank, "").isdigit() and os.environ.get(size, "").isdigit():
            return int(os.environ[rank]), int(os.environ[size])
    return None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"micrograd.distributed: mpi4py is needed for more than one process ({exc}); install it "
                          "with pip install -e \".[mpich]\" (mpi4py with MPICH's wheel) or pip install -e \".[mpi]\" "
                          "(mpi4py over a system MPI)") from None
    return MPI


# ---- communicators over host arrays -----------------------------------------------------------------------------

class _SelfComm:
    """A world of one process: every collective is the identity; no MPI."""

    rank, size = 0, 1

    def allreduce(self, buf, op, what):
        return None

    def wait(self, request, what):
        return None

    def bcast(self, buf, root, what):
        return None

    def allgather(self, send, recv, what):
        recv[...] = send.reshape(recv.shape)

    def bcast_obj(self, obj, root, what):
        return obj

    def allgather_obj(self, obj, what):
        return [obj]

    def barrier(self):
        return None

    def abort(self, code=1):
        os._exit(code)


class _MpiComm:
    """MPI.COMM_WORLD with non-blocking collectives waited on with a deadline (the stall detector)."""

    def __init__(self, MPI, timeout):  # noqa: N803
        self.MPI, self.comm, self.timeout = MPI, MPI.COMM_WORLD, timeout
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}

    def wait(self, request, what):
        """Wait for a non-blocking operation; past the deadline, abort the job naming `what`. It polls MPI (which
        progresses the operation only inside its calls) without pause for 5 ms, then yields the core between polls,
        then, after 100 ms, sleeps 100 us between them: a short wait costs no more than a blocking call, a long one
        leaves the core to the other processes."""
        test = request.Test if hasattr(request, "Test") else (lambda: request.test()[0])
        if test():
            return
        start = time.monotonic()
        deadline = start + self.timeout
        while not test():
            now = time.monotonic()
            if now > deadline:
                self.fail(f"{what} did not complete within {self.timeout:g} s: another rank stalled, died or never "
                          f"called it")
            if now - start > 0.1:
                time.sleep(1e-4)
            elif now - start > 0.005:
                os.sched_yield()

    def fail(self, message):
        sys.stderr.write(f"micrograd.distributed: rank {self.rank} of {self.size}: {message}; aborting the job\n")
        sys.stderr.flush()
        self.comm.Abort(1)

    def allreduce(self, buf, op, what):
        """Start an in-place allreduce of the contiguous array `buf`; returns the request (see wait)."""
        return self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self._ops[op])

    def bcast(self, buf, root, what):
        self.wait(self.comm.Ibcast(buf, root=root), what)

    def allgather(self, send, recv, what):
        self.wait(self.comm.Iallgather(send, recv), what)

    def bcast_obj(self, obj, root, what):
        data = np.frombuffer(pickle.dumps(obj), np.uint8) if self.rank == root else None
        n = np.array([0 if data is None else data.size], np.int64)
        self.bcast(n, root, what)
        buf = data.copy() if data is not None else np.empty(int(n[0]), np.uint8)
        self.bcast(buf, root, what)
        return obj if self.rank == root else pickle.loads(buf.tobytes())

    def allgather_obj(self, obj, what):
        data = np.frombuffer(pickle.dumps(obj), np.uint8)
        sizes = np.empty(self.size, np.int64)
        self.allgather(np.array([data.size], np.int64), sizes, what)
        out = np.empty(int(sizes.sum()), np.uint8)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.wait(self.comm.Iallgatherv(data, [out, sizes, offsets, self.MPI.BYTE]), what)
        return [pickle.loads(out[o:o + s].tobytes()) for o, s in zip(offsets, sizes)]

    def barrier(self):
        self.wait(self.comm.Ibarrier(), "barrier")

    def abort(self, code=1):
        self.comm.Abort(code)


class _NcclComm:
    """NCCL for device arrays (cupy.cuda.nccl's communicator, the unique id broadcast over `host`, an _MpiComm or
    _SelfComm), on the current stream: enqueued in order with the computation, no host copies."""

    def __init__(self, host, nccl, xp):
        self.host, self.nccl, self.xp = host, nccl, xp
        self.rank, self.size = host.rank, host.size
        uid = nccl.get_unique_id() if host.rank == 0 else None
        uid = host.bcast_obj(uid, 0, "init_process_group (the NCCL unique id)")
        self.comm = nccl.NcclCommunicator(host.size, uid, host.rank)
        self._types = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
                       np.dtype(np.int32): nccl.NCCL_INT32, np.dtype(np.int64): nccl.NCCL_INT64,
                       np.dtype(np.uint8): nccl.NCCL_UINT8}
        self._ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.AVG: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                     ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX}

    def _args(self, a, what):
        if not isinstance(a, self.xp.ndarray):
            raise TypeError(f"micrograd.distributed.{what}: backend 'nccl' takes device arrays; got "
                            f"{type(a).__name__}")
        if a.dtype not in self._types:
            raise TypeError(f"micrograd.distributed.{what}: NCCL does not reduce {a.dtype}")
        return _address(a), a.size, self._types[a.dtype], self.xp.cuda.get_current_stream().ptr

    def allreduce(self, buf, op, what):
        ptr, n, dt, stream = self._args(buf, what)
        self.comm.allReduce(ptr, ptr, n, dt, self._ops[op], stream)
        return None  # ordered on the stream: nothing to wait for on the host

    def wait(self, request, what):
        return None

    def bcast(self, buf, root, what):
        ptr, n, dt, stream = self._args(buf, what)
        self.comm.bcast(ptr, n, dt, root, stream)

    def allgather(self, send, recv, what):
        sptr, n, dt, stream = self._args(send, what)
        self.comm.allGather(sptr, _address(recv), n, dt, stream)

    def bcast_obj(self, obj, root, what):
        return self.host.bcast_obj(obj, root, what)

    def allgather_obj(self, obj, what):
        return self.host.allgather_obj(obj, what)

    def barrier(self):
        self.xp.cuda.get_current_stream().synchronize()
        self.host.barrier()

    def abort(self, code=1):
        self.host.abort(code)


def _address(a):
    ptr = getattr(getattr(a, "data", None), "ptr", None)
    return ptr if ptr is not None else a.ctypes.data


class _Group:
    def __init__(self, backend, comm, timeout):
        self.backend, self.comm, self.timeout = backend, comm, timeout
        self.rank, self.size = comm.rank, comm.size


_group = None
_previous_excepthook = None


def _abort_on_exception(comm):
    """sys.excepthook: print the rank and the traceback, then end every rank of the job (not a hang)."""
    global _previous_excepthook
    _previous_excepthook = sys.excepthook

    def hook(kind, value, tb):
        sys.stderr.write(f"micrograd.distributed: rank {comm.rank} of {comm.size} failed with "
                         f"{kind.__name__}: {value}; aborting the job\n")
        traceback.print_exception(kind, value, tb)
        sys.stderr.flush()
        comm.abort(1)

    sys.excepthook = hook


def is_available():
    """micrograd.distributed can run (a world of size 1 always can)."""
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_nccl_available():
    try:
        from cupy.cuda import nccl  # noqa: F401
    except Exception:
        return False
    return True


def is_initialized():
    return _group is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None, *, _nccl=None):
    """Join the job mpiexec started (or make a world of size 1 when no launcher did).

    Args:
        backend: "mpi" (the default), "gloo" (its alias on the CPU) or "nccl" (gradients of cupy tensors on the
            device through NCCL; MPI carries the rest).
        timeout: a datetime.timedelta (or seconds): how long a collective waits for the other ranks before
            aborting the job (30 minutes by default).
        world_size, rank: checked against the launcher's when given (MPI assigns them).
        init_method, store, group_name, pg_options, device_id: PyTorch's rendezvous arguments; MPI's launcher does
            the rendezvous, so they must be left at their defaults (init_method "env://" is accepted).
    """
    global _group
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name == "gloo":
        name = "mpi"
    if name not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: backend {backend!r} is not available in micrograd; use 'mpi' (or its "
                         f"alias 'gloo') or 'nccl'")
    if init_method not in (None, "env://") or store is not None or pg_options is not None:
        raise ValueError("init_process_group: MPI's launcher (mpiexec) does the rendezvous; init_method, store and "
                         "pg_options are not used by micrograd (leave them unset)")
    seconds = DEFAULT_TIMEOUT.total_seconds() if timeout is None else (
        timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout))
    if not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be positive; got {timeout}")
    size = launcher_size()
    if size is None or size == 1:
        comm = _SelfComm()
    else:
        comm = _MpiComm(_mpi(), seconds)
    if world_size not in (-1, None) and world_size != comm.size:
        raise ValueError(f"init_process_group: world_size={world_size}, but the launcher started {comm.size} "
                         f"process(es)")
    if rank not in (-1, None) and rank != comm.rank:
        raise ValueError(f"init_process_group: rank={rank}, but MPI gave this process rank {comm.rank}")
    if comm.size > 1:
        _abort_on_exception(comm)
    if name == "nccl":
        if _nccl is None:  # the real one; tests pass a stand-in module carrying the array module it works on
            try:
                from cupy.cuda import nccl as _nccl
            except Exception as exc:
                raise RuntimeError(f"init_process_group: backend 'nccl' needs CuPy with NCCL "
                                   f"(cupy.cuda.nccl): {exc}") from None
            from ..backend import backend_object
            xp = backend_object("cupy").xp
        else:
            xp = _nccl.xp
        comm = _NcclComm(comm, _nccl, xp)
    _group = _Group(name, comm, seconds)


def destroy_process_group(group=None):
    """Leave the process group (a barrier first, so no rank leaves while others still exchange)."""
    global _group
    g = _default(group, "destroy_process_group")
    g.comm.barrier()
    global _previous_excepthook
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None
    _group = None


def _default(group, what):
    if group is not None and group is not _group:
        raise ValueError(f"micrograd.distributed.{what}: only the default group (group=None) exists")
    if _group is None:  # PyTorch's ValueError
        raise ValueError(f"micrograd.distributed.{what}: Default process group has not been initialized, please "
                         "make sure to call init_process_group.")
    return _group


def get_rank(group=None):
    """This process's rank, 0 … world size - 1."""
    return _default(group, "get_rank").rank


def get_world_size(group=None):
    return _default(group, "get_world_size").size


def get_backend(group=None):
    return _default(group, "get_backend").backend


def get_node_local_rank(fallback_rank=None):
    """The rank among this host's processes (PyTorch's, from the launcher's environment)."""
    local = launcher_local()
    if local is not None:
        return local[0]
    if os.environ.get("LOCAL_RANK", "").isdigit():
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("get_node_local_rank: the launcher set no local rank (MPI_LOCALRANKID, "
                       "OMPI_COMM_WORLD_LOCAL_RANK, LOCAL_RANK) and no fallback_rank was given")


# ---- collectives on tensors ---------------------------------------------------------------------------------------

class _Work:
    """What async_op=True returns: wait() completes the operation."""

    def __init__(self, finish=None):
        self._finish = finish

    def wait(self, timeout=None):
        if self._finish is not None:
            self._finish()
            self._finish = None
        return True

    def is_completed(self):
        return self._finish is None


def _check_tensor(t, what):
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"micrograd.distributed.{what}: expected a Tensor, got {type(t).__name__}")


def _on_device(backend):
    """Whether the backend's arrays live on a device (cupy), not in host memory."""
    return not str(backend.device).startswith("cpu")


def _staged(g, t):
    """The array the communicator works on for tensor t (its own storage where it can), and a function writing a
    result back into t (None when the array is t's storage)."""
    a = t._data
    device = _on_device(t._backend)
    if device and not isinstance(g.comm, _NcclComm):
        host = np.ascontiguousarray(t._backend.to_numpy(a))
        return host, lambda: t._data.__setitem__(Ellipsis, t._backend.asarray(host, a.dtype).reshape(a.shape))
    if not device and isinstance(g.comm, _NcclComm):
        raise TypeError(f"micrograd.distributed: backend 'nccl' takes tensors on a CUDA device (the cupy backend); "
                        f"got one on {t._backend.device} (backend {t._backend.name!r})")
    if a.flags.c_contiguous:
        return a, None
    flat = t._backend.copy(a)
    return flat, lambda: t._data.__setitem__(Ellipsis, flat)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across ranks in place (every rank gets the result): ReduceOp.SUM (default), AVG, PRODUCT,
    MIN, MAX. With async_op=True, returns a work object whose wait() completes it."""
    g = _default(group, "all_reduce")
    _check_tensor(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise ValueError(f"micrograd.distributed.all_reduce: op must be a ReduceOp; got {op!r}")
    buf, write_back = _staged(g, tensor)
    request = g.comm.allreduce(buf, op, "all_reduce")

    def finish():
        g.comm.wait(request, "all_reduce")
        if op is ReduceOp.AVG:
            buf[...] = buf / g.size if buf.dtype.kind == "f" else buf // g.size
        if write_back is not None:
            write_back()
        counter(tensor)[0] += 1

    work = _Work(finish)
    return work if async_op else work.wait() and None


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank `src`'s `tensor` into every rank's, in place."""
    g = _default(group, "broadcast")
    _check_tensor(tensor, "broadcast")
    _check_rank(g, src, "broadcast", "src")
    buf, write_back = _staged(g, tensor)
    g.comm.bcast(buf, src, "broadcast")
    if write_back is not None:
        write_back()
    counter(tensor)[0] += 1
    return _Work() if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill tensor_list (world size tensors shaped as `tensor`) with every rank's `tensor`, in rank order."""
    g = _default(group, "all_gather")
    _check_tensor(tensor, "all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(f"micrograd.distributed.all_gather: tensor_list has {len(tensor_list)} tensors; the world "
                         f"size is {g.size}")
    for t in tensor_list:
        _check_tensor(t, "all_gather")
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise ValueError(f"micrograd.distributed.all_gather: every output must be shaped {tuple(tensor.shape)} "
                             f"with dtype {tensor.dtype}; got {tuple(t.shape)} {t.dtype}")
    send, _ = _staged(g, tensor)
    send = send.reshape(-1)
    recv = np.empty((g.size,) + send.shape, send.dtype) if isinstance(send, np.ndarray) else \
        tensor._backend.xp.empty((g.size,) + send.shape, send.dtype)
    g.comm.allgather(send, recv, "all_gather")
    for k, t in enumerate(tensor_list):
        part = recv[k].reshape(tuple(tensor.shape))
        t._data[...] = part if isinstance(t._data, type(part)) else t._backend.asarray(part, t._data.dtype)
        counter(t)[0] += 1
    return _Work() if async_op else None


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Replace each entry of object_list, in place, with rank `src`'s (picklable objects)."""
    g = _default(group, "broadcast_object_list")
    _check_rank(g, src, "broadcast_object_list", "src")
    got = g.comm.bcast_obj(list(object_list), src, "broadcast_object_list")
    if len(got) != len(object_list):
        raise ValueError(f"micrograd.distributed.broadcast_object_list: rank {src} sent {len(got)} objects; this "
                         f"rank's list has {len(object_list)}")
    object_list[:] = got


def all_gather_object(object_list, obj, group=None):
    """Fill object_list (world size entries) with every rank's `obj`, in rank order."""
    g = _default(group, "all_gather_object")
    if len(object_list) != g.size:
        raise ValueError(f"micrograd.distributed.all_gather_object: object_list has {len(object_list)} entries; "
                         f"the world size is {g.size}")
    object_list[:] = g.comm.allgather_obj(obj, "all_gather_object")


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank reaches this call (within the timeout)."""
    _default(group, "barrier").comm.barrier()
    return _Work() if async_op else None


def _check_rank(g, r, what, name):
    if not isinstance(r, (int, np.integer)) or not 0 <= r < g.size:
        raise ValueError(f"micrograd.distributed.{what}: {name}={r!r} is not a rank of a world of {g.size}")
