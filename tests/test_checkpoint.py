"""micrograd.utils.checkpoint: gradients bit for bit those of the plain run, activations not kept, PyTorch's API.

Every model here is run twice from the same seed, plainly and checkpointed, and the gradients compared with exact
equality: the recomputation must draw the same dropout masks and differentiate the same ops in the same order.
"""
import gc
import os
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest

import micrograd as mg
import micrograd.utils.checkpoint
from micrograd import nn
from micrograd.autograd import Node
from micrograd.graph import toposort
from micrograd.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

TORCH_REASON = "PyTorch is not installed (pip install torch==2.13.0): not compared"
REENTRANT = [pytest.param(True, id="reentrant"), pytest.param(False, id="non-reentrant")]
CHECKPOINT_NODES = ("CheckpointFunction", "Checkpoint")


def arrays(tensors):
    return [None if t is None else t.detach().numpy().copy() for t in tensors]


def assert_identical(got, want):
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert (a is None) == (b is None), k
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape, k
            assert np.array_equal(a, b), f"item {k} differs; max |diff| {np.max(np.abs(a - b))}"


def graph_nodes(t):
    return toposort(t.grad_fn, Node.parents)


def mlp_with_dropout():
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 32), nn.GELU(),
                         nn.Dropout(0.5), nn.Linear(32, 3))


def run_mlp(use_reentrant, preserve_rng_state=True):
    """Loss, gradients (parameters and input) and the next random draw after a step, checkpointed or not."""
    mg.manual_seed(0)
    model = mlp_with_dropout()
    x = mg.randn(16, 6, requires_grad=True)
    if use_reentrant is None:
        out = model(x)
    else:
        out = checkpoint(model, x, use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state)
    loss = (out * out).sum()
    between = mg.rand(2)  # a draw between forward and backward: the recomputation must not disturb the stream
    loss.backward()
    return arrays([loss, x.grad, between, *(p.grad for p in model.parameters())]), mg.rand(5).numpy()


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_mlp_with_dropout_gradients_are_bit_identical_on_every_backend(backend, use_reentrant):
    want, next_draw = run_mlp(None)
    got, got_next = run_mlp(use_reentrant)
    assert_identical(got, want)
    assert np.array_equal(got_next, next_draw), "the caller's random state was not restored after backward"


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_without_preserve_rng_state_the_recomputation_draws_new_masks(use_reentrant):
    want, next_draw = run_mlp(None)
    got, got_next = run_mlp(use_reentrant, preserve_rng_state=False)
    assert np.array_equal(got[0], want[0])  # the forward drew the same masks
    assert not np.array_equal(got[3], want[3])  # backward's recomputation drew others
    assert not np.array_equal(got_next, next_draw)


def residual_stack(n=4, width=8):
    return [nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(0.2), nn.Linear(2 * width, width))
            for _ in range(n)]


def run_residual(use_reentrant):
    mg.manual_seed(1)
    blocks = residual_stack()
    x = mg.randn(5, 8, requires_grad=True)
    h = x
    for b in blocks:
        h = h + (b(h) if use_reentrant is None else checkpoint(b, h, use_reentrant=use_reentrant))
    loss = (h.tanh() * h).mean()
    loss.backward()
    return arrays([loss, x.grad, *(p.grad for b in blocks for p in b.parameters())])


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_residual_stack_gradients_are_bit_identical(backend, use_reentrant):
    assert_identical(run_residual(use_reentrant), run_residual(None))


