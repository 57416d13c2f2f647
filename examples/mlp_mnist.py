"""A multilayer perceptron on MNIST: 784 -> 512 -> 512 -> 10 with ReLU and dropout, Adam, cosine schedule.

    python examples/mlp_mnist.py [--backend numpy] [--epochs 12] [--limit 2000] [--out runs/mlp_mnist]
    mpiexec -n 2 python -m mpi4py examples/mlp_mnist.py --distributed   (data-parallel: pip install -e ".[mpich]")

Each 28x28 image is flattened to 784 pixels. Target: at least 98.0% test accuracy.
"""

import time

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
from micrograd.utils.data import DataLoader, TensorDataset

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


def train(args, model, loader, optimizer, epoch, history):
    """One pass over the training images: forward, loss, backward, step for each batch."""
    model.train()
    bar = common.progress(loader, f"epoch {epoch}/{args.epochs}")
    for i, (x, y) in enumerate(bar):
        loss = F.cross_entropy(model(x), y)  # forward pass and loss
        optimizer.zero_grad()                # clear the previous step's gradients
        loss.backward()                      # backpropagation: d loss / d parameter, into each .grad
        optimizer.step()                     # update the parameters from their gradients
        running_loss = history.step(epoch - 1 + (i + 1) / len(loader), loss.item())
        bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)


def evaluate(model, loader):
    """Mean cross-entropy and accuracy over the test images."""
    model.eval()  # dropout off
    total_loss, correct, count = 0.0, 0, 0
    with mg.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y).sum().item())
            count += len(y)
    return total_loss / count, correct / count


def main():
    args = common.setup(common.parser(__doc__, epochs=12, batch_size=128, lr=1e-3, distributed=True), "mlp_mnist")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    train_set = TensorDataset(mg.as_tensor(x_train), mg.as_tensor(y_train))
    test_set = TensorDataset(mg.as_tensor(x_test), mg.as_tensor(y_test))
    train_loader = common.train_loader(args, train_set)  # with --distributed: this rank's shard
    test_loader = DataLoader(test_set, batch_size=1000)

    model = common.wrap(args, MLP())  # with --distributed: gradients averaged across the ranks
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.rank == 0:
        print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {args.backend} backend")

    history = common.History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        common.set_epoch(train_loader, epoch)
        train(args, model, train_loader, optimizer, epoch, history)
        scheduler.step()
        test_loss, test_accuracy = evaluate(model, test_loader)
        history.log(epoch, time.perf_counter() - start, test_loss=test_loss, test_accuracy=test_accuracy)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
