"""An LSTM reads each MNIST image row by row (28 steps of 28 pixels) and classifies it from its last state.

    python examples/lstm_mnist.py [--backend numpy] [--epochs 6] [--limit 2000] [--out runs/lstm_mnist]

LSTM(28 -> 128 hidden) -> the final hidden state -> Linear(128 -> 10); Adam with a cosine schedule and
gradient-norm clipping. Target: at least 97% test accuracy.
"""

import time

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
from micrograd.utils.data import DataLoader, TensorDataset

import common


class RowLSTM(nn.Module):
    def __init__(self, hidden_size=128):
        super().__init__()
        self.lstm = nn.LSTM(input_size=28, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 10)

    def forward(self, images):
        _, (h, _) = self.lstm(images)  # images (N, 28 rows, 28 pixels); h (1, N, hidden)
        return self.head(h[-1])


def train(args, model, loader, optimizer, epoch, history):
    """One pass over the training images: forward, loss, backward, step for each batch."""
    model.train()
    bar = common.progress(loader, f"epoch {epoch}/{args.epochs}")
    for i, (x, y) in enumerate(bar):
        loss = F.cross_entropy(model(x), y)  # forward pass and loss
        optimizer.zero_grad()                # clear the previous step's gradients
        loss.backward()                      # backpropagation: d loss / d parameter, into each .grad
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # tames exploding gradients
        optimizer.step()                     # update the parameters from their gradients
        running_loss = history.step(epoch - 1 + (i + 1) / len(loader), loss.item())
        bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)


def evaluate(model, loader):
    """Mean cross-entropy and accuracy over the test images."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with mg.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y).sum().item())
            count += len(y)
    return total_loss / count, correct / count


def main():
    args = common.setup(common.parser(__doc__, epochs=6, batch_size=128, lr=2e-3), "lstm_mnist")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    train_set = TensorDataset(mg.as_tensor(x_train), mg.as_tensor(y_train))
    test_set = TensorDataset(mg.as_tensor(x_test), mg.as_tensor(y_test))
    # Shuffled on a generator of its own: the order does not depend on how many numbers initialisation drew.
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=mg.Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_set, batch_size=500)

    model = RowLSTM()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {args.backend} backend")

    history = common.History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train(args, model, train_loader, optimizer, epoch, history)
        scheduler.step()
        test_loss, test_accuracy = evaluate(model, test_loader)
        history.log(epoch, time.perf_counter() - start, test_loss=test_loss, test_accuracy=test_accuracy)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
