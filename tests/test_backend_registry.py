"""The backend registry: names, scoping, errors, and `python -m micrograd.info`."""
import os
import re
import subprocess
import sys
import threading

import pytest

import micrograd as mg
import numpy as np
from conftest import install_standin
from micrograd.backend import BackendUnavailableError
from micrograd.backends import heap


def _run(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


def test_numpy_is_always_available_and_the_default():
    assert "numpy" in mg.available_backends()
    assert mg.get_backend() == "numpy"


def test_unknown_backend_name_raises_with_the_choices():
    with pytest.raises(BackendUnavailableError, match=r"unknown backend 'nope'.*available here: numpy"):
        mg.set_backend("nope")
    assert mg.get_backend() == "numpy"


def test_bad_environment_variable_fails_at_first_use_not_at_import():
    out = _run("import micrograd as mg\nprint('imported')\nmg.tensor([1.0])", MICROGRAD_BACKEND="bogus")
    assert out.returncode != 0
    assert "imported" in out.stdout
    assert "unknown backend 'bogus'" in out.stderr and "available here: numpy" in out.stderr


def test_importing_prints_nothing():
    out = _run("import micrograd")
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""


def test_use_backend_is_scoped_and_restores():
    with mg.use_backend("numpy"):
        assert mg.get_backend() == "numpy"
        assert mg.tensor([1.0]).backend == "numpy"
    assert mg.get_backend() == "numpy"


def test_use_backend_does_not_leak_into_other_threads():
    if len(mg.available_backends()) < 2:
        pytest.skip("needs two usable backends to tell scopes apart; only numpy is usable here")
    other = [b for b in mg.available_backends() if b != "numpy"][0]
    seen = {}
    with mg.use_backend(other):
        t = threading.Thread(target=lambda: seen.setdefault("b", mg.get_backend()))
        t.start()
        t.join()
        assert mg.get_backend() == other
    assert seen["b"] == "numpy"


def test_cpu_backends_mix_and_the_first_operand_decides():
    if "numba" not in mg.available_backends():
        pytest.skip("numba is not usable here: nothing to mix with numpy on the CPU")
    a = mg.tensor([1.0])
    b = mg.tensor([2.0]).to("numba")
    assert a.device == b.device == mg.device("cpu")
    assert (a + b).backend == "numpy" and (b + a).backend == "numba"
    np.testing.assert_allclose((b * a).detach().numpy(), [2.0])


def test_mixing_devices_raises_pytorchs_error_naming_both_backends():
    name = install_standin().name  # backends/cupy.py over NumPy: its tensors report a CUDA device
    a = mg.tensor([1.0])
    b = mg.tensor([1.0]).to(name)
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device.*'numpy' and "
                                           rf"'{name}'") as info:
        a + b
    assert isinstance(info.value, ValueError)


def test_info_lists_every_backend_and_why():
    out = subprocess.run([sys.executable, "-m", "micrograd.info"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for name in ("numpy", "numba", "cupy"):
        assert f"  {name}" in out.stdout
    assert "numpy  usable" in out.stdout
    assert "MICROGRAD_BACKEND" in out.stdout
    for name in ("numba", "cupy"):
        if name not in mg.available_backends():
            assert f"{name:6s} unavailable: " in out.stdout


def test_synchronize_is_a_noop_on_cpu():
    assert mg.synchronize() is None


_CHURN = """
import resource
import sys
import numpy as np
import micrograd as mg
from micrograd.backends import heap
mg.tensor([1.0])  # loads the numpy backend: no process-wide setting changes by itself
if sys.argv[1] == "pad":
    heap.pad_heap()
big = np.ones(1_000_000)
del big  # one larger array raises glibc's mmap threshold, as any training step's largest array does
def step():  # a training step's pattern: many megabytes allocated, then all freed
    arrays = [np.ones(100_000) for _ in range(40)]
    del arrays
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(not heap._glibc(), reason="heap padding uses glibc's mallopt; this C library is not glibc")
def test_heap_padding_stops_page_faults_between_steps():
    """pad_heap() stops the churn; importing micrograd and using a backend leaves malloc alone (no side effect),
    and so does pad_heap() under MICROGRAD_HEAP_PAD=0."""
    def faults(call, pad=""):
        env = dict(os.environ, MICROGRAD_HEAP_PAD=pad)
        out = subprocess.run([sys.executable, "-c", _CHURN, call], env=env, capture_output=True, text=True,
                             check=True)
        return float(out.stdout.split()[-1])
    padded, plain, off = faults("pad"), faults("no"), faults("pad", "0")
    assert padded < 100, f"{padded} minor page faults per step with the default heap pad"
    assert plain > 1000, f"only {plain} faults per step without pad_heap(): an import side effect, or no churn"
    assert off > 1000, f"only {off} faults per step with MICROGRAD_HEAP_PAD=0"


@pytest.mark.parametrize("text", ["lots", "-1", "1e9", str(2 ** 31)])
def test_bad_heap_pad_is_named(monkeypatch, text):
    monkeypatch.setenv("MICROGRAD_HEAP_PAD", text)
    with pytest.raises(ValueError, match=f"MICROGRAD_HEAP_PAD must be a number of bytes .*got '{re.escape(text)}'"):
        heap.heap_pad()
