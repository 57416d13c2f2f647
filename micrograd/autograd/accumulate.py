"""Summing gradients: the one place where two gradients of the same tensor meet.

A tensor used twice gets two gradients, and they add. The sum may go into the existing gradient's own
buffer instead of a new array, as PyTorch's AccumulateGrad does for `.grad`, when that cannot be observed:

- only during a first-order backward (with create_graph the sums are recorded ops, and stay out of place);
- only when nothing but the gradient slot being updated holds the existing gradient Tensor, and nothing but
  that Tensor holds its array: no user variable, no other slot, no view, no hook's copy. CPython's reference
  counts tell; `_ALONE` holds the counts this very function sees for a Tensor held by one slot, measured once
  at import (`_calibrate`), so the check never depends on guessed numbers;
- only when the array owns its memory, is writeable and has the sum's shape and dtype.

Where reference counts cannot tell a second holder apart (free-threaded CPython, or an interpreter whose
counts differ from the calibration), `_ALONE` is None and every sum is a new array.
"""
import sys

_MEASURE = object()  # add()'s third argument for a dry run that returns the reference counts it sees


def add(acc, g, in_place):
    """acc + g for a gradient slot holding acc (None: g itself), called as `slot = add(slot, g, in_place)`.

    With in_place (a first-order backward), the sum is written into acc's buffer when nothing else can see it
    (see the module docstring); otherwise it is a new Tensor.
    """
    if acc is None:
        return g
    arr = acc._data
    counts = (sys.getrefcount(acc), sys.getrefcount(arr))
    if in_place is _MEASURE:
        return counts
    if (in_place and _ALONE is not None and counts[0] <= _ALONE[0] and counts[1] <= _ALONE[1] and arr.base is None
            and arr.shape == g._data.shape and arr.dtype == g._data.dtype and getattr(arr.flags, "writeable", True)
            and acc._tangents is None and g._tangents is None):  # forward-mode tangents: the sum is new
        acc._backend.axpby_(arr, 1, g._data, 1)
        return acc
    return acc + g


class _Slot:
    __slots__ = ("_data",)


def _calibrate():
    """The reference counts add() reads for a gradient held by one slot only, or None (never add in place)
    where they cannot tell a second holder apart."""
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    slot = [_Slot()]
    slot[0]._data = []
    alone = add(slot[0], None, _MEASURE)
    other, other_data = slot[0], slot[0]._data  # noqa: F841  (a second holder of each, for the count)
    shared = add(slot[0], None, _MEASURE)
    return alone if shared == (alone[0] + 1, alone[1] + 1) else None


_ALONE = _calibrate()


def reset_grad(p, set_to_none=True):
    """PyTorch's zero_grad for one tensor: its .grad set to None, or cut from any graph and zeroed in place (the
    gradient tensor's version counts the change)."""
    g = p.grad
    if g is None:
        return
    if set_to_none:
        p.grad = None
        return
    if g._node is not None:
        g.detach_()
    else:
        g.requires_grad_(False)
    g.zero_()
