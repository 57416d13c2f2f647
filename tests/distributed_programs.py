"""Programs that tests/test_distributed.py runs under `mpiexec -n 2` (one scenario per call), and the models and data
they share with the single-process references the tests compute.

    mpiexec -n 2 python tests/distributed_programs.py SCENARIO [ARGS...]
"""
import os
import signal
import sys
import time

import numpy as np

import micrograd as mg
import micrograd.distributed as dist
from micrograd import nn
from micrograd.nn.parallel import DistributedDataParallel as DDP

GLOBAL_BATCH = 8
STEPS = 20


def make_model(kind, dtype):
    mg.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    elif kind == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
    elif kind == "lstm":
        model = _LSTMClassifier()
    elif kind == "bn":
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    else:
        raise ValueError(kind)
    return model.to(dtype)


class _LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def batches(kind, dtype, steps=STEPS):
    rng = np.random.default_rng(1)
    shape = {"mlp": (6,), "bn": (6,), "cnn": (1, 8, 8), "lstm": (5, 4)}[kind]
    for _ in range(steps):
        yield rng.standard_normal((GLOBAL_BATCH,) + shape).astype(dtype), rng.integers(0, 3, GLOBAL_BATCH)


def train(model, kind, dtype, rank=0, world=1):
    """SGD on the global batch (world 1) or on rank's contiguous shard of it; returns the final parameters."""
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    per = GLOBAL_BATCH // world
    for x, y in batches(kind, dtype):
        xs, ys = x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(mg.tensor(xs)), mg.tensor(ys))
        loss.backward()
        opt.step()
    return {n: p.detach().numpy().copy() for n, p in model.named_parameters()}


def _out(path, **arrays):
    np.savez(path, **arrays)


def scenario_train(kind, dtype, out):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    model = DDP(make_model(kind, dtype))
    train(model, kind, np.dtype(dtype), rank, world)
    params = {n: p.detach().numpy() for n, p in model.module.named_parameters()}
    _out(f"{out}.{rank}.npz", **params)
    dist.destroy_process_group()


def scenario_collectives(out):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    res = {}
    for dt in (mg.float32, mg.float64):
        t = mg.arange(6, dtype=dt).reshape(2, 3) * (rank + 1)
        dist.all_reduce(t)
        res[f"sum_{dt}"] = t.numpy()
        t = mg.arange(6, dtype=dt) * (rank + 1)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        res[f"max_{dt}"] = t.numpy()
        t = mg.arange(6, dtype=dt) * (rank + 1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        res[f"avg_{dt}"] = t.numpy()
        base = mg.arange(12, dtype=dt).reshape(3, 4) * (rank + 1)
        view = base[:, ::2]  # not contiguous: staged, then written back into the view
        work = dist.all_reduce(view, async_op=True)
        work.wait()
        res[f"view_{dt}"] = base.numpy()
        t = mg.full((3,), float(rank + 5), dtype=dt)
        dist.broadcast(t, src=1)
        res[f"bcast_{dt}"] = t.numpy()
        parts = [mg.zeros(2, dtype=dt) for _ in range(world)]
        dist.all_gather(parts, mg.full((2,), float(rank), dtype=dt))
        res[f"gather_{dt}"] = np.stack([p.numpy() for p in parts])
    objs = [{"rank": rank}, "x"] if rank == 0 else [None, None]
    dist.broadcast_object_list(objs, src=0)
    gathered = [None] * world
    dist.all_gather_object(gathered, ("r", rank))
    dist.barrier()
    res["objects"] = np.array([objs[0]["rank"], objs[1] == "x", gathered == [("r", 0), ("r", 1)]])
    res["threads"] = np.array([os.environ.get("OMP_NUM_THREADS", ""), os.environ.get("OPENBLAS_NUM_THREADS", "")])
    _out(f"{out}.{rank}.npz", **res)
    dist.destroy_process_group()


def scenario_batchnorm(out):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    model = make_model("bn", np.float64)
    bn = model[1]
    if rank == 1:  # different buffers before wrapping: rank 0's must win
        bn.running_mean.fill_(7.0)
    model = DDP(model)
    after_wrap = bn.running_mean.numpy().copy()
    x = np.random.default_rng(rank).standard_normal((4, 6))
    before = bn.running_mean.numpy().copy()
    model(mg.tensor(x)).sum().backward()
    with mg.no_grad():
        shard_mean = model.module[0](mg.tensor(x)).mean(0).numpy()
    _out(f"{out}.{rank}.npz", after_wrap=after_wrap, before=before, after=bn.running_mean.numpy(),
         shard_mean=shard_mean, momentum=np.array(bn.momentum))
    dist.destroy_process_group()


class _ThreeHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.sometimes, self.unused = nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x, sometimes=False):
        y = self.used(x)
        return y + self.sometimes(x) if sometimes else y


