"""PyTorch's forward-mode API: `dual_level`, `make_dual`, `unpack_dual` (torch.autograd.forward_ad).

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        jvp = forward_ad.unpack_dual(y).tangent   # J(primal) @ tangent

Levels nest (each `dual_level` is a new one, the innermost highest); PyTorch allows one at a time, micrograd
any number, so forward mode composes with itself. The machinery is in forward.py.
"""
import collections
import contextlib

from ..errors import RuntimeValueError
from . import forward

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
_stack = []  # the levels dual_level entered, innermost last


def enter_dual_level():
    """Open a new dual level and return it (dual_level() is the context-manager form)."""
    return _enter(())


def _enter(batch):
    level = next(forward._levels)
    forward.ACTIVE[level] = tuple(batch)
    _stack.append(level)
    return level


def exit_dual_level(*, level=None):
    """Close `level` (default: the innermost): tangents at it are no longer seen by any op."""
    if level is None:
        if not _stack:
            raise RuntimeError("exit_dual_level: no dual level is open")
        level = _stack[-1]
    if level not in forward.ACTIVE:
        raise RuntimeError(f"exit_dual_level: level {level} is not open")
    del forward.ACTIVE[level]
    _stack.remove(level)


@contextlib.contextmanager
def dual_level():
    """A context in which make_dual attaches tangents and every op propagates them; they vanish on exit."""
    level = enter_dual_level()
    try:
        yield level
    finally:
        exit_dual_level(level=level)


@contextlib.contextmanager
def batched_level(size):
    """A dual level whose tangents carry a leading axis of `size` directions (jacfwd's one pass)."""
    level = _enter((size,))
    try:
        yield level
    finally:
        exit_dual_level(level=level)


@contextlib.contextmanager
def own_level(batch=()):
    """A dual level for micrograd's own use (batched gradients, jvp rules through composites): it propagates even
    inside a rule that hides the levels around it."""
    level = _enter(batch)
    forward._shown.add(level)
    try:
        yield level
    finally:
        forward._shown.discard(level)
        exit_dual_level(level=level)


def _current(level, op):
    if level is None:
        if not _stack:
            raise RuntimeError(f"{op}: no dual level is open; use it inside `with forward_ad.dual_level():`")
        return _stack[-1]
    if level not in forward.ACTIVE:
        raise RuntimeError(f"{op}: dual level {level} is not open")
    return level


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` at the dual level (default: the innermost)."""
    from ..ops.movement import Alias
    from ..tensor import Tensor
    level = _current(level, "make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expects Tensors; got {type(tensor).__name__} and {type(tangent).__name__}")
    if tensor.dtype.kind != "f":
        raise ValueError(f"make_dual: expected a floating-point primal; got dtype {tensor.dtype.name}")
    batch = forward.ACTIVE[level]
    if tuple(tangent.shape) != tuple(batch) + tuple(tensor.shape):
        raise RuntimeValueError(f"make_dual: trying to set a forward gradient that has a different size than "
                                f"that of the original Tensor; got tangent {tuple(tangent.shape)} for primal "
                                f"{tuple(tensor.shape)}")
    if tangent._backend is not tensor._backend:
        raise RuntimeValueError(f"make_dual: the tangent is on backend {tangent.backend!r}, the primal on "
                                f"{tensor.backend!r}")
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    with forward.hidden(level):
        out = Alias.apply(tensor)
    out._tangents = {**(out._tangents or {}), level: tangent}
    return out


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): a view of `tensor` without its tangent at the level, and that tangent (None if none)."""
    from ..ops.movement import Alias
    if not _stack and level is None:
        return UnpackedDualTensor(tensor, None)
    level = _current(level, "unpack_dual")
    ts = getattr(tensor, "_tangents", None)
    if not ts or level not in ts:
        return UnpackedDualTensor(tensor, None)
    with forward.hidden(level):
        primal = Alias.apply(tensor)
    return UnpackedDualTensor(primal, ts[level])
