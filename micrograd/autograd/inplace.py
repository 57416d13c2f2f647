"""In-place updates with PyTorch's autograd rules: a version counter per storage, views that share storage and
counter, and the rewiring of a tensor's history when its values change in place.

An in-place op computes its result out of place from an alias of the tensor (`run`), then `commit` writes the
result into the tensor's storage, bumps the storage's version, and makes the result's history the tensor's:
- a leaf that requires grad may not change in place while recording (PyTorch's error), nor may a view of one;
- a tensor that is not a view simply takes the result's node: gradients stay exact;
- a differentiable view (basic indexing, view/reshape, transpose/permute, squeeze/unsqueeze) also changes its
  root's values, so the root takes a node that puts the result into the view's region (ViewUpdate); the
  root's other views notice the change when next used and take their positions from the new root (`refresh`);
- a tensor whose elements alias one another (an expand) may not change in place, and the outputs of functions
  returning several views (unbind) may not change in place while recording, as in PyTorch.
Every backward reads its saved tensors through ctx.saved_tensors, which checks their versions: a tensor saved
for backward and changed in place afterwards makes backward raise, naming the versions.
"""
import contextvars

from .. import dtypes
from ..errors import RuntimeValueError
from .grad_mode import _grad_enabled

LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
LEAF_VIEW = "a view of a leaf Variable that requires grad is being used in an in-place operation."
EXPANDED = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
           "memory location. Please clone() the tensor before performing the operation.")
NO_GRAD_VIEW = ("A view was created in no_grad mode and {what} with grad mode enabled. Given that this use case "
                "is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and "
                "the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or "
                "both outside (if you want the inplace to be tracked).")
MULTI = ("Output 0 of {name} is a view and {what}. This view is the output of a function that returns multiple "
         "views. Such functions do not allow the output views to be modified inplace. You should replace the inplace "
         "operation by an out-of-place one.")
_watch = contextvars.ContextVar("micrograd_inplace_alias", default=None)


class View:
    """How a tensor views another's storage: `base` (the tensor it was made from); `fn` (base -> the view, with
    differentiable ops; None for a detached view, outside autograd); `kind` (None, or "multi": one of several
    views one function returned); and the root's graph position when the view's own was last set, to notice
    when an in-place change through another alias moved it."""

    __slots__ = ("base", "fn", "kind", "name", "root_node", "root_requires", "version")

    def __init__(self, base, fn, kind=None, name=None):
        info = base._view
        if info is not None and kind is None and info.kind == "multi":  # views of such views too
            kind, name = "multi", info.name
        self.base, self.fn, self.kind, self.name = base, fn, kind, name
        r = base  # the root whose history the view follows: as refresh() finds it (a detached tensor is its own)
        while r._view is not None and r._view.fn is not None:
            r = r._view.base
        self.root_node, self.root_requires = r._node, r._requires_grad
        self.version = version(base) if kind == "multi" else None


class Detached:
    """How a detached tensor (t.detach(), or what an op returns that way) views its base: the storage and its
    version counter are shared, the history is its own."""

    __slots__ = ("base",)
    fn = kind = name = None

    def __init__(self, base):
        self.base = base


class NoGradView:
    """How a view made while recording was off views its base: it shares the storage and its version counter,
    but no history (PyTorch's views created in no_grad mode). Changing it in place while recording raises, and
    so does using it while recording after its storage changed in place and its root requires grad."""

    __slots__ = ("base", "version")
    fn = None
    kind = "no_grad"
    name = None

    def __init__(self, base):
        self.base = r = base
        while r._view is not None:
            r = r._view.base
        vc = r._version_counter
        self.version = 0 if vc is None else vc[0]


def root(t):
    """The tensor that owns the storage t views (t itself when it is not a view)."""
    while t._view is not None:
        t = t._view.base
    return t


def counter(t):
    """The version counter of t's storage, created on first need: a one-element list (the version), shared by
    every tensor of the storage (a list: cheap to make, which the ops that save their output do per call)."""
    r = root(t)
    if r._version_counter is None:
        r._version_counter = [0]
    return r._version_counter


def version(t):
    while t._view is not None:
        t = t._view.base
    vc = t._version_counter
    return 0 if vc is None else vc[0]


def versions(tensors):
    """version(t) of each tensor (None for None): what save_for_backward keeps."""
    out = []
    for t in tensors:
        if t is None:
            out.append(None)
            continue
        while t._view is not None:
            t = t._view.base
        vc = t._version_counter
        out.append(0 if vc is None else vc[0])
    return out


def chain(t):
    """(root, fn): the tensor whose history t's follows (t's base, its base's base, ... up to a tensor that is
    not a differentiable view: a detached tensor starts a history of its own) and fn(root) recreating t with
    differentiable ops. For t that is no differentiable view, (t, None)."""
    fns = []
    while t._view is not None and t._view.fn is not None:
        fns.append(t._view.fn)
        t = t._view.base
    if not fns:
        return t, None
    fns.reverse()

    def fn(x):
        for f in fns:
            x = f(x)
        return x
    return t, fn


