"""A convolutional network on MNIST: two conv + max-pool blocks, then two linear layers; Adam, cosine schedule.

    python examples/cnn_mnist.py [--backend numpy] [--epochs 5] [--limit 2000] [--out runs/cnn_mnist]

conv 5x5 (1 -> 32) -> ReLU -> pool 2 -> conv 5x5 (32 -> 64) -> ReLU -> pool 2 -> 1024 -> 128 -> 10.
Target: at least 99.0% test accuracy.
"""

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
from micrograd.data import DataLoader

import common


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)   # 28x28 -> 24x24, pooled to 12x12
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)  # 12x12 -> 8x8, pooled to 4x4
        self.fc1 = nn.Linear(64 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x).relu(), 2)
        x = F.max_pool2d(self.conv2(x).relu(), 2)
        x = self.fc1(x.flatten(1)).relu()
        return self.fc2(x)


def main():
    args = common.setup(common.parser(__doc__, epochs=5, batch_size=128, lr=1e-3), "cnn_mnist")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    x_train, x_test = x_train[:, None], x_test[:, None]  # (N, 1, 28, 28): one channel
    train_loader = DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader((x_test, y_test), batch_size=100)

    model = CNN()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    history, test_accuracy = common.fit_classifier(args, model, optimizer, train_loader, test_loader)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
