"""Data-parallel training over MPI: one rank against two (DistributedDataParallel), and raw allreduce.

    python benchmarks/bench_distributed.py [--quick] [--pairs N] [--rounds N] [--steps N] [--warmup N] [--reps N]

The script launches itself under `mpiexec -n 1` and `mpiexec -n 2` (MPICH's from `pip install -e ".[mpich]"`,
found beside the Python executable, else on PATH), one thread per rank, in alternating jobs (1, 2, then 2, 1, ...)
so that the shared machine's load hits both world sizes alike. Inside a job every round runs each configuration in
an order shuffled per round (the same order on every rank), after warm-up steps. Figures are medians over all rounds
of all jobs. Measured:
- training steps (float32, cross-entropy, SGD momentum 0.9) of the MLP and the CNN of benchmarks/bench_cpu.py:
  samples/s at a fixed per-rank batch (weak scaling; efficiency = samples/s(2 ranks) / (2 x samples/s(1 rank)))
  and at a fixed global batch (strong scaling). One rank runs the model unwrapped (the single-process reference);
  two ranks wrap it in DistributedDataParallel. Target: weak-scaling efficiency >= 0.85 for the MLP step at per-rank
  batch 1024;
- the gradient exchange at two ranks: the step with the exchange overlapping backward (the normal DDP path), the
  step without any exchange (inside no_sync: each rank's own compute), and the step without overlap (backward
  inside no_sync, then the gradients copied into flat buffers laid out as DDP's buckets, reduced with
  dist.all_reduce, averaged and copied back); the exposed exchange time is step minus own compute. Also the
  backward time left after each of DDP's buckets is complete (what overlap can hide);
- raw allreduce of 8 bytes (latency), 1 MiB and 16 MiB of float32 at two ranks: dist.all_reduce against mpi4py's
  own Iallreduce + Wait and blocking Allreduce on the same NumPy buffers; algorithm bandwidth bytes / time (for two
  ranks the ring's bus bandwidth 2(n-1)/n x bytes / time is the same figure).
The load average (os.getloadavg) is printed before each job and at the end: the machine is shared.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import threads  # noqa: E402  (no NumPy: safe before the caps)

threads.cap(1)  # one thread per rank: inherited by the ranks mpiexec starts

MLP_BATCHES = (1024, 512)  # per rank; 1024 is the target's, 512 is the strong-scaling half of a global 1024
CNN_BATCHES = (64, 128)
TARGET = 0.85
SIZES = (("8 B", 2), ("1 MiB", 1 << 18), ("16 MiB", 1 << 22))  # float32 elements


def mpiexec():
    """The mpiexec beside this Python (MPICH's wheel), else the one on PATH; exits with the fix when neither."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit("bench_distributed: no mpiexec beside this Python or on PATH; install MPICH and mpi4py with "
                         "pip install -e \".[mpich]\"")
    return found


