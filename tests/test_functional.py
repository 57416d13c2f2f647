"""micrograd.nn.functional against PyTorch (float64 forward and gradients, float32 forward), against finite
differences (mg.gradcheck), and the errors users see."""
import math
import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F

TORCH_REASON = "PyTorch is not installed; comparison skipped"


def _tgt(f, a, like=None):
    """A constant array as the library `f` wants it: NumPy for micrograd, a tensor for PyTorch (float
    arrays in `like`'s dtype, as PyTorch requires; micrograd casts them itself)."""
    if f is F:
        return a
    import torch
    t = torch.as_tensor(a)
    return t.to(like.dtype) if like is not None and t.is_floating_point() else t


_R = np.random.default_rng(1234)
CLS = _R.integers(0, 5, size=6)
CLS_IGNORED = np.array([0, -100, 4, 2, -100, 1])
CLS_2D = _R.integers(0, 4, size=(3, 5))
CLS_2D[1, 2] = CLS_2D[2, 0] = -1
PROBS = _R.dirichlet(np.ones(5), size=6)
BCE_T = _R.random((4, 3))
CLASS_W = _R.random(5) + 0.5
POS_W = _R.random(3) + 0.5
RUN_MEAN, RUN_VAR = _R.standard_normal(3), _R.random(3) + 0.5
EMB_IDX = np.array([[1, 0, 3], [3, 3, 2]])
CAUSAL_MASK = _R.random((2, 4, 5)) > 0.3
DEAD_ROW = np.zeros((4, 5), dtype=bool)
DEAD_ROW[1] = True  # -inf throughout a float mask's row shuts query 1 out: zeros and zero gradients, as PyTorch
ROW_MASKED = np.tril(np.ones((4, 5), dtype=bool))
ROW_MASKED[2] = False  # query 2 may attend nowhere: PyTorch's attention gives it zeros (softmax alone gives NaN)
CAUSAL_MASK[..., 0] = True  # every query keeps one key (sdpa_masked_row has a query that keeps none)

# (id, fn(f, *inputs) for f in {F, torch.nn.functional}, input specs: shape or (shape, domain)[, "no_fd"])
CASES = [
    ("linear", lambda f, x, w, b: f.linear(x, w, b), [(3, 4), (5, 4), (5,)]),
    ("linear_3d_no_bias", lambda f, x, w: f.linear(x, w), [(2, 3, 4), (2, 4)]),
    ("conv2d", lambda f, x, w, b: f.conv2d(x, w, b), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    ("conv2d_stride2_pad1", lambda f, x, w: f.conv2d(x, w, stride=2, padding=1), [(1, 2, 6, 5), (3, 2, 3, 3)]),
    ("conv2d_nonsquare", lambda f, x, w, b: f.conv2d(x, w, b, stride=(2, 1), padding=(1, 0)),
     [(2, 2, 7, 6), (3, 2, 2, 3), (3,)]),
    ("conv2d_same", lambda f, x, w: f.conv2d(x, w, padding="same"), [(1, 2, 5, 4), (2, 2, 2, 3)]),
    ("conv2d_unbatched", lambda f, x, w: f.conv2d(x, w, stride=2), [(2, 5, 5), (3, 2, 3, 2)]),
    ("max_pool2d", lambda f, x: f.max_pool2d(x, 2), [(2, 3, 4, 6)]),
    ("max_pool2d_pad", lambda f, x: f.max_pool2d(x, 3, stride=2, padding=1), [(1, 2, 7, 6)]),
    ("max_pool2d_nonsquare", lambda f, x: f.max_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 1)), [(2, 1, 6, 5)]),
    ("avg_pool2d", lambda f, x: f.avg_pool2d(x, 2), [(2, 3, 4, 6)]),
    ("avg_pool2d_pad", lambda f, x: f.avg_pool2d(x, 3, stride=2, padding=1), [(1, 2, 7, 6)]),
    ("avg_pool2d_nonsquare", lambda f, x: f.avg_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 1)), [(1, 2, 5, 6)]),
    ("relu", lambda f, x: f.relu(x), [(3, 4)]),
    ("sigmoid", lambda f, x: f.sigmoid(x), [(3, 4)]),
    ("tanh", lambda f, x: f.tanh(x), [(3, 4)]),
    ("softmax_dim1", lambda f, x: f.softmax(x, dim=1), [(2, 3, 4)]),
    ("log_softmax_dim0", lambda f, x: f.log_softmax(x, dim=0), [(3, 4)]),
    ("gelu", lambda f, x: f.gelu(x), [((4, 5), "wide")]),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh"), [((4, 5), "wide")]),
    ("mse_loss", lambda f, x, y: f.mse_loss(x, y), [(3, 4), (3, 4)]),
    ("mse_loss_sum", lambda f, x, y: f.mse_loss(x, y, reduction="sum"), [(3, 4), (3, 4)]),
    ("mse_loss_none", lambda f, x, y: f.mse_loss(x, y, reduction="none"), [(3, 4), (3, 4)]),
    ("bce", lambda f, x: f.binary_cross_entropy(x, _tgt(f, BCE_T, x)), [((4, 3), "prob")]),
    ("bce_none_target_grad", lambda f, x, t: f.binary_cross_entropy(x, t, reduction="none"),
     [((4, 3), "prob"), ((4, 3), "prob")]),
    ("bce_logits", lambda f, x, t: f.binary_cross_entropy_with_logits(x, t), [((4, 3), "wide"), ((4, 3), "prob")]),
    ("bce_logits_pos_weight", lambda f, x: f.binary_cross_entropy_with_logits(
        x, _tgt(f, BCE_T, x), reduction="sum", pos_weight=_tgt(f, POS_W, x)), [((4, 3), "wide")]),
    ("layer_norm", lambda f, x, w, b: f.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    ("layer_norm_2d_no_affine", lambda f, x: f.layer_norm(x, (3, 4)), [(2, 3, 4)]),
    ("batch_norm_train", lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True),
     [(4, 3, 2, 2), (3,), (3,)]),
    ("batch_norm_eval", lambda f, x, w: f.batch_norm(x, _tgt(f, RUN_MEAN, x), _tgt(f, RUN_VAR, x), w),
     [(4, 3), (3,)]),
    ("embedding", lambda f, w: f.embedding(_tgt(f, EMB_IDX), w), [(4, 3)]),
    # padding_idx deliberately cuts the gradient, so finite differences do not apply ("no_fd")
    ("embedding_padding_idx", lambda f, w: f.embedding(_tgt(f, EMB_IDX), w, padding_idx=3), [(4, 3)], "no_fd"),
    ("sdpa", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v), [(2, 4, 3), (2, 5, 3), (2, 5, 2)]),
    ("sdpa_causal_scale", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
     [(1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 3)]),
    ("sdpa_bool_mask", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v, attn_mask=_tgt(f, CAUSAL_MASK)),
     [(2, 4, 3), (2, 5, 3), (2, 5, 2)]),
    ("sdpa_float_mask", lambda f, q, k, v, m: f.scaled_dot_product_attention(q, k, v, attn_mask=m),
     [(2, 4, 3), (2, 5, 3), (2, 5, 2), (4, 5)]),
    ("sdpa_masked_row", lambda f, q, k, v: f.scaled_dot_product_attention(
        query=q, key=k, value=v, attn_mask=_tgt(f, ROW_MASKED)), [(2, 4, 3), (2, 5, 3), (2, 5, 2)]),
    ("sdpa_gqa", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
     [(1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 3)]),
    ("sdpa_gqa_kv_heads_differ", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v, enable_gqa=True),
     [(1, 4, 3, 2), (1, 2, 3, 2), (1, 1, 3, 3)]),
    ("sdpa_float_mask_dead_row", lambda f, q, k, v, m: f.scaled_dot_product_attention(
        q, k, v, attn_mask=m.masked_fill(mg.tensor(DEAD_ROW) if f is F else _tgt(f, DEAD_ROW), -math.inf)),
     [(2, 4, 3), (2, 5, 3), (2, 5, 2), (4, 5)]),
    ("sdpa_no_features", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v), [(2, 4, 0), (2, 5, 0), (2, 5, 2)]),
    ("sdpa_no_keys", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v), [(2, 4, 3), (2, 0, 3), (2, 0, 2)]),
    ("cross_entropy", lambda f, x: f.cross_entropy(x, _tgt(f, CLS)), [(6, 5)]),
    ("cross_entropy_sum", lambda f, x: f.cross_entropy(x, _tgt(f, CLS), reduction="sum"), [(6, 5)]),
    ("cross_entropy_ignore_none", lambda f, x: f.cross_entropy(x, _tgt(f, CLS_IGNORED), reduction="none"),
     [(6, 5)]),
    ("cross_entropy_ignore_mean", lambda f, x: f.cross_entropy(x, _tgt(f, CLS_IGNORED)), [(6, 5)]),
    ("cross_entropy_nCd", lambda f, x: f.cross_entropy(x, _tgt(f, CLS_2D), ignore_index=-1), [(3, 4, 5)]),
    ("cross_entropy_smoothing", lambda f, x: f.cross_entropy(x, _tgt(f, CLS_IGNORED), label_smoothing=0.2),
     [(6, 5)]),
    ("cross_entropy_smoothing_nCd", lambda f, x: f.cross_entropy(
        x, _tgt(f, CLS_2D), ignore_index=-1, label_smoothing=0.1, reduction="sum"), [(3, 4, 5)]),
    ("cross_entropy_weight", lambda f, x: f.cross_entropy(
        x, _tgt(f, CLS_IGNORED), weight=_tgt(f, CLASS_W, x), label_smoothing=0.3), [(6, 5)]),
    ("cross_entropy_probs", lambda f, x, p: f.cross_entropy(x, p, label_smoothing=0.1), [(6, 5), ((6, 5), "prob")]),
    ("cross_entropy_unbatched", lambda f, x: f.cross_entropy(x, _tgt(f, np.int64(3))), [(5,)]),
    ("nll_loss", lambda f, x: f.nll_loss(x, _tgt(f, CLS_IGNORED)), [(6, 5)]),
    ("nll_loss_nCd_none", lambda f, x: f.nll_loss(x, _tgt(f, CLS_2D), reduction="none", ignore_index=-1),
     [(3, 4, 5)]),
]
IDS = [c[0] for c in CASES]


