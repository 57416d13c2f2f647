"""GRU, the recurrent cells, Conv1d, ConvTranspose2d, the L1 / smooth L1 / Huber losses, F.pad, F.one_hot and
Embedding's options: against PyTorch (same weights, same inputs: values and the gradients of inputs and
parameters, float64 and float32), against finite differences (gradients; for the functionals, gradients of
gradients), PyTorch's error messages, reprs, state_dict keys and initialisation, and every backend."""
import math
import types
import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F
from micrograd import nn
from nn_helpers import assert_pairs_close, gradcheck_module, needs_torch, run_both

R = np.random.default_rng(11)


def _x(*shape):
    return R.standard_normal(shape)


# (id, (class name, args, kwargs), input arrays, call(module, lib, *inputs) or None)
LAYERS = [
    ("gru_2layer", ("GRU", (3, 4), {"num_layers": 2}), [_x(4, 2, 3)], None),
    ("gru_bidir_batch_first_h0", ("GRU", (3, 3), {"batch_first": True, "bidirectional": True}),
     [_x(2, 4, 3), _x(2, 2, 3)], None),
    ("gru_no_bias_unbatched", ("GRU", (2, 3), {"bias": False}), [_x(5, 2)], None),
    ("grucell", ("GRUCell", (3, 4), {}), [_x(2, 3), _x(2, 4)], None),
    ("grucell_unbatched_no_hx", ("GRUCell", (3, 4), {}), [_x(3)], None),
    ("lstmcell", ("LSTMCell", (3, 4), {}), [_x(2, 3), _x(2, 4), _x(2, 4)], lambda m, lib, x, h, c: m(x, (h, c))),
    ("lstmcell_no_bias_unbatched", ("LSTMCell", (3, 2), {"bias": False}), [_x(3)], None),
    ("rnncell_tanh", ("RNNCell", (3, 4), {}), [_x(2, 3), _x(2, 4)], None),
    ("rnncell_relu_unbatched", ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}), [_x(3), _x(4)], None),
    ("conv1d", ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}), [_x(2, 4, 9)], None),
    ("conv1d_same_even_kernel", ("Conv1d", (2, 3, 4), {"padding": "same", "bias": False}), [_x(2, 2, 7)], None),
    ("conv1d_valid_unbatched", ("Conv1d", (3, 2, 2), {"padding": "valid"}), [_x(3, 6)], None),
    ("conv_transpose2d", ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                                         "groups": 2}), [_x(2, 4, 3, 4)], None),
    ("conv_transpose2d_dilated_rect", ("ConvTranspose2d", (2, 3, (2, 3)), {"stride": (1, 2), "dilation": (2, 1),
                                                                         "bias": False}), [_x(1, 2, 3, 3)], None),
    ("conv_transpose2d_output_size", ("ConvTranspose2d", (2, 2, 3), {"stride": 3, "padding": 2}), [_x(2, 2, 3, 3)],
     lambda m, lib, x: m(x, output_size=(6, 7))),
    ("conv_transpose2d_unbatched", ("ConvTranspose2d", (3, 2, 2), {}), [_x(3, 3, 2)], None),
    ("l1_loss", ("L1Loss", (), {}), [_x(3, 4), _x(3, 4)], None),
    ("smooth_l1_loss", ("SmoothL1Loss", (), {"beta": 0.5, "reduction": "sum"}), [_x(3, 4), _x(3, 4)], None),
    ("huber_loss", ("HuberLoss", (), {"delta": 0.7, "reduction": "none"}), [_x(3, 4), _x(3, 4)], None),
]
IDS = [c[0] for c in LAYERS]


def _make(spec, lib_nn):
    name, args, kwargs = spec
    return getattr(lib_nn, name)(*args, **kwargs)


