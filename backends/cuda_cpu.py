"""The project's CUDA kernels built for the CPU: each kernel's own source, compiled by the system C++ compiler and
launched with the grid, block and arguments the cupy backend passes to CuPy.

Every kernel of backends/cupy.py is one thread per output element, with at most `atomicAdd`: no shared memory, no
barriers, no warp intrinsics. Such a kernel runs on a CPU as written, one CUDA thread after another. HEADER stands
in for the CUDA built-ins these kernels use:
- `threadIdx`, `blockIdx`, `blockDim` and `gridDim` (unsigned int fields, as CUDA's; one set per OS thread) are set
  by the launch loop, which walks the blocks of the grid in order and the threads of each block in order;
- `atomicAdd` is a plain add (the loop is sequential), returning the old value as CUDA's does;
- the CUDA math functions are C++'s (<cmath> has the float and double overloads), and the `__global__`,
  `__device__` and `__forceinline__` qualifiers are dropped.
A kernel that uses what the header cannot model faithfully (`__shared__` memory with `__syncthreads`, warp
shuffles and votes, other atomics, fences) raises CannotRunOnCpu naming the construct, before compiling.

A RawKernel source is compiled unchanged: the header goes before it, and a launcher after it that runs the loop and
calls the kernel with the arguments unpacked from an array of pointers (CUDA's own launch convention). An
ElementwiseKernel is turned mechanically into a one-thread-per-element kernel over flat arrays (cupy.py's
`elementwise_harness`, the same text `nvcc --ptx` checks) and built the same way.

Builds are cached on disk by a hash of their text (MICROGRAD_CACHE_DIR, else ~/.cache/micrograd) and loaded with
ctypes. The tests' CuPy stand-in (tests/cupy_standin.py) launches every kernel through this module; on a machine
with a CUDA device the gpu tests compare the device's results with it.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

HEADER = r"""
#include <cmath>
#include <math.h>
#include <cstdint>
struct mg_uint3 { unsigned int x, y, z; };
static thread_local mg_uint3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
template <class V> static inline V atomicAdd(V* address, V value) { V old = *address; *address = old + value; return old; }
"""

# What the header cannot model faithfully, found in a kernel's source: (pattern, what it is).
UNSUPPORTED = (
    (r"__shared__", "shared memory (__shared__)"),
    (r"__syncthreads\w*", "a block barrier (__syncthreads)"),
    (r"__syncwarp", "a warp barrier (__syncwarp)"),
    (r"__shfl\w*", "a warp shuffle (__shfl)"),
    (r"__(?:ballot|any|all|activemask|match)\w*", "a warp vote"),
    (r"\bwarpSize\b", "warpSize"),
    (r"\batomic(?!Add\b)\w+", "an atomic other than atomicAdd"),
    (r"__threadfence\w*", "a memory fence"),
    (r"\bcooperative_groups\b", "cooperative groups"),
)

_CTYPES = {"float": (ctypes.c_float, np.float32), "double": (ctypes.c_double, np.float64),
           "long long": (ctypes.c_longlong, np.int64), "int": (ctypes.c_int, np.int32),
           "unsigned int": (ctypes.c_uint, np.uint32), "bool": (ctypes.c_bool, np.bool_),
           "unsigned long long": (ctypes.c_ulonglong, np.uint64)}
_SIGNATURE = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_LOCK = threading.Lock()


class CannotRunOnCpu(RuntimeError):
    """The kernel uses a CUDA construct the CPU build does not model faithfully."""


def compiler():
    """The C++ compiler the build uses ($CXX, else c++ or g++ or clang++ on PATH), or None."""
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def unavailable_reason():
    """Why kernels cannot be built here (None: they can)."""
    return None if compiler() else "no C++ compiler (c++, g++ or clang++; or $CXX) on PATH to build the CUDA kernels for the CPU"


def cache_dir():
    root = os.environ.get("MICROGRAD_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "micrograd")
    return Path(root) / "cuda-cpu"


def _check_supported(source, name):
    for pattern, what in UNSUPPORTED:
        m = re.search(pattern, source)
        if m:
            raise CannotRunOnCpu(f"kernel {name} uses {what} ('{m.group(0)}'), which the CPU build of the CUDA "
                                 "kernels cannot model faithfully: it cannot run on the CPU build")


def _params(source, name):
    """The kernel's parameters as (C type text, ctypes type, NumPy dtype, is_pointer)."""
    typedefs = dict((alias, base) for base, alias in re.findall(r"typedef\s+([\w ]+?)\s+(\w+)\s*;", source))
    for m in _SIGNATURE.finditer(source):
        if m.group(1) == name:
            break
    else:
        raise ValueError(f"kernel {name}: no `extern \"C\" __global__ void {name}(...)` in its source")
    out = []
    for raw in m.group(2).split(","):
        decl = " ".join(raw.replace("*", " * ").split())
        words = decl.split()
        pointer = "*" in words
        base = " ".join(w for w in words[:-1] if w not in ("const", "*", "__restrict__"))
        base = typedefs.get(base, base)
        if base not in _CTYPES or words.count("*") > 1:
            raise CannotRunOnCpu(f"kernel {name}: parameter `{raw.strip()}` has a type the CPU build does not "
                                 f"pass ({base}{'*' if pointer else ''})")
        ctype_text = " ".join(words[:-1])
        out.append((ctype_text, _CTYPES[base][0], np.dtype(_CTYPES[base][1]), pointer))
    return out