def _inputs(specs, seed):
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        shape, domain = spec if isinstance(spec[-1], str) else (spec, "normal")
        if domain == "prob":
            arrays.append(rng.uniform(0.05, 0.95, shape))
        elif domain == "positive":
            arrays.append(rng.uniform(0.5, 2.0, shape))
        elif domain == "wide":
            arrays.append(rng.uniform(-4.0, 4.0, shape))
        else:
            arrays.append(rng.standard_normal(shape))
    return arrays


def _run_torch(torch, fn, arrays, dtype):
    ts = [torch.tensor(a, dtype=dtype, requires_grad=dtype == torch.float64) for a in arrays]
    with warnings.catch_warnings():
        # PyTorch's performance note for padding="same" with an even kernel (conv2d_same tests exactly that).
        warnings.filterwarnings("ignore", message="Using padding='same' with even kernel", category=UserWarning)
        return ts, fn(torch.nn.functional, *ts)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_pytorch_float64_forward_and_gradients(case):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    name, fn, specs = case[:3]
    arrays = _inputs(specs, IDS.index(name))
    ts, ref = _run_torch(torch, fn, arrays, torch.float64)
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(F, *xs)
    assert out.dtype == mg.float64 and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    cot = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(mg.tensor(cot))
    ref.backward(torch.tensor(cot))
    for x, t in zip(xs, ts):
        want = np.zeros(t.shape) if t.grad is None else t.grad.detach().numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_pytorch_float32_forward(case):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    name, fn, specs = case[:3]
    arrays = _inputs(specs, IDS.index(name))
    _, ref = _run_torch(torch, fn, arrays, torch.float32)
    out = fn(F, *[mg.tensor(a.astype(np.float32)) for a in arrays])
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if "no_fd" not in c], ids=[c[0] for c in CASES if "no_fd" not in c])
def test_gradients_match_finite_differences(case):
    name, fn, specs = case[:3]
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(specs, IDS.index(name))]
    assert mg.gradcheck(lambda *ts: fn(F, *ts), xs)


