"""The CuPy backend: the reference backend's code over `cupy`, with CUDA kernels where generic calls make extra
passes.

CuPy mirrors NumPy, so nearly every primitive is inherited from ReferenceBackend running on `self.xp = cupy`.
Overridden: transfers (`cupy.asnumpy`), scatter-add (`cupyx.scatter_add`), `synchronize`, the elementwise
definitions of backends/elementwise.py (each one CuPy ElementwiseKernel, its CUDA C generated from the
definition by backends/codegen.py), and the raw kernels below (im2col/col2im, max pooling with its argmax
and backward, softmax-cross-entropy and its backward, attention's masked softmax rows, softmax's gradient, layer
norm and its input gradient), whose NumPy reference is the reference backend's primitive of the same name.
conv2d and batch norm run the reference's code here: im2col's kernel with one batched cuBLAS product, and
CuPy's reductions (a thread per channel would leave the device idle). The tests' NumPy stand-in for `cupy` runs
these kernels' own CUDA source, built for the CPU by backends/cuda_cpu.py; the GPU tests compare each kernel on the device with the reference and that build.

Importing this module never imports cupy; `check_available()` says what is missing (the package, a usable CUDA
driver, a device), and the module attribute `backend` is built on first use.
"""
import numpy as np

from ._layout import keep_rows
from .reference import ReferenceBackend

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_CTYPE = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_BLOCK = 256

