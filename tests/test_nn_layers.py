"""micrograd.nn layers: against PyTorch (same weights, same inputs, float64 and float32), against finite
differences (mg.gradcheck), PyTorch state dicts of whole models, tiny training runs whose loss falls, every
backend, and the errors users see for bad input."""
import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn
from nn_helpers import assert_pairs_close, flat, gradcheck_module, needs_torch, run_both, torch_pair

R = np.random.default_rng(7)


def _arr(lib, a):
    """A constant (mask, indices) as the library wants it."""
    if lib == "mg" or a is None:
        return a
    import torch
    return torch.as_tensor(a)


def _mha(lib, m, q, k, v, **kw):
    kw = {key: _arr(lib, val) if isinstance(val, np.ndarray) else val for key, val in kw.items()}
    if lib == "torch":  # PyTorch wants float masks in the inputs' dtype
        kw = {key: val.to(q.dtype) if hasattr(val, "is_floating_point") and val.is_floating_point() else val
              for key, val in kw.items()}
    return m(q, k, v, **kw)


PAD = np.zeros((2, 5), dtype=bool)
PAD[0, 3:] = True
CAUSAL = ~np.tril(np.ones((4, 4), dtype=bool))
FLOAT_MASK = R.standard_normal((4, 5))
IDX = np.array([[1, 0, 3], [9, 3, 0]])
CLS = np.array([0, 3, 1, 4])
PROB = R.random((4, 3))