@pytest.mark.parametrize("fn, specs", [
    (lambda x: F.gelu(x), [(6,)]),
    (lambda x, w: F.conv2d(x, w, stride=2, padding=1).tanh(), [(1, 1, 4, 4), (2, 1, 2, 2)]),
    (lambda x: F.cross_entropy(x, CLS_IGNORED, label_smoothing=0.1), [(6, 5)]),
    (lambda x, t: F.binary_cross_entropy_with_logits(x, t), [((4,), "wide"), ((4,), "prob")]),
    (lambda x: F.binary_cross_entropy(x, BCE_T[0]), [((3,), "prob")]),
    (lambda x: F.layer_norm(x, 4), [(2, 4)]),
    (lambda q, k: F.scaled_dot_product_attention(q, k, k, is_causal=True), [(3, 2), (3, 2)]),
    (lambda x, w, b: F.linear(x, w, b).tanh(), [(3, 4), (5, 4), (5,)]),
    (lambda x, w: F.linear(x, w).tanh(), [(3, 4), (5, 4)]),
], ids=["gelu", "conv2d", "cross_entropy", "bce_logits", "bce", "layer_norm", "sdpa", "linear", "linear_no_bias"])
def test_second_derivatives_match_finite_differences(fn, specs):
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(specs, 7)]
    assert mg.gradgradcheck(fn, xs)


def test_gelu_second_derivative_matches_pytorch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    a = np.linspace(-5, 5, 23)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = mg.grad(F.gelu(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.gelu(t).sum(), t, create_graph=True)
    (gg,) = mg.grad(g.sum(), x)
    (ggt,) = torch.autograd.grad(gt.sum(), t)
    np.testing.assert_allclose(gg.detach().numpy(), ggt.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_erf_is_accurate_to_float64_rounding():
    a = np.concatenate([np.linspace(-9, 9, 4001), np.geomspace(1e-300, 1, 301), [0.0, 0.46875, 4.0, 30.0]])
    got = mg.ops.Erf.apply(mg.tensor(a)).detach().numpy()
    want = np.array([math.erf(v) for v in a])
    assert np.all(np.abs(got - want) <= 1e-15 * np.abs(want) + 1e-300)
    got32 = mg.ops.Erf.apply(mg.tensor(a.astype(np.float32))).detach().numpy()
    assert got32.dtype == np.float32 and np.abs(got32 - want).max() < 5e-7


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_as_pytorch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    a = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [2.0, 0.0, 2.0]]]])
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    torch.nn.functional.max_pool2d(t, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), t.grad.detach().numpy())
    assert x.grad.detach().numpy()[0, 0, 0, 0] == 1  # the first of the four tied ones in the top-left window


def test_softmax_accepts_axis_and_rejects_both_words():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(F.softmax(x, axis=0).detach().numpy(), F.softmax(x, dim=0).detach().numpy())
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax has been deprecated"):
        implicit = F.log_softmax(x)  # PyTorch's legacy choice for 2-d input: dim 1, with its warning
    np.testing.assert_allclose(implicit.detach().numpy(), F.log_softmax(x, axis=1).detach().numpy())
    with pytest.raises(TypeError, match="softmax: pass dim or axis, not both"):
        F.softmax(x, dim=0, axis=0)


def test_float32_inputs_stay_float32():
    x = mg.tensor(np.ones((2, 1, 4, 4), np.float32), requires_grad=True)
    w = mg.tensor(np.ones((1, 1, 2, 2), np.float32))
    for out in (F.conv2d(x, w), F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.gelu(x),
                F.cross_entropy(x.reshape(2, 16), [1, 2]), F.binary_cross_entropy_with_logits(x, np.ones((2, 1, 4, 4))),
                F.dropout(x, 0.5), F.scaled_dot_product_attention(x, x, x, attn_mask=np.zeros((4, 4)))):
        assert out.dtype == mg.float32


