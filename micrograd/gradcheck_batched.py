"""gradcheck's batched checks: a batch of cotangents through one backward pass, or of tangents through one forward
pass, must give exactly what one pass per row gives (up to float rounding)."""
import numpy as np

from .autograd import enable_grad, forward_ad
from .autograd import grad as _grad
from .tensor import Tensor

ROWS = 3


def check_batched(fn, args, seed, backward, forward):
    """Raise GradcheckError where a batched pass differs from its rows' passes (rtol 1e-7 on the batch's scale)."""
    from .gradcheck import GradcheckError
    rng = np.random.default_rng([seed, 2])
    wrt = [a for a in args if isinstance(a, Tensor) and a._requires_grad and a.dtype.kind == "f"]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    with enable_grad():
        outs = [o for o in _outputs(fn(*args)) if isinstance(o, Tensor) and o.dtype.kind == "f" and o._requires_grad]
    if backward and outs:
        cts = [Tensor(rng.standard_normal((ROWS,) + tuple(o.shape)), dtype=o.dtype, backend=o.backend) for o in outs]
        batched = _grad(outs, wrt, cts, retain_graph=True, allow_unused=True, is_grads_batched=True,
                        materialize_grads=True)
        for r in range(ROWS):
            rows = _grad(outs, wrt, [c[r] for c in cts], retain_graph=True, allow_unused=True, materialize_grads=True)
            for i, (b, g) in enumerate(zip(batched, rows)):
                _compare(GradcheckError, "batched gradient", i, r, b[r], g)
    if forward:
        tangents = [Tensor(rng.standard_normal((ROWS,) + tuple(x.shape)), dtype=x.dtype, backend=x.backend)
                    for x in wrt]
        batched = _jvps(fn, args, wrt, tangents, (ROWS,))
        for r in range(ROWS):
            rows = _jvps(fn, args, wrt, [t[r] for t in tangents], ())
            for k, (b, g) in enumerate(zip(batched, rows)):
                if b is not None or g is not None:
                    _compare(GradcheckError, "batched forward-mode derivative of output", k, r, b[r], g)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _jvps(fn, args, wrt, tangents, batch):
    with forward_ad.own_level(batch) as lv:
        duals = {id(x): forward_ad.make_dual(x, t, level=lv) for x, t in zip(wrt, tangents)}
        call = [duals.get(id(a), a) if isinstance(a, Tensor) else a for a in args]
        outs = [o for o in _outputs(fn(*call)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
        got = []
        for o in outs:
            t = forward_ad.unpack_dual(o, level=lv).tangent
            got.append(t if t is not None else Tensor(np.zeros(batch + tuple(o.shape)), dtype=o.dtype,
                                                      backend=o.backend))
    return got


def _compare(error, what, i, row, batched, single):
    a, b = batched._host().astype(np.float64), single._host().astype(np.float64)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    tol = 1e-7 if batched.dtype.itemsize >= 8 else 1e-4
    if a.shape != b.shape or not np.allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True):
        diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
        raise error(f"gradcheck: the {what} {i} in row {row} of a batch of {ROWS} differs from the unbatched one: max "
                    f"|difference| {diff:.3g} (shapes {a.shape} and {b.shape})")
