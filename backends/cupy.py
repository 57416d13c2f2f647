"""The CuPy backend: the numpy backend's code over `cupy`, with CUDA kernels where generic calls make extra passes.

CuPy mirrors NumPy, so nearly every primitive is inherited from NumpyBackend running on `self.xp = cupy`.
Overridden: transfers (`cupy.asnumpy`), scatter-add (`cupyx.scatter_add`), `synchronize`, and the fused
kernels (im2col/col2im, max pooling with its argmax and backward, softmax-cross-entropy and its backward,
relu/tanh/sigmoid gradients, the LSTM cell and its backward, the in-place axpby_ and sgd_momentum_
updates). Each kernel's CUDA C source is a module-level string and has a NumPy twin (`TWINS`, keyed by
kernel name) computing the same thing with the kernel's calling convention: the tests' NumPy stand-in for
`cupy` runs the twins, and the GPU tests compare each compiled kernel against its twin.

Importing this module never imports cupy; `check_available()` says what is missing (the package, a usable CUDA
driver, a device), and the module attribute `backend` is built on first use.
"""
import numpy as np

from .numpy import NumpyBackend
from .numpy import backend as _reference  # the twins of the LSTM kernels are the reference primitives

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_CTYPE = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_BLOCK = 256

# Elementwise kernels: (in_params, out_params, operation); `T` is the float dtype of g and y.
ELEMENTWISE = {
    # g * (y > 0) rather than a select, so a NaN/Inf gradient where y <= 0 stays NaN as in NumPy.
    "mg_relu_backward": ("T g, T y", "T out", "out = g * (T)(y > 0)"),
    "mg_tanh_backward": ("T g, T y", "T out", "out = g * ((T)1 - y * y)"),
    "mg_sigmoid_backward": ("T g, T y", "T out", "out = g * (y * ((T)1 - y))"),
    # In place: y is an output parameter, read and written by each thread.
    "mg_axpby": ("T x, T a, T b", "T y", "y = a * y + b * x"),
    "mg_sgd_momentum": ("T g, T lr, T m, T d", "T buf, T p", "buf = m * buf + d * g; p = p + lr * buf"),
}

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
    # One thread per (row, unit) of the (N, H) cell: the four gates of that unit, then its new cell and output.
    "mg_lstm_cell": r"""
extern "C" __global__ void mg_lstm_cell_T(const T* z, const T* c, T* h, T* c_new, T* act, long long total,
                                          long long n) {
    long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= total) return;
    long long r = k / n, j = k % n;
    const T* zr = z + r * 4 * n;
    T* ar = act + r * 5 * n;
    T v, e, gate[4];
    for (int q = 0; q < 4; ++q) {
        v = zr[q * n + j];
        if (q == 2) { gate[q] = tanh(v); continue; }
        e = exp(-fabs(v));  // never overflows
        gate[q] = (v >= (T)0 ? (T)1 : e) / ((T)1 + e);
    }
    T cc = gate[1] * c[k] + gate[0] * gate[2];
    T t = tanh(cc);
    for (int q = 0; q < 4; ++q) ar[q * n + j] = gate[q];
    ar[4 * n + j] = t;
    c_new[k] = cc;
    h[k] = gate[3] * t;
}
""",
    "mg_lstm_cell_backward": r"""
extern "C" __global__ void mg_lstm_cell_backward_T(const T* gh, const T* gc, const T* act, const T* c, T* dz,
                                                   T* dc, long long total, long long n) {
    long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= total) return;
    long long r = k / n, j = k % n;
    const T* ar = act + r * 5 * n;
    T* dr = dz + r * 4 * n;
    T i = ar[j], f = ar[n + j], g = ar[2 * n + j], o = ar[3 * n + j], t = ar[4 * n + j];
    T h = gh[k];
    T d = gc[k] + h * o * ((T)1 - t * t);
    dr[j] = d * g * (i * ((T)1 - i));
    dr[n + j] = d * c[k] * (f * ((T)1 - f));
    dr[2 * n + j] = d * i * ((T)1 - g * g);
    dr[3 * n + j] = h * t * (o * ((T)1 - o));
    dc[k] = d * f;
}
""",
}


def raw_source(name, dtype):
    """The CUDA C source of raw kernel `name` for `dtype` (float32 or float64), and its entry point's name."""
    ctype = _CTYPE[np.dtype(dtype)]
    return f"typedef {ctype} T;\n" + RAW[name].replace(f"{name}_T(", f"{name}_{ctype}("), f"{name}_{ctype}"


def elementwise_harness(name, dtype):
    """Elementwise kernel `name` as a standalone CUDA C kernel over flat arrays (for `nvcc --ptx` checks: CuPy
    wraps the snippet the same way, with T bound to the arguments' dtype)."""
    in_params, out_params, operation = ELEMENTWISE[name]
    ctype = _CTYPE[np.dtype(dtype)]
    ins = [p.split()[-1] for p in in_params.split(",")]
    outs = [p.split()[-1] for p in out_params.split(",")]
    args = ", ".join([f"const T* {v}_" for v in ins] + [f"T* {v}_" for v in outs] + ["long long n"])
    # Outputs are loaded too: CuPy binds each output parameter to its array element, so in-place kernels read it.
    loads = " ".join(f"T {v} = {v}_[i];" for v in ins + outs)
    stores = " ".join(f"{v}_[i] = {v};" for v in outs)
    return (f"typedef {ctype} T;\n"
            f'extern "C" __global__ void {name}_{ctype}({args}) {{\n'
            f"    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
            f"    if (i >= n) return;\n    {loads}\n    {operation};\n    {stores}\n}}\n")


# NumPy twins: the same computation with the kernel's calling convention (raw kernels write into their output
# arguments; elementwise kernels return their output).
def _relu_backward_twin(g, y):
    return g * (y > 0).astype(g.dtype)


def _tanh_backward_twin(g, y):
    return g * (1 - y * y)


def _sigmoid_backward_twin(g, y):
    return g * (y * (1 - y))


def _axpby_twin(x, a, b, y):
    y[...] = a * y + b * x
    return y


def _sgd_momentum_twin(g, lr, m, d, buf, p):
    buf[...] = m * buf + d * g
    p[...] = p + lr * buf
    return buf, p


def _lstm_cell_twin(z, c, h, c_new, act, total, n):
    h[...], c_new[...], act[...] = _reference.lstm_cell(z, c)


def _lstm_cell_backward_twin(gh, gc, act, c, dz, dc, total, n):
    dz[...], dc[...] = _reference.lstm_cell_backward(gh, gc, act, c)


def _im2col_twin(x, out, total, h, w, kh, kw, stride, oh, ow):
    planes = x.reshape(-1, h, w)
    cols = out.reshape(-1, kh, kw, oh, ow)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = planes[:, i:i + stride * oh:stride, j:j + stride * ow:stride]


def _col2im_twin(cols, out, total, h, w, kh, kw, stride, oh, ow):
    planes = out.reshape(-1, h, w)
    planes[...] = 0
    c = cols.reshape(-1, kh, kw, oh, ow)
    for i in range(kh):
        for j in range(kw):
            planes[:, i:i + stride * oh:stride, j:j + stride * ow:stride] += c[:, i, j]


def _max_pool2d_twin(x, out, idx, total, h, w, kh, kw, sh, sw, oh, ow):
    planes = x.reshape(-1, h, w)
    best = planes[:, :sh * oh:sh, :sw * ow:sw].copy()
    k = np.zeros(best.shape, np.int64)
    for a in range(kh):
        for b in range(kw):
            v = planes[:, a:a + sh * oh:sh, b:b + sw * ow:sw]
            take = (v > best) | ((v != v) & (best == best))
            k = np.where(take, a * w + b, k)
            best = np.where(take, v, best)
    base = (np.arange(oh, dtype=np.int64) * (sh * w))[:, None] + np.arange(ow, dtype=np.int64) * sw
    out.reshape(best.shape)[...] = best
    idx.reshape(k.shape)[...] = k + base


def _max_pool2d_backward_twin(g, idx, out, total, per_plane, hw):
    flat = out.reshape(-1)
    pos = (np.arange(total, dtype=np.int64) // per_plane) * hw + idx.reshape(-1)
    np.add.at(flat, pos, g.reshape(-1))


def _softmax_cross_entropy_twin(logits, targets, loss, lse, n, c, ignore_index):
    m = logits.max(axis=1, initial=-np.inf) if c else np.full(n, -np.inf, logits.dtype)
    m = np.where(np.isfinite(m), m, logits.dtype.type(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        lse[...] = np.log(np.exp(logits - m[:, None]).sum(axis=1)) + m
    valid = targets != ignore_index
    picked = np.take_along_axis(logits, np.where(valid, targets, 0)[:, None], axis=1)[:, 0]
    loss[...] = np.where(valid, lse - picked, logits.dtype.type(0))


def _softmax_cross_entropy_backward_twin(logits, targets, lse, g, out, total, c, ignore_index):
    onehot = np.arange(c) == targets[:, None]
    d = g[:, None] * (np.exp(logits - lse[:, None]) - onehot.astype(logits.dtype))
    out[...] = np.where((targets != ignore_index)[:, None], d, logits.dtype.type(0))


TWINS = {
    "mg_relu_backward": _relu_backward_twin,
    "mg_tanh_backward": _tanh_backward_twin,
    "mg_sigmoid_backward": _sigmoid_backward_twin,
    "mg_axpby": _axpby_twin,
    "mg_sgd_momentum": _sgd_momentum_twin,
}
for _name, _twin in [("mg_im2col", _im2col_twin), ("mg_col2im", _col2im_twin), ("mg_max_pool2d", _max_pool2d_twin),
                     ("mg_max_pool2d_backward", _max_pool2d_backward_twin),
                     ("mg_softmax_cross_entropy", _softmax_cross_entropy_twin),
                     ("mg_softmax_cross_entropy_backward", _softmax_cross_entropy_backward_twin),
                     ("mg_lstm_cell", _lstm_cell_twin), ("mg_lstm_cell_backward", _lstm_cell_backward_twin)]:
    for _ctype in _CTYPE.values():
        TWINS[f"{_name}_{_ctype}"] = _twin


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


class CupyBackend(NumpyBackend):
    """NumpyBackend over `xp` (cupy, or the tests' stand-in), with CUDA kernels for the fused primitives."""

    name = "cupy"

    def __init__(self, xp=None, cupyx=None, name="cupy"):
        if xp is None:
            import cupy as xp
            import cupyx
        self.xp, self.cupyx, self.name = xp, cupyx, name
        self.array_type = xp.ndarray
        self._kernels = {}

    def _ok(self, *arrays):
        """Every array is a C-contiguous float32/float64 device array of one dtype: what the kernels take."""
        dt = arrays[0].dtype
        return all(type(a) is self.array_type and a.dtype == dt and a.flags.c_contiguous for a in arrays) \
            and dt in _FLOATS

    def _elementwise(self, name):
        k = self._kernels.get(name)
        if k is None:
            k = self._kernels[name] = self.xp.ElementwiseKernel(*ELEMENTWISE[name], name=name)
        return k

    def _raw(self, name, dtype):
        key = (name, np.dtype(dtype))
        k = self._kernels.get(key)
        if k is None:
            k = self._kernels[key] = self.xp.RawKernel(*raw_source(name, dtype))
        return k

    def _run(self, name, dtype, total, *args):
        if total:
            self._raw(name, dtype)(*_launch(total), args)

    # transfers and device
    def to_numpy(self, a):
        return self.xp.asnumpy(a)

    def synchronize(self):
        self.xp.cuda.Device().synchronize()

    def index_add(self, shape, index, values, dtype):
        out = self.xp.zeros(shape, dtype=dtype)
        self.cupyx.scatter_add(out, index, values)
        return out

    # fused activation gradients
    def relu_backward(self, g, y):
        return self._elementwise("mg_relu_backward")(g, y) if self._ok(g, y) else super().relu_backward(g, y)

    def tanh_backward(self, g, y):
        return self._elementwise("mg_tanh_backward")(g, y) if self._ok(g, y) else super().tanh_backward(g, y)

    def sigmoid_backward(self, g, y):
        return self._elementwise("mg_sigmoid_backward")(g, y) if self._ok(g, y) \
            else super().sigmoid_backward(g, y)

    # LSTM cell, one thread per unit
    def lstm_cell(self, z, c):
        if not (self._ok(z, c) and c.ndim == 2 and z.shape == (c.shape[0], 4 * c.shape[1])):
            return super().lstm_cell(z, c)
        n = c.shape[1]
        h, c_new = self.xp.empty(c.shape, c.dtype), self.xp.empty(c.shape, c.dtype)
        act = self.xp.empty((c.shape[0], 5 * n), c.dtype)
        self._run("mg_lstm_cell", c.dtype, c.size, z, c, h, c_new, act, np.int64(c.size), np.int64(n))
        return h, c_new, act

    def lstm_cell_backward(self, gh, gc, act, c):
        n = c.shape[-1] if c.ndim == 2 else -1
        if not (self._ok(gh, gc, act, c) and gh.shape == gc.shape == c.shape and act.shape == (c.shape[0], 5 * n)):
            return super().lstm_cell_backward(gh, gc, act, c)
        dz, dc = self.xp.empty((c.shape[0], 4 * n), c.dtype), self.xp.empty(c.shape, c.dtype)
        self._run("mg_lstm_cell_backward", c.dtype, c.size, gh, gc, act, c, dz, dc, np.int64(c.size), np.int64(n))
        return dz, dc

    # in-place update
    def axpby_(self, y, a, x, b):
        if self._ok(y, x) and type(a) in (float, int) and type(b) in (float, int) and b != 0:
            t = y.dtype.type
            self._elementwise("mg_axpby")(x, t(a), t(b), y)
            return y
        return super().axpby_(y, a, x, b)

    def sgd_momentum_(self, p, buf, g, lr, momentum, dampening):
        if self._ok(p, buf, g) and p.shape == buf.shape == g.shape and dampening != 1:
            t = p.dtype.type
            self._elementwise("mg_sgd_momentum")(g, t(-lr), t(momentum), t(1 - dampening), buf, p)
            return p
        return super().sgd_momentum_(p, buf, g, lr, momentum, dampening)

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
