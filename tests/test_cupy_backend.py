"""The CuPy backend: availability errors, the NumPy stand-in's honesty, CUDA source, and the real-GPU checks.

What runs where:
- everywhere: the errors for a missing package / driver / device, the registry and `micrograd.info` leaving
  cupy out, the stand-in offering only names CuPy has (against the installed cupy, when one imports), and a
  training step on the stand-in making no device-to-host copies through the backend. The whole property and
  conformance suite runs backends/cupy.py over the stand-in (the `cupy-standin` param of the `backend`
  fixture), so every Python line of the backend runs, and every kernel's own CUDA source, built for the CPU
  (backends/cuda_cpu.py; tests/test_cuda_cpu.py aims at where kernels break).
- where nvcc exists: every kernel's CUDA C source compiles (`nvcc --ptx`), catching syntax and type errors.
- only on a CUDA device (`pytest -m gpu`): the compiled kernels compute what the reference and their CPU build
  compute, transfers,
  large shapes, and no device-to-host copy in a training step besides `.item()` (checked by CuPy itself).
"""
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

import cupy_standin
import micrograd as mg
import micrograd.nn.functional as F
from micrograd import backend as registry
from micrograd import info, nn
from micrograd.backends import cupy as cupy_backend

GPU_REASON = registry.unavailable_reason("cupy")


def gpu(test):
    """Marks a test `gpu` and skips it, with the reason, where cupy has no usable device."""
    return pytest.mark.gpu(pytest.mark.skipif(GPU_REASON is not None, reason=f"no CUDA device: {GPU_REASON}")(test))


def _fake_cupy(monkeypatch, count=None, error=None):
    """Put a `cupy` module in sys.modules whose getDeviceCount returns `count` or raises `error`."""
    def get_device_count():
        if error is not None:
            raise error
        return count
    fake = types.ModuleType("cupy")
    fake.__version__ = "99.0"
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    monkeypatch.setitem(sys.modules, "cupy", fake)


class CUDARuntimeError(RuntimeError):
    """Named as CuPy's error; the text is what CuPy prints."""


def test_missing_package_is_named_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(ImportError, match=r"the cupy package cannot be imported .*pip install -e '\.\[cuda12\]' "
                                          r"or '\.\[cuda13\]'"):
        cupy_backend.check_available()


@pytest.mark.parametrize("text, expected", [
    ("cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version",
     "there is no usable CUDA driver"),
    ("cudaErrorNoDevice: no CUDA-capable device is detected", "there is no CUDA device"),
])
def test_missing_driver_or_device_is_named(monkeypatch, text, expected):
    _fake_cupy(monkeypatch, error=CUDARuntimeError(text))
    with pytest.raises(RuntimeError, match=f"cupy 99.0 is installed but {expected} \\(CUDARuntimeError: {text}\\)"):
        cupy_backend.check_available()


def test_zero_devices_is_named(monkeypatch):
    _fake_cupy(monkeypatch, count=0)
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        cupy_backend.check_available()