def _torch_case(case, dtype):
    torch = needs_torch()
    _, spec, inputs, call = case
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own UserWarnings (padding='same' with an even kernel)
        return run_both(_make(spec, nn), _make(spec, torch.nn), inputs, call, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_layer_matches_pytorch(case, dtype):
    pairs = _torch_case(case, dtype)
    assert any(name.endswith(".grad") for name in pairs)
    assert_pairs_close(pairs, dtype)


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_layer_gradcheck(case):
    _, spec, inputs, call = case
    mg.manual_seed(0)
    assert gradcheck_module(_make(spec, nn), inputs, call)


def test_cells_and_convolutions_second_derivatives():
    mg.manual_seed(0)
    x, h, c = (mg.tensor(_x(1, 2), requires_grad=True) for _ in range(3))
    gru, lstm = nn.GRUCell(2, 2).double(), nn.LSTMCell(2, 2).double()
    assert mg.gradgradcheck(lambda x, h: gru(x, h), [x, h])
    assert mg.gradgradcheck(lambda x, h, c: lstm(x, (h, c)), [x, h, c])
    for kw in ({"stride": 2, "padding": 1, "output_padding": 1}, {"stride": (2, 1), "dilation": (1, 2)}):
        args = [mg.tensor(_x(1, 2, 2, 3), requires_grad=True), mg.tensor(_x(2, 1, 2, 2), requires_grad=True)]
        assert mg.gradgradcheck(lambda x, w, kw=kw: F.conv_transpose2d(x, w, **kw), args)
    args = [mg.tensor(_x(1, 2, 5), requires_grad=True), mg.tensor(_x(2, 2, 3), requires_grad=True)]
    assert mg.gradgradcheck(lambda x, w: F.conv1d(x, w, stride=2, dilation=2, padding=1), args)


# functionals against PyTorch

def _both(fn, arrays, seed=0):
    """fn(lib) on float64 copies of `arrays` in both libraries, then backward with one random cotangent:
    (outputs, input gradients) as pairs of arrays."""
    torch = needs_torch()
    mx = [mg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcast warning both libraries give, checked on its own below
        mo, to = fn(F, *mx), fn(torch.nn.functional, *tx)
    c = np.random.default_rng(seed).standard_normal(to.shape)
    (mo * mg.tensor(c)).sum().backward()
    (to * torch.tensor(c)).sum().backward()
    return [(mo.detach().numpy(), to.detach().numpy())] + [(a.grad.numpy(), b.grad.numpy()) for a, b in zip(mx, tx)]


def _close(pairs):
    for a, b in pairs:
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


KINKS = (np.array([0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 0.3, -3.0]), np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name, kw", [("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                      ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}),
                                      ("huber_loss", {"delta": 0.5})])
def test_regression_losses_match_pytorch_at_the_kinks(name, kw, reduction):
    """|d| = 0 and |d| = beta (delta) exactly: values and gradients as PyTorch (|x|'s gradient at 0 is 0)."""
    _close(_both(lambda f, x, t: getattr(f, name)(x, t, reduction=reduction, **kw), KINKS))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", ["l1_loss", "huber_loss"])
def test_weighted_and_broadcast_losses_match_pytorch(name, reduction):
    w = R.random((3, 4)) + 0.1
    _close(_both(lambda f, x, t, w: getattr(f, name)(x, t, reduction=reduction, weight=w), [_x(3, 4), _x(3, 4), w]))
    _close(_both(lambda f, x, t: getattr(f, name)(x, t, reduction=reduction), [_x(3, 4), _x(4)]))
    with pytest.warns(UserWarning, match=r"Using a target size \(\(4,\)\) that is different to the input size"):
        getattr(F, name)(mg.tensor(_x(3, 4)), mg.tensor(_x(4)))


def test_legacy_size_average_and_reduce_warn_and_pick_the_reduction_as_pytorch():
    x, t = mg.tensor(_x(3, 4)), mg.tensor(_x(3, 4))
    with pytest.warns(UserWarning, match=r"please use reduction='sum' instead"):
        total = F.l1_loss(x, t, size_average=False)
    np.testing.assert_allclose(total.item(), F.l1_loss(x, t, reduction="sum").item())
    with pytest.warns(UserWarning, match=r"please use reduction='none' instead"):
        assert F.smooth_l1_loss(x, t, None, False).shape == (3, 4)
    with pytest.warns(UserWarning, match=r"please use reduction='none' instead"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match=r"please use reduction='mean' instead"):
        assert nn.SmoothL1Loss(True, True, "sum").reduction == "mean"


