"""micrograd.numpy, the Array API namespace: values and dtypes against NumPy, gradients through its functions,
and the standard's conventions (keepdims, correction, copy=, default float64, promotion, dtype functions)."""
import math

import numpy
import pytest

import micrograd as mg
import micrograd.numpy as np

RNG = numpy.random.default_rng(0)
X = RNG.uniform(0.2, 0.9, (3, 4))
Y = RNG.uniform(0.2, 0.9, (3, 4))

UNARY = ["abs", "acos", "asin", "atan", "asinh", "atanh", "ceil", "cos", "cosh", "exp", "expm1", "floor", "log",
         "log1p", "log2", "log10", "negative", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh", "trunc",
         "isnan", "isfinite", "isinf", "signbit", "round"]
NUMPY_NAMES = {"acos": "arccos", "asin": "arcsin", "atan": "arctan", "asinh": "arcsinh", "atanh": "arctanh"}
BINARY = ["add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "atan2", "hypot", "logaddexp",
          "copysign", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "remainder",
          "floor_divide"]
DIFFERENTIABLE_UNARY = ["abs", "acos", "asin", "atan", "asinh", "atanh", "cos", "cosh", "exp", "expm1", "log",
                        "log1p", "log2", "log10", "negative", "sin", "sinh", "sqrt", "square", "tan", "tanh"]
DIFFERENTIABLE_BINARY = ["add", "subtract", "multiply", "divide", "pow", "maximum", "atan2", "hypot", "logaddexp"]


def _check(out, expected, rtol=1e-12):
    assert isinstance(out, mg.Tensor)
    assert out.dtype == expected.dtype, (out.dtype, expected.dtype)
    assert out.shape == expected.shape
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=1e-14, equal_nan=True)


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_numpy(backend, name):
    out = getattr(np, name)(np.asarray(X))
    _check(out.to("cpu"), getattr(numpy, NUMPY_NAMES.get(name, name))(X))


@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_numpy(backend, name):
    out = getattr(np, name)(np.asarray(X), np.asarray(Y))
    _check(out.to("cpu"), getattr(numpy, {"pow": "power", "atan2": "arctan2"}.get(name, name))(X, Y))


@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY)
def test_unary_gradients(backend, name):
    x = np.asarray(X).requires_grad_()
    assert mg.gradcheck(getattr(np, name), x)


@pytest.mark.parametrize("name", DIFFERENTIABLE_BINARY)
def test_binary_gradients(backend, name):
    x, y = np.asarray(X).requires_grad_(), np.asarray(Y).requires_grad_()
    assert mg.gradcheck(getattr(np, name), (x, y))


def test_grad_of_a_numpy_style_function():
    x = np.asarray([0.5, 1.0, 2.0]).requires_grad_()
    (g,) = mg.grad(np.sum(np.sin(x) * x), x)
    v = numpy.array([0.5, 1.0, 2.0])
    numpy.testing.assert_allclose(g.numpy(), numpy.cos(v) * v + numpy.sin(v), rtol=1e-14)


@pytest.mark.parametrize("fn", [
    lambda x: np.sum(x, axis=1, keepdims=True), lambda x: np.prod(x, axis=(0, 1)), lambda x: np.mean(x, axis=0),
    lambda x: np.var(x, axis=1, correction=1), lambda x: np.std(x), lambda x: np.max(x, axis=1),
    lambda x: np.cumulative_sum(x, axis=1, include_initial=True), lambda x: np.cumulative_prod(x, axis=0),
    lambda x: np.diff(x, axis=1, n=2), lambda x: np.tile(x, (2, 1, 2)), lambda x: np.repeat(x, 2, axis=0),
    lambda x: np.moveaxis(x, 0, 1), lambda x: np.take(x, np.asarray([2, 0, 2]), axis=1),
    lambda x: np.take_along_axis(x, np.asarray([[1], [0], [3]]), axis=1), lambda x: np.flip(x, axis=0),
    lambda x: np.roll(x, 2), lambda x: np.concat([x, x], axis=None), lambda x: np.stack([x, x], axis=1),
    lambda x: np.vecdot(x, x), lambda x: np.matmul(x, np.matrix_transpose(x)), lambda x: np.tensordot(x, x, axes=2),
    lambda x: np.einsum("ij,kj->ik", x, x), lambda x: np.dot(x, x.mT), lambda x: np.clip(x, 0.3, 0.7),
    lambda x: np.where(x > 0.5, x, 0.0), lambda x: np.sort(x, axis=0), lambda x: np.unique_values(x),
    lambda x: np.meshgrid(x[0], x[1], indexing="xy")[1], lambda x: np.squeeze(np.expand_dims(x, axis=1), axis=1),
])
def test_composites_are_differentiable(backend, fn):
    x = np.asarray(X).requires_grad_()
    assert mg.gradcheck(fn, x)


