"""The fused ops (micrograd/ops/: pooling, loss, linear, rnn, and the activations' gradient ops) on every backend: they compute what
the composites they replace compute, forward and backward, and their backward rules are differentiable
again (gradients of gradients, and beyond for the activations)."""
import math

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd.ops import Conv2d, Im2Col, MaxPool2d, ScaledDotProductAttention, SoftmaxCrossEntropy

TARGETS = np.array([2, -100, 0, 4, 4, 1])


def _leaf(a, dtype="float64"):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def _composite_cross_entropy(x, t, reduction):
    return F.nll_loss(F.log_softmax(x, 1), t, reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_takes_the_fused_path_and_matches_the_composite(backend, reduction, dtype):
    a = np.random.default_rng(0).uniform(-3, 3, (6, 5))
    x, y = _leaf(a, dtype), _leaf(a, dtype)
    fused = F.cross_entropy(x, TARGETS, reduction=reduction)
    composite = _composite_cross_entropy(y, TARGETS, reduction)
    assert fused.dtype == composite.dtype == mg.tensor(0.0, dtype=dtype).dtype
    node = fused.grad_fn
    while node is not None and node.fn is not SoftmaxCrossEntropy:
        node = next(iter(node.parents()), None)
    assert node is not None, "cross_entropy on (N, C) class indices should use the fused op"
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.detach().numpy(), composite.detach().numpy(), **tol)
    cot = mg.tensor(np.random.default_rng(1).standard_normal(fused.shape), dtype=dtype)
    fused.backward(cot)
    composite.backward(cot)
    np.testing.assert_allclose(x.grad.detach().numpy(), y.grad.detach().numpy(), **tol)
    assert not x.grad.detach().numpy()[1].any()  # the ignored row gets no gradient


def test_cross_entropy_fused_gradients_and_second_derivatives(backend):
    x = _leaf(np.random.default_rng(2).uniform(-2, 2, (6, 5)))
    assert mg.gradcheck(lambda x: F.cross_entropy(x, TARGETS), x)
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS, reduction="none"), x)
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS), x)
    # the reduced loss's gradient depending on x again: second derivatives through d/dg of the fused op
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS).exp(), x)
    assert mg.gradgradcheck(lambda x: F.cross_entropy(x, TARGETS, reduction="sum").tanh(), x)


def test_cross_entropy_with_every_target_ignored_is_nan(backend):
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(_leaf(np.zeros((2, 3))), [-100, -100])
    assert math.isnan(loss.item())


def _composite_max_pool(x, k, s):
    # max along one dim sends each gradient to the first maximum (max over several dims would split it over ties)
    return Im2Col.apply(x, kh=k, kw=k, stride=s).flatten(2, 3).max(2).values


@pytest.mark.parametrize("k, s", [(2, 2), (3, 1), (2, 3)])
def test_max_pool_matches_the_composite_forward_and_backward(backend, k, s):
    a = np.round(np.random.default_rng(3).uniform(-1, 1, (2, 3, 7, 8)), 1)  # rounded: ties
    x, y = _leaf(a), _leaf(a)
    fused, composite = F.max_pool2d(x, k, stride=s), _composite_max_pool(y, k, s)
    assert fused.grad_fn.fn is MaxPool2d
    np.testing.assert_array_equal(fused.detach().numpy(), composite.detach().numpy())
    cot = mg.tensor(np.random.default_rng(4).standard_normal(fused.shape))
    fused.backward(cot)
    composite.backward(cot)
    np.testing.assert_allclose(x.grad.detach().numpy(), y.grad.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_max_pool_second_derivatives_and_padding(backend):
    x = _leaf(np.random.default_rng(5).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 10)  # distinct values
    assert mg.gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), x)
    assert mg.gradgradcheck(lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1), x)
    assert mg.gradgradcheck(lambda x: F.max_pool2d(x, 2) * F.max_pool2d(x, 2), x)


def test_max_pool_propagates_nan(backend):
    a = np.arange(16.0).reshape(1, 1, 4, 4)
    a[0, 0, 0, 1] = np.nan
    out = F.max_pool2d(mg.tensor(a), 2).detach().numpy()
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 1] == 15


