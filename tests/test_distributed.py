"""micrograd.distributed and DistributedDataParallel: each multi-process test launches `mpiexec -n 2` on a program of
tests/distributed_programs.py in its own session, with a timeout that kills the whole process group (pytest itself
stays one process). Two ranks must match one process on the same global batch; faults must end the job, naming
the rank and the reason, within 10 s."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import distributed_programs as programs
import micrograd as mg
from micrograd import nn
from micrograd._threads import cap_threads_per_rank

PROGRAMS = str(Path(__file__).with_name("distributed_programs.py"))


def _mpiexec():
    beside = Path(sys.executable).with_name("mpiexec")  # the mpich wheel's, in this environment
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install -e '.[mpich]')"
    if _mpiexec() is None:
        return "no mpiexec on PATH (pip install -e '.[mpich]' brings MPICH's)"
    return None


needs_mpi = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def launch(*args, n=2, timeout=120, module=False):
    """(exit code, output, seconds) of `mpiexec -n n python [-m mpi4py] distributed_programs.py args`."""
    cmd = [_mpiexec(), "-n", str(n), sys.executable] + (["-m", "mpi4py"] if module else []) + [PROGRAMS, *args]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{' '.join(args)}: the job did not end within {timeout} s (killed):\n{out[-3000:]}")
    return proc.returncode, out, time.monotonic() - start


def run_ok(tmp_path, *args):
    out = str(tmp_path / "out")
    code, text, _ = launch(*args, out)
    assert code == 0, text[-4000:]
    return [dict(np.load(f"{out}.{r}.npz")) for r in range(2)]


@needs_mpi
def test_collectives(tmp_path):
    ranks = run_ok(tmp_path, "collectives")
    for res in ranks:
        for dt in ("float32", "float64"):
            expect = np.arange(6.0).reshape(2, 3) * 3
            np.testing.assert_array_equal(res[f"sum_{dt}"], expect)
            np.testing.assert_array_equal(res[f"max_{dt}"], np.arange(6.0) * 2)
            np.testing.assert_array_equal(res[f"avg_{dt}"], np.arange(6.0) * 1.5)
            np.testing.assert_array_equal(res[f"bcast_{dt}"], [6.0] * 3)
            np.testing.assert_array_equal(res[f"gather_{dt}"], [[0.0, 0.0], [1.0, 1.0]])
            assert res[f"sum_{dt}"].dtype == np.dtype(dt)
        assert res["objects"].tolist() == [0, 1, 1]
        assert res["threads"].tolist() == [str(max(1, len(os.sched_getaffinity(0)) // 2))] * 2
    base = np.arange(12.0).reshape(3, 4)
    for r, res in enumerate(ranks):  # the non-contiguous view's elements summed, the others untouched
        expect = base * (r + 1)
        expect[:, ::2] = base[:, ::2] * 3
        np.testing.assert_array_equal(res["view_float64"], expect)


@needs_mpi
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm"])
def test_two_ranks_match_one_process_on_the_global_batch(tmp_path, kind, dtype):
    ranks = run_ok(tmp_path, "train", kind, dtype)
    ref = programs.train(programs.make_model(kind, np.dtype(dtype)), kind, np.dtype(dtype))
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    for name, value in ref.items():
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=f"{name}: ranks differ")
        np.testing.assert_allclose(ranks[0][name], value, **tol, err_msg=name)


@needs_mpi
def test_batchnorm_buffers_come_from_rank_0_and_statistics_from_each_shard(tmp_path):
    ranks = run_ok(tmp_path, "batchnorm")
    for res in ranks:
        np.testing.assert_array_equal(res["after_wrap"], np.zeros(8))  # rank 1's 7.0 overwritten at wrap time
        m = float(res["momentum"])
        np.testing.assert_allclose(res["after"], (1 - m) * res["before"] + m * res["shard_mean"], rtol=1e-12)
    assert not np.allclose(ranks[0]["after"], ranks[1]["after"])  # each rank's own shard, as in PyTorch


@needs_mpi
def test_unused_parameters_bucket_order_and_no_sync(tmp_path):
    ranks = run_ok(tmp_path, "unused_and_no_sync")
    full = lambda v: np.full((2, 3), v)  # noqa: E731
    for r, res in enumerate(ranks):
        # a head used on rank 0 only: its gradient averaged with rank 1's zeros, whatever order buckets filled in
        np.testing.assert_allclose(res["a_used"], full((2.0 + 4.0) / 2))
        np.testing.assert_allclose(res["a_sometimes"], full(2.0 / 2))
        assert np.isnan(res["a_unused"]).all()  # no rank used it: .grad stays None, as PyTorch's
        # after zero_grad(set_to_none=False), an unused parameter's zeroed .grad is what it contributes
        np.testing.assert_allclose(res["b_used"], full(3.0))
        np.testing.assert_array_equal(res["b_sometimes"], full(0.0))
        np.testing.assert_array_equal(res["b_unused"], full(0.0))  # a zero .grad nobody used stays zero
        np.testing.assert_allclose(res["c_used"], full(2.0 * (r + 1)))  # forward inside no_sync: local
        np.testing.assert_allclose(res["d_used"], full((4.0 + 8.0) / 2))  # the accumulated gradients averaged
        np.testing.assert_allclose(res["e_used"], full(3.0))  # forward outside no_sync: exchanged
        assert np.isnan(res["e_sometimes"]).all()  # no rank used it, and no .grad before: stays None
    for key in ranks[0]:
        if not key.startswith("c_"):
            np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)


@needs_mpi
def test_sampler_shards_are_disjoint_and_cover(tmp_path):
    res = run_ok(tmp_path, "sampler")[0]
    for n in (10, 11):
        shards = res[f"n{n}"]
        assert shards.shape == (2, (n + 1) // 2)
        assert set(shards.reshape(-1)) == set(range(n))
        if n % 2 == 0:
            assert len(set(shards[0]) & set(shards[1])) == 0


@needs_mpi
@pytest.mark.parametrize("which", ["nccl", "mpi"])
def test_device_tensors_through_nccl_and_through_mpi(tmp_path, which):
    """On the cupy stand-in (tensors on "cuda:0", no GPU): "nccl" runs the NCCL path's code over a stand-in NCCL;
    "mpi" stages device memory through the host. Both train as one process does."""
    ranks = run_ok(tmp_path, "standin", which)
    ref = programs.train(programs.make_model("mlp", np.float64), "mlp", np.float64)
    for name, value in ref.items():
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])
        np.testing.assert_allclose(ranks[0][name], value, rtol=1e-12, atol=1e-12)
    for res in ranks:
        np.testing.assert_array_equal(res["collectives"], [np.arange(4.0) * 3] * 3)
    calls = ranks[0]["calls"].tolist()
    if which == "nccl":
        assert "bcast" in calls and "allGather" in calls and calls.count("allReduce") >= programs.STEPS
    else:
        assert calls == ["none"]


@needs_mpi
@pytest.mark.parametrize("kind, module, expect", [
    ("raise", False, r"rank 1 of 2 failed with ValueError: a deliberate failure on rank 1"),
    ("raise", True, r"rank 1 of 2 failed with ValueError: a deliberate failure on rank 1"),
    ("kill", False, r"BAD TERMINATION|killed|signal 9|EXIT CODE: 9"),
    ("stall", False, r"rank 0 of 2: all_reduce did not complete within 2 s"),
], ids=["raise", "raise-python-m-mpi4py", "kill", "stall"])
def test_a_failing_rank_ends_the_job_with_the_reason(kind, module, expect):
    import re

    args = ["fault", kind] + (["2"] if kind == "stall" else [])
    code, out, seconds = launch(*args, timeout=60, module=module)
    assert code != 0, out
    assert re.search(expect, out), out[-3000:]
    assert seconds < 10, f"the job took {seconds:.1f} s to end"


@needs_mpi
def test_a_model_mismatch_is_a_clear_error():
    code, out, seconds = launch("mismatch", timeout=60)
    assert code != 0 and seconds < 10
    assert "rank 0 and rank 1 hold different models: entry 0 of the parameters and buffers is 0.weight (4, 3) " \
           "float32 here and 0.weight (5, 3) float32 on rank 1" in out, out[-3000:]


def test_world_size_one_without_a_launcher():
    """No launcher: a world of one process, with no MPI at all (mpi4py never imported)."""
    code = (
        "import sys, micrograd as mg, micrograd.distributed as dist\n"
        "from micrograd.nn.parallel import DistributedDataParallel as DDP\n"
        "dist.init_process_group('gloo')\n"
        "assert (dist.get_rank(), dist.get_world_size(), dist.is_initialized()) == (0, 1, True)\n"
        "t = mg.arange(3.0); dist.all_reduce(t); dist.broadcast(t, 0); assert t.tolist() == [0.0, 1.0, 2.0]\n"
        "mg.manual_seed(0); m = DDP(mg.nn.Linear(3, 2)); m(mg.ones(4, 3)).sum().backward()\n"
        "assert m.module.weight.grad.tolist() == [[4.0] * 3] * 2\n"
        "dist.destroy_process_group(); assert not dist.is_initialized()\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n"
        "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "MPI_", "OMPI_", "PMIX"))}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]


def test_errors_name_the_problem():
    import micrograd.distributed as dist

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend 'ucc' is not available in micrograd"):
        dist.init_process_group("ucc")
    with pytest.raises(ValueError, match="init_method, store and pg_options are not used"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")


def test_thread_caps_per_rank():
    env = {"MPI_LOCALNRANKS": "2", "OPENBLAS_NUM_THREADS": "3"}
    assert cap_threads_per_rank(env, cores=8) == 4
    assert env["OMP_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "4" and env["OPENBLAS_NUM_THREADS"] == "3"
    assert cap_threads_per_rank({}, cores=8) is None
    assert cap_threads_per_rank({"OMPI_COMM_WORLD_LOCAL_SIZE": "16"}, cores=8) == 1


def test_distributed_sampler_against_pytorch():
    from micrograd.utils.data import DistributedSampler

    torch = pytest.importorskip("torch")
    for n, world, drop_last in [(10, 3, False), (10, 3, True), (2, 4, False), (7, 7, False), (0, 2, False)]:
        ours = [list(DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop_last)) for r in range(world)]
        theirs = [list(torch.utils.data.DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
                  for r in range(world)]
        assert ours == theirs
    s = DistributedSampler(range(11), 2, 0, seed=5)
    first = list(s)
    assert list(s) == first and len(s) == 6
    s.set_epoch(1)
    assert list(s) != first
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), 2, 2)


def test_post_accumulate_grad_hook_against_pytorch():
    """The hook sees the leaf's accumulated .grad, once per backward, as soon as that gradient is final."""
    torch = pytest.importorskip("torch")
    logs = {}
    for lib in (mg, torch):
        log = logs[lib.__name__] = []
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([0.5, -1.0], requires_grad=True)
        w.grad = lib.tensor([10.0, 10.0])
        hw = w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.tolist())))
        b.register_post_accumulate_grad_hook(lambda t: log.append(("b", t.grad.tolist())))
        ((w * b).sum() + (w * w).sum() + b.sum()).backward()
        hw.remove()
        (w * b).sum().backward()
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    assert sorted(logs["micrograd"]) == sorted(logs["torch"])