def test_importing_the_module_never_imports_cupy():
    code = ("import sys; sys.modules['cupy'] = None\n"
            "import micrograd.backends.cupy as m\n"
            "print(sorted(m.RAW)[0], 'cupy' in sys.modules and sys.modules['cupy'] is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["mg_col2im", "False"]


@pytest.mark.skipif(GPU_REASON is None, reason="cupy is usable here")
def test_unusable_cupy_is_left_out_and_explained():
    assert "cupy" not in mg.available_backends()
    with pytest.raises(registry.BackendUnavailableError) as exc:
        with mg.use_backend("cupy"):
            pass
    msg = str(exc.value)
    assert msg.startswith("backend: 'cupy' is unavailable: ")
    assert "cupy" in msg and "(available here: numpy" in msg
    assert f"  cupy   unavailable: {msg}" in info.report().splitlines()


def test_standin_is_never_an_available_backend():
    from conftest import install_standin

    install_standin()
    assert "cupy-standin" not in mg.available_backends()
    with pytest.raises(ValueError, match="built-in backend name"):
        registry.register("cupy", registry.backend_object("cupy-standin"))
    assert mg.tensor([1.0], backend="cupy-standin").to("numpy").backend == "numpy"


def test_standin_offers_only_names_real_cupy_has():
    cupy = pytest.importorskip("cupy", reason="cupy is not importable here; run in an environment with "
                                              "cupy-cuda12x/13x installed (no GPU needed) to check the stand-in")
    import cupyx

    modules = {"cupy": cupy, "cupyx": cupyx}
    missing = []
    for module, dotted in cupy_standin.offered_names():
        obj = modules[module]
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(f"{module}.{dotted}")
    assert not missing, f"the stand-in offers names CuPy lacks: {missing}"


@pytest.mark.skipif(GPU_REASON is None, reason="cupy has a usable device here")
def test_cupy_imports_without_a_device_and_only_device_calls_fail():
    cupy = pytest.importorskip("cupy", reason="cupy is not importable here (install cupy-cuda12x/13x to check)")
    assert cupy.ndarray is not None and cupy.float32 is np.float32  # the import itself works
    with pytest.raises(Exception, match="cudaError"):
        cupy.zeros(1)


def test_standin_refuses_numpy_names_cupy_lacks():
    cupy, _ = cupy_standin.make()
    for name in ("errstate", "lib.stride_tricks.as_strided", "seterr"):
        obj = cupy
        with pytest.raises(AttributeError):
            for part in name.split("."):
                obj = getattr(obj, part)


def test_every_kernel_has_an_entry_point_and_a_reference():
    """Each raw kernel defines its entry point and has a reference primitive of its name; each elementwise definition
    becomes a kernel that the stand-in recognises as generated from it. The stand-in keeps no twin of any kernel."""
    from micrograd.backends import elementwise
    from micrograd.backends.reference import ReferenceBackend

    with open(cupy_standin.__file__) as f:
        assert not hasattr(cupy_standin, "LAUNCHES") and "REFERENCE.run_elementwise" not in f.read()
    for dt in ("float32", "float64"):
        for name in cupy_backend.RAW:
            src, entry = cupy_backend.raw_source(name, dt)
            assert f"void {entry}(" in src
            assert callable(getattr(ReferenceBackend, name[len("mg_"):]))
        for k in elementwise.KERNELS.values():
            assert f"void {cupy_backend.elementwise_name(k)}_" in cupy_backend.elementwise_harness(k, dt)
            cupy_standin.ElementwiseKernel(*k.cuda(), name=cupy_backend.elementwise_name(k))


def _sources(dtype):
    from micrograd.backends import elementwise

    names = list(cupy_backend.RAW) + [cupy_backend.elementwise_name(k) for k in elementwise.KERNELS.values()]
    src = "".join(cupy_backend.raw_source(n, dtype)[0] for n in cupy_backend.RAW)
    return src + "".join(cupy_backend.elementwise_harness(k, dtype) for k in elementwise.KERNELS.values()), names


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH: the CUDA C source is unchecked")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernel_sources_compile_with_nvcc(tmp_path, dtype):
    src, names = _sources(dtype)
    path = tmp_path / f"kernels_{dtype}.cu"
    path.write_text(src)
    res = subprocess.run(["nvcc", "--ptx", "-Werror", "all-warnings", str(path), "-o", str(tmp_path / "k.ptx")],
                         capture_output=True, text=True)
    assert res.returncode == 0, f"nvcc failed on\n{src}\n{res.stderr}"
    ptx = (tmp_path / "k.ptx").read_text()
    for name in names:
        assert f".entry {name}_{'float' if dtype == 'float32' else 'double'}(" in ptx


def _mlp():
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 5))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 5))


def _train_step(model, x, y):
    opt = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


class _HostCopies:
    """Counts the backend's device-to-host copies (to_numpy, all_finite) while it is installed.

    Implicit conversions of a device array in engine code (bool(), float(), .get()) bypass the backend and are
    not counted: on a real GPU they raise nothing either, so a review of the engine covers them.
    """

    def __init__(self, monkeypatch, b):
        self.calls = []
        for prim in ("to_numpy", "all_finite"):
            real = getattr(b, prim)
            monkeypatch.setattr(b, prim, lambda a, _real=real, _prim=prim: self.calls.append(_prim) or _real(a))


def _check_no_host_copies(monkeypatch, name, make, shape):
    copies = _HostCopies(monkeypatch, registry.backend_object(name))
    rng = np.random.default_rng(0)
    # Class targets arrive from the host (a NumPy array): cross_entropy range-checks them there, then uploads
    # them. Targets already on the device would be copied back to the host for that check (_class_targets).
    y = rng.integers(0, 5, shape[0])
    with mg.use_backend(name):
        model = make()
        x = mg.tensor(rng.standard_normal(shape).astype(np.float32))
        _train_step(model, x, y)  # warm-up: kernel compilation on a GPU
        copies.calls.clear()
        loss = _train_step(model, x, y)
        assert copies.calls == [], f"device-to-host copies inside a training step: {copies.calls}"
        assert np.isfinite(loss.item()) and copies.calls == ["to_numpy"]


