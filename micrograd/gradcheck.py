"""Gradient checking: analytic gradients against central finite differences computed in float64.

`gradcheck(fn, inputs)` compares what backward computes with (f(x + eps e) - f(x - eps e)) / 2 eps, for
Tensors on any backend and for scalar `Value`s; one finite-difference core serves both. The numerical side
always runs in float64: float inputs are copied to float64 on their own backend (so `fn` must accept
float64), and outputs are read back as float64. A non-scalar output is weighted by a fixed random
cotangent v, so what is compared is vᵀJ (the gradient of sum(v * f)).

Defaults: eps follows the precision fn computes in on the numerical side: 1e-6 when it returns float64
for float64 inputs, 1e-3 when it returns float32 anyway (it casts down inside, so a tiny step would drown
in float32 rounding). atol/rtol follow the lowest precision among the checked inputs and fn's outputs:
1e-5/1e-3 for float64, 1e-3/1e-3 for float32, where they only need to absorb float32 rounding in the
analytic gradient; a 1% error in a float64 gradient fails.

Inputs with at most `max_full` elements in all get the full check, element by element; larger ones get
`directions` random unit directions u per input, comparing (vᵀJ)·u from both sides, as JAX's check_grads
does. A random direction catches a gradient that is wrong everywhere (a missing factor, a transposed
rule) at a fraction of the cost; an error in a single element of a large input can slip through, so
keep inputs small or raise `max_full` where that matters.
"""
import numpy as np

from . import dtypes
from .autograd import Function, enable_grad
from .autograd import grad as _grad
from .engine import Value
from .graph import toposort
from .tensor import Tensor

MAX_FULL = 64
DIRECTIONS = 3
EPS = {dtypes.float64: 1e-6, dtypes.float32: 1e-3}  # by the dtype fn returns for float64 inputs
TOLERANCES = {dtypes.float64: (1e-5, 1e-3), dtypes.float32: (1e-3, 1e-3)}  # (atol, rtol) by the lowest precision


class GradcheckError(AssertionError):
    """Analytic gradients disagree with finite differences (raised by gradcheck and gradgradcheck)."""


class _TensorSlot:
    """One checked Tensor: its value as a float64 host array, rebuilt as float64 on its backend."""

    def __init__(self, t, label):
        self.source, self.label = t, label
        self.host = t._host().astype(np.float64)
        self.shape, self.dtype = t.shape, t.dtype

    def make(self, host):
        return Tensor(host, dtype=dtypes.float64, requires_grad=True, backend=self.source.backend)


class _ValueSlot:
    """One checked scalar Value."""

    def __init__(self, v, label):
        self.source, self.label = v, label
        self.host = np.array(v.data, dtype=np.float64)
        self.shape, self.dtype = (), dtypes.float64

    def make(self, host):
        return Value(float(host))


def _as_callable(op, fn):
    if isinstance(fn, type) and issubclass(fn, Function):
        return fn.apply
    if not callable(fn):
        raise TypeError(f"{op}: fn must be callable or an mg.Function subclass; got {type(fn).__name__}")
    return fn


def _as_args(op, inputs):
    if isinstance(inputs, (Tensor, Value)):
        return [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"{op}: inputs must be a Tensor, a Value or a list/tuple of arguments; got "
                        f"{type(inputs).__name__}")
    return list(inputs)


def _flatten(op, out, kind=Tensor):
    """fn's result as a list of outputs: Tensors (or Values, for Value inputs) and plain numbers (constants)."""
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, (kind, int, float, np.number)):
            raise TypeError(f"{op}: fn must return a {kind.__name__} or a tuple of them for {kind.__name__} inputs; "
                            f"got {type(o).__name__}")
    return outs


def _differentiable(o):
    return isinstance(o, Value) or isinstance(o, Tensor) and o.dtype.kind == "f"


