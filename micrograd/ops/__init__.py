"""The differentiable ops, grouped by kind; Tensor methods and mg.* functions call these."""
from .elementwise import (Abs, Add, Cast, Clip, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, Relu, ReluGrad,
                          Sigmoid, SigmoidGrad, Sqrt, Sub, Tanh, TanhGrad, ToBackend, Where, abs, binary, clip,
                          compare, exp, log, maximum, minimum, relu, sigmoid, sqrt, tanh, where)
from .linalg import MatMul, matmul
from .movement import (BroadcastTo, Col2Im, Concatenate, GetItem, Im2Col, IndexAdd, Pad, Permute, Reshape,
                       broadcast_to, concatenate, flatten, getitem, index_add, pad, permute, reshape, squeeze,
                       stack, transpose, unsqueeze)
from .reduce import (Extremum, LogSoftmax, LogSumExp, Softmax, Sum, argmax, argmin, log_softmax, logsumexp, max,
                     mean, min, softmax, sum, var)
from .nn import (MaxPool2d, MaxPoolGather, MaxPoolScatter, SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad, max_pool2d,
                 softmax_cross_entropy)
