"""`save` / `load`: checkpoints as NumPy .npz files, without pickle, written atomically.

A checkpoint is a zip of `.npy` arrays, one per Tensor, named by its key (a model's state_dict keys as
they are, so `numpy.load` reads it too), plus a `__micrograd__.npy` JSON manifest that records nested
structure (an optimizer's state_dict: dicts with int keys, lists, tuples, numbers) and the format version.
Reading never unpickles: a file that needs pickle, is truncated, corrupt (zip CRC) or not an npz raises
a ValueError that names it.
"""
import json
import numbers
import os
import secrets
import zipfile
from collections.abc import Mapping

import numpy as np

from . import dtypes
from .tensor import Tensor

FORMAT = "micrograd-checkpoint"
VERSION = 1
MANIFEST = "__micrograd__"


def atomic_write(path, write):
    """Call write(binary file) on a temporary file beside `path`, then move it onto `path` in one step.

    A crash or an exception part-way leaves any old file at `path` untouched (and no temporary behind).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_npz(path, arrays):
    """Write name -> NumPy array as an uncompressed .npz at exactly `path`, atomically, without pickle."""
    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in arrays.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)
    atomic_write(path, write)


def read_npz(path, op="load"):
    """name -> NumPy array from an .npz file, every member read (so CRC errors surface); clear errors."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{op}: no such file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{op}: {path!r} is not an .npz checkpoint (not a zip archive: a foreign, truncated or "
                         f"corrupt file)")
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if not member.endswith(".npy"):
                    raise ValueError(f"member {member!r} is not a .npy array (a foreign archive, e.g. a PyTorch "
                                     f".pt file?)")
                with zf.open(member) as f:
                    out[member[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{op}: {path!r} is not a valid .npz checkpoint: {exc}") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, NotImplementedError) as exc:
        raise ValueError(f"{op}: {path!r} is corrupt or truncated: {type(exc).__name__}: {exc}") from None
    return out


def _leaf_array(where, value):
    arr = value._host() if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype not in dtypes.SUPPORTED:
        raise TypeError(f"save: {where} has dtype {arr.dtype}; supported: float32, float64, int64, bool "
                        f"(convert with .astype first)")
    return arr


def _encode(value, path, arrays):
    """The manifest node for `value`, adding its arrays to `arrays` under '/'-joined key paths."""
    where = "/".join(path) or "the object"
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        key = "/".join(path)
        if key in arrays or key == MANIFEST:
            raise ValueError(f"save: two entries map to the key {key!r}; rename one")
        arrays[key] = _leaf_array(repr(key), value)
        return {"t": key}
    if value is None or isinstance(value, (bool, str)):
        return {"v": value}
    if isinstance(value, numbers.Integral):
        return {"v": int(value)}
    if isinstance(value, numbers.Real):
        return {"v": float(value)}
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"save: keys must be str or int; got {k!r} in {where}")
            items.append([k, "i" if isinstance(k, int) else "s", _encode(v, path + [str(k)], arrays)])
        return {"d": items}
    if isinstance(value, (list, tuple)):
        nodes = [_encode(v, path + [str(i)], arrays) for i, v in enumerate(value)]
        return {"u" if isinstance(value, tuple) else "l": nodes}
    raise TypeError(f"save: {where} is a {type(value).__name__}; a checkpoint holds Tensors, NumPy arrays, "
                    f"numbers, strings and dicts/lists of them")


def save(obj, path):
    """Write a dict of name -> Tensor/array (a state_dict, or several under prefixes) to exactly `path`.

    Values may also be numbers and nested dicts/lists/tuples (an optimizer's or scheduler's state_dict).
    Written as .npz without pickle, to a temporary file moved into place, so a crash mid-save leaves the
    old file.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expects a dict of name -> Tensor/array; got {type(obj).__name__}")
    for k in obj:
        if not isinstance(k, str):
            raise TypeError(f"save: top-level keys must be str; got {k!r}")
    arrays = {}
    tree = _encode(obj, [], arrays)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[MANIFEST] = np.array(manifest)
    write_npz(path, arrays)


def _decode(node, arrays, used):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed manifest entry {node!r}")
    (kind, body), = node.items()
    if kind == "t":
        if body not in arrays:
            raise ValueError(f"the manifest names array {body!r}, which the file lacks")
        used.add(body)
        return Tensor(arrays[body])
    if kind == "v":
        return body
    if kind == "d":
        return {(int(k) if t == "i" else k): _decode(v, arrays, used) for k, t, v in body}
    if kind in ("l", "u"):
        items = [_decode(v, arrays, used) for v in body]
        return tuple(items) if kind == "u" else items
    raise ValueError(f"unknown manifest entry kind {kind!r}")


def load(path):
    """Read a checkpoint written by `save` (or any pickle-free .npz) as name -> Tensor on the current backend.

    Nested structure saved by `save` comes back as it was (tuples, int keys, numbers). A missing, corrupt,
    truncated or foreign file, or an array of an unsupported dtype, raises an error naming the file.
    """
    arrays = read_npz(path)
    path = os.fspath(path)
    for key, arr in arrays.items():
        if key != MANIFEST and arr.dtype not in dtypes.SUPPORTED:
            raise ValueError(f"load: {path!r} holds {key!r} of dtype {arr.dtype}; supported: float32, float64, "
                             f"int64, bool")
    if MANIFEST not in arrays:
        return {key: Tensor(arr) for key, arr in arrays.items()}
    try:
        manifest = json.loads(str(arrays.pop(MANIFEST)[()]))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r} is not {FORMAT!r}")
        if manifest.get("version") != VERSION:
            raise ValueError(f"format version {manifest.get('version')!r} is not supported (this micrograd reads "
                             f"version {VERSION})")
        used = set()
        out = _decode(manifest["tree"], arrays, used)
        if set(arrays) - used:
            raise ValueError(f"arrays {sorted(set(arrays) - used)} are not in the manifest")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"load: {path!r} has an invalid manifest: {exc}") from None
    return out
