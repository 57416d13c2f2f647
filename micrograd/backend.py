"""The backend registry: MICROGRAD_BACKEND, set/get/use_backend, available_backends.

Importing micrograd never fails because of MICROGRAD_BACKEND: the name is read once at import and checked
at the first operation that needs the default backend. Nothing falls back silently.
"""
import contextlib
import contextvars
import importlib
import os

NAMES = ("numpy", "numba", "cupy")

_loaded = {}
_errors = {}
_default_name = os.environ.get("MICROGRAD_BACKEND", "numpy").strip().lower() or "numpy"
_scoped = contextvars.ContextVar("micrograd_backend", default=None)


class BackendUnavailableError(RuntimeError):
    """The backend that was asked for cannot be used here."""


def _load(name):
    if name in _loaded:
        return _loaded[name]
    if name not in NAMES:
        raise BackendUnavailableError(
            f"backend: unknown backend {name!r}; known backends are {', '.join(NAMES)} "
            f"(available here: {', '.join(available_backends()) or 'none'})")
    if name in _errors:
        raise BackendUnavailableError(_errors[name])
    try:
        module = importlib.import_module(f"micrograd.backends.{name}")
        if hasattr(module, "check_available"):
            module.check_available()
    except Exception as exc:  # an import error, a missing driver or device: report, never fall back
        msg = f"backend: {name!r} is unavailable: {type(exc).__name__}: {exc}"
        _errors[name] = msg
        others = [n for n in NAMES if n != name and _usable(n)]
        _errors[name] = msg = f"{msg} (available here: {', '.join(others) or 'none'})"
        raise BackendUnavailableError(msg) from exc
    _loaded[name] = module.backend
    return module.backend


def _usable(name):
    try:
        _load(name)
        return True
    except BackendUnavailableError:
        return False


def backend_object(name):
    """The backend instance called `name`; raises BackendUnavailableError saying why it cannot be used."""
    if not isinstance(name, str):
        name = getattr(name, "name", name)
        if not isinstance(name, str):
            raise TypeError(f"backend: a backend is named by a string; got {type(name).__name__}")
    return _load(name.strip().lower())


def register(name, backend):
    """Make the backend object `backend` usable under the extra name `name` (for tests: the cupy backend over a
    NumPy stand-in). It is never listed by available_backends()."""
    if name in NAMES:
        raise ValueError(f"backend: {name!r} is a built-in backend name; register an extra name")
    _loaded[name] = backend


def is_name(target):
    """Whether `target` is a string naming a backend (built in or registered), rather than a dtype."""
    return isinstance(target, str) and (target.strip().lower() in NAMES or target.strip().lower() in _loaded)


def available_backends():
    """Names of the backends usable on this machine, in the order numpy, numba, cupy."""
    return [n for n in NAMES if _usable(n)]


def unavailable_reason(name):
    """Why `name` cannot be used here, or None when it can."""
    try:
        _load(name)
        return None
    except BackendUnavailableError as exc:
        return str(exc)


def current():
    """The backend object new tensors go to (the scoped one, else the default)."""
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    return _load(_default_name)


def get_backend():
    """The name of the current default backend."""
    return current().name


def set_backend(name):
    """Make `name` the default backend of this process (a `use_backend` scope still wins inside it)."""
    global _default_name
    b = backend_object(name)
    _default_name = b.name


@contextlib.contextmanager
def use_backend(name):
    """Within the block, new tensors go to backend `name` (per thread and per async context)."""
    token = _scoped.set(backend_object(name))
    try:
        yield
    finally:
        _scoped.reset(token)


def synchronize(name=None):
    """Wait for the device of backend `name` (default: the current one); a no-op on CPU backends."""
    (current() if name is None else backend_object(name)).synchronize()


def env_backend_name():
    """What MICROGRAD_BACKEND names (or 'numpy' when unset)."""
    return _default_name
