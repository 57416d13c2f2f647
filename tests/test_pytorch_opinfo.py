"""PyTorch's own operator samples (OpInfo) on micrograd, both CPU backends: no wrong value, dtype, gradient or
forward-mode tangent, and no raise that does not name what micrograd does not support (tests/pytorch_opinfo.py
does the work and prints the tally when run by hand)."""
import warnings

import pytest

import micrograd as mg

pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0): not compared")
pytest.importorskip("expecttest", reason="expecttest is not installed: PyTorch's OpInfo database needs it")

from pytorch_opinfo import run  # noqa: E402  (tests/ is on the path: conftest's directory)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_opinfo_samples_agree_with_pytorch(backend):
    if backend not in mg.available_backends():
        pytest.skip(f"backend {backend} unavailable here")
    with warnings.catch_warnings():  # NumPy's floating-point warnings on PyTorch's edge samples are not failures
        warnings.simplefilter("ignore")
        results = run(backend=backend)
    assert len(results["ok"]) > 10000, {k: len(v) for k, v in results.items()}
    wrong = {k: results[k][:20] for k in ("value", "dtype", "grad", "jvp", "raises") if results[k]}
    assert not wrong, wrong