def test_post_accumulate_hooks_run_before_the_backward_ends():
    """A leaf used early in the forward (late in backward) and one used last: the latter's hook runs first, while the
    former's gradient is still being computed; queue_callback runs after both."""
    from micrograd.autograd.reverse import queue_callback

    events = []
    first, last = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    first.register_post_accumulate_grad_hook(lambda t: events.append("first"))

    def on_last(t):
        events.append("last")
        queue_callback(lambda: (events.append("end"), queue_callback(lambda: events.append("queued by a callback"))))
    last.register_post_accumulate_grad_hook(on_last)
    h = (first * 2).tanh() * 3
    (h * last).sum().backward()
    assert events == ["last", "first", "end", "queued by a callback"]
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        queue_callback(lambda: None)


def test_post_accumulate_hooks_with_no_gradient_and_wrong_returns_against_pytorch():
    """A leaf in the graph whose gradient is None still has its hook run (.grad unchanged), as PyTorch; a hook
    returning something is an error."""
    torch = pytest.importorskip("torch")
    logs = {}
    for lib in (mg, torch):
        class NoGradForX(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                return x * w

            @staticmethod
            def backward(ctx, g):
                return None, g

        log = logs[lib.__name__] = []
        x = lib.ones(2, requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: log.append(("x", t.grad)))
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.tolist())))
        NoGradForX.apply(x * 2, w).sum().backward()
        z = lib.ones(2, requires_grad=True)
        z.register_post_accumulate_grad_hook(lambda t: 1)
        with pytest.raises((TypeError, RuntimeError)):
            (z * 2).sum().backward()
    assert sorted(logs["micrograd"], key=str) == sorted(logs["torch"], key=str)