def refresh(t, force=False):
    """Give the view t the graph position its root's current history implies, if an in-place change made
    through another alias moved the root's (PyTorch regenerates a view's grad_fn the same way)."""
    info = t._view
    if info.fn is None:  # a detached tensor, or a view made under no_grad: its history is its own
        if info.kind == "no_grad" and _grad_enabled.get() and root(t)._requires_grad and version(t) != info.version:
            raise RuntimeValueError(NO_GRAD_VIEW.format(what="its base or another view of its base has been "
                                                             "modified inplace"))
        return
    r = info.base
    while r._view is not None and r._view.fn is not None:
        r = r._view.base
    if info.kind == "multi" and r._requires_grad and version(t) != info.version:
        raise RuntimeValueError(MULTI.format(name=info.name, what="its base or another view of its base has been "
                                                                  "modified inplace"))
    if not force and r._node is info.root_node and r._requires_grad == info.root_requires:
        return
    info.root_node, info.root_requires = r._node, r._requires_grad
    if not r._requires_grad:
        t._node, t._index, t._requires_grad = None, 0, False
        return
    r, fn = chain(t)
    token = _grad_enabled.set(True)  # a view's link to its root holds whatever the recording mode (PyTorch's)
    try:
        fresh = fn(r)
    finally:
        _grad_enabled.reset(token)
    t._node, t._index, t._requires_grad = fresh._node, fresh._index, fresh._requires_grad
    if fresh._tangents is not None:  # forward mode: the root's tangent, viewed (a make_dual view keeps its own)
        t._tangents = fresh._tangents


def run(t, compute):
    """compute(alias) for an in-place op on t: the alias shares t's values and history but not its version, so
    that the op's backward keeps t's values from before the change (a copy is made only when the op saved them
    for backward, as PyTorch saves `original self`)."""
    if t._view is not None:
        refresh(t)
    alias = t._alias()
    watched = [alias, False]
    token = _watch.set(watched)
    try:
        result = compute(alias)
    finally:
        _watch.reset(token)
    if watched[1]:
        alias._data = alias._backend.copy(alias._data)
    return result


def saving(tensors):
    """Called by save_for_backward: notes when an in-place op's alias is saved (see `run`)."""
    watched = _watch.get()
    if watched is not None and any(x is watched[0] for x in tensors):
        watched[1] = True


def check_overlap(t, inputs, any_overlap=False):
    """PyTorch's error for an input sharing part of the memory an in-place op writes (any of it, for
    index_put): the result would depend on the order of the writes."""
    for x in inputs:
        if getattr(x, "_backend", None) is t._backend:
            status = t._backend.overlap(t._data, x._data)
            if status == 2 or (any_overlap and status):
                raise RuntimeValueError(OVERLAP)


def check_writable(t, recording, fill=False):
    """PyTorch's errors for in-place changes that autograd cannot follow, or whose result would be undefined (a
    fill with one value is defined on aliased elements too)."""
    info = t._view
    if not fill and t._backend.internal_overlap(t._data):
        raise RuntimeValueError(EXPANDED)
    if not recording:
        return
    if info is not None and info.kind == "no_grad":
        raise RuntimeValueError(NO_GRAD_VIEW.format(what="is being modified inplace"))
    r, fn = chain(t) if info is not None else (t, None)
    if info is not None and info.kind == "multi" and r._requires_grad:
        raise RuntimeValueError(MULTI.format(name=info.name, what="is being modified inplace"))
    if r._node is None and r._requires_grad:
        raise RuntimeValueError(LEAF if fn is None else LEAF_VIEW)


def commit(t, result, fill=False, write=None):
    """Write result (t's new value, computed out of place, of t's shape) into t's storage, bump its version, and
    make result's history t's (and its root's, when t is a view). `fill`: result is one value everywhere.
    `write`: writes the change into t's storage itself, for a change of some elements only (item assignment:
    on a tensor whose elements alias one another, writing all of result would undo it)."""
    recording = _grad_enabled.get()
    if t._view is not None:
        refresh(t)
    check_writable(t, recording, fill)
    if result._data.dtype != t._data.dtype:
        if not dtypes.can_cast(result._data.dtype, t._data.dtype):
            raise RuntimeValueError(f"result type {dtypes.short_name(result.dtype)} can't be cast to the "
                                    f"desired output type {dtypes.short_name(t.dtype)}")
        result = result.astype(t.dtype)
    grad = recording and (result._requires_grad or t._requires_grad) and t.dtype.kind == "f"
    if write is None:
        t._backend.assign_(t._data, result._data)
    else:
        write()
    vc = counter(t)
    vc[0] += 1
    dual = result._tangents is not None or t._tangents is not None
    if dual and (t._view is None or t._view.fn is None):
        t._tangents = result._tangents  # forward mode: the tensor's tangent is the new value's
    elif dual and not grad:
        raise NotImplementedError("in-place change of a view of a tensor with a forward-mode tangent while not "
                                  "recording: change the base tensor, or compute out of place")
    if not grad:
        return t
    r, fn = chain(t) if t._view is not None else (t, None)
    if fn is None:  # not a differentiable view: t takes the result's history
        _take_history(t, result, vc)
        return t
    _saved_output_moves(t, result, vc)
    from ..ops.inplace import ViewUpdate
    aliased = t._backend.internal_overlap(t._data) or t._backend.internal_overlap(r._data)
    updated = ViewUpdate.apply(r._alias(), result, view=fn, aliased=aliased)
    r._node, r._index, r._requires_grad = updated._node, updated._index, True
    if dual:
        r._tangents = updated._tangents
    refresh(t, force=True)  # t follows the root's new history
    return t


def _take_history(t, result, vc):
    from ..ops.inplace import Overwrite
    if result._node is None:  # a constant or a leaf (fill_, copy_): t's history ends here, with a node of its own
        result = Overwrite.apply(t._alias(), result)
    t._node, t._index, t._requires_grad = result._node, result._index, True
    _saved_output_moves(t, result, vc)


def _saved_output_moves(t, result, vc):
    """If result's op saved its output for backward, that output now lives in t's storage, as in PyTorch: a
    later in-place change of t makes that backward raise."""
    ctx = result._node.ctx if result._node is not None else None
    if ctx is not None and ctx._out is not None:
        out, versions = list(ctx._out), list(ctx._out_versions)
        out[result._index], versions[result._index] = t._data, (vc, vc[0])
        ctx._out, ctx._out_versions = tuple(out), tuple(versions)
