"""`save` / `load`: checkpoints as NumPy .npz files, without pickle, written atomically.

A checkpoint is a zip of `.npy` arrays, one per Tensor or NumPy array, named by its place in the saved object
('/'-joined keys, so a model's state_dict keys appear as they are and `numpy.load` reads it too), plus a
`__micrograd__.npy` JSON manifest that records the structure around them: dicts (with their key types),
OrderedDicts, Counters, lists, tuples, sets, numbers (NumPy's too), strings, bytes, None, dtypes and devices,
so `load` gives back the same Python types. Reading never unpickles: a file that needs pickle, is truncated, corrupt
(zip CRC) or not an npz raises a ValueError that names it. Version 1 files (before sets, bytes, non-str keys
at the top level and tensor flags) still load.
"""
import base64
import collections
import io
import json
import os
import pickle
import secrets
import zipfile

import numpy as np

from . import devices, dtypes
from .tensor import Tensor

FORMAT = "micrograd-checkpoint"
VERSION = 2
READS = (1, 2)
MANIFEST = "__micrograd__"
ROOT = "data"  # the array name of an object saved on its own (mg.save(tensor, f))
_SCALARS = (type(None), bool, int, float, str)
_CONTAINERS = {dict: "d", collections.OrderedDict: "od", collections.Counter: "counter", list: "l", tuple: "u",
               set: "set", frozenset: "frozenset"}
_BUILD = {"d": dict, "od": collections.OrderedDict, "counter": collections.Counter, "l": list, "u": tuple,
          "set": set, "frozenset": frozenset}
_WHAT = ("Tensors, NumPy arrays and numbers, None, bools, ints, floats, complex numbers, strings, bytes, dtypes, "
         "devices, and dicts, OrderedDicts, Counters, lists, tuples and sets of them")


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


def _write_members(f, arrays):
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)


def write_npz(path, arrays):
    """Write name -> NumPy array as an uncompressed .npz at exactly `path`, atomically, without pickle."""
    atomic_write(path, lambda f: _write_members(f, arrays))


