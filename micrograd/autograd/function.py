"""Function, the base of every differentiable op, and the graph it records: Context and Node.

`MyOp.apply(*args)` runs `forward` with recording off and, when an input requires grad and recording is on,
records a Node holding the Function, its Context and one edge per positional argument. Outputs point at
their Node; backward (reverse.py) walks the Nodes from an output back to the leaves.
"""
import weakref

from .. import backend as _backend_registry
from ..errors import RuntimeValueError
from . import forward as _fw
from . import inplace
from .grad_mode import _anomaly, _grad_enabled, all_finite, user_frame

_Tensor = None  # micrograd.tensor.Tensor, set by that module (which imports this package)
_LEVELS = _fw.ACTIVE  # the open dual levels (one dict, changed in place): checked once per op

RELEASED = ("backward: trying to backward through the graph a second time (or to use saved tensors after "
            "they were freed); its buffers were released by the first backward(). Pass retain_graph=True to "
            "the first backward() or mg.grad() to go through the graph again")


class Context:
    """What a Function's forward leaves for its backward: saved tensors and any attributes it sets.

    Tensors are saved with their versions; reading them back after one changed in place raises (PyTorch's
    rule), and so does reading an output saved with saves_output after it changed.
    """

    # defaults, read from the class until a forward or _record sets them (a context is made per op call)
    needs_input_grad = ()
    _saved = ()
    _versions = []
    _out = None
    _out_versions = None  # per output: (its storage's version counter, the version when saved)
    _node = None  # a weak reference to the node, for output()
    _released = False
    _in_jvp = False
    _saved_fw = None
    _out_tangents = None  # per output: its tangents when it carried some (ctx.output() gives them back)
    batch = ()  # inside jvp: the batch axes in front of every tangent, () or (B,)

    def __init__(self, backend, fn):
        self.backend = backend
        self._fn = fn

    def save_for_forward(self, *tensors):
        """Keep Tensors (or None) for jvp; read them back with `ctx.saved_tensors` inside jvp (PyTorch's)."""
        self._saved_fw = tensors

    def save_for_backward(self, *tensors):
        """Keep Tensors (or None) for backward; read them back with `ctx.saved_tensors`."""
        self._saved = tensors
        if self.needs_input_grad:  # recording: backward will read them (else nothing will)
            self._versions = inplace.versions(tensors)
            if inplace._watch.get() is not None:
                inplace.saving(tensors)

    @property
    def saved_tensors(self):
        if self._in_jvp and self._saved_fw is not None:
            return self._saved_fw
        if self._released:
            raise RuntimeError(RELEASED)
        if self._saved and inplace.versions(self._saved) != self._versions:
            for t, v in zip(self._saved, self._versions):
                if t is not None and inplace.version(t) != v:
                    raise RuntimeValueError(_modified(t, inplace.version(t), v, self._fn))
        return self._saved

    def output(self, index=0):
        """The op's output `index` as a Tensor on the graph (for backward rules written with the output)."""
        if self._out_versions is None and "outs" in self.__dict__:  # inside a jvp of an unrecorded op
            return self.outs[index]
        if self._released:
            raise RuntimeError(RELEASED)
        counter, v = self._out_versions[index]
        if counter[0] != v:
            t = _Tensor._make(self._out[index], self.backend, True, self._node(), index)
            raise RuntimeValueError(_modified(t, counter[0], v, self._fn))
        t = _Tensor._make(self._out[index], self.backend, True, self._node(), index)
        if self._out_tangents is not None:
            t._tangents = self._out_tangents[index]
        return t

    def _release(self):
        d = self.__dict__
        kept = (d["backend"], self.needs_input_grad, d["_fn"])
        d.clear()
        d["backend"], d["needs_input_grad"], d["_fn"] = kept
        d["_released"] = True


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _modified(t, now, saved, fn):
    """PyTorch's message for a saved tensor changed in place, naming the op whose backward needed it."""
    what = f"[{_TYPE_NAMES.get(t.dtype.name, t.dtype.name.capitalize())}Tensor [{', '.join(map(str, t.shape))}]]"
    if t._node is not None:
        what += f", which is output {t._index} of {t._node.name},"
    return (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"{what} is at version {now}; expected version {saved} instead (needed by the backward of "
            f"{fn.__name__}). Hint: the tensor was changed in place after the op saved it; change a copy "
            f"(x.clone()) or make the change before the op")


