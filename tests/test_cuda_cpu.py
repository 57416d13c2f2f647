"""The CUDA kernels of backends/cupy.py, run as written by their CPU build (backends/cuda_cpu.py), aimed at the places
kernels break: element totals that do not fill the last block, a single element, offsets past 2**31 and 2**32,
overlapping pooling windows and repeated indices (the atomics), the empty case; in float32 and float64, against the
reference backend's primitive of the same name (tolerances allow FMA differences)."""
import mmap
import re

import numpy as np
import pytest

import cupy_standin
from micrograd.backends import cuda_cpu, elementwise
from micrograd.backends import cupy as cupy_backend
from micrograd.backends.reference import backend as REF

pytestmark = pytest.mark.skipif(cuda_cpu.unavailable_reason() is not None,
                                reason=str(cuda_cpu.unavailable_reason()))

DTYPES = [np.float32, np.float64]
BLOCK = 256
MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)  # Linux's value; Python exposes it from 3.12


def _tol(dt):
    return dict(rtol=2e-6, atol=1e-6) if dt == np.float32 else dict(rtol=1e-13, atol=1e-14)


@pytest.fixture(scope="module")
def standin():
    return cupy_standin.backend("cupy-standin-kernels")


def _same(out, ref, dt):
    for o, r in zip(out if isinstance(out, tuple) else (out,), ref if isinstance(ref, tuple) else (ref,)):
        assert o.dtype == r.dtype and o.shape == r.shape
        np.testing.assert_allclose(o, r, equal_nan=True, **_tol(dt))


def _images(shape, dt, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dt)
    if x.size > 3:
        x.flat[1::7] = x.flat[0:-1:7]  # ties: the first maximum wins
    return x


# im2col / col2im: (image shape, kernel, stride): one element; totals not divisible by the block; overlapping and
# disjoint windows; strides that skip pixels.
CONV = [((1, 1, 1, 1), 1, 1), ((1, 1, 3, 3), 2, 1), ((3, 5, 7, 9), 3, 1), ((2, 3, 9, 11), 3, 2),
        ((2, 2, 8, 8), 2, 2), ((1, 3, 10, 7), 2, 3), ((4, 1, 5, 5), 5, 1)]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape, k, s", CONV)
def test_im2col_and_col2im(standin, dt, shape, k, s):
    x = _images(shape, dt)
    cols = standin.im2col(x, k, k, s)
    _same(cols, REF.im2col(x, k, k, s), dt)
    _same(standin.col2im(cols, shape, s), REF.col2im(cols, shape, s), dt)


# max pooling: overlapping windows (stride below the kernel), where one input is the maximum of several windows
# and the backward's atomicAdd accumulates; ties; NaN.
POOL = [((1, 1, 1, 1), 1, 1), ((2, 3, 9, 11), 3, 2), ((1, 2, 6, 6), 3, 1), ((3, 1, 7, 5), 2, 2),
        ((2, 2, 12, 13), 4, 3), ((1, 1, 2, 300), (1, 2), (1, 1))]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape, k, s", POOL)
