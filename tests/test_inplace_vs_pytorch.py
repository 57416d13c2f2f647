"""Random programs of in-place updates, item assignments, views and out-of-place ops give PyTorch's values,
gradients and errors (in float64, on every backend).

A program starts from two leaves that require grad and a constant; each step applies one operation to tensors
of its pool, the same in micrograd and in PyTorch. Where PyTorch raises (an in-place change of a leaf, of a view
of a leaf, of a saved tensor, ...), micrograd must raise at the same step, a RuntimeError too; otherwise every
tensor of the pool must hold PyTorch's values and, after a backward of a weighted sum, every leaf PyTorch's
gradient. (PyTorch regenerates the history of a view whose base changed in place when the view's grad_fn is
read; micrograd whenever the view is used. The programs read grad_fn after each step, where the two agree.)
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import micrograd as mg

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0): not compared")

SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                    max_examples=max(30, settings.default.max_examples * 4))

UNARY_INPLACE = ["exp_", "tanh_", "sigmoid_", "relu_", "neg_", "abs_", "sin_", "cos_", "zero_", "pow_", "clamp_",
                 "fill_"]
BINARY_INPLACE = ["add_", "sub_", "mul_", "div_", "iadd", "isub", "imul", "itruediv", "copy_"]
OUT_OF_PLACE = ["add", "mul", "sub", "exp", "tanh", "sigmoid"]


def _index(draw, shape):
    """A basic index (ints and slices) of a tensor of shape `shape`, or an advanced one."""
    if not shape:
        return ()
    kind = draw(st.sampled_from(["int", "slice", "step", "row", "ints", "mask"]))
    if kind == "int":
        return tuple(draw(st.integers(-n, n - 1)) for n in shape[:draw(st.integers(1, len(shape)))])
    if kind == "slice":
        start = draw(st.integers(0, shape[0] - 1))
        return (slice(start, draw(st.integers(start + 1, shape[0]))),)
    if kind == "step":
        return (slice(None), slice(None, None, 2)) if len(shape) > 1 else (slice(None, None, 2),)
    if kind == "row":
        return (draw(st.integers(0, shape[0] - 1)), slice(None))[:len(shape)]
    if kind == "ints":
        return (np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=3, unique=True))),)
    mask = np.array(draw(st.lists(st.booleans(), min_size=shape[-1], max_size=shape[-1])))
    return (Ellipsis, mask)


@st.composite
def programs(draw):
    steps = []
    shapes = {"x": (3, 4), "y": (3, 4), "c": (3, 4)}
    for _ in range(draw(st.integers(2, 7))):
        names = sorted(shapes)
        t = draw(st.sampled_from(names))
        kind = draw(st.sampled_from(["view", "unary_", "binary_", "setitem", "out", "no_grad_binary_"]))
        new = f"t{len(steps)}"
        if kind == "view":
            view = draw(st.sampled_from(["index", "T", "reshape", "unsqueeze", "detach", "data", "expand", "unbind",
                                         "transpose", "squeeze"]))
            if view == "index":
                idx = _index(draw, shapes[t])
                if any(isinstance(p, np.ndarray) for p in idx):
                    continue  # advanced indexing copies: not a view
                steps.append(("index", new, t, idx))
                shapes[new] = np.empty(shapes[t])[idx].shape
            elif view == "T" and len(shapes[t]) == 2:
                steps.append(("T", new, t))
                shapes[new] = shapes[t][::-1]
            elif view == "reshape":
                steps.append(("reshape", new, t))
                shapes[new] = (int(np.prod(shapes[t])),)
            elif view == "unsqueeze":
                steps.append(("unsqueeze", new, t))
                shapes[new] = (1,) + shapes[t]
            elif view == "expand" and shapes[t] and shapes[t][0] != 0:
                steps.append(("expand", new, t))
                shapes[new] = (2,) + shapes[t]
            elif view in ("detach", "data"):
                steps.append((view, new, t))
                shapes[new] = shapes[t]
            elif view == "unbind" and shapes[t]:
                steps.append(("unbind", new, t, draw(st.integers(0, shapes[t][0] - 1))))
                shapes[new] = shapes[t][1:]
            elif view == "transpose" and len(shapes[t]) >= 2:
                steps.append(("transpose", new, t))
                shapes[new] = (shapes[t][1], shapes[t][0]) + shapes[t][2:]
            elif view == "squeeze":
                steps.append(("squeeze", new, t))
                shapes[new] = tuple(n for n in shapes[t] if n != 1)
        elif kind == "unary_":
            steps.append(("unary_", t, draw(st.sampled_from(UNARY_INPLACE))))
        elif kind in ("binary_", "no_grad_binary_"):
            same = [n for n in names if shapes[n] == shapes[t]]
            other = draw(st.sampled_from(same + ["scalar"]))
            op = draw(st.sampled_from(BINARY_INPLACE))
            if op == "copy_" and other == "scalar":
                op = "add_"
            steps.append((kind, t, op, other))
        elif kind == "setitem" and shapes[t]:
            idx = _index(draw, shapes[t])
            sel = np.empty(shapes[t])[idx].shape
            donors = [n for n in names if shapes[n] == sel]
            steps.append(("setitem", t, idx, draw(st.sampled_from(donors + ["scalar"]))))
        elif kind == "out":
            same = [n for n in names if shapes[n] == shapes[t]]
            steps.append(("out", new, t, draw(st.sampled_from(OUT_OF_PLACE)), draw(st.sampled_from(same))))
            shapes[new] = shapes[t]
    return steps


def _run(lib, steps, a, b, c):
    """Run a program with `lib` (micrograd or torch); returns (pool, leaves, the step that raised or None)."""
    x0 = lib.tensor(a, dtype=lib.float64, requires_grad=True)
    y0 = lib.tensor(b, dtype=lib.float64, requires_grad=True)
    pool = {"x": x0 * 1, "y": y0, "c": lib.tensor(c, dtype=lib.float64)}
    for k, step in enumerate(steps):
        try:
            _step(lib, pool, step)
            for t in pool.values():
                # Reading grad_fn makes PyTorch regenerate a view's history after its base changed in place
                # (micrograd always does): without it, PyTorch treats an in-place change of such a view as one of
                # a leaf.
                t.grad_fn
        except RuntimeError as exc:
            return pool, (x0, y0), (k, exc)
    return pool, (x0, y0), None


def _step(lib, pool, step):
    kind = step[0]
    if kind in ("index", "T", "reshape", "unsqueeze", "detach", "data", "expand", "unbind", "transpose", "squeeze"):
        new, t = step[1], pool[step[2]]
        pool[new] = {"index": lambda: t[step[3]], "T": lambda: t.T, "reshape": lambda: t.reshape(-1),
                     "unsqueeze": lambda: t.unsqueeze(0), "detach": lambda: t.detach(), "data": lambda: t.data,
                     "expand": lambda: t.expand(2, *t.shape), "unbind": lambda: t.unbind(0)[step[-1]],
                     "transpose": lambda: t.transpose(0, 1), "squeeze": lambda: t.squeeze()}[kind]()
    elif kind == "unary_":
        t = pool[step[1]]
        if step[2] == "exp_" and bool((t.detach() > 5).any()):  # repeated exp_ would overflow
            t.tanh_()
        elif step[2] == "pow_":
            t.pow_(2)
        elif step[2] == "clamp_":
            t.clamp_(-0.5, 0.5)
        elif step[2] == "fill_":
            t.fill_(pool["x"][0, 1])  # a 0-d tensor with a history
        else:
            getattr(t, step[2])()
    elif kind in ("binary_", "no_grad_binary_"):
        t, op = pool[step[1]], step[2]
        other = 0.5 if step[3] == "scalar" else pool[step[3]]
        if op == "div_" or op == "itruediv":
            other = 1.5 + (other * other if not isinstance(other, float) else other)
        with (lib.no_grad() if kind == "no_grad_binary_" else _nothing()):
            if op.startswith("i"):
                _augmented(t, op, other)
            else:
                getattr(t, op)(other)
    elif kind == "setitem":
        t = pool[step[1]]
        idx = tuple(lib.tensor(p) if isinstance(p, np.ndarray) else p for p in step[2])
        with warnings.catch_warnings():  # both warn when indices write into an expand (deprecated in PyTorch)
            warnings.filterwarnings("ignore", "Use of .* on expanded tensors is deprecated")
            t[idx] = 0.25 if step[3] == "scalar" else pool[step[3]]
    elif kind == "out":
        new, t, op, other = step[1], pool[step[2]], step[3], pool[step[4]]
        pool[new] = {"add": lambda: t + other, "mul": lambda: t * other, "sub": lambda: t - other,
                     "exp": lambda: t.exp(), "tanh": lambda: t.tanh(), "sigmoid": lambda: t.sigmoid()}[op]()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _augmented(t, op, other):
    if op == "iadd":
        t += other
    elif op == "isub":
        t -= other
    elif op == "imul":
        t *= other
    else:
        t /= other


def _host(lib, t):
    return t.detach().numpy() if lib is torch else t.detach()._host()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@SETTINGS
@given(program=programs(), seed=st.integers(0, 2 ** 16))
def test_programs_match_pytorch(backend, program, seed):
    if backend not in mg.available_backends():
        pytest.skip(f"backend {backend} unavailable here")
    rng = np.random.default_rng(seed)
    a, b, c = (rng.uniform(-1, 1, (3, 4)) for _ in range(3))
    with mg.use_backend(backend):
        mine = _run(mg, program, a, b, c)
    theirs = _run(torch, program, a, b, c)
    if theirs[2] is not None or mine[2] is not None:
        assert mine[2] is not None and theirs[2] is not None and mine[2][0] == theirs[2][0], \
            f"PyTorch: {theirs[2]}; micrograd: {mine[2]}"
        return
    for name in theirs[0]:
        np.testing.assert_allclose(_host(mg, mine[0][name]), _host(torch, theirs[0][name]), rtol=1e-12,
                                   atol=1e-14, err_msg=f"value of {name}")
    weights = {name: float(k + 1) for k, name in enumerate(sorted(theirs[0]))}
    outcome = []
    for lib, (pool, leaves, _) in ((mg, mine), (torch, theirs)):
        live = [n for n in sorted(pool) if pool[n].requires_grad]
        try:
            sum((pool[n] * weights[n]).sum() for n in live).backward() if live else None
            outcome.append([None if leaf.grad is None else _host(lib, leaf.grad) for leaf in leaves])
        except RuntimeError as exc:
            outcome.append(exc)
    if isinstance(outcome[1], Exception) or isinstance(outcome[0], Exception):
        assert isinstance(outcome[0], Exception) and isinstance(outcome[1], Exception), outcome
        return
    for g_mine, g_theirs in zip(*outcome):
        assert (g_mine is None) == (g_theirs is None)
        if g_mine is not None:
            np.testing.assert_allclose(g_mine, g_theirs, rtol=1e-12, atol=1e-14)