class _Problem:
    """fn, its arguments, the checked inputs and the cotangents: everything both sides evaluate."""

    def __init__(self, op, fn, args, labels, seed):
        self.op, self.fn, self.args = op, fn, args
        has_value = any(isinstance(a, Value) for a in args)
        if has_value and any(isinstance(a, Tensor) for a in args):
            raise TypeError(f"{op}: inputs mix Values and Tensors; check the scalar and tensor parts separately")
        self.scalar = has_value
        self.slots, self.positions, by_id = [], [], {}
        for pos, a in enumerate(args):
            checked = isinstance(a, Value) or (isinstance(a, Tensor) and a._requires_grad and a.dtype.kind == "f")
            if not checked:
                continue
            if id(a) not in by_id:  # one object passed twice is one variable, perturbed in both places
                by_id[id(a)] = len(self.slots)
                self.slots.append((_ValueSlot if has_value else _TensorSlot)(a, labels[pos]))
            self.positions.append((pos, by_id[id(a)]))
        if not self.slots:
            raise ValueError(f"{op}: no input requires grad, so there is nothing to check; pass floating Tensors "
                             f"with requires_grad=True (or Values)")
        # The numerical side sees float inputs as float64 copies; other arguments pass through unchanged.
        self.base = [a.detach().astype(dtypes.float64) if isinstance(a, Tensor) and a.dtype.kind == "f" else a
                     for a in args]
        self.rng = np.random.default_rng(seed)
        self.cotangents = None
        self.analytic_dtypes, self.numeric_dtypes = set(), set()  # of fn's float outputs on each side

    def defaults(self, eps, atol, rtol):
        """eps, atol, rtol with the defaults filled in; call after analytic() and one objective()."""
        numeric32 = dtypes.float32 in self.numeric_dtypes
        low = dtypes.float32 if numeric32 or dtypes.float32 in self.analytic_dtypes or any(
            s.dtype == dtypes.float32 for s in self.slots) else dtypes.float64
        eps = EPS[dtypes.float32 if numeric32 else dtypes.float64] if eps is None else eps
        atol, rtol = (d if given is None else given for d, given in zip(TOLERANCES[low], (atol, rtol)))
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"{self.op}: eps must be a positive number; got {eps!r}")
        if not (atol >= 0 and rtol >= 0):
            raise ValueError(f"{self.op}: atol and rtol must be non-negative; got atol={atol!r}, rtol={rtol!r}")
        return float(eps), float(atol), float(rtol)

    def _draw_cotangents(self, outs):
        diff = [k for k, o in enumerate(outs) if _differentiable(o)]
        self.cotangents = [None] * len(outs)
        for k in diff:
            o = outs[k]
            if len(diff) == 1 and (isinstance(o, Value) or o.numel() == 1):
                v = np.ones(() if isinstance(o, Value) else o.shape)  # a scalar loss: compare its plain gradient
            else:
                v = self.rng.standard_normal(() if isinstance(o, Value) else o.shape)
            # Round through the output's dtype so both sides use exactly the same v.
            self.cotangents[k] = v.astype(o.dtype if isinstance(o, Tensor) else np.float64).astype(np.float64)

    def analytic(self):
        """The gradient of sum(v * f) for each checked input, as float64 host arrays."""
        return self._analytic_values() if self.scalar else self._analytic_tensors()

    def _analytic_tensors(self):
        with enable_grad():
            outs = _flatten(self.op, self.fn(*self.args))
        self._draw_cotangents(outs)
        self.analytic_dtypes = {o.dtype for o in outs if _differentiable(o)}
        roots = [(o, v) for o, v in zip(outs, self.cotangents) if v is not None and o._requires_grad]
        grads = [None] * len(self.slots)
        if roots:
            grads = _grad([o for o, _ in roots], [s.source for s in self.slots],
                          [Tensor(v, dtype=o.dtype, backend=o.backend) for o, v in roots], allow_unused=True,
                          retain_graph=True)  # a non-leaf input's graph stays usable by the caller
        return [np.zeros(s.shape) if g is None else g._host().astype(np.float64)
                for s, g in zip(self.slots, grads)]

    def analytic_forward(self):
        """The same quantities as analytic(), by forward mode: for each checked input, one batched forward pass
        whose tangents are the rows of the identity (other inputs' tangents zero), contracted with v."""
        if self.scalar:
            return self._forward_values()
        from .autograd import forward_ad
        with enable_grad():
            outs = _flatten(self.op, self.fn(*self.args))
        self._draw_cotangents(outs)
        results = []
        for slot in self.slots:
            n = slot.source.numel()
            if n == 0:
                results.append(np.zeros(slot.shape))
                continue
            src = slot.source
            eye = Tensor(np.eye(n).reshape((n,) + tuple(slot.shape)), dtype=src.dtype, backend=src.backend)
            with forward_ad.own_level((n,)) as lv:
                call = list(self.args)
                dual = forward_ad.make_dual(src, eye, level=lv)
                for pos, i in self.positions:
                    if self.slots[i] is slot:
                        call[pos] = dual
                outs = _flatten(self.op, self.fn(*call))
                total = np.zeros(n)
                for o, v in zip(outs, self.cotangents):
                    if v is None:
                        continue
                    t = forward_ad.unpack_dual(o, level=lv).tangent
                    if t is not None:
                        total += t._host().astype(np.float64).reshape(n, -1) @ v.reshape(-1)
            results.append(total.reshape(slot.shape))
        return results

    def _forward_values(self):
        outs_grads = []
        for i, slot in enumerate(self.slots):
            call = list(self.args)
            leaf = Value(slot.source.data, tangent=1.0)
            for pos, k in self.positions:
                call[pos] = leaf if k == i else Value(self.slots[k].source.data)
            outs = _flatten(self.op, self.fn(*call), Value)
            if self.cotangents is None:
                self._draw_cotangents(outs)
            outs_grads.append(np.array(sum(float(v) * o.tangent for o, v in zip(outs, self.cotangents)
                                           if v is not None), dtype=np.float64))
        return outs_grads

    def _analytic_values(self):
        leaves = [Value(s.source.data) for s in self.slots]  # fresh leaves: the caller's .grad stays as is
        call = list(self.args)
        for pos, i in self.positions:
            call[pos] = leaves[i]
        outs = _flatten(self.op, self.fn(*call), Value)
        self._draw_cotangents(outs)
        terms = [o if v == 1 else o * float(v) for o, v in zip(outs, self.cotangents) if v is not None]
        if terms:
            root = terms[0]
            for t in terms[1:]:
                root = root + t
            nodes = toposort(root, lambda n: n._prev)
            saved = [(n, n.grad) for n in nodes]
            root.backward()
            grads = [np.array(leaf.grad, dtype=np.float64) for leaf in leaves]
            for n, g in saved:  # Values fn closes over keep their .grad too
                n.grad = g
            return grads
        return [np.zeros(()) for _ in leaves]

    def objective(self, points):
        """sum(v * f) at the checked inputs `points` (float64 host arrays), evaluated in float64."""
        made = [s.make(p) for s, p in zip(self.slots, points)]
        call = list(self.base)
        for pos, i in self.positions:
            call[pos] = made[i]
        with enable_grad():
            outs = _flatten(self.op, self.fn(*call), Value if self.scalar else Tensor)
        if len(outs) != len(self.cotangents):
            raise ValueError(f"{self.op}: fn returned {len(outs)} outputs for float64 inputs but "
                             f"{len(self.cotangents)} for the original ones")
        total = 0.0
        for k, (o, v) in enumerate(zip(outs, self.cotangents)):
            if v is None:
                continue
            if isinstance(o, Tensor):
                self.numeric_dtypes.add(o.dtype)
            y = np.asarray(o.data if isinstance(o, Value) else o._host(), dtype=np.float64)
            if y.shape != v.shape:
                raise ValueError(f"{self.op}: output {k} has shape {y.shape} for float64 inputs but {v.shape} "
                                 f"for the original ones")
            total += float(np.dot(v.ravel(), y.ravel()))
        return total


