"""micrograd.nn modules as objects: Parameter, initialisation, containers, repr, state dicts (PyTorch's
names; strict checks that change nothing on failure), and module.to for backends and dtypes."""
import collections
import math

import numpy as np
import pytest

import micrograd as mg
from micrograd import nn
from micrograd.nn import init
from nn_helpers import swapped


# initialisation

def test_initialisation_follows_pytorch_formulas():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    cb = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= cb and np.abs(conv.weight.detach().numpy()).max() > 0.95 * cb
    emb = nn.Embedding(2000, 50, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert abs(e.std() - 1) < 0.02 and not e[3].any()
    lstm = nn.LSTM(10, 25)
    assert all(np.abs(p.detach().numpy()).max() <= 1 / 5 for p in lstm.parameters())
    mha = nn.MultiheadAttention(16, 4)
    xb = math.sqrt(6 / (16 + 48))
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= xb
    assert not mha.in_proj_bias.detach().numpy().any() and not mha.out_proj.bias.detach().numpy().any()
    bn = nn.BatchNorm1d(4)
    assert bn.weight.detach().numpy().tolist() == [1] * 4 and bn.running_var.detach().numpy().tolist() == [1] * 4


def test_init_functions():
    mg.manual_seed(1)
    t = mg.zeros(300, 200)
    assert init.xavier_uniform_(t) is t
    a = math.sqrt(6 / 500)
    assert np.abs(t.detach().numpy()).max() <= a and np.abs(t.detach().numpy()).max() > 0.99 * a
    init.xavier_normal_(t, gain=2.0)
    assert abs(t.detach().numpy().std() - 2 * math.sqrt(2 / 500)) < 0.01
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.detach().numpy().std() - math.sqrt(2 / 300)) < 0.005
    init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.detach().numpy()).max() <= math.sqrt(6 / 200)
    init.normal_(t, 3.0, 0.5)
    assert abs(t.detach().numpy().mean() - 3) < 0.01 and abs(t.detach().numpy().std() - 0.5) < 0.01
    init.uniform_(t, -2, -1)
    assert t.detach().numpy().min() >= -2 and t.detach().numpy().max() <= -1
    assert init.constant_(t, 0.25).detach().numpy().tolist()[0][:2] == [0.25, 0.25]
    assert not init.zeros_(t).detach().numpy().any() and init.ones_(t).detach().numpy().all()
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(mg.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(mg.zeros(3, 3), mode="fan_avg")
    with pytest.raises(TypeError, match="floating"):
        init.normal_(mg.zeros(3, dtype="int64"))
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")


def test_init_draws_on_micrograds_generator():
    mg.manual_seed(9)
    a = nn.Linear(5, 4).weight.detach().numpy()
    mg.manual_seed(9)
    assert np.array_equal(nn.Linear(5, 4).weight.detach().numpy(), a)
    assert not np.array_equal(nn.Linear(5, 4).weight.detach().numpy(), a)


def test_same_seed_same_parameters_on_every_backend(backend):
    mg.manual_seed(5)
    with mg.use_backend("numpy"):
        ref = [p.detach().numpy() for p in nn.LSTM(3, 4).parameters()]
    mg.manual_seed(5)
    got = [p for p in nn.LSTM(3, 4).parameters()]
    assert all(p.backend == backend for p in got)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a.detach().numpy(), b)



# Parameter, containers, registration, repr

def test_parameter():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, mg.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.], requires_grad=True)")
    t = mg.zeros(3)
    shared = nn.Parameter(t)
    assert shared._data is t._data  # shares the tensor's memory, as in PyTorch
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter([1, 2])
    out = (p * 2).sum()
    out.backward()
    assert p.grad.tolist() == [2.0, 2.0] and type(p * 2) is mg.Tensor


def test_containers_register_their_members():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh) and list(seq._modules) == ["0", "1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    del seq[3]
    assert len(seq) == 3
    named = nn.Sequential(collections.OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU()))
    assert list(named.state_dict()) == ["a.weight", "a.bias"]

    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    ml.insert(0, nn.Identity())
    assert len(ml) == 5 and isinstance(ml[0], nn.Identity) and isinstance(ml[-1], nn.Linear)
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"] and len(ml.parameters()) == 8
    ml += [nn.ReLU()]
    assert len(ml) == 5 and len(ml[1:3]) == 2
    with pytest.raises(IndexError, match="out of range"):
        ml[7]

    md = nn.ModuleDict({"enc": nn.Linear(2, 4), "dec": nn.Linear(4, 2)})
    md["act"] = nn.ReLU()
    assert list(md) == ["enc", "dec", "act"] and "enc" in md and len(md) == 3
    assert [k for k, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert isinstance(md.pop("act"), nn.ReLU) and len(md) == 2


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(model.parameters()) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_repr_reads_like_pytorch():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.25), nn.Linear(8 * 14 * 14, 10, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Dropout(p=0.25, inplace=False)\n"
        "  (6): Linear(in_features=1568, out_features=10, bias=False)\n"
        ")")
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert "(out_proj): Linear(in_features=8" in repr(nn.MultiheadAttention(8, 2))


