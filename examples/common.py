"""What every example shares: the command line, MNIST, evaluation, progress bars, curves and the result line.

An example builds its parser with `parser(...)`, adds its own flags, and calls `setup(parser)`; it then
trains with `progress(...)` showing the running loss, records each epoch in a `History`, and finishes
with `finish(...)`, which draws the curves, writes the checkpoint and prints the last line:

    result: example=<name> backend=<backend> <metric>=<value> seconds=<seconds>
"""
import argparse
import math
import os
import time

import numpy as np
from matplotlib.figure import Figure  # drawn straight to a file: no pyplot, no display
from tqdm import tqdm

import micrograd as mg
from micrograd.data import load_mnist

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, unless it is None (the help text says what happens then)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def parser(doc, *, epochs, batch_size, lr, batch_help="examples per optimizer step",
           limit_help="a quick run: train on the first N training images and test on the first N test images",
           scalar=False):
    """An ArgumentParser with the flags every example takes, defaulting to values that reach its target.

    `scalar`: the example uses the scalar Value engine, which has no backends ("scalar" is the only one).
    """
    p = argparse.ArgumentParser(description=doc.split("\n")[0], formatter_class=_HelpWithDefaults)
    p.set_defaults(scalar=scalar)
    if scalar:
        p.add_argument("--backend", default="scalar", choices=["scalar"], help="the scalar engine has no backends")
    else:
        p.add_argument("--backend", default=None,
                       help="micrograd backend: numpy, numba or cupy (default: $MICROGRAD_BACKEND, else numpy)")
    p.add_argument("--epochs", type=int, default=epochs, help="passes over the training data")
    p.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    p.add_argument("--lr", type=float, default=lr, help="(peak) learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation, shuffling and dropout")
    p.add_argument("--limit", type=int, default=None, metavar="N", help=limit_help)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where the PNG of the curves and the checkpoint go (default: runs/<example>)")
    return p


def setup(p, name):
    """Parse the command line, select the backend, seed micrograd and create the output folder."""
    args = p.parse_args()
    if not args.scalar:
        if args.backend is not None:
            mg.set_backend(args.backend)
        args.backend = mg.get_backend()
    args.name = name
    args.out = args.out or os.path.join("runs", name)
    os.makedirs(args.out, exist_ok=True)
    mg.manual_seed(args.seed)
    args.start = time.perf_counter()
    return args


def mnist(limit=None):
    """MNIST as ((x_train, y_train), (x_test, y_test)): float32 images (N, 28, 28) standardised, int64 labels.

    With `limit`, the first `limit` training and the first `limit` test images (a quick run).
    """
    (x_train, y_train), (x_test, y_test) = load_mnist()
    if limit is not None:
        x_train, y_train, x_test, y_test = x_train[:limit], y_train[:limit], x_test[:limit], y_test[:limit]
    standardise = lambda x: (x - MNIST_MEAN) / MNIST_STD  # noqa: E731
    return (standardise(x_train), y_train), (standardise(x_test), y_test)


