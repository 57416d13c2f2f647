"""Process settings for the benchmarks, the same for every contender: thread caps, applied before NumPy, Numba
and PyTorch start their pools (they read the environment once, at import), and the glibc heap padding that a
program opts into with micrograd.backends.heap.pad_heap()."""
import importlib.util
import os

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def cap(n):
    """Cap every pool at n threads (n > 0); 0 or None leaves the libraries' defaults."""
    if n:
        for var in VARIABLES:
            os.environ[var] = str(n)


def from_argv(argv, default=None):
    """The value of --threads N in argv (an int), or `default`."""
    if "--threads" in argv[:-1]:
        return int(argv[argv.index("--threads") + 1])
    return default


def pad_heap(pad):
    """Apply micrograd's heap padding to this process (`pad` bytes of slack; 0 leaves malloc alone), for whichever
    library runs in it: the setting is process-wide. backends/heap.py is loaded by its path, so that a process
    running the classic micrograd (whose package is also called `micrograd`) gets the same setting. Returns a
    description for the table's header."""
    os.environ["MICROGRAD_HEAP_PAD"] = str(pad)  # inherited by the workers' processes
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "backends", "heap.py")
    spec = importlib.util.spec_from_file_location("_benchmark_heap", path)
    heap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heap)
    if not heap.pad_heap():
        return "malloc's defaults (no heap padding)"
    return (f"glibc M_MMAP_THRESHOLD {heap.MMAP_THRESHOLD >> 20} MiB, M_TOP_PAD {pad / 2 ** 20:g} MiB in every "
            f"contender's process (micrograd.backends.heap.pad_heap)")
