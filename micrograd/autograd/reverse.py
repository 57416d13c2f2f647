"""Reverse mode: `backward()` and `grad()`, one iterative pass over the recorded graph.

The pass orders the nodes so that each comes after every node that uses its outputs, then, node by node,
hands the gradients of its outputs to its Function's backward and adds what comes back into the gradients
of its inputs. `run_backward` says exactly that; `_Gradients` keeps the gradients found so far, and the rest
of this module is the bookkeeping around them: hooks, retain_grad, the targets of grad(), checks.
"""
from contextvars import ContextVar

from ..errors import RuntimeValueError
from ..graph import toposort
from . import function
from .accumulate import add
from .function import RELEASED, Node
from .grad_mode import _anomaly, _grad_enabled, all_finite


def run_backward(roots, root_grads, retain_graph, create_graph, targets=None, level=None):
    """Propagate `root_grads` from `roots` back through the graph.

    With `targets` None, gradients of leaves accumulate into their `.grad`; otherwise the gradients of
    the target Tensors are returned (in order, None where unreached) and no `.grad` changes. `level`: the dual
    level whose batched tangents the root gradients carry (grad(is_grads_batched=True)); a backward that does
    not carry them through its ops runs once per row instead (`_per_row`).
    """
    grads = _Gradients(create_graph, targets)
    order = grads.seed(roots, root_grads)  # each node before the nodes its outputs came from
    # Backward rules record their ops only for create_graph. Ops inside them are not user ops: anomalies
    # there are reported per node (_checked), not per op.
    token, anomaly_token = _grad_enabled.set(bool(create_graph)), _anomaly.set(False)
    current_token = _current.set(grads)
    try:
        try:
            for node in order:
                out_grads = grads.take(node)  # the gradients of its outputs (None: nothing to propagate)
                if out_grads is None:
                    continue
                if level is None:
                    in_grads = _call_backward(node, out_grads, retain_graph)
                else:
                    in_grads = _call_backward_batched(node, out_grads, retain_graph, level)
                grads.accumulate(node, in_grads)  # into the slots of its inputs
            results = grads.finish()
        finally:
            _anomaly.reset(anomaly_token)
            _grad_enabled.reset(token)
        k = 0
        while k < len(grads.callbacks):  # queue_callback's, once every gradient is stored (they may queue more)
            grads.callbacks[k]()
            k += 1
        return results
    finally:
        grads.callbacks = None
        _current.reset(current_token)


class PostAccumulateHook:
    """A Tensor.register_post_accumulate_grad_hook hook, kept among the leaf's hooks: hook(leaf) runs once the leaf's
    .grad holds this backward's gradient."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


POST_HOOKS = [0]  # registered and not removed: while none, backward does no per-leaf bookkeeping for them


def post_hook_removed():
    POST_HOOKS[0] -= 1
_current = ContextVar("current_backward", default=None)


def current_pass():
    """An object standing for the backward pass now running (None outside one): DistributedDataParallel tells passes
    apart by it."""
    return _current.get()


def queue_callback(callback):
    """Run callback() at the end of the backward pass now running, after every leaf's .grad is stored (the engine's
    queue_callback in PyTorch, used by DistributedDataParallel)."""
    grads = _current.get()
    if grads is None or grads.callbacks is None:
        raise RuntimeError("queue_callback: no backward pass is running")
    grads.callbacks.append(callback)


def _call_backward(node, out_grads, retain_graph):
    """The node's backward on its outputs' gradients: one gradient per forward argument (None allowed)."""
    in_grads = node.fn.backward(node.ctx, *out_grads)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    if len(in_grads) < len(node.edges):
        raise RuntimeError(f"{node.name}.backward returned {len(in_grads)} gradients; expected one per "
                           f"forward argument ({len(node.edges)})")
    if not retain_graph:
        node.ctx._release()
    return in_grads


_row_fallbacks = set()  # the Functions whose backward ran once per row of batched gradients


def _call_backward_batched(node, out_grads, retain_graph, level):
    """The node's backward on gradients carrying a batch of cotangents as tangents at `level`: its ops push the
    batch through (their jvp rules); where a gradient comes back without it, the backward runs once per row."""
    in_grads = _call_backward(node, out_grads, True)
    carried = any(_tangent(g, level) is not None for g in out_grads if g is not None)
    lost = carried and any(g is not None and g._data.dtype.kind == "f" and _tangent(g, level) is None
                           for g in in_grads)
    if lost:
        in_grads = _per_row(node, out_grads, in_grads, level)
    if not retain_graph:
        node.ctx._release()
    return in_grads


def _tangent(g, level):
    ts = getattr(g, "_tangents", None)
    return ts.get(level) if ts else None


def _per_row(node, out_grads, in_grads, level):
    """The batched gradients of the node's inputs, one backward per row of the batch."""
    from ..ops.shape import stack
    from . import forward
    _row_fallbacks.add(node.fn)
    rows_in = [(_tangent(g, level) if g is not None else None) for g in out_grads]
    size = next(t.shape[0] for t in rows_in if t is not None)
    per_row = []
    with forward.hidden(level):
        for i in range(size):
            row = [t[i] if t is not None else zeros_like_(g) for t, g in zip(rows_in, out_grads)]
            got = _call_backward(node, row, True)
            per_row.append(got)
    out = []
    for k, g in enumerate(in_grads):
        if g is None:
            out.append(None)
            continue
        col = [r[k] if r[k] is not None else zeros_like_(g) for r in per_row]
        g = g._alias()
        g._tangents = {**(g._tangents or {}), level: stack(col)}
        out.append(g)
    return tuple(out)


