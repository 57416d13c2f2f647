"""Function transforms with torch.func's names and semantics: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, linearize.

Each transform takes a function of Tensors (and of nested tuples, lists and dicts of them) and returns a function
(or, for vjp, jvp and linearize, results). They compose: `jacfwd(jacrev(f))`, `grad(grad(f))`, `vjp` of a `jvp`.
Reverse transforms run the function on differentiable aliases of the inputs and call `autograd.grad`; forward
transforms run it on dual tensors (autograd.forward_ad). A Jacobian costs one pass either way: jacrev sends all
the rows of the identity through one backward (`is_grads_batched`), jacfwd all its columns through one forward
(a batched dual level).
"""
import functools

from .autograd import enable_grad, forward_ad, is_grad_enabled, no_grad
from .autograd.function import Node
from .autograd.reverse import grad as _autograd_grad
from .graph import toposort
from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize", "vjp"]


# ---- nested structures (pytrees) ---------------------------------------------------------------------------------

def tree_flatten(tree):
    """(leaves, spec): the leaves of nested tuples, lists and dicts (dicts in insertion order), and how to rebuild."""
    if isinstance(tree, (tuple, list)) and not _is_namedtuple(tree):
        leaves, specs = [], []
        for x in tree:
            sub, spec = tree_flatten(x)
            leaves += sub
            specs.append(spec)
        return leaves, (type(tree), specs)
    if _is_namedtuple(tree):
        leaves, specs = [], []
        for x in tree:
            sub, spec = tree_flatten(x)
            leaves += sub
            specs.append(spec)
        return leaves, ("namedtuple", type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k, x in tree.items():
            sub, spec = tree_flatten(x)
            leaves += sub
            specs.append((k, spec))
        return leaves, (dict, specs)
    return [tree], None


def tree_unflatten(leaves, spec):
    """The structure `spec` describes, with `leaves` in order."""
    it = iter(leaves)
    out = _build(it, spec)
    return out


def _build(it, spec):
    if spec is None:
        return next(it)
    if spec[0] == "namedtuple":
        return spec[1](*(_build(it, s) for s in spec[2]))
    kind, specs = spec
    if kind is dict:
        return {k: _build(it, s) for k, s in specs}
    return kind(_build(it, s) for s in specs)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


# ---- shared pieces -----------------------------------------------------------------------------------------------

def _argnums(op, argnums, nargs):
    many = isinstance(argnums, tuple)
    nums = argnums if many else (argnums,)
    if not nums:
        raise RuntimeError(f"{op}: argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"{op}: argnums must be int or Tuple[int, ...], got: {type(a).__name__}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"{op}: Got argnums={a}, but only {nargs} positional inputs")
    nums = tuple(a % nargs for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"{op}: argnums must be unique, got {argnums}")
    return nums, many


def _alias(x):
    from .ops.movement import Alias
    return Alias.apply(x)


def _differentiable(x, op):
    """x as an input the transform differentiates by: an alias on x's graph when x requires grad (outer transforms
    still see through it), else a new leaf that requires grad; forward-mode tangents carry over either way."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected the differentiated inputs to be Tensors (or nested tuples, lists and dicts "
                        f"of them); got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: only floating point inputs can be differentiated; got dtype {x.dtype.name}")
    if x._requires_grad:
        with enable_grad():
            return _alias(x)
    y = Tensor._make(x._data, x._backend, True, None, 0)
    y._tangents = x._tangents
    return y


def _outer_graph(outputs, wrapped):
    """Whether the outputs' graph reaches a tensor requiring grad other than `wrapped` (the transform's own leaves):
    then results must be differentiable for whoever differentiates further (create_graph)."""
    own = {id(w) for w in wrapped}
    roots = [o._node for o in outputs if isinstance(o, Tensor) and o._node is not None]
    if not roots:
        return False
    sentinel = object()
    for node in toposort(sentinel, lambda n: roots if n is sentinel else n.parents()):
        if node is sentinel:
            continue
        for e in node.edges:
            if e is not None and not isinstance(e[0], Node) and id(e[0]) not in own:
                return True
    return False


def _plain(x):
    """x without the transform's graph, keeping forward-mode tangents (for values returned beside derivatives)."""
    if not isinstance(x, Tensor):
        return x
    with no_grad():
        return _alias(x)


def _wrap_args(op, args, nums):
    """The arguments with the differentiated ones replaced by differentiable aliases, and the flat list of those."""
    args = list(args)
    leaves_per_arg = []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        new = [_differentiable(x, op) for x in leaves]
        args[a] = tree_unflatten(new, spec)
        leaves_per_arg.append((new, spec))
    return args, leaves_per_arg


