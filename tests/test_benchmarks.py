"""The benchmark table runs end to end (one round, a few workloads), names the peers it skips, writes --json.

Timings are not checked here: speed is measured by running benchmarks/run.py, never by tests.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "benchmarks", "run.py")


def test_run_prints_one_row_per_contender_and_writes_json(tmp_path):
    out_json = tmp_path / "bench.json"
    env = dict(os.environ, CLASSIC_MICROGRAD=str(tmp_path / "no-classic-here"))
    proc = subprocess.run([sys.executable, RUN, "--only", "scalar,ops,mlp", "--rounds", "1", "--json", str(out_json)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "threads: 1" in lines[0]
    assert lines[1].startswith("heap: glibc M_MMAP_THRESHOLD 32 MiB, M_TOP_PAD 64 MiB in every contender's process") \
        or lines[1] == "heap: malloc's defaults (no heap padding)", lines[1]
    for row in (f"{'mlp step':<18} micrograd numpy", f"{'op add 8x8':<18} micrograd numpy",
                f"{'scalar':<18} micrograd value"):
        assert any(line.startswith(row) for line in lines), f"no row {row!r} in:\n{proc.stdout}"
    assert any(line.startswith("skipped: classic micrograd") for line in lines), proc.stdout
    raw = json.loads(out_json.read_text())
    assert set(raw["results"]) >= {"scalar", "mlp step", "op add 8x8"}
    assert all(len(times) == 1 for times in raw["results"]["mlp step"].values())


def test_bad_thread_count_is_refused():
    proc = subprocess.run([sys.executable, RUN, "--threads", "-2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--threads must be 0 (library defaults) or a positive count; got -2" in proc.stderr


def test_bad_heap_pad_is_refused():
    proc = subprocess.run([sys.executable, RUN, "--heap-pad", "-1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--heap-pad must be a number of bytes" in proc.stderr


def test_ab_compares_a_revision_with_this_checkout(tmp_path):
    """benchmarks/ab.py against HEAD (one round of the MLP step), run from a throwaway clone so that its git
    worktree never touches this repository: a row per contender, and the temporary worktree removed."""
    clone = tmp_path / "clone"
    if subprocess.run(["git", "clone", "-q", ROOT, str(clone)], capture_output=True).returncode:
        import pytest
        pytest.skip("not a git checkout: ab.py checks out a revision with git worktree")
    proc = subprocess.run([sys.executable, str(clone / "benchmarks" / "ab.py"), "--base", "HEAD", "--rounds", "1",
                           "--only", "mlp", "--contenders", "numpy"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("mlp")]
    assert [r[1:3] for r in rows] in ([["micrograd", "numpy"], ["pytorch", "cpu"]], [["micrograd", "numpy"]]), \
        proc.stdout
    assert all(float(r[-1]) > 0 for r in rows)
    worktrees = subprocess.run(["git", "-C", str(clone), "worktree", "list"], capture_output=True, text=True).stdout
    assert "micrograd-ab-" not in worktrees


def test_bench_func_prints_each_transform_against_torch_func():
    """benchmarks/bench_func.py checks its results against torch.func before timing, then prints a row per
    transform with a ratio per backend."""
    import pytest
    pytest.importorskip("torch", reason="bench_func compares with torch.func: PyTorch is not installed")
    script = os.path.join(ROOT, "benchmarks", "bench_func.py")
    proc = subprocess.run([sys.executable, script, "--rounds", "1", "--backends", "numpy"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[2:]}
    assert set(rows) == {"jacrev", "jacfwd", "hessian", "row"}, proc.stdout
    assert rows["jacrev"].endswith("[<= 1.5]") and rows["hessian"].endswith("[<= 2.0]"), proc.stdout


def test_bench_distributed_quick_prints_scaling_exchange_and_allreduce():
    """benchmarks/bench_distributed.py --quick launches itself under mpiexec -n 1 and -n 2 and prints the scaling
    table, the target line, the exchange table and the raw allreduce rows (figures unchecked)."""
    import pytest
    pytest.importorskip("mpi4py", reason="bench_distributed needs mpi4py (pip install -e '.[mpich]')")
    script = os.path.join(ROOT, "benchmarks", "bench_distributed.py")
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.access(beside, os.X_OK) and shutil.which("mpiexec") is None:
        pytest.skip("bench_distributed needs mpiexec (pip install -e '.[mpich]' brings MPICH's)")
    proc = subprocess.run([sys.executable, script, "--quick", "--reps", "10"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "target: weak-scaling efficiency at 2 ranks, MLP step, per-rank batch 1024:" in out, out
    for row in ("mlp             1024", "cnn               64", "mlp 1024", "cnn 64", "8 B", "1 MiB", "16 MiB"):
        assert any(line.startswith(row) for line in out.splitlines()), f"no row {row!r} in:\n{out}"
    assert "load average (1, 5, 15 min)" in out, out


def test_the_bigger_workloads_build_the_same_models_in_both_libraries():
    """run.py's deep ConvNet and transformer steps: the same parameter shapes in micrograd and PyTorch, and a step runs."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, os.path.dirname(RUN))
    import run

    import micrograd as mg
    for ours, theirs in [(run.deepconv_model(mg.nn), run.deepconv_model(torch.nn)),
                         (run.transformer_model(mg, layers=1), run.transformer_model(torch, layers=1))]:
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    steps = run.big_model_contenders("transformer", [], only="micrograd numpy")
    loss = steps["micrograd numpy"]()
    assert abs(loss - np.log(96)) < 0.5  # about uniform over 96 symbols at initialisation
    # a step built for a backend holds its model there, whatever the current backend (bench_gpu builds for cupy)
    other = next(b for b in mg.available_backends() if b != mg.get_backend())
    built = []
    real = mg.optim.Adam

    class Spy(real):
        def __init__(self, params, *a, **kw):
            params = list(params)
            built.extend(params)
            super().__init__(params, *a, **kw)
    mg.optim.Adam = Spy
    try:
        run.big_model_step(mg, "deepconv", np.zeros((2, 1, 28, 28), np.float32), np.zeros(2, np.int64), backend=other)()
    finally:
        mg.optim.Adam = real
    assert built and {p.backend for p in built} == {other}


def test_memory_of_a_bigger_model_is_measured_in_a_fresh_process():
    proc = subprocess.run([sys.executable, RUN, "--memory", "transformer", "micrograd numpy"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["peak_mib"] >= got["baseline_mib"] > 0 and got["extra_mib"] == got["peak_mib"] - got["baseline_mib"]