def worker(args):
    """Run inside `mpiexec -n N`: time every configuration; rank 0 prints one line `RESULT {json}`."""
    sys.modules.setdefault("torch", None)  # bench_cpu's PyTorch column is not needed in a rank: skip its import
    import numpy as np

    import micrograd as mg
    import micrograd.distributed as dist

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    load_start = os.getloadavg()
    steps = {}
    for b in MLP_BATCHES:
        steps[f"mlp {b}"] = TrainStep("mlp", b, "plain" if world == 1 else "ddp")
    for b in CNN_BATCHES:
        steps[f"cnn {b}"] = TrainStep("cnn", b, "plain" if world == 1 else "ddp")
    steps["numpy matmul"] = MatmulStep()  # the machine's own parallel capacity, no micrograd, no MPI
    if world == 1:
        steps["mlp 1024 ddp"] = TrainStep("mlp", 1024, "ddp")  # the wrapper's own cost, no exchange
    else:
        for task, b in (("mlp", 1024), ("cnn", 64)):
            for mode in ("local", "no overlap"):
                steps[f"{task} {b} {mode}"] = TrainStep(task, b, mode)
        steps["mlp 1024 ddp cap 1 MiB"] = TrainStep("mlp", 1024, "ddp", bucket_cap_mb=1)

    for s in steps.values():
        for _ in range(args.warmup):
            s()
    times = {name: [] for name in steps}
    reduce_times = {name: [] for name in steps if steps[name].mode == "no overlap"}
    skew_times = {name: [] for name in reduce_times}
    order = sorted(steps)
    rng = random.Random(args.seed)  # the same seed on every rank: the same order
    for _ in range(args.rounds):
        rng.shuffle(order)
        for name in order:
            s = steps[name]
            s.reduce_seconds = s.skew_seconds = 0.0
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                s()
            elapsed = (time.perf_counter() - t0) / args.steps
            slowest = _max_over_ranks(dist, mg, np, [elapsed, s.reduce_seconds / args.steps,
                                                     s.skew_seconds / args.steps])
            times[name].append(slowest[0])
            if name in reduce_times:
                reduce_times[name].append(slowest[1])
                skew_times[name].append(slowest[2])

    windows = {}
    for task, b in (("mlp", 1024), ("cnn", 64)) if world == 1 else ():
        windows[f"{task} {b}"] = backward_windows(TrainStep(task, b, "plain"), args.steps * 2)

    allreduce = raw_allreduce(dist, mg, np, args.reps) if world > 1 else {}
    result = {"world": world, "times": times, "reduce": reduce_times, "skew": skew_times, "windows": windows,
              "allreduce": allreduce, "load": [load_start, os.getloadavg()],
              "mpi": _mpi_version() if world > 1 else None, "numpy": np.__version__}
    dist.destroy_process_group()
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def _max_over_ranks(dist, mg, np, values):
    t = mg.from_numpy(np.array(values, np.float64))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.numpy().tolist()


def _mpi_version():
    from mpi4py import MPI
    import mpi4py
    return f"{MPI.Get_library_version().splitlines()[0].strip()}; mpi4py {mpi4py.__version__}"


def bucket_layout(params, bucket_cap_mb=25):
    """DistributedDataParallel's bucketing of `params` (those requiring grad, in registration order): reverse order,
    the first bucket about FIRST_BUCKET_BYTES, the others about bucket_cap_mb, one dtype each."""
    from micrograd.nn.parallel.distributed import FIRST_BUCKET_BYTES
    buckets, current, size, cap = [], [], 0, FIRST_BUCKET_BYTES
    for p in params[::-1]:
        nbytes = p.numel() * p.dtype.itemsize
        if current and (size + nbytes > cap or p.dtype != current[0].dtype):
            buckets.append(current)
            current, size, cap = [], 0, int(bucket_cap_mb * (1 << 20))
        current.append(p)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets


class MatmulStep:
    """A 1024 x 1024 float32 NumPy matmul: how much two ranks slow each other with no library and no exchange."""

    mode = "plain"

    def __init__(self):
        import numpy as np
        self.a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
        self.reduce_seconds = self.skew_seconds = 0.0

    def __call__(self):
        self.a @ self.a


