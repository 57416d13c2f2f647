"""A multilayer perceptron on MNIST: 784 -> 512 -> 512 -> 10 with ReLU and dropout, Adam, cosine schedule.

    python examples/mlp_mnist.py [--backend numpy] [--epochs 12] [--limit 2000] [--out runs/mlp_mnist]

Each 28x28 image is flattened to 784 pixels. Target: at least 98.0% test accuracy.
"""

import micrograd as mg
import micrograd.nn as nn
from micrograd.data import DataLoader

import common


class MLP(nn.Module):
    def __init__(self, sizes=(784, 512, 512, 10), dropout=0.2):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = self.dropout(layer(x).relu())
        return self.layers[-1](x)


def main():
    args = common.setup(common.parser(__doc__, epochs=12, batch_size=128, lr=1e-3), "mlp_mnist")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    train_loader = DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader((x_test, y_test), batch_size=1000)

    model = MLP()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    history, test_accuracy = common.fit_classifier(args, model, optimizer, train_loader, test_loader)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