# Raw kernels, written over `T` (float or double, substituted before compiling: one kernel per dtype).
# Sizes and indices are long long: large activations pass 2**31 elements.
RAW = {
    "mg_im2col": r"""
extern "C" __global__ void mg_im2col_T(const T* x, T* out, long long total, long long h, long long w,
                                       long long kh, long long kw, long long stride, long long oh, long long ow) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long ox = i % ow, t = i / ow;
    long long oy = t % oh; t /= oh;
    long long kj = t % kw; t /= kw;
    long long ki = t % kh; long long p = t / kh;
    out[i] = x[(p * h + oy * stride + ki) * w + ox * stride + kj];
}
""",
    # One thread per image element gathers every patch entry that came from it: no atomics, a fixed order.
    "mg_col2im": r"""
extern "C" __global__ void mg_col2im_T(const T* cols, T* out, long long total, long long h, long long w,
                                       long long kh, long long kw, long long stride, long long oh, long long ow) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long x = i % w, t = i / w;
    long long y = t % h; long long p = t / h;
    T acc = 0;
    for (long long ki = 0; ki < kh; ++ki) {
        long long dy = y - ki;
        if (dy < 0 || dy % stride != 0 || dy / stride >= oh) continue;
        for (long long kj = 0; kj < kw; ++kj) {
            long long dx = x - kj;
            if (dx < 0 || dx % stride != 0 || dx / stride >= ow) continue;
            acc += cols[(((p * kh + ki) * kw + kj) * oh + dy / stride) * ow + dx / stride];
        }
    }
    out[i] = acc;
}
""",
    # The first maximum in row-major window order, or the first NaN, as NumPy's argmax picks.
    "mg_max_pool2d": r"""
extern "C" __global__ void mg_max_pool2d_T(const T* x, T* out, long long* idx, long long total, long long h,
                                           long long w, long long kh, long long kw, long long sh, long long sw,
                                           long long oh, long long ow) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long ox = i % ow, t = i / ow;
    long long oy = t % oh; long long p = t / oh;
    const T* plane = x + p * h * w;
    long long base = oy * sh * w + ox * sw;
    T best = plane[base];
    long long k = 0;
    for (long long a = 0; a < kh; ++a) {
        for (long long b = 0; b < kw; ++b) {
            T v = plane[base + a * w + b];
            if (v > best || (v != v && best == best)) { best = v; k = a * w + b; }
        }
    }
    out[i] = best;
    idx[i] = base + k;
}
""",
    # out must be zeroed; overlapping windows accumulate with atomicAdd (double needs sm_60+).
    "mg_max_pool2d_backward": r"""
extern "C" __global__ void mg_max_pool2d_backward_T(const T* g, const long long* idx, T* out, long long total,
                                                    long long per_plane, long long hw) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    atomicAdd(out + (i / per_plane) * hw + idx[i], g[i]);
}
""",
    # One thread per row: max, then the shifted sum of exponentials; the picked logit is read once.
    "mg_softmax_cross_entropy": r"""
extern "C" __global__ void mg_softmax_cross_entropy_T(const T* logits, const long long* targets, T* loss, T* lse,
                                                      long long n, long long c, long long ignore_index) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n) return;
    const T* row = logits + r * c;
    T m = 0;
    bool nan = false, any = false;
    for (long long j = 0; j < c; ++j) {
        T v = row[j];
        if (v != v) nan = true;
        else if (!any || v > m) { m = v; any = true; }
    }
    if (nan || !any || m - m != (T)0) m = 0;  // as NumPy's logsumexp: a non-finite maximum is not subtracted
    T s = 0;
    for (long long j = 0; j < c; ++j) s += exp(row[j] - m);
    T l = log(s) + m;
    lse[r] = l;
    long long t = targets[r];
    loss[r] = t == ignore_index ? (T)0 : l - row[t];
}
""",
    # Attention's rows, one thread per row: the kept maximum, the shifted exponentials (0 where masked) and their
    # sum, then the quotients; a row whose kept maximum is NaN is NaN, one with nothing above -inf is 0.
    "mg_masked_softmax": r"""
extern "C" __global__ void mg_masked_softmax_T(const T* x, const bool* keep, T* out, long long rows, long long n,
                                               long long keep_rows) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const T* row = x + r * n;
    const bool* k = keep + (r % keep_rows) * n;
    T* o = out + r * n;
    T m = -INFINITY;
    bool nan = false;
    for (long long j = 0; j < n; ++j) {
        if (!k[j]) continue;
        T v = row[j];
        if (v != v) { nan = true; break; }
        if (v > m) m = v;
    }
    if (nan || m == -INFINITY) {
        for (long long j = 0; j < n; ++j) o[j] = nan ? (T)NAN : (T)0;
        return;
    }
    double s = 0;
    for (long long j = 0; j < n; ++j) {
        T e = k[j] ? exp(row[j] - m) : (T)0;
        o[j] = e;
        s += e;
    }
    for (long long j = 0; j < n; ++j) o[j] = o[j] / (T)s;
}
""",
    # softmax's gradient given its output y, one thread per row: y (g - sum(g y)).
    "mg_softmax_backward": r"""
extern "C" __global__ void mg_softmax_backward_T(const T* y, const T* g, T* out, long long rows, long long n) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const T* yr = y + r * n;
    const T* gr = g + r * n;
    double s = 0;
    for (long long j = 0; j < n; ++j) s += (double)gr[j] * yr[j];
    for (long long j = 0; j < n; ++j) out[r * n + j] = yr[j] * (gr[j] - (T)s);
}
""",
    # Layer normalisation over rows (R, D), one thread per row: two-pass mean and variance, then the map; and
    # its input gradient given the saved mean and invstd (the weight's and bias's gradients are column sums).
    "mg_layer_norm": r"""
extern "C" __global__ void mg_layer_norm_T(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd,
                                           long long rows, long long d, T eps, long long affine) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const T* row = x + r * d;
    double s = 0;
    for (long long j = 0; j < d; ++j) s += row[j];
    T m = (T)(s / (double)d);
    double v = 0;
    for (long long j = 0; j < d; ++j) v += (double)(row[j] - m) * (row[j] - m);
    T inv = (T)1 / sqrt((T)(v / (double)d) + eps);
    mean[r] = m;
    invstd[r] = inv;
    for (long long j = 0; j < d; ++j) {
        T h = (row[j] - m) * inv;
        y[r * d + j] = affine ? h * w[j] + b[j] : h;
    }
}
""",
    "mg_layer_norm_backward": r"""
extern "C" __global__ void mg_layer_norm_backward_T(const T* g, const T* x, const T* mean, const T* invstd,
                                                    const T* w, T* gx, long long rows, long long d,
                                                    long long affine) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const T* gr = g + r * d;
    const T* row = x + r * d;
    T m = mean[r], inv = invstd[r];
    double sa = 0, sc = 0;
    for (long long j = 0; j < d; ++j) {
        T gh = affine ? gr[j] * w[j] : gr[j];
        sa += gh;
        sc += (double)gh * ((row[j] - m) * inv);
    }
    T a = (T)(sa / (double)d), c = (T)(sc / (double)d);
    for (long long j = 0; j < d; ++j) {
        T gh = affine ? gr[j] * w[j] : gr[j];
        gx[r * d + j] = inv * (gh - a - (row[j] - m) * inv * c);
    }
}
""",
    "mg_softmax_cross_entropy_backward": r"""
extern "C" __global__ void mg_softmax_cross_entropy_backward_T(const T* logits, const long long* targets,
                                                               const T* lse, const T* g, T* out, long long total,
                                                               long long c, long long ignore_index) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long r = i / c, j = i % c;
    long long t = targets[r];
    out[i] = t == ignore_index ? (T)0 : g[r] * (exp(logits[i] - lse[r]) - (T)(j == t));
}
""",
}


