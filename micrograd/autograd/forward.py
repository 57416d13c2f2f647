"""Forward mode: tensors carry tangents, one per dual level, and every op pushes them through its `jvp` rule.

A dual level is a numbered context (`forward_ad.dual_level()`); a tensor's tangents are a dict {level: Tensor}.
When an op's arguments carry tangents at an active level, `Function.apply` hands the call to `apply_dual`:
- the highest such level L is handled last: the op runs (recursively, for the levels below L) with L hidden,
  then its `jvp(ctx, *tangents)` computes the outputs' tangents at L, again with L hidden. The rule's ops
  record reverse-mode graphs and push the lower levels' tangents as any op does, so forward over reverse,
  reverse over forward and forward over forward all compose (JAX's "perturbation levels");
- a level may be batched: its tangents have a leading axis of B directions (`ctx.batch` is `(B,)`, else
  `()`). A rule written for that says `jvp_batched = True`; any other runs once per direction (the fallback
  `fallbacks()` lists);
- a Function without a `jvp` of its own (a user's) gets one derived from its backward: see `derived_jvp`.
Tangents of missing inputs reach the built-in rules as None (zero), and user rules as zeros, as in PyTorch.
"""
import itertools

from ..errors import RuntimeValueError
from . import function
from .grad_mode import _grad_enabled

ACTIVE = {}  # level -> batch shape, () or (B,): the levels whose tangents ops propagate now
_hidden = [float("inf")]  # levels >= this are hidden (an op being differentiated at that level)
_shown = set()  # levels above the hidden mark that propagate all the same (a rule's own level: `through`)
_levels = itertools.count()
_fallbacks = set()  # the Functions whose jvp ran once per direction of a batched level


def level_of(args):
    """The highest active, unhidden level at which an argument carries a tangent (None: none)."""
    best, top = None, _hidden[0]
    for a in args:
        ts = getattr(a, "_tangents", None)
        if ts:
            for lv in ts:
                if (lv < top or lv in _shown) and lv in ACTIVE and (best is None or lv > best):
                    best = lv
    return best


class hidden:
    """Hide the levels from `level` up while an op runs (its forward: every level) or its rule runs."""

    __slots__ = ("level", "prev", "shown")

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        self.prev, self.shown = _hidden[0], set(_shown)
        _hidden[0] = min(self.prev, self.level)
        _shown.difference_update([lv for lv in _shown if lv >= self.level])

    def __exit__(self, *exc):
        _hidden[0] = self.prev
        _shown.clear()
        _shown.update(self.shown)


def apply_dual(cls, args, kwargs, level):
    """Run `cls` on args that carry tangents at `level` (and maybe below): (result, ctx) as `_apply` returns,
    with each floating output carrying its tangent at `level`."""
    tangents = [a._tangents.get(level) if getattr(a, "_tangents", None) else None for a in args]
    with hidden(level):
        lower = level_of(args)
        own = _has_own_jvp(cls)
        if lower is not None:
            result, ctx = apply_dual(cls, args, kwargs, lower)
        else:
            needs = None if own else tuple(t is not None for t in tangents)
            result, ctx = function._apply(cls, args, kwargs, needs)
        outs = result if isinstance(result, tuple) else (result,)
        ctx.primals, ctx.outs, ctx.batch = args, outs, ACTIVE[level]
        out_t = _run_jvp(cls, ctx, tangents, own)
    if not isinstance(out_t, (tuple, list)):
        out_t = (out_t,)
    if len(out_t) != len(outs):
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(out_t)} tangents; expected one per output "
                           f"({len(outs)})")
    for o, t in zip(outs, out_t):
        if t is None or o._data.dtype.kind != "f":
            continue
        t = _checked(cls, o, t, ctx.batch)
        o._tangents = {**o._tangents, level: t} if o._tangents else {level: t}
    return result, ctx


def _has_own_jvp(cls):
    return cls.jvp is not function.Function.jvp


def _checked(cls, out, t, batch):
    Tensor = function._Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"{cls.__name__}.jvp returned a {type(t).__name__}; expected a Tensor per output")
    want = tuple(batch) + tuple(out._data.shape)
    if t._data.shape != want:
        raise RuntimeError(f"{cls.__name__}.jvp: tangent shape {t.shape} does not match the output's "
                           f"{want}")
    return t if t._data.dtype == out._data.dtype else t.astype(out.dtype)