def test_loss_gradcheck_with_weights():
    args = [mg.tensor(_x(2, 3), requires_grad=True), mg.tensor(_x(2, 3), requires_grad=True),
            mg.tensor(R.random((2, 3)) + 0.1, requires_grad=True)]
    assert mg.gradcheck(lambda x, t, w: F.l1_loss(x, t, weight=w), args)
    assert mg.gradcheck(lambda x, t, w: F.huber_loss(x, t, delta=0.4, weight=w), args)
    assert mg.gradgradcheck(lambda x, t: F.smooth_l1_loss(x, t, beta=0.8), args[:2])


# (id, pad, mode, input shape, extra kwargs)
PADS = [
    ("constant_two_dims_value", (1, 2, 0, 1), "constant", (2, 3, 4), {"value": 0.5}),
    ("constant_crop", (-1, 2, 1, -2), "constant", (2, 3, 4), {}),
    ("constant_every_dim", (1, 1, 0, 1, 2, 0), "constant", (2, 3, 2), {}),
    ("constant_1d", (2, 0), "constant", (5,), {}),
    ("reflect_1d", (2, 1), "reflect", (2, 3, 4), {}),
    ("reflect_1d_unbatched_crop", (-1, 3), "reflect", (3, 5), {}),
    ("reflect_2d", (1, 2, 2, 1), "reflect", (1, 2, 3, 4), {}),
    ("reflect_3d", (1, 1, 1, 0, 0, 2), "reflect", (2, 3, 3, 4), {}),
    ("replicate_1d_crop", (3, -1), "replicate", (2, 4), {}),
    ("replicate_2d", (2, 0, 1, 3), "replicate", (2, 3, 3), {}),
    ("replicate_3d", (1, 2, 0, 1, 2, 1), "replicate", (1, 1, 2, 3, 2), {"value": 0}),
    ("circular_1d", (2, 3), "circular", (2, 2, 4), {}),
    ("circular_crop", (-1, 2), "circular", (2, 4), {}),
    ("circular_2d", (1, 1, 2, 0), "circular", (1, 2, 3, 3), {}),
    ("circular_3d", (1, 0, 1, 1, 0, 2), "circular", (1, 2, 2, 3, 3), {}),
]


@pytest.mark.parametrize("pad, mode, shape, kw", [c[1:] for c in PADS], ids=[c[0] for c in PADS])
def test_pad_matches_pytorch(pad, mode, shape, kw):
    _close(_both(lambda f, x: f.pad(x, pad, mode, **kw), [_x(*shape)]))
    x = mg.tensor(_x(*shape), requires_grad=True)
    assert mg.gradcheck(lambda x: F.pad(x, pad, mode, **kw), x)


