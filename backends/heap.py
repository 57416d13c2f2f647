"""Opt-in host heap tuning for the NumPy-array backends (numpy, numba): `pad_heap()`.

glibc serves large blocks with mmap (page-faulted in on first touch, unmapped on free) and hands memory freed
at the top of its heap back to the operating system as soon as a little lies free there. A training step frees
its activations and gradients (megabytes, many arrays) and allocates the same sizes again in the next step,
so every step faulted those pages back in: about 5,000 minor page faults per LSTM or CNN benchmark step on
the development machine, a third of the LSTM step's time (23 ms instead of 15.5 ms) and a fifth of the CNN
step's. Serving blocks up to 32 MiB from the heap (M_MMAP_THRESHOLD; glibc raises it that far by itself, but
only after a large block was freed) and keeping 64 MiB of slack at its top (M_TOP_PAD) stop the churn.
Slack that is never touched is never resident; the benchmarks' peak memory did not change.

The settings are process-wide, so importing micrograd never applies them: a program opts in by calling
`micrograd.backends.heap.pad_heap()` once at start (the examples do; benchmarks/run.py does for every
contender and says so in its table's header). They help every library in the process alike, and in a
long-running process that mixes many libraries, freed blocks below 32 MiB stay with the heap rather than
going back to the system. MICROGRAD_HEAP_PAD=<bytes> sets the slack; 0 makes pad_heap() leave malloc's
settings alone. Nothing happens outside glibc.
"""
import ctypes
import os
import sys

DEFAULT_PAD = 64 << 20
MMAP_THRESHOLD = 32 << 20
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc's mallopt parameter numbers


def heap_pad():
    """The slack requested by MICROGRAD_HEAP_PAD (bytes), or the default."""
    text = os.environ.get("MICROGRAD_HEAP_PAD", "").strip()
    if not text:
        return DEFAULT_PAD
    try:
        pad = int(text)
    except ValueError:
        pad = -1
    if not 0 <= pad < 2 ** 31:
        raise ValueError(f"MICROGRAD_HEAP_PAD must be a number of bytes from 0 to 2**31 - 1; got {text!r}")
    return pad


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False


def pad_heap():
    """Apply heap_pad() with glibc's mallopt; returns whether it was applied."""
    pad = heap_pad()
    if pad == 0 or not sys.platform.startswith("linux") or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TOP_PAD, pad))
