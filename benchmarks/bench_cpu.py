"""CPU training-step timings: micrograd's numpy and numba backends against PyTorch CPU.

Runs, alternating in one process (in a shuffled order each round) so that machine load hits every contender
alike:
- CNN step: conv(1->32, 3x3) ReLU maxpool2 -> conv(32->64, 3x3) ReLU maxpool2 -> flatten ->
  linear(1600->128) ReLU -> linear(128->10), batch 64 of 1x28x28, float32, SGD momentum 0.9;
- MLP step: 784-512-512-10 ReLU, batch 128, float32, cross-entropy, SGD momentum 0.9.
Warm-up steps (Numba compilation included) are excluded; each round times every contender once and the
table shows medians over rounds and ratios. PyTorch is optional (`pip install torch`) and keeps its
default thread count.

    python benchmarks/bench_cpu.py [--rounds 15] [--steps 3] [--only cnn|mlp] [--threads N]

--threads N caps every thread pool (OpenBLAS, Numba, PyTorch) at N; on a machine other work keeps busy,
N=1 gives steadier numbers than the defaults, whose idle-waiting workers then stall each step.
"""
import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

if __name__ == "__main__":
    threads.cap(threads.from_argv(sys.argv))

import numpy as np  # noqa: E402  (after the thread caps)

import micrograd as mg  # noqa: E402
import micrograd.nn.functional as F  # noqa: E402
from micrograd import nn  # noqa: E402

try:
    import torch
except ImportError:  # optional
    torch = None


def cnn_layers(lib):
    return [lib.Conv2d(1, 32, 3), lib.ReLU(), lib.MaxPool2d(2), lib.Conv2d(32, 64, 3), lib.ReLU(),
            lib.MaxPool2d(2), lib.Flatten(), lib.Linear(1600, 128), lib.ReLU(), lib.Linear(128, 10)]


def mlp_layers(lib):
    return [lib.Linear(784, 512), lib.ReLU(), lib.Linear(512, 512), lib.ReLU(), lib.Linear(512, 10)]


TASKS = {"cnn": (cnn_layers, (64, 1, 28, 28)), "mlp": (mlp_layers, (128, 784))}


def micrograd_step(backend, layers, shape, x_np, y_np):
    """A closure running one training step of the model on `backend`."""
    with mg.use_backend(backend):
        model = nn.Sequential(*layers(nn))
        opt = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = mg.tensor(x_np)
        y = mg.tensor(y_np)

    def step():
        with mg.use_backend(backend):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()
    return step


def torch_step(layers, shape, x_np, y_np, device="cpu"):
    model = torch.nn.Sequential(*layers(torch.nn)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.from_numpy(x_np).to(device)
    y = torch.from_numpy(y_np).to(device)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def contenders(task):
    layers, shape = TASKS[task]
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, shape[0]).astype(np.int64)
    out = {}
    mg.manual_seed(0)
    out["micrograd numpy"] = micrograd_step("numpy", layers, shape, x_np, y_np)
    if "numba" in mg.available_backends():
        out["micrograd numba"] = micrograd_step("numba", layers, shape, x_np, y_np)
    else:
        print(f"note: the numba backend is unavailable here: {mg.backend.unavailable_reason('numba')}")
    if torch is not None:
        out["pytorch cpu"] = torch_step(layers, shape, x_np, y_np)
    return out


def bench(task, rounds, steps):
    return alternate(contenders(task), rounds, steps)


def alternate(steps_of, rounds, steps, warmup=2, seed=0):
    """Median seconds per call of each step function, over timed_rounds."""
    return {name: statistics.median(ts) for name, ts in timed_rounds(steps_of, rounds, steps, warmup, seed).items()}


def timed_rounds(steps_of, rounds, steps, warmup=2, seed=0):
    """Seconds per call of each contender in every round, timed in alternating rounds after a warm-up.

    A contender is a step function, or an object whose timed(n) runs n steps and returns the seconds per step
    (one timed in a process of its own). Each round runs every contender once, in an order shuffled per round
    (seeded): a step runs measurably slower right after another library's step has filled the caches with its
    own data, so a fixed order would hand the same neighbour to the same contender in every round.
    """
    def run(c, n):
        if hasattr(c, "timed"):
            return c.timed(n)
        t0 = time.perf_counter()
        for _ in range(n):
            c()
        return (time.perf_counter() - t0) / n

    for c in steps_of.values():  # warm-up: compilation, caches, allocator
        run(c, warmup)
    times = {name: [] for name in steps_of}
    order = list(steps_of.items())
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name, c in order:
            times[name].append(run(c, steps))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed round")
    parser.add_argument("--only", choices=sorted(TASKS))
    parser.add_argument("--threads", type=int, help="cap every thread pool at this many threads")
    parser.add_argument("--heap-pad", type=int, default=64 << 20, metavar="BYTES",
                        help="glibc heap slack for every contender (micrograd.backends.heap.pad_heap); 0: none")
    args = parser.parse_args()
    if not 0 <= args.heap_pad < 2 ** 31:
        parser.error(f"--heap-pad must be a number of bytes from 0 to 2**31 - 1; got {args.heap_pad}")
    heap = threads.pad_heap(args.heap_pad)
    if torch is None:
        print("note: PyTorch is not importable; its column is skipped (pip install torch)")
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"numpy {np.__version__}; threads: {args.threads or 'library defaults'}; {os.cpu_count()} CPUs; heap: {heap}")
    print(f"{'task':<5} {'contender':<16} {'median ms/step':>15} {'vs numpy':>9} {'vs pytorch':>11}")
    for task in [args.only] if args.only else list(TASKS):
        med = bench(task, args.rounds, args.steps)
        base = med["micrograd numpy"]
        ref = med.get("pytorch cpu")
        for name, t in med.items():
            vs_torch = f"{t / ref:10.2f}x" if ref else f"{'-':>11}"
            print(f"{task:<5} {name:<16} {t * 1e3:15.2f} {base / t:8.2f}x {vs_torch}")


if __name__ == "__main__":
    main()