@pytest.mark.parametrize("name, derivs", [
    ("tanh", lambda x: (1 - np.tanh(x) ** 2, -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
                        (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2))),
    ("sigmoid", lambda x: _sigmoid_derivs(1 / (1 + np.exp(-x)))),
    ("relu", lambda x: ((x > 0) * 1.0, 0 * x, 0 * x)),
])
def test_activation_gradients_differentiate_three_times(backend, name, derivs):
    a = np.array([-2.5, -0.7, 0.3, 1.1, 2.0])
    x = _leaf(a)
    grads, y = [], getattr(x, name)()
    for _ in range(3):  # relu's gradient is piecewise constant: no path back to x (None), read as zeros
        (y,) = mg.grad(y.sum(), x, create_graph=True, allow_unused=True) if y is not None else (None,)
        grads.append(np.zeros_like(a) if y is None else y.detach().numpy())
    for got, want in zip(grads, derivs(a)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def _sigmoid_derivs(s):
    return s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_takes_the_fused_path_and_matches_the_composite(backend, bias, dtype):
    from micrograd.ops import Linear
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((6, 4), (3, 4), (3,))]
    fused_in = [_leaf(a, dtype) for a in arrays]
    comp_in = [_leaf(a, dtype) for a in arrays]
    b_f, b_c = (fused_in[2], comp_in[2]) if bias else (None, None)
    fused = F.linear(fused_in[0], fused_in[1], b_f)
    composite = comp_in[0] @ comp_in[1].T
    composite = composite if b_c is None else composite + b_c
    assert fused.grad_fn.fn is Linear and fused.dtype == composite.dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fused.detach().numpy(), composite.detach().numpy(), **tol)
    cot = mg.tensor(rng.standard_normal(fused.shape), dtype=dtype)
    fused.backward(cot)
    composite.backward(cot)
    for f, c in zip(fused_in[:3 if bias else 2], comp_in):
        assert f.grad.dtype == c.grad.dtype
        np.testing.assert_allclose(f.grad.detach().numpy(), c.grad.detach().numpy(), **tol)


def _lstm_inputs(dtype, steps=4, n=3, h=2, seed=0):
    rng = np.random.default_rng(seed)
    arrays = (rng.standard_normal((steps, n, 4 * h)) * 1.5, rng.standard_normal((n, h)), rng.standard_normal((n, h)),
              rng.standard_normal((4 * h, h)) * 0.7)
    return [_leaf(a, dtype) for a in arrays]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_layer_matches_the_per_step_composite_forward_and_backward(backend, dtype, reverse):
    from micrograd.ops.rnn import LSTMLayer, lstm_composite
    fused_in, comp_in = _lstm_inputs(dtype), _lstm_inputs(dtype)
    fused, composite = LSTMLayer.apply(*fused_in, reverse), lstm_composite(*comp_in, reverse)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for a, b in zip(fused, composite):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    rng = np.random.default_rng(1)
    cots = [mg.tensor(rng.standard_normal(a.shape), dtype=dtype) for a in fused]
    sum((a * g).sum() for a, g in zip(fused, cots)).backward()
    sum((b * g).sum() for b, g in zip(composite, cots)).backward()
    for a, b in zip(fused_in, comp_in):
        assert a.grad.dtype == b.grad.dtype
        np.testing.assert_allclose(a.grad.detach().numpy(), b.grad.detach().numpy(), **tol)


def test_lstm_layer_with_only_the_final_state_used_takes_the_others_as_zeros(backend):
    from micrograd.ops.rnn import LSTMLayer, lstm_composite
    fused_in, comp_in = _lstm_inputs("float64"), _lstm_inputs("float64")
    LSTMLayer.apply(*fused_in)[1].sum().backward()  # h_n only: out's and c_n's gradients arrive as None
    lstm_composite(*comp_in, False)[1].sum().backward()
    for a, b in zip(fused_in, comp_in):
        np.testing.assert_allclose(a.grad.detach().numpy(), b.grad.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_gradients_and_second_derivatives_match_finite_differences(reverse):
    from micrograd.ops import LSTMLayer
    inputs = _lstm_inputs("float64", steps=3, n=2, h=2, seed=2)

    def fn(proj, h0, c0, w):
        out, h, c = LSTMLayer.apply(proj, h0, c0, w, reverse)
        return (out * out).sum() + h.tanh().sum() + (c * 2).sum()
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


def test_lstm_layer_needs_no_gradient_for_inputs_that_do_not_require_it():
    from micrograd.ops import LSTMLayer
    proj, h0, c0, w = _lstm_inputs("float64")
    h0, c0 = h0.detach(), c0.detach()
    LSTMLayer.apply(proj, h0, c0, w)[0].sum().backward()
    assert proj.grad is not None and w.grad is not None and h0.grad is None and c0.grad is None


@pytest.mark.parametrize("wants", [(True, True, True), (False, True, True), (True, False, False), (False, False, True),
                                   (False, True, False)], ids=str)
def test_linear_gradients_of_gradients_for_every_subset_of_inputs(wants):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (2, 4), (2,))]
    inputs = [mg.tensor(a, requires_grad=want) for a, want in zip(arrays, wants)]
    wanted = [t for t in inputs if t.requires_grad]

    def fn(*ts):
        it = iter(ts)
        x, w, b = (next(it) if want else t for want, t in zip(wants, inputs))
        return (F.linear(x, w, b).tanh() ** 2).sum()
    assert mg.gradcheck(fn, wanted)
    assert mg.gradgradcheck(fn, wanted)