# (id, constructor arguments as (class name, args, kwargs), input arrays, call(module, lib, *inputs), train mode)
CASES = [
    ("linear", ("Linear", (4, 3), {}), [R.standard_normal((2, 5, 4))], None, True),
    ("linear_no_bias", ("Linear", (4, 3), {"bias": False}), [R.standard_normal((3, 4))], None, True),
    ("conv2d", ("Conv2d", (3, 4, 3), {"stride": 2, "padding": 1}), [R.standard_normal((2, 3, 7, 6))], None, True),
    ("conv2d_same_nobias", ("Conv2d", (2, 3, (2, 3)), {"padding": "same", "bias": False}),
     [R.standard_normal((1, 2, 5, 4))], None, True),
    ("conv2d_unbatched", ("Conv2d", (2, 2, 2), {}), [R.standard_normal((2, 4, 4))], None, True),
    ("max_pool2d", ("MaxPool2d", (2,), {}), [R.standard_normal((2, 3, 4, 6))], None, True),
    ("avg_pool2d", ("AvgPool2d", (3,), {"stride": 2, "padding": 1}), [R.standard_normal((1, 2, 7, 6))], None, True),
    ("flatten", ("Flatten", (), {}), [R.standard_normal((2, 3, 2))], None, True),
    ("identity", ("Identity", (), {}), [R.standard_normal((2, 3))], None, True),
    ("relu", ("ReLU", (), {}), [R.standard_normal((3, 4))], None, True),
    ("gelu", ("GELU", (), {}), [R.standard_normal((3, 4))], None, True),
    ("gelu_tanh", ("GELU", (), {"approximate": "tanh"}), [R.standard_normal((3, 4))], None, True),
    ("tanh", ("Tanh", (), {}), [R.standard_normal((3, 4))], None, True),
    ("sigmoid", ("Sigmoid", (), {}), [R.standard_normal((3, 4))], None, True),
    ("softmax", ("Softmax", (), {"dim": 1}), [R.standard_normal((2, 3, 4))], None, True),
    ("log_softmax", ("LogSoftmax", (), {"dim": -1}), [R.standard_normal((2, 5))], None, True),
    ("dropout_eval", ("Dropout", (0.3,), {}), [R.standard_normal((3, 4))], None, False),
    ("batchnorm1d_train", ("BatchNorm1d", (3,), {}), [R.standard_normal((5, 3))], None, True),
    ("batchnorm1d_3d_cumulative", ("BatchNorm1d", (3,), {"momentum": None}), [R.standard_normal((4, 3, 5))], None,
     True),
    ("batchnorm1d_no_affine", ("BatchNorm1d", (3,), {"affine": False}), [R.standard_normal((4, 3))], None, True),
    ("batchnorm2d_train", ("BatchNorm2d", (3,), {}), [R.standard_normal((4, 3, 2, 2))], None, True),
    ("batchnorm2d_eval", ("BatchNorm2d", (3,), {}), [R.standard_normal((2, 3, 2, 2))], None, False),
    ("layernorm", ("LayerNorm", (4,), {}), [R.standard_normal((2, 3, 4))], None, True),
    ("layernorm_2d", ("LayerNorm", ((3, 4),), {"elementwise_affine": False}), [R.standard_normal((2, 3, 4))], None,
     True),
    ("embedding_padding_idx", ("Embedding", (10, 3), {"padding_idx": 0}), [IDX], lambda m, lib, i: m(_arr(lib, i)),
     True),
    ("embedding", ("Embedding", (10, 3), {}), [IDX], lambda m, lib, i: m(_arr(lib, i)), True),
    ("rnn_tanh_2layer", ("RNN", (3, 5), {"num_layers": 2}), [R.standard_normal((4, 2, 3))], None, True),
    ("rnn_relu_bidir_batch_first", ("RNN", (3, 4), {"nonlinearity": "relu", "batch_first": True,
                                                    "bidirectional": True}),
     [R.standard_normal((2, 4, 3)), R.standard_normal((2, 2, 4))], None, True),
    ("lstm_2layer_batch_first", ("LSTM", (3, 5), {"num_layers": 2, "batch_first": True}),
     [R.standard_normal((2, 4, 3)), R.standard_normal((2, 2, 5)), R.standard_normal((2, 2, 5))],
     lambda m, lib, x, h, c: m(x, (h, c)), True),
    ("lstm_bidir_no_bias", ("LSTM", (2, 3), {"bidirectional": True, "bias": False}), [R.standard_normal((3, 2, 2))],
     None, True),
    ("lstm_unbatched", ("LSTM", (3, 4), {}), [R.standard_normal((5, 3))], None, True),
    ("mha_self_masks", ("MultiheadAttention", (8, 2), {}), [R.standard_normal((5, 2, 8))],
     lambda m, lib, x: _mha(lib, m, x, x, x, key_padding_mask=PAD), True),
    ("mha_batch_first_causal", ("MultiheadAttention", (6, 3), {"batch_first": True}),
     [R.standard_normal((2, 4, 6))], lambda m, lib, x: _mha(lib, m, x, x, x, attn_mask=CAUSAL), True),
    ("mha_cross_float_mask_per_head", ("MultiheadAttention", (4, 2), {}),
     [R.standard_normal((4, 2, 4)), R.standard_normal((5, 2, 4)), R.standard_normal((5, 2, 4))],
     lambda m, lib, q, k, v: _mha(lib, m, q, k, v, attn_mask=FLOAT_MASK, average_attn_weights=False), True),
    ("mha_unbatched_no_weights", ("MultiheadAttention", (4, 1), {"bias": False}), [R.standard_normal((3, 4))],
     lambda m, lib, x: _mha(lib, m, x, x, x, need_weights=False), True),
    ("cross_entropy_loss", ("CrossEntropyLoss", (), {"label_smoothing": 0.1}), [R.standard_normal((4, 5))],
     lambda m, lib, x: m(x, _arr(lib, CLS)), True),
    ("nll_loss_sum", ("NLLLoss", (), {"reduction": "sum"}), [R.standard_normal((4, 5))],
     lambda m, lib, x: m(x, _arr(lib, CLS)), True),
    ("mse_loss", ("MSELoss", (), {}), [R.standard_normal((3, 4)), R.standard_normal((3, 4))], None, True),
    ("bce_loss", ("BCELoss", (), {}), [R.random((4, 3)) * 0.9 + 0.05],
     lambda m, lib, x: m(x, _arr(lib, PROB).to(x.dtype) if lib == "torch" else PROB), True),
    ("bce_with_logits_loss", ("BCEWithLogitsLoss", (), {"reduction": "none"}), [R.standard_normal((4, 3))],
     lambda m, lib, x: m(x, _arr(lib, PROB).to(x.dtype) if lib == "torch" else PROB), True),
]
IDS = [c[0] for c in CASES]


def _make(spec, lib_nn):
    name, args, kwargs = spec
    return getattr(lib_nn, name)(*args, **kwargs)


