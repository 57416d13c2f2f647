"""micrograd: a small, fast, correct automatic-differentiation engine (scalar Value and n-d Tensor).

The top-level namespace follows PyTorch (`import micrograd as torch`); `micrograd.numpy` follows the Array API
standard.
"""
from ._threads import cap_threads_per_rank

cap_threads_per_rank()  # under mpiexec, before NumPy's BLAS starts its threads (micrograd.distributed)
from .autograd import (Function, detect_anomaly, enable_grad, grad, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled)
from .backend import available_backends, get_backend, set_backend, synchronize, use_backend
from .dtypes import (bfloat16, bool_, can_cast, float16, float32, float64, get_default_dtype, int8, int16, int32,
                     int64, promote_types, result_type, set_default_dtype, uint8, uint16, uint32, uint64)
from .devices import device
from .engine import Value
from .errors import RuntimeTypeError, RuntimeValueError
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .factories import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor,
                        ShortTensor, arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full,
                        full_like, linspace, logspace, ones, ones_like, rand, rand_like, randint, randint_like, randn,
                        randn_like, randperm, sparse_coo_tensor, tensor, zeros, zeros_like)
from .tensor import Tensor
from . import ops
globals().update(ops.PUBLIC)  # each op's function: mg.exp, mg.sum, mg.cat, ... (registered with ops.util.export)
from .operators import inplace_functions
globals().update(inplace_functions())  # mg.relu_(t), mg.zero_(t), ... as PyTorch's
from .viz import to_dot
from .io import load, save
from . import accelerator, cuda, nn, optim  # noqa: E402  (built on everything above)
from . import linalg  # noqa: E402  (torch.linalg over the ops)
from . import utils  # noqa: E402  (utils.data builds on tensors, ops and random)
from . import func  # noqa: E402  (transforms over everything above)
from . import distributed  # noqa: E402  (torch.distributed; mpi4py is imported only by init_process_group)

__version__ = "0.2.0"

# PyTorch's dtype aliases. They shadow builtins only as attributes (mg.float, mg.int, mg.bool), which is why
# they come last here and `from micrograd import *` leaves them out.
dtype = type(float32)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001
__all__ = [n for n in dir() if not n.startswith("_") and n not in ("float", "int", "bool", "dtype")]
