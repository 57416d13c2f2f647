"""Optimizers (SGD, Adam, AdamW, Adadelta, Adagrad, RMSprop, LBFGS) and learning-rate schedules, with PyTorch's
names and update rules."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "RMSprop", "LBFGS", "lr_scheduler"]
