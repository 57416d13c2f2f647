"""The tensor layers, containers and loss modules, re-exported by micrograd.nn."""
from .activation import GELU, Dropout, Dropout1d, Dropout2d, Dropout3d, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .flatten import Flatten
from .linear import Identity, Linear
from .pooling import AvgPool2d, MaxPool2d
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .sparse import Embedding
from .pointwise import (CELU, ELU, GLU, SELU, CosineSimilarity, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                        KLDivLoss, LeakyReLU, LogSigmoid, Mish, PairwiseDistance, PReLU, ReLU6, RMSNorm, SiLU, Softmin,
                        Softplus, Softshrink, Softsign, Tanhshrink, Threshold)

__all__ = ["GELU", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh", "MultiheadAttention", "ModuleDict",
           "ModuleList", "Sequential", "AvgPool2d", "Conv2d", "Flatten", "Identity", "Linear", "MaxPool2d", "BCELoss",
           "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
           "LSTM", "RNN", "Embedding", "Conv1d", "ConvTranspose2d", "HuberLoss", "L1Loss", "SmoothL1Loss", "GRU",
           "GRUCell", "LSTMCell", "RNNCell", "CELU", "ELU", "GLU", "SELU", "CosineSimilarity", "Hardshrink",
           "Hardsigmoid", "Hardswish", "Hardtanh", "KLDivLoss", "LeakyReLU", "LogSigmoid", "Mish", "PairwiseDistance",
           "PReLU", "ReLU6", "RMSNorm", "SiLU", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanhshrink",
           "Threshold"]
