"""Every differentiable op of the engine (each a Function), grouped by kind, and the functions that apply them;
Tensor methods, mg.* functions and nn.functional call these.

    elementwise.py  unary maths, broadcasting arithmetic, comparisons, where, casts, backend transfers
    activation.py   tanh, sigmoid, relu and their fused gradients; erf
    reduce.py       sum, max/min, mean, var, argmax/argmin, logsumexp, softmax, log_softmax
    movement.py     reshape, permute, broadcast, indexing and its adjoint, concatenate, stack, unbind, pad
    linalg.py       matrix products
    linear.py       the Linear layer's op and its gradient op
    conv.py         im2col and col2im (conv2d's building blocks)
    pooling.py      max pooling with argmax indices
    loss.py         softmax cross-entropy and binary cross-entropy, fused
    rnn.py          an LSTM layer over a whole sequence
    util.py         argument normalisation and the one broadcast-gradient reduction
"""
from .elementwise import (Abs, Add, Cast, Clip, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, Sqrt, Sub,
                          ToBackend, Where, abs, binary, clip, compare, exp, log, maximum, minimum, sign, sqrt,
                          where)
from .activation import Erf, Relu, ReluGrad, Sigmoid, SigmoidGrad, Tanh, TanhGrad, erf, relu, sigmoid, tanh
from .linalg import MatMul, matmul
from .linear import Linear, LinearGrad
from .movement import (BroadcastTo, Concatenate, GetItem, IndexAdd, Pad, Permute, Reshape, Unbind, broadcast_to,
                       concatenate, flatten, getitem, index_add, pad, permute, reshape, squeeze, stack, transpose,
                       unsqueeze)
from .reduce import (Extremum, LogSoftmax, LogSumExp, Softmax, Sum, argmax, argmin, log_softmax, logsumexp, max,
                     mean, min, softmax, sum, var)
from .conv import Col2Im, Im2Col
from .pooling import MaxPool2d, MaxPoolGather, MaxPoolScatter, max_pool2d
from .loss import BinaryCrossEntropy, SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad, softmax_cross_entropy
from .rnn import LSTMLayer, lstm_layer
from .util import METHODS, PUBLIC
