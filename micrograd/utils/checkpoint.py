"""Activation checkpointing with PyTorch's API: `checkpoint` and `checkpoint_sequential`.

A checkpointed call keeps its inputs and nothing computed inside it; backward runs the function again, with
recording on and the random state of the forward (the caller's state is given back afterwards), and
differentiates the recomputation. The call is one node of the graph.

- `use_reentrant=True` (what None means, after PyTorch's warning): PyTorch's reentrant variant. The forward runs
  under no_grad and the node's edges are the tensor arguments; backward recomputes from detached inputs and runs
  a nested backward, which accumulates into the `.grad` of the parameters it reaches. As in PyTorch, nothing
  gets a gradient when no argument requires grad, and keyword arguments, `context_fn` and `debug` are refused.
- `use_reentrant=False`: the forward records the call once, only to find the node's edges: the arguments that
  require grad, then what the recorded ops used from outside (parameters, captured tensors, keyword arguments),
  a leaf, or a node that does not depend on the arguments (such as `w.T`), whole. The recorded graph is then
  dropped. Backward differentiates the recomputation between those edges, so parameters get gradients whatever
  the arguments, `mg.grad(..., inputs=...)` works, and create_graph gives gradients that can be differentiated
  again.

Differences from PyTorch: reentrant checkpoints under `mg.grad` are not refused (micrograd's backward does not tell
a node whether it runs for grad() or backward()), so the nested backward also accumulates into the `.grad` of the
parameters it reaches; the reentrant nested backward honours create_graph, though second derivatives through the
inputs are lost (taken at detached copies), as in PyTorch. The non-reentrant forward keeps one call's activations
until the call returns (PyTorch frees each as soon as it is saved), and `early_stop` is accepted but the
recomputation always runs the whole function. Tensors in tuples, lists and dicts of outputs get gradients in both
variants (PyTorch's reentrant variant only differentiates a returned tuple's tensors). While a forward-mode dual
level is open (jvp, jacfwd, hessian), a checkpoint runs the function as it is: tangents need its ops.
"""
import contextlib
import warnings

from .. import random as _random
from ..autograd import forward as _forward
from ..autograd import run_backward
from ..autograd.function import Context, Node
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..errors import RuntimeValueError
from ..graph import toposort
from ..tensor import Tensor

__all__ = ["CheckpointError", "CheckpointFunction", "check_backward_validity", "checkpoint",
           "checkpoint_sequential", "detach_variable", "noop_context_fn"]

_USE_REENTRANT = ("{}: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, calling "
                  "{} without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
                  "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to "
                  "docs for more details on the differences between the two variants.")
_CHECKS = ("default", "none")


class CheckpointError(RuntimeValueError):
    """The recomputation of a checkpointed function did not match its forward (PyTorch's CheckpointError)."""


