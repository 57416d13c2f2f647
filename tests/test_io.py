"""mg.save / mg.load: bit-exact round trips on every backend, atomic writes, and clear errors for corrupt,
truncated or foreign files."""
import collections
import io
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
    ({"w": np.ones(2, np.float16)}, TypeError, "'w' has dtype float16"),
    ({"w": np.array(["a", "b"])}, TypeError, "'w' has dtype <U1"),
    ({"w": object()}, TypeError, "w is a object"),
    ({"a": {"b": mg.ones(1)}, "a/b": mg.ones(1)}, ValueError, "two entries map to the key 'a/b'"),
    ({"opt": {"state": {0: {"m": collections.defaultdict(list)}}}}, TypeError, "opt/state/0/m is a defaultdict"),
    ({"x": [1, (2, lambda: 3)]}, TypeError, "x/1/1 is a function"),
    ([np.ones(2, np.float16)], TypeError, "'0' has dtype float16"),
    ({"s": {(1, mg.ones(1)): 1}}, TypeError, "keys must be str, int, float, bool, None, complex, bytes, NumPy"),
    ({"n": [np.float16(1)]}, TypeError, "'n/0' has dtype float16"),
    ({"c": np.complex64(1 + 2j)}, TypeError, "'c' has dtype complex64"),
])
def test_save_rejects_what_it_cannot_store_and_leaves_no_file(tmp_path, obj, error, match):
    with pytest.raises(error, match=match):
        mg.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def _everything():
    p = nn.Parameter(mg.tensor([1.0, -2.0]))
    return p, {
        "epoch": 3, 7: "an int key", 1.5: None, None: True, False: -0.0, (1, ("a", b"k")): b"\x00\xff",
        "complex": 1 - 2j, "big": 2 ** 80, "nan": float("nan"), "inf": -float("inf"), "text": "ünïcode \u2603",
        "ordered": collections.OrderedDict([("b", 1), ("a", [2.5])]), "counter": collections.Counter([4, 4, 5]),
        "set": {1, "x", (2, 3)}, "frozen": frozenset([3.5]), "nested": (1, [2, (3, {})], ()),
        "param": p, "same_param": p, "leaf": mg.arange(3.0, dtype="float64").requires_grad_(),
        "int": mg.arange(4, dtype="uint8"), "array": np.arange(6).reshape(2, 3), "np_f32": np.float32(2.5),
        "np_u64": np.uint64(2 ** 64 - 1), "np_bool": np.bool_(True), np.int64(4): "a NumPy key",
        "dtype": mg.float64, "device": mg.device("cpu"),
    }


def test_structure_comes_back_with_the_same_types(tmp_path):
    p, obj = _everything()
    mg.save(obj, tmp_path / "everything.pt")
    back = mg.load(tmp_path / "everything.pt")
    assert list(back) == list(obj) and [type(k) for k in back] == [type(k) for k in obj]
    tensors = {"param", "same_param", "leaf", "int", "array"}
    for key in obj:
        if key not in tensors and key != "nan":
            assert type(back[key]) is type(obj[key]) and back[key] == obj[key], key
    assert back["nan"] != back["nan"] and str(back[False]) == "-0.0"
    assert type(back["nested"][1][1]) is tuple and type(back["ordered"]["a"]) is list
    assert type(back["param"]) is nn.Parameter and back["param"].requires_grad and back["param"] is back["same_param"]
    assert type(back["leaf"]) is mg.Tensor and back["leaf"].requires_grad and back["leaf"].is_leaf
    assert back["int"].dtype == mg.uint8 and not back["int"].requires_grad
    for key in tensors:  # NumPy arrays come back as Tensors on the current backend (the API contract)
        want = obj[key].detach().numpy() if isinstance(obj[key], mg.Tensor) else np.asarray(obj[key])
        got = back[key].detach().numpy()
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(), key