def raw_source(name, dtype):
    """The CUDA C source of raw kernel `name` for `dtype` (float32 or float64), and its entry point's name."""
    ctype = _CTYPE[np.dtype(dtype)]
    return f"typedef {ctype} T;\n" + RAW[name].replace(f"{name}_T(", f"{name}_{ctype}("), f"{name}_{ctype}"


def elementwise_name(kernel):
    """The CuPy name of the ElementwiseKernel built from the definition `kernel`."""
    return f"mg_{kernel.name}"


def elementwise_harness(kernel, dtype):
    """The definition `kernel` as a standalone CUDA C kernel over flat arrays (for `nvcc --ptx` checks: CuPy wraps
    the operation the same way, each parameter bound to its array's element and T to the arrays' dtype)."""
    in_params, out_params, operation = kernel.cuda()
    ctype = _CTYPE[np.dtype(dtype)]
    ins = [p.split()[-1] for p in in_params.split(",")]
    outs = [p.split()[-1] for p in out_params.split(",")]
    args = ", ".join([f"const T* {v}p" for v in ins] + [f"T* {v}p" for v in outs] + ["long long n"])
    loads = " ".join(f"T {v} = {v}p[i];" for v in ins + outs)  # outputs too: in-place kernels read them
    stores = " ".join(f"{v}p[i] = {v};" for v in outs)
    name = f"{elementwise_name(kernel)}_{ctype}"
    return (f"typedef {ctype} T;\n"
            f'extern "C" __global__ void {name}({args}) {{\n'
            f"    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
            f"    if (i >= n) return;\n    {loads}\n    {operation}\n    {stores}\n}}\n")


def elementwise_source(kernel, dtype):
    """elementwise_harness(kernel, dtype) and its entry point's name (what backends/cuda_cpu.py builds)."""
    return elementwise_harness(kernel, dtype), f"{elementwise_name(kernel)}_{_CTYPE[np.dtype(dtype)]}"


