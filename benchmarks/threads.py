"""Thread caps for the benchmarks, applied before NumPy, Numba and PyTorch start their pools (they read the
environment once, at import)."""
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
