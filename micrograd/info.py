"""`python -m micrograd.info`: every backend, whether it is usable here and why not, and versions."""
import os
import platform
import sys

from . import __version__
from . import backend as registry


def _version(module_name):
    try:
        module = __import__(module_name)
        return getattr(module, "__version__", "unknown version")
    except Exception as exc:  # any import failure is information here, not an error
        return f"not importable ({type(exc).__name__}: {exc})"


def report():
    """The text that `python -m micrograd.info` prints."""
    lines = [f"micrograd {__version__} on Python {platform.python_version()} ({sys.platform})",
             f"numpy: {_version('numpy')}", f"numba: {_version('numba')}", f"cupy: {_version('cupy')}",
             f"MICROGRAD_BACKEND: {os.environ.get('MICROGRAD_BACKEND', '(unset)')!r} -> default backend "
             f"{registry.env_backend_name()!r}", "backends:"]
    for name in registry.NAMES:
        reason = registry.unavailable_reason(name)
        lines.append(f"  {name:6s} {'usable' if reason is None else 'unavailable: ' + reason}")
    default_reason = registry.unavailable_reason(registry.env_backend_name())
    if default_reason:
        lines.append(f"the default backend cannot be used: {default_reason}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