def _torch_case(case, dtype):
    torch = needs_torch()
    _, spec, inputs, call, train = case
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own UserWarnings (e.g. about nested tensors)
        return run_both(_make(spec, nn), _make(spec, torch.nn), inputs, call, dtype, train)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_layer_matches_pytorch_float64(case):
    assert_pairs_close(_torch_case(case, "float64"), "float64")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_layer_matches_pytorch_float32(case):
    assert_pairs_close(_torch_case(case, "float32"), "float32")


# No parameters or inputs to check, or (padding_idx) a gradient cut on purpose, which differences do not see.
NO_GRADCHECK = ("dropout_eval", "identity", "flatten", "embedding_padding_idx")


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in NO_GRADCHECK],
                         ids=[c[0] for c in CASES if c[0] not in NO_GRADCHECK])
def test_layer_gradcheck(case):
    _, spec, inputs, call, train = case
    mg.manual_seed(0)
    module = _make(spec, nn).train(train)
    assert gradcheck_module(module, inputs, call)


def test_dropout_gradcheck_with_a_fixed_mask():
    drop = nn.Dropout(0.4)

    def fn(x):
        mg.manual_seed(3)
        return drop(x)

    assert mg.gradcheck(fn, mg.tensor(R.standard_normal((4, 5)), dtype="float64", requires_grad=True))


def test_dropout_train_and_eval():
    mg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = mg.ones(400, 50)
    y = drop(x).detach().numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).detach().numpy(), x.detach().numpy())


# models from PyTorch state dicts

class _CNN:
    @staticmethod
    def build(lib):
        return lib.Sequential(lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
                              lib.Conv2d(4, 6, 3), lib.ReLU(), lib.Flatten(), lib.Linear(6 * 2 * 2, 10))


def _model(kind, lib):
    if kind == "mlp":
        return lib.Sequential(lib.Linear(12, 16), lib.ReLU(), lib.Linear(16, 16), lib.ReLU(), lib.Linear(16, 3))
    if kind == "cnn":
        return _CNN.build(lib)
    if kind == "lstm":
        return lib.LSTM(6, 8, num_layers=2, batch_first=True)
    if kind == "mha":
        return lib.MultiheadAttention(8, 4, batch_first=True)
    return lib.Sequential(lib.Linear(5, 6), lib.BatchNorm1d(6), lib.Tanh(), lib.Linear(6, 2))


MODEL_INPUTS = {"mlp": (4, 12), "cnn": (3, 1, 8, 8), "lstm": (3, 5, 6), "mha": (2, 5, 8), "batchnorm": (6, 5)}


@pytest.mark.parametrize("kind", list(MODEL_INPUTS))
def test_pytorch_state_dict_loads_unchanged_and_gives_the_same_outputs(kind):
    torch = needs_torch()
    torch.manual_seed(1)
    tm = _model(kind, torch.nn)
    if kind in ("cnn", "batchnorm"):  # give the running statistics non-default values first
        with torch.no_grad():
            tm.train()
            tm(torch.randn(*MODEL_INPUTS[kind]) * 2 + 1)
    tm.eval()
    mm = _model(kind, nn)
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [p.shape for p in mm.state_dict().values()] == [tuple(p.shape) for p in tm.state_dict().values()]
    mm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    mm.eval()
    x = np.random.default_rng(2).standard_normal(MODEL_INPUTS[kind]).astype(np.float32)
    if kind == "mha":
        mo, to = mm(mg.tensor(x), mg.tensor(x), mg.tensor(x))[0], tm(*(torch.tensor(x),) * 3)[0]
    else:
        mo, to = flat(mm(mg.tensor(x)))[0], flat(tm(torch.tensor(x)))[0]
    np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_batchnorm_running_statistics_and_eval_match_pytorch():
    torch = needs_torch()
    for momentum in (0.1, None):
        mm, tm = torch_pair(nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum),
                            "float64")
        rng = np.random.default_rng(0)
        for _ in range(4):
            x = rng.standard_normal((4, 3, 2, 2)) * 3 + 2
            mm(mg.tensor(x))
            tm(torch.tensor(x))
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(mm, name).detach().numpy(), getattr(tm, name).detach().numpy(), rtol=1e-12)
        assert mm.num_batches_tracked.dtype == mg.int64
        mm.eval()
        tm.eval()
        x = rng.standard_normal((2, 3, 2, 2))
        np.testing.assert_allclose(mm(mg.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-12)
        before = mm.running_mean.detach().numpy()
        mm(mg.tensor(x))
        np.testing.assert_array_equal(mm.running_mean.detach().numpy(), before)  # eval leaves the statistics alone


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert list(bn.state_dict()) == ["weight", "bias"]
    out = bn(mg.tensor(np.array([[1.0, 5.0], [3.0, 9.0]]))).detach().numpy()
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]], atol=1e-4)


