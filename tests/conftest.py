"""Shared test configuration: Hypothesis profiles and the backend parametrisation."""
import os

import pytest
from hypothesis import HealthCheck, settings

import micrograd as mg
from micrograd.backend import NAMES, unavailable_reason

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
    return params


BACKENDS = _backend_params()


@pytest.fixture(scope="session", autouse=True)
def _warm_numba_kernels():
    """Compile (or load from the disk cache) the numba backend's kernels once, before the first test."""
    if unavailable_reason("numba") is None:
        from micrograd.backends import numba

        numba.warm()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend by name; unavailable ones are skipped with the reason."""
    with mg.use_backend(request.param):
        yield request.param
