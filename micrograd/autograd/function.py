"""Function, the base of every differentiable op, and the graph it records: Context and Node.

`MyOp.apply(*args)` runs `forward` with recording off and, when an input requires grad and recording is on,
records a Node holding the Function, its Context and one edge per positional argument. Outputs point at
their Node; backward (reverse.py) walks the Nodes from an output back to the leaves.
"""
import weakref

from .. import backend as _backend_registry
from .grad_mode import _anomaly, _grad_enabled, all_finite, user_frame

_Tensor = None  # micrograd.tensor.Tensor, set by that module (which imports this package)

RELEASED = ("backward: trying to backward through the graph a second time (or to use saved tensors after "
            "they were freed); its buffers were released by the first backward(). Pass retain_graph=True to "
            "the first backward() or mg.grad() to go through the graph again")


class Context:
    """What a Function's forward leaves for its backward: saved tensors and any attributes it sets."""

    def __init__(self, backend):
        self.backend = backend
        self.needs_input_grad = ()
        self._saved = ()
        self._out = None
        self._node = None  # a weak reference to the node, for output()
        self._released = False

    def save_for_backward(self, *tensors):
        """Keep Tensors (or None) for backward; read them back with `ctx.saved_tensors`."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(RELEASED)
        return self._saved

    def output(self, index=0):
        """The op's output `index` as a Tensor on the graph (for backward rules written with the output)."""
        if self._released:
            raise RuntimeError(RELEASED)
        return _Tensor._make(self._out[index], self.backend, True, self._node(), index)

    def _release(self):
        d = self.__dict__
        kept = (d["backend"], d["needs_input_grad"])
        d.clear()
        d["backend"], d["needs_input_grad"] = kept
        d["_released"] = True


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

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on `args` and, when an input requires grad and recording is on, record the graph."""
        backend, requires = None, False
        for a in args:  # the backend the Tensor arguments share, and whether one of them requires grad
            if isinstance(a, _Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    _mixed_backends(cls, backend, a._backend)
                requires = requires or a.requires_grad
        if backend is None:
            backend = _backend_registry.current()
        enabled = _grad_enabled.get()
        ctx = Context(backend)
        edges = None
        if requires and enabled:
            ctx.needs_input_grad, edges = _edges(args)
        if enabled:  # forward runs unrecorded (inside backward, recording is already off)
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
        return outs[0] if single else tuple(outs)


def _mixed_backends(fn, first, other):
    raise ValueError(f"{fn.__name__}: tensors live on different backends; got {first.name!r} and {other.name!r} "
                     f"(move one with .to(name))")


def _edges(args):
    """Per argument, whether it needs a gradient, and where that gradient goes: None, (its node, output index),
    or (the leaf itself, 0)."""
    needs, edges = [], []
    for a in args:
        if isinstance(a, _Tensor) and a.requires_grad:
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
        return _Tensor._make(o.data, o._backend, False, None, 0)
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
    node = Node(fn, ctx, edges, tuple([(o.data.shape, o.data.dtype) for o in outs]) if len(outs) > 1
                else ((outs[0].data.shape, outs[0].data.dtype),))
    node.where = where
    if fn.saves_output:
        # A weak reference: the node owns its context, and a cycle between them would leave both (and
        # whatever the context holds) to the cyclic garbage collector instead of freeing them.
        ctx._out = tuple(o.data for o in outs)
        ctx._node = weakref.ref(node)
    for i, o in enumerate(outs):
        if o.data.dtype.kind == "f":
            o.requires_grad = True
            o._node = node
            o._index = i