class TrainStep:
    """One training step of bench_cpu's MLP or CNN at `batch` samples per rank, as a callable.

    mode: "plain" (the module unwrapped), "ddp" (DistributedDataParallel), "local" (DDP inside no_sync: no
    exchange), "no overlap" (backward inside no_sync, then the bucket-shaped gradients reduced after it;
    reduce_seconds sums the time of that reduction, after a barrier whose wait, the ranks' skew, goes to
    skew_seconds).
    """

    def __init__(self, task, batch, mode, bucket_cap_mb=25):
        import bench_cpu
        import numpy as np

        import micrograd as mg
        import micrograd.distributed as dist
        import micrograd.nn.functional as F
        from micrograd import nn
        from micrograd.nn.parallel import DistributedDataParallel as DDP

        self.dist, self.F, self.mode, self.np = dist, F, mode, np
        layers, shape = bench_cpu.TASKS[task]
        mg.manual_seed(0)
        self.module = nn.Sequential(*layers(nn))
        rng = np.random.default_rng(1 + dist.get_rank())
        self.x = mg.tensor(rng.standard_normal((batch,) + shape[1:]).astype(np.float32))
        self.y = mg.tensor(rng.integers(0, 10, batch).astype(np.int64))
        self.model = self.module if mode == "plain" else DDP(self.module, bucket_cap_mb=bucket_cap_mb)
        self.opt = mg.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.reduce_seconds = self.skew_seconds = 0.0
        if mode == "no overlap":
            self.flat = []
            for bucket in bucket_layout([p for p in self.module.parameters() if p.requires_grad], bucket_cap_mb):
                buf = np.zeros(sum(p.numel() for p in bucket), np.float32)
                self.flat.append((bucket, buf, mg.from_numpy(buf)))

    def __call__(self):
        self.opt.zero_grad()
        if self.mode in ("local", "no overlap"):
            with self.model.no_sync():
                self.F.cross_entropy(self.model(self.x), self.y).backward()
        else:
            self.F.cross_entropy(self.model(self.x), self.y).backward()
        if self.mode == "no overlap":
            t0 = time.perf_counter()
            self.dist.barrier()
            t1 = time.perf_counter()
            self._reduce()
            self.skew_seconds += t1 - t0
            self.reduce_seconds += time.perf_counter() - t1
        self.opt.step()

    def _reduce(self):
        world = self.dist.get_world_size()
        for bucket, buf, t in self.flat:
            off = 0
            for p in bucket:
                n = p.numel()
                buf[off:off + n] = p.grad.numpy().reshape(-1)
                off += n
            self.dist.all_reduce(t)
            buf /= world
            off = 0
            for p in bucket:
                n = p.numel()
                p.grad.numpy()[...] = buf[off:off + n].reshape(tuple(p.shape))
                off += n


def backward_windows(step, n, caps=(25, 1)):
    """Median backward milliseconds, and for each bucket (bytes) of DDP's layout at each bucket_cap_mb of `caps`, the
    milliseconds of backward left after its last gradient is accumulated: the compute its allreduce can overlap."""
    params = [p for p in step.module.parameters() if p.requires_grad]
    layouts = {cap: bucket_layout(params, cap) for cap in caps}
    stamps = {}
    handles = [p.register_post_accumulate_grad_hook(lambda p: stamps.__setitem__(id(p), time.perf_counter()))
               for p in params]
    backward, left = [], {cap: [[] for _ in b] for cap, b in layouts.items()}
    for _ in range(n):
        step.opt.zero_grad()
        loss = step.F.cross_entropy(step.module(step.x), step.y)
        t0 = time.perf_counter()
        loss.backward()
        t1 = time.perf_counter()
        backward.append(t1 - t0)
        for cap, buckets in layouts.items():
            for k, bucket in enumerate(buckets):
                left[cap][k].append(t1 - max(stamps[id(p)] for p in bucket))
        step.opt.step()
    for h in handles:
        h.remove()
    return {"backward_ms": statistics.median(backward) * 1e3,
            "buckets": {str(cap): [[sum(p.numel() * p.dtype.itemsize for p in b), statistics.median(v) * 1e3]
                                   for b, v in zip(layouts[cap], left[cap])] for cap in caps}}


