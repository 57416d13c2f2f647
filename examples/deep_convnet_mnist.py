"""A deeper ConvNet on MNIST: four 3x3 conv layers with BatchNorm, dropout, random shifts, Adam + cosine schedule.

    python examples/deep_convnet_mnist.py [--backend numpy] [--epochs 8] [--limit 2000] [--out DIR]

[conv 3x3 -> BatchNorm -> ReLU] x2 -> max-pool -> [conv 3x3 -> BatchNorm -> ReLU] x2 -> max-pool ->
dropout -> 1024 -> 256 (BatchNorm, ReLU, dropout) -> 10. Every epoch sees all 60,000 training images,
each shifted by up to 2 pixels. Target: at least 99.4% test accuracy.
"""

import time

import numpy as np

import micrograd as mg
import micrograd.nn as nn
import micrograd.nn.functional as F
from micrograd.utils.data import DataLoader, TensorDataset

import common


def conv_block(in_channels, out_channels):
    # No conv bias: BatchNorm's shift replaces it.
    return [nn.Conv2d(in_channels, out_channels, kernel_size=3, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU()]


class ConvNet(nn.Module):
    def __init__(self, channels=(32, 32, 64, 64), hidden=256, dropout=0.25):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.features = nn.Sequential(
            *conv_block(1, c1), *conv_block(c1, c2), nn.MaxPool2d(2),   # 28 -> 26 -> 24 -> 12
            *conv_block(c2, c3), *conv_block(c3, c4), nn.MaxPool2d(2),  # 12 -> 10 -> 8 -> 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(c4 * 4 * 4, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


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
    model.eval()  # dropout off; BatchNorm uses its running statistics
    total_loss, correct, count = 0.0, 0, 0
    with mg.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y).sum().item())
            count += len(y)
    return total_loss / count, correct / count


def main():
    p = common.parser(__doc__, epochs=8, batch_size=128, lr=1e-3)
    p.add_argument("--shift", type=common.at_least(0), default=2, help="random shift augmentation, in pixels (0: none)")
    args = common.setup(p, "deep_convnet_mnist")
    # Every step takes a full batch (drop_last below), of at least two images for BatchNorm to normalise over.
    if args.batch_size < 2:
        p.error(f"argument --batch-size: must be at least 2 (BatchNorm normalises over the batch); "
                f"got {args.batch_size}")
    if args.limit is not None and args.limit < args.batch_size:
        p.error(f"argument --limit: must be at least the --batch-size ({args.batch_size}): every step takes a "
                f"full batch; got {args.limit}")
    (x_train, y_train), (x_test, y_test) = common.mnist(args.limit)
    if len(x_train) < args.batch_size:
        p.error(f"argument --batch-size: must be at most the {len(x_train)} training images; got {args.batch_size}")
    x_train, x_test = x_train[:, None], x_test[:, None]
    test_loader = DataLoader(TensorDataset(mg.as_tensor(x_test), mg.as_tensor(y_test)), batch_size=100)
    rng = np.random.default_rng(args.seed)

    model = ConvNet()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)

    def shifted_loader(epoch):
        shifted = common.random_shift(x_train, args.shift, rng) if args.shift else x_train
        # drop_last: a last batch of one image would leave BatchNorm nothing to normalise over.
        return DataLoader(TensorDataset(mg.as_tensor(shifted), mg.as_tensor(y_train)), batch_size=args.batch_size,
                          shuffle=True, generator=mg.Generator().manual_seed(args.seed + epoch), drop_last=True)

    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {args.backend} backend")

    history = common.History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train(args, model, shifted_loader(epoch), optimizer, epoch, history)
        scheduler.step()
        test_loss, test_accuracy = evaluate(model, test_loader)
        history.log(epoch, time.perf_counter() - start, test_loss=test_loss, test_accuracy=test_accuracy)

    common.finish(args, history, model, optimizer, test_accuracy=test_accuracy)


if __name__ == "__main__":
    main()