def _fail(problem, slot, where, a, n, eps, atol, rtol, what, extra=""):
    tol = atol + rtol * abs(n)
    shape = "a Value" if isinstance(slot, _ValueSlot) else f"shape {slot.shape}, {slot.dtype.name}"
    note = ("" if sum(v is not None for v in problem.cotangents) == 1 and all(
        v is None or v.size == 1 for v in problem.cotangents)
        else "; outputs are weighted by a fixed random cotangent v, so the values are of vᵀJ")
    raise GradcheckError(
        f"{problem.op}: {what} of {slot.label} ({shape}){where} disagrees with central finite differences: "
        f"analytic {a:.10g}, numerical {n:.10g}; |difference| {abs(a - n):.3g} > atol + rtol * |numerical| = "
        f"{tol:.3g} (eps={eps:g}, atol={atol:g}, rtol={rtol:g}){extra}{note}")


def _close(a, n, atol, rtol):
    return np.abs(a - n) <= atol + rtol * np.abs(n)  # False for NaN on either side


def _check_full(problem, analytic, eps, atol, rtol, what):
    base = [s.host for s in problem.slots]
    for i, slot in enumerate(problem.slots):
        numeric = np.empty(slot.host.size)
        for j in range(slot.host.size):
            x = slot.host.copy().reshape(-1)
            orig = x[j]
            x[j] = orig + eps
            plus = problem.objective(base[:i] + [x.reshape(slot.shape)] + base[i + 1:])
            h = x[j]
            x[j] = orig - eps
            minus = problem.objective(base[:i] + [x.reshape(slot.shape)] + base[i + 1:])
            numeric[j] = (plus - minus) / (h - x[j])  # the step actually taken, after rounding
        a = analytic[i].reshape(-1)
        bad = np.flatnonzero(~_close(a, numeric, atol, rtol))
        if bad.size:
            j = bad[0]
            index = np.unravel_index(j, slot.shape) if slot.shape else ()
            extra = f"; {bad.size} of {a.size} elements disagree" if a.size > 1 else ""
            where = f" at element {tuple(int(k) for k in index)}" if slot.shape else ""
            _fail(problem, slot, where, a[j], numeric[j], eps, atol, rtol, what, extra)