def test_pad_second_derivatives_integer_input_and_a_new_tensor():
    x = mg.tensor(_x(1, 2, 3), requires_grad=True)
    assert mg.gradgradcheck(lambda x: F.pad(x, (2, 1), "reflect") ** 2, x)
    assert mg.gradgradcheck(lambda x: F.pad(x, (1, -1, 1, 0), value=1.5) ** 2, x)
    ints = mg.arange(6).reshape(1, 2, 3)
    out = F.pad(ints, (1, 1), "replicate")
    assert out.dtype == mg.int64 and out.tolist() == [[[0, 0, 1, 2, 2], [3, 3, 4, 5, 5]]]
    same = F.pad(x, (0, 0))
    assert same is not x and np.array_equal(same.detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("indices, num_classes", [([3, 0, 1], -1), ([[0, 2], [1, 1]], 4), (2, -1), ([], 3)])
def test_one_hot_matches_pytorch(indices, num_classes):
    torch = needs_torch()
    idx = np.array(indices, dtype=np.int64)
    got = F.one_hot(mg.tensor(idx), num_classes)
    want = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert got.dtype == mg.int64 and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# errors: PyTorch's type and message

def _lib(name):
    """The library's nn, F and a tensor maker (float data as float32, integers as int64)."""
    if name == "mg":
        return types.SimpleNamespace(nn=nn, F=F, t=lambda a, dtype=None: mg.tensor(_host(a, dtype)))
    import torch
    return types.SimpleNamespace(nn=torch.nn, F=torch.nn.functional,
                                 t=lambda a, dtype=None: torch.tensor(_host(a, dtype)))


def _host(a, dtype):
    a = np.asarray(a)
    return a.astype(dtype or (np.float32 if a.dtype.kind == "f" else a.dtype))


def _z(*shape):
    return np.zeros(shape)


def _cell(L, name, x, hx=None):
    cell = getattr(L.nn, name)(3, 4)
    if hx is None:
        return cell(L.t(x))
    return cell(L.t(x), tuple(L.t(h) for h in hx) if isinstance(hx, tuple) else L.t(hx))


# (id, call(lib)); both libraries must raise, micrograd's error an instance of PyTorch's class, holding its message
ERRORS = [
    ("conv1d_channels", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 2, 3)))),
    ("conv1d_groups_divide_weight", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 2, 3)), groups=4)),
    ("conv1d_rank", lambda L: L.F.conv1d(L.t(_z(7)), L.t(_z(6, 2, 3)))),
    ("conv1d_kernel_too_big", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 2, 9)), groups=2)),
    ("conv1d_same_strided", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), stride=2, padding="same")),
    ("conv1d_padding_string", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), padding="full")),
    ("conv1d_stride_zero", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), stride=0)),
    ("conv1d_negative_padding", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), padding=-1)),
    ("conv1d_groups_zero", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), groups=0)),
    ("conv1d_bias_size", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), L.t(_z(5)))),
    ("conv1d_stride_pair", lambda L: L.F.conv1d(L.t(_z(2, 4, 7)), L.t(_z(6, 4, 3)), stride=(1, 2))),
    ("conv_transpose2d_channels", lambda L: L.F.conv_transpose2d(L.t(_z(2, 3, 5, 5)), L.t(_z(4, 3, 3, 3)))),
    ("conv_transpose2d_groups", lambda L: L.F.conv_transpose2d(L.t(_z(2, 4, 5, 5)), L.t(_z(4, 3, 3, 3)), groups=3)),
    ("conv_transpose2d_bias", lambda L: L.F.conv_transpose2d(L.t(_z(2, 4, 5, 5)), L.t(_z(4, 3, 3, 3)),
                                                             L.t(_z(4)))),
    ("conv_transpose2d_rank", lambda L: L.F.conv_transpose2d(L.t(_z(5, 5)), L.t(_z(4, 3, 3, 3)))),
    ("conv_transpose2d_output_padding", lambda L: L.F.conv_transpose2d(L.t(_z(1, 4, 5, 5)), L.t(_z(4, 3, 3, 3)),
                                                                       stride=2, output_padding=2)),
    ("conv_transpose2d_negative_output_padding", lambda L: L.F.conv_transpose2d(
        L.t(_z(1, 4, 5, 5)), L.t(_z(4, 3, 3, 3)), output_padding=-1)),
    ("conv_transpose2d_too_small", lambda L: L.F.conv_transpose2d(L.t(_z(1, 4, 1, 1)), L.t(_z(4, 3, 2, 2)),
                                                                  padding=1)),
    ("conv_transpose2d_padding_string", lambda L: L.F.conv_transpose2d(L.t(_z(1, 4, 5, 5)), L.t(_z(4, 3, 3, 3)),
                                                                       padding="same")),
    ("pad_odd", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1,))),
    ("pad_too_long", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1,) * 8)),
    ("pad_float_element", lambda L: L.F.pad(L.t(_z(1, 2, 3)), [1.5, 1])),
    ("pad_int", lambda L: L.F.pad(L.t(_z(1, 2, 3)), 1)),
    ("pad_not_tensor", lambda L: L.F.pad([1.0], (1, 1))),
    ("pad_unknown_mode", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1, 1), mode="wrap")),
    ("pad_reflect_value", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1, 1), mode="reflect", value=2.0)),
    ("pad_reflect_too_wide", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1, 1, 3, 1), mode="reflect")),
    ("pad_reflect_rank", lambda L: L.F.pad(L.t(_z(1, 2, 3)), (1,) * 6, mode="reflect")),
    ("pad_replicate_1d_input", lambda L: L.F.pad(L.t(_z(3)), (1, 1), mode="replicate")),
    ("pad_replicate_empty_dim", lambda L: L.F.pad(L.t(_z(1, 2, 0)), (1, 1), mode="replicate")),
    ("pad_reflect_output_too_small", lambda L: L.F.pad(L.t(_z(1, 1, 4)), (-2, -2), mode="reflect")),
    ("pad_circular_wraps_twice", lambda L: L.F.pad(L.t(_z(1, 1, 3)), (4, 1), mode="circular")),
    ("pad_circular_negative_size", lambda L: L.F.pad(L.t(_z(1, 1, 4)), (0, -5), mode="circular")),
    ("pad_constant_negative_size", lambda L: L.F.pad(L.t(_z(1, 1, 3)), (-2, -2))),
    ("one_hot_int32", lambda L: L.F.one_hot(L.t([1, 2], np.int32))),
    ("one_hot_float", lambda L: L.F.one_hot(L.t([1.0, 2.0]))),
    ("one_hot_negative", lambda L: L.F.one_hot(L.t([1, -2]))),
    ("one_hot_too_large", lambda L: L.F.one_hot(L.t([1, 2]), 2)),
    ("one_hot_empty", lambda L: L.F.one_hot(L.t(np.zeros(0, np.int64)))),
    ("one_hot_num_classes_float", lambda L: L.F.one_hot(L.t([1, 2]), 3.0)),
    ("one_hot_list", lambda L: L.F.one_hot([1, 2])),
    ("smooth_l1_negative_beta", lambda L: L.F.smooth_l1_loss(L.t(_z(3)), L.t(_z(3)), beta=-1.0)),
    ("huber_zero_delta", lambda L: L.F.huber_loss(L.t(_z(3)), L.t(_z(3)), delta=0.0)),
    ("l1_bad_reduction", lambda L: L.F.l1_loss(L.t(_z(3)), L.t(_z(3)), reduction="avg")),
    ("huber_bad_reduction", lambda L: L.F.huber_loss(L.t(_z(3)), L.t(_z(3)), reduction="avg")),
    ("l1_weight_shape", lambda L: L.F.l1_loss(L.t(_z(3)), L.t(_z(3)), weight=L.t(_z(2)))),
    ("Conv1d_groups_in", lambda L: L.nn.Conv1d(4, 6, 3, groups=3)),
    ("Conv1d_groups_out", lambda L: L.nn.Conv1d(4, 6, 3, groups=4)),
    ("Conv1d_groups_zero", lambda L: L.nn.Conv1d(4, 6, 3, groups=0)),
    ("Conv1d_same_strided", lambda L: L.nn.Conv1d(4, 6, 3, stride=2, padding="same")),
    ("ConvTranspose2d_padding_mode", lambda L: L.nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")),
    ("GRU_proj_size", lambda L: L.nn.GRU(3, 4, proj_size=2)),
    ("GRUCell_input_rank", lambda L: _cell(L, "GRUCell", _z(2, 2, 3))),
    ("RNNCell_hidden_rank", lambda L: _cell(L, "RNNCell", _z(2, 3), _z(2, 2, 4))),
    ("LSTMCell_hx_rank", lambda L: _cell(L, "LSTMCell", _z(2, 3), (_z(2, 4), _z(1, 2, 4)))),
    ("GRUCell_input_size", lambda L: _cell(L, "GRUCell", _z(2, 5))),
    ("RNNCell_batch", lambda L: _cell(L, "RNNCell", _z(2, 3), _z(3, 4))),
    ("GRUCell_hidden_size", lambda L: _cell(L, "GRUCell", _z(2, 3), _z(2, 5))),
    ("GRUCell_unbatched_input_2d_hidden", lambda L: _cell(L, "GRUCell", _z(3), _z(2, 4))),
    ("LSTMCell_hx_tensor", lambda L: _cell(L, "LSTMCell", _z(2, 3), _z(2, 4))),
    ("LSTMCell_c_size", lambda L: _cell(L, "LSTMCell", _z(2, 3), (_z(2, 4), _z(2, 5)))),
    ("LSTMCell_c_batch", lambda L: _cell(L, "LSTMCell", _z(2, 3), (_z(2, 4), _z(3, 4)))),
]


