"""Activation checkpointing: a residual stack's training step checkpointed per block vs not, micrograd and PyTorch.

Workload: 32 residual blocks x -> x + Linear(1024, 256)(GELU(Linear(256, 1024)(x))), batch 2048, float32, loss the
mean of squares, forward + backward (gradients reset each step); --quick: 8 blocks, batch 512. "checkpoint" wraps
each block in micrograd.utils.checkpoint.checkpoint / torch.utils.checkpoint.checkpoint (use_reentrant=False
unless --use-reentrant).

- memory: benchmarks/run.py's method: each contender in a fresh process warms up on a tiny stack, builds the
  model, then runs 2 steps; the figure is the peak resident memory (VmHWM, reset before the steps) minus the
  resident memory before them. These processes have glibc map every allocation of 1 MiB or more on its own
  (MALLOC_MMAP_THRESHOLD_), so that the figure is what the library holds: with the large arrays in glibc's heap
  (run.py's padding, or malloc's adaptive threshold), heap fragmentation adds hundreds of MiB to PyTorch's
  checkpointed peak. For micrograd, tracemalloc's peak over one more step (NumPy's allocations and Python's) is
  shown too, as a check that depends on no allocator.
- time: median seconds per step over rounds that time each contender once, in a shuffled order (as bench_cpu's
  timed_rounds), in one process: wall-clock time, and the process's CPU time, which with one thread per
  library is the work done and hardly moves when other programs share the cores.
Every process runs one thread per library (--threads); the timing process pads glibc's heap as run.py does
(--heap-pad).

    python benchmarks/bench_checkpoint.py [--quick] [--rounds N] [--threads N] [--heap-pad BYTES] [--use-reentrant]

Prints the micrograd memory ratio (checkpointed / plain), PyTorch's, and the micrograd time ratio; targets:
memory ratio <= 0.45 and <= 1.1 x PyTorch's, time ratio <= 1.4.
"""
import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import threads  # noqa: E402  (no NumPy: safe before the caps)

FULL = {"blocks": 32, "batch": 2048, "width": 256, "hidden": 1024}
QUICK = {"blocks": 8, "batch": 512, "width": 256, "hidden": 1024}
TINY = {"blocks": 2, "batch": 8, "width": 16, "hidden": 32}
CONTENDERS = ("micrograd plain", "micrograd checkpoint", "pytorch plain", "pytorch checkpoint")
MEMORY_STEPS = 2
MMAP_THRESHOLD = 1 << 20  # glibc maps allocations this large on their own in the memory processes


def micrograd_step(size, checkpointed, reentrant, seed=0):
    import numpy as np

    import micrograd as mg
    from micrograd import nn
    from micrograd.utils.checkpoint import checkpoint

    mg.manual_seed(seed)
    blocks = [nn.Sequential(nn.Linear(size["width"], size["hidden"]), nn.GELU(),
                            nn.Linear(size["hidden"], size["width"])) for _ in range(size["blocks"])]
    params = [p for b in blocks for p in b.parameters()]
    data = np.random.default_rng(seed).standard_normal((size["batch"], size["width"]), dtype=np.float32)
    x = mg.tensor(data, requires_grad=True)  # so that the reentrant variant gives the first block gradients too

    def step():
        for p in params:
            p.grad = None
        x.grad = None
        h = x
        for b in blocks:
            h = h + (checkpoint(b, h, use_reentrant=reentrant) if checkpointed else b(h))
        (h * h).mean().backward()
    return step


def pytorch_step(size, checkpointed, reentrant, seed=0):
    import numpy as np
    import torch
    from torch.utils.checkpoint import checkpoint

    torch.manual_seed(seed)
    blocks = [torch.nn.Sequential(torch.nn.Linear(size["width"], size["hidden"]), torch.nn.GELU(),
                                  torch.nn.Linear(size["hidden"], size["width"])) for _ in range(size["blocks"])]
    params = [p for b in blocks for p in b.parameters()]
    data = np.random.default_rng(seed).standard_normal((size["batch"], size["width"]), dtype=np.float32)
    x = torch.tensor(data, requires_grad=True)

    def step():
        for p in params:
            p.grad = None
        x.grad = None
        h = x
        for b in blocks:
            h = h + (checkpoint(b, h, use_reentrant=reentrant) if checkpointed else b(h))
        (h * h).mean().backward()
    return step


def make_step(name, size, reentrant):
    library, variant = name.split()
    make = micrograd_step if library == "micrograd" else pytorch_step
    return make(size, variant == "checkpoint", reentrant)


def _rss_kib():
    with open("/proc/self/status") as f:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}


