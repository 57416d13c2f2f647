"""An LSTM reads each MNIST image row by row (28 steps of 28 pixels) and classifies it from its last state.

    python examples/lstm_mnist.py [--backend numpy] [--epochs 6] [--limit 2000] [--out runs/lstm_mnist]

LSTM(28 -> 128 hidden) -> the final hidden state -> Linear(128 -> 10); Adam with a cosine schedule and
gradient-norm clipping. Target: at least 97% test accuracy.
"""

import micrograd as mg
import micrograd.nn as nn
from micrograd.data import DataLoader

import common


class RowLSTM(nn.Module):
    def __init__(self, hidden_size=128):
        super().__init__()
        self.lstm = nn.LSTM(input_size=28, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 10)

    def forward(self, images):
        _, (h, _) = self.lstm(images)  # images (N, 28 rows, 28 pixels); h (1, N, hidden)
        return self.head(h[-1])


def main():
    args = common.setup(common.parser(__doc__, epochs=6, batch_size=128, lr=2e-3), "lstm_mnist")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    train_loader = DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader((x_test, y_test), batch_size=500)

    model = RowLSTM()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    history, test_accuracy = common.fit_classifier(args, model, optimizer, train_loader, test_loader, max_norm=1.0)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