def _launcher(name, params):
    unpack = ", ".join(f"*({t} *)args[{k}]" for k, (t, *_) in enumerate(params))
    return f"""
extern "C" void mg_cpu_launch(unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by,
                              unsigned int bz, unsigned long long first, unsigned long long last, void** args) {{
    gridDim.x = gx; gridDim.y = gy; gridDim.z = gz;
    blockDim.x = bx; blockDim.y = by; blockDim.z = bz;
    for (unsigned long long b = first; b < last; ++b) {{
        blockIdx.x = (unsigned int)(b % gx); blockIdx.y = (unsigned int)((b / gx) % gy);
        blockIdx.z = (unsigned int)(b / ((unsigned long long)gx * gy));
        for (unsigned int tz = 0; tz < bz; ++tz)
            for (unsigned int ty = 0; ty < by; ++ty)
                for (unsigned int tx = 0; tx < bx; ++tx) {{
                    threadIdx.x = tx; threadIdx.y = ty; threadIdx.z = tz;
                    {name}({unpack});
                }}
    }}
}}
"""


def _build(text):
    """The shared library built from C++ `text` (cached by its hash)."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError(unavailable_reason())
    flags = ["-O2", "-std=c++17", "-shared", "-fPIC", "-w"]
    key = hashlib.sha256("\0".join([cxx, *flags, text]).encode()).hexdigest()[:24]
    folder = cache_dir()
    lib = folder / f"k{key}.so"
    with _LOCK:
        if not lib.exists():
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder) as tmp:
                src = Path(tmp) / "k.cpp"
                src.write_text(text)
                res = subprocess.run([cxx, *flags, str(src), "-o", str(Path(tmp) / "k.so")], capture_output=True,
                                     text=True)
                if res.returncode != 0:
                    raise RuntimeError(f"the CPU build of a CUDA kernel failed ({cxx}):\n{res.stderr[-4000:]}")
                os.replace(Path(tmp) / "k.so", lib)  # atomic: a concurrent build never loads half a file
        return ctypes.CDLL(str(lib))


class Kernel:
    """One CUDA kernel built for the CPU. `kernel(grid, block, args)` launches it as cupy.RawKernel does."""

    def __init__(self, source, name):
        _check_supported(source, name)
        self.source, self.name = source, name
        self.params = _params(source, name)
        self._lib = _build(HEADER + source + _launcher(name, self.params))
        self._fn = self._lib.mg_cpu_launch
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_uint] * 6 + [ctypes.c_ulonglong] * 2 + [ctypes.c_void_p]

    def _pack(self, args):
        if len(args) != len(self.params):
            raise TypeError(f"kernel {self.name} takes {len(self.params)} arguments, got {len(args)}")
        held = []
        for k, (a, (text, ctype, dtype, pointer)) in enumerate(zip(args, self.params)):
            if pointer:
                if not isinstance(a, np.ndarray) or a.dtype != dtype:
                    raise TypeError(f"kernel {self.name}: argument {k} (`{text}`) needs an array of {dtype}, got "
                                    f"{type(a).__name__} {getattr(a, 'dtype', '')}")
                if not a.flags.c_contiguous:
                    raise TypeError(f"kernel {self.name}: argument {k} (`{text}`) is not C-contiguous")
                held.append(ctypes.c_void_p(a.ctypes.data))
            else:
                if not isinstance(a, np.generic) or np.dtype(type(a)) != dtype:
                    raise TypeError(f"kernel {self.name}: argument {k} (`{text}`) needs a NumPy {dtype} scalar, got "
                                    f"{type(a).__name__}")
                held.append(ctype(a.item()))
        pointers = (ctypes.c_void_p * max(len(held), 1))(*[ctypes.addressof(h) for h in held])
        return held, pointers

    def __call__(self, grid, block, args, blocks=None):
        """Run every thread of `grid` x `block` (tuples of up to 3), or only the blocks in range(*blocks) (blocks are
        numbered x fastest), with `args` as CuPy takes them: arrays for pointers, NumPy scalars of the declared
        type for values. A launch a CUDA device would refuse (CUDA's limits) is refused here too."""
        grid, block = (tuple(grid) + (1, 1))[:3], (tuple(block) + (1, 1))[:3]
        if (not all(isinstance(v, (int, np.integer)) and v >= 1 for v in grid + block)
                or block[0] > 1024 or block[1] > 1024 or block[2] > 64 or block[0] * block[1] * block[2] > 1024
                or grid[0] > 2**31 - 1 or grid[1] > 65535 or grid[2] > 65535):
            raise ValueError(f"kernel {self.name}: launch grid {grid} x block {block} is outside CUDA's limits "
                             "(block at most (1024, 1024, 64) and 1024 threads; grid at most (2**31-1, 65535, 65535))")
        nblocks = grid[0] * grid[1] * grid[2]
        first, last = (0, nblocks) if blocks is None else blocks
        held, pointers = self._pack(tuple(args))
        self._fn(*grid, *block, first, min(last, nblocks), pointers)
        del held


_KERNELS = {}


def kernel(source, name):
    """The CPU build of kernel `name` in CUDA C `source` (built once per process, and cached on disk)."""
    key = (source, name)
    k = _KERNELS.get(key)
    if k is None:
        k = _KERNELS[key] = Kernel(source, name)
    return k