@pytest.mark.parametrize("call", [c[1] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors_carry_pytorchs_class_and_message(call):
    needs_torch()
    with pytest.raises(Exception) as expected:
        call(_lib("torch"))
    with pytest.raises(Exception) as got:
        call(_lib("mg"))
    assert isinstance(got.value, type(expected.value)), (got.value, expected.value)
    assert str(expected.value).split("\nSupported")[0] in str(got.value)


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Conv1d(4, 6, 3, padding="full"), ValueError, r"Invalid padding string 'full', should be one of"),
    (lambda: nn.Conv1d(4, 6, 3, padding_mode="wrap"), ValueError, r"padding_mode must be one of .*'wrap'"),
    (lambda: nn.Conv1d(4, 6, 3, padding_mode="reflect"), NotImplementedError, r"Conv1d: padding_mode='reflect'"),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="circular"), NotImplementedError, r"padding_mode='circular'"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding="same"), TypeError, r"ConvTranspose2d: padding must be"),
    (lambda: nn.Conv1d(4, 6, 0), ValueError, r"Conv1d: kernel_size must be positive"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="sigmoid"), ValueError, r"Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.GRUCell(3, 0), ValueError, r"GRUCell: hidden_size must be an int >= 1"),
    (lambda: nn.HuberLoss(reduction="avg"), ValueError, r"HuberLoss: reduction must be"),
])
def test_bad_layer_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_conv_transpose2d_output_size_is_checked_as_pytorch():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2)
    x = mg.zeros(2, 4, 5, 5)
    assert m(x, output_size=(12, 11)).shape == (2, 6, 12, 11)
    assert m(x[0], output_size=(6, 11, 12)).shape == (6, 11, 12)
    with pytest.raises(ValueError, match=r"requested an output size of \(13, 12\), but valid sizes range from "
                                         r"\[11, 11\] to \[12, 12\] \(for an input of \(5, 5\)\)"):
        m(x, output_size=(13, 12))
    with pytest.raises(ValueError, match=r"ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements"):
        m(x, output_size=(12,))