@pytest.mark.parametrize("name, call, ref", [
    ("sum", lambda m, x: m.sum(x, axis=1, keepdims=True), None),
    ("prod", lambda m, x: m.prod(x, axis=0), None),
    ("mean", lambda m, x: m.mean(x, axis=(0, 1), keepdims=True), None),
    ("var", lambda m, x: m.var(x, axis=0, correction=1), lambda x: numpy.var(x, axis=0, ddof=1)),
    ("var_ddof", lambda m, x: m.var(x, ddof=1), None),
    ("std", lambda m, x: m.std(x, axis=1), None),
    ("max", lambda m, x: m.max(x, axis=0, keepdims=True), None),
    ("argmax", lambda m, x: m.argmax(x, axis=1), None),
    ("argmin_keepdims", lambda m, x: m.argmin(x, keepdims=True), None),
    ("cumulative_sum", lambda m, x: m.cumulative_sum(x, axis=1), lambda x: numpy.cumsum(x, axis=1)),
    ("diff", lambda m, x: m.diff(x, axis=0), None),
    ("diff_n0", lambda m, x: m.diff(x, n=0, prepend=x, append=x), None),  # x itself, as NumPy
    ("roll_int_shift_axes", lambda m, x: m.roll(x, 1, axis=(0, 1)), None),  # the one shift along every axis
    ("tile", lambda m, x: m.tile(x, (2, 3)), None),
    ("repeat", lambda m, x: m.repeat(x, 3, axis=1), None),
    ("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), None),
    ("count_nonzero", lambda m, x: m.count_nonzero(x > 0.5, axis=0), None),
    ("concatenate", lambda m, x: m.concatenate([x, x], axis=1), None),
    ("linspace", lambda m, x: m.linspace(0, 1, 5, endpoint=False), None),
    ("arange", lambda m, x: m.arange(0.5, 3), None),
    ("eye", lambda m, x: m.eye(3, 4, k=1), None),
    ("full_int", lambda m, x: m.full((2,), 3), None),
    ("zeros", lambda m, x: m.zeros((2, 3)), None),
])
def test_functions_match_numpy(name, call, ref):
    out = call(np, np.asarray(X))
    expected = ref(X) if ref is not None else call(numpy, X)
    _check(out, numpy.asarray(expected))


def test_reductions_over_no_axes_change_nothing():
    x = np.asarray(X)
    _check(np.sum(x, axis=()), X)
    _check(np.max(x, axis=()), X)
    _check(np.var(x, axis=()), numpy.zeros_like(X))


def test_sum_accumulates_in_the_standards_dtypes():
    assert np.sum(np.asarray([1, 2], dtype=np.int8)).dtype == np.int64
    assert np.sum(np.asarray([1, 2], dtype=np.uint8)).dtype == np.uint64
    assert np.sum(np.asarray([True, True])).dtype == np.int64
    assert np.sum(np.asarray([1.0], dtype=np.float32)).dtype == np.float32


def test_searching_sorting_and_sets_match_numpy():
    a = numpy.array([3, 1, 3, 2, 1, 5])
    x = np.asarray(a)
    assert np.argsort(x).tolist() == numpy.argsort(a, kind="stable").tolist()
    assert np.searchsorted(np.asarray([1, 2, 3]), np.asarray([2, 0, 9]), side="right").tolist() == [2, 0, 3]
    values, indices, inverse, counts = np.unique_all(x)
    ev, ei, einv, ec = numpy.unique(a, return_index=True, return_inverse=True, return_counts=True)
    assert (values.tolist(), indices.tolist(), inverse.tolist(), counts.tolist()) == \
        (ev.tolist(), ei.tolist(), einv.tolist(), ec.tolist())
    assert np.unique_counts(x).counts.tolist() == ec.tolist()
    assert [t.tolist() for t in np.nonzero(np.asarray([[0, 1], [2, 0]]))] == [[0, 1], [1, 0]]
    nan_values = np.unique_values(np.asarray([numpy.nan, 1.0, numpy.nan]))
    assert nan_values.shape == (3,)  # the standard: every NaN is distinct


def test_default_dtypes_are_the_standards():
    assert np.asarray([1.5]).dtype == np.float64
    assert np.asarray([1]).dtype == np.int64
    assert np.asarray(True).dtype == np.bool
    assert np.ones(2).dtype == np.float64
    assert np.arange(3).dtype == np.int64 and np.arange(3.0).dtype == np.float64
    assert np.arange(0, -1, 1).shape == (0,)
    info = np.__array_namespace_info__()
    assert info.default_dtypes()["real floating"] == np.float64
    assert info.default_dtypes()["indexing"] == np.int64
    assert str(info.default_device()) == "cpu" and info.default_device() in info.devices()
    assert set(info.dtypes(kind="integral")) == {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                                 "uint64"}
    assert info.capabilities()["boolean indexing"] is True


def test_functions_promote_as_the_standard():
    f32 = np.asarray([1.0, 2.0], dtype=np.float32)
    assert np.add(f32, np.asarray(1.0)).dtype == np.float64  # a 0-d array counts as fully as any other
    assert np.multiply(f32, 2.0).dtype == np.float32  # a Python scalar takes the array's dtype
    assert np.add(np.asarray([1], dtype=np.int8), np.asarray([1], dtype=np.uint8)).dtype == np.int16
    assert np.concat([np.asarray([1], dtype=np.int16), np.asarray([2], dtype=np.int32)]).dtype == np.int32


def test_dtype_functions():
    assert np.result_type(np.int8, np.uint8) == np.int16
    assert np.result_type(np.asarray([1.0], dtype=np.float32), 1.0) == np.float32
    assert np.can_cast(np.int8, np.int64) and not np.can_cast(np.int64, np.int8)
    assert np.can_cast(np.bool, np.float64) and np.can_cast(np.int32, np.float64)
    assert not np.can_cast(np.float64, np.int64) and not np.can_cast(np.float64, np.float32)
    assert np.isdtype(np.float32, "real floating") and np.isdtype(np.uint8, ("bool", "integral"))
    assert not np.isdtype(np.float64, "integral") and np.isdtype(np.int8, np.int8)
    assert np.finfo(np.float32).eps == float(numpy.finfo(numpy.float32).eps)
    assert isinstance(np.finfo(np.float64).smallest_normal, float) and np.finfo(np.float64).bits == 64
    assert np.iinfo(np.uint16).max == 65535 and np.iinfo(np.int8).min == -128
    x = np.asarray([1.5, 2.5])
    assert np.astype(x, np.int32).tolist() == [1, 2] and np.astype(x, np.float64) is not x
    assert np.astype(x, np.float64, copy=False) is x


def test_complex_dtypes_exist_and_raise_not_supported():
    assert np.isdtype(np.complex128, "complex floating")
    with pytest.raises(TypeError, match="complex dtypes are not supported"):
        np.asarray([1.0], dtype=np.complex64)
    with pytest.raises(TypeError, match="complex dtypes are not supported"):
        np.zeros(2, dtype=np.complex128)
    with pytest.raises(TypeError, match="complex dtypes are not supported"):
        np.fft.fft(np.asarray([1.0, 2.0]))


def test_fft_helpers_match_numpy():
    _check(np.fft.fftfreq(7, d=0.5), numpy.fft.fftfreq(7, d=0.5))
    _check(np.fft.rfftfreq(6), numpy.fft.rfftfreq(6))
    a = numpy.arange(12).reshape(3, 4)
    _check(np.fft.fftshift(np.asarray(a)), numpy.fft.fftshift(a))
    _check(np.fft.ifftshift(np.asarray(a), axes=1), numpy.fft.ifftshift(a, axes=1))


def test_asarray_copy_rules():
    t = np.asarray([1.0, 2.0])
    assert np.asarray(t) is t and np.asarray(t, copy=False) is t
    c = np.asarray(t, copy=True)
    c[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    host = numpy.array([1.0, 2.0])
    shared = np.asarray(host, copy=False)
    host[0] = 5.0
    assert shared.tolist() == [5.0, 2.0]  # a NumPy array's memory is shared, not copied
    copied = np.asarray(host, copy=True)
    host[1] = 7.0
    assert copied.tolist() == [5.0, 2.0]
    with pytest.raises(ValueError, match="copy=False"):
        np.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ValueError, match="copy=False"):
        np.asarray(t, dtype=np.float32, copy=False)
    assert np.array([1, 2]).dtype == np.int64


def test_squeeze_refuses_an_axis_longer_than_one():
    with pytest.raises(ValueError, match="squeeze"):
        np.squeeze(np.ones((2, 1)), axis=0)
    assert np.squeeze(np.ones((2, 1)), axis=1).shape == (2,)


def test_tensor_speaks_the_array_api():
    t = np.asarray([1.0])
    assert t.__array_namespace__() is np and t.__array_namespace__(api_version="2024.12") is np
    with pytest.raises(ValueError, match="api_version"):
        t.__array_namespace__(api_version="1999.01")
    assert t.to_device(t.device) is t and complex(t) == 1 + 0j
    assert np.__array_api_version__ == "2024.12"
    assert (np.e, np.pi, np.newaxis) == (math.e, math.pi, None) and math.isinf(np.inf) and math.isnan(np.nan)


def test_floor_divide_follows_the_standards_special_cases():
    out = np.floor_divide(np.asarray([numpy.inf, -1.0, 7.0]), np.asarray([2.0, numpy.inf, 2.0]))
    assert out.tolist()[0] == numpy.inf and math.copysign(1, out.tolist()[1]) == -1 and out.tolist()[2] == 3.0


def test_sign_keeps_nan_and_vecdot_checks_lengths():
    out = np.sign(np.asarray([numpy.nan, -2.0, 0.0, 3.0]))
    assert math.isnan(out.tolist()[0]) and out.tolist()[1:] == [-1.0, 0.0, 1.0]
    assert np.vecdot(np.asarray([1, 2], dtype=np.uint8), np.asarray([3, 4], dtype=np.uint8)).dtype == np.uint8
    with pytest.raises(ValueError, match="vecdot"):
        np.vecdot(np.ones((2, 3)), np.ones((2, 1)))


def test_mean_of_integers_is_float64():
    assert np.mean(np.asarray([1, 2])).dtype == np.float64


def test_tensordot_broadcasts_contracted_axes_and_handles_empty_ones():
    a, b = RNG.uniform(size=(2, 1)), RNG.uniform(size=(3, 4))
    _check(np.tensordot(np.asarray(a), np.asarray(b), axes=1), numpy.broadcast_to(a, (2, 3)) @ b)
    assert np.tensordot(np.ones((1,)), np.ones((0,)), axes=1).tolist() == 0.0
    assert np.tensordot(np.ones((0,)), np.ones((2,)), axes=0).shape == (0, 2)


def test_all_and_any_return_bool_for_every_dtype():
    assert np.all(np.asarray([1, 2], dtype=np.uint8)).dtype == np.bool
    assert np.any(np.asarray([0, 2], dtype=np.uint8), axis=0, keepdims=True).tolist() == [True]


def test_linalg_extension_maps_onto_micrograd_linalg():
    """The standard's 23 linalg names exist; solve promotes its arguments as the standard does, trace accumulates in
    the standard's dtypes, and gradients flow."""
    names = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
             "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
             "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]
    assert [n for n in names if not callable(getattr(np.linalg, n, None))] == []
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 3 * numpy.eye(3)
    b = rng.standard_normal(3).astype(numpy.float32)
    x = np.linalg.solve(np.asarray(a), np.asarray(b))
    assert x.dtype == np.float64
    numpy.testing.assert_allclose(x.numpy(), numpy.linalg.solve(a, b.astype(numpy.float64)), rtol=1e-12)
    assert np.linalg.trace(np.asarray([[1, 2], [3, 4]], dtype=np.uint8)).dtype == np.uint64
    t = np.asarray(a).requires_grad_()
    (g,) = mg.grad(np.linalg.slogdet(t)[1], t)
    numpy.testing.assert_allclose(g.numpy(), numpy.linalg.inv(a).T, rtol=1e-12)


def test_a_zero_length_mask_dimension_selects_nothing():
    """The standard's (and NumPy's) rule, which the Array API suite checks: a boolean mask dimension of length 0
    matches any dimension. PyTorch raises there; micrograd follows the standard (and keeps PyTorch's error for
    other mismatches)."""
    for xs, ks in [((2,), (0,)), ((1, 3), (0,)), ((1, 3), (0, 3)), ((2, 3), (2, 0))]:
        x = np.ones(xs)
        assert x[np.zeros(ks, dtype=np.bool)].shape == numpy.ones(xs)[numpy.zeros(ks, bool)].shape
    with pytest.raises(IndexError, match="shape of the mask"):
        np.ones(3)[np.zeros(2, dtype=np.bool)]