def test_cross_entropy_accepts_targets_as_list_array_and_int_tensor():
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 4)))
    ref = F.cross_entropy(x, np.array([0, 3, 1])).item()
    assert F.cross_entropy(x, [0, 3, 1]).item() == ref
    assert F.cross_entropy(x, mg.tensor([0, 3, 1])).item() == ref


def test_cross_entropy_with_every_target_ignored_is_nan_as_pytorch():
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, [-100, -100])
    assert math.isnan(loss.item())
    assert F.cross_entropy(x, [-100, -100], reduction="sum").item() == 0


def test_bce_gradient_stays_finite_at_saturated_probabilities():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    a, tgt = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    loss, ref = F.binary_cross_entropy(x, tgt), torch.nn.functional.binary_cross_entropy(t, torch.tensor(tgt))
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.detach().numpy(), t.grad.detach().numpy(), rtol=1e-12)


def test_bce_with_logits_is_stable_for_large_logits_and_exact_at_zero():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    a, tgt = np.array([-800.0, 800.0, 0.0, 40.0, -40.0]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, tgt, reduction="none")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(t, torch.tensor(tgt), reduction="none")
    loss.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.detach().numpy(), t.grad.detach().numpy(), rtol=1e-12)
    assert x.grad.detach().numpy()[2] == -0.5


def test_batch_norm_updates_running_stats_in_place_as_pytorch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    a = np.random.default_rng(3).standard_normal((5, 3, 2))
    rm, rv = mg.tensor(np.zeros(3)), mg.tensor(np.ones(3))
    rm_data, rv_data = rm._data, rv._data
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(2):
        F.batch_norm(mg.tensor(a, requires_grad=True), rm, rv, training=True, momentum=0.3)
        torch.nn.functional.batch_norm(torch.tensor(a), trm, trv, training=True, momentum=0.3)
    assert rm._data is rm_data and rv._data is rv_data
    assert not rm.requires_grad and rm.grad is None
    np.testing.assert_allclose(rm.detach().numpy(), trm.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.detach().numpy(), trv.detach().numpy(), rtol=1e-12)


def test_embedding_padding_row_gets_no_gradient():
    w = mg.tensor(np.ones((4, 2)), requires_grad=True)
    out = F.embedding(mg.tensor([[1, 0], [0, 2]]), w, padding_idx=0)
    np.testing.assert_array_equal(out.detach().numpy(), np.ones((2, 2, 2)))
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), [[0, 0], [1, 1], [1, 1], [0, 0]])


def test_dropout_scales_kept_elements_and_is_reproducible():
    x = mg.ones(200, 50, dtype=mg.float64, requires_grad=True)
    mg.manual_seed(0)
    out = F.dropout(x, 0.25)
    kept = out.detach().numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), out.detach().numpy())
    mg.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, 0.25).detach().numpy(), out.detach().numpy())


def test_dropout_edge_probabilities_and_eval_mode():
    x = mg.tensor(np.arange(1.0, 7.0), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.detach().numpy(), np.zeros(6))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros(6))
    for p in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
            F.dropout(x, p)


def test_dropout_mask_is_the_same_on_every_backend(backend):
    mg.manual_seed(5)
    here = F.dropout(mg.ones(8, 8), 0.5).detach().numpy()
    mg.manual_seed(5)
    with mg.use_backend("numpy"):
        reference = F.dropout(mg.ones(8, 8), 0.5).detach().numpy()
    np.testing.assert_array_equal(here, reference)


def test_mse_loss_warns_when_shapes_broadcast():
    x = mg.tensor(np.zeros((3, 1)))
    with pytest.warns(UserWarning, match="mse_loss: target shape \\(3,\\) differs from input shape \\(3, 1\\)"):
        assert F.mse_loss(x, np.ones(3), reduction="none").shape == (3, 3)