class Node:
    """One recorded op application: its Function, context, and an edge per positional argument."""

    __slots__ = ("fn", "ctx", "edges", "n_out", "out_meta", "where", "hooks", "retained", "__weakref__")

    def __init__(self, fn, ctx, edges, out_meta):
        self.fn = fn
        self.ctx = ctx
        self.edges = edges  # per argument: None, or (Node, output index), or (leaf Tensor, 0)
        self.n_out = len(out_meta)
        self.out_meta = out_meta  # (shape, dtype) of each output
        self.where = None
        self.hooks = None  # {output index: [hook, ...]}
        self.retained = None  # {output index: weakref to a Tensor with retain_grad()}

    @property
    def name(self):
        return self.fn.__name__

    def parents(self):
        return [e[0] for e in self.edges if e is not None and type(e[0]) is Node]


class Function:
    """Base class of differentiable ops, built-in and user-defined, with PyTorch's semantics.

    Subclasses define `forward(ctx, *args)` (receives Tensors and other arguments; runs with recording off;
    returns a Tensor, a backend array, or a tuple of them) and `backward(ctx, *grads)` (receives one
    Tensor per output; returns one gradient per positional forward argument, None for non-Tensors),
    and are called as `MyOp.apply(*args)`.
    """

    saves_output = False  # True: apply keeps the output arrays for ctx.output()
    makes_view = False  # True: forward may return views of its first argument, and says so in ctx.view
    jvp_batched = False  # True: jvp handles tangents with a leading batch axis (ctx.batch)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @staticmethod
    def jvp(ctx, *tangents):
        """The outputs' tangents from the inputs' (forward mode). Without one, a Function gets a JVP derived from
        its backward (autograd.forward.derived_jvp: about three backwards' work per call)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on `args` and, when an input requires grad and recording is on, record the graph; with
        tangents at a dual level, compute the outputs' tangents too (forward mode)."""
        if _LEVELS:
            level = _fw.level_of(args)
            if level is not None:
                result, ctx = _fw.apply_dual(cls, args, kwargs, level)
                d = ctx.__dict__
                d.pop("primals", None), d.pop("outs", None), d.pop("batch", None)
                _keep_out_tangents(ctx, result)
                return result
        return _apply(cls, args, kwargs)[0]


def _keep_out_tangents(ctx, result):
    if ctx._out is not None:
        outs = result if isinstance(result, tuple) else (result,)
        ctx._out_tangents = tuple(o._tangents for o in outs)


def _apply(cls, args, kwargs, fw_needs=None):
    """apply's work: (the output or tuple of outputs, the context). `fw_needs`: per argument, whether forward
    mode needs its gradient from backward (a derived JVP)."""
    backend, requires = None, False
    enabled = _grad_enabled.get()
    for a in args:  # the backend the Tensor arguments share, and whether one of them requires grad
        if isinstance(a, _Tensor):
            if a._view is not None and enabled:  # a view whose root changed in place through another alias
                inplace.refresh(a)
            if backend is None:
                backend = a._backend
            elif a._backend is not backend:
                backend = _mixed_backends(cls, backend, a._backend)
            requires = requires or a._requires_grad
    if backend is None:
        backend = _backend_registry.current()
    ctx = Context(backend, cls)
    edges = None
    if requires and enabled:
        ctx.needs_input_grad, edges = _edges(args)
    if fw_needs is not None:
        ctx.needs_input_grad = tuple(a or b for a, b in zip(ctx.needs_input_grad or fw_needs, fw_needs))
    if _LEVELS:  # forward runs with every level hidden: its own ops' tangents would be thrown away
        with _fw.hidden(-1):
            raw = _forward(cls, ctx, args, kwargs, enabled)
    elif enabled:  # forward runs unrecorded (inside backward, recording is already off)
        token = _grad_enabled.set(False)
        try:
            raw = cls.forward(ctx, *args, **kwargs)
        finally:
            _grad_enabled.reset(token)
    else:
        raw = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(raw, tuple)
    if single and type(raw) is backend.array_type:  # the common case, without _as_output's checks
        outs = [_Tensor._make(raw, backend, False, None, 0)]
    else:
        outs = [_as_output(cls, o, backend) for o in ((raw,) if single else raw)]
    where = _check_forward(cls, args, outs) if _anomaly.get() else None
    if edges is not None:
        _record(cls, ctx, edges, outs, where)
    if cls.makes_view and ctx.__dict__.get("view"):
        if enabled:
            _mark_views(cls, ctx.view, args[0], kwargs, outs, single)
        else:  # views made with recording off share the storage's version, not its history
            for o in outs:
                o._view = inplace.NoGradView(args[0])
    return (outs[0] if single else tuple(outs)), ctx


