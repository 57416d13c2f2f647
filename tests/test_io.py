"""mg.save / mg.load: bit-exact round trips on every backend, atomic writes, and clear errors for corrupt,
truncated or foreign files."""
import os
import zipfile

import numpy as np
import pytest

import micrograd as mg
import micrograd.io as mio
from micrograd import nn

SPECIAL = np.array([0.0, -0.0, 1.5, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308, 1e-310])
SPECIAL32 = np.array([0.0, -0.0, 1.5, np.nan, np.inf, -np.inf, 1e-45, 3.4028235e38, 1e-40], dtype=np.float32)


def _values():
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f32_special": SPECIAL32,
        "f64_special": SPECIAL,
        "i64": np.array([-(2 ** 63), -1, 0, 2 ** 63 - 1], dtype=np.int64),
        "bool": np.array([[True, False]]),
        "scalar": np.array(2.5, dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def test_round_trip_is_bit_exact_on_every_backend(tmp_path, backend):
    values = _values()
    path = tmp_path / "weights.ckpt"
    mg.save({k: mg.tensor(v) for k, v in values.items()}, path)
    assert os.listdir(tmp_path) == ["weights.ckpt"]  # exactly `path`: no ".npz" added, no temporary left
    loaded = mg.load(path)
    assert list(loaded) == list(values)
    for k, v in values.items():
        t = loaded[k]
        assert isinstance(t, mg.Tensor) and t.backend == backend and t.dtype == v.dtype and t.shape == v.shape
        assert t.detach().numpy().tobytes() == v.tobytes(), k


def test_file_is_a_plain_npz_with_state_dict_names(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "model.npz"
    mg.save(model.state_dict(), path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(set(npz.files) - {"__micrograd__"}) == sorted(model.state_dict())
        np.testing.assert_array_equal(npz["0.weight"], model[0].weight.detach().numpy())
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other.load_state_dict(mg.load(path))
    x = mg.randn(5, 3)
    other.eval()
    model.eval()
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())


def test_arrays_and_nested_structure_round_trip(tmp_path):
    obj = {"w": np.arange(3.0), "opt": {"state": {0: {"step": 3, "m": mg.ones(2)}},
                                        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                                                          "name": None, "params": [0]}]},
           "epoch": 7, "note": "text"}
    mg.save(obj, tmp_path / "c")
    back = mg.load(tmp_path / "c")
    assert back["w"].detach().numpy().tolist() == [0.0, 1.0, 2.0] and back["w"].dtype == mg.float64
    assert back["opt"]["state"][0]["step"] == 3 and back["opt"]["state"][0]["m"].detach().numpy().tolist() == [1.0, 1.0]
    assert back["opt"]["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "name": None,
                                            "params": [0]}]
    assert back["epoch"] == 7 and back["note"] == "text"


def test_a_plain_npz_from_numpy_loads(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2, np.float32), b=np.arange(3))
    back = mg.load(tmp_path / "plain.npz")
    assert back["a"].dtype == mg.float32 and back["b"].detach().numpy().tolist() == [0, 1, 2]


def test_save_is_atomic_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": mg.ones(3)}, path)
    good = path.read_bytes()
    calls = []
    real = np.lib.format.write_array

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash mid-save")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": mg.zeros(3), "v": mg.zeros(2)}, path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["ckpt.npz"]
    assert mg.load(path)["w"].detach().numpy().tolist() == [1.0, 1.0, 1.0]


def _corrupt(path):
    data = bytearray(path.read_bytes())
    start = data.index(b"\x93NUMPY") + 200  # inside the first array's values
    data[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


def _writer(fn, **arrays):
    def write(path):
        with open(path, "wb") as f:
            fn(f, *arrays.values()) if fn is np.save else fn(f, **arrays)
    return write


def _foreign_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.pkl", b"\x80\x02")


def _truncate(path):
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


@pytest.mark.parametrize("damage, match", [
    (_corrupt, "is corrupt or truncated: BadZipFile: Bad CRC-32"),
    (_truncate, "is not an .npz checkpoint"),
    (lambda p: p.write_text("hello, not a checkpoint"), "is not an .npz checkpoint"),
    (lambda p: p.write_bytes(b""), "is not an .npz checkpoint"),
    (_writer(np.save, a=np.ones(3)), "is not an .npz checkpoint"),
    (_writer(np.savez, obj=np.array([{"a": 1}], dtype=object)), "pickle"),
    (_writer(np.savez, half=np.ones(2, np.float16)), "'half' of dtype float16"),
    (_foreign_zip, "'data.pkl' is not a .npy array"),
])
def test_damaged_or_foreign_files_raise_naming_the_file(tmp_path, damage, match):
    path = tmp_path / "model.ckpt"
    mg.save({"w": mg.tensor(np.arange(100.0))}, path)
    damage(path)
    with pytest.raises(ValueError, match=match) as info:
        mg.load(path)
    assert repr(str(path)) in str(info.value)


def test_pytorch_file_is_foreign(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed; its file format check skipped")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match=r"model.pt'.*is not a \.npy array \(a foreign archive, e\.g\. a PyTorch"):
        mg.load(path)


def test_manifest_problems_raise(tmp_path):
    path = tmp_path / "c.npz"
    mio.write_npz(path, {"w": np.ones(2), "__micrograd__": np.array('{"format": "other", "version": 1}')})
    with pytest.raises(ValueError, match="invalid manifest: format 'other'"):
        mg.load(path)
    mio.write_npz(path, {"__micrograd__": np.array('{"format": "micrograd-checkpoint", "version": 99, "tree": {}}')})
    with pytest.raises(ValueError, match="version 99 is not supported"):
        mg.load(path)
    mio.write_npz(path, {"__micrograd__": np.array('{"format": "micrograd-checkpoint", "version": 1, '
                                                   '"tree": {"d": [["w", "s", {"t": "w"}]]}}')})
    with pytest.raises(ValueError, match="names array 'w', which the file lacks"):
        mg.load(path)
    mio.write_npz(path, {"__micrograd__": np.array("not json")})
    with pytest.raises(ValueError, match="invalid manifest"):
        mg.load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such file"):
        mg.load("/nonexistent/model.npz")


@pytest.mark.parametrize("obj, error, match", [
    ([mg.ones(2)], TypeError, "expects a dict"),
    ({1: mg.ones(2)}, TypeError, "top-level keys must be str"),
    ({"w": np.ones(2, np.float16)}, TypeError, "'w' has dtype float16"),
    ({"w": np.array(["a", "b"])}, TypeError, "'w' has dtype <U1"),
    ({"w": object()}, TypeError, "w is a object"),
    ({"a": {"b": mg.ones(1)}, "a/b": mg.ones(1)}, ValueError, "two entries map to the key 'a/b'"),
    ({"s": {(1, 2): mg.ones(1)}}, TypeError, "keys must be str or int"),
])
def test_save_rejects_what_it_cannot_store_and_leaves_no_file(tmp_path, obj, error, match):
    with pytest.raises(error, match=match):
        mg.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []
