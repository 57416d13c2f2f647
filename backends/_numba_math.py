"""exp and tanh for the Numba backend's loops, written so that LLVM vectorises them.

Numba lowers math.exp and math.tanh to scalar libm calls: a loop calling them runs one element at a time (about
2.4 ms per million float32 exps here, against 0.47 ms for NumPy's SIMD np.exp), which made every kernel with an
exp (sigmoid, GELU, an LSTM cell, softmax) slower compiled than as a chain of NumPy ufuncs. These versions use
only arithmetic, comparisons, floor and one bit pattern per call (2^k built from its exponent bits), so a loop
over them compiles to AVX-512/AVX2 vector code (about 0.42 ms per million float32 exps).

The algorithms are Cephes' (S. L. Moshier), which libm and NumPy's SIMD versions also descend from:
- exp: k = round(x / ln 2), r = x - k ln 2 with ln 2 split in two (Cody-Waite), a polynomial (float32: degree 7)
  or a Pade-type rational (float64) for e^r, times 2^k; 2^k is applied as two halves so that k may reach the
  subnormal range or 2^128 / 2^1024 without its exponent bits overflowing. Within 1 ulp of the correctly
  rounded result in float32 and 1.6 ulp in float64 on normal outputs (NumPy's float32 SIMD exp: 2.4; its float64
  exp: 0.7), measured by tests/test_numba_math.py against long-double references.
- tanh: a polynomial (float32) or rational (float64) in x^2 for |x| <= 0.625, else 1 - 2 / (e^(2|x|) + 1) with
  the sign of x. About 2 ulp.
NaN stays NaN, exp(+-inf) is inf / 0, tanh(+-inf) is +-1, tanh(-0.0) is -0.0.

Each function is inlined where it is called (inline="always"), so the generated elementwise loops
(backends/_numba_elementwise.py) and hand-written kernels (through `exp`, typed by its argument) vectorise through
it, where the loop around the call has no other obstacle (a float sum, for one, stays in order: not vectorised).
Numba checks a cached function against its own source file only, so KEY (which changes with this file's text)
keeps stale code out: the generated loops put it in their names, and `guard_cache` drops the cached code of the
hand-written kernels that call these functions when it was compiled against another KEY.
"""
import hashlib

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

try:
    with open(__file__, "rb") as _f:
        KEY = hashlib.sha1(_f.read()).hexdigest()[:8]
except OSError:  # installed without its source (then Numba caches nothing from it either)
    KEY = "nosource"

F32, F64 = np.float32, np.float64


def _pow2(numba_type, float_type, width, bias, mantissa):
    """An intrinsic giving 2^k for an integral float k of `numba_type` in the normal range, built from its exponent
    bits: (k + bias) << mantissa, read as the float."""
    @intrinsic
    def pow2(typingctx, k):
        def codegen(context, builder, signature, args):
            ints = ir.IntType(width)
            bits = builder.shl(builder.add(builder.fptosi(args[0], ints), ir.Constant(ints, bias)),
                               ir.Constant(ints, mantissa))
            return builder.bitcast(bits, float_type)
        return numba_type(numba_type), codegen
    return pow2


_pow2_f32 = _pow2(types.float32, ir.FloatType(), 32, 127, 23)  # k in [-126, 127]
_pow2_f64 = _pow2(types.float64, ir.DoubleType(), 64, 1023, 52)  # k in [-1022, 1023]


@njit(inline="always", error_model="numpy")
def exp_f32(x):
    """e^x in float32 (Cephes expf)."""
    xc = x if x > F32(-104.0) else F32(-104.0)  # beyond: 0 and inf after scaling; NaN is restored below
    xc = xc if xc < F32(89.0) else F32(89.0)
    k = np.floor(xc * F32(1.44269504088896341) + F32(0.5))
    r = xc - k * F32(0.693359375) - k * F32(-2.12194440e-4)
    p = ((((F32(1.9875691500e-4) * r + F32(1.3981999507e-3)) * r + F32(8.3334519073e-3)) * r
          + F32(4.1665795894e-2)) * r + F32(1.6666665459e-1)) * r + F32(5.0000001201e-1)
    p = p * (r * r) + r + F32(1.0)
    h = np.floor(k * F32(0.5))
    y = p * _pow2_f32(h) * _pow2_f32(k - h)
    return y if x == x else x


@njit(inline="always", error_model="numpy")
def exp_f64(x):
    """e^x in float64 (Cephes exp: a rational approximation of e^r on |r| <= ln(2) / 2)."""
    xc = x if x > F64(-746.0) else F64(-746.0)
    xc = xc if xc < F64(710.0) else F64(710.0)
    k = np.floor(xc * F64(1.4426950408889634073599) + F64(0.5))
    r = xc - k * F64(6.93145751953125e-1) - k * F64(1.42860682030941723212e-6)
    rr = r * r
    px = r * ((F64(1.26177193074810590878e-4) * rr + F64(3.02994407707441961300e-2)) * rr
              + F64(9.99999999999999999910e-1))
    qx = ((F64(3.00198505138664455042e-6) * rr + F64(2.52448340349684104192e-3)) * rr
          + F64(2.27265548208155028766e-1)) * rr + F64(2.00000000000000000009e0)
    p = F64(1.0) + F64(2.0) * (px / (qx - px))
    h = np.floor(k * F64(0.5))
    y = p * _pow2_f64(h) * _pow2_f64(k - h)
    return y if x == x else x


@njit(inline="always", error_model="numpy")
def tanh_f32(x):
    """tanh(x) in float32 (Cephes tanhf)."""
    z = abs(x)
    z2 = x * x
    small = ((((F32(-5.70498872745e-3) * z2 + F32(2.06390887954e-2)) * z2 - F32(5.37397155531e-2)) * z2
              + F32(1.33314422036e-1)) * z2 - F32(3.33332819422e-1)) * z2 * x + x
    big = F32(1.0) - F32(2.0) / (exp_f32(z + z) + F32(1.0))
    big = big if x >= F32(0.0) else -big
    return big if z > F32(0.625) else (small if z2 != F32(0.0) else x)  # x itself keeps -0.0 (and subnormals)


@njit(inline="always", error_model="numpy")
def tanh_f64(x):
    """tanh(x) in float64 (Cephes tanh: x + x^3 P(x^2) / Q(x^2) for |x| <= 0.625)."""
    z = abs(x)
    z2 = x * x
    p = (F64(-9.64399179425052238628e-1) * z2 - F64(9.92877231001918586564e1)) * z2 - F64(1.61468768441708447952e3)
    q = ((z2 + F64(1.12811678491632931402e2)) * z2 + F64(2.23548839060100448583e3)) * z2 \
        + F64(4.84406305325125486048e3)
    small = x + x * z2 * (p / q)
    big = F64(1.0) - F64(2.0) / (exp_f64(z + z) + F64(1.0))
    big = big if x >= F64(0.0) else -big
    return big if z > F64(0.625) else (small if z2 != F64(0.0) else x)


FUNCTIONS = {np.dtype(np.float32): {"exp": exp_f32, "tanh": tanh_f32},
             np.dtype(np.float64): {"exp": exp_f64, "tanh": tanh_f64}}


def exp(x):
    """e^x for a float32 or float64 scalar in compiled code: exp_f32 or exp_f64 by its type (for kernels compiled for
    either dtype, such as backends/_numba_kernels.py's)."""
    raise TypeError("exp is for Numba-compiled code")


@overload(exp, inline="always")
def _exp_typed(x):
    if x == types.float32:
        return lambda x: exp_f32(x)
    if x == types.float64:
        return lambda x: exp_f64(x)
    return None


def guard_cache(*kernels):
    """Drop the disk-cached code of `kernels` (njit functions with cache=True whose code inlines these functions)
    compiled against another version of this file, and stamp the current KEY beside each one's cache index. A
    cache Numba cannot write, or a Numba without these internals, is left alone."""
    for kernel in kernels:
        try:
            cache = kernel._cache
            stamp = cache._cache_file._index_path + ".key"
        except AttributeError:
            continue
        try:
            with open(stamp) as f:
                if f.read() == KEY:
                    continue
        except OSError:
            pass
        try:
            cache.flush()
            with open(stamp, "w") as f:
                f.write(KEY)
        except OSError:
            pass