def _check_directions(problem, analytic, eps, atol, rtol, directions, what):
    base = [s.host for s in problem.slots]
    for i, slot in enumerate(problem.slots):
        if slot.host.size == 0:
            continue
        for d in range(directions):
            u = problem.rng.standard_normal(slot.shape)
            u /= np.linalg.norm(u)
            plus = problem.objective(base[:i] + [slot.host + eps * u] + base[i + 1:])
            minus = problem.objective(base[:i] + [slot.host - eps * u] + base[i + 1:])
            n = (plus - minus) / (2 * eps)
            a = float(np.dot(analytic[i].ravel(), u.ravel()))
            if not _close(a, n, atol, rtol):
                _fail(problem, slot, f" along random direction {d + 1} of {directions} (a unit vector u; the values "
                      f"are the gradient dotted with u)", a, n, eps, atol, rtol, what,
                      f"; pass max_full>={sum(s.host.size for s in problem.slots)} to find the elements")


def _run(problem, eps, atol, rtol, max_full, directions, what, forward=False):
    if not isinstance(directions, int) or directions < 1:
        raise ValueError(f"{problem.op}: directions must be a positive int; got {directions!r}")
    if not isinstance(max_full, int) or max_full < 0:
        raise ValueError(f"{problem.op}: max_full must be a non-negative int; got {max_full!r}")
    analytic = problem.analytic_forward() if forward else problem.analytic()
    problem.objective([s.host for s in problem.slots])  # learns the dtypes fn computes in for float64 inputs
    eps, atol, rtol = problem.defaults(eps, atol, rtol)
    if sum(s.host.size for s in problem.slots) <= max_full:
        _check_full(problem, analytic, eps, atol, rtol, what)
    else:
        _check_directions(problem, analytic, eps, atol, rtol, directions, what)
    return True


