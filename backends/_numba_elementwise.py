"""The elementwise definitions (backends/elementwise.py) compiled by Numba, from the source codegen.py writes.

Each kernel compiles once per float dtype, on first use, into a loop over flat arrays and one over column
blocks of 2-d arrays (see Kernel.numba_source); Numba caches both on disk like the hand-written kernels
(cache=True). The generated functions live in one module per dtype, registered in sys.modules so that
cached code can find its globals, with the definitions file as their source file: editing a definition
invalidates the cache, and a change in the generated text changes the functions' names (their key).
Importing this module needs numba; backends/numba.py reports failures.
"""
import math
import sys
import types

import numpy as np
from numba import njit

from . import _numba_math, elementwise

_MODULES = {}
_COMPILED = {}


def _module(dtype):
    name = f"micrograd.backends._numba_elementwise_{dtype.name}"
    mod = _MODULES.get(name)
    if mod is None:
        mod = types.ModuleType(name, "Generated Numba kernels (backends/_numba_elementwise.py)")
        mod.__file__ = elementwise.__file__
        mod._T, mod.math = dtype.type, math
        mod._exp, mod._tanh = _numba_math.FUNCTIONS[dtype]["exp"], _numba_math.FUNCTIONS[dtype]["tanh"]
        sys.modules[name] = _MODULES[name] = mod
    return mod


def compiled(kernel, dtype):
    """(flat, rows): the jitted loops of `kernel` for `dtype` (float32 or float64)."""
    got = _COMPILED.get((kernel.name, dtype))  # keyed by what callers pass (an array's dtype): no conversion
    if got is None:
        got = _COMPILED[(kernel.name, dtype)] = _compile(kernel, np.dtype(dtype))
    return got


def _compile(kernel, dtype):
    got = _COMPILED.get((kernel.name, dtype))
    if got is None:
        mod = _module(dtype)
        suffix = f"{dtype.name}_{kernel.key}_{_numba_math.KEY}"
        exec(compile(kernel.numba_source(suffix), elementwise.__file__, "exec"), mod.__dict__)
        flat = f"{kernel.name}__{suffix}"
        setattr(mod, flat, njit(cache=True, error_model="numpy")(getattr(mod, flat)))
        rows = njit(cache=True, error_model="numpy")(getattr(mod, flat + "__rows"))
        got = _COMPILED[(kernel.name, dtype)] = (getattr(mod, flat), rows)
    return got


def warm(dtypes):
    """Compile (or load from the disk cache), for `dtypes` and both loops, every definition the backend compiles (no
    libm calls besides exp and tanh, or marked fused)."""
    for kernel in elementwise.KERNELS.values():
        if kernel.scalar_libm and not kernel.fused:
            continue
        for dt in dtypes:
            for loop, args in zip(compiled(kernel, dt), _sample_args(kernel, np.dtype(dt))):
                loop(*args)


def _sample_args(kernel, dt):
    """Tiny operands for each loop, so that warm() compiles exactly the signatures real calls use."""
    a = np.zeros((2, 3), dt)
    flat = [dt.type(0) if p in kernel.scalars else a.reshape(-1).copy() for p in kernel.params]
    flat += [a.reshape(-1).copy() for _ in kernel.new_outputs]
    rows = [2, 3]
    for p in kernel.params + kernel.new_outputs:
        rows += [dt.type(0)] if p in kernel.scalars else [a.copy(), 0]
    return flat, rows