# bad module input

@pytest.mark.parametrize("module, x, match", [
    (nn.Linear(4, 3), np.zeros((2, 5)), r"Linear\(in_features=4, out_features=3, bias=True\): expected input of "
                                        r"shape \(\*, 4\); got shape \(2, 5\)"),
    (nn.Linear(4, 3), np.zeros(()), r"Linear.*expected input of shape \(\*, 4\); got shape \(\)"),
    (nn.Conv2d(3, 8, 3), np.zeros((2, 4, 8, 8)), r"Conv2d\(3, 8, kernel_size=\(3, 3\).*expected input of shape "
                                                 r"\(N, 3, H, W\) or \(3, H, W\); got shape \(2, 4, 8, 8\)"),
    (nn.Conv2d(3, 8, 3), np.zeros((3, 8)), r"Conv2d.*got shape \(3, 8\)"),
    (nn.MaxPool2d(2), np.zeros((2, 8)), r"MaxPool2d\(kernel_size=2.*got shape \(2, 8\)"),
    (nn.BatchNorm1d(3), np.zeros((4, 2)), r"BatchNorm1d\(3,.*expected input of shape \(N, 3\) or \(N, 3, L\)"),
    (nn.BatchNorm1d(3), np.zeros((4, 3, 2, 2)), r"BatchNorm1d.*got shape \(4, 3, 2, 2\)"),
    (nn.BatchNorm2d(3), np.zeros((4, 3)), r"BatchNorm2d.*\(N, 3, H, W\); got shape \(4, 3\)"),
    (nn.LayerNorm(4), np.zeros((2, 5)), r"LayerNorm\(\(4,\).*expected input of shape \(\*, 4\); got shape \(2, 5\)"),
    (nn.LSTM(3, 4), np.zeros((5, 2, 2)), r"LSTM\(3, 4\): expected input of shape \(T, N, 3\) or unbatched "
                                         r"\(T, 3\); got shape \(5, 2, 2\)"),
    (nn.RNN(3, 4, batch_first=True), np.zeros((2, 5, 3, 1)), r"RNN\(3, 4, batch_first=True\).*\(N, T, 3\)"),
    (nn.LSTM(3, 4), np.zeros((0, 2, 3)), "sequence is empty"),
])
def test_module_input_of_wrong_rank_or_size_names_the_layer(module, x, match):
    with pytest.raises(ValueError, match=match):
        module(mg.tensor(x, dtype="float32"))


def test_recurrent_state_and_attention_inputs_are_checked():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\): expected h_0 of shape \(1, 2, 4\); got shape \(2, 4\)"):
        nn.LSTM(3, 4)(mg.zeros(5, 2, 3), (mg.zeros(2, 4), mg.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="hx must be a pair"):
        nn.LSTM(3, 4)(mg.zeros(5, 2, 3), mg.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"RNN\(3, 4, num_layers=2\): expected h_0 of shape \(2, 2, 4\)"):
        nn.RNN(3, 4, num_layers=2)(mg.zeros(5, 2, 3), mg.zeros(1, 2, 4))
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(\): expected query \(L, N, E\).*E=8.*\(5, 2, 6\)"):
        mha(mg.zeros(5, 2, 6), mg.zeros(5, 2, 6), mg.zeros(5, 2, 6))
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        mha(mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 5\) or \(4, 5, 5\)"):
        mha(mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), attn_mask=np.zeros((2, 5, 5), bool))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        mha(mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), mg.zeros(5, 2, 8), attn_mask=np.zeros((5, 5), int))