def gradcheck(fn, inputs, eps=None, atol=None, rtol=None, *, max_full=MAX_FULL, directions=DIRECTIONS, seed=0,
              check_backward_ad=True, check_forward_ad=False, check_batched_grad=False,
              check_batched_forward_grad=False):
    """Check fn's analytic gradients against central finite differences in float64; True or GradcheckError.

    Args:
        fn: a callable (or an mg.Function subclass) taking the inputs as positional arguments and returning
            a Tensor, a Value or a tuple of them (non-floating outputs are ignored).
        inputs: a Tensor, a Value, or a list/tuple of arguments. Floating Tensors with requires_grad=True
            and all Values are checked; other arguments are passed through (floating Tensors as float64).
        eps: the finite-difference step; default 1e-6, or 1e-3 when fn returns float32 for float64 inputs.
        atol, rtol: an element passes when |analytic - numerical| <= atol + rtol * |numerical|; defaults
            1e-5 and 1e-3, or 1e-3 and 1e-3 when a checked input or an output is float32.
        max_full: inputs with at most this many elements in all are checked element by element, larger ones
            along `directions` random unit directions per input.
        seed: seeds the cotangents and directions, so a check is reproducible.
        check_backward_ad: check reverse mode (the gradient), as above.
        check_forward_ad: check forward mode too: Jacobian-vector products (dual tensors; tangents on Values)
            against the same finite differences.
        check_batched_grad: check that a batch of cotangents through one backward pass
            (grad(is_grads_batched=True)) gives each row's own vector-Jacobian product.
        check_batched_forward_grad: the same for a batch of tangents through one forward pass.

    Never touches `.grad` of the inputs. Raises GradcheckError naming the input, the element (or the
    direction), both values, eps and the tolerances.
    """
    fn = _as_callable("gradcheck", fn)
    args = _as_args("gradcheck", inputs)
    labels = [f"input {i}" for i in range(len(args))]
    if check_backward_ad:
        _run(_Problem("gradcheck", fn, args, labels, seed), eps, atol, rtol, max_full, directions, "the gradient")
    if check_forward_ad:
        _run(_Problem("gradcheck", fn, args, labels, seed), eps, atol, rtol, max_full, directions,
             "the forward-mode derivative (Jacobian-vector product)", forward=True)
    if check_batched_grad or check_batched_forward_grad:
        from .gradcheck_batched import check_batched
        check_batched(fn, args, seed, check_batched_grad, check_batched_forward_grad)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=None, atol=None, rtol=None, *, max_full=MAX_FULL,
                  directions=DIRECTIONS, seed=0):
    """Check second derivatives: gradcheck of (x, g) -> mg.grad(fn(x), x, g, create_graph=True).

    Args:
        fn, inputs, eps, atol, rtol, max_full, directions, seed: as for gradcheck (Tensors only).
        grad_outputs: one Tensor per floating output of fn (a Tensor or a sequence); those that require
            grad are checked too. None: random ones that require grad.
    """
    op = "gradgradcheck"
    fn = _as_callable(op, fn)
    args = _as_args(op, inputs)
    if any(isinstance(a, Value) for a in args):
        raise TypeError(f"{op}: needs Tensor inputs; a Value's gradient is a plain float that cannot be "
                        f"differentiated again")
    if not any(isinstance(a, Tensor) and a._requires_grad and a.dtype.kind == "f" for a in args):
        raise ValueError(f"{op}: no input requires grad, so there is nothing to check; pass floating Tensors "
                         f"with requires_grad=True")
    with enable_grad():
        outs = [o for o in _flatten(op, fn(*args)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if grad_outputs is None:
        rng = np.random.default_rng([seed, 1])
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True, backend=o.backend)
                        for o in outs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        if len(grad_outputs) != len(outs) or not all(isinstance(g, Tensor) for g in grad_outputs):
            raise ValueError(f"{op}: grad_outputs needs one Tensor per floating output of fn ({len(outs)}); got "
                             f"{len(grad_outputs)} items")
        for k, (g, o) in enumerate(zip(grad_outputs, outs)):
            if g.shape != o.shape:
                raise ValueError(f"{op}: grad_outputs[{k}] has shape {g.shape}; the output's is {o.shape}")
    n = len(args)

    def first_derivative(*xs_and_gos):
        xs, gos = xs_and_gos[:n], xs_and_gos[n:]
        ys = [o for o in _flatten(op, fn(*xs)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
        wrt = [x for x in xs if isinstance(x, Tensor) and x._requires_grad]
        pairs = [(y, g) for y, g in zip(ys, gos) if y._requires_grad]
        gs = [None] * len(wrt)
        if pairs:
            gs = _grad([y for y, _ in pairs], wrt, [g for _, g in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x.detach() * 0 for g, x in zip(gs, wrt))

    labels = [f"input {i}" for i in range(n)] + [f"grad_outputs[{k}]" for k in range(len(grad_outputs))]
    problem = _Problem(op, first_derivative, args + grad_outputs, labels, seed)
    return _run(problem, eps, atol, rtol, max_full, directions, "the second derivative (gradient of the gradient)")
