"""Graph recording and reverse-mode differentiation for Tensors.

Every differentiable op is a `Function`: `forward(ctx, *args)` computes with backend primitives while
recording is off; `backward(ctx, *grads)` is written with differentiable Tensor ops, so running it with
recording on (create_graph=True) gives gradients of gradients. The graph is a DAG of `Node`s; a Tensor
points at the node that made it. Backward walks it in one iterative topological pass.
"""
import contextvars
import functools
import os
import sys
import traceback
import weakref

from . import backend as _backend_registry
from .graph import toposort

_grad_enabled = contextvars.ContextVar("micrograd_grad_enabled", default=True)
_anomaly = contextvars.ContextVar("micrograd_detect_anomaly", default=False)
_Tensor = None  # set by micrograd.tensor (which imports this module)

RELEASED = ("backward: trying to backward through the graph a second time (or to use saved tensors after "
            "they were freed); its buffers were released by the first backward(). Pass retain_graph=True to "
            "the first backward() or mg.grad() to go through the graph again")

_PACKAGE_DIRS = (os.path.dirname(os.path.abspath(__file__)),)


def is_grad_enabled():
    """Whether ops record the graph here (False inside no_grad)."""
    return _grad_enabled.get()


class _GradMode:
    """A context manager and decorator that sets the recording switch (per thread and async context)."""

    enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._tokens = []
        return self(func) if callable(func) else self

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Ops inside do not record the graph; as `with mg.no_grad():` or as a decorator."""

    enabled = False


class enable_grad(_GradMode):
    """Ops inside record the graph again (e.g. within no_grad); a context manager or decorator."""

    enabled = True


class detect_anomaly:
    """Within the block, raise at the first op whose forward output or gradient holds NaN or Inf.

    The error names the op and the line of user code that created it. Recording where each op was
    created costs time, so use it for debugging only.
    """

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_anomaly.set(True))
        return self

    def __exit__(self, *exc):
        _anomaly.reset(self._tokens.pop())
        return False


def _user_frame():
    """'file:line: code' of the innermost stack frame outside micrograd."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.abspath(frame.filename)
        if not path.startswith(_PACKAGE_DIRS) and "micrograd" + os.sep + "backends" not in path:
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


def _all_finite(t):
    return t.dtype.kind != "f" or t._backend.all_finite(t.data)


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
        Tensor = _Tensor
        backend = None
        requires = False
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    raise ValueError(f"{cls.__name__}: tensors live on different backends; got "
                                     f"{backend.name!r} and {a._backend.name!r} (move one with .to(name))")
                if a.requires_grad:
                    requires = True
        if backend is None:
            backend = _backend_registry.current()
        enabled = _grad_enabled.get()
        requires = requires and enabled
        ctx = Context(backend)
        if requires:
            needs = []
            edges = []
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    needs.append(True)
                    edges.append((a._node, a._index) if a._node is not None else (a, 0))
                else:
                    needs.append(False)
                    edges.append(None)
            ctx.needs_input_grad = tuple(needs)
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
            outs = [Tensor._make(raw, backend, False, None, 0)]
        else:
            outs = [_as_output(cls, o, backend) for o in ((raw,) if single else raw)]
        anomaly = _anomaly.get()
        if anomaly:
            where = _user_frame()
            if not all(_all_finite(o) for o in outs) and all(
                    _all_finite(a) for a in args if isinstance(a, Tensor)):
                raise RuntimeError(f"detect_anomaly: {cls.__name__} produced NaN or Inf in its forward output;"
                                   f" the op was called at {where}")
        if requires:
            node = Node(cls, ctx, tuple(edges), tuple((o.data.shape, o.data.dtype) for o in outs))
            if anomaly:
                node.where = where
            if cls.saves_output:
                # A weak reference: the node owns its context, and a cycle between them would leave both
                # (and whatever the context holds) to the cyclic garbage collector instead of freeing them.
                ctx._out = tuple(o.data for o in outs)
                ctx._node = weakref.ref(node)
            for i, o in enumerate(outs):
                if o.data.dtype.kind == "f":
                    o.requires_grad = True
                    o._node = node
                    o._index = i
        return outs[0] if single else tuple(outs)


def _as_output(fn, o, backend):
    if isinstance(o, _Tensor):
        if o._backend is not backend and not getattr(fn, "crosses_backends", False):
            raise ValueError(f"{fn.__name__}: forward returned a tensor on backend {o._backend.name!r}; "
                             f"its inputs are on {backend.name!r}")
        return _Tensor._make(o.data, o._backend, False, None, 0)
    if isinstance(o, backend.array_type):
        return _Tensor._make(o, backend, False, None, 0)
    raise TypeError(f"{fn.__name__}: forward must return Tensors; got {type(o).__name__}")