def test_a_tensor_or_array_alone_round_trips_through_paths_and_file_objects(tmp_path):
    t = mg.randn(2, 3)
    mg.save(t, tmp_path / "x.pt")
    back = mg.load(str(tmp_path / "x.pt"))
    assert type(back) is mg.Tensor and back.detach().numpy().tobytes() == t.detach().numpy().tobytes()
    with np.load(tmp_path / "x.pt") as npz:  # still a plain npz
        np.testing.assert_array_equal(npz[mio.ROOT], t.detach().numpy())
    data = np.arange(10, dtype=np.int64)
    with open(tmp_path / "data.pt", "wb") as f:
        mg.save(data, f)
    with open(tmp_path / "data.pt", "rb") as f:
        back = mg.load(f)  # a NumPy array saved on its own comes back as one, as in PyTorch
    assert type(back) is np.ndarray and back.dtype == np.int64 and back.tolist() == data.tolist()
    buffer = io.BytesIO()
    buffer.write(b"header")
    mg.save([1, (2.5, "three")], buffer)  # written where the file object stands, as PyTorch does
    buffer.seek(6)
    assert mg.load(buffer) == [1, (2.5, "three")]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"])
def test_optimizer_state_dict_round_trips_with_its_types(tmp_path, name):
    params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(3))]
    opt = getattr(mg.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1,
                                  **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    for p in params:
        p.grad = mg.ones(p.shape)
    opt.step()
    sd = opt.state_dict()
    mg.save({"optimizer": sd}, tmp_path / "opt.pt")
    back = mg.load(tmp_path / "opt.pt")["optimizer"]
    assert back["param_groups"] == sd["param_groups"]
    assert [type(v) for g in back["param_groups"] for v in g.values()] == \
        [type(v) for g in sd["param_groups"] for v in g.values()]  # tuples stay tuples, None stays None
    assert list(back["state"]) == list(sd["state"]) == [0, 1]
    for i, state in sd["state"].items():
        for key, value in state.items():
            got = back["state"][i][key]
            if isinstance(value, mg.Tensor):
                assert got.dtype == value.dtype and np.array_equal(got.detach().numpy(), value.detach().numpy())
            else:
                assert type(got) is type(value) and got == value


def _train(model, opt, sched, rng, steps):
    for _ in range(steps):
        x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8)
        loss = mg.nn.functional.cross_entropy(model(mg.tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "SGD"])