def check_available():
    """Raise ImportError/RuntimeError naming what is missing: the cupy package, a usable CUDA driver, a device."""
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(f"the cupy package cannot be imported ({exc}); install it with pip install -e '.[cuda12]' "
                          f"or '.[cuda13]' (the CUDA major version of the driver)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver, a driver too old for this cupy, or no device
        text = str(exc)
        what = "no CUDA device" if "NoDevice" in text else "no usable CUDA driver"
        raise RuntimeError(f"cupy {cupy.__version__} is installed but there is {what} ({type(exc).__name__}: "
                           f"{text})") from None
    if count == 0:
        raise RuntimeError(f"cupy {cupy.__version__} is installed but no CUDA device is visible")


def _launch(n):
    return ((n + _BLOCK - 1) // _BLOCK,), (_BLOCK,)


class CupyBackend(ReferenceBackend):
    """ReferenceBackend over `xp` (cupy, or the tests' stand-in), with CUDA kernels for the fused primitives."""

    name = "cupy"

    def __init__(self, xp=None, cupyx=None, name="cupy"):
        if xp is None:
            import cupy as xp
            import cupyx
        self.xp, self.cupyx, self.name = xp, cupyx, name
        self.array_type = xp.ndarray
        self.device = f"cuda:{xp.cuda.Device().id}"
        self._kernels = {}

    def _ok(self, *arrays):
        """Every array is a C-contiguous float32/float64 device array of one dtype: what the kernels take."""
        dt = arrays[0].dtype
        return all(type(a) is self.array_type and a.dtype == dt and a.flags.c_contiguous for a in arrays) \
            and dt in _FLOATS

    def _raw(self, name, dtype):
        key = (name, np.dtype(dtype))
        k = self._kernels.get(key)
        if k is None:
            k = self._kernels[key] = self.xp.RawKernel(*raw_source(name, dtype))
        return k

    def _run(self, name, dtype, total, *args):
        if total:
            self._raw(name, dtype)(*_launch(total), args)

    def _address(self, a):
        return a.data.ptr if hasattr(a.data, "ptr") else super()._address(a)  # the stand-in's are NumPy's

    # transfers and device
    def to_numpy(self, a):
        return self.xp.asnumpy(a)

    def synchronize(self):
        self.xp.cuda.Device().synchronize()

    def use_device(self, index):
        """Run on CUDA device `index` from now on (arrays already made stay on their device)."""
        self.xp.cuda.Device(index).use()
        self.device = f"cuda:{index}"

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        self.cupyx.scatter_add(out, index, values)
        return out

    # elementwise definitions: one ElementwiseKernel each, generated from the definition
    def run_elementwise(self, kernel, *operands, out=None):
        arrays = [o for p, o in zip(kernel.params, operands) if p not in kernel.scalars]
        dt = arrays[0].dtype
        if not (dt in _FLOATS and all(type(a) is self.array_type and a.dtype == dt for a in arrays)):
            return super().run_elementwise(kernel, *operands, out=out)
        got = self._kernels.get(kernel.name)
        if got is None:  # the kernel, and where its inputs, scalars and in-place outputs are among the operands
            got = self._kernels[kernel.name] = (
                self.xp.ElementwiseKernel(*kernel.cuda(), name=elementwise_name(kernel)),
                [(i, p in kernel.scalars) for i, p in enumerate(kernel.params) if p not in kernel.inplace],
                [kernel.params.index(p) for p in kernel.inplace])
        k, inputs, inplace = got
        ins = [dt.type(operands[i]) if scalar else operands[i] for i, scalar in inputs]
        written = [operands[i] for i in inplace]
        if out is None and not written:
            return k(*ins)
        new = list(out) if out is not None else [self.xp.empty(written[0].shape, dt) for _ in kernel.new_outputs]
        k(*ins, *written, *new)
        results = written + new
        return results[0] if len(results) == 1 else tuple(results)

    # convolution and pooling, one thread per output element
    def im2col(self, x, kh, kw, stride):
        x = self.xp.ascontiguousarray(x)
        if not self._ok(x):
            return super().im2col(x, kh, kw, stride)
        n, c, h, w = x.shape
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
        out = self.xp.empty((n, c, kh, kw, oh, ow), x.dtype)
        i64 = np.int64
        self._run("mg_im2col", x.dtype, out.size, x, out, i64(out.size), i64(h), i64(w), i64(kh), i64(kw),
                  i64(stride), i64(oh), i64(ow))
        return out

    def col2im(self, cols, shape, stride):
        cols = self.xp.ascontiguousarray(cols)
        if not self._ok(cols):
            return super().col2im(cols, shape, stride)
        n, c, kh, kw, oh, ow = cols.shape
        out = self.xp.empty(shape, cols.dtype)
        i64 = np.int64
        self._run("mg_col2im", cols.dtype, out.size, cols, out, i64(out.size), i64(shape[2]), i64(shape[3]),
                  i64(kh), i64(kw), i64(stride), i64(oh), i64(ow))
        return out

    def max_pool2d(self, x, kh, kw, sh, sw):
        x = self.xp.ascontiguousarray(x)
        if not self._ok(x):
            return super().max_pool2d(x, kh, kw, sh, sw)
        n, c, h, w = x.shape
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        out = self.xp.empty((n, c, oh, ow), x.dtype)
        idx = self.xp.empty((n, c, oh, ow), np.int64)
        i64 = np.int64
        self._run("mg_max_pool2d", x.dtype, out.size, x, out, idx, i64(out.size), i64(h), i64(w), i64(kh),
                  i64(kw), i64(sh), i64(sw), i64(oh), i64(ow))
        return out, idx

    def max_pool2d_backward(self, g, indices, shape):
        g, indices = self.xp.ascontiguousarray(g), self.xp.ascontiguousarray(indices)
        if not self._ok(g) or indices.dtype != np.int64 or indices.shape != g.shape or len(shape) != 4:
            return super().max_pool2d_backward(g, indices, shape)
        out = self.xp.zeros(shape, g.dtype)
        per_plane = g.shape[2] * g.shape[3]
        self._run("mg_max_pool2d_backward", g.dtype, g.size, g, indices, out, np.int64(g.size), np.int64(per_plane),
                  np.int64(shape[2] * shape[3]))
        return out

    # attention's softmax, softmax's gradient and layer norm: one thread per row
    def masked_softmax(self, a, keep):
        a = self.xp.ascontiguousarray(a)
        ok = self._ok(a) and a.ndim >= 1 and a.size and (keep is None or (
            type(keep) is self.array_type and keep.dtype == np.bool_))
        rows = keep_rows(self.xp, keep, a.shape) if ok else None
        if rows is None:
            return super().masked_softmax(a, keep)
        n = a.shape[-1]
        out = self.xp.empty(a.shape, a.dtype)
        i64 = np.int64
        self._run("mg_masked_softmax", a.dtype, a.size // n, a, rows, out, i64(a.size // n), i64(n), i64(rows.shape[0]))
        return out

    def softmax_backward(self, y, g, axis):
        if not (self._ok(y, g) and y.shape == g.shape and y.ndim and y.size and axis == y.ndim - 1):
            return super().softmax_backward(y, g, axis)
        out = self.xp.empty(y.shape, y.dtype)
        n = y.shape[-1]
        self._run("mg_softmax_backward", y.dtype, y.size // n, y, g, out, np.int64(y.size // n), np.int64(n))
        return out

    def layer_norm(self, x, weight, bias, eps):
        affine = weight is not None and bias is not None
        if not (self._ok(x) and x.ndim == 2 and x.size and (weight is None) == (bias is None)
                and (not affine or self._ok(x, weight, bias))):
            return super().layer_norm(x, weight, bias, eps)
        rows, d = x.shape
        y = self.xp.empty(x.shape, x.dtype)
        mean, invstd = self.xp.empty(rows, x.dtype), self.xp.empty(rows, x.dtype)
        w, b = (weight, bias) if affine else (x, x)  # not read without affine
        self._run("mg_layer_norm", x.dtype, rows, x, w, b, y, mean, invstd, np.int64(rows), np.int64(d),
                  x.dtype.type(eps), np.int64(affine))
        return y, mean, invstd

    def layer_norm_backward(self, g, x, mean, invstd, weight):
        g = self.xp.ascontiguousarray(g)
        if not (self._ok(g, x, mean, invstd) and x.ndim == 2 and x.size and g.shape == x.shape
                and (weight is None or self._ok(x, weight))):
            return super().layer_norm_backward(g, x, mean, invstd, weight)
        rows, d = x.shape
        gx = self.xp.empty(x.shape, x.dtype)
        self._run("mg_layer_norm_backward", x.dtype, rows, g, x, mean, invstd, x if weight is None else weight, gx,
                  np.int64(rows), np.int64(d), np.int64(weight is not None))
        return (gx,) + self._layer_norm_param_grads(g, (x - mean[:, None]) * invstd[:, None])

    # softmax-cross-entropy: one thread per row forward, one per logit backward
    def _sce_ok(self, logits, targets):
        return self._ok(logits) and logits.ndim == 2 and type(targets) is self.array_type \
            and targets.dtype == np.int64 and targets.shape == logits.shape[:1] and targets.flags.c_contiguous

    def softmax_cross_entropy(self, logits, targets, ignore_index):
        if not self._sce_ok(logits, targets):
            return super().softmax_cross_entropy(logits, targets, ignore_index)
        n, c = logits.shape
        loss = self.xp.empty(n, logits.dtype)
        lse = self.xp.empty(n, logits.dtype)
        self._run("mg_softmax_cross_entropy", logits.dtype, n, logits, targets, loss, lse, np.int64(n), np.int64(c),
                  np.int64(ignore_index))
        return loss, lse

    def softmax_cross_entropy_backward(self, logits, targets, lse, g, ignore_index):
        if not (self._sce_ok(logits, targets) and self._ok(logits, lse, g)
                and lse.shape == g.shape == targets.shape):
            return super().softmax_cross_entropy_backward(logits, targets, lse, g, ignore_index)
        out = self.xp.empty(logits.shape, logits.dtype)
        self._run("mg_softmax_cross_entropy_backward", logits.dtype, out.size, logits, targets, lse, g, out,
                  np.int64(out.size), np.int64(logits.shape[1]), np.int64(ignore_index))
        return out


def __getattr__(name):
    """`backend` is built on first use, after the registry's check_available(): importing cupy stays lazy."""
    if name == "backend":
        global backend
        backend = CupyBackend()
        return backend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
