"""Hypothesis strategies for micrograd, and `check_function`, a property test for differentiable functions.

    from micrograd.testing.strategies import check_function, tensors

    def test_my_softplus():
        check_function(MySoftplus, arity=1, domain=(-4, 4))

Strategies: `tensors` (mg.Tensors of a shape, dtype and backend), `broadcastable_shapes`, `valid_axes`,
`backends`. Settings (max_examples, derandomize...) come from the active Hypothesis profile; nothing here
changes them globally.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import backend as _registry
from .. import dtypes
from ..autograd import Function, no_grad
from ..factories import tensor
from ..gradcheck import GradcheckError, gradcheck
from ..tensor import Tensor

RANGE = (-3.0, 3.0)  # default element range: finite, moderate, no subnormals
# Forward agreement with the numpy backend, as API.md states it; atol only for results near zero.
FORWARD_TOLERANCE = {dtypes.float64: (1e-10, 1e-12), dtypes.float32: (1e-4, 1e-5)}


def _floats(low, high, dtype):
    """Finite floats of `dtype` within [low, high], the bounds rounded inwards to that dtype."""
    if dtype == dtypes.float32:
        lo, hi = np.float32(low), np.float32(high)
        lo = lo if lo >= low else np.nextafter(lo, np.float32(np.inf))
        hi = hi if hi <= high else np.nextafter(hi, np.float32(-np.inf))
        return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False, allow_subnormal=False,
                         width=32)
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _default_elements(dtype):
    if dtype.kind == "f":
        return _floats(*RANGE, dtype)
    if dtype == dtypes.int64:
        return st.integers(-10, 10)
    return st.booleans()


def _strategy(x):
    return x if isinstance(x, st.SearchStrategy) else st.just(x)


def tensors(shape=None, dtype="float64", elements=None, backend=None, requires_grad=False, min_dims=0,
            max_dims=4, min_side=1, max_side=5):
    """A strategy of mg.Tensors.

    Args:
        shape: a tuple (or an int), a strategy of tuples, or None for any shape within min/max dims and sides.
        dtype: float64, float32, int64 or bool (a name or dtype), or a strategy of them.
        elements: a strategy of the values; default finite floats in [-3, 3] without subnormals (ints in
            [-10, 10]).
        backend: a backend name, a strategy of names (e.g. `backends()`), or None for the default backend
            current when the example is drawn.
        requires_grad: make the tensors leaves that require grad (floating dtypes only).
    """
    if not isinstance(dtype, st.SearchStrategy):
        dtype = dtypes.as_dtype(dtype, "tensors")
        if requires_grad and dtype.kind != "f":
            raise ValueError(f"tensors: requires_grad needs a floating dtype; got {dtype.name}")
    if shape is None:
        shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    elif isinstance(shape, int):
        shape = (shape,)
    shapes, dtype_st, backend_st = _strategy(shape), _strategy(dtype), _strategy(backend)

    @st.composite
    def draw_tensor(draw):
        dt = dtypes.as_dtype(draw(dtype_st), "tensors")
        arr = draw(hnp.arrays(dt, tuple(draw(shapes)),
                              elements=_default_elements(dt) if elements is None else elements))
        name = draw(backend_st)
        return tensor(arr, dtype=dt, requires_grad=requires_grad,
                      backend=_registry.get_backend() if name is None else name)

    return draw_tensor()


def broadcastable_shapes(num_shapes, min_dims=0, max_dims=4, min_side=1, max_side=5):
    """A strategy of tuples of `num_shapes` shapes that broadcast together (NumPy rules; () included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(
        lambda r: tuple(tuple(s) for s in r.input_shapes))


def valid_axes(ndim, *, allow_none=True, allow_tuple=True):
    """A strategy of `axis` arguments valid for `ndim` dimensions.

    None, an int in [-ndim, ndim) (only when ndim > 0), or a tuple of distinct axes, possibly empty, each
    written as positive or negative. `allow_tuple=False, allow_none=False` gives single int axes.
    """
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))  # distinct axes in [-ndim, ndim), possibly ()
    if not options:
        raise ValueError(f"valid_axes: no axis fits; got ndim={ndim} with allow_none and allow_tuple off")
    return st.one_of(options)


def backends():
    """A strategy of the names of the backends usable on this machine."""
    return st.sampled_from(_registry.available_backends())


def _host_outputs(out):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o._host() if isinstance(o, Tensor) else np.asarray(o) for o in outs]


