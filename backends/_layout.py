"""Shape bookkeeping for the backends' kernels: broadcasts merged into three axes and reduced axes merged into
(outer, axis, inner) runs (backends/numba.py), and attention masks as rows (numba's and CUDA's masked softmax).
Functions of shapes and arrays; no Numba needed."""
import functools
import math

import numpy as np


@functools.lru_cache(maxsize=4096)
def layout3(sa, sb):
    """The broadcast of shapes sa and sb as (out shape, (rows, mid, cols), a's strides, b's strides).

    Adjacent axes where each operand is either full or broadcast alike merge, so same-shape operands,
    scalars, (N, C) + (C,) and (N, C, H, W) + (1, C, 1, 1) all fit three axes; None when more are needed.
    """
    try:
        out = tuple(np.broadcast_shapes(sa, sb))
    except ValueError:
        return None
    nd = len(out)
    pa, pb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    groups = []  # [a full?, b full?, size]
    for n, x, y in zip(out, pa, pb):
        if n == 1:
            continue
        kind = [x == n, y == n]
        if groups and groups[-1][:2] == kind:
            groups[-1][2] *= n
        else:
            groups.append(kind + [n])
    if len(groups) > 3:
        return None
    groups = [[False, False, 1]] * (3 - len(groups)) + groups  # size-1 padding: stride 0
    strides = []
    for which in (0, 1):
        acc, st = 1, [0, 0, 0]
        for g in (2, 1, 0):
            if groups[g][which]:
                st[g] = acc
                acc *= groups[g][2]
        strides.append(tuple(st))
    return out, tuple(g[2] for g in groups), strides[0], strides[1]


def groups(shape, axes):
    """shape as runs of adjacent reduced / kept axes: [(reduced?, size)], axes of size 1 dropped."""
    runs = []
    for i, n in enumerate(shape):
        if n == 1:
            continue
        red = i in axes
        if runs and runs[-1][0] == red:
            runs[-1][1] *= n
        else:
            runs.append([red, n])
    return runs


def out_shape(shape, axes, keepdims):
    return tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdims else \
        tuple(n for i, n in enumerate(shape) if i not in axes)


def single_run(shape, axes):
    """(outer, n, inner) when the reduced axes form one run of adjacent axes (size-1 axes aside), else None."""
    runs = groups(shape, axes)
    reds = [i for i, (red, _) in enumerate(runs) if red]
    if len(reds) != 1:
        return None
    k = reds[0]
    return (math.prod(n for _, n in runs[:k]), runs[k][1], math.prod(n for _, n in runs[k + 1:]))


def keep_rows(xp, keep, shape):
    """masked_softmax's mask (bool, broadcastable to `shape`; None: everything) as (M, n) rows that row r of the
    (R, n) scores uses at r % M: one (L, n) pattern when the mask repeats over the leading axes (attention's),
    else broadcast in full; None when keep does not broadcast to `shape`. For row kernels."""
    n = shape[-1]
    if keep is None:
        return xp.full((1, n), True, np.bool_)
    if keep.ndim > len(shape):
        return None
    full = (1,) * (len(shape) - keep.ndim) + tuple(keep.shape)
    try:
        np.broadcast_shapes(full, tuple(shape))
    except ValueError:
        return None
    if len(shape) >= 2 and all(d == 1 for d in full[:-2]):
        return xp.ascontiguousarray(xp.broadcast_to(keep.reshape(full[-2:]), shape[-2:])).reshape(-1, n)
    return xp.ascontiguousarray(xp.broadcast_to(keep.reshape(full), shape)).reshape(-1, n)
