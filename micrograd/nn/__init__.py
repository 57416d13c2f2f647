"""Neural networks: the Module base class, Parameter, layers, containers, losses, init and utils."""

from micrograd.nn import functional, init, parallel, utils
from micrograd.nn.module import Module
from micrograd.nn.modules import (GELU, LSTM, RNN, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss,
                                  Conv2d, CrossEntropyLoss, Dropout, Dropout1d, Dropout2d, Dropout3d, Embedding, Flatten, Identity, LayerNorm,
                                  Linear, LogSoftmax, MaxPool2d, ModuleDict, ModuleList, MSELoss,
                                  MultiheadAttention, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from micrograd.nn.modules import (GRU, Conv1d, ConvTranspose2d, GRUCell, HuberLoss, L1Loss, LSTMCell, RNNCell,
                                  SmoothL1Loss)
from micrograd.nn.modules.pointwise import (CELU, ELU, GLU, SELU, CosineSimilarity, Hardshrink, Hardsigmoid,
                                            Hardswish, Hardtanh, KLDivLoss, LeakyReLU, LogSigmoid, Mish,
                                            PairwiseDistance, PReLU, ReLU6, RMSNorm, SiLU, Softmin, Softplus,
                                            Softshrink, Softsign, Tanhshrink, Threshold)
from micrograd.nn.parameter import Parameter
from micrograd.nn.scalar import MLP, Layer, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP", "Parameter", "functional", "init", "utils", "GELU", "LSTM", "RNN",
           "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss", "BCEWithLogitsLoss", "Conv2d", "CrossEntropyLoss",
           "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Embedding", "Flatten", "Identity", "LayerNorm", "Linear", "LogSoftmax", "MaxPool2d",
           "ModuleDict", "ModuleList", "MSELoss", "MultiheadAttention", "NLLLoss", "ReLU", "Sequential", "Sigmoid",
           "Softmax", "Tanh", "GRU", "Conv1d", "ConvTranspose2d", "GRUCell", "HuberLoss", "L1Loss", "LSTMCell",
           "RNNCell", "SmoothL1Loss", "CELU", "ELU", "GLU", "SELU", "CosineSimilarity", "Hardshrink", "Hardsigmoid",
           "Hardswish", "Hardtanh", "KLDivLoss", "LeakyReLU", "LogSigmoid", "Mish", "PairwiseDistance", "PReLU",
           "ReLU6", "RMSNorm", "SiLU", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanhshrink", "Threshold"]
