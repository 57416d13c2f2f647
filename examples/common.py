"""What every example shares: the command line, data loading, progress bars, curves, checkpoint and result line.

The training itself (forward, loss, backward, step) and the evaluation live in each example, in plain sight.
An example builds its parser with `parser(...)`, adds its own flags (bounded with `at_least`), and calls
`setup(parser, name)`; it wraps each epoch's batches in `progress(...)` to show the running loss, records
the steps and epochs in a `History`, and ends with `finish(...)`, which draws the curves, writes the
checkpoint and prints the last line:

    result: example=<name> backend=<backend> <metric>=<value> seconds=<seconds>

With `--distributed` (examples that offer it), run under MPI, e.g. `mpiexec -n 2 python -m mpi4py
examples/mlp_mnist.py --distributed`: `setup` joins the process group, `train_loader` gives each rank its shard
(DistributedSampler) at batch-size / world images per step, so the global batch and the schedule stay those of one
process, `wrap` makes the model a DistributedDataParallel, and only rank 0 shows progress and writes the results.
"""
import argparse
import math
import os
import time

import numpy as np
from matplotlib.figure import Figure  # drawn straight to a file: no pyplot, no display
from tqdm import tqdm

import micrograd as mg
from micrograd.backends import heap
from micrograd.data import load_mnist

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, unless it is None (the help text says what happens then)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def at_least(minimum):
    """An argparse type: an int no smaller than `minimum`; anything else is a usage error naming the minimum."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value
    return parse


def parser(doc, *, epochs, batch_size, lr, batch_help="examples per optimizer step",
           limit_help="a quick run: train on the first N training images and test on the first N test images",
           scalar=False, distributed=False):
    """An ArgumentParser with the flags every example takes, defaulting to values that reach its target.

    `scalar`: the example uses the scalar Value engine, which has no backends ("scalar" is the only one).
    `distributed`: the example offers --distributed (data-parallel training under mpiexec).
    """
    p = argparse.ArgumentParser(description=doc.split("\n")[0], formatter_class=_HelpWithDefaults)
    p.set_defaults(scalar=scalar, distributed=False)
    if distributed:
        p.add_argument("--distributed", action="store_true",
                       help="data-parallel training over the processes mpiexec started (each rank trains on its "
                            "shard with batch-size / world images per step; gradients averaged across ranks)")
    if scalar:
        p.add_argument("--backend", default="scalar", choices=["scalar"], help="the scalar engine has no backends")
    else:
        p.add_argument("--backend", default=None,
                       help="micrograd backend: numpy, numba or cupy (default: $MICROGRAD_BACKEND, else numpy)")
    p.add_argument("--epochs", type=at_least(1), default=epochs, help="passes over the training data")
    p.add_argument("--batch-size", type=at_least(1), default=batch_size, help=batch_help)
    p.add_argument("--lr", type=float, default=lr, help="(peak) learning rate")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed for initialisation, shuffling and dropout")
    p.add_argument("--limit", type=at_least(1), default=None, metavar="N", help=limit_help)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where the PNG of the curves and the checkpoint go (default: runs/<example>)")
    return p


def setup(p, name):
    """Parse the command line, select the backend, seed micrograd and create the output folder.

    A training program frees and reallocates megabytes of activations every step; pad_heap() keeps glibc from
    handing them back to the system each time (process-wide, so micrograd leaves it to the program: see
    micrograd/backends/heap.py).
    """
    args = p.parse_args()
    args.rank, args.world = 0, 1
    if not args.scalar:
        heap.pad_heap()
        if args.backend is not None:
            mg.set_backend(args.backend)
        args.backend = mg.get_backend()
    if args.distributed:
        import micrograd.distributed as dist

        dist.init_process_group("nccl" if args.backend == "cupy" else "mpi")
        args.rank, args.world = dist.get_rank(), dist.get_world_size()
        if args.batch_size % args.world:
            p.error(f"--batch-size {args.batch_size} must divide evenly among the {args.world} ranks")
        _QUIET[0] = args.rank != 0
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


_QUIET = [False]  # a rank other than 0 of a distributed run: no bars, no epoch lines, no files


def train_loader(args, dataset):
    """The training batches, shuffled on a generator of their own (the order does not depend on how many numbers
    initialisation drew); with --distributed, this rank's shard at batch-size / world images per step (call
    `set_epoch(loader, epoch)` at the start of each epoch)."""
    from micrograd.utils.data import DataLoader, DistributedSampler

    if not args.distributed:
        return DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                          generator=mg.Generator().manual_seed(args.seed))
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)
    return DataLoader(dataset, batch_size=args.batch_size // args.world, sampler=sampler)


def set_epoch(loader, epoch):
    """A new shuffle of the shards for this epoch (distributed runs; nothing otherwise)."""
    if hasattr(loader.sampler, "set_epoch"):
        loader.sampler.set_epoch(epoch)


def wrap(args, model):
    """The model as a DistributedDataParallel with --distributed (rank 0's weights everywhere), else itself."""
    if not args.distributed:
        return model
    from micrograd.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model)


def progress(iterable, desc, total=None):
    """A tqdm bar (on stderr) that vanishes when done; show the running loss with `bar.set_postfix`."""
    return tqdm(iterable, total=total, desc=desc, leave=False, mininterval=0.5, dynamic_ncols=True,
                disable=_QUIET[0] or None)


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
        if not echo or _QUIET[0]:
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
    model = getattr(model, "module", model)  # a DistributedDataParallel's replica: the plain model's keys
    if args.distributed:
        import micrograd.distributed as dist

        dist.destroy_process_group()
        if args.rank != 0:
            return
    history.plot(os.path.join(args.out, f"{args.name}.png"), f"{args.name} ({args.backend} backend)")
    state = {"model": model.state_dict()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    mg.save(state, os.path.join(args.out, f"{args.name}.npz"))
    seconds = time.perf_counter() - args.start
    values = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
    ranks = f" ranks={args.world}" if args.distributed else ""
    print(f"result: example={args.name} backend={args.backend}{ranks} {values} seconds={seconds:.2f}", flush=True)


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