def read_npz(path, op="load"):
    """name -> NumPy array from an .npz file, every member read (so CRC errors surface); clear errors."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{op}: no such file: {path!r}")
    return _read_members(path, repr(path), op)


def _read_members(source, label, op):
    """name -> array from `source` (a path or a seekable binary file); errors name `label`."""
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{op}: {label} is not an .npz checkpoint (not a zip archive: a foreign, truncated or "
                         f"corrupt file)")
    out = {}
    try:
        with zipfile.ZipFile(source) as zf:
            for member in zf.namelist():
                if not member.endswith(".npy"):
                    raise ValueError(f"member {member!r} is not a .npy array (a foreign archive, e.g. a PyTorch "
                                     f".pt file?)")
                with zf.open(member) as f:
                    out[member[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{op}: {label} is not a valid .npz checkpoint: {exc}") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, NotImplementedError) as exc:
        raise ValueError(f"{op}: {label} is corrupt or truncated: {type(exc).__name__}: {exc}") from None
    return out


class _Encoder:
    """Turns a saved object into a JSON manifest tree, collecting its arrays by name."""

    def __init__(self):
        self.arrays = {}
        self.tensors = {}  # id -> node: an object saved twice is one array, loaded as one object
        self.open = set()  # ids of the containers being encoded (a cycle would recurse forever)

    def encode(self, value, path):
        where = "/".join(path) or "the object"
        if isinstance(value, (Tensor, np.ndarray)):
            return self._array(value, path)
        if isinstance(value, np.generic):  # a NumPy number (np.mean's result, say): it stays one
            return {"g": [_leaf_dtype(repr(where), value.dtype).name, value.item()]}
        if type(value) in _SCALARS:
            return {"v": value}
        if type(value) is complex:
            return {"c": [value.real, value.imag]}
        if type(value) is bytes:
            return {"b": base64.b64encode(value).decode("ascii")}
        if isinstance(value, np.dtype):
            return {"dtype": _leaf_dtype(where, value).name}
        if isinstance(value, devices.device):
            return {"device": str(value)}
        kind = _CONTAINERS.get(type(value))
        if kind is None:
            raise TypeError(f"save: {where} is a {type(value).__name__}; a checkpoint holds {_WHAT}")
        if id(value) in self.open:
            raise ValueError(f"save: {where} contains itself (a reference cycle); a checkpoint holds a tree")
        self.open.add(id(value))
        try:
            if kind in ("d", "od", "counter"):
                body = [self._entry(k, v, path, where) for k, v in value.items()]
            else:
                items = sorted(value, key=repr) if kind in ("set", "frozenset") else value
                body = [self.encode(v, path + [str(i)]) for i, v in enumerate(items)]
        finally:
            self.open.discard(id(value))
        return {kind: body}

    def _entry(self, key, value, path, where):
        if type(key) is str:
            return [key, "s", self.encode(value, path + [key])]
        if type(key) is int:
            return [key, "i", self.encode(value, path + [str(key)])]
        return [self._key(key, where), "k", self.encode(value, path + [str(key)])]

    def _key(self, key, where):
        """A dict key other than a str or an int: a scalar, bytes, or a tuple of them."""
        if type(key) in _SCALARS or type(key) in (complex, bytes) or isinstance(key, np.generic):
            return self.encode(key, [])
        if type(key) is tuple:
            return {"u": [self._key(k, where) for k in key]}
        raise TypeError(f"save: keys must be str, int, float, bool, None, complex, bytes, NumPy numbers or tuples "
                        f"of them; got "
                        f"{key!r} ({type(key).__name__}) in {where}")

    def _array(self, value, path):
        if id(value) in self.tensors:
            return self.tensors[id(value)]
        key = "/".join(path) or ROOT
        if key in self.arrays or key == MANIFEST:
            raise ValueError(f"save: two entries map to the key {key!r}; rename one")
        self.arrays[key] = _leaf_array(repr(key), value)
        info = {"array": key, "device": "cpu"}
        if not isinstance(value, Tensor) and not path:
            info["ndarray"] = True  # a NumPy array saved on its own loads back as one, as PyTorch's does
        if isinstance(value, Tensor):
            info["device"] = str(value.device)
            info["requires_grad"] = value.requires_grad
            info["parameter"] = bool(getattr(value, "_is_parameter", False))
        node = self.tensors[id(value)] = {"t": info}
        return node


def _leaf_array(where, value):
    arr = value._host() if isinstance(value, Tensor) else np.asarray(value)
    _leaf_dtype(where, arr.dtype)
    return arr


def _leaf_dtype(where, dtype):
    if dtype not in dtypes.SUPPORTED:
        names = ", ".join(d.name for d in dtypes.SUPPORTED)
        raise TypeError(f"save: {where} has dtype {dtype}; supported: {names} (convert with .astype first)")
    return dtype


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Write `obj` to `f` (a path, written to exactly that name, or a binary file object opened 'wb').

    `obj` is what PyTorch programs save: a Tensor or NumPy array, or nested dicts, lists, tuples and sets of
    Tensors, arrays, numbers, strings, bytes and None (a model's and an optimizer's state_dict with an epoch
    number, say). Nothing is pickled: arrays go into an .npz, the structure into a JSON manifest beside them.
    Everything is encoded before anything is written; a path is written to a temporary file moved into place,
    so a failed or interrupted save leaves the old file as it was. An object it cannot store raises a
    TypeError naming where it sits in `obj` and its type. `pickle_module` and `pickle_protocol` are accepted
    for PyTorch's signature and unused (there is no pickle).
    """
    if pickle_module not in (None, pickle):
        raise ValueError(f"save: pickle_module is unused (micrograd checkpoints hold no pickle); got "
                         f"{pickle_module!r}")
    encoder = _Encoder()
    tree = encoder.encode(obj, [])
    arrays = dict(encoder.arrays)
    arrays[MANIFEST] = np.array(json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}))
    if hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("save: f is a text-mode file; open it in binary mode ('wb')")
        buffer = io.BytesIO()
        _write_members(buffer, arrays)
        f.write(buffer.getvalue())
        return
    write_npz(_fspath("save", f, "opened 'wb'"), arrays)


def _fspath(op, f, mode):
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(f"{op}: f must be a path or a binary file object {mode}; got {type(f).__name__}") from None


class _PlacementError(Exception):
    """map_location's failure while decoding: raised as it is, not as a malformed manifest."""


class _Decoder:
    """Rebuilds the saved object from the manifest tree and the arrays."""

    def __init__(self, arrays, place):
        self.arrays, self.place = arrays, place
        self.used = {}  # array name -> the Tensor made from it

    def decode(self, node):
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"malformed manifest entry {node!r}")
        (kind, body), = node.items()
        if kind == "t":
            return self._tensor(body)
        if kind == "v":
            if type(body) not in _SCALARS:
                raise ValueError(f"malformed value {body!r}")
            return body
        if kind in _BUILD:
            if kind in ("d", "od", "counter"):
                return _BUILD[kind](dict((self._key(k, tag), self.decode(v)) for k, tag, v in body))
            return _BUILD[kind](self.decode(v) for v in body)
        if kind == "g":
            return dtypes.as_dtype(body[0], "load").type(body[1])
        if kind == "c":
            return complex(*body)
        if kind == "b":
            return base64.b64decode(body.encode("ascii"), validate=True)
        if kind == "dtype":
            return dtypes.as_dtype(body, "load")
        if kind == "device":
            return devices.device(body)
        raise ValueError(f"unknown manifest entry kind {kind!r}")

    def _key(self, key, tag):
        if tag == "s" and type(key) is str or tag == "i" and type(key) is int:
            return key
        if tag == "k":
            return self.decode(key)
        raise ValueError(f"malformed dict key {key!r} (tag {tag!r})")

    def _tensor(self, body):
        info = {"array": body} if isinstance(body, str) else body  # version 1: the array name alone
        name = info["array"]
        if name in self.used:
            return self.used[name]
        if name not in self.arrays:
            raise ValueError(f"the manifest names array {name!r}, which the file lacks")
        if info.get("ndarray"):
            self.used[name] = self.arrays[name]
            return self.arrays[name]
        try:
            t = self.place(self.arrays[name], info.get("device"))
        except Exception as exc:
            raise _PlacementError(exc) from exc
        if info.get("parameter"):
            from .nn.parameter import Parameter

            t = Parameter(t, requires_grad=bool(info.get("requires_grad")))
        elif info.get("requires_grad"):
            t.requires_grad_(True)
        self.used[name] = t
        return t


