"""Shared test configuration: Hypothesis profiles and the backend parametrisation."""
import os

import pytest
from hypothesis import HealthCheck, settings

import micrograd as mg
from micrograd import backend as registry
from micrograd.backend import NAMES, unavailable_reason

STANDIN = "cupy-standin"

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=50,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _backend_params():
    params = []
    for name in NAMES:
        reason = unavailable_reason(name)
        marks = [pytest.mark.skip(reason=f"backend {name} unavailable here: {reason}")] if reason else []
        if name == "cupy":
            marks.append(pytest.mark.gpu)
        params.append(pytest.param(name, marks=marks, id=name))
    # backends/cupy.py's code over NumPy (tests/cupy_standin.py) where real CuPy with a device is missing; its
    # kernels run as CPU builds of their CUDA source, which need a C++ compiler.
    from micrograd.backends import cuda_cpu

    real = unavailable_reason("cupy") is None
    marks = [pytest.mark.skip(reason="real CuPy is usable here: the cupy param covers it")] if real else []
    if not real and cuda_cpu.unavailable_reason():
        marks = [pytest.mark.skip(reason=f"the CuPy stand-in cannot run the kernels: {cuda_cpu.unavailable_reason()}")]
    params.append(pytest.param(STANDIN, marks=marks, id=STANDIN))
    return params


BACKENDS = _backend_params()


@pytest.fixture(scope="session", autouse=True)
def _warm_numba_kernels():
    """Compile (or load from the disk cache) the numba backend's kernels once, before the first test."""
    if unavailable_reason("numba") is None:
        from micrograd.backends import numba

        numba.warm()
        # Tests use small arrays: route them through the kernels too, not NumPy's small-array fallback.
        numba.SMALL.update(dict.fromkeys(numba.SMALL, 0))


def install_standin():
    """Register the cupy backend over the NumPy stand-in under the name "cupy-standin" (tests only; it never
    appears in available_backends())."""
    if not registry.is_name(STANDIN):
        import cupy_standin

        registry.register(STANDIN, cupy_standin.backend(STANDIN))
    return registry.backend_object(STANDIN)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend by name; unavailable ones are skipped with the reason."""
    if request.param == STANDIN:
        install_standin()
    with mg.use_backend(request.param):
        yield request.param
