"""An LSTM reads each MNIST image row by row (28 steps of 28 pixels) and classifies it from its last state.

    python examples/lstm_mnist.py [--backend numpy] [--epochs 6] [--limit 2000] [--out runs/lstm_mnist]

LSTM(28 -> 128 hidden) -> the final hidden state -> Linear(128 -> 10); Adam with a cosine schedule and
gradient-norm clipping. Target: at least 97% test accuracy.
"""
import time

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
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
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; training on {len(x_train):,} "
          f"images, {args.backend} backend")

    history = common.History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        bar = common.progress(train_loader, f"epoch {epoch}/{args.epochs}")
        for i, (x, y) in enumerate(bar):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            running_loss = history.step(epoch - 1 + (i + 1) / len(train_loader), loss.item())
            bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)
        scheduler.step()
        test_loss, test_accuracy = common.evaluate(model, test_loader)
        history.log(epoch, time.perf_counter() - start, test_loss=test_loss, test_accuracy=test_accuracy)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