def noop_context_fn():
    """The default `context_fn`: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """The tuple `inputs` with each Tensor detached, keeping its requires_grad (other items as they are)."""
    if not isinstance(inputs, tuple):
        raise RuntimeValueError(f"Only tuple of tensors is supported. Got Unsupported input type: "
                                f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x for x in inputs)


def check_backward_validity(inputs):
    """PyTorch's warning for a reentrant checkpoint none of whose inputs requires grad."""
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, preserve_rng_state=True, **kwargs):
    """Run `function(*args, **kwargs)` without keeping its activations; backward recomputes them.

    Args:
        use_reentrant: pass it explicitly (None warns, as PyTorch does, and means True); False is recommended.
            The module docstring says what differs.
        context_fn: returns two context managers, for the forward and for the recomputation (use_reentrant=False).
        determinism_check: "default" checks that the recomputation used tensors of the forward's shapes and
            dtypes (and the same parameters); "none" skips that (use_reentrant=False).
        debug: name each mismatching tensor in a CheckpointError (use_reentrant=False).
        early_stop: accepted for PyTorch's signature; the recomputation always runs the whole function.
        preserve_rng_state: recompute from the random state of the forward (the same dropout masks); the
            caller's state is restored afterwards.
    Returns:
        what `function` returns; its Tensors, in tuples, lists and dicts, are outputs of one graph node.
    """
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT.format("micrograd.utils.checkpoint", "checkpoint"), stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn not in (noop_context_fn, None) or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if _forward.ACTIVE:  # forward-mode tangents (jacfwd, hessian) need the recorded ops: no checkpoint then
            return function(*args)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if determinism_check not in _CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_CHECKS)}, but got {determinism_check}")
    if _forward.ACTIVE:  # as above
        fwd_ctx, _ = (context_fn or noop_context_fn)()
        with fwd_ctx:
            return function(*args, **kwargs)
    return _checkpoint_recorded(function, args, kwargs, preserve_rng_state, context_fn or noop_context_fn,
                                determinism_check, debug)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run `functions` (a Sequential or a list of modules or functions) on `input` in `segments` chunks, each
    checkpointed except the last, which runs as it is (PyTorch's split: len(functions) // segments per chunk).

    Keyword args: `preserve_rng_state` (default True); use_reentrant as for `checkpoint`.
    """
    from ..nn import Sequential

    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT.format("micrograd.utils.checkpoint.checkpoint_sequential",
                                            "checkpoint_sequential"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,  # noqa: A001
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


class _State:
    """What a checkpointed call keeps for its recomputation (its context holds it until backward releases it)."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function, self.kwargs = function, kwargs
        self.tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.args = [None if isinstance(a, Tensor) else a for a in args]  # tensors come back from the context
        self.rng = _random.get_rng_state() if preserve_rng_state else None
        self.wanted = ()  # positions, among the flattened outputs, of the node's outputs

    def call_args(self, tensors):
        args = list(self.args)
        for i, t in zip(self.tensor_pos, tensors):
            args[i] = t
        return args


@contextlib.contextmanager
def _forked_rng(state):
    """Run the block from the random state `state` (None: as it is), then give the caller back its own."""
    if state is None:
        yield
        return
    caller = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(caller)


_TENSOR = object()


def _flatten(obj, flat):
    """The structure of `obj` with its Tensors appended to `flat` (tuples, named tuples, lists, dicts)."""
    if isinstance(obj, Tensor):
        flat.append(obj)
        return _TENSOR
    if type(obj) in (tuple, list) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        return type(obj), [_flatten(o, flat) for o in obj]
    if type(obj) is dict:
        return dict, {k: _flatten(v, flat) for k, v in obj.items()}
    return None, obj


def _unflatten(spec, it):
    if spec is _TENSOR:
        return next(it)
    kind, body = spec
    if kind is None:
        return body
    if kind is dict:
        return {k: _unflatten(v, it) for k, v in body.items()}
    items = [_unflatten(s, it) for s in body]
    return kind(items) if kind in (tuple, list) else kind(*items)


def _edge(t):
    """Where the gradient of `t` goes: (its node, output index), or (the leaf itself, 0)."""
    return (t._node, t._index) if t._node is not None else (t, 0)


def _attach(fn, ctx, edges, state, out, saved):
    """`out` with its Tensors at `state.wanted` replaced by the outputs of one new node (fn, ctx, edges)."""
    flat = []
    spec = _flatten(out, flat)
    outs = [flat[i] for i in state.wanted]
    ctx.needs_input_grad = tuple(e is not None for e in edges)
    ctx.save_for_backward(*saved)
    ctx.state = state
    node = Node(fn, ctx, edges, tuple((o._data.shape, o._data.dtype) for o in outs))
    for k, (i, o) in enumerate(zip(state.wanted, outs)):
        flat[i] = Tensor._make(o._data, o._backend, True, node, k)
    return _unflatten(spec, iter(flat))


class CheckpointFunction:
    """The node of a reentrant checkpoint: `CheckpointFunction.apply(run_function, preserve_rng_state, *args)`
    runs `run_function(*args)` under no_grad; backward recomputes it and backpropagates through the recomputation
    with a nested backward, whose gradients reach the parameters' `.grad` directly."""

    @staticmethod
    def apply(run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        state = _State(run_function, args, {}, preserve_rng_state)
        with no_grad():
            out = run_function(*args)
        tensors = [args[i] for i in state.tensor_pos]
        edges = tuple(_edge(t) if t.requires_grad else None for t in tensors)
        if not is_grad_enabled() or all(e is None for e in edges):
            return out
        flat = []
        _flatten(out, flat)
        state.wanted = [i for i, o in enumerate(flat) if o._data.dtype.kind == "f"]
        if not state.wanted:
            return out
        return _attach(CheckpointFunction, Context(tensors[0]._backend, CheckpointFunction), edges, state, out,
                       tensors)

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        create = is_grad_enabled()  # backward records its ops exactly when create_graph is set
        inputs = detach_variable(tuple(ctx.saved_tensors))
        with _forked_rng(state.rng), enable_grad():
            out = state.function(*state.call_args(inputs))
        flat = []
        _flatten(out, flat)
        roots, root_grads = [], []
        for i, g in zip(state.wanted, grads):
            if i < len(flat) and flat[i].requires_grad:
                roots.append(flat[i])
                root_grads.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        run_backward(roots, root_grads, create, create)
        return tuple(x.grad if x.requires_grad else None for x in inputs)


def _checkpoint_recorded(function, args, kwargs, preserve_rng_state, context_fn, determinism_check, debug):
    """The non-reentrant checkpoint: record the call once to find its edges, keep one node with those edges."""
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    state = _State(function, args, kwargs, preserve_rng_state)
    state.recompute_context, state.check, state.debug = recompute_context, determinism_check, debug
    tensors = [args[i] for i in state.tensor_pos]
    state.grad_pos = [k for k, t in enumerate(tensors) if t.requires_grad]
    call, marks = _inputs(args, [state.tensor_pos[k] for k in state.grad_pos])
    with forward_context:
        out = function(*call, **kwargs)
    flat = []
    _flatten(out, flat)
    state.wanted = [i for i, o in enumerate(flat) if o.requires_grad]
    if not state.wanted:
        return out
    state.n_flat = len(flat)
    state.out_meta = [(flat[i]._data.shape, flat[i]._data.dtype) for i in state.wanted]
    region = _Region([flat[i] for i in state.wanted], marks)
    state.frontier = _describe(region.entries)
    edges = tuple(_edge(tensors[k]) for k in state.grad_pos) + tuple(region.entries)
    backend = flat[state.wanted[0]]._backend
    return _attach(Checkpoint, Context(backend, Checkpoint), edges, state, out, tensors)


class _Input:
    """The node of a stand-in for one input of a recorded call (see `_inputs`); its gradient is the input's."""

    @staticmethod
    def backward(ctx, g):
        return (g,)


def _inputs(args, positions):
    """`args` with the tensors at `positions` replaced by stand-ins sharing their data, each the output of its
    own `_Input` node: the recorded call's graph then starts at nodes that no other graph uses. Returns the
    arguments and a map from the stand-ins' nodes to their order among `positions`."""
    args, marks = list(args), {}
    for k, i in enumerate(positions):
        x = args[i]
        x.requires_grad  # noqa: B018  (brings a view's graph position up to date)
        node = Node(_Input, Context(x._backend, _Input), (_edge(x),), ((x._data.shape, x._data.dtype),))
        args[i] = Tensor._make(x._data, x._backend, True, node, 0)
        marks[id(node)] = k
    return args, marks


class _Region:
    """The recorded graph of one call, between its outputs and its inputs' stand-in nodes.

    `inside`: the nodes that depend on an input, parents first. `entries`: what they and the outputs use from
    outside, in an order that depends only on the graph's shape (so the forward's and the recomputation's
    agree): a leaf as (leaf, 0), another node's output as (node, index). A node that does not depend on the
    inputs (a captured tensor's, or one computed from parameters alone, such as `w.T`) is an entry as a whole.
    """

    def __init__(self, outputs, marks):
        self.marks = marks
        roots = list({id(o._node): o._node for o in outputs
                      if o._node is not None and id(o._node) not in marks}.values())

        def parents(n):
            if n is roots:
                return roots
            return [e[0] for e in n.edges if e is not None and type(e[0]) is Node and id(e[0]) not in marks]

        order = toposort(roots, parents)[:-1] if roots else []  # the last is `roots`, standing for them all
        dep = set()
        for n in order:
            if any(e is not None and (id(e[0]) in marks or id(e[0]) in dep) for e in n.edges):
                dep.add(id(n))
        self.dep = dep
        self.inside = [n for n in order if id(n) in dep]
        self.index, self.entries = {}, []
        for n in self.inside:
            for e in n.edges:
                self._add(e)
        for o in outputs:
            self._add(_edge(o))

    def within(self, e):
        """Whether edge `e` leads to a node of the region (one depending on the inputs)."""
        return type(e[0]) is Node and id(e[0]) in self.dep

    def _add(self, e):
        if e is not None and not self.within(e) and id(e[0]) not in self.marks and (id(e[0]), e[1]) not in self.index:
            self.index[id(e[0]), e[1]] = len(self.entries)
            self.entries.append(e)

    def slot(self, e, n_inputs):
        """The position of the edge `e` (leaving the region) among the checkpoint node's edges, inputs first."""
        if id(e[0]) in self.marks:
            return self.marks[id(e[0])]
        return n_inputs + self.index[id(e[0]), e[1]]


def _describe(entries):
    """For the determinism check: each entry's leaf, or (shape, dtype) of the node output."""
    return [e[0] if type(e[0]) is not Node else e[0].out_meta[e[1]] for e in entries]


class Checkpoint:
    """The node of a non-reentrant checkpoint: its edges are the inputs that require grad, then the region's
    entries; backward recomputes the call and differentiates the recomputed region between them."""

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        tensors = ctx.saved_tensors
        create = is_grad_enabled()  # backward records its ops exactly when create_graph is set
        with _forked_rng(state.rng), enable_grad():
            call, marks = _inputs(state.call_args(tensors), [state.tensor_pos[k] for k in state.grad_pos])
            with state.recompute_context:
                out = state.function(*call, **state.kwargs)
        flat = []
        _flatten(out, flat)
        _check_outputs(state, flat)
        outs = [flat[i] for i in state.wanted]
        region = _Region(outs, marks)
        _check_entries(state, _describe(region.entries))
        return _differentiate(region, outs, grads, len(state.grad_pos), create)


def _differentiate(region, outs, grads, n_inputs, create):
    """The gradients for the checkpoint node's edges: a backward pass from the outputs through the region, cut
    off where its edges leave it."""
    result = [None] * (n_inputs + len(region.entries))

    def add(k, g):
        result[k] = g if result[k] is None else result[k] + g

    roots, root_grads = [], []
    for o, g in zip(outs, grads):
        if o._node is not None and id(o._node) in region.dep:
            roots.append(o)
            root_grads.append(g)
        else:  # an output that is an input, a leaf or a node from outside passes its gradient straight on
            add(region.slot(_edge(o), n_inputs), g)
    if roots:
        targets, undo = _cut(region, n_inputs)
        try:
            found = run_backward(roots, root_grads, create, create, targets=[t for _, t in targets])
        finally:
            for n, edges in undo:
                n.edges = edges
        for (k, _), g in zip(targets, found):
            if g is not None:
                add(k, g)
    return tuple(result)


def _cut(region, n_inputs):
    """Point every edge leaving the region at a fresh leaf (one per place it leads to), so that the backward pass
    stops there and touches no other graph and no `.grad`. Returns the leaves with the slots their gradients
    belong to, and the edges to put back (create_graph's graph of gradients runs through the region later)."""
    sinks, targets, undo = {}, [], []
    for n in region.inside:
        edges = list(n.edges)
        for j, e in enumerate(edges):
            if e is None or region.within(e):
                continue
            key = (id(e[0]), e[1])
            if key not in sinks:
                if type(e[0]) is Node:
                    (shape, dtype), backend = e[0].out_meta[e[1]], e[0].ctx.backend
                else:
                    shape, dtype, backend = e[0]._data.shape, e[0]._data.dtype, e[0]._backend
                sinks[key] = Tensor._make(backend.broadcast_to(backend.zeros((), dtype), shape), backend, True,
                                          None, 0)
                targets.append((region.slot(e, n_inputs), sinks[key]))
            edges[j] = (sinks[key], 0)
        undo.append((n, n.edges))
        n.edges = tuple(edges)
    return targets, undo


def _check_outputs(state, flat):
    now = []
    for i in state.wanted:
        o = flat[i] if i < len(flat) else None
        now.append((o._data.shape, o._data.dtype) if isinstance(o, Tensor) and o.requires_grad else None)
    if len(flat) != state.n_flat or now != state.out_meta:
        raise CheckpointError(f"checkpoint: the recomputation returned other outputs than the forward did; forward: "
                              f"{state.n_flat} tensors, those requiring grad {_meta(state.out_meta)}; recomputation: "
                              f"{len(flat)} tensors, {_meta(now)}. The function must compute the same thing again")


def _check_entries(state, now):
    saved = state.frontier
    if len(now) != len(saved):
        raise CheckpointError(f"checkpoint: A different number of tensors from outside the checkpointed function "
                              f"was used during the original forward and recomputation; forward: {len(saved)}, "
                              f"recomputation: {len(now)}" + _listing(state, saved, now))
    if state.check == "none":
        return
    bad = [k for k, (a, b) in enumerate(zip(saved, now))
           if not (a is b if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b)]
    if bad:
        lines = "".join(f"\ntensor at position {k}:\nsaved metadata: {_meta([saved[k]])}\nrecomputed metadata: "
                        f"{_meta([now[k]])}" for k in bad)
        raise CheckpointError("checkpoint: Recomputed values for the following tensors have different metadata "
                              "than during the forward pass." + lines + _listing(state, saved, now))


def _meta(items):
    def one(x):
        if x is None:
            return "no grad"
        if isinstance(x, Tensor):
            return f"leaf {{'shape': {tuple(x.shape)}, 'dtype': {x.dtype}, 'id': {id(x):#x}}}"
        return f"{{'shape': {tuple(x[0])}, 'dtype': {x[1]}}}"
    return "[" + ", ".join(one(x) for x in items) + "]"


def _listing(state, saved, now):
    if not state.debug:
        return ". Pass debug=True to list every tensor"
    return f"\nforward used: {_meta(saved)}\nrecomputation used: {_meta(now)}"