def _run_jvp(cls, ctx, tangents, own):
    if not own:
        return derived_jvp(cls, ctx, _materialized(ctx, tangents))
    if ctx.batch and not cls.jvp_batched:
        return per_direction(cls, ctx, tangents)
    if cls.__module__.startswith("micrograd."):
        return cls.jvp(ctx, *tangents)
    ctx._in_jvp = True
    try:
        return cls.jvp(ctx, *_materialized(ctx, tangents))
    finally:
        ctx._in_jvp = False


def _materialized(ctx, tangents):
    """User rules get zeros for tensor inputs without a tangent (None for other arguments), as PyTorch gives."""
    Tensor = function._Tensor
    return [zeros(ctx, p) if t is None and isinstance(p, Tensor) and p._data.dtype.kind == "f" else t
            for p, t in zip(ctx.primals, tangents)]


def per_direction(cls, ctx, tangents, rule=None):
    """The fallback for a rule that handles one direction at a time (the op's jvp, or `rule(tangents)`): run it
    per direction and stack."""
    from ..ops.shape import stack
    _fallbacks.add(cls)
    batch = ctx.batch
    rows = []
    try:
        ctx.batch = ()
        for i in range(batch[0]):
            row = [t[i] if t is not None else None for t in tangents]
            r = _run_jvp(cls, ctx, row, True) if rule is None else rule(row)
            rows.append(r if isinstance(r, (tuple, list)) else (r,))
    finally:
        ctx.batch = batch
    out = []
    for k, o in enumerate(ctx.outs):
        col = [r[k] for r in rows]
        if all(c is None for c in col):
            out.append(None)
            continue
        out.append(stack([c if c is not None else zeros(ctx, o, ()) for c in col]))
    return tuple(out) if len(ctx.outs) > 1 else out[0]


def carries(*tensors):
    """Whether a tensor carries a tangent at an active level (for rules that compute on raw arrays otherwise)."""
    return bool(ACTIVE) and any(t is not None and t._tangents and any(lv in ACTIVE for lv in t._tangents)
                                for t in tensors)


def fallbacks():
    """The Functions whose jvp ran once per direction of a batched level in this process (see per_direction), as
    "module.QualName" strings."""
    return sorted(f"{c.__module__}.{c.__qualname__}" for c in _fallbacks)


def derived_jvp(cls, ctx, tangents):
    """The JVP of a Function that has only a backward: J v = d/du <vjp(u), v>, the transpose of its VJP.

    backward(u) = Jᵀu is linear in u, so the gradient of u -> <backward(u), v> is J v. Computing it runs the
    op's backward once with recording on and then backpropagates through that recorded backward: about three
    times the work of one backward of the op, against one forward-like pass for a written `jvp`. The backward
    must be written with differentiable ops (as it must for gradients of gradients).
    """
    from .reverse import grad
    Tensor = function._Tensor
    if ctx.batch:
        return per_direction(cls, ctx, tangents, lambda row: derived_jvp(cls, ctx, row))
    us = [zeros(ctx, o, ()).requires_grad_() if o._data.dtype.kind == "f" else None for o in ctx.outs]
    token = _grad_enabled.set(True)
    try:
        gs = cls.backward(ctx, *[u if u is not None else zeros(ctx, o, ()) for u, o in zip(us, ctx.outs)])
        gs = gs if isinstance(gs, tuple) else (gs,)
        total = None
        for g, t in zip(gs, tangents):
            if g is None or t is None or not isinstance(g, Tensor):
                continue
            term = (g * t).sum()
            total = term if total is None else total + term
        wrt = [u for u in us if u is not None]
        if total is None:  # backward gave no gradient to any input with a tangent: the JVP is zero
            return tuple(None for _ in ctx.outs) if len(ctx.outs) > 1 else None
        create = any(getattr(x, "_requires_grad", False) for x in list(ctx.primals) + list(tangents))
        res = grad(total, wrt, allow_unused=True, create_graph=create) if total._requires_grad else [None]
        if all(r is None for r in res):
            raise RuntimeValueError(f"{cls.__name__}: cannot derive a JVP from its backward, which does not "
                                    f"compute with differentiable ops of its output gradient; define "
                                    f"jvp(ctx, *tangents)")
    finally:
        _grad_enabled.reset(token)
    it = iter(res)
    out = [next(it) if u is not None else None for u in us]
    return tuple(out) if len(out) > 1 else out[0]


def through(ctx, fn, primals, tangents):
    """The tangents of fn(*primals)'s outputs, by running fn (written with differentiable ops) in forward mode at a
    level of its own: a rule for an op that has a composite form (the LSTM layer's)."""
    from . import forward_ad
    with forward_ad.own_level(ctx.batch) as lv:
        duals = [None if p is None else forward_ad.make_dual(p, zeros(ctx, p) if t is None else t, level=lv)
                 for p, t in zip(primals, tangents)]  # an absent optional input (None) stays absent
        outs = fn(*duals)
        outs = outs if isinstance(outs, tuple) else (outs,)
        res = tuple(forward_ad.unpack_dual(o, level=lv).tangent for o in outs)
    return res if len(res) > 1 else res[0]


