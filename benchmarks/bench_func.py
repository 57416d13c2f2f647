"""Function transforms against torch.func, side by side in one run (float64, one thread per library).

    python benchmarks/bench_func.py [--quick] [--rounds N] [--backends numpy,numba]

Workloads:
- jacrev and jacfwd of f(x) = tanh(W x + b), 256 inputs -> 256 outputs (target: <= 1.5x torch.func);
- hessian of a scalar two-layer tanh network of 64 inputs, sum(tanh(W2 tanh(W1 x + b1) + b2)) with hidden
  width 64 (target: <= 2x torch.func);
- the per-row loop a user would otherwise write (one backward per output), for scale.
Rounds alternate the contenders in a shuffled order (bench_cpu.timed_rounds); the table shows the median seconds per
call and the ratio to torch.func.
"""
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import threads  # noqa: E402  (no NumPy: safe before the caps)

threads.cap(threads.from_argv(sys.argv, 1))

import numpy as np  # noqa: E402

from bench_cpu import timed_rounds  # noqa: E402

TARGETS = {"jacrev": 1.5, "jacfwd": 1.5, "hessian": 2.0}


def problems(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "tanh": dict(W=rng.standard_normal((256, 256)) / 16, b=rng.standard_normal(256), x=rng.standard_normal(256)),
        "net": dict(W1=rng.standard_normal((64, 64)) / 8, b1=rng.standard_normal(64),
                    W2=rng.standard_normal((64, 64)) / 8, b2=rng.standard_normal(64), x=rng.standard_normal(64)),
    }


def micrograd_calls(backend, p):
    import micrograd as mg
    from micrograd import func

    def t(a):
        return mg.tensor(a, dtype=mg.float64, backend=backend)
    W, b, x = t(p["tanh"]["W"]), t(p["tanh"]["b"]), t(p["tanh"]["x"])
    n = p["net"]
    W1, b1, W2, b2, x2 = (t(n[k]) for k in ("W1", "b1", "W2", "b2", "x"))

    def f(x):
        return (W @ x + b).tanh()

    def g(x):
        return ((W2 @ (W1 @ x + b1).tanh() + b2).tanh()).sum()

    def loop():  # the per-row Jacobian a user writes without transforms
        xr = x.detach().requires_grad_()
        y = f(xr)
        return mg.stack([mg.grad(y[i], xr, retain_graph=True)[0] for i in range(y.shape[0])])
    return {"jacrev": lambda: func.jacrev(f)(x), "jacfwd": lambda: func.jacfwd(f)(x),
            "hessian": lambda: func.hessian(g)(x2), "row loop": loop}


def torch_calls(p):
    import torch
    import torch.func as tf
    torch.set_num_threads(1)

    def t(a):
        return torch.tensor(a, dtype=torch.float64)
    W, b, x = t(p["tanh"]["W"]), t(p["tanh"]["b"]), t(p["tanh"]["x"])
    n = p["net"]
    W1, b1, W2, b2, x2 = (t(n[k]) for k in ("W1", "b1", "W2", "b2", "x"))

    def f(x):
        return torch.tanh(W @ x + b)

    def g(x):
        return torch.tanh(W2 @ torch.tanh(W1 @ x + b1) + b2).sum()

    def loop():
        xr = x.detach().requires_grad_()
        y = f(xr)
        return torch.stack([torch.autograd.grad(y[i], xr, retain_graph=True)[0] for i in range(y.shape[0])])
    return {"jacrev": lambda: tf.jacrev(f)(x), "jacfwd": lambda: tf.jacfwd(f)(x),
            "hessian": lambda: tf.hessian(g)(x2), "row loop": loop}


def check_agreement(ours, theirs):
    for name in ours:
        a, b = ours[name]().numpy(), theirs[name]().detach().numpy()
        err = float(np.abs(a - b).max())
        if err > 1e-9:
            raise SystemExit(f"bench_func: {name} differs from torch.func by {err:.3g}")


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backends", default="numpy,numba")
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 15)
    p = problems()
    try:
        theirs = torch_calls(p)
    except ImportError:
        raise SystemExit("bench_func: PyTorch is not installed (pip install torch==2.13.0); nothing to compare with")
    print(f"float64, {args.threads} thread(s) per library, {rounds} alternating rounds; median s/call; ratio to "
          f"torch.func (target in brackets)")
    print(f"{'workload':10s} {'torch.func':>11s} " + " ".join(f"{'mg ' + b:>18s}" for b in args.backends.split(",")))
    ours = {b: micrograd_calls(b, p) for b in args.backends.split(",")}
    for b in ours:
        check_agreement(ours[b], theirs)
    for name in ("jacrev", "jacfwd", "hessian", "row loop"):
        contenders = {"torch": theirs[name]}
        contenders.update({b: ours[b][name] for b in ours})
        per_round = 3 if name != "row loop" else 1
        times = timed_rounds(contenders, rounds, per_round, warmup=2)
        med = {k: statistics.median(v) for k, v in times.items()}
        target = f" [<= {TARGETS[name]}]" if name in TARGETS else ""
        cells = " ".join(f"{med[b] * 1e3:9.2f} ms {med[b] / med['torch']:5.2f}x" for b in ours)
        print(f"{name:10s} {med['torch'] * 1e3:8.2f} ms {cells}{target}")


if __name__ == "__main__":
    main()