def test_a_gradient_a_hook_kept_is_not_shared_with_grad():
    """y = p + 0 with a hook keeping y's gradient: p.grad must be its own array (DDP writes into .grad)."""
    p = mg.ones(3, requires_grad=True)
    kept = []
    y = p + 0
    y.register_hook(lambda g: kept.append(g))
    (y * 2).sum().backward()
    p.grad.zero_()
    assert kept[0].tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_ddp_in_one_process_is_the_module(kind):
    """World size 1 (no launcher in the test process): wrapping changes no value, and state_dict keys gain `module.`."""
    import micrograd.distributed as dist
    from micrograd.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group()
    try:
        wrapped = DDP(programs.make_model(kind, np.float64))
        assert all(k.startswith("module.") for k in wrapped.state_dict())
        got = programs.train(wrapped, kind, np.float64)
        ref = programs.train(programs.make_model(kind, np.float64), kind, np.float64)
        for name, value in ref.items():
            np.testing.assert_array_equal(got[f"module.{name}"], value)
    finally:
        dist.destroy_process_group()
    assert isinstance(wrapped.module, nn.Module)


@needs_mpi
@pytest.mark.parametrize("name", ["mlp_mnist", "cnn_mnist"])
def test_examples_train_data_parallel(tmp_path, name):
    """`mpiexec -n 2 python -m mpi4py examples/<name>.py --distributed`: one result line, from rank 0."""
    pytest.importorskip("tqdm")
    example = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py", str(example), "--distributed", "--limit", "256",
           "--epochs", "1", "--batch-size", "64", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, start_new_session=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    results = [line for line in res.stdout.splitlines() if line.startswith("result:")]
    assert len(results) == 1 and f"example={name}" in results[0] and "ranks=2" in results[0], res.stdout[-2000:]
    assert (tmp_path / f"{name}.npz").exists() and (tmp_path / f"{name}.png").exists()
    keys = list(mg.load(str(tmp_path / f"{name}.npz"))["model"])
    assert keys and not any(k.startswith("module.") for k in keys), keys  # the plain model's checkpoint


