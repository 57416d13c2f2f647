"""Module basics through the classic scalar networks: registration, traversal, modes, zero_grad, training."""

import random

import pytest

import micrograd as mg
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron


class _FakeParameter:
    """Stands in for nn.Parameter: Module recognises parameters by this class attribute."""

    _is_parameter = True

    def __init__(self):
        self.grad = "stale"


class Wrapper(Module):
    def __init__(self, mlp):
        super().__init__()
        self.body = mlp
        self.scale = 2.0

    def forward(self, x):
        return self.body(x) * self.scale


def test_mlp_parameters_are_a_list_of_values_in_classic_order():
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert isinstance(params, list) and len(params) == 337
    assert all(type(p) is Value for p in params)
    first = model.layers[0].neurons[0]
    assert params[:3] == first.w + [first.b]
    assert params[-1] is model.layers[-1].neurons[-1].b
    assert len({id(p) for p in params}) == 337


def test_neuron_init_and_nonlinearity():
    random.seed(1)
    n = Neuron(3)
    assert all(-1 <= w.data <= 1 for w in n.w) and n.b.data == 0.0
    assert len({w.data for w in n.w}) == 3
    x = [1.0, -2.0, 0.5]
    act = sum(wi.data * xi for wi, xi in zip(n.w, x))
    assert n(x).data == pytest.approx(max(act, 0.0))
    assert Neuron(3, nonlin=False)(x)._op != "ReLU"


def test_layer_returns_one_value_for_one_neuron():
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    out = Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_reprs_like_classic():
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(MLP(2, [2, 1])) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    )


def test_zero_grad_resets_every_value_grad():
    model = MLP(2, [4, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 and type(p.grad) is float for p in model.parameters())


def test_submodule_assignment_registers_it_and_its_parameters():
    mlp = MLP(2, [3, 1])
    w = Wrapper(mlp)
    assert list(w.children()) == [mlp]
    assert "body" in w._modules and "body" not in w.__dict__
    assert w.body is mlp
    assert w.parameters() == mlp.parameters()
    names = [name for name, _ in w.named_parameters()]
    first = "body.layers.0.neurons.0"
    assert names[:3] == [f"{first}.w.0", f"{first}.w.1", f"{first}.b"]
    assert len(names) == 13 and len(set(names)) == 13
    assert [name for name, _ in w.named_modules()][:3] == ["", "body", "body.layers.0"]
    assert w([1.0, 2.0]).data == pytest.approx(2 * mlp([1.0, 2.0]).data)


def test_shared_submodule_parameters_come_once():
    mlp = MLP(2, [3, 1])
    w = Wrapper(mlp)
    w.twin = mlp
    assert len(w.parameters()) == len(mlp.parameters()) == 13
    assert list(w.children()) == [mlp]


def test_reassigning_and_deleting_submodules():
    w = Wrapper(MLP(2, [1]))
    with pytest.raises(TypeError, match="submodule 'body'"):
        w.body = 3
    w.body = None
    assert w.parameters() == [] and list(w.children()) == []
    del w.body
    with pytest.raises(AttributeError, match="'Wrapper' object has no attribute 'body'"):
        w.body


def test_parameter_registration_and_zero_grad_to_none():
    m = Module()
    p = _FakeParameter()
    m.weight = p
    assert m._parameters == {"weight": p} and "weight" not in m.__dict__
    assert m.weight is p and m.parameters() == [p]
    m.register_parameter("bias", None)
    assert m.bias is None and m.parameters() == [p]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = 1.0
    with pytest.raises(TypeError, match="must be a Parameter or None"):
        m.register_parameter("other", 1.0)
    with pytest.raises(KeyError, match="contain no '.'"):
        m.register_parameter("a.b", None)
    m.zero_grad()
    assert p.grad is None


def test_buffers_are_registered_but_are_not_parameters():
    m = Module()
    m.register_buffer("running_mean", mg.zeros(3))
    m.register_buffer("scratch", mg.ones(2), persistent=False)
    assert m.parameters() == []
    assert [name for name, _ in m.named_buffers()] == ["running_mean", "scratch"]
    assert m.running_mean.shape == (3,)
    with pytest.raises(TypeError, match="must be a Tensor or None"):
        m.register_buffer("bad", [0.0])
    outer = Module()
    outer.inner = m
    assert [name for name, _ in outer.named_buffers()] == ["inner.running_mean", "inner.scratch"]


def test_train_and_eval_reach_every_module():
    w = Wrapper(MLP(2, [2, 1]))
    assert w.training
    assert w.eval() is w
    assert not any(m.training for m in w.modules())
    assert len(list(w.modules())) == 1 + 1 + 2 + 3
    w.train()
    assert all(m.training for m in w.modules())
    with pytest.raises(ValueError, match="mode must be a bool"):
        w.train("no")


def test_forward_must_be_defined():
    class Bare(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"^Bare\.forward: not implemented"):
        Bare()(1.0)


def test_classic_style_subclass_without_super_init():
    class Classic(Module):
        def __init__(self):
            self.inner = Neuron(2)

        def forward(self, x):
            return self.inner(x)

    m = Classic()
    assert m.parameters() == m.inner.parameters() and len(m.parameters()) == 3


def test_repr_indents_submodules_and_shows_extra_repr():
    class Leaf(Module):
        def extra_repr(self):
            return "size=3"

    class Tree(Module):
        def __init__(self):
            super().__init__()
            self.a = Leaf()
            self.b = Module()

    outer = Module()
    outer.tree = Tree()
    assert repr(Leaf()) == "Leaf(size=3)"
    assert repr(outer) == "Module(\n  (tree): Tree(\n    (a): Leaf(size=3)\n    (b): Module()\n  )\n)"


def test_apply_visits_children_then_self():
    w = Wrapper(MLP(2, [1]))
    seen = []
    w.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Neuron", "Layer", "MLP", "Wrapper"]


def _hinge_loss(model, xs, ys):
    scores = [model(x) for x in xs]
    losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
    return sum(losses) * (1.0 / len(losses))


def test_training_reduces_the_loss():
    random.seed(3)
    xs = [[random.uniform(-1, 1), random.uniform(-1, 1)] for _ in range(30)]
    ys = [1 if x0 * x1 > 0 else -1 for x0, x1 in xs]
    model = MLP(2, [8, 8, 1])
    first = _hinge_loss(model, xs, ys).data
    for _ in range(60):
        loss = _hinge_loss(model, xs, ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    last = _hinge_loss(model, xs, ys).data
    assert last < 0.6 * first
