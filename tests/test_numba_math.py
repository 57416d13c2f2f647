"""The Numba backend's vectorisable exp and tanh (backends/_numba_math.py) against longer-precision references:
accuracy in ulps over the whole range, the special values NumPy gives, and the loops actually vectorised."""
import re

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason="the numba package is not installed")
M = pytest.importorskip("micrograd.backends._numba_math", reason="the numba backend's maths needs numba")

DTYPES = (np.float32, np.float64)
# worst case measured (ulps from the correctly rounded value); NumPy's own SIMD versions reach about 2.4 (float32
# exp) and 1.4 (tanh); the bound leaves room for nothing else
ULPS = {("exp", np.float32): 1.0, ("exp", np.float64): 2.0, ("tanh", np.float32): 1.5, ("tanh", np.float64): 1.5}
_LOOPS = {}


def _loop(name, dt):
    key = (name, dt)
    if key not in _LOOPS:
        f = M.FUNCTIONS[np.dtype(dt)][name]

        @numba.njit(error_model="numpy")
        def run(a, out):
            for i in range(a.size):
                out[i] = f(a[i])
        _LOOPS[key] = run
    return _LOOPS[key]


def _apply(name, a):
    out = np.empty_like(a)
    _loop(name, a.dtype.type)(a, out)
    return out


def _samples(dt, rng):
    big = 120 if dt == np.float32 else 800
    parts = [rng.uniform(-big, big, 200_000), rng.standard_normal(200_000) * 3, rng.standard_normal(100_000) * 0.3,
             rng.standard_normal(50_000) * 1e-4, np.linspace(-1, 1, 20_001)]
    return np.concatenate(parts).astype(dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["exp", "tanh"])
def test_accurate_to_about_an_ulp(name, dt):
    a = _samples(dt, np.random.default_rng(0))
    got = _apply(name, a)
    with np.errstate(all="ignore"):
        ref = getattr(np, name)(a.astype(np.longdouble))
    normal = np.isfinite(ref) & (np.abs(ref) >= np.finfo(dt).tiny) & (np.abs(ref) <= np.finfo(dt).max)
    ulp = np.spacing(np.abs(ref[normal]).astype(dt)).astype(np.longdouble)
    err = np.abs(got[normal].astype(np.longdouble) - ref[normal]) / ulp
    assert err.max() <= ULPS[(name, dt)], f"{name} {dt.__name__}: {float(err.max()):.2f} ulp at {a[normal][err.argmax()]!r}"
    # where the exact value leaves the normal range, NumPy's answer (inf, 0 or a subnormal within one unit)
    with np.errstate(all="ignore"):
        npv = getattr(np, name)(a[~normal])
    np.testing.assert_allclose(got[~normal], npv, rtol=0, atol=float(np.finfo(dt).smallest_subnormal))


@pytest.mark.parametrize("dt", DTYPES)
def test_special_values(dt):
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 0.625, -0.625, 30.0, -30.0], dt)
    for name in ("exp", "tanh"):
        got = _apply(name, a)
        with np.errstate(all="ignore"):
            want = getattr(np, name)(a)
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dt).eps, err_msg=name)
        assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))
    assert np.signbit(_apply("tanh", np.array([-0.0], dt))[0])  # tanh(-0.0) is -0.0
    limit = np.float32(88.72) if dt == np.float32 else 709.78
    assert np.isfinite(_apply("exp", np.array([limit], dt))[0])  # the largest finite results stay finite
    assert _apply("exp", np.array([-100.0 if dt == np.float32 else -740.0], dt))[0] > 0  # subnormal results


@pytest.mark.parametrize("dt", DTYPES)
def test_the_loops_vectorise(dt):
    """The point of these versions: a loop over them compiles to SIMD code, with no libm call left (LLVM
    "vectorises" a loop calling math.exp into lanes that each call expf)."""
    for name in ("exp", "tanh"):
        run = _loop(name, dt)
        a = np.zeros(4, dt)
        run(a, a.copy())
        ir = run.inspect_llvm(run.signatures[0])
        kind = "float" if dt == np.float32 else "double"
        assert re.search(rf"<(4|8|16) x {kind}>", ir), f"{name} {dt.__name__}: the loop did not vectorise"
        libm = re.findall(r"@(?:llvm\.(?:exp|tanh)\.\w+|(?:exp|tanh)f?\b)", ir)
        assert not libm, f"{name} {dt.__name__}: the loop calls {sorted(set(libm))}"


def test_the_typed_exp_picks_the_dtype():
    @numba.njit
    def both(a, b):
        return M.exp(a[0]), M.exp(b[0])
    x32, x64 = both(np.array([1.0], np.float32), np.array([1.0], np.float64))
    assert abs(float(x32) - np.e) < 1e-6 and x64 == pytest.approx(np.e, rel=2e-16)


def test_a_changed_maths_file_drops_the_hand_written_kernels_cached_code(monkeypatch):
    """Numba checks a cached kernel against its own file only: guard_cache drops the code of kernels that inline
    these functions when it was cached under another KEY (and stamps the new one), and leaves it otherwise."""
    K = pytest.importorskip("micrograd.backends._numba_kernels", reason="the numba kernels need numba")
    kernel = K.softmax_rows
    stamp = kernel._cache._cache_file._index_path + ".key"
    flushed = []
    monkeypatch.setattr(kernel._cache, "flush", lambda: flushed.append(True))
    M.guard_cache(kernel)  # cached under this KEY already (imported above): kept
    assert not flushed
    monkeypatch.setattr(M, "KEY", "another")
    M.guard_cache(kernel)
    assert flushed
    with open(stamp) as f:
        assert f.read() == "another"
    monkeypatch.undo()
    M.guard_cache(kernel)  # back to the real KEY (its code cached again on next use)
    with open(stamp) as f:
        assert f.read() == M.KEY