def raw_allreduce(dist, mg, np, reps):
    """Per-call seconds (rank 0's) of dist.all_reduce, mpi4py Iallreduce + Wait and mpi4py Allreduce, interleaved in
    blocks, for each size of SIZES."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    out = {}
    for label, n in SIZES:
        buf = np.ones(n, np.float32)
        t = mg.from_numpy(buf)
        calls = {"dist.all_reduce": lambda: dist.all_reduce(t),
                 "mpi4py Iallreduce+Wait": lambda: comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM).Wait(),
                 "mpi4py Allreduce": lambda: comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)}
        count = max(3, reps if n < 1 << 16 else reps // 4 if n < 1 << 20 else reps // 16)
        per_block = max(1, count // 5)
        times = {name: [] for name in calls}
        for name, call in calls.items():  # warm-up: MPI's shared-memory windows, page faults
            for _ in range(3):
                call()
                buf[...] = 1
        for _ in range(0, count, per_block):
            for name, call in calls.items():
                dist.barrier()
                for _ in range(per_block):
                    t0 = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - t0)
                    buf[...] = 1  # keep the values finite: summing in place doubles them every call
        out[label] = {"bytes": n * 4, "seconds": {k: statistics.median(v) for k, v in times.items()},
                      "count": len(times["dist.all_reduce"])}
    return out


def launch(exe, n, args, timeout):
    cmd = [exe, "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker", "--rounds", str(args.rounds),
           "--steps", str(args.steps), "--warmup", str(args.warmup), "--reps", str(args.reps)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        raise SystemExit(f"bench_distributed: `mpiexec -n {n}` did not finish within {timeout} s (killed)")
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"bench_distributed: `{' '.join(cmd)}` failed (exit {proc.returncode}):\n{out[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def merge(results):
    """All jobs of one world size: per-round times concatenated, windows and allreduce medians of the jobs'."""
    times, reduce, skew, loads = {}, {}, {}, []
    for r in results:
        for k, v in r["times"].items():
            times.setdefault(k, []).extend(v)
        for k, v in r["reduce"].items():
            reduce.setdefault(k, []).extend(v)
        for k, v in r["skew"].items():
            skew.setdefault(k, []).extend(v)
        loads.append(r["load"][0][0])
    med = {k: statistics.median(v) for k, v in times.items()}
    red = {k: statistics.median(v) for k, v in reduce.items()}
    skw = {k: statistics.median(v) for k, v in skew.items()}
    windows = {}
    for key in results[0]["windows"]:
        ws = [r["windows"][key] for r in results]
        windows[key] = {"backward_ms": statistics.median(w["backward_ms"] for w in ws),
                        "buckets": {cap: [[nbytes, statistics.median(w["buckets"][cap][k][1] for w in ws)]
                                          for k, (nbytes, _) in enumerate(layout)]
                                    for cap, layout in ws[0]["buckets"].items()}}
    allreduce = {}
    for label, _ in SIZES:
        got = [r["allreduce"][label] for r in results if r["allreduce"]]
        if got:
            allreduce[label] = {"bytes": got[0]["bytes"], "count": sum(g["count"] for g in got),
                                "seconds": {k: statistics.median(g["seconds"][k] for g in got)
                                            for k in got[0]["seconds"]}}
    return {"times": med, "reduce": red, "skew": skw, "windows": windows, "allreduce": allreduce, "loads": loads,
            "rounds": len(next(iter(times.values()))), "mpi": results[0]["mpi"], "numpy": results[0]["numpy"]}