def _placement(map_location):
    """place(array, saved device string or None) -> Tensor, as `map_location` says."""
    if map_location is None:
        return lambda arr, loc: Tensor(arr)
    if isinstance(map_location, dict):
        targets = {str(k): devices.backend_for(v, "load") for k, v in map_location.items()}
        return lambda arr, loc: Tensor(arr, backend=targets.get(loc))
    if callable(map_location):
        def place(arr, loc):
            t = map_location(Tensor(arr, backend=devices.cpu_backend()), loc or "cpu")
            if t is None:
                return Tensor(arr)
            if not isinstance(t, Tensor):
                raise TypeError(f"load: map_location returned a {type(t).__name__}; expected a Tensor or None")
            return t
        return place
    target = devices.backend_for(map_location, "load")
    return lambda arr, loc: Tensor(arr, backend=target)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what `save` wrote (or any pickle-free .npz) from `f`: a path, or a binary file object opened 'rb'.

    The object comes back with the types it was saved with (tuples, OrderedDicts, int keys, numbers, ...);
    Tensors and NumPy arrays come back as Tensors on the current backend, with their dtype, and with
    requires_grad and the Parameter type they were saved with. A plain .npz without micrograd's manifest
    gives name -> Tensor.

    Args:
        map_location: None (the current backend); a device ('cpu', 'cuda:0', mg.device) or backend name for
            every tensor; a dict from the saved device string ('cpu', 'cuda:0') to a device (tensors saved
            elsewhere go to the current backend); or a callable (tensor on the CPU, saved device string) ->
            Tensor, or None for the current backend.
        weights_only: accepted for PyTorch's signature; micrograd never unpickles, so every load is as safe
            as PyTorch's weights_only=True.
        pickle_module, mmap, pickle_load_args: PyTorch's; anything but their defaults raises (no pickle here;
            the arrays are read into memory).

    A missing, corrupt, truncated or foreign file, or an array of an unsupported dtype, raises an error
    naming the file; a file object is left where it was.
    """
    if pickle_module not in (None, pickle) or pickle_load_args:
        extra = sorted(pickle_load_args) or [f"pickle_module={pickle_module!r}"]
        raise ValueError(f"load: {', '.join(extra)} not supported: micrograd checkpoints hold no pickle")
    if mmap:
        raise NotImplementedError("load: mmap=True is not supported by micrograd (arrays are read into memory)")
    place = _placement(map_location)
    if not hasattr(f, "read"):
        path = _fspath("load", f, "opened 'rb'")
        return _load_arrays(read_npz(path), place, repr(path))
    label = repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"load: {label} is a text-mode file; open it in binary mode ('rb')")
    seekable = getattr(f, "seekable", lambda: False)()
    start = f.tell() if seekable else None
    try:
        data = f.read()
        if not isinstance(data, bytes):
            raise TypeError(f"load: {label} is a text-mode file; open it in binary mode ('rb')")
        return _load_arrays(_read_members(io.BytesIO(data), label, "load"), place, label)
    except BaseException:
        if start is not None:  # a failed load leaves the file where it was
            f.seek(start)
        raise


def _load_arrays(arrays, place, label):
    for key, arr in arrays.items():
        if key != MANIFEST and arr.dtype not in dtypes.SUPPORTED:
            raise ValueError(f"load: {label} holds {key!r} of dtype {arr.dtype}; supported: "
                             f"{', '.join(d.name for d in dtypes.SUPPORTED)}")
    if MANIFEST not in arrays:
        return {key: place(arr, None) for key, arr in arrays.items()}
    return _decode_manifest(arrays, place, label)


def _decode_manifest(arrays, place, label):
    try:
        manifest = json.loads(str(arrays.pop(MANIFEST)[()]))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r} is not {FORMAT!r}")
        if manifest.get("version") not in READS:
            raise ValueError(f"format version {manifest.get('version')!r} is not supported (this micrograd reads "
                             f"versions {', '.join(map(str, READS))})")
        decoder = _Decoder(arrays, place)
        out = decoder.decode(manifest["tree"])
        if set(arrays) - set(decoder.used):
            raise ValueError(f"arrays {sorted(set(arrays) - set(decoder.used))} are not in the manifest")
    except _PlacementError as exc:
        raise exc.args[0] from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"load: {label} has an invalid manifest: {exc}") from None
    return out