def test_lstm_with_mixed_dtypes_promotes_as_the_composite_does():
    mg.manual_seed(0)
    lstm = mg.nn.LSTM(3, 2)  # float32 weights
    x = mg.tensor(np.random.default_rng(5).standard_normal((4, 2, 3)), dtype="float64")
    h0, c0 = mg.zeros(1, 2, 2), mg.zeros(1, 2, 2)  # float32 state with a float64 input
    out, (h, c) = lstm(x, (h0, c0))
    assert out.dtype == h.dtype == c.dtype == np.float64
    same, _ = lstm(x, (h0.astype("float64"), c0.astype("float64")))
    np.testing.assert_allclose(out.detach().numpy(), same.detach().numpy(), rtol=1e-6, atol=1e-7)


def _composite_conv2d(x, w, stride, padding):
    from micrograd.nn.convolution import _conv2d_composite
    if padding:
        x = F.pad(x, (padding,) * 4)
    return _conv2d_composite(x, w, stride)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (3, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_takes_the_fused_path_and_matches_the_composite(backend, stride, padding, dtype):
    rng = np.random.default_rng(6)
    a, k = rng.standard_normal((3, 2, 9, 8)), rng.standard_normal((4, 2, 3, 3))
    x, w, x2, w2 = _leaf(a, dtype), _leaf(k, dtype), _leaf(a, dtype), _leaf(k, dtype)
    fused = F.conv2d(x, w, stride=stride, padding=padding)
    composite = _composite_conv2d(x2, w2, stride, padding)
    assert fused.grad_fn.fn is Conv2d
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused.detach().numpy(), composite.detach().numpy(), **tol)
    cot = mg.tensor(rng.standard_normal(fused.shape).astype(dtype))
    fused.backward(cot)
    composite.backward(cot)
    for got, want in ((x.grad, x2.grad), (w.grad, w2.grad)):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), **tol)


def test_conv2d_gradients_of_gradients_and_partial_needs(backend):
    rng = np.random.default_rng(7)
    x, w = _leaf(rng.standard_normal((2, 2, 6, 5))), _leaf(rng.standard_normal((3, 2, 3, 2)))
    assert mg.gradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=1), (x, w))
    assert mg.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))
    # only the weight wants a gradient (a network's first layer), then only the input
    frozen = mg.tensor(x.detach().numpy())
    F.conv2d(frozen, w).sum().backward()
    assert frozen.grad is None and w.grad is not None
    w.grad, wf = None, mg.tensor(w.detach().numpy())
    F.conv2d(x, wf).sum().backward()
    assert wf.grad is None and x.grad is not None


@pytest.mark.parametrize("name", ["numpy", "numba"])
@pytest.mark.parametrize("chunk_bytes", [1, 2 * 24 * 9 * 8 + 1, 1 << 20])  # an image a chunk; (2, 2, 1); one chunk
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_in_chunks_matches_the_reference(name, chunk_bytes, stride, monkeypatch):
    """The host backends run the batch in cache-sized chunks of images (and numpy's input gradient at stride 1 in a
    padded layout): any chunking gives the reference's result (which makes the whole batch's patches at once)."""
    if name not in mg.backend.available_backends():
        pytest.skip(f"backend {name} unavailable here: {mg.backend.unavailable_reason(name)}")
    from micrograd.backends import numpy as numpy_backend
    from micrograd.backends.reference import ReferenceBackend
    monkeypatch.setattr(numpy_backend, "CONV_CHUNK_BYTES", chunk_bytes)
    b, ref = mg.backend.backend_object(name), ReferenceBackend()
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((3, 4, 3, 2))
    out = ref.conv2d(x, w, stride)
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(b.conv2d(x, w, stride), out, rtol=1e-13, atol=1e-13)
    for need in ((True, True), (True, False), (False, True)):
        got, want = b.conv2d_backward(g, x, w, stride, *need), ref.conv2d_backward(g, x, w, stride, *need)
        for a, e in zip(got, want):
            assert (a is None) == (e is None)
            if a is not None:
                np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-13)
    w[0, 1, 2, 0] = np.inf  # a non-finite weight: every backend's NaN and inf where the reference has them
    with np.errstate(invalid="ignore"):
        got, want = b.conv2d_backward(g, x, w, stride, True, False)[0], ref.conv2d_backward(g, x, w, stride, True,
                                                                                             False)[0]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float", "row-masked"])