def test_checkpointed_forward_records_one_node_per_checkpoint_and_keeps_no_activations():
    """After the forward, the graph holds one node per checkpoint (not one per op), and the arrays computed
    inside the blocks are freed as soon as the forward returns (reference counting alone, no cycle left)."""
    mg.manual_seed(2)
    blocks = residual_stack(n=3)
    x = mg.randn(4, 8, requires_grad=True)
    inside = []

    def block_fn(b):
        def run(h):
            hidden = b[2](b[1](b[0](h)))  # Linear -> GELU -> Dropout, whose output the last Linear saves
            inside.append(weakref.ref(hidden._data))
            return b[3](hidden)
        return run

    def forward(mode):
        h = x
        for b in blocks:
            h = h + (block_fn(b)(h) if mode is None else checkpoint(block_fn(b), h, use_reentrant=mode))
        return h.sum()

    gc.disable()
    try:
        plain = forward(None)
        assert all(r() is not None for r in inside), "the plain graph keeps the dropout outputs"
        assert len(graph_nodes(plain)) >= 3 * 5  # every op of every block (Linear, GELU, Dropout, Linear, +)
        del plain
        for mode in (True, False):
            inside.clear()
            out = forward(mode)
            assert [r() for r in inside] == [None] * 3, f"use_reentrant={mode} kept an activation"
            names = [n.name for n in graph_nodes(out)]
            assert names.count(CHECKPOINT_NODES[0] if mode else CHECKPOINT_NODES[1]) == 3
            assert len(names) == 3 + 3 + 1  # a checkpoint and an add per block, the sum
            out.backward()
    finally:
        gc.enable()


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_checkpoint_keeps_less_numpy_memory_than_the_plain_forward(use_reentrant):
    import tracemalloc

    mg.manual_seed(3)
    blocks = [nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 64)) for _ in range(6)]
    x = mg.randn(256, 64, requires_grad=True)

    def held_after_forward(mode):
        tracemalloc.start()
        try:
            h = x
            for b in blocks:
                h = h + (b(h) if mode is None else checkpoint(b, h, use_reentrant=mode))
            gc.collect()
            return tracemalloc.get_traced_memory()[0], h
        finally:
            tracemalloc.stop()

    plain, _ = held_after_forward(None)
    kept, out = held_after_forward(use_reentrant)
    # plain: per block GELU's intermediates (several 256x256 float32 arrays) and the hidden output; checkpointed:
    # each block's output (its input kept for the next) and small bookkeeping
    assert kept < 0.25 * plain, (kept, plain)
    assert kept > 6 * 256 * 64 * 4  # the blocks' outputs are there: the measure is not empty
    out.sum().backward()


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_tuple_outputs_and_non_tensor_arguments(use_reentrant):
    def fn(x, y, scale, mode, offset):
        a = (x * scale).tanh() + y
        return a, (a * y).sum(dim=1), mode.upper(), None, offset

    def run(ckpt):
        mg.manual_seed(4)
        x = mg.randn(3, 4, requires_grad=True)
        y = mg.randn(3, 4, requires_grad=True)
        args = (x, y, 0.5, "sum", 7)
        out = checkpoint(fn, *args, use_reentrant=use_reentrant) if ckpt else fn(*args)
        assert isinstance(out, tuple) and out[2:] == ("SUM", None, 7)
        assert out[0].requires_grad and out[1].requires_grad
        (out[0].exp().sum() + (out[1] * out[1]).sum()).backward()
        return arrays([out[0], out[1], x.grad, y.grad])

    assert_identical(run(True), run(False))


def test_non_reentrant_outputs_in_lists_and_dicts_and_unused_outputs():
    def fn(x):
        return {"a": x.sin(), "rest": [x.cos(), x.long()]}

    x = mg.randn(5, requires_grad=True)
    out = checkpoint(fn, x, use_reentrant=False)
    assert set(out) == {"a", "rest"} and not out["rest"][1].requires_grad
    out["rest"][0].sum().backward()  # the sine is never used: its gradient is zero
    np.testing.assert_array_equal(x.grad.numpy(), -x.detach().sin().numpy())


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_module_parameters_outside_the_arguments_get_gradients(use_reentrant):
    mg.manual_seed(5)
    lin = nn.Linear(4, 4)
    x = mg.randn(2, 4, requires_grad=True)
    lin(x).square().sum().backward()
    want = arrays([lin.weight.grad, lin.bias.grad, x.grad])
    lin.zero_grad(set_to_none=True)
    x.grad = None
    checkpoint(lin, x, use_reentrant=use_reentrant).square().sum().backward()
    assert_identical(arrays([lin.weight.grad, lin.bias.grad, x.grad]), want)
    # a second step accumulates, as without checkpointing
    checkpoint(lin, x, use_reentrant=use_reentrant).square().sum().backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), 2 * want[0])


def test_inputs_that_do_not_require_grad():
    """As in PyTorch: the reentrant variant warns and gives nothing a gradient; the non-reentrant one still
    differentiates the parameters inside."""
    mg.manual_seed(6)
    lin = nn.Linear(3, 3)
    x = mg.randn(2, 3)
    lin(x).sum().backward()
    want = arrays([lin.weight.grad, lin.bias.grad])
    lin.zero_grad(set_to_none=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        out = checkpoint(lin, x, use_reentrant=True)
    assert not out.requires_grad and lin.weight.grad is None
    out = checkpoint(lin, x, use_reentrant=False)
    out.sum().backward()
    assert_identical(arrays([lin.weight.grad, lin.bias.grad]), want)


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
@pytest.mark.parametrize("use_reentrant", REENTRANT)
@pytest.mark.parametrize("as_list", [False, True], ids=["sequential", "list"])
def test_checkpoint_sequential_matches_the_plain_sequential(use_reentrant, segments, as_list):
    def run(ckpt):
        mg.manual_seed(7)
        seq = nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Dropout(0.25), nn.Linear(12, 12), nn.ReLU(),
                            nn.Linear(12, 2))
        x = mg.randn(6, 5, requires_grad=True)
        fns = list(seq) if as_list else seq
        out = checkpoint_sequential(fns, segments, x, use_reentrant=use_reentrant) if ckpt else seq(x)
        names = [n.name for n in graph_nodes(out)]
        out.square().sum().backward()
        return arrays([out, x.grad, *(p.grad for p in seq.parameters())]), names

    (got, names), (want, plain_names) = run(True), run(False)
    assert_identical(got, want)
    size = 6 // segments
    # the checkpointed segments are one node each; the last segment runs as it is, its ops recorded
    n_ckpt = segments - 1 if size else 0
    assert sum(n in CHECKPOINT_NODES for n in names) == n_ckpt
    assert names[-1] == plain_names[-1]


def test_checkpoint_sequential_segments_larger_than_the_model_fail_as_in_pytorch():
    with pytest.raises(ValueError, match="arg 3 must not be zero"):
        checkpoint_sequential([nn.ReLU()], 2, mg.randn(2, requires_grad=True), use_reentrant=False)


