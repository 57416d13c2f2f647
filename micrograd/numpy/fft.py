"""The standard's fft extension: the real helpers (fftfreq, rfftfreq, fftshift, ifftshift) work; the transforms
take or return complex arrays, which micrograd does not support, so they raise."""
import numbers

from ._creation import arange
from ._dtypes import DEFAULT_FLOAT, as_dtype
from ._engine import ops as _ops


def fftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """The sample frequencies of an n-point DFT with sample spacing d."""
    dt = as_dtype(dtype or DEFAULT_FLOAT, "fftfreq")
    k = _ops.cat([arange(0, (n - 1) // 2 + 1, device=device), arange(-(n // 2), 0, device=device)])
    return (k.astype(dt) / (n * d)).astype(dt)


def rfftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """The non-negative sample frequencies of an n-point real DFT."""
    dt = as_dtype(dtype or DEFAULT_FLOAT, "rfftfreq")
    return (arange(0, n // 2 + 1, device=device).astype(dt) / (n * d)).astype(dt)


def _shift(x, axes, sign):
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, numbers.Integral) else tuple(axes)
    if not axes:
        return x
    return _ops.roll(x, tuple(sign * (x.shape[a] // 2) for a in axes), axes)


def fftshift(x, /, *, axes=None):
    """The zero-frequency term moved to the centre (a roll by n // 2 along each axis)."""
    return _shift(x, axes, 1)


def ifftshift(x, /, *, axes=None):
    """fftshift undone (a roll by -(n // 2))."""
    return _shift(x, axes, -1)


def _complex(name):
    raise TypeError(f"fft.{name}: complex dtypes are not supported (its input or result is complex)")


def fft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("fft")


def ifft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("ifft")


def fftn(x, /, *, s=None, axes=None, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("fftn")


def ifftn(x, /, *, s=None, axes=None, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("ifftn")


def rfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: the result is complex, and complex dtypes are not supported."""
    _complex("rfft")


def irfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("irfft")


def rfftn(x, /, *, s=None, axes=None, norm="backward"):
    """Raises: the result is complex, and complex dtypes are not supported."""
    _complex("rfftn")


def irfftn(x, /, *, s=None, axes=None, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("irfftn")


def hfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: complex dtypes are not supported."""
    _complex("hfft")


def ihfft(x, /, *, n=None, axis=-1, norm="backward"):
    """Raises: the result is complex, and complex dtypes are not supported."""
    _complex("ihfft")


__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]