def test_attention_takes_the_fused_path_and_matches_the_composite(backend, mask):
    rng = np.random.default_rng(9)
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 2))
    kw = {"causal": {"is_causal": True}, "bool": {"attn_mask": rng.random((4, 6)) < 0.6},
          "float": {"attn_mask": mg.tensor(rng.standard_normal((3, 1, 6)))}, "none": {}}.get(mask)
    if mask == "row-masked":
        keep = rng.random((2, 1, 4, 6)) < 0.6
        keep[0, 0, 1] = False  # nothing to attend to: zeros, as PyTorch
        kw = {"attn_mask": keep}
    fused_in, comp_in = [_leaf(a) for a in (q, k, v)], [_leaf(a) for a in (q, k, v)]
    fused = F.scaled_dot_product_attention(*fused_in, **kw)
    assert fused.grad_fn.fn is ScaledDotProductAttention
    frozen = dict(kw)
    if isinstance(kw.get("attn_mask"), mg.Tensor):  # a mask that requires grad takes the recorded composite
        frozen["attn_mask"] = _leaf(kw["attn_mask"].numpy())
    # the recorded composite: a mask that requires grad takes it, and so does dropout (at p = 1e-300 it keeps
    # every weight, scaled by 1 / (1 - p) = 1)
    composite = F.scaled_dot_product_attention(*comp_in, **frozen) if "attn_mask" in frozen and isinstance(
        frozen["attn_mask"], mg.Tensor) else F.scaled_dot_product_attention(*comp_in, dropout_p=1e-300, **kw)
    assert composite.grad_fn.fn is not ScaledDotProductAttention
    np.testing.assert_allclose(fused.detach().numpy(), composite.detach().numpy(), rtol=1e-12, atol=1e-12)
    cot = mg.tensor(rng.standard_normal(fused.shape))
    fused.backward(cot)
    composite.backward(cot)
    for a, b in zip(fused_in, comp_in):
        np.testing.assert_allclose(a.grad.detach().numpy(), b.grad.detach().numpy(), rtol=1e-11, atol=1e-12)


def test_attention_and_conv_backward_batched_and_second_order(backend):
    """The fused ops' forward-mode rules (through their composites) against finite differences, batched and not;
    their backward under a batched or forward-over-reverse pass (gradients carrying tangents) and under
    create_graph goes through the composites; one tensor in several places gets each place's share."""
    rng = np.random.default_rng(10)
    q = _leaf(rng.standard_normal((2, 3, 4)))
    attend = (lambda a: F.scaled_dot_product_attention(a, a, a, is_causal=True))  # noqa: E731
    assert mg.gradcheck(attend, (q,), check_batched_grad=True, check_forward_ad=True, check_batched_forward_grad=True)
    assert mg.gradgradcheck(attend, (q,))
    x, w = _leaf(rng.standard_normal((2, 2, 5, 4))), _leaf(rng.standard_normal((3, 2, 3, 3)))
    assert mg.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w), check_batched_grad=True,
                        check_forward_ad=True, check_batched_forward_grad=True)
    from micrograd.func import hessian
    h = hessian(lambda a: (F.conv2d(a, w) ** 2).sum())(x)
    assert h.shape == x.shape * 2


def test_attention_grouped_query_heads_and_bad_groups():
    rng = np.random.default_rng(11)
    q, k, v = (_leaf(rng.standard_normal(s)) for s in ((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 3)))
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    want = F.scaled_dot_product_attention(q, k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1))
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"the number of heads in key \(3\) and value \(3\) must divide the number of "
                                         r"query heads \(4\)"):
        F.scaled_dot_product_attention(q, mg.zeros(1, 3, 3, 2, dtype=mg.float64), mg.zeros(1, 3, 3, 3,
                                                                                            dtype=mg.float64),
                                       enable_gqa=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_at_infinities_and_huge_values(backend, approximate, dtype):
    """No RuntimeWarning (the tests make warnings errors); values and gradients within float32's rounding of
    PyTorch's float64 ones (PyTorch's own float32 GELU loses digits below -2 to cancellation, and gives NaN at +inf
    and a NaN gradient at -1e30, where micrograd gives the limits inf and 0)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: not compared")
    a = np.array([1.0, 1e30, -1e30, -0.0, -3.0, -8.0, 2.5, -np.inf, np.inf, np.nan], dtype)
    x = _leaf(a, dtype)
    y = F.gelu(x, approximate=approximate)
    y.backward(mg.ones_like(y))
    xt = torch.tensor(a.astype(np.float64), requires_grad=True)
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    yt.backward(torch.ones_like(yt))
    tol = dict(rtol=2e-6, atol=1e-12) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    finite = slice(0, 7)
    np.testing.assert_allclose(y.detach().numpy()[finite], yt.detach().numpy()[finite].astype(dtype), **tol)
    np.testing.assert_allclose(x.grad.detach().numpy()[finite], xt.grad.numpy()[finite].astype(dtype), **tol)
    assert y.detach().numpy()[8] == np.inf and np.isnan(y.detach().numpy()[9])