def zeros_like_(g):
    return function._Tensor._make(g._backend.zeros(g._data.shape, g._data.dtype), g._backend, False, None, 0)


def row_fallbacks():
    """The Functions whose backward ran once per row of batched gradients in this process (see _per_row), as
    "module.QualName" strings."""
    return sorted(f"{c.__module__}.{c.__qualname__}" for c in _row_fallbacks)


class _Gradients:
    """The gradients found so far in one backward pass: a slot per node output and per leaf."""

    __slots__ = ("slots", "create_graph", "seen_arrays", "want", "results", "needed", "pending", "callbacks")

    def __init__(self, create_graph, targets):
        self.slots = {}  # Node -> [gradient of each output]; leaf Tensor -> [its gradient]
        self.create_graph = create_graph
        self.seen_arrays = set()  # arrays already handed out, which a stored .grad must not share
        self.want = None  # for grad(): (id of node or leaf, output index) -> positions in targets
        self.results = []
        self.needed = None  # for grad(): ids of the nodes whose backward leads to a target
        self.pending = None  # id(leaf) -> [edges still to deliver, leaf], for leaves with post-accumulate hooks
        self.callbacks = []
        if targets is not None:
            self.want = {}
            for i, t in enumerate(targets):
                key = (id(t._node), t._index) if t._node is not None else (id(t), 0)
                self.want.setdefault(key, []).append(i)
            self.results = [None] * len(targets)

    def _slot(self, key):
        """The gradient slot of a node (one entry per output) or of a leaf (one entry)."""
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = [None] * (key.n_out if type(key) is Node else 1)
        return slot

    def seed(self, roots, root_grads):
        """Put the roots' gradients in their slots; returns the nodes to visit, users before their inputs."""
        root_nodes = []
        for t, g in zip(roots, root_grads):
            self.seen_arrays.add(id(g._data))
            key, i = (t._node, t._index) if t._node is not None else (t, 0)
            if key is t._node and key not in self.slots:
                root_nodes.append(key)
            slot = self._slot(key)
            slot[i] = g if slot[i] is None else add(slot[i], g, False)  # never in place: the caller may hold g
        if len(root_nodes) == 1:
            root = root_nodes[0]
            order = toposort(root, Node.parents) if root.parents() else [root]
        else:
            sentinel = object()
            order = toposort(sentinel, lambda n: root_nodes if n is sentinel else n.parents())
            order.pop()  # the sentinel
        if self.want is not None:
            self.needed = _needed_for(order, self.want)
        elif POST_HOOKS[0]:
            self.pending = _hooked_leaf_edges(order)
        order.reverse()
        return order

    def take(self, node):
        """The node's output gradients after its hooks, for its backward; None where it has nothing to do."""
        grads = self.slots.pop(node, None)
        if grads is None:
            return None
        if node.ctx._released:
            raise RuntimeError(RELEASED)
        if node.hooks:
            self.seen_arrays.update(id(g._data) for g in grads if g is not None)  # a hook may keep them
            _run_hooks(node, grads)
        if node.retained and self.want is None:
            for i, ref in node.retained.items():
                t = ref()
                if t is not None and grads[i] is not None:
                    _store_grad(t, grads[i], self.create_graph, self.seen_arrays)
        if self.want is not None:
            for i in range(node.n_out):
                for k in self.want.get((id(node), i), ()):
                    self.results[k] = grads[i]
            if id(node) not in self.needed:
                return None
        if node.n_out == 1:
            return grads if grads[0] is not None else None
        if all(g is None for g in grads):
            return None
        backend = node.ctx.backend
        return [g if g is not None else function._Tensor._make(backend.zeros(*node.out_meta[i]), backend, False,
                                                                 None, 0) for i, g in enumerate(grads)]

    def accumulate(self, node, in_grads):
        """Add each gradient node's backward returned into the slot of the input it belongs to."""
        Tensor, in_place = function._Tensor, not self.create_graph
        for edge, g in zip(node.edges, in_grads):
            if edge is None:
                continue
            if g is None:
                if self.pending and id(edge[0]) in self.pending:
                    self._delivered(edge[0])
                continue
            target, idx = edge
            shape, dtype = target.out_meta[idx] if type(target) is Node else (target._data.shape, target._data.dtype)
            if type(g) is not Tensor or g._data.shape != shape or g._data.dtype != dtype or node.where is not None:
                g = _checked(node, g, shape, dtype)
            slot = self.slots.get(target)
            if slot is None:  # _slot's work, inline: this loop runs for every edge of every node
                slot = self.slots[target] = [None] * (target.n_out if type(target) is Node else 1)
            slot[idx] = g if slot[idx] is None else add(slot[idx], g, in_place)
            if self.pending and id(target) in self.pending:
                self._delivered(target)

    def _delivered(self, leaf):
        """One more edge into a hooked leaf is done: after its last, store its gradient and run its hooks now."""
        entry = self.pending[id(leaf)]
        entry[0] -= 1
        if not entry[0]:
            del self.pending[id(leaf)]
            slot = self.slots.pop(leaf, None)
            if slot is not None:
                self._store_leaf(leaf, slot[0])
            else:  # every edge brought None: .grad stays as it is, and the hooks still run, as PyTorch's
                _post_hooks(leaf)

    def _leaf_hooks(self, leaf, g):
        """g after the leaf's tensor hooks (register_hook's; a non-None return replaces it)."""
        for hook in leaf._hooks or ():
            if type(hook) is not PostAccumulateHook:
                self.seen_arrays.add(id(g._data))  # the hook may keep it: .grad must not share it
                new = hook(g)
                g = g if new is None else new
        return g

    def _store_leaf(self, leaf, g):
        _store_grad(leaf, self._leaf_hooks(leaf, g), self.create_graph, self.seen_arrays)
        _post_hooks(leaf)

    def finish(self):
        """Leaves: run their hooks, then store their gradients in `.grad` (or return the targets' for grad())."""
        for leaf, (g,) in list(self.slots.items()):  # every node's slot was taken: only leaves are left
            if self.want is not None:
                g = self._leaf_hooks(leaf, g)
                for k in self.want.get((id(leaf), 0), ()):
                    self.results[k] = g
            else:
                self._store_leaf(leaf, g)
        if self.pending:  # hooked leaves of the graph that no gradient reached: their hooks still run
            for _, leaf in list(self.pending.values()):
                _post_hooks(leaf)
            self.pending = None
        return self.results