_MEASURE = object()  # _add's third argument for a dry run that returns its reference counts


def _add(acc, g, in_place):
    """acc + g for a gradient slot acc (None: g itself). With in_place (a first-order backward), the sum goes
    into acc's own buffer when nothing else can see it, as PyTorch accumulates gradients: acc is referenced
    only by the gradient slot it is read from (call as `slot = _add(slot, g, ...)`), its array only by acc
    (CPython reference counts, against the counts this very code reads for such a slot: see _calibrate), the
    array owns its memory and is writeable, and shapes and dtypes agree. Otherwise a new Tensor."""
    if acc is None:
        return g
    arr = acc.data
    counts = (sys.getrefcount(acc), sys.getrefcount(arr))
    if in_place is _MEASURE:
        return counts
    if (in_place and _ALONE is not None and counts[0] <= _ALONE[0] and counts[1] <= _ALONE[1] and arr.base is None
            and arr.shape == g.data.shape and arr.dtype == g.data.dtype and getattr(arr.flags, "writeable", True)):
        acc._backend.axpby_(arr, 1, g.data, 1)
        return acc
    return acc + g


class _Slot:
    __slots__ = ("data",)


def _calibrate():
    """The reference counts _add reads for a gradient held by one slot only, or None (never add in place) where
    they cannot tell a second holder apart: interpreters whose counts differ (borrowed references, free
    threading) then keep every sum out of place rather than risk writing into a buffer someone holds."""
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    slot = [_Slot()]
    slot[0].data = []
    alone = _add(slot[0], None, _MEASURE)
    other, other_data = slot[0], slot[0].data  # noqa: F841  (a second holder of each, for the count)
    shared = _add(slot[0], None, _MEASURE)
    return alone if shared == (alone[0] + 1, alone[1] + 1) else None


_ALONE = _calibrate()


def _run_backward(roots, root_grads, retain_graph, create_graph, targets=None):
    """Propagate `root_grads` from `roots` back through the graph.

    With `targets` None, gradients of leaves accumulate into their `.grad`; otherwise the gradients of
    the target Tensors are returned (in order, None where unreached) and no `.grad` changes.
    """
    Tensor = _Tensor
    grads = {}  # Node -> list of per-output gradients
    leaf_grads = {}  # id(leaf) -> [leaf, gradient]
    seen_arrays = set()
    want = None
    if targets is not None:
        want = {}
        for i, t in enumerate(targets):
            key = (id(t._node), t._index) if t._node is not None else (id(t), 0)
            want.setdefault(key, []).append(i)
    results = [None] * (len(targets) if targets is not None else 0)

    root_nodes = []
    for t, g in zip(roots, root_grads):
        seen_arrays.add(id(g.data))
        if t._node is None:
            slot = leaf_grads.setdefault(id(t), [t, None])
            slot[1] = _add(slot[1], g, False)
            continue
        if t._node not in grads:
            grads[t._node] = [None] * t._node.n_out
            root_nodes.append(t._node)
        lst = grads[t._node]
        lst[t._index] = _add(lst[t._index], g, False)

    if len(root_nodes) == 1:
        order = toposort(root_nodes[0], Node.parents)
    else:
        sentinel = object()
        order = toposort(sentinel, lambda n: root_nodes if n is sentinel else n.parents())
        order.pop()  # the sentinel
    needed = _needed_for(order, want) if want is not None else None
    token = _grad_enabled.set(bool(create_graph))
    # Ops inside backward rules are not user ops: anomalies there are reported per node, below.
    anomaly_token = _anomaly.set(False)
    try:
        for node in reversed(order):
            gs = grads.pop(node, None)
            if gs is None:
                continue
            if node.ctx._released:
                raise RuntimeError(RELEASED)
            if node.hooks:
                for i, hooks in node.hooks.items():
                    for hook in hooks:
                        if gs[i] is not None:
                            new = hook(gs[i])
                            gs[i] = gs[i] if new is None else new
            if node.retained:
                for i, ref in node.retained.items():
                    t = ref()
                    if t is not None and gs[i] is not None and targets is None:
                        _store_grad(t, gs[i], create_graph, seen_arrays)
            if want is not None:
                for i in range(node.n_out):
                    for k in want.get((id(node), i), ()):
                        results[k] = gs[i]
            if needed is not None and id(node) not in needed:
                continue
            if node.n_out == 1:
                if gs[0] is None:
                    continue
            elif all(g is None for g in gs):
                continue
            else:
                for i, g in enumerate(gs):
                    if g is None:
                        shape, dtype = node.out_meta[i]
                        gs[i] = Tensor._make(node.ctx.backend.zeros(shape, dtype), node.ctx.backend, False, None, 0)
            in_grads = node.fn.backward(node.ctx, *gs)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) < len(node.edges):
                raise RuntimeError(f"{node.name}.backward returned {len(in_grads)} gradients; expected one per "
                                   f"forward argument ({len(node.edges)})")
            if not retain_graph:
                node.ctx._release()
            for edge, g in zip(node.edges, in_grads):
                if edge is None or g is None:
                    continue
                target, idx = edge
                if not isinstance(g, Tensor):
                    raise TypeError(f"{node.name}.backward returned a {type(g).__name__}; expected a Tensor")
                is_node = type(target) is Node
                if is_node:
                    shape, dtype = target.out_meta[idx]
                else:
                    shape, dtype = target.data.shape, target.data.dtype
                if g.data.shape != shape:
                    raise RuntimeError(f"{node.name}.backward: gradient shape {g.shape} does not match the "
                                       f"input shape {tuple(shape)}")
                if g.data.dtype != dtype:
                    g = g.astype(dtype)
                if node.where is not None and not _all_finite(g):
                    raise RuntimeError(f"detect_anomaly: the backward of {node.name} produced NaN or Inf in "
                                       f"its gradient; the op was called at {node.where}")
                if is_node:
                    lst = grads.get(target)
                    if lst is None:
                        lst = grads[target] = [None] * target.n_out
                    lst[idx] = _add(lst[idx], g, not create_graph)
                else:
                    slot = leaf_grads.get(id(target))
                    if slot is None:
                        leaf_grads[id(target)] = [target, g]
                    else:
                        slot[1] = _add(slot[1], g, not create_graph)
        for leaf, g in leaf_grads.values():
            for hook in leaf._hooks or ():
                new = hook(g)
                g = g if new is None else new
            if want is not None:
                for k in want.get((id(leaf), 0), ()):
                    results[k] = g
                continue
            _store_grad(leaf, g, create_graph, seen_arrays)
    finally:
        _anomaly.reset(anomaly_token)
        _grad_enabled.reset(token)
    return results