def measure_memory(name, size, reentrant):
    """Peak extra resident memory of MEMORY_STEPS steps (and tracemalloc's peak of one more, for micrograd)."""
    warm = make_step(name, TINY, reentrant)
    for _ in range(2):  # lazy initialisation is not the step's memory
        warm()
    del warm
    step = make_step(name, size, reentrant)
    gc.collect()
    base = _rss_kib()["VmRSS"]
    try:  # reset the peak (VmHWM) to the current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    for _ in range(MEMORY_STEPS):
        step()
    out = {"extra_mib": (_rss_kib()["VmHWM"] - base) / 1024, "peak_reset": reset}
    if name.startswith("micrograd"):
        import tracemalloc
        tracemalloc.start()
        step()
        out["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
    return out


def run_memory(names, size, reentrant):
    out = {}
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD), MICROGRAD_HEAP_PAD="0")  # after the caps
    for name in names:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory", name, json.dumps(size),
                               str(int(reentrant))], capture_output=True, text=True, timeout=1800, env=env)
        if proc.returncode:
            raise RuntimeError(f"{name}: {(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
        out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def time_rounds(steps, rounds, warmup=1, seed=0):
    """Per contender, (wall, CPU) seconds of its step in each round; each round runs every contender once, in an
    order shuffled per round (seeded), after `warmup` untimed steps each."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    order = list(steps.items())
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name, step in order:
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def _ratio(a, b):
    return a / b if a is not None and b else None


def _fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def report(size, reentrant, times, memory, rounds):
    print(f"workload: {size['blocks']} residual blocks x + Linear({size['hidden']}, {size['width']})(GELU(Linear("
          f"{size['width']}, {size['hidden']})(x))), batch {size['batch']}, float32; checkpoint per block, "
          f"use_reentrant={reentrant}; times: medians of {rounds} rounds")
    print(f"{'contender':<22} {'wall (s)':>9} {'CPU (s)':>9} {'peak extra (MiB)':>17} {'tracemalloc peak (MiB)':>23}")
    wall = {name: statistics.median(w for w, _ in t) for name, t in times.items()}
    cpu = {name: statistics.median(c for _, c in t) for name, t in times.items()}
    mem = {name: m["extra_mib"] for name, m in memory.items()}
    for name in times:
        print(f"{name:<22} {wall[name]:9.3f} {cpu[name]:9.3f} {mem[name]:17.1f} "
              f"{_fmt(memory[name].get('traced_mib'), '.1f'):>23}")
    mg_mem = _ratio(mem["micrograd checkpoint"], mem["micrograd plain"])
    pt_mem = _ratio(mem.get("pytorch checkpoint"), mem.get("pytorch plain"))

    def time_ratio(lib):
        by_cpu, by_wall = (_ratio(d.get(f"{lib} checkpoint"), d.get(f"{lib} plain")) for d in (cpu, wall))
        return f"{_fmt(by_cpu)} (CPU time; wall clock {_fmt(by_wall)})"
    print(f"micrograd memory ratio (checkpointed/plain): {_fmt(mg_mem)}   (target <= 0.45)")
    print(f"pytorch memory ratio (checkpointed/plain):   {_fmt(pt_mem)}")
    print(f"micrograd memory ratio / pytorch's:          {_fmt(_ratio(mg_mem, pt_mem))}   (target <= 1.1)")
    print(f"micrograd time ratio (checkpointed/plain):   {time_ratio('micrograd')}   (target <= 1.4)")
    print(f"pytorch time ratio (checkpointed/plain):     {time_ratio('pytorch')}")
    if not all(m.get("peak_reset") for m in memory.values()):
        print("note: /proc/self/clear_refs was not writable; peaks include the warm-up's")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 blocks, batch 512 (a rough figure in a minute)")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 5, quick 3)")
    parser.add_argument("--threads", type=int, default=1, help="threads per library; default 1; 0: their defaults")
    parser.add_argument("--heap-pad", type=int, default=64 << 20, metavar="BYTES",
                        help="glibc heap slack for the timing, as benchmarks/run.py; 0: malloc's defaults")
    parser.add_argument("--use-reentrant", action="store_true", help="checkpoint with use_reentrant=True")
    args = parser.parse_args()
    if args.threads < 0:
        parser.error(f"--threads must be 0 (library defaults) or a positive count; got {args.threads}")
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be positive; got {args.rounds}")
    threads.cap(args.threads)  # before NumPy and PyTorch start their pools; inherited by the memory processes
    heap = threads.pad_heap(args.heap_pad)
    import numpy as np
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    size = QUICK if args.quick else FULL
    rounds = args.rounds or (3 if args.quick else 5)
    names = [n for n in CONTENDERS if torch is not None or not n.startswith("pytorch")]
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pytorch "
          f"{torch.__version__ + f' ({torch.get_num_threads()} threads)' if torch else '- (not installed: skipped)'}"
          f", {os.cpu_count()} CPUs, threads: {args.threads or 'library defaults'}\nheap for the timing: {heap}; "
          f"memory processes: glibc mmap threshold {MMAP_THRESHOLD >> 20} MiB")
    memory = run_memory(names, size, args.use_reentrant)
    steps = {name: make_step(name, size, args.use_reentrant) for name in names}
    times = time_rounds(steps, rounds)
    report(size, args.use_reentrant, times, memory, rounds)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        if sys.argv[2].startswith("pytorch") and os.environ.get("OMP_NUM_THREADS"):
            import torch as _torch
            _torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        print(json.dumps(measure_memory(sys.argv[2], json.loads(sys.argv[3]), bool(int(sys.argv[4])))))
    else:
        main()