def _hooked_leaf_edges(order):
    """id(leaf) -> [the number of edges into it, leaf], for the leaves of `order` with post-accumulate hooks."""
    counts = {}
    for node in order:
        for edge in node.edges:
            if edge is not None and type(edge[0]) is not Node:
                leaf = edge[0]
                if leaf._hooks and any(type(h) is PostAccumulateHook for h in leaf._hooks):
                    counts.setdefault(id(leaf), [0, leaf])[0] += 1
    return counts


def _post_hooks(leaf):
    for hook in list(leaf._hooks or ()):
        if type(hook) is PostAccumulateHook:
            out = hook.fn(leaf)
            if out is not None:
                raise TypeError(f"a post accumulate grad hook must return None; it returned {type(out).__name__}")


def _run_hooks(node, grads):
    for i, hooks in node.hooks.items():
        for hook in hooks:
            if grads[i] is not None:
                new = hook(grads[i])
                grads[i] = grads[i] if new is None else new


def _checked(node, g, shape, dtype):
    """g, a gradient the backward of `node` returned for an input of `shape` and `dtype`, checked (a Tensor of
    that shape; finite under detect_anomaly) and cast to the dtype."""
    if not isinstance(g, function._Tensor):
        raise TypeError(f"{node.name}.backward returned a {type(g).__name__}; expected a Tensor")
    if g._data.shape != shape:
        raise RuntimeError(f"{node.name}.backward: gradient shape {g.shape} does not match the input shape "
                           f"{tuple(shape)}")
    if g._data.dtype != dtype:
        g = g.astype(dtype)
    if node.where is not None and not all_finite(g):
        raise RuntimeError(f"detect_anomaly: the backward of {node.name} produced NaN or Inf in its gradient; "
                           f"the op was called at {node.where}")
    return g


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
    summed in (in place where accumulate.add may), which makes a new array or writes t.grad's own."""
    if g._backend is not t._backend:  # an input on the other CPU backend: its gradient lives where it does
        g = g.to(t._backend)
    if t.grad is None:
        t.grad = g if create_graph else _owned(g, seen_arrays)
    else:
        t.grad = add(t.grad, g, not create_graph)


