"""A/B: the same workloads on two versions of micrograd, alternating in one run: this checkout against a revision.

    python benchmarks/ab.py --base REV [--rounds 30] [--only ops,mlp,cnn,lstm] [--contenders numpy,numba]
                            [--threads 1] [--heap-pad BYTES]

REV (a commit, tag or branch) is checked out with `git worktree` into a temporary folder. Each side runs each
contender in its own server process (micrograd imported from that side's tree; the workload code is this
checkout's benchmarks/run.py, so both sides run the same steps), with the same thread caps and heap setting.
Every round times each (side, contender) once, in a shuffled order, after warm-up; the table gives medians and
the ratio of this checkout to REV (below 1: faster now), and the ratio of the fastest rounds beside it. PyTorch CPU runs in both sides' processes as a control:
its ratio shows how much the machine moved between the two sides' timings.
"""
import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import threads  # noqa: E402  (no NumPy: safe before the caps)

PLAN = {"ops": (300, 50), "mlp": (3, 2), "cnn": (3, 2), "lstm": (2, 2)}  # workload -> (steps per round, warm-up)


def serve(tree, workload, contender):
    """Server mode: build one step of `workload` for `contender` with micrograd from `tree`; time on request."""
    threads.pad_heap(int(os.environ.get("MICROGRAD_HEAP_PAD", "0")))  # the parent's setting
    sys.path.insert(0, tree)
    import micrograd
    if not os.path.abspath(micrograd.__file__).startswith(os.path.abspath(tree)):
        raise ImportError(f"micrograd was imported from {micrograd.__file__}, not from {tree}")
    import run
    if workload.startswith("op "):
        step = run.op_contenders(workload[3:], [])[contender]
    else:
        step = run.model_contenders(workload, [], only=contender)[contender]
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        print((time.perf_counter() - t0) / n, flush=True)


def checkout(rev, folder):
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", folder, rev], check=True, capture_output=True)
    # micrograd.backends is the repository's backends/ folder (setup.cfg's package_dir): link it into place, so
    # that this tree's package is imported whole rather than mixed with the installed checkout's backends.
    os.symlink(os.path.join(folder, "backends"), os.path.join(folder, "micrograd", "backends"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with (e.g. HEAD~3, a commit)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", default="ops,mlp,cnn,lstm")
    parser.add_argument("--contenders", default="numpy,numba", help="micrograd backends to compare")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--heap-pad", type=int, default=64 << 20, metavar="BYTES")
    args = parser.parse_args()
    if not 0 <= args.heap_pad < 2 ** 31:
        parser.error(f"--heap-pad must be a number of bytes from 0 to 2**31 - 1; got {args.heap_pad}")
    threads.cap(args.threads)
    heap = threads.pad_heap(args.heap_pad)
    workloads = []
    for w in args.only.split(","):
        if w not in PLAN:
            parser.error(f"unknown workload {w!r}; known: {', '.join(PLAN)}")
        workloads += [f"op {op}" for op in ("add", "mul", "matmul", "relu", "sum")] if w == "ops" else [w]
    contenders = [f"micrograd {c}" for c in args.contenders.split(",")]
    if importlib.util.find_spec("torch") is not None:
        contenders.append("pytorch cpu")
    else:
        print("note: PyTorch is not installed; no control column (pip install torch==2.13.0)")
    with tempfile.TemporaryDirectory(prefix="micrograd-ab-") as tmp:
        base = os.path.join(tmp, "base")
        checkout(args.base, base)
        try:
            print(f"A/B: this checkout against {args.base}; threads {args.threads}; heap: {heap}; "
                  f"rounds {args.rounds}")
            print(f"{'workload':<14} {'contender':<17} {'base':>11} {'this':>11} {'this/base':>10} {'(fastest)':>10}")
            for workload in workloads:
                _compare(workload, contenders, {"base": base, "this": ROOT}, args.rounds)
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base], capture_output=True)


def _compare(workload, contenders, trees, rounds):
    per_round, warmup = PLAN["ops" if workload.startswith("op ") else workload]
    servers = {}
    for side, tree in trees.items():
        for c in contenders:
            proc = subprocess.Popen([sys.executable, __file__, "--serve", tree, workload, c], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{side} {c} {workload}: {proc.stderr.read().strip()[-2000:]}")
            servers[side, c] = proc
    times = {key: [] for key in servers}
    keys = list(servers)
    try:
        for key in keys:
            _timed(servers[key], warmup)
        for _ in range(rounds):
            random.shuffle(keys)
            for key in keys:
                times[key].append(_timed(servers[key], per_round))
    finally:
        for proc in servers.values():
            proc.stdin.close()
            proc.wait()
    unit, scale = ("us", 1e6) if workload.startswith("op ") else ("ms", 1e3)
    for c in contenders:
        a, b = statistics.median(times["base", c]), statistics.median(times["this", c])
        fastest = min(times["this", c]) / min(times["base", c])  # less sensitive to other load on the machine
        print(f"{workload:<14} {c:<17} {a * scale:8.2f} {unit} {b * scale:8.2f} {unit} {b / a:9.3f} {fastest:10.3f}")


def _timed(proc, n):
    proc.stdin.write(f"{n}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(*sys.argv[2:5])
    else:
        main()