def report(one, two, args, exe, started, load_end, seconds):
    t1, t2 = one["times"], two["times"]
    print("micrograd data parallel over MPI: 1 rank (the module unwrapped) against 2 ranks (DistributedDataParallel)")
    print(f"mpiexec: {exe}; {two['mpi']}; numpy {one['numpy']}; one thread per rank; {os.cpu_count()} CPUs")
    print(f"{args.pairs} job(s) per world size, alternating; each {args.rounds} round(s) of {args.steps} step(s) per "
          f"configuration after {args.warmup} warm-up step(s); medians over {one['rounds']} rounds; {seconds:.0f} s")
    print(f"load average (1, 5, 15 min): start {_load(started)}; end {_load(load_end)}; 1-min at each job's start: "
          f"1 rank {_span(one['loads'])}, 2 ranks {_span(two['loads'])}")
    print()
    print("training step, float32, SGD momentum 0.9 (samples/s over all ranks; ms per step)")
    print("weak scaling (fixed per-rank batch)")
    print(f"{'task':<5} {'per-rank batch':>14} {'1 rank':>18} {'2 ranks':>18} {'speed-up':>9} {'efficiency':>11}")
    weak = {}
    for task, batches in (("mlp", MLP_BATCHES), ("cnn", CNN_BATCHES)):
        for b in sorted(batches, reverse=True):
            s1, s2 = b / t1[f"{task} {b}"], 2 * b / t2[f"{task} {b}"]
            weak[task, b] = s2 / (2 * s1)
            print(f"{task:<5} {b:>14} {_rate(s1, t1[f'{task} {b}'])} {_rate(s2, t2[f'{task} {b}'])} "
                  f"{s2 / s1:8.2f}x {weak[task, b]:11.2f}")
    print("strong scaling (fixed global batch)")
    print(f"{'task':<5} {'global batch':>14} {'1 rank':>18} {'2 ranks':>18} {'speed-up':>9} {'efficiency':>11}")
    for task, batches in (("mlp", MLP_BATCHES), ("cnn", CNN_BATCHES)):
        g = max(batches)
        s1, s2 = g / t1[f"{task} {g}"], g / t2[f"{task} {g // 2}"]
        print(f"{task:<5} {g:>14} {_rate(s1, t1[f'{task} {g}'])} {_rate(s2, t2[f'{task} {g // 2}'])} "
              f"{s2 / s1:8.2f}x {s2 / (2 * s1):11.2f}")
    eff = weak["mlp", 1024]
    print(f"target: weak-scaling efficiency at 2 ranks, MLP step, per-rank batch 1024: {eff:.2f} (target >= {TARGET}: "
          f"{'met' if eff >= TARGET else 'NOT met'})")
    ceiling = t1["numpy matmul"] / t2["numpy matmul"]
    compute = t1["mlp 1024"] / t2["mlp 1024 local"]
    print(f"this machine's ceiling: a NumPy 1024x1024 matmul per rank runs {t1['numpy matmul'] * 1e3:.1f} ms alone and "
          f"{t2['numpy matmul'] * 1e3:.1f} ms with 2 ranks (efficiency {ceiling:.2f}); the MLP step's own compute at 2 "
          f"ranks (no exchange) has efficiency {compute:.2f}; the exchange keeps {eff / compute:.2f} of that")
    ddp1 = t1["mlp 1024 ddp"]
    print(f"DistributedDataParallel at 1 rank (no exchange), MLP 1024: {ddp1 * 1e3:.1f} ms/step against "
          f"{t1['mlp 1024'] * 1e3:.1f} ms unwrapped ({ddp1 / t1['mlp 1024']:.2f}x)")
    print()
    print("gradient exchange at 2 ranks, ms per step (share of the step in brackets)")
    print("own compute: the step inside no_sync; exposed: step - own compute; no overlap: backward, a barrier (its wait"
          " is the ranks' skew), then the reduce phase (copy into bucket buffers, dist.all_reduce, average, copy back)")
    print(f"{'task':<10} {'own compute':>11} {'overlap: step':>14} {'exposed':>15} {'no overlap: step':>17} "
          f"{'exposed':>15} {'skew':>15} {'reduce phase':>15}")
    for task, b in (("mlp", 1024), ("cnn", 64)):
        local, ddp, noov = (t2[f"{task} {b}{m}"] for m in (" local", "", " no overlap"))
        red, skew = two["reduce"][f"{task} {b} no overlap"], two["skew"][f"{task} {b} no overlap"]
        print(f"{task + ' ' + str(b):<10} {local * 1e3:11.1f} {ddp * 1e3:14.1f} {_share(ddp - local, ddp)} "
              f"{noov * 1e3:17.1f} {_share(noov - local, noov)} {_share(skew, noov)} {_share(red, noov)}")
    cap1 = t2["mlp 1024 ddp cap 1 MiB"]
    print(f"MLP 1024 with bucket_cap_mb=1 (overlap): {cap1 * 1e3:.1f} ms/step, exposed "
          f"{_share(cap1 - t2['mlp 1024 local'], cap1).strip()}")
    print("backward left after each of DDP's buckets is complete (1 rank; what overlap can hide)")
    for key, w in one["windows"].items():
        for cap, layout in w["buckets"].items():
            cells = ", ".join(f"{nbytes / 2 ** 20:.2f} MiB: {ms:.1f} ms" for nbytes, ms in layout)
            print(f"  {key:<9} backward {w['backward_ms']:.1f} ms; bucket_cap_mb={cap:<2}: buckets in order: {cells}")
    print()
    print("raw allreduce at 2 ranks, in place, float32 (median per call; algorithm bandwidth = bytes / time; the last "
          "column: dist.all_reduce / mpi4py Allreduce)")
    names = list(next(iter(two["allreduce"].values()))["seconds"])
    print(f"{'size':<7} {'calls':>6} " + " ".join(f"{n:>24}" for n in names))
    for label, r in two["allreduce"].items():
        cells = []
        for n in names:
            s = r["seconds"][n]
            bw = f"{r['bytes'] / s / 1e9:6.2f} GB/s" if r["bytes"] >= 1 << 20 else " " * 11
            cells.append(f"{s * 1e6:9.1f} us {bw}")
        ratio = r["seconds"]["dist.all_reduce"] / r["seconds"]["mpi4py Allreduce"]
        print(f"{label:<7} {r['count']:>6} " + " ".join(f"{c:>24}" for c in cells) + f" {ratio:6.1f}x")