def _owned(g, seen_arrays):
    """`g` detached, copied if its array may be shared (a view, or already handed to another tensor)."""
    arr = g._data
    if arr.base is not None or id(arr) in seen_arrays:
        arr = g._backend.copy(arr)
    seen_arrays.add(id(arr))
    return function._Tensor._make(arr, g._backend, False, None, 0)


def _root_grad(t, grad, op):
    Tensor = function._Tensor
    if grad is None:
        if t._data.size != 1:
            raise RuntimeError(f"{op}: grad can be created implicitly only for a single-element output; got "
                               f"shape {t.shape}. Pass the gradient of the output, e.g. y.backward(mg.ones_like(y))")
        return Tensor._make(t._backend.full(t.shape, 1, t.dtype), t._backend, False, None, 0)
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=t.dtype, backend=t._backend.name)
    if grad._data.shape != t._data.shape:
        raise RuntimeError(f"{op}: the gradient's shape {grad.shape} does not match the output's {t.shape}")
    if grad._backend is not t._backend:
        if grad._backend.device != t._backend.device:
            raise RuntimeValueError(f"{op}: the gradient is on {grad._backend.device} (backend "
                                    f"{grad._backend.name!r}) but the output is on {t._backend.device} (backend "
                                    f"{t._backend.name!r})")
        grad = grad.detach().to(t._backend)
    return grad if grad.dtype == t.dtype else grad.astype(t.dtype)


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every leaf's `.grad` (see Tensor.backward)."""
    if not tensor._requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph (did you create it "
                           "inside no_grad, or forget requires_grad=True on an input?)")
    g = _root_grad(tensor, grad, "backward")
    run_backward([tensor], [g], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple; `.grad` is left untouched.

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or intermediate results).
        grad_outputs: gradients of the outputs (None: ones for single-element outputs).
        create_graph: record the backward pass so the results can be differentiated again.
        allow_unused: give None for an input the outputs do not depend on (otherwise that raises).
        is_grads_batched: each grad_output has a leading batch axis; one backward pass computes the vector-Jacobian
            product of every row (the rows travel as batched forward-mode tangents through the backward's ops),
            and each result has that leading axis too.
        materialize_grads: give zeros instead of None for unused inputs (implies allow_unused).
    """
    if materialize_grads:
        if allow_unused is False:
            raise ValueError("grad: materialize_grads=True requires allow_unused to be True or None")
        allow_unused = True
    allow_unused = bool(allow_unused)
    if is_grads_batched:
        results = _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    else:
        results = _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        inputs_ = [inputs] if isinstance(inputs, function._Tensor) else list(inputs)
        batch = () if not is_grads_batched else (_as_list(grad_outputs)[0].shape[0],)
        results = tuple(r if r is not None else function._Tensor._make(
            t._backend.zeros(batch + tuple(t.shape), t._data.dtype), t._backend, False, None, 0)
            for r, t in zip(results, inputs_))
    return results


def _as_list(x):
    return [x] if isinstance(x, function._Tensor) else list(x)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused):
    from . import forward_ad
    outputs, grad_outputs = _as_list(outputs), _as_list(grad_outputs) if grad_outputs is not None else None
    if grad_outputs is None or len(grad_outputs) != len(outputs):
        raise ValueError("grad: is_grads_batched=True needs one batched grad_output per output")
    sizes = {g.shape[0] if g.ndim else None for g in grad_outputs}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"grad: is_grads_batched=True needs grad_outputs with the same leading batch size; got "
                         f"shapes {[tuple(g.shape) for g in grad_outputs]}")
    size = sizes.pop()
    for o, g in zip(outputs, grad_outputs):
        if tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError(f"grad: is_grads_batched=True: grad_output of shape {tuple(g.shape)} does not match "
                               f"the output's shape {tuple(o.shape)} after its batch axis")
    with forward_ad.own_level((size,)) as lv:
        roots = [forward_ad.make_dual(zeros_like_(o), g.detach() if not create_graph else g, level=lv)
                 for o, g in zip(outputs, grad_outputs)]
        found = _grad(outputs, inputs, roots, retain_graph, create_graph, allow_unused, level=lv)
        results = []
        for r, t in zip(found, _as_list(inputs)):
            if r is None:
                results.append(None)
                continue
            tangent = _tangent(r, lv)
            results.append(tangent if tangent is not None else function._Tensor._make(
                t._backend.zeros((size,) + tuple(t.shape), t._data.dtype), t._backend, False, None, 0))
    return tuple(results)


def _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, level=None):
    Tensor = function._Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, t in enumerate(outputs):
        if not t._requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no graph")
    roots = [_root_grad(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, roots, retain_graph, create_graph, targets=inputs, level=level)
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                               f"outputs; pass allow_unused=True to get None for it")
    return tuple(results)
