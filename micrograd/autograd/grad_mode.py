"""The recording switch (no_grad, enable_grad) and anomaly detection: the engine's per-context state.

Both are context variables, so each thread and each async task has its own setting.
"""
import contextvars
import functools
import os
import traceback

_grad_enabled = contextvars.ContextVar("micrograd_grad_enabled", default=True)
_anomaly = contextvars.ContextVar("micrograd_detect_anomaly", default=False)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_grad_enabled():
    """Whether ops record the graph here (False inside no_grad)."""
    return _grad_enabled.get()


class _GradMode:
    """A context manager and decorator that sets the recording switch (per thread and async context)."""

    enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._tokens = []
        return self(func) if callable(func) else self

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())
        return False

    _args = ()  # what a fresh instance is made with, for each call of a decorated function

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)(*self._args):
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Ops inside do not record the graph; as `with mg.no_grad():` or as a decorator."""

    enabled = False


class enable_grad(_GradMode):
    """Ops inside record the graph again (e.g. within no_grad); a context manager or decorator."""

    enabled = True


class inference_mode(_GradMode):
    """PyTorch's inference mode, which for micrograd is no_grad: ops inside do not record the graph.
    inference_mode(False) leaves recording as it is. A context manager or decorator."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare as a decorator: @inference_mode
            return super().__new__(cls, mode)
        self = super().__new__(cls)
        self._args = (bool(mode),)
        return self

    def __init__(self, mode=True):
        pass

    def __enter__(self):
        mode = self._args[0] if self._args else True
        self._tokens.append(_grad_enabled.set(False if mode else _grad_enabled.get()))
        return self


class set_grad_enabled:
    """Turn recording on or off: at once when called (`mg.set_grad_enabled(False)`), and back to the previous
    setting at the end of a `with` block, as PyTorch's."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}")
        self._prev = _grad_enabled.get()
        _grad_enabled.set(mode)
        self.mode = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_enabled.set(self._prev)
        return False

    def __call__(self, func):
        _grad_enabled.set(self._prev)
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper


class detect_anomaly:
    """Within the block, raise at the first op whose forward output or gradient holds NaN or Inf.

    The error names the op and the line of user code that created it. Recording where each op was
    created costs time, so use it for debugging only.
    """

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_anomaly.set(True))
        return self

    def __exit__(self, *exc):
        _anomaly.reset(self._tokens.pop())
        return False


def user_frame():
    """'file:line: code' of the innermost stack frame outside micrograd (its backends included)."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.abspath(frame.filename)
        if not path.startswith(_PACKAGE_DIR) and "micrograd" + os.sep + "backends" not in path:
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


def all_finite(t):
    """No NaN or Inf in the Tensor t (True for integer and bool tensors)."""
    return t.dtype.kind != "f" or t._backend.all_finite(t._data)
