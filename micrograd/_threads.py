"""Thread caps for processes that share a host under an MPI launcher: run before NumPy (and its BLAS) loads.

Each rank's BLAS, OpenMP and Numba would otherwise start one thread per core, and the ranks of one host would fight
over the cores (a small model's step measured 25-35 times slower). Under a launcher that announces the local
process count (MPICH/hydra's MPI_LOCALNRANKS, Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE, PMIx's PMIX_LOCAL_SIZE), each
variable the user has not set becomes cores // local processes (at least 1). Imports nothing but os.
"""
import os

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
LOCAL_SIZE = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "PMIX_LOCAL_SIZE")


def cap_threads_per_rank(environ=os.environ, cores=None):
    """Set the thread variables for a rank of a launched job; returns the cap applied (None: not launched)."""
    local = next((int(environ[n]) for n in LOCAL_SIZE if environ.get(n, "").isdigit()), None)
    if not local or local < 2:
        return None
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = max(1, cores // local)
    for name in VARIABLES:
        environ.setdefault(name, str(cap))
    return cap
