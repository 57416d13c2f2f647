"""Every differentiable op of the engine (each a Function), grouped by kind, and the functions that apply them;
Tensor methods, mg.* functions and nn.functional call these.

    elementwise.py  unary maths, comparisons, where, casts, backend transfers
    arithmetic.py   + - * / ** // %, maximum/minimum, bitwise operators, and PyTorch's type promotion
    activation.py   tanh, sigmoid, relu and their fused gradients; erf
    maths.py        trigonometric, hyperbolic, logarithms, rounding, sign, predicates, logical functions,
                    comparisons as functions, atan2/hypot/logaddexp/copysign/fmod
    reduce.py       sum, max/min, mean, var, argmax/argmin, logsumexp, softmax, log_softmax
    movement.py     the Functions that move data: reshape, permute, broadcast, indexing and its adjoint,
                    concatenate, split, diagonal, pad, clone
    shape.py        PyTorch's shape functions over them: reshape/view, transpose, (un)squeeze, expand, cat/stack,
                    split/chunk, narrow/select/diagonal, clone
    indexing.py     nonzero, masked_fill
    ordering.py     sort/argsort/topk/kthvalue, gather/scatter/index_select/take, tril/triu, flip/roll/rot90
    cumulative.py   prod, cumsum/cumprod/logcumsumexp/cummax/cummin, the vector norms
    sampling.py     multinomial, normal, bernoulli, poisson, the in-place random fills; histc/histogram/bincount
    linalg.py       matrix products: matmul, mm/bmm/mv/dot/outer, tensordot, einsum
    decomp.py       decompositions and solves: Cholesky, Inv, Solve, Slogdet, Eigh, Svd, Qr, Pinv (micrograd.linalg)
    linear.py       the Linear layer's op and its gradient op
    conv.py         im2col and col2im (conv2d's building blocks)
    pooling.py      max pooling with argmax indices
    loss.py         softmax cross-entropy and binary cross-entropy, fused
    norm.py         batch normalisation's affine map, fused (its maths: nn.functional's composite)
    rnn.py          an LSTM layer over a whole sequence
    util.py         argument normalisation and the one broadcast-gradient reduction
"""

from .elementwise import *  # noqa: F401,F403  (each module's __all__)
from .arithmetic import *  # noqa: F401,F403  (each module's __all__)
from .activation import *  # noqa: F401,F403  (each module's __all__)
from .linalg import *  # noqa: F401,F403  (each module's __all__)
from .decomp import *  # noqa: F401,F403  (each module's __all__)
from .linear import *  # noqa: F401,F403  (each module's __all__)
from .movement import *  # noqa: F401,F403  (each module's __all__)
from .shape import *  # noqa: F401,F403  (each module's __all__)
from .reduce import *  # noqa: F401,F403  (each module's __all__)
from .conv import *  # noqa: F401,F403  (each module's __all__)
from .pooling import *  # noqa: F401,F403  (each module's __all__)
from .loss import *  # noqa: F401,F403  (each module's __all__)
from .rnn import *  # noqa: F401,F403  (each module's __all__)
from .norm import *  # noqa: F401,F403  (each module's __all__)
from .attention import *  # noqa: F401,F403  (each module's __all__)
from .indexing import *  # noqa: F401,F403  (each module's __all__)
from .inplace import *  # noqa: F401,F403  (each module's __all__)
from .maths import *  # noqa: F401,F403  (each module's __all__)
from .ordering import *  # noqa: F401,F403  (each module's __all__)
from .cumulative import *  # noqa: F401,F403  (each module's __all__)
from .sampling import *  # noqa: F401,F403  (each module's __all__)
from .util import INPLACE, METHODS, PUBLIC  # noqa: F401