def _split_aux(op, out, has_aux):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{op}(f, ...)(*args): output of function f should be a tuple: (output, aux) if "
                           f"has_aux is True")
    return out


# ---- reverse mode ------------------------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output with respect to args[argnums], the output) (with
    has_aux, ((gradient, (output, aux))), as torch.func.grad_and_value)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, many = _argnums("grad_and_value", argnums, len(args))
        with enable_grad():
            new_args, wrapped = _wrap_args("grad", args, nums)
            out, aux = _split_aux("grad_and_value", func(*new_args, **kwargs), has_aux)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(out).__name__}")
            if out.ndim != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs "
                                   f"instead?")
            flat = [x for leaves, _ in wrapped for x in leaves]
            create = is_grad_enabled() and _outer_graph([out], flat)
            if out._requires_grad:
                found = _autograd_grad(out, flat, create_graph=create, allow_unused=True, materialize_grads=True)
            else:
                found = [_zeros(x, x.shape) for x in flat]
        it = iter(found if create else [_plain(g) for g in found])
        grads = tuple(tree_unflatten([next(it) for _ in leaves], spec) for leaves, spec in wrapped)
        g = grads if many else grads[0]
        value = out if create else _plain(out)
        if has_aux:
            return g, (value, aux if create else _tree_map(_plain, aux))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of func's scalar output with respect to args[argnums] (a tuple of argnums: a tuple of
    gradients), as a function of func's arguments (torch.func.grad). With has_aux, (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the vector-Jacobian product for each primal, as a
    tuple (torch.func.vjp); it may be called many times."""
    with enable_grad():
        new_args, wrapped = _wrap_args("vjp", primals, tuple(range(len(primals))))
        out, aux = _split_aux("vjp", func(*new_args), has_aux)
    out_leaves, out_spec = tree_flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has non-empty output and returns "
                               f"Tensors; got {type(o).__name__}")
    flat = [x for leaves, _ in wrapped for x in leaves]
    outer = _outer_graph(out_leaves, flat)

    def vjp_fn(cotangents):
        cts, spec = tree_flatten(cotangents)
        if len(cts) != len(out_leaves) or (spec != out_spec and len(cts) > 1):
            raise RuntimeError("vjp_fn: Expected pytree structure of cotangents to be the same as pytree structure "
                               "of outputs to the function")
        for c, o in zip(cts, out_leaves):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"vjp_fn: Mismatch in shape: grad_output has a shape of {tuple(c.shape)} and "
                                   f"output has a shape of {tuple(o.shape)}")
        pairs = [(o, c) for o, c in zip(out_leaves, cts) if o._requires_grad]
        with enable_grad():
            create = is_grad_enabled() and (outer or any(c._requires_grad for _, c in pairs))
            if pairs:
                found = _autograd_grad([o for o, _ in pairs], flat, [c for _, c in pairs], retain_graph=True,
                                       create_graph=create, allow_unused=True, materialize_grads=True)
            else:
                found = [_zeros(x, x.shape) for x in flat]
        it = iter(found if create else [_plain(g) for g in found])
        return tuple(tree_unflatten([next(it) for _ in leaves], spec) for leaves, spec in wrapped)
    value = out if outer else _tree_map(_plain, out)
    if has_aux:
        return value, vjp_fn, (aux if outer else _tree_map(_plain, aux))
    return value, vjp_fn


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func with respect to args[argnums] by reverse mode: one backward pass carrying every row of
    the identity (torch.func.jacrev). Each output leaf o and input x give a block of shape o.shape + x.shape;
    `chunk_size` caps the rows per pass (memory)."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, many = _argnums("jacrev", argnums, len(args))
        with enable_grad():
            new_args, wrapped = _wrap_args("jacrev", args, nums)
            out, aux = _split_aux("jacrev", func(*new_args, **kwargs), has_aux)
            out_leaves, out_spec = tree_flatten(out)
            for o in out_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"jacrev(f, ...)(*args): expected f(*args) to return only tensors, got "
                                       f"unsupported type {type(o).__name__}")
            flat = [x for leaves, _ in wrapped for x in leaves]
            create = is_grad_enabled() and _outer_graph(out_leaves, flat)
            blocks = _reverse_blocks(out_leaves, flat, create, chunk_size)
        if not create:
            blocks = [[_plain(b) for b in row] for row in blocks]
        per_out = []
        for row in blocks:  # per output leaf: per input leaf a block -> the argnums structure
            it = iter(row)
            per_arg = tuple(tree_unflatten([next(it) for _ in leaves], spec) for leaves, spec in wrapped)
            per_out.append(per_arg if many else per_arg[0])
        jac = tree_unflatten(per_out, out_spec)
        if has_aux:
            return jac, (aux if create else _tree_map(_plain, aux))
        return jac
    return wrapper


def _reverse_blocks(outs, inputs, create, chunk_size):
    """Per output, per input, d out / d input (out.shape + input.shape), from batched backward passes."""
    from .ops.shape import cat
    sizes = [o.numel() for o in outs]
    total = sum(sizes)
    blocks = [[None] * len(inputs) for _ in outs]
    if total == 0:
        for i, o in enumerate(outs):
            for j, x in enumerate(inputs):
                blocks[i][j] = _zeros(x, tuple(o.shape) + tuple(x.shape))
        return blocks
    step = total if chunk_size is None else chunk_size
    pieces = [[] for _ in inputs]
    live = [o for o in outs if o._requires_grad]
    for start in range(0, total, step):
        rows = min(step, total - start)
        cts, offset = [], 0
        for o, n in zip(outs, sizes):
            basis = _basis(o, start - offset, rows, n)
            if o._requires_grad:
                cts.append(basis.reshape((rows,) + tuple(o.shape)))
            offset += n
        if live:
            found = _autograd_grad(live, inputs, cts, retain_graph=True, create_graph=create, allow_unused=True,
                                   is_grads_batched=True, materialize_grads=True)
        else:
            found = [_zeros(x, (rows,) + tuple(x.shape)) for x in inputs]
        for j, g in enumerate(found):
            pieces[j].append(g)
    for j, x in enumerate(inputs):
        full = pieces[j][0] if len(pieces[j]) == 1 else cat(pieces[j], 0)
        offset = 0
        for i, (o, n) in enumerate(zip(outs, sizes)):
            blocks[i][j] = full[offset:offset + n].reshape(tuple(o.shape) + tuple(x.shape))
            offset += n
    return blocks


def _zeros(like, shape):
    return Tensor._make(like._backend.zeros(tuple(shape), like._data.dtype), like._backend, False, None, 0)


def _basis(like, first, rows, n):
    """Rows first .. first+rows of the identity's columns belonging to an output of n elements: (rows, n)."""
    b = like._backend
    out = b.zeros((rows, n), like._data.dtype)
    import numpy as np
    r = np.arange(rows)
    c = r + first
    keep = (c >= 0) & (c < n)
    if keep.any():
        b.setitem_(out, (b.asarray(r[keep], np.int64), b.asarray(c[keep], np.int64)), b.full((), 1, like._data.dtype))
    return Tensor._make(out, b, False, None, 0)