def _forward(cls, ctx, args, kwargs, enabled):
    if not enabled:
        return cls.forward(ctx, *args, **kwargs)
    token = _grad_enabled.set(False)
    try:
        return cls.forward(ctx, *args, **kwargs)
    finally:
        _grad_enabled.reset(token)


def _mixed_backends(fn, first, other):
    """The backend of an op on tensors of two backends: the first one's, when both are on the same device (numpy
    and numba: "cpu"); PyTorch's error otherwise."""
    if first.device == other.device:
        return first
    raise RuntimeValueError(f"Expected all tensors to be on the same device, but found at least two devices, "
                            f"{first.device} and {other.device}! ({fn.__name__}: backends {first.name!r} and "
                            f"{other.name!r}; move one with .to())")


def _mark_views(fn, kind, base, kwargs, outs, single):
    """The outputs share the first argument's storage: views, recreated from it by the same op (see inplace)."""
    if single:
        outs[0]._view = inplace.View(base, lambda b: fn.apply(b, **kwargs), None if kind is True else kind)
        return
    for i, o in enumerate(outs):
        o._view = inplace.View(base, lambda b, i=i: fn.apply(b, **kwargs)[i], "multi", fn.__name__)


def _edges(args):
    """Per argument, whether it needs a gradient, and where that gradient goes: None, (its node, output index),
    or (the leaf itself, 0)."""
    needs, edges = [], []
    for a in args:
        if isinstance(a, _Tensor) and a._requires_grad:
            needs.append(True)
            edges.append((a._node, a._index) if a._node is not None else (a, 0))
        else:
            needs.append(False)
            edges.append(None)
    return tuple(needs), tuple(edges)


def _as_output(fn, o, backend):
    if isinstance(o, _Tensor):
        if o._backend is not backend and not getattr(fn, "crosses_backends", False):
            raise ValueError(f"{fn.__name__}: forward returned a tensor on backend {o._backend.name!r}; "
                             f"its inputs are on {backend.name!r}")
        return _Tensor._make(o._data, o._backend, False, None, 0)
    if isinstance(o, backend.array_type):
        return _Tensor._make(o, backend, False, None, 0)
    raise TypeError(f"{fn.__name__}: forward must return Tensors; got {type(o).__name__}")


def _check_forward(fn, args, outs):
    """Under detect_anomaly: where the op was called, after checking that finite inputs gave finite outputs."""
    where = user_frame()
    if not all(all_finite(o) for o in outs) and all(all_finite(a) for a in args if isinstance(a, _Tensor)):
        raise RuntimeError(f"detect_anomaly: {fn.__name__} produced NaN or Inf in its forward output; the op "
                           f"was called at {where}")
    return where


def _record(fn, ctx, edges, outs, where):
    """Make the node of this application and hang the floating outputs on it."""
    node = Node(fn, ctx, edges, tuple([(o._data.shape, o._data.dtype) for o in outs]) if len(outs) > 1
                else ((outs[0]._data.shape, outs[0]._data.dtype),))
    node.where = where
    if fn.saves_output:
        # A weak reference: the node owns its context, and a cycle between them would leave both (and
        # whatever the context holds) to the cyclic garbage collector instead of freeing them.
        ctx._out = tuple(o._data for o in outs)
        versions = []
        for o in outs:  # each output's storage gets its version counter now: its in-place changes are counted
            o._version_counter = [0]
            versions.append((o._version_counter, 0))
        ctx._out_versions = versions
        ctx._node = weakref.ref(node)
    for i, o in enumerate(outs):
        if o._data.dtype.kind == "f":
            o._requires_grad = True
            o._node = node
            o._index = i