@pytest.mark.parametrize("make, match", [
    (lambda: nn.MultiheadAttention(10, 3), "embed_dim must be divisible by num_heads"),
    (lambda: nn.Dropout(1.5), "p must be a probability"),
    (lambda: nn.Linear(-1, 3), "in_features must be an int >= 0"),
    (lambda: nn.Conv2d(3, 4, 0), "kernel_size must be positive"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity must be 'tanh' or 'relu'"),
    (lambda: nn.BatchNorm1d(3, momentum=2), "momentum must be in"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), "padding_idx must be in"),
    (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction must be"),
    (lambda: nn.GELU("fast"), "approximate must be"),
    (lambda: nn.Linear(2, 2, dtype="int64"), "must be floating-point"),
])
def test_bad_layer_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_softmax_without_dim_warns_like_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(mg.randn(2, 3))
    np.testing.assert_allclose(out.detach().numpy().sum(axis=1), 1, rtol=1e-6)


# tiny training runs: the loss must fall

def _train(model, make_batch, loss_fn, steps, lr=0.01, opt=None):
    opt = opt or mg.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        x, y = make_batch(step)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _falls(losses, factor):
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < factor * first, (first, last)


def test_training_cnn_with_batchnorm_and_dropout():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].sum(axis=(1, 2)) > x[:, 0, 4:].sum(axis=(1, 2))).astype(np.int64)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 2))
    _falls(_train(model, lambda s: (mg.tensor(x), y), nn.CrossEntropyLoss(), 40, lr=0.03), 0.5)


def test_training_lstm_and_rnn_on_a_sequence_sum():
    rng = np.random.default_rng(1)
    for cell in (nn.LSTM, nn.RNN):
        mg.manual_seed(1)
        rnn, head = cell(2, 8, batch_first=True), nn.Linear(8, 1)
        model = nn.ModuleList([rnn, head])
        x = rng.standard_normal((16, 6, 2)).astype(np.float32)
        y = x.sum(axis=(1, 2))[:, None] / 3

        def forward(inp, rnn=rnn, head=head):
            return head(rnn(inp)[0][:, -1])

        model.forward = forward
        _falls(_train(model, lambda s: (mg.tensor(x), y), nn.MSELoss(), 60, lr=0.02), 0.3)


def test_training_attention_block_with_embedding_and_layernorm():
    mg.manual_seed(2)
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 6, size=(8, 5))
    target = np.sort(tokens, axis=1)[:, 0]  # the smallest token of each sequence

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.attn = nn.Embedding(6, 8), nn.MultiheadAttention(8, 2, batch_first=True)
            self.norm, self.out = nn.LayerNorm(8), nn.Linear(8, 6)

        def forward(self, idx):
            h = self.emb(idx)
            h = self.norm(h + self.attn(h, h, h, need_weights=False)[0])
            return self.out(nn.functional.gelu(h).mean(axis=1))

    _falls(_train(Block(), lambda s: (tokens, target), F.cross_entropy, 60, lr=0.02), 0.3)


def test_training_mlp_with_bce_losses():
    mg.manual_seed(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)
    for loss, head in ((nn.BCEWithLogitsLoss(), nn.Identity()), (nn.BCELoss(), nn.Sigmoid())):
        model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1), head)
        _falls(_train(model, lambda s: (mg.tensor(x), y), loss, 80, lr=0.03), 0.6)


# module work on every backend

def test_layers_run_on_every_backend(backend):
    mg.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    results = {}
    for name in ("numpy", backend):
        with mg.use_backend(name):
            mg.manual_seed(0)
            model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
            out = model(mg.tensor(x))
            out.sum().backward()
            results[name] = (out.detach().numpy(), model[0].weight.grad.detach().numpy(), model[1].running_mean.detach().numpy())
            assert out.backend == name
    for a, b in zip(results["numpy"], results[backend]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_recurrent_dropout_applies_between_layers_in_training_only():
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = mg.randn(5, 2, 3)
    train_a, train_b = lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy()
    lstm.eval()
    eval_a, eval_b = lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy()
    assert not np.array_equal(train_a, train_b) and np.array_equal(eval_a, eval_b)
    with pytest.warns(UserWarning, match="no effect with num_layers=1"):
        nn.RNN(3, 4, dropout=0.2)