# ---- forward mode ------------------------------------------------------------------------------------------------

def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian-vector product along `tangents`[, aux]) by forward mode (torch.func.jvp).
    primals and tangents are tuples of the same structure."""
    for name, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, tuple):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. it should be valid "
                               f"to call f(*{name}).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents also must be.")
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be Tensors")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same shape; "
                               f"got {tuple(p.shape)} and {tuple(t.shape)}")
    with forward_ad.own_level() as lv:
        duals = [forward_ad.make_dual(p, t, level=lv) if p.dtype.kind == "f" else p for p, t in zip(p_leaves, t_leaves)]
        out, aux = _split_aux("jvp", func(*tree_unflatten(duals, p_spec)), has_aux)
        out_leaves, out_spec = tree_flatten(out)
        primal_out, tangent_out = [], []
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"jvp(f, primals, tangents): Expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o).__name__}")
            p, t = forward_ad.unpack_dual(o, level=lv)
            primal_out.append(p)
            tangent_out.append(t if t is not None else _zeros(o, o.shape))
        if has_aux:
            aux = _tree_map(lambda a: forward_ad.unpack_dual(a, level=lv).primal if isinstance(a, Tensor) else a, aux)
    result = (tree_unflatten(primal_out, out_spec), tree_unflatten(tangent_out, out_spec))
    return result + (aux,) if has_aux else result


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func with respect to args[argnums] by forward mode: one forward pass carrying every column of
    the identity as a batched tangent (torch.func.jacfwd). Blocks have shape out.shape + input.shape."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, many = _argnums("jacfwd", argnums, len(args))
        args = list(args)
        specs, flat = [], []
        for a in nums:
            leaves, spec = tree_flatten(args[a])
            for x in leaves:
                if not isinstance(x, Tensor) or x.dtype.kind != "f":
                    raise RuntimeError(f"jacfwd: expected the differentiated inputs to be floating-point Tensors; "
                                       f"got {type(x).__name__ if not isinstance(x, Tensor) else x.dtype.name}")
            specs.append((len(leaves), spec))
            flat += leaves
        sizes = [x.numel() for x in flat]
        total = sum(sizes)
        with forward_ad.own_level((total,)) as lv:
            duals, offset = [], 0
            for x, n in zip(flat, sizes):
                cols = _basis(x, -offset, total, n).reshape((total,) + tuple(x.shape))
                duals.append(forward_ad.make_dual(x, cols, level=lv))
                offset += n
            it = iter(duals)
            for a, (count, spec) in zip(nums, specs):
                args[a] = tree_unflatten([next(it) for _ in range(count)], spec)
            out, aux = _split_aux("jacfwd", func(*args, **kwargs), has_aux)
            out_leaves, out_spec = tree_flatten(out)
            per_out = []
            for o in out_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"jacfwd(f, ...)(*args): expected f(*args) to return only tensors, got "
                                       f"unsupported type {type(o).__name__}")
                t = forward_ad.unpack_dual(o, level=lv).tangent
                t = t if t is not None else _zeros(o, (total,) + tuple(o.shape))
                moved = t.reshape((total, o.numel())).mT if o.ndim else t.reshape((total,))  # (o elements, total)
                blocks, offset = [], 0
                for x, n in zip(flat, sizes):
                    blocks.append(moved[..., offset:offset + n].reshape(tuple(o.shape) + tuple(x.shape)))
                    offset += n
                it = iter(blocks)
                per_arg = tuple(tree_unflatten([next(it) for _ in range(count)], spec) for count, spec in specs)
                per_out.append(per_arg if many else per_arg[0])
            if has_aux:
                aux = _tree_map(lambda a: forward_ad.unpack_dual(a, level=lv).primal if isinstance(a, Tensor) else a,
                                aux)
        jac = tree_unflatten(per_out, out_spec)
        return (jac, aux) if has_aux else jac
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of func's (scalar) output with respect to args[argnums]: jacfwd(jacrev(func)), forward over
    reverse, as torch.func.hessian."""
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector product at primals (torch.func.linearize).

    micrograd evaluates each jvp_fn call by forward mode at the saved primals (PyTorch traces the linear function
    once); the results are the same."""
    saved = tuple(p.detach() if isinstance(p, Tensor) else p for p in primals)
    out = func(*primals)

    def jvp_fn(*tangents):
        if len(tangents) != len(saved):
            raise RuntimeError(f"linearize: jvp_fn expected {len(saved)} tangents; got {len(tangents)}")
        return jvp(func, saved, tangents)[1]
    return out, jvp_fn


# ---- modules as functions of their parameters --------------------------------------------------------------------

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced, for this call only, by the tensors the dicts
    name ("layer.weight": tensor), as torch.func.functional_call: the way to differentiate a module with respect to
    its parameters with the transforms. With tie_weights, a parameter registered under several names is replaced
    under all of them; with strict, every parameter and buffer must be given and no other name."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) else \
        (parameter_and_buffer_dicts,)
    given = {}
    for d in dicts:
        repeated = sorted(set(given) & set(d))
        if repeated:
            raise ValueError(f"functional_call got multiple values for keys {repeated}, which are used in both "
                             f"parameter_and_buffer_dicts")
        given.update(d)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    names = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
        [n for n, _ in module.named_buffers(remove_duplicate=False)]
    if strict:
        missing, unexpected = sorted(set(names) - set(given)), sorted(set(given) - set(names))
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: missing keys {missing}, "
                               f"unexpected keys {unexpected}")
    if tie_weights:
        by_id = {}
        for n, t in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(t), []).append(n)
        for group in by_id.values():
            chosen = [n for n in group if n in given]
            for n in group:
                if chosen and n not in given:
                    given[n] = given[chosen[0]]
    saved = []
    try:
        for name, value in given.items():
            owner, _, leaf = name.rpartition(".")
            sub = module.get_submodule(owner) if owner else module
            saved.append((sub, leaf, _swap_member(sub, leaf, value)))
        return module(*args, **(kwargs or {}))
    finally:
        for sub, leaf, old in reversed(saved):
            _swap_member(sub, leaf, old)


def _swap_member(module, name, value):
    """Put value in place of module's parameter, buffer or attribute `name`; returns what was there."""
    for registry in ("_parameters", "_buffers"):
        members = module.__dict__[registry]
        if name in members:
            old = members[name]
            members[name] = value
            return old
    old = module.__dict__.get(name)
    object.__setattr__(module, name, value)
    return old