def evaluate(model, loader):
    """Mean cross-entropy and accuracy of a classifier over a DataLoader of (inputs, labels), in eval mode."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with mg.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += mg.nn.functional.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(axis=1) == y).sum().item())
            count += len(y)
    model.train()
    return total_loss / count, correct / count


def fit_classifier(args, model, optimizer, train_loader, test_loader, max_norm=None):
    """Train a classifier with cross-entropy for args.epochs under a cosine schedule; test after each epoch.

    Args:
        train_loader: a DataLoader, or a function epoch -> DataLoader (e.g. for fresh augmentation each epoch).
        max_norm: clip the gradients' total norm to this before each step (None: no clipping).
    Returns:
        the History of the run and the last test accuracy.
    """
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(f"{model}\nparameters: {sum(p.numel() for p in model.parameters()):,}; {args.backend} backend")
    history = History()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        loader = train_loader(epoch) if callable(train_loader) else train_loader
        bar = progress(loader, f"epoch {epoch}/{args.epochs}")
        for i, (x, y) in enumerate(bar):
            loss = mg.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            if max_norm is not None:
                mg.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
            optimizer.step()
            running_loss = history.step(epoch - 1 + (i + 1) / len(loader), loss.item())
            bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)
        scheduler.step()
        test_loss, test_accuracy = evaluate(model, test_loader)
        history.log(epoch, time.perf_counter() - start, test_loss=test_loss, test_accuracy=test_accuracy)
    return history, test_accuracy


def progress(iterable, desc, total=None):
    """A tqdm bar (on stderr) that vanishes when done; show the running loss with `bar.set_postfix`."""
    return tqdm(iterable, total=total, desc=desc, leave=False, mininterval=0.5, dynamic_ncols=True)


class History:
    """Per-step training loss and per-epoch metrics; `plot` draws them, `log` prints each epoch."""

    def __init__(self, smoothing=0.98):
        self.steps = []   # (epoch as a fraction, training loss)
        self.epochs = {}  # metric name -> [(epoch, value)]
        self.smoothing, self._average = smoothing, 0.0

    def step(self, epoch_fraction, loss):
        """Record one step's loss; returns the running loss (an exponential moving average, debiased)."""
        self.steps.append((epoch_fraction, loss))
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        return self._average / (1 - self.smoothing ** len(self.steps))

    def log(self, epoch, seconds=None, echo=True, **metrics):
        for key, value in metrics.items():
            self.epochs.setdefault(key, []).append((epoch, value))
        if not echo:
            return
        text = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        tqdm.write(f"epoch {epoch}: {text}" + ("" if seconds is None else f" ({seconds:.1f} s)"))

    def plot(self, path, title):
        """Losses on the left (training loss per step, per-epoch losses as points), other metrics on the right."""
        fig = Figure(figsize=(11, 4))
        left, right = fig.subplots(1, 2)
        if self.steps:
            x, y = zip(*self.steps)
            left.plot(x, y, lw=0.8, alpha=0.8, label="train loss (per step)")
        for key, points in self.epochs.items():
            x, y = zip(*points)
            axis = left if "loss" in key else right
            axis.plot(x, y, marker="o" if len(points) <= 30 else None, label=key.replace("_", " "))
        left.set_xlabel("epoch")
        left.set_ylabel("loss")
        right.set_xlabel("epoch")
        right.set_ylabel("bits per character" if any("bpc" in k for k in self.epochs) else "accuracy")
        for axis in (left, right):
            axis.grid(alpha=0.3)
            if axis.lines:
                axis.legend()
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)


def finish(args, history, model, optimizer=None, **metrics):
    """Plot the curves, checkpoint the model (and optimizer) in args.out, and print the result line.

    The checkpoint `<out>/<name>.npz` holds {"model": state_dict, "optimizer": state_dict}; reload the
    weights with `model.load_state_dict(mg.load(path)["model"])`.
    """
    history.plot(os.path.join(args.out, f"{args.name}.png"), f"{args.name} ({args.backend} backend)")
    state = {"model": model.state_dict()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    mg.save(state, os.path.join(args.out, f"{args.name}.npz"))
    seconds = time.perf_counter() - args.start
    values = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
    print(f"result: example={args.name} backend={args.backend} {values} seconds={seconds:.2f}", flush=True)


def bits(nats):
    """A loss in nats per symbol as bits per symbol."""
    return nats / math.log(2)


def random_shift(images, max_shift, rng):
    """Each image (N, ..., H, W) moved by up to `max_shift` pixels each way, the gap filled with background."""
    n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
    padded = np.pad(images, [(0, 0)] * (images.ndim - 2) + [(max_shift, max_shift)] * 2,
                    constant_values=images.min())
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    out = np.empty_like(images)
    for i in range(n):
        out[i] = padded[i, ..., dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out
