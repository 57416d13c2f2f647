"""A stand-in for cupy.cuda.nccl over MPI, so micrograd.distributed's NCCL path runs its Python code without a GPU.

It offers the names the path uses (get_unique_id, NcclCommunicator with allReduce/bcast/allGather taking device
pointers, counts, NCCL dtype and op codes and a stream), with real NCCL's signatures. The "device pointers" are
the CuPy stand-in's host addresses: each call views them as NumPy arrays and runs the MPI collective on them.
`calls` records what ran, so a test can see the path was taken.
"""
import ctypes
import types

import numpy as np
from mpi4py import MPI

NCCL_INT32, NCCL_INT64, NCCL_UINT8, NCCL_FLOAT32, NCCL_FLOAT64 = 2, 4, 1, 7, 8
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN = 0, 1, 2, 3
_DTYPES = {NCCL_INT32: np.int32, NCCL_INT64: np.int64, NCCL_UINT8: np.uint8, NCCL_FLOAT32: np.float32,
           NCCL_FLOAT64: np.float64}
_OPS = {NCCL_SUM: MPI.SUM, NCCL_PROD: MPI.PROD, NCCL_MAX: MPI.MAX, NCCL_MIN: MPI.MIN}


def _view(ptr, count, dtype, xp=None):
    dt = np.dtype(_DTYPES[dtype])
    buf = (ctypes.c_byte * (count * dt.itemsize)).from_address(ptr)
    return np.frombuffer(buf, dt, count)


def make(xp):
    """A module object standing in for cupy.cuda.nccl; `xp` is the CuPy stand-in the tensors live on."""
    mod = types.ModuleType("nccl_standin", __doc__)
    mod.xp, mod.calls = xp, []
    for name, value in globals().items():
        if name.startswith("NCCL_"):
            setattr(mod, name, value)
    mod.get_unique_id = lambda: tuple(range(128))

    class NcclCommunicator:
        def __init__(self, ndev, commId, rank):  # noqa: N803
            assert isinstance(commId, tuple) and len(commId) == 128, "the unique id reached every rank"
            assert MPI.COMM_WORLD.Get_size() == ndev and MPI.COMM_WORLD.Get_rank() == rank
            self.comm = MPI.COMM_WORLD

        def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):  # noqa: N802
            assert isinstance(sendbuf, int) and isinstance(stream, int), "NCCL takes device pointers and a stream"
            mod.calls.append("allReduce")
            assert sendbuf == recvbuf, "DistributedDataParallel reduces in place"
            self.comm.Allreduce(MPI.IN_PLACE, _view(recvbuf, count, datatype), op=_OPS[op])

        def bcast(self, buff, count, datatype, root, stream):
            mod.calls.append("bcast")
            self.comm.Bcast(_view(buff, count, datatype), root=root)

        def allGather(self, sendbuf, recvbuf, count, datatype, stream):  # noqa: N802
            mod.calls.append("allGather")
            self.comm.Allgather(_view(sendbuf, count, datatype).copy(),
                                _view(recvbuf, count * self.comm.Get_size(), datatype))

    mod.NcclCommunicator = NcclCommunicator
    return mod