def test_max_pool2d_and_backward(standin, dt, shape, k, s):
    (kh, kw), (sh, sw) = (k, k) if np.isscalar(k) else k, (s, s) if np.isscalar(s) else s
    x = _images(shape, dt)
    x.flat[5 % x.size] = np.nan
    vals, idx = standin.max_pool2d(x, kh, kw, sh, sw)
    _same((vals, idx), REF.max_pool2d(x, kh, kw, sh, sw), dt)
    g = _images(vals.shape, dt, seed=1)
    _same(standin.max_pool2d_backward(g, idx, x.shape), REF.max_pool2d_backward(g, idx, x.shape), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_max_pool2d_backward_accumulates_repeated_indices(standin, dt):
    """Every window of a plane picking the same input: all of them add into it, at the right place (a wrong atomicAdd
    target fails here). The build runs threads one after another, so it cannot show a race between them: a plain +=
    in place of atomicAdd would pass here; only the device's run (tests/test_cupy_backend.py, -m gpu) can tell."""
    g = _images((2, 3, 4, 5), dt)
    idx = np.zeros(g.shape, np.int64)
    idx[:, :, 1:, :] = 7
    idx[1, 2] = 3
    _same(standin.max_pool2d_backward(g, idx, (2, 3, 6, 6)), REF.max_pool2d_backward(g, idx, (2, 3, 6, 6)), dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("n, c", [(1, 1), (1, 7), (300, 3), (257, 10), (5, 1000)])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:overflow:RuntimeWarning")
def test_softmax_cross_entropy_and_backward(standin, dt, n, c):
    rng = np.random.default_rng(n * c)
    logits = (rng.standard_normal((n, c)) * 5).astype(dt)
    targets = rng.integers(0, c, n)
    targets[::4] = -100  # ignored rows
    if n > 2:
        logits[1, 0] = np.inf  # a non-finite maximum is not subtracted, as NumPy's logsumexp
        logits[2, -1] = np.nan
    loss, lse = standin.softmax_cross_entropy(logits, targets, -100)
    _same((loss, lse), REF.softmax_cross_entropy(logits, targets, -100), dt)
    g = rng.standard_normal(n).astype(dt)
    _same(standin.softmax_cross_entropy_backward(logits, targets, lse, g, -100),
          REF.softmax_cross_entropy_backward(logits, targets, lse, g, -100), dt)


# attention's and layer norm's row kernels: row counts that do not fill the last block, rows of one element
ROWS = [(1, 1), (1, 9), (255, 4), (257, 64), (785, 7)]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("rows, n", ROWS)
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_masked_softmax_and_softmax_backward(standin, dt, rows, n):
    rng = np.random.default_rng(rows * n)
    x = (rng.standard_normal((rows, n)) * 4).astype(dt)
    keep = rng.random((rows, n)) < 0.7
    if rows > 3:
        keep[0] = False  # nothing to attend to: zeros
        x[1, 0], keep[1, 0] = np.nan, True  # a kept NaN: a NaN row
        x[2, -1] = np.nan  # a masked NaN changes nothing
        x[3] = -np.inf  # everything -inf: zeros
    for k in (keep, keep[:1], None):  # a mask per row, one pattern for every row, no mask
        _same(standin.masked_softmax(x, k), REF.masked_softmax(x, k), dt)
    y = REF.masked_softmax(np.nan_to_num(x, nan=0.0), None)
    g = rng.standard_normal((rows, n)).astype(dt)
    _same(standin.softmax_backward(y, g, 1), REF.softmax_backward(y, g, 1), dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("rows, n", ROWS)
def test_layer_norm_and_backward(standin, dt, rows, n):
    rng = np.random.default_rng(rows + n)
    x = (rng.standard_normal((rows, n)) * 3 + 5).astype(dt)
    w, b = rng.standard_normal(n).astype(dt), rng.standard_normal(n).astype(dt)
    for affine in (True, False):
        ww, bb = (w, b) if affine else (None, None)
        got, want = standin.layer_norm(x, ww, bb, 1e-5), REF.layer_norm(x, ww, bb, 1e-5)
        _same(got, want, dt)
        g = rng.standard_normal((rows, n)).astype(dt)
        _same(standin.layer_norm_backward(g, x, want[1], want[2], ww), REF.layer_norm_backward(g, x, want[1],
                                                                                             want[2], ww), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_the_empty_case(standin, dt):
    """No elements: the backend launches nothing and returns the primitive's empty result."""
    x = np.zeros((0, 2, 5, 5), dt)
    _same(standin.im2col(x, 2, 2, 1), REF.im2col(x, 2, 2, 1), dt)
    _same(standin.col2im(REF.im2col(x, 2, 2, 1), x.shape, 1), REF.col2im(REF.im2col(x, 2, 2, 1), x.shape, 1), dt)
    vals, idx = standin.max_pool2d(x, 2, 2, 2, 2)
    _same((vals, idx), REF.max_pool2d(x, 2, 2, 2, 2), dt)
    _same(standin.max_pool2d_backward(vals, idx, x.shape), REF.max_pool2d_backward(vals, idx, x.shape), dt)
    logits, targets = np.zeros((0, 4), dt), np.zeros(0, np.int64)
    _same(standin.softmax_cross_entropy(logits, targets, -100), REF.softmax_cross_entropy(logits, targets, -100), dt)
    for k in elementwise.KERNELS.values():
        ops = [dt(0.5) if p in k.scalars else np.zeros(0, dt) for p in k.params]
        _same(standin.run_elementwise(k, *[o.copy() for o in ops]), REF.run_elementwise(k, *ops), dt)


def _operands(k, n, dt, seed):
    rng = np.random.default_rng(seed)
    return [dt(rng.uniform(0.1, 0.9)) if p in k.scalars else rng.uniform(0.05, 0.95, n).astype(dt) for p in k.params]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK + 1, 3 * BLOCK + 17])
@pytest.mark.parametrize("name", sorted(elementwise.KERNELS))
def test_elementwise_kernels(standin, name, n, dt):
    """Each elementwise definition's CUDA kernel (in-place ones write into their arguments) against the reference."""
    k = elementwise.KERNELS[name]
    ops = _operands(k, n, dt, n)
    got = standin.run_elementwise(k, *[o.copy() if isinstance(o, np.ndarray) else o for o in ops])
    _same(got, REF.run_elementwise(k, *[o.copy() if isinstance(o, np.ndarray) else o for o in ops]), dt)


# ---- offsets past 2**31 and 2**32 -----------------------------------------------------------------------------

def _huge(shape, dt):
    """A zero array backed by address space only (MAP_NORESERVE): pages cost memory once written."""
    nbytes = int(np.prod(shape)) * np.dtype(dt).itemsize
    try:
        buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE)
    except (OSError, OverflowError, ValueError) as exc:  # a 32-bit address space, or a limit on mappings
        pytest.skip(f"cannot map {nbytes / 2**30:.0f} GiB of address space for the 64-bit offset tests: {exc}")
    return np.frombuffer(buf, dtype=dt).reshape(shape)


@pytest.fixture
def big_standin():
    """A stand-in backend whose new arrays take address space only, so outputs past 2**32 elements cost nothing."""
    b = cupy_standin.backend("cupy-standin-big")
    b.xp.empty = lambda shape, dtype=float: _huge(shape, dtype)
    b.xp.zeros = lambda shape, dtype=float: _huge(shape, dtype)
    return b


def _last(per_item, items, total):
    """Run only the blocks that compute the last `items` units of `per_item` threads each."""
    first = (total - per_item * items) // BLOCK
    return cupy_standin.only_blocks(lambda grid: (first, grid[0]))


@pytest.mark.parametrize("planes", [2**31 // (9 * 36) + 1, 2**32 // (9 * 36) + 1], ids=["2^31", "2^32"])
def test_im2col_and_col2im_offsets_past_32_bits(big_standin, planes):
    dt, h, w, k = np.float32, 8, 8, 3  # 36 outputs of 9 entries per plane: the columns pass 2**31 / 2**32 entries
    x = _huge((planes, 1, h, w), dt)
    x[-2:] = _images((2, 1, h, w), dt)
    per = k * k * (h - k + 1) * (w - k + 1)
    with _last(per, 2, planes * per):
        cols = big_standin.im2col(x, k, k, 1)
    assert cols.size > (2**31 if planes < 2**32 // 324 else 2**32)
    _same(np.array(cols[-2:]), REF.im2col(np.array(x[-2:]), k, k, 1), dt)
    with _last(h * w, 2, planes * h * w):
        img = big_standin.col2im(cols, x.shape, 1)
    _same(np.array(img[-2:]), REF.col2im(np.array(cols[-2:]), (2, 1, h, w), 1), dt)


@pytest.mark.parametrize("planes", [2**31 // 49 + 1, 2**32 // 49 + 1], ids=["2^31", "2^32"])
def test_max_pool2d_offsets_past_32_bits(big_standin, planes):
    dt, h, w = np.float32, 8, 8  # 2 by 2 windows, stride 1: 49 outputs per plane
    x = _huge((planes, 1, h, w), dt)
    x[-2:] = _images((2, 1, h, w), dt)
    with _last(49, 2, planes * 49):
        vals, idx = big_standin.max_pool2d(x, 2, 2, 1, 1)
    _same((np.array(vals[-2:]), np.array(idx[-2:])), REF.max_pool2d(np.array(x[-2:]), 2, 2, 1, 1), dt)
    with _last(49, 2, planes * 49):
        g = big_standin.max_pool2d_backward(vals, idx, x.shape)
    _same(np.array(g[-2:]), REF.max_pool2d_backward(np.array(vals[-2:]), np.array(idx[-2:]), (2, 1, h, w)), dt)


@pytest.mark.parametrize("rows", [2**31 // 3 + 1, 2**32 // 3 + 1], ids=["2^31", "2^32"])
def test_softmax_cross_entropy_offsets_past_32_bits(big_standin, rows):
    dt, c = np.float32, 3
    logits = _huge((rows, c), dt)
    targets = _huge((rows,), np.int64)
    logits[-300:] = _images((300, c), dt)
    targets[-300:] = np.random.default_rng(0).integers(0, c, 300)
    with _last(1, 300, rows):
        loss, lse = big_standin.softmax_cross_entropy(logits, targets, -100)
    ref_loss, ref_lse = REF.softmax_cross_entropy(np.array(logits[-300:]), np.array(targets[-300:]), -100)
    _same((np.array(loss[-300:]), np.array(lse[-300:])), (ref_loss, ref_lse), dt)
    with _last(c, 300, rows * c):
        grad = big_standin.softmax_cross_entropy_backward(logits, targets, lse, loss, -100)
    _same(np.array(grad[-300:]), REF.softmax_cross_entropy_backward(
        np.array(logits[-300:]), np.array(targets[-300:]), ref_lse, ref_loss, -100), dt)


@pytest.mark.parametrize("n", [2**31 + 300, 2**32 + 300], ids=["2^31", "2^32"])
def test_elementwise_offsets_past_32_bits(n):
    """The harness every elementwise kernel shares, over flat arrays longer than 2**31 and 2**32 elements."""
    dt = np.float32
    k = elementwise.KERNELS["sigmoid_backward"]
    x, y, out = _huge((n,), dt), _huge((n,), dt), _huge((n,), dt)
    x[-600:], y[-600:] = _operands(k, 600, dt, 0)[:2]
    src, entry = cupy_backend.elementwise_source(k, dt)
    grid, block = cupy_backend._launch(n)
    cuda_cpu.kernel(src, entry)(grid, block, (x, y, out, np.int64(n)), blocks=((n - 600) // BLOCK, grid[0]))
    _same(np.array(out[-600:]), REF.run_elementwise(k, np.array(x[-600:]), np.array(y[-600:])), dt)


# ---- what the build refuses, and that a broken kernel is caught --------------------------------------------------

@pytest.mark.parametrize("body, what", [
    ("__shared__ T tile[256]; tile[threadIdx.x] = x[0]; __syncthreads(); x[0] = tile[0];", "shared memory"),
    ("x[0] = __shfl_down_sync(0xffffffff, x[0], 1);", "a warp shuffle"),
    ("atomicMax((int*)x, 1);", "an atomic other than atomicAdd"),
])
def test_constructs_the_build_cannot_model_are_refused(body, what):
    src = f'typedef float T;\nextern "C" __global__ void mg_test(T* x) {{ {body} }}\n'
    with pytest.raises(cuda_cpu.CannotRunOnCpu, match=f"kernel mg_test uses {re.escape(what)}.*cannot run on the CPU build"):
        cuda_cpu.kernel(src, "mg_test")


def test_launches_outside_cudas_limits_are_refused():
    src, entry = cupy_backend.raw_source("mg_max_pool2d_backward", "float32")
    k = cuda_cpu.kernel(src, entry)
    args = (np.zeros(4, np.float32), np.zeros(4, np.int64), np.zeros(4, np.float32), np.int64(4), np.int64(4),
            np.int64(4))
    for grid, block in [((1,), (2048,)), ((1,), (32, 64)), ((1, 70000), (1,)), ((0,), (4,))]:
        with pytest.raises(ValueError, match="outside CUDA's limits"):
            k(grid, block, args)


def test_arguments_are_checked_against_the_kernels_parameters():
    src, entry = cupy_backend.raw_source("mg_max_pool2d_backward", "float32")
    k = cuda_cpu.kernel(src, entry)
    g, idx, out = np.zeros(4, np.float32), np.zeros(4, np.int64), np.zeros(4, np.float32)
    with pytest.raises(TypeError, match=r"argument 1 \(`const long long \*`\) needs an array of int64"):
        k((1,), (4,), (g, idx.astype(np.int32), out, np.int64(4), np.int64(4), np.int64(4)))
    with pytest.raises(TypeError, match=r"argument 3 \(`long long`\) needs a NumPy int64 scalar, got int"):
        k((1,), (4,), (g, idx, out, 4, np.int64(4), np.int64(4)))
    with pytest.raises(TypeError, match="takes 6 arguments, got 5"):
        k((1,), (4,), (g, idx, out, np.int64(4), np.int64(4)))


@pytest.mark.parametrize("name, good, bad", [
    ("mg_col2im", "if (dx < 0 || dx % stride != 0 || dx / stride >= ow) continue;",
     "if (dx < 0 || dx % stride != 0 || dx / stride > ow) continue;"),
    ("mg_max_pool2d_backward", "atomicAdd(out + (i / per_plane) * hw + idx[i], g[i]);",
     "atomicAdd(out + idx[i], g[i]);"),
])
def test_a_broken_kernel_is_caught(monkeypatch, name, good, bad):
    """An off-by-one in col2im's bounds and a wrong atomicAdd target in the max-pool backward: this path fails."""
    assert good in cupy_backend.RAW[name]
    monkeypatch.setitem(cupy_backend.RAW, name, cupy_backend.RAW[name].replace(good, bad))
    b = cupy_standin.backend("cupy-standin-broken")
    x = _images((2, 3, 7, 8), np.float64)
    if name == "mg_col2im":
        cols = REF.im2col(x, 3, 3, 2)
        got, ref = b.col2im(cols, x.shape, 2), REF.col2im(cols, x.shape, 2)
    else:
        vals, idx = REF.max_pool2d(x, 3, 3, 1, 1)
        got, ref = b.max_pool2d_backward(vals, idx, x.shape), REF.max_pool2d_backward(vals, idx, x.shape)
    assert not np.allclose(got, ref)
