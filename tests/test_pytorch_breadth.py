"""PyTorch names that neither the op-spec table nor PyTorch's OpInfo samples reach: aliases, grad-mode switches,
0-d formatting, channel dropout, and the random draws (whose streams differ from PyTorch's on purpose: their
shapes, dtypes, errors, statistics and reproducibility are compared instead)."""
import math
import warnings

import numpy as np
import pytest

import micrograd as mg

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0): not compared")

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 0.0]])
Y = np.array([[1.0, -1.5, -2.0], [0.5, 2.0, 0.0]])


@pytest.mark.parametrize("name", ["not_equal", "less", "less_equal", "greater", "greater_equal", "arctan2",
                                  "hypot", "fmod", "copysign", "logaddexp"])
def test_binary_aliases_match_pytorch(name):
    mine = getattr(mg, name)(mg.tensor(X), mg.tensor(Y))
    theirs = getattr(torch, name)(torch.tensor(X), torch.tensor(Y))
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(mine.numpy().astype(float), theirs.numpy().astype(float))


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arctan", "arcsinh", "arctanh", "fix", "sgn"])
def test_unary_aliases_match_pytorch(name):
    a = X / 4
    mine, theirs = getattr(mg, name)(mg.tensor(a)), getattr(torch, name)(torch.tensor(a))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy())
    assert getattr(mg.tensor(a), name)().tolist() == mine.tolist()


def test_ger_numel_and_format_match_pytorch():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0, 0.5])
    np.testing.assert_allclose(mg.ger(mg.tensor(a), mg.tensor(b)).numpy(), torch.ger(torch.tensor(a),
                                                                                       torch.tensor(b)).numpy())
    assert mg.numel(mg.ones(2, 3)) == torch.numel(torch.ones(2, 3)) == 6
    for value, spec in ((3.14159, ".4f"), (2.0, "e"), (-1.5, ">8.2f")):
        assert f"{mg.tensor(value):{spec}}" == f"{torch.tensor(value):{spec}}"
    assert format(mg.tensor(7), "d") == format(torch.tensor(7), "d")
    with pytest.raises(TypeError):
        f"{mg.ones(2):.2f}"