# state dicts

def test_state_dict_shares_memory_and_load_copies_in_place():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked"]
    assert not sd["0.weight"].requires_grad and sd["0.weight"]._data is model[0].weight._data
    weight = model[0].weight
    new = {k: np.full(v.shape, 0.5) if v.dtype.kind == "f" else np.array(7) for k, v in sd.items()}
    assert model.load_state_dict(new) == ([], [])
    assert model[0].weight is weight and weight.dtype == mg.float32  # same object, cast to its dtype
    assert weight.detach().numpy().tolist()[0] == [0.5] * 3 and model[1].num_batches_tracked.item() == 7
    assert model[1].num_batches_tracked.dtype == mg.int64
    assert sd["0.weight"].detach().numpy()[0, 0] == 0.5  # the earlier state dict sees the load


def test_load_state_dict_accepts_tensors_and_returns_keys_when_not_strict():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    result = b.load_state_dict({"weight": np.zeros((2, 2)), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert not b.weight.detach().numpy().any()


@pytest.mark.parametrize("bad, match", [
    ({"0.weight": np.zeros((4, 3))}, "missing key.*'0.bias'"),
    ("extra", "unexpected key.*'2.weight'"),
    ({"0.weight": np.zeros((3, 4))}, r"size mismatch for '0.weight': expected shape \(4, 3\); got \(3, 4\)"),
    ({"0.bias": "zeros"}, "'0.bias' must be numeric"),
    ({"0.bias": None}, "'0.bias' must be numeric"),
    ({"0.bias": [[1, 2], [3]]}, "'0.bias' must be numeric"),
    ({"1.num_batches_tracked": np.array(2.5)}, "holds integers"),
])
def test_load_state_dict_rejects_bad_input_and_changes_nothing(bad, match):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    sd = {k: np.ones(v.shape, dtype=v.dtype) for k, v in before.items()}
    if bad == "extra":
        sd["2.weight"] = np.zeros(3)
    else:
        if "missing" in match:
            del sd["0.bias"]
        sd.update(bad)
    with pytest.raises(ValueError, match=match) as info:
        model.load_state_dict(sd)
    assert "Sequential.load_state_dict: nothing was loaded" in str(info.value)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        nn.Linear(2, 2).load_state_dict([("weight", np.zeros((2, 2)))])


def test_scalar_mlp_has_a_state_dict_too():
    from micrograd.nn import MLP
    a, b = MLP(2, [3, 1]), MLP(2, [3, 1])
    b.load_state_dict(a.state_dict())
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


# module.to

def test_module_to_backend_moves_in_place_and_optimizer_keeps_working(backend):
    mg.manual_seed(0)
    with mg.use_backend("numpy"):
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
        opt = mg.optim.Adam(model.parameters(), lr=0.01)
        x = mg.randn(6, 3)
        model(x).sum().backward()
        opt.step()
    params = model.parameters()
    assert model.to(backend) is model
    assert model.parameters() == params and all(p is q for p, q in zip(model.parameters(), params))
    assert all(t.backend == backend for t in list(model.parameters()) + list(model.buffers()))
    assert all(p.grad.backend == backend for p in model.parameters())
    opt.zero_grad()
    model(x.to(backend)).sum().backward()
    opt.step()
    assert all(s["exp_avg"].backend == backend for s in opt.state.values())


def test_module_to_dtype():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).double()
    assert all(t.dtype == mg.float64 for t in model.parameters())
    assert model[1].running_mean.dtype == mg.float64 and model[1].num_batches_tracked.dtype == mg.int64
    assert model(mg.randn(4, 2, dtype="float64")).dtype == mg.float64
    assert model.float()[0].weight.dtype == mg.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        model.to("int64")


def test_requires_grad_freezes_parameters():
    model = nn.Linear(2, 2).requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())



def test_swapped_helper_restores_parameters():
    lin = nn.Linear(2, 2)
    w = lin.weight
    with swapped(lin, ["weight"], [mg.zeros(2, 2)]):
        np.testing.assert_array_equal(lin(mg.ones(1, 2)).detach().numpy()[0], lin.bias.detach().numpy())
    assert lin.weight is w