def _rate(samples_per_s, seconds):
    return f"{samples_per_s:8.0f} ({seconds * 1e3:6.1f} ms)"


def _share(seconds, step):
    return f"{seconds * 1e3:6.1f} ({seconds / step:4.0%})"


def _load(avg):
    return "/".join(f"{v:.2f}" for v in avg)


def _span(values):
    return f"{min(values):.2f}-{max(values):.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: one job per world size, one round")
    parser.add_argument("--pairs", type=int, help="jobs per world size (default 6; --quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds per job (default 4; --quick 1)")
    parser.add_argument("--steps", type=int, help="steps per configuration and round (default 3; --quick 1)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up steps per configuration (default 2)")
    parser.add_argument("--reps", type=int, help="allreduce calls of the smallest size per job (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    q = args.quick
    args.pairs = args.pairs or (1 if q else 6)
    args.rounds = args.rounds or (1 if q else 4)
    args.steps = args.steps or (1 if q else 3)
    args.warmup = (1 if q else 2) if args.warmup is None else args.warmup
    args.reps = args.reps or (40 if q else 400)
    for name in ("pairs", "rounds", "steps", "reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive count; got {getattr(args, name)}")
    if args.worker:
        return worker(args)
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise SystemExit("bench_distributed: mpi4py is not installed; install it with MPICH using "
                         "pip install -e \".[mpich]\"") from None
    exe = mpiexec()
    started, t0 = os.getloadavg(), time.monotonic()
    results = {1: [], 2: []}
    for k in range(args.pairs):
        for n in ((1, 2) if k % 2 == 0 else (2, 1)):
            done = len(results[1]) + len(results[2])
            print(f"job {done + 1}/{2 * args.pairs}: mpiexec -n {n} (load {os.getloadavg()[0]:.2f})", file=sys.stderr,
                  flush=True)
            results[n].append(launch(exe, n, args, timeout=600))
    report(merge(results[1]), merge(results[2]), args, exe, started, os.getloadavg(), time.monotonic() - t0)


if __name__ == "__main__":
    main()