def test_grad_mode_switches_match_pytorch():
    for lib in (mg, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            assert not (x * 2).requires_grad
        with lib.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert (x * 2).requires_grad
        lib.set_grad_enabled(False)
        assert not (x * 2).requires_grad
        lib.set_grad_enabled(True)
        assert (x * 2).requires_grad

        @lib.inference_mode()
        def f():
            return (x * 2).requires_grad
        assert f() is False
        with lib.no_grad():
            with lib.enable_grad():
                assert (x * 2).requires_grad


@pytest.mark.parametrize("cls, shape", [("Dropout1d", (4, 6, 5)), ("Dropout2d", (4, 6, 3, 3)),
                                        ("Dropout3d", (2, 6, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels_and_scales_as_pytorch(cls, shape):
    mine, theirs = getattr(mg.nn, cls)(0.5), getattr(torch.nn, cls)(0.5)
    assert repr(mine) == repr(theirs)
    out = mine(mg.ones(*shape)).numpy().reshape(shape[0], shape[1], -1)
    assert set(np.unique(out)) <= {0.0, 2.0} and (out.min(axis=2) == out.max(axis=2)).all()  # whole channels
    mine.eval()
    assert mine(mg.ones(*shape)).tolist() == np.ones(shape).tolist()
    outcomes = []
    for lib, module in ((mg, mine.train()), (torch, theirs)):  # 1-d input: PyTorch's outcome, error or shape
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                outcomes.append(tuple(module(lib.ones(3)).shape))
            except RuntimeError as exc:
                outcomes.append(str(exc)[:30])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("shape", [(8, 500, 4), (200, 50)])
def test_dropout2d_reads_other_shapes_as_pytorch_does_with_its_warnings(shape):
    """3-d input is (N, C, L): each (sample, channel) row is kept or dropped whole; 2-d input drops elements."""
    for lib in (mg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.functional.dropout2d(lib.ones(*shape), 0.5).numpy()
        messages = [str(w.message)[:50] for w in caught]
        if len(shape) == 3:
            assert messages == ["dropout2d: Received a 3D input to dropout2d and as"]
            rows = out.reshape(shape[0] * shape[1], -1)
            assert (rows.min(axis=1) == rows.max(axis=1)).all() and 0.3 < (rows[:, 0] > 0).mean() < 0.7
        else:
            assert messages == ["dropout2d: Received a 2-D input to dropout2d, whic"]
            assert 0.4 < (out > 0).mean() < 0.6 and set(np.unique(out)) == {0.0, 2.0}


def test_random_draws_have_pytorchs_shapes_dtypes_and_errors_and_follow_the_generator():
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    for lib in (mg, torch):
        draw = lib.multinomial(lib.tensor(p), 2)
        assert tuple(draw.shape) == (2, 2) and str(draw.dtype).endswith("int64")
        assert tuple(lib.normal(lib.zeros(3), 1.0).shape) == (3,) and tuple(lib.normal(0.0, 1.0, (2, 2)).shape) == (2, 2)
        assert str(lib.bernoulli(lib.full((4,), 0.5)).dtype).endswith("float32")
        assert str(lib.poisson(lib.full((4,), 2.0)).dtype).endswith("float32")
    for bad, message in (([[0.0, 0.0]], "sum of probabilities"), ([[-1.0, 2.0]], "element < 0")):
        for lib in (mg, torch):
            with pytest.raises(RuntimeError, match=message):
                lib.multinomial(lib.tensor(bad), 1)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
            lib.multinomial(lib.tensor([0.5, 0.5]), 3)
    g1, g2 = mg.Generator().manual_seed(7), mg.Generator().manual_seed(7)
    assert mg.multinomial(mg.tensor(p), 2, generator=g1).tolist() == mg.multinomial(mg.tensor(p), 2, generator=g2).tolist()
    never = mg.multinomial(mg.tensor([0.5, 0.0, 0.5]), 2).tolist()
    assert sorted(never) == [0, 2]  # without replacement, never the zero-weight class, never twice


def test_random_draws_have_the_right_statistics():
    mg.manual_seed(0)
    counts = np.bincount(mg.multinomial(mg.tensor([0.2, 0.8]), 20000, replacement=True).numpy(), minlength=2)
    assert abs(counts[1] / 20000 - 0.8) < 0.02
    z = mg.normal(mg.full((20000,), 2.0), mg.full((20000,), 3.0)).numpy()
    assert abs(z.mean() - 2.0) < 0.1 and abs(z.std() - 3.0) < 0.1
    assert abs(mg.bernoulli(mg.full((20000,), 0.3)).numpy().mean() - 0.3) < 0.02
    assert abs(mg.poisson(mg.full((20000,), 4.0)).numpy().mean() - 4.0) < 0.1
    t = mg.empty(20000)
    assert abs(t.exponential_(2.0).numpy().mean() - 0.5) < 0.03 and abs(t.bernoulli_(0.25).numpy().mean() - 0.25) < 0.02


def test_pickle_and_deepcopy_follow_pytorch():
    import copy
    import pickle
    for lib in (mg, torch):
        base = lib.arange(6.0).reshape(2, 3)
        leaf = lib.ones(2, requires_grad=True)
        for obj, grad in ((base, False), (base[0], False), (leaf, True), (leaf * 2, True)):
            back = pickle.loads(pickle.dumps(obj))  # a view or a result comes back as a leaf of its own
            assert back.tolist() == obj.tolist() and back.requires_grad == grad and back.is_leaf
        param = pickle.loads(pickle.dumps(lib.nn.Parameter(lib.ones(2))))
        assert type(param) is lib.nn.Parameter and param.requires_grad
        (leaf * 3).sum().backward()
        twin = copy.deepcopy(leaf)
        assert twin is not leaf and twin.grad.tolist() == [3.0, 3.0] and twin.requires_grad
        with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
            copy.deepcopy(leaf * 2)


def test_modules_follow_the_default_dtype():
    for lib in (mg, torch):
        lib.set_default_dtype(lib.float64)
        try:
            layers = (lib.nn.Linear(2, 2).weight, lib.nn.LSTM(2, 3).weight_ih_l0, lib.nn.Conv2d(1, 1, 2).weight,
                      lib.nn.LayerNorm(2).weight, lib.nn.Embedding(3, 2).weight, lib.nn.Parameter())
            assert [str(p.dtype).replace("torch.", "") for p in layers] == ["float64"] * 6
        finally:
            lib.set_default_dtype(lib.float32)


@pytest.mark.parametrize("name, kwargs", [("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_uniform_", {}),
                                          ("xavier_uniform_", {"gain": 1.5})])
def test_init_bounds_are_pytorchs_to_the_last_bit(name, kwargs, monkeypatch):
    """The uniform bounds are computed in PyTorch's order of roundings, so equal draws give equal weights."""
    seen = {}
    monkeypatch.setattr(mg.nn.init, "uniform_", lambda t, a, b, generator=None: seen.setdefault("mg", (a, b)))
    monkeypatch.setattr(torch.Tensor, "uniform_", lambda t, a, b, generator=None: seen.setdefault("torch", (a, b)))
    for shape in ((7, 3), (4, 3), (5, 4, 3, 3)):
        seen.clear()
        getattr(mg.nn.init, name)(mg.empty(*shape, dtype=mg.float64), **kwargs)
        getattr(torch.nn.init, name)(torch.empty(*shape, dtype=torch.float64), **kwargs)
        assert seen["mg"] == seen["torch"]


def test_dense_spellings_of_sparse_names_match_pytorch_and_sparse_layouts_raise():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
    np.testing.assert_allclose(mg.spmm(mg.tensor(a), mg.tensor(b)).numpy(),
                               torch.spmm(torch.tensor(a), torch.tensor(b)).numpy())
    t = mg.ones(2)
    assert t.is_sparse is torch.ones(2).is_sparse is False
    assert t.to_dense() is t and t.to_dense(mg.float64).dtype == mg.float64
    with pytest.raises(NotImplementedError, match="sparse tensors are not supported by micrograd"):
        t.to_sparse()
    with pytest.raises(NotImplementedError, match="sparse tensors are not supported by micrograd"):
        mg.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,))