def test_pytorch_style_checkpoint_continues_training_exactly(tmp_path, name):
    def build():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = getattr(mg.optim, name)(model.parameters(), lr=0.01)
        return model, opt, mg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=12)

    model, opt, sched = build()
    loss = _train(model, opt, sched, np.random.default_rng(0), 6)
    with open(tmp_path / "checkpoint.pt", "wb") as f:
        mg.save({"epoch": 6, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
                 "scheduler": sched.state_dict(), "loss": loss}, f)
    _train(model, opt, sched, np.random.default_rng(1), 6)

    model2, opt2, sched2 = build()
    with open(tmp_path / "checkpoint.pt", "rb") as f:
        checkpoint = mg.load(f, map_location="cpu", weights_only=True)
    model2.load_state_dict(checkpoint["model_state_dict"])
    opt2.load_state_dict(checkpoint["optimizer_state_dict"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert checkpoint["epoch"] == 6 and checkpoint["loss"] == loss
    _train(model2, opt2, sched2, np.random.default_rng(1), 6)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes(), k
    assert opt.param_groups == [dict(g, params=g2["params"]) for g, g2 in zip(opt2.param_groups, opt.param_groups)]


def test_map_location_places_tensors(tmp_path, backend):
    with mg.use_backend("numpy"):
        mg.save({"w": mg.ones(2), "nested": [np.zeros(3)]}, tmp_path / "c.pt")  # both saved from device "cpu"
    for where in (backend, {"cpu": backend}):
        with mg.use_backend("numpy"):
            back = mg.load(tmp_path / "c.pt", map_location=where)
        assert back["w"].backend == back["nested"][0].backend == backend
    with mg.use_backend(backend):
        assert mg.load(tmp_path / "c.pt")["w"].backend == backend  # None: the current backend
        assert mg.load(tmp_path / "c.pt", map_location={"cuda:0": "cpu"})["w"].backend == backend
    on_backend = mg.ones(2)  # saved from the fixture's device (cuda:0 for CuPy), loaded onto the CPU
    mg.save(on_backend, tmp_path / "d.pt")
    assert mg.load(tmp_path / "d.pt", map_location={str(on_backend.device): "numpy"}).backend == "numpy"
    seen = []
    back = mg.load(tmp_path / "c.pt", map_location=lambda storage, loc: seen.append(loc) or storage * 2)
    assert seen == ["cpu", "cpu"] and back["w"].detach().numpy().tolist() == [2.0, 2.0]
    with mg.use_backend("numpy"):
        assert mg.load(tmp_path / "c.pt", map_location=mg.device("cpu"))["w"].device == mg.device("cpu")


def test_load_arguments_pytorch_has(tmp_path):
    mg.save({"w": mg.ones(1)}, tmp_path / "c.pt")
    for weights_only in (None, True, False):
        assert mg.load(tmp_path / "c.pt", weights_only=weights_only)["w"].item() == 1.0
    with pytest.raises(NotImplementedError, match="mmap=True is not supported"):
        mg.load(tmp_path / "c.pt", mmap=True)
    with pytest.raises(ValueError, match="encoding not supported: micrograd checkpoints hold no pickle"):
        mg.load(tmp_path / "c.pt", encoding="latin1")
    with pytest.raises(TypeError, match="expected a device"):
        mg.load(tmp_path / "c.pt", map_location=3.5)
    with pytest.raises(TypeError, match="map_location returned a list"):
        mg.load(tmp_path / "c.pt", map_location=lambda storage, loc: [storage])
    with pytest.raises(TypeError, match="f must be a path or a binary file object opened 'rb'; got int"):
        mg.load(5)
    with pytest.raises(TypeError, match="f must be a path or a binary file object opened 'wb'; got list"):
        mg.save({}, [])


def test_failed_saves_change_nothing(tmp_path):
    path = tmp_path / "c.pt"
    mg.save({"w": mg.ones(2)}, path)
    good = path.read_bytes()
    cyclic = [1]
    cyclic.append(cyclic)
    for bad, error in (({"w": mg.zeros(2), "x": {"y": object()}}, TypeError), ({"c": cyclic}, ValueError)):
        with pytest.raises(error, match="x/y is a object|c/1 contains itself"):
            mg.save(bad, path)
        assert path.read_bytes() == good and os.listdir(tmp_path) == ["c.pt"]
        buffer = io.BytesIO()
        with pytest.raises(error):
            mg.save(bad, buffer)
        assert buffer.getvalue() == b""
    with open(tmp_path / "text.pt", "w") as f, pytest.raises(TypeError, match="text-mode file; open it in binary"):
        mg.save({"w": mg.ones(1)}, f)


def test_failed_load_from_a_file_object_leaves_it_where_it_was(tmp_path):
    buffer = io.BytesIO(b"prefix" + b"not a checkpoint")
    buffer.seek(6)
    with pytest.raises(ValueError, match="'<BytesIO>' is not an .npz checkpoint"):
        mg.load(buffer)
    assert buffer.tell() == 6
    path = tmp_path / "c.pt"
    mg.save({"w": mg.tensor(np.arange(100.0))}, path)
    _corrupt(path)
    with open(path, "rb") as f:
        with pytest.raises(ValueError, match=f"{str(path)!r} is corrupt or truncated"):
            mg.load(f)
        assert f.tell() == 0
    with open(path) as f, pytest.raises(TypeError, match="text-mode file; open it in binary mode"):
        mg.load(f)


def test_version_1_files_still_load(tmp_path):
    tree = {"d": [["model", "s", {"d": [["w", "s", {"t": "model/w"}]]}],
                  ["opt", "s", {"d": [["state", "s", {"d": [[0, "i", {"d": [["step", "s", {"v": 3}]]}]]}],
                                      ["betas", "s", {"u": [{"v": 0.9}, {"v": 0.999}]}],
                                      ["ids", "s", {"l": [{"v": 0}]}]]}]]}
    manifest = {"format": "micrograd-checkpoint", "version": 1, "tree": tree}
    mio.write_npz(tmp_path / "v1.npz", {"model/w": np.ones(2, np.float32), "__micrograd__": np.array(
        __import__("json").dumps(manifest))})
    back = mg.load(tmp_path / "v1.npz")
    assert back["opt"] == {"state": {0: {"step": 3}}, "betas": (0.9, 0.999), "ids": [0]}
    assert type(back["model"]["w"]) is mg.Tensor and back["model"]["w"].dtype == mg.float32
