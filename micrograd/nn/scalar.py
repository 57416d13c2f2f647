"""The classic micrograd networks over Values: Neuron, Layer, MLP."""

import random

from micrograd.engine import Value
from micrograd.nn.module import Module, _join


class Neuron(Module):
    """One neuron: relu(w . x + b), or w . x + b when `nonlin` is False; w drawn from U(-1, 1), b = 0."""

    def __init__(self, nin, nonlin=True):
        super().__init__()
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def forward(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self, recurse=True):
        return self.w + [self.b]

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        for i, wi in enumerate(self.w):
            yield _join(prefix, f"w.{i}"), wi
        yield _join(prefix, "b"), self.b

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same inputs; returns a list of Values (one Value when nout is 1)."""

    def __init__(self, nin, nout, **kwargs):
        super().__init__()
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def forward(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self, recurse=True):
        return [p for n in self.neurons for p in n.parameters()]

    def named_children(self):
        for i, n in enumerate(self.neurons):
            yield f"neurons.{i}", n

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: `nin` inputs, then one Layer per entry of `nouts`, linear at the end."""

    def __init__(self, nin, nouts):
        super().__init__()
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self, recurse=True):
        return [p for layer in self.layers for p in layer.parameters()]

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield f"layers.{i}", layer

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"