def merged(ctx, t, fn):
    """fn(t) for an op on a fixed number of axes (images): the batch axis merged into the first axis."""
    if not ctx.batch:
        return fn(t)
    b = ctx.batch[0]
    r = fn(t.reshape((b * t.shape[1],) + tuple(t.shape[2:])))
    return r.reshape((b, r.shape[0] // b) + tuple(r.shape[1:]))


def tiled(ctx, arr):
    """A backend array of per-sample indices repeated for each direction (for `merged`)."""
    if not ctx.batch:
        return arr
    return ctx.outs[0]._backend.concatenate([arr] * ctx.batch[0], 0)


# ---- helpers for the rules ----------------------------------------------------------------------------------

def zeros(ctx, like, batch=None):
    """A zero tangent for `like` (batched as ctx.batch unless `batch` is given)."""
    Tensor = function._Tensor
    b = like._backend
    shape = tuple(ctx.batch if batch is None else batch) + tuple(like._data.shape)
    return Tensor._make(b.zeros(shape, like._data.dtype), b, False, None, 0)


def nb(ctx):
    """The number of batch axes in front of every tangent (0 or 1)."""
    return len(ctx.batch)


def axis(ctx, a):
    """A primal's axis as the tangent's: non-negative axes move past the batch axes; negative ones stay."""
    return a + len(ctx.batch) if a >= 0 else a


def axes(ctx, axs):
    return tuple(axis(ctx, a) for a in axs)


def aligned(ctx, t, ndim):
    """A tangent of a primal with fewer axes than `ndim`, with ones inserted after the batch axes, so that it
    broadcasts like its primal against an operand of `ndim` axes."""
    k = len(ctx.batch)
    extra = ndim - (t.ndim - k)
    if extra <= 0:
        return t
    return t.reshape(tuple(t.shape[:k]) + (1,) * extra + tuple(t.shape[k:]))


def combine(ctx, out, terms):
    """The tangent sum of terms (tangent, primal, factor or None) for a broadcasting elementwise op with output
    `out`: each tangent aligned, scaled by its factor, summed, and broadcast to the output's shape."""
    from ..ops.movement import BroadcastTo
    total = None
    for t, p, f in terms:
        if t is None:
            continue
        t = aligned(ctx, t, out.ndim)
        term = t if f is None else t * f
        total = term if total is None else total + term
    if total is None:
        return None
    want = tuple(ctx.batch) + tuple(out._data.shape)
    if tuple(total._data.shape) != want:
        total = BroadcastTo.apply(aligned(ctx, total, out.ndim), shape=want)
    return total


def zero_gradient(g):
    """Zeros shaped as the gradient g, for a backward whose derivative is zero: carrying zero tangents at g's levels,
    so a batch of gradients (grad(is_grads_batched=True)) passes through it."""
    Tensor = function._Tensor
    b = g._backend
    out = Tensor._make(b.zeros(g._data.shape, g._data.dtype), b, False, None, 0)
    if g._tangents:
        out._tangents = {lv: Tensor._make(b.zeros(t._data.shape, t._data.dtype), b, False, None, 0)
                         for lv, t in g._tangents.items()}
    return out


def fit(ctx, t, out):
    """t (a tangent broadcastable to out's) broadcast to out's tangent shape."""
    from ..ops.movement import BroadcastTo
    want = tuple(ctx.batch) + tuple(out._data.shape)
    if tuple(t._data.shape) == want:
        return t
    return BroadcastTo.apply(aligned(ctx, t, out.ndim), shape=want)


def shaped(ctx, shape):
    """A primal's shape as its tangent's."""
    return tuple(ctx.batch) + tuple(shape)


def unary(ctx, t, factor):
    """t * factor for a one-input elementwise op (None stays None)."""
    return None if t is None else t * factor


def batch_last(ctx, t):
    """The tangent with its batch axis moved to the end (identity when unbatched), for index-style ops."""
    return t if not ctx.batch else t.movedim(0, -1)


def batch_first(ctx, t):
    return t if not ctx.batch else t.movedim(-1, 0)


def index_batched(ctx, index):
    """An index of the primal as an index of the batch-last tangent."""
    if not ctx.batch:
        return index
    index = tuple(index)
    return index + ((slice(None),) if any(p is Ellipsis for p in index) else (Ellipsis, slice(None)))