def _check_function_args(fn, arity, domain, dtype, backends):
    """check_function's arguments validated: (the callable, its name, the dtype, (low, high), backend names)."""
    call = fn.apply if isinstance(fn, type) and issubclass(fn, Function) else fn
    if not callable(call):
        raise TypeError(f"check_function: fn must be callable or an mg.Function subclass; got {type(fn).__name__}")
    if not isinstance(arity, int) or arity < 1:
        raise ValueError(f"check_function: arity must be a positive int; got {arity!r}")
    dt = dtypes.as_dtype(dtype, "check_function")
    if dt.kind != "f":
        raise ValueError(f"check_function: dtype must be float32 or float64; got {dt.name}")
    low, high = RANGE if domain is None else (float(domain[0]), float(domain[1]))
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"check_function: domain must be a finite (low, high) pair with low < high; got {domain!r}")
    names = list(_registry.available_backends() if backends is None else backends)
    for b in names:
        _registry.backend_object(b)  # an unavailable backend raises here, saying why
    return call, getattr(fn, "__qualname__", type(fn).__name__), dt, (low, high), names


def _check_example(call, name, names, dt, arrays):
    """One drawn example: gradcheck on each backend, and each backend's outputs against the numpy backend's."""
    rtol, atol = FORWARD_TOLERANCE[dt]
    shape_text = ", ".join(str(a.shape) for a in arrays)
    with no_grad(), _registry.use_backend("numpy"):
        expected = _host_outputs(call(*[tensor(a, dtype=dt, backend="numpy") for a in arrays]))
    for b in names:
        where = f"check_function({name}) on backend {b!r} with input shapes {shape_text}"
        with _registry.use_backend(b):
            xs = [tensor(a, dtype=dt, requires_grad=True, backend=b) for a in arrays]
            try:
                gradcheck(call, xs, check_forward_ad=True)
            except GradcheckError as exc:
                raise GradcheckError(f"{where}: {exc}") from None
            with no_grad():
                got = _host_outputs(call(*[x.detach() for x in xs]))
        if len(got) != len(expected):
            raise AssertionError(f"{where}: {len(got)} outputs; the numpy backend gives {len(expected)}")
        for k, (g, e) in enumerate(zip(got, expected)):
            if g.dtype != e.dtype or g.shape != e.shape:
                raise AssertionError(f"{where}: output {k} is {g.dtype.name} of shape {g.shape}; the numpy "
                                     f"backend gives {e.dtype.name} of shape {e.shape}")
            try:
                np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
            except AssertionError as exc:
                raise AssertionError(f"{where}: output {k} differs from the numpy backend's: {exc}") from None


def check_function(fn, arity, domain=None, dtype="float64", max_examples=None, backends=None, shapes=None):
    """Property-test a differentiable function on every backend: gradients, JVPs and forward values.

    For each drawn example (`arity` float inputs of mutually broadcastable shapes, values in `domain`),
    on each backend: `mg.gradcheck` against float64 finite differences, reverse mode and forward mode
    (check_forward_ad: a Function's own `jvp`, or the JVP derived from its backward), and the forward result against
    the numpy backend's (float64: rtol 1e-10, atol 1e-12; float32: rtol 1e-4, atol 1e-5). Runs a Hypothesis
    test internally, so call it from a plain test function (not from inside another @given).

    Args:
        fn: a callable taking `arity` Tensors, or an mg.Function subclass (its `apply` is called).
        arity: the number of Tensor arguments.
        domain: (low, high): values are drawn from it, kept 1e-3 * (high - low) from the ends so the
            finite-difference steps stay inside; default (-3, 3). Choose it away from kinks.
        dtype: "float64" or "float32".
        max_examples: Hypothesis examples; None keeps the active profile's.
        backends: backend names to check; default every available one.
        shapes: a sequence of `arity` shapes, or a strategy of such tuples; default `broadcastable_shapes(
            arity, max_dims=3, max_side=4)`.

    Raises GradcheckError (gradients) or AssertionError (forward), naming the backend and input shapes;
    Hypothesis reports the smallest failing inputs.
    """
    call, name, dt, (low, high), names = _check_function_args(fn, arity, domain, dtype, backends)
    margin = 1e-3 * (high - low)
    if shapes is None:
        shapes = broadcastable_shapes(arity, max_dims=3, max_side=4)
    elif not isinstance(shapes, st.SearchStrategy):
        shapes = tuple(tuple(s) for s in shapes)
        if len(shapes) != arity:
            raise ValueError(f"check_function: shapes needs {arity} shapes; got {len(shapes)}")
        shapes = st.just(shapes)
    elements = _floats(low + margin, high - margin, dt)
    inputs = shapes.flatmap(lambda ss: st.tuples(*[hnp.arrays(dt, s, elements=elements) for s in ss]))

    def check(arrays):
        _check_example(call, name, names, dt, arrays)

    run = given(inputs)(check)
    options = {"deadline": None,
               "suppress_health_check": list(settings.default.suppress_health_check) + [HealthCheck.too_slow]}
    if max_examples is not None:
        options["max_examples"] = max_examples
    settings(**options)(run)()
