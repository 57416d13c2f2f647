"""The classic micrograd demo on the scalar engine: one neuron by hand, then an MLP on two moons.

Part 1 builds act(w . x + b) from Values for three activations and prints the gradients backward()
finds; the same expressions, their inputs seeded with tangents along a direction v, also carry the
directional derivative forward (dual numbers), and it prints that the two modes agree: tangent == grad . v.
Part 2 trains the classic MLP(2, [16, 16, 1]) with a max-margin (hinge) loss, L2 regularisation
and SGD with a decaying learning rate, exactly as the classic demo notebook does.

    python examples/neuron.py [--seed 1337] [--epochs 100] [--dot neuron.dot] [--out runs/neuron]

Every step (an "epoch") uses the whole data set unless --batch-size picks a random minibatch, as the
classic notebook's option does; --limit sets the number of points (default 100). The scalar engine has
no backends (--backend takes only "scalar"). Target: at least 97% training accuracy.
"""

import math
import random

import numpy as np

import micrograd as mg
from micrograd.engine import Value
from micrograd.nn import MLP

import common


def make_moons(n_samples, noise, rng):
    """Two interleaving half circles (as scikit-learn's make_moons); labels -1 and +1."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    X = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n_samples, 2))
    labels = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    order = rng.permutation(n_samples)
    return X[order], labels[order]


# The direction for forward mode, one tangent per input (x1, x2, w1, w2, b).
DIRECTION = (1.0, -1.0, 0.5, 2.0, -0.5)


def neuron_by_hand():
    """One neuron, inputs x1, x2, weights w1, w2 and bias b, under each activation; returns the last output.

    Reverse mode: backward() gives the gradient. Forward mode: the inputs' tangents (DIRECTION) ride along
    with the forward pass and give out.tangent, the derivative along DIRECTION, which must equal grad . v.
    """
    directional = []
    for name in ("relu", "sigmoid", "tanh"):
        x1, x2 = Value(2.0, tangent=DIRECTION[0]), Value(0.0, tangent=DIRECTION[1])
        w1, w2 = Value(-3.0, tangent=DIRECTION[2]), Value(1.0, tangent=DIRECTION[3])
        b = Value(6.8813735870195432, tangent=DIRECTION[4])
        n = x1 * w1 + x2 * w2 + b
        out = getattr(n, name)()
        out.backward()
        named = zip(("x1", "x2", "w1", "w2", "b"), (x1, x2, w1, w2, b))
        grads = ", ".join(f"d/d{k}={v.grad:+.4f}" for k, v in named)
        print(f"{name:>7}(w.x + b) = {out.data:.4f}   {grads}")
        grad_dot_v = sum(v.grad * d for v, d in zip((x1, x2, w1, w2, b), DIRECTION))
        directional.append((name, out.tangent, grad_dot_v))
    print(f"forward mode along v = (x1, x2, w1, w2, b) = {DIRECTION}:")
    for name, tangent, grad_dot_v in directional:
        agree = "agree" if math.isclose(tangent, grad_dot_v, rel_tol=1e-12, abs_tol=1e-15) else "DISAGREE"
        print(f"{name:>7}: tangent = {tangent:+.4f}   grad . v = {grad_dot_v:+.4f}   {agree}")
    return out


def loss(model, X, y, batch_size=None, alpha=1e-4):
    """Mean hinge loss plus alpha * L2 of the parameters, and the accuracy, over the set or a random batch."""
    if batch_size is not None:
        rows = np.random.permutation(len(X))[:batch_size]
        X, y = X[rows], y[rows]
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    accuracy = [(yi > 0) == (si.data > 0) for yi, si in zip(y, scores)]
    return data_loss + reg_loss, sum(accuracy) / len(accuracy)


def main():
    p = common.parser(__doc__, epochs=100, batch_size=None, lr=1.0, limit_help="number of two-moons points",
                      batch_help="points per step, drawn at random (default: all of them)", scalar=True)
    p.set_defaults(seed=1337, limit=100)
    p.add_argument("--steps", type=common.at_least(1), dest="epochs",
                   help="the same as --epochs (the classic demo's word)")
    p.add_argument("--dot", metavar="FILE", help="write the graph of the tanh neuron as Graphviz DOT")
    args = common.setup(p, "neuron")

    print("Part 1: one neuron, act(w1*x1 + w2*x2 + b)")
    out = neuron_by_hand()
    if args.dot:
        with open(args.dot, "w") as f:
            f.write(mg.to_dot(out))
        print(f"wrote the tanh neuron's graph to {args.dot} (render: dot -Tsvg {args.dot} -o neuron.svg)")

    print("Part 2: MLP(2, [16, 16, 1]) on two moons, hinge loss, SGD")
    random.seed(args.seed)
    np.random.seed(args.seed)
    X, y = make_moons(args.limit, noise=0.1, rng=np.random.default_rng(args.seed))
    model = MLP(2, [16, 16, 1])
    print(f"{model}\nnumber of parameters: {len(model.parameters())}")
    history = common.History()
    bar = common.progress(range(args.epochs), "training")
    for k in bar:
        total_loss, accuracy = loss(model, X, y, args.batch_size)
        model.zero_grad()
        total_loss.backward()
        learning_rate = args.lr * (1.0 - 0.9 * k / args.epochs)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        bar.set_postfix(loss=f"{total_loss.data:.4f}", refresh=False)
        history.step(k + 1, total_loss.data)
        history.log(k + 1, echo=False, train_accuracy=accuracy)
        if k % 10 == 0 or k == args.epochs - 1:
            bar.write(f"step {k:3d} loss {total_loss.data:.4f} accuracy {accuracy:.0%}")
    _, accuracy = loss(model, X, y)
    common.finish(args, history, model, train_accuracy=accuracy)


if __name__ == "__main__":
    main()