@pytest.mark.parametrize("make, shape", [(_mlp, (8, 20)), (_cnn, (8, 1, 8, 8))], ids=["mlp", "cnn"])
def test_standin_training_step_copies_nothing_to_the_host(monkeypatch, make, shape):
    from conftest import install_standin

    install_standin()
    _check_no_host_copies(monkeypatch, "cupy-standin", make, shape)


# Real GPU only.
@gpu
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 9, 11), (64, 32, 66, 66)], ids=["small", "large"])
def test_gpu_kernels_match_the_reference(dt, shape):
    import cupy
    from micrograd.backends.reference import backend as reference

    from conftest import install_standin

    real = registry.backend_object("cupy")
    cpu_build = install_standin()  # the same kernels' source, built for the CPU (backends/cuda_cpu.py)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dt)
    x.flat[1::97] = x.flat[0:-1:97]  # ties: the first maximum wins
    tol = dict(rtol=1e-4, atol=1e-5) if dt == np.float32 else dict(rtol=1e-10, atol=1e-12)

    def both(prim, *args):
        """The device's kernel against the reference, and against the CPU build of its source."""
        out = getattr(real, prim)(*[cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        ref = getattr(reference, prim)(*args)
        cpu = getattr(cpu_build, prim)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        tup = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
        for o, r, c in zip(tup(out), tup(ref), tup(cpu)):
            assert type(o) is cupy.ndarray and o.dtype == r.dtype == c.dtype and o.shape == r.shape, prim
            np.testing.assert_allclose(cupy.asnumpy(o), r, **tol, err_msg=prim)
            np.testing.assert_allclose(cupy.asnumpy(o), c, **tol, err_msg=f"{prim}: device against the CPU build")
        return ref

    for k, s in [(3, 1), (3, 2), (2, 2)]:
        cols = both("im2col", x, k, k, s)
        both("col2im", cols, x.shape, s)
    vals, idx = both("max_pool2d", x, 3, 3, 2, 2)
    both("max_pool2d_backward", vals, idx, x.shape)
    for prim in ("relu", "sigmoid"):
        both(prim, x)
    for prim in ("relu_backward", "tanh_backward", "sigmoid_backward"):
        both(prim, x, np.tanh(x[::-1].copy()))
    logits = x.reshape(-1, shape[-1])
    targets = rng.integers(0, shape[-1], logits.shape[0])
    targets[::5] = -100
    loss, lse = both("softmax_cross_entropy", logits, targets, -100)
    both("softmax_cross_entropy_backward", logits, targets, lse, loss, -100)
    flat, units = x.reshape(-1), 8
    n = flat.size // (5 * units)
    z, c = flat[:4 * n * units].reshape(n, 4 * units), flat[4 * n * units:5 * n * units].reshape(n, units)
    h, c_new, act = both("lstm_cell", z, c)
    both("lstm_cell_backward", h, c_new, act, c)
    both("axpby_", x.copy(), 0.9, x[::-1].copy(), -0.01)
    both("sgd_momentum_", x.copy(), x[::-1].copy(), np.tanh(x), 0.1, 0.9, 0.25)
    keep = rng.random(logits.shape[-1]) < 0.7  # attention's rows: one pattern for every row
    keep[0] = True
    p = both("masked_softmax", logits, keep)
    both("softmax_backward", p, logits[::-1].copy(), 1)
    w, b = rng.standard_normal(logits.shape[-1]).astype(dt), rng.standard_normal(logits.shape[-1]).astype(dt)
    y, mean, invstd = both("layer_norm", logits, w, b, 1e-5)
    both("layer_norm_backward", logits[::-1].copy(), logits, mean, invstd, w)
    cupy.cuda.Device().synchronize()


@gpu
def test_gpu_transfers_and_device_results():
    import cupy

    t = mg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True, backend="numpy")
    d = t.to("cupy")
    assert d.backend == "cupy" and type(d._data) is cupy.ndarray
    s = (d * d).sum()
    assert type(s._data) is cupy.ndarray and s._data.ndim == 0  # 0-d results stay on the device
    s.backward()
    np.testing.assert_allclose(t.grad.detach().numpy(), 2 * t.detach().numpy())
    assert s.item() == 30.0 and d.to("numpy").backend == "numpy"
    np.testing.assert_array_equal(d.detach().numpy(), t.detach().numpy())
    mg.synchronize("cupy")


@gpu
@pytest.mark.parametrize("make, shape", [(_mlp, (256, 20)), (_cnn, (256, 1, 28, 28))], ids=["mlp", "cnn"])
def test_gpu_training_step_copies_nothing_to_the_host(monkeypatch, make, shape):
    if make is _cnn:
        make = lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),  # noqa: E731
                                     nn.Linear(4 * 13 * 13, 5))
    _check_no_host_copies(monkeypatch, "cupy", make, shape)
