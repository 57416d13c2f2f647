"""The ops behind in-place updates (micrograd/autograd/inplace.py): writing values into a view's region of its
root, item assignment with integer or boolean indices, and overwriting a tensor with a value of no history."""
import warnings

from ..autograd import Function, inplace
from ..autograd import forward as fw
from ..errors import RuntimeValueError
from ..autograd.grad_mode import _grad_enabled
from ..tensor import Tensor
from .movement import GetItem, index_parts, is_basic
from .util import constant, unbroadcast

__all__ = ["IndexPut", "Overwrite", "ViewUpdate", "setitem"]


class Overwrite(Function):
    """`value` replacing x (an in-place fill or copy): d/dx = 0 (PyTorch's gradient for the overwritten tensor),
    d/dvalue = 1."""

    @staticmethod
    def forward(ctx, x, value):
        return value._data

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad
        return (g * 0 if nx else None), (g if nv else None)

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tv):
        out = ctx.outs[0]
        return fw.zeros(ctx, out) if tv is None else fw.fit(ctx, tv, out)


class ViewUpdate(Function):
    """The root after `value` was written into the region view(root) selects: base with that region replaced.

    Forward returns the root's storage, which the caller has already written; d/dbase = g with the region
    zeroed, d/dvalue = view(g). The view is differentiable (indexing, reshape, permute), so both rules are too.
    """

    @staticmethod
    def forward(ctx, base, value, view, aliased=False):
        ctx.view, ctx.shape, ctx.dtype, ctx.aliased = view, base.shape, base.dtype, aliased
        return base._data

    @staticmethod
    def backward(ctx, g):
        if ctx.aliased:  # the view's elements alias one another: its region has no well-defined gradient
            raise RuntimeValueError(inplace.EXPANDED)
        nb, nv = ctx.needs_input_grad[:2]
        gb = gv = None
        if nb:
            b = g._backend
            mask = Tensor._make(b.full(ctx.shape, 1, g.dtype), b, False, None, 0)
            b.assign_(ctx.view(mask)._data, b.zeros((), g.dtype))  # zero the region, through the view itself
            gb = g * mask
        if nv:
            gv = ctx.view(g)
        return gb, gv, None, None

    @staticmethod
    def jvp(ctx, tb, tv, *_):
        # one direction at a time (jvp_batched is False): the view is a function of the primal's shape
        base = ctx.outs[0]
        t = fw.zeros(ctx, base) if tb is None else Tensor._make(tb._backend.copy(tb._data), tb._backend, False, None, 0)
        if tv is not None:
            t._backend.assign_(ctx.view(t)._data, tv._data)
        return t


class IndexPut(Function):
    """x with value written at index (integer arrays or a boolean mask; value broadcast to the selection):
    x.index_put(index, value). d/dx = g with the selection zeroed, d/dvalue = g[index] summed to value's shape.
    """

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_shape = index, value.shape
        b = x._backend
        out = b.copy(x._data)
        b.setitem_(out, index, value._data)
        return out

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad[:2]
        gx = gv = None
        if nx:
            zero = constant(g, 0)
            gx = IndexPut.apply(g, zero, index=ctx.index)
        if nv:
            gv = unbroadcast(GetItem.apply(g, index=ctx.index), ctx.value_shape)
        return gx, gv, None

    jvp_batched = True

    @staticmethod
    def jvp(ctx, tx, tv, *_):
        x, value = ctx.primals[:2]
        tx = fw.zeros(ctx, x) if tx is None else tx
        tv = fw.zeros(ctx, value) if tv is None else tv
        return fw.batch_first(ctx, IndexPut.apply(fw.batch_last(ctx, tx), fw.batch_last(ctx, tv),
                                                  index=fw.index_batched(ctx, ctx.index)))


def setitem(x, index, value):
    """x[index] = value in place (Tensor.__setitem__): value broadcast to the selection and cast to x's dtype.
    Outside autograd the values are written directly; under it, basic indexing writes through the view x[index]
    and other indices put the value out of place (IndexPut), each then committed with PyTorch's rules."""
    index = index_parts(x, index, "setitem")
    if not isinstance(value, Tensor):
        value = Tensor(value, dtype=x.dtype, backend=x._backend.name)
    elif value._backend is not x._backend:
        value = value.to(x._backend.name)
    basic = is_basic(index)
    if basic:
        view = GetItem.apply(x, index=index)
        same = view.shape == value.shape and view._backend.overlap(view._data, value._data) == 1
        if not same:  # x[i] = x[i] is a copy into itself: allowed, even onto aliased elements
            inplace.check_overlap(view, (value,))
    else:
        inplace.check_overlap(x, (value,), any_overlap=True)
    if not basic and x._backend.internal_overlap(x._data):
        masked = value.ndim == 0 and any(getattr(p, "dtype", None) == bool for p in index)
        warnings.warn((f"Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before "
                       f"performing this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar"
                       ) if masked else ("Use of index_put_ on expanded tensors is deprecated. Please clone() the "
                                         "tensor before performing this operation. This also applies to advanced "
                                         "indexing e.g. tensor[indices] = tensor"), UserWarning, stacklevel=3)
    recording = _grad_enabled.get() and (x.requires_grad or value.requires_grad) and x.dtype.kind == "f"
    if not recording and fw.ACTIVE and (x._tangents or value._tangents) and x.dtype.kind == "f":
        return _setitem_dual(x, index, value.astype(x.dtype))
    if not recording:
        inplace.check_writable(view if basic else x, False, fill=not basic or same)
        x._backend.setitem_(x._data, index, value._data)
        inplace.counter(x)[0] += 1
        return
    if basic:  # copy_ into the view: the value's history continues through an op of its own
        fitted = _fit(value.astype(x.dtype), view.shape)
        inplace.commit(view, inplace.run(view, lambda a: Overwrite.apply(a, fitted)), fill=same)
    else:
        value = value.astype(x.dtype)
        inplace.commit(x, inplace.run(x, lambda a: IndexPut.apply(a, value, index=index)), fill=True,
                       write=lambda: x._backend.setitem_(x._data, index, value._data))


def _setitem_dual(x, index, value):
    """x[index] = value outside autograd for tensors with forward-mode tangents: the tangent is put likewise."""
    if x._view is not None and x._view.fn is not None:
        raise NotImplementedError("setitem: writing into a view of a tensor with a forward-mode tangent while not "
                                  "recording; write into the base tensor, or compute out of place")
    new = IndexPut.apply(x._alias(), value, index=index)
    inplace.check_writable(x, False, fill=True)
    x._backend.setitem_(x._data, index, value._data)
    inplace.counter(x)[0] += 1
    x._tangents = new._tangents


def _fit(value, shape):
    """value broadcast to shape, leading dimensions of size 1 dropped first (as NumPy and PyTorch assign)."""
    while value.ndim > len(shape) and value.shape[0] == 1:
        value = value.reshape(value.shape[1:])
    return value if value.shape == shape else value.expand(shape)