def scenario_unused_and_no_sync(out):
    """Each parameter its own bucket; a head used on rank 0 only (the ranks' buckets fill in different orders); a
    step after zero_grad(set_to_none=False); no_sync decided by where the forward ran, as PyTorch."""
    import micrograd.nn.parallel.distributed as ddp_module

    dist.init_process_group("mpi")
    rank = dist.get_rank()
    ddp_module.FIRST_BUCKET_BYTES = 16
    mg.manual_seed(0)
    model = DDP(_ThreeHeads().double(), bucket_cap_mb=16 / 2**20)
    assert len(model._buckets) == 6
    heads = model.module
    x = mg.tensor(np.full((2, 3), rank + 1.0))
    res = {}

    def grads(tag):
        for name in ("used", "sometimes", "unused"):
            g = getattr(heads, name).weight.grad
            res[f"{tag}_{name}"] = np.full((2, 3), np.nan) if g is None else g.numpy().copy()

    model(x, sometimes=rank == 0).sum().backward()
    grads("a")
    for p in model.parameters():
        p.grad = mg.zeros_like(p) if p.grad is None else p.grad.zero_()  # zero_grad(set_to_none=False)
    model(x).sum().backward()
    grads("b")
    for p in model.parameters():
        p.grad = None
    with model.no_sync():
        y = model(x)
    y.sum().backward()  # the forward ran inside no_sync: no exchange
    grads("c")
    model(x).sum().backward()  # averages what accumulated
    grads("d")
    for p in model.parameters():
        p.grad = None
    y = model(x)
    with model.no_sync():
        y.sum().backward()  # the forward ran outside: exchanged
    grads("e")
    _out(f"{out}.{rank}.npz", **res)
    dist.destroy_process_group()


def scenario_sampler(out):
    from micrograd.utils.data import DistributedSampler

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    res = {}
    for n in (10, 11):
        s = DistributedSampler(range(n), shuffle=True, seed=3)
        s.set_epoch(2)
        mine = list(s)
        every = [None] * world
        dist.all_gather_object(every, mine)
        res[f"n{n}"] = np.array(every)
    _out(f"{out}.{rank}.npz", **res)
    dist.destroy_process_group()


def scenario_mismatch():
    dist.init_process_group("mpi")
    mg.manual_seed(0)
    width = 4 if dist.get_rank() == 0 else 5
    DDP(nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2)))


def scenario_fault(kind, timeout="30"):
    dist.init_process_group("mpi", timeout=float(timeout))
    rank = dist.get_rank()
    t = mg.ones(4)
    if rank == 1:
        if kind == "raise":
            raise ValueError("a deliberate failure on rank 1")
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "stall":
            time.sleep(60)
    dist.all_reduce(t)  # rank 0 waits here for rank 1
    time.sleep(60)  # never reached when the job ends as it should


def scenario_standin(which, out):
    """DDP and the collectives on the cupy stand-in (tensors that report a CUDA device; no GPU here): "nccl" runs
    the NCCL path's Python code over a stand-in NCCL built on MPI; "mpi" stages device memory through the host."""
    sys.path.insert(0, os.path.dirname(__file__))
    import cupy_standin
    import nccl_standin
    from micrograd import backend as registry

    registry.register("cupy-standin", cupy_standin.backend("cupy-standin"))
    fake = nccl_standin.make(registry.backend_object("cupy-standin").xp)
    if which == "nccl":
        dist.init_process_group("nccl", _nccl=fake)
    else:
        dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    with mg.use_backend("cupy-standin"):
        t = mg.arange(4.0) * (rank + 1)
        dist.all_reduce(t)
        parts = [mg.zeros(4) for _ in range(world)]
        dist.all_gather(parts, t)
        dist.broadcast(t, 1)
        collectives = np.stack([t.numpy()] + [p.numpy() for p in parts])
        model = DDP(make_model("mlp", np.float64))
        train(model, "mlp", np.float64, rank, world)
        params = {n: p.detach().numpy() for n, p in model.module.named_parameters()}
    params["calls"] = np.array(fake.calls + ["none"])
    params["collectives"] = collectives
    _out(f"{out}.{rank}.npz", **params)
    dist.destroy_process_group()


if __name__ == "__main__":
    name, args = sys.argv[1], sys.argv[2:]
    globals()[f"scenario_{name}"](*args)