X4 = mg.tensor(np.zeros((2, 3, 5, 5)))
W4 = mg.tensor(np.zeros((4, 3, 3, 3)))
LOGITS = mg.tensor(np.zeros((4, 5)))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 5)), ValueError,
     r"linear: input's last dimension must equal in_features=5; got input \(2, 3\) and weight \(4, 5\)"),
    (lambda: F.linear(mg.zeros(2, 3), mg.zeros(3)), ValueError, r"linear: weight must be .*; got shape \(3,\)"),
    (lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 3), mg.zeros(3)), ValueError,
     r"linear: bias must have shape \(4,\); got \(3,\)"),
    (lambda: F.conv2d(X4, mg.zeros(4, 2, 3, 3)), ValueError,
     r"Given groups=1, weight of size \[4, 2, 3, 3\], expected input\[2, 3, 5, 5\] to have 2 channels, but got 3 "
     r"channels instead \(conv2d\)"),
    (lambda: F.conv2d(mg.zeros(5, 5), W4), ValueError, r"conv2d: Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[5, 5\]"),
    (lambda: F.conv2d(X4, mg.zeros(4, 3, 3)), ValueError, r"conv2d: weight must be .*; got \(4, 3, 3\)"),
    (lambda: F.conv2d(X4, mg.zeros(4, 3, 6, 3)), ValueError,
     r"Kernel size: \(6 x 3\). Kernel size can't be greater than actual input size \(conv2d: input \(2, 3, 5, 5\)"),
    (lambda: F.conv2d(X4, W4, mg.zeros(3)), ValueError, r"conv2d: bias must have shape \(4,\); got \(3,\)"),
    (lambda: F.conv2d(X4, W4, stride=0), ValueError, r"conv2d: stride should be at least 1, but got stride=0"),
    (lambda: F.conv2d(X4, W4, padding=(1, 2, 3)), ValueError, r"conv2d: padding must be an int or a pair"),
    (lambda: F.conv2d(X4, W4, stride=2, padding="same"), ValueError, r"padding='same' is not supported for strided convolutions"),
    (lambda: F.max_pool2d(X4, 2, padding=2), ValueError,
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1 "
     r"\(max_pool2d\)"),
    (lambda: F.avg_pool2d(mg.zeros(5), 2), ValueError, r"avg_pool2d: Expected 3D \(unbatched\) or 4D \(batched\) input to avg_pool2d, but got input of size: \[5\]"),
    (lambda: F.max_pool2d(X4, 6), ValueError, r"max_pool2d: Given input size too small: the effective kernel 6 is larger than the padded input 5"),
    (lambda: F.cross_entropy(LOGITS, [0, 1, 5, 2]), ValueError,
     r"cross_entropy: target 5 is out of range for 5 classes"),
    (lambda: F.cross_entropy(LOGITS, [0, 1, -3, 2]), ValueError,
     r"cross_entropy: target -3 is out of range for 5 classes"),
    (lambda: F.cross_entropy(LOGITS, [0, 1, 2]), ValueError,
     r"cross_entropy: targets must have shape \(4,\) for input \(4, 5\); got \(3,\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3, 4), np.zeros((2, 3), np.int64)), ValueError,
     r"cross_entropy: targets must have shape \(2, 4\) for input \(2, 3, 4\); got \(2, 3\)"),
    (lambda: F.cross_entropy(LOGITS, np.zeros(4)), ValueError,
     r"cross_entropy: probability targets must have the input's shape \(4, 5\); got \(4,\)"),
    (lambda: F.cross_entropy(LOGITS, [True, False, True, True]), TypeError,
     r"cross_entropy: class targets must be integers; got dtype bool"),
    (lambda: F.cross_entropy(LOGITS, [0, 1, 2, 3], reduction="avg"), ValueError,
     r"cross_entropy: reduction must be 'none', 'mean' or 'sum'; got 'avg'"),
    (lambda: F.cross_entropy(LOGITS, [0, 1, 2, 3], label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be in \[0, 1\]; got 1.5"),
    (lambda: F.cross_entropy(mg.tensor(1.0), [0]), ValueError, r"cross_entropy: input must be .*; got shape \(\)"),
    (lambda: F.nll_loss(LOGITS, [0, 1, 7, 2]), ValueError, r"nll_loss: target 7 is out of range for 5 classes"),
    (lambda: F.nll_loss(LOGITS, [0, 1, 2, 3], reduction="mean", weight=mg.ones(4)), ValueError,
     r"nll_loss: weight must have one entry per class, shape \(5,\); got \(4,\)"),
    (lambda: F.mse_loss(LOGITS, LOGITS, reduction=None), ValueError, r"mse_loss: reduction must be"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.5]), [0.0, 1.0]), ValueError,
     r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 0.5]), [[0.0, 1.0]]), ValueError,
     r"binary_cross_entropy: target must have the input's shape; got input \(2,\) and target \(1, 2\)"),
    (lambda: F.binary_cross_entropy_with_logits(LOGITS, np.zeros(5)), ValueError,
     r"binary_cross_entropy_with_logits: target must have the input's shape"),
    (lambda: F.layer_norm(LOGITS, (4,)), ValueError,
     r"layer_norm: input's trailing dimensions must equal normalized_shape \(4,\); got input \(4, 5\)"),
    (lambda: F.layer_norm(LOGITS, 5, weight=mg.ones(4)), ValueError, r"layer_norm: weight must have shape \(5,\)"),
    (lambda: F.batch_norm(mg.zeros(4), None, None, training=True), ValueError,
     r"batch_norm: input must be .*; got shape \(4,\)"),
    (lambda: F.batch_norm(LOGITS, mg.zeros(4), mg.ones(5)), ValueError,
     r"running_mean should contain 5 elements not 4 \(batch_norm: input of shape \(4, 5\)\)"),
    (lambda: F.batch_norm(mg.zeros(1, 5), None, None, training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size \[1, 5\]"),
    (lambda: F.batch_norm(LOGITS, None, None), ValueError, r"batch_norm: running_mean and running_var are needed"),
    (lambda: F.embedding([0, 4], mg.zeros(4, 2)), IndexError, r"index out of range in self \(embedding: index 4 for 4 embeddings\)"),
    (lambda: F.embedding([0.0], mg.zeros(4, 2)), TypeError, r"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
     r"float64 instead \(embedding\)"),
    (lambda: F.embedding([0], mg.zeros(4)), ValueError, r"'weight' must be 2-D \(embedding: weight of shape \(4,\)\)"),
    (lambda: F.gelu(LOGITS, approximate="fast"), ValueError, r"gelu: approximate must be 'none' or 'tanh'; got 'fast'"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(2, 3), mg.zeros(4, 2), mg.zeros(4, 2)), ValueError,
     r"scaled_dot_product_attention: query and key must share the last dimension .*; got query \(2, 3\), "
     r"key \(4, 2\)"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(2, 3, dtype=mg.float64), mg.zeros(2, 3), mg.zeros(2, 3)),
     RuntimeError, r"Expected query, key, and value to have the same dtype, but got query.dtype: float64 key.dtype: "
                   r"float32 and value.dtype: float32 instead"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(2, 3), mg.zeros(2, 3), mg.zeros(2, 3),
                                            attn_mask=mg.zeros(2, 2, dtype=mg.float64)), RuntimeError,
     r"Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: float64"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(4, 3), mg.zeros(5, 3), mg.zeros(5, 3),
                                            attn_mask=np.ones((2, 4, 5), bool)), RuntimeError,
     r"attn_mask of shape \[2, 4, 5\] does not broadcast to the scores' shape \[4, 5\]"),
    (lambda: mg.ones(2).masked_fill(np.array([True, False]), 0.0), TypeError,
     r"masked_fill\(\) received an invalid combination of arguments - got \(numpy.ndarray, float\)"),
    (lambda: mg.ones(2).masked_fill(mg.tensor([1, 0]), 0.0), RuntimeError,
     r"masked_fill_ only supports boolean masks, but got mask with dtype int64"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(3), mg.zeros(3), mg.zeros(3)), ValueError,
     r"scaled_dot_product_attention: query, key and value need at least 2 dimensions"),
    (lambda: F.scaled_dot_product_attention(mg.zeros(2, 2), mg.zeros(2, 2), mg.zeros(2, 2),
                                            attn_mask=np.ones((2, 2), bool), is_causal=True), ValueError,
     r"scaled_dot_product_attention: pass attn_mask or is_causal, not both"),
])
def test_errors_name_the_op_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