def _needed_for(order, want):
    """The nodes of `order` whose backward leads to a wanted gradient; nodes above the targets only.

    mg.grad must neither run nor release the part of the graph beneath the tensors it differentiates by.
    """
    needed = set()
    for node in order:  # inputs come before their users
        for edge in node.edges:
            if edge is None:
                continue
            target, idx = edge
            if (id(target), idx) in want or (type(target) is Node and id(target) in needed):
                needed.add(id(node))
                break
    return needed


def _store_grad(t, g, create_graph, seen_arrays):
    """Accumulate g into t.grad. A first gradient is stored detached and unshared (_owned); a later one is
    summed in (in place where _add may), which makes a new array or writes t.grad's own: no copy of g."""
    if t.grad is None:
        t.grad = g if create_graph else _owned(g, seen_arrays)
    else:
        t.grad = _add(t.grad, g, not create_graph)


def _owned(g, seen_arrays):
    """`g` detached, copied if its array may be shared (a view, or already handed to another tensor)."""
    arr = g.data
    if getattr(arr, "base", None) is not None or id(arr) in seen_arrays:
        arr = g._backend.copy(arr)
    seen_arrays.add(id(arr))
    return _Tensor._make(arr, g._backend, False, None, 0)


def _root_grad(t, grad, op):
    Tensor = _Tensor
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(f"{op}: grad can be created implicitly only for a single-element output; got "
                               f"shape {t.shape}. Pass the gradient of the output, e.g. y.backward(mg.ones_like(y))")
        return Tensor._make(t._backend.full(t.shape, 1, t.dtype), t._backend, False, None, 0)
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=t.dtype, backend=t._backend.name)
    if grad.shape != t.shape:
        raise RuntimeError(f"{op}: the gradient's shape {grad.shape} does not match the output's {t.shape}")
    if grad._backend is not t._backend:
        raise ValueError(f"{op}: gradient on backend {grad._backend.name!r}, output on {t._backend.name!r}")
    return grad if grad.dtype == t.dtype else grad.astype(t.dtype)


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every leaf's `.grad` (see Tensor.backward)."""
    if not tensor.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph (did you create it "
                           "inside no_grad, or forget requires_grad=True on an input?)")
    g = _root_grad(tensor, grad, "backward")
    _run_backward([tensor], [g], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple; `.grad` is left untouched.

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or intermediate results).
        grad_outputs: gradients of the outputs (None: ones for single-element outputs).
        create_graph: record the backward pass so the results can be differentiated again.
        allow_unused: give None for an input the outputs do not depend on (otherwise that raises).
    """
    Tensor = _Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no graph")
    roots = [_root_grad(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    results = _run_backward(outputs, roots, retain_graph, create_graph, targets=inputs)
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                               f"outputs; pass allow_unused=True to get None for it")
    return tuple(results)