# reprs, state dicts, initialisation

REPRS = [
    lambda lib: lib.GRU(3, 4),
    lambda lib: lib.GRU(3, 4, 2, False, True, 0.5, True),
    lambda lib: lib.GRUCell(3, 4, bias=False),
    lambda lib: lib.LSTMCell(3, 4),
    lambda lib: lib.RNNCell(3, 4, nonlinearity="relu"),
    lambda lib: lib.RNN(3, 4, nonlinearity="relu"),
    lambda lib: lib.Conv1d(4, 6, 3),
    lambda lib: lib.Conv1d(4, 6, 3, 2, 1, 2, 2, False),
    lambda lib: lib.Conv1d(4, 6, 3, padding="same"),
    lambda lib: lib.Conv2d(4, 6, 3, padding="valid", dilation=(1, 2)),
    lambda lib: lib.ConvTranspose2d(4, 6, 3),
    lambda lib: lib.ConvTranspose2d(4, 6, (3, 2), 2, 1, 1, 2, False, 3),
    lambda lib: lib.L1Loss(reduction="sum"),
    lambda lib: lib.SmoothL1Loss(beta=0.5),
    lambda lib: lib.HuberLoss("none", 2.0),
]


@pytest.mark.parametrize("make", REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_repr_and_state_dict_keys_are_pytorchs(make):
    torch = needs_torch()
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("make, bound", [
    (lambda: nn.GRU(2, 25), 1 / 5), (lambda: nn.GRUCell(2, 16), 1 / 4), (lambda: nn.LSTMCell(3, 4), 1 / 2),
    (lambda: nn.Conv1d(8, 16, 2, groups=2), 1 / 2 / math.sqrt(2)),
    # a transposed convolution's fan_in is weight.shape[1] * kh * kw = (out_channels / groups) * kh * kw
    (lambda: nn.ConvTranspose2d(64, 4, 3, groups=2), 1 / math.sqrt(18)),
])
def test_initialisation_bounds_as_pytorch(make, bound):
    mg.manual_seed(0)
    for name, p in make().named_parameters():
        values = np.abs(p.detach().numpy())
        assert values.max() <= bound and values.max() > 0.5 * bound, name


# Embedding's options against PyTorch

@pytest.mark.parametrize("kwargs", [{"padding_idx": 2}, {"padding_idx": -1, "scale_grad_by_freq": True},
                                    {"scale_grad_by_freq": True}])
def test_embedding_padding_idx_and_scale_grad_by_freq_match_pytorch(kwargs):
    torch = needs_torch()
    idx = np.array([[0, 2, 0], [4, 2, 1], [0, 0, 3]])
    torch.manual_seed(0)
    pairs = run_both(nn.Embedding(5, 3, **kwargs), torch.nn.Embedding(5, 3, **kwargs), [idx])
    assert_pairs_close(pairs, "float64")
    grad = pairs["weight.grad"][0]
    if "padding_idx" in kwargs:
        assert not grad[kwargs["padding_idx"]].any() and grad[0].any()


@pytest.mark.parametrize("max_norm, norm_type", [(1.5, 2.0), (2.0, 1.0)])
def test_embedding_max_norm_renormalises_looked_up_rows_in_place_as_pytorch(max_norm, norm_type):
    torch = needs_torch()
    w = R.standard_normal((6, 3)) * 2
    w[1] *= 0.1  # a looked-up row already within max_norm stays as it is
    idx = np.array([[0, 3], [3, 1]])
    ours = nn.Embedding.from_pretrained(mg.tensor(w), freeze=False, max_norm=max_norm, norm_type=norm_type)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, max_norm=max_norm,
                                                norm_type=norm_type)
    out, want = ours(mg.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours.weight.detach().numpy()[[2, 4, 5]], w[[2, 4, 5]])
    assert not np.allclose(ours.weight.detach().numpy()[0], w[0])
    c = R.standard_normal(out.shape)
    (out * mg.tensor(c)).sum().backward()
    (want * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained_freeze_matches_pytorch(freeze):
    torch = needs_torch()
    w = R.standard_normal((4, 2))
    ours = nn.Embedding.from_pretrained(mg.tensor(w), freeze=freeze, padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=1)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert repr(ours) == repr(theirs)
    idx = np.array([1, 3, 1, 0])
    out, want = ours(mg.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    np.testing.assert_array_equal(out.detach().numpy()[0], w[1])  # the padding row keeps its pretrained values
    if not freeze:
        out.sum().backward()
        want.sum().backward()
        np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


# every backend

def _on_every_backend(x):
    mg.manual_seed(0)
    gru, up = nn.GRU(3, 2, bidirectional=True), nn.ConvTranspose2d(2, 2, 3, stride=(2, 1), dilation=(1, 2))
    conv, up2 = nn.Conv1d(3, 2, 2, dilation=2), nn.ConvTranspose2d(2, 3, 2, stride=2, padding=1, output_padding=1)
    seq = F.pad(mg.tensor(x, requires_grad=True), (1, 2), "reflect")
    out, h = gru(seq.transpose(1, 2).transpose(0, 1))
    image = conv(seq).reshape(1, 2, 2, -1)
    loss = F.smooth_l1_loss(up(image).sum() + up2(image).sum() + out.sum(), mg.tensor(0.5)) + h.sum()
    loss.backward()
    return [loss.detach().numpy(), gru.weight_hh_l0.grad.numpy(), up.weight.grad.numpy(), up2.weight.grad.numpy(),
            conv.weight.grad.numpy()]


def test_new_layers_run_on_every_backend(backend):
    x = R.standard_normal((2, 3, 5)).astype(np.float32)
    with mg.use_backend("numpy"):
        want = _on_every_backend(x)
    got = _on_every_backend(x)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