@pytest.mark.gpu
@pytest.mark.skipif(__import__("micrograd").backend.unavailable_reason("cupy") is not None,
                    reason=f"no CUDA device: {__import__('micrograd').backend.unavailable_reason('cupy')}")
def test_nccl_world_size_one_on_the_device():
    """The real NCCL path on one device (NCCL refuses two ranks on one device): DistributedDataParallel's gradients
    through NCCL on the cupy backend give the plain model's training."""
    code = (
        "import numpy as np, micrograd as mg, micrograd.distributed as dist, distributed_programs as P\n"
        "from micrograd.nn.parallel import DistributedDataParallel as DDP\n"
        "dist.init_process_group('nccl')\n"
        "assert dist.get_backend() == 'nccl' and dist.get_world_size() == 1\n"
        "with mg.use_backend('cupy'):\n"
        "    got = P.train(DDP(P.make_model('mlp', np.float64)), 'mlp', np.float64)\n"
        "    ref = P.train(P.make_model('mlp', np.float64), 'mlp', np.float64)\n"
        "for k, v in ref.items():\n"
        "    np.testing.assert_allclose(got['module.' + k], v, rtol=1e-12, atol=1e-12)\n"
        "t = mg.arange(4.0, backend='cupy'); dist.all_reduce(t); assert t.tolist() == [0.0, 1.0, 2.0, 3.0]\n"
        "dist.destroy_process_group(); print('ok')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "MPI_", "OMPI_", "PMIX"))}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-3000:]
