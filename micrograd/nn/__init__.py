"""Neural networks: the Module base class and the models built on it."""

from micrograd.nn.module import Module
from micrograd.nn.scalar import MLP, Layer, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP"]