def test_non_reentrant_grad_with_inputs_and_create_graph():
    mg.manual_seed(8)
    lin = nn.Linear(4, 4)
    x = mg.randn(3, 4, requires_grad=True)

    def f(t):
        return (lin(t).tanh() * t).sum(dim=1)

    def grads(ckpt, create):
        y = checkpoint(f, x, use_reentrant=False) if ckpt else f(x)
        gx, gw = mg.grad(y.square().sum(), [x, lin.weight], create_graph=create)
        if not create:
            return arrays([gx, gw])
        g2x, g2w = mg.grad((gx * gx).sum() + gw.sum(), [x, lin.weight])
        return arrays([gx, gw, g2x, g2w])

    assert_identical(grads(True, False), grads(False, False))
    assert lin.weight.grad is None and x.grad is None  # grad() leaves .grad alone
    got, want = grads(True, True), grads(False, True)
    assert_identical(got[:2], want[:2])
    for a, b in zip(got[2:], want[2:]):  # second derivatives: the same maths, possibly summed in another order
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_reentrant_grad_wrt_a_parameter_inside_is_unreachable_as_in_pytorch():
    lin = nn.Linear(3, 3)
    y = checkpoint(lin, mg.randn(2, 3, requires_grad=True), use_reentrant=True)
    with pytest.raises(RuntimeError, match="was not used"):
        mg.grad(y.sum(), [lin.weight])


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_second_backward_needs_retain_graph(use_reentrant):
    lin = nn.Linear(3, 3)
    x = mg.randn(2, 3, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=use_reentrant).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    y = checkpoint(lin, x, use_reentrant=use_reentrant).sum()
    lin.zero_grad(set_to_none=True)
    y.backward(retain_graph=True)
    first = lin.weight.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), 2 * first)


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_input_changed_in_place_after_the_forward_is_refused(use_reentrant):
    lin = nn.Linear(3, 3)
    h = mg.randn(2, 3, requires_grad=True) * 1
    y = checkpoint(lin, h, use_reentrant=use_reentrant).sum()
    with mg.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_use_reentrant_must_be_passed_explicitly_as_in_pytorch():
    lin = nn.Linear(3, 3)
    x = mg.randn(2, 3, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        y = checkpoint(lin, x)
    assert y.grad_fn.name == "CheckpointFunction"  # None means True, as in PyTorch 2.13
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed"):
        checkpoint_sequential([lin, lin], 2, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lin, x, use_reentrant=False)


def test_argument_errors_are_pytorchs():
    x = mg.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
        checkpoint(lambda t, a, b: t, x, use_reentrant=True, a=1, b=2)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got x"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([nn.ReLU()], 1, x, use_reentrant=False, foo=1)
    assert checkpoint(lambda t, a: t * a, x, use_reentrant=False, a=3).grad_fn.name == "Checkpoint"


def test_context_fn_wraps_the_forward_and_the_recomputation():
    import contextlib

    log = []

    @contextlib.contextmanager
    def phase(name):
        log.append(name)
        yield

    x = mg.randn(3, requires_grad=True)
    y = checkpoint(lambda t: t.exp(), x, use_reentrant=False,
                   context_fn=lambda: (phase("forward"), phase("recompute")))
    assert log == ["forward"]
    y.sum().backward()
    assert log == ["forward", "recompute"]


def test_recomputation_that_differs_from_the_forward_is_an_error():
    a, b = mg.randn(3, requires_grad=True), mg.randn(3, requires_grad=True)
    calls = []

    def swaps(t):  # uses a in the forward, b in the recomputation: same shapes, other tensors
        calls.append(1)
        return t * (a if len(calls) == 1 else b)

    y = checkpoint(swaps, mg.randn(3, requires_grad=True), use_reentrant=False)
    with pytest.raises(CheckpointError, match="different metadata than during the forward pass"):
        y.sum().backward()
    calls.clear()
    y = checkpoint(swaps, mg.randn(3, requires_grad=True), use_reentrant=False, determinism_check="none")
    y.sum().backward()  # not checked: the gradient goes where the forward's edge went
    assert a.grad is not None and b.grad is None

    calls.clear()

    def copies(t):  # the leaf a in the forward, a result with its shape in the recomputation
        calls.append(1)
        return t * (a if len(calls) == 1 else a * 1)

    y = checkpoint(copies, mg.randn(3, requires_grad=True), use_reentrant=False)
    with pytest.raises(CheckpointError, match=r"tensor at position 0:\nsaved metadata: \[leaf"):
        y.sum().backward()
    calls.clear()

    def grows(t):
        calls.append(1)
        return t * a if len(calls) == 1 else t * a * b

    y = checkpoint(grows, mg.randn(3, requires_grad=True), use_reentrant=False, determinism_check="none")
    with pytest.raises(CheckpointError, match="A different number of tensors"):
        y.sum().backward()


def test_captured_tensors_with_a_history_and_nested_checkpoints():
    """What the function uses from outside (a result `w2 = w * 2`, and `w` itself) gets its gradient through
    the checkpoint node's edges, with no double counting; a checkpoint inside a checkpoint recomputes too."""
    def run(ckpt):
        mg.manual_seed(9)
        w = mg.randn(4, requires_grad=True)
        w2 = w * 2
        x = mg.randn(3, 4, requires_grad=True)

        def inner(t):
            return (t * w2).sin() + w

        def outer(t):
            u = checkpoint(inner, t, use_reentrant=False) if ckpt else inner(t)
            return (u * w.T).exp()

        y = checkpoint(outer, x, use_reentrant=False) if ckpt else outer(x)
        (y.sum() + w2.sum()).backward()
        return arrays([y, x.grad, w.grad])

    assert_identical(run(True), run(False))


def test_non_reentrant_keyword_tensors_get_gradients():
    def run(ckpt):
        mg.manual_seed(12)
        x, w = mg.randn(3, 2, requires_grad=True), mg.randn(2, requires_grad=True)
        f = (lambda t, weight, power: (t * weight) ** power)
        y = checkpoint(f, x, use_reentrant=False, weight=w, power=3) if ckpt else f(x, weight=w, power=3)
        y.sum().backward()
        return arrays([y, x.grad, w.grad])

    assert_identical(run(True), run(False))


def test_importable_as_in_pytorch():
    import micrograd.utils

    assert micrograd.utils.checkpoint is sys.modules["micrograd.utils.checkpoint"]  # the submodule, not a function
    assert mg.utils.checkpoint.checkpoint is checkpoint
    assert micrograd.utils.checkpoint.checkpoint_sequential is checkpoint_sequential
    proc = subprocess.run([sys.executable, "-c", "import micrograd.utils.checkpoint as c; "
                           "from micrograd.utils.checkpoint import checkpoint; print(c.checkpoint is checkpoint)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr


# ---- against PyTorch ----

def _twin_models(torch, n=3, width=5):
    """A residual stack in micrograd and in PyTorch with the same float64 weights."""
    g = np.random.default_rng(10)
    mg_blocks, pt_blocks = [], []
    for _ in range(n):
        ws = [g.standard_normal((2 * width, width)) * 0.4, g.standard_normal(2 * width) * 0.1,
              g.standard_normal((width, 2 * width)) * 0.4, g.standard_normal(width) * 0.1]
        mb = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)).double()
        pb = torch.nn.Sequential(torch.nn.Linear(width, 2 * width), torch.nn.GELU(),
                                 torch.nn.Linear(2 * width, width)).double()
        with mg.no_grad(), torch.no_grad():
            for mp, pp, w in zip(mb.parameters(), pb.parameters(), ws):
                mp.copy_(mg.tensor(w))
                pp.copy_(torch.tensor(w))
        mg_blocks.append(mb)
        pt_blocks.append(pb)
    return mg_blocks, pt_blocks, g.standard_normal((4, width))


@pytest.mark.parametrize("x_requires_grad", [True, False], ids=["input-requires-grad", "input-without-grad"])
@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_against_torch_utils_checkpoint(use_reentrant, x_requires_grad):
    """The same residual stack through both libraries' checkpoint: the same outputs and gradients, the same
    gradients missing (the reentrant variant with an input that does not require grad gives the first block's
    parameters none), and the same warnings."""
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    mg_blocks, pt_blocks, data = _twin_models(torch)
    results = []
    for lib, ckpt, blocks, tensor in ((mg, checkpoint, mg_blocks, mg.tensor),
                                      (torch, torch_checkpoint, pt_blocks, torch.tensor)):
        x = tensor(data, requires_grad=x_requires_grad)
        scale = tensor(np.full(data.shape[1], 1.5), requires_grad=True)  # the later blocks' inputs require grad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = x
            for k, b in enumerate(blocks):
                h = h + ckpt(b, h, use_reentrant=use_reentrant)
                h = h * scale if k == 0 else h
        out = (h * h).sum()
        out.backward()
        grads = [None if p.grad is None else p.grad.detach().numpy() for b in blocks for p in b.parameters()]
        grads.append(scale.grad.numpy())
        results.append((out.detach().numpy(), grads, None if x.grad is None else x.grad.numpy(),
                        sorted(str(w.message) for w in caught)))
    (mo, mgrads, mx, mwarn), (po, pgrads, px, pwarn) = results
    np.testing.assert_allclose(mo, po, rtol=1e-12)
    assert [g is None for g in mgrads] == [g is None for g in pgrads]
    for a, b in zip(mgrads, pgrads):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert (mx is None) == (px is None)
    assert mwarn == pwarn
    if use_reentrant and not x_requires_grad:
        assert mgrads[0] is None and mgrads[-1] is not None


@pytest.mark.parametrize("use_reentrant", REENTRANT)
def test_tuple_outputs_against_pytorch(use_reentrant):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    data = np.random.default_rng(11).standard_normal((3, 4))
    got = []
    for lib, ckpt, tensor in ((mg, checkpoint, mg.tensor), (torch, torch_checkpoint, torch.tensor)):
        x = tensor(data, requires_grad=True)
        a, b, tag = ckpt(lambda t: (t.sin(), (t * t).sum(), "tag"), x, use_reentrant=use_reentrant)
        assert tag == "tag" and a.requires_grad and b.requires_grad
        (a.exp().sum() * b).backward()
        got.append(x.grad.numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


def test_benchmark_runs_quick_and_prints_the_ratios():
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks",
                          "bench_checkpoint.py")
    proc = subprocess.run([sys.executable, script, "--quick", "--rounds", "1"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    for line in ("micrograd memory ratio (checkpointed/plain): ", "micrograd time ratio (checkpointed/plain): "):
        rows = [row for row in proc.stdout.splitlines() if row.startswith(line)]
        assert rows and float(rows[0][len(line):].split()[0]) > 0, proc.stdout


def test_forward_mode_goes_through_a_checkpoint():
    """jacfwd and hessian (forward over reverse) through checkpointed blocks equal those of the plain blocks (the
    non-reentrant checkpoint once dropped the tangents: a silent zero)."""
    from micrograd import func
    mg.manual_seed(0)
    lin = mg.nn.Linear(3, 3).double()
    x = mg.randn(2, 3, dtype=mg.float64)

    def plain(x):
        return lin(x).tanh()
    for reentrant in (False, True):
        def checkpointed(x, reentrant=reentrant):
            return checkpoint(plain, x, use_reentrant=reentrant)
        if not reentrant:  # the reentrant variant warns, as PyTorch's, when no input requires grad (jacfwd's)
            np.testing.assert_allclose(func.jacfwd(checkpointed)(x).detach().numpy(),
                                       func.jacfwd(plain)(x).detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(func.hessian(lambda x: checkpointed(x).sum())(x).detach().numpy(),
                                   func.hessian(lambda x: plain(x).sum())(x).detach().numpy(), rtol=1e-12, atol=1e-14)
