"""micrograd against PyTorch and its peers: one table of every workload x backend x installed peer.

    python benchmarks/run.py [--quick] [--json out.json]
                             [--only scalar,chain,ops,mlp,cnn,lstm,deepconv,transformer,memory]
                             [--rounds N] [--threads N (default 1; 0: library defaults)] [--heap-pad BYTES]
    python benchmarks/run.py --scaling [--plot docs/scaling.png]

Workloads (float32, except the scalar engine, which is float64 by design):
- scalar: the classic micrograd demo step, MLP(2, [16, 16, 1]) on 100 two-moons points, full-batch
  hinge loss + 1e-4 L2, forward + backward + SGD; reference: the classic micrograd 0.1.0;
- chain: the deepest chain x = x * 1.000001 (10^3 ... 10^6 nodes) whose backward works, each depth in
  a fresh subprocess;
- ops: add, mul, matmul, relu, sum on 8x8 tensors, forward + backward, per op;
- mlp / cnn: the training steps of benchmarks/bench_cpu.py (784-512-512-10 batch 128; the small CNN,
  batch 64), cross-entropy, SGD momentum 0.9;
- lstm: one LSTM layer, hidden 128, 28 steps of 28 features, batch 64, linear head on the last step;
- deepconv: the deep ConvNet of examples/deep_convnet_mnist.py (4 x conv3 + BatchNorm + ReLU, two max-pools,
  dropout, linear + BatchNorm1d), batch 128, Adam;
- transformer: the 4-layer character transformer of examples/transformer.py (dim 128, 4 heads, context 64,
  LayerNorm, causal attention, tanh GELU), batch 32 of 64 characters over 96 symbols, Adam;
- memory: peak resident memory over 200 MLP steps, and over 10 steps of the deep ConvNet and of the
  transformer, minus the resident memory after import and model creation, each contender and model in a fresh
  subprocess (after 3 steps of a 784-16-10 MLP, or of the same big model at batch 2, that warm up JIT compilers
  and lazy initialisation).
`--scaling` times the MLP step (784-w-w-10) over batch 16…1024 at width 512 and width 128…4096 at batch 128, and the
conv step (conv3 1->c, pool, conv3 c->c, pool, linear) over batch 16…512 at 32 channels and channels 8…128 at
batch 64, micrograd's backends against PyTorch, and draws step time against size on log-log axes (docs/scaling.png).
Every contender runs with the same process settings, named in the table's header: one thread per library and
glibc's heap padded as micrograd.backends.heap.pad_heap() pads it (a program's opt-in; importing micrograd
changes nothing process-wide). Within a workload every round times each contender once, in an order shuffled per round; warm-up steps are
excluded; the table shows medians over rounds and ratios to PyTorch CPU (to the classic micrograd for the
scalar workload). Peers are optional and skipped by name when missing: PyTorch, HIPS `autograd`,
`mygrad`, and the classic micrograd, whose package name clashes with ours, so it runs in a subprocess
with the folder from `pip install --no-deps --target DIR micrograd==0.1.0` first on its path
(DIR: $CLASSIC_MICROGRAD, default /tmp/classic_mg).
"""
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import threads  # noqa: E402  (no NumPy: safe before the caps)
CLASSIC_DIR = os.environ.get("CLASSIC_MICROGRAD", "/tmp/classic_mg")
MEMORY_STEPS = 200
CHAIN_DEPTHS = (1_000, 10_000, 100_000, 1_000_000)


# ---- the scalar workload: one source for both engines (the classic one runs in its own process) ----

def two_moons(n=100, noise=0.1, seed=0):
    """sklearn's make_moons(n, noise) without sklearn: points (x0, x1) and labels in {-1, 1}."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    x += rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return x.tolist(), y.tolist()


def scalar_step(Value, MLP):
    """The classic demo's training step as a closure (its notebook's loss(), backward and SGD update)."""
    import random
    random.seed(1337)
    X, Y = two_moons()
    model = MLP(2, [16, 16, 1])
    k = [0]

    def step():
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * (k[0] % 100) / 100
        for p in model.parameters():
            p.data -= lr * p.grad
        k[0] += 1
        return total.data
    return step


def chain_works(Value, depth):
    """Build x = x * 1.000001 `depth` times and backpropagate; the seconds it took (raises if it fails)."""
    t0 = time.perf_counter()
    x0 = x = Value(1.0)
    for _ in range(depth):
        x = x * 1.000001
    x.backward()
    assert abs(x0.grad - 1.000001 ** depth) < 1e-6 * 1.000001 ** depth
    return time.perf_counter() - t0


def _import_engine(which):
    if which == "classic":
        sys.path.insert(0, CLASSIC_DIR)
        from micrograd.engine import Value
        from micrograd.nn import MLP
        if not os.path.abspath(sys.modules["micrograd"].__file__).startswith(os.path.abspath(CLASSIC_DIR)):
            raise ImportError(f"{CLASSIC_DIR} does not hold the classic micrograd")
    else:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    return Value, MLP


def worker(argv):
    """Subprocess modes: `--serve-scalar ENGINE` (times steps on request), `--chain ENGINE DEPTH`,
    `--memory TASK CONTENDER` (TASK: mlp, deepconv or transformer)."""
    threads.pad_heap(int(os.environ.get("MICROGRAD_HEAP_PAD", "0")))  # the main process's setting
    mode = argv[0]
    if mode == "--serve-scalar":
        step = scalar_step(*_import_engine(argv[1]))
        print("ready", flush=True)
        for line in sys.stdin:
            n = int(line)
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            print((time.perf_counter() - t0) / n, flush=True)
    elif mode == "--chain":
        Value, _ = _import_engine(argv[1])
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # what a user would reasonably try
        print(json.dumps({"seconds": chain_works(Value, int(argv[2]))}))
    elif mode == "--memory":
        print(json.dumps(measure_memory(argv[1], argv[2])))


# ---- in-process contenders ----

def _load_bench_cpu():
    import bench_cpu  # noqa: E402  (after main() applied the thread caps)
    return bench_cpu


class Remote:
    """A step timed inside a subprocess that serves timings on request (for a clashing package)."""

    def __init__(self, args):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            err = self.proc.stderr.read().strip().splitlines()
            self.proc.kill()
            raise RuntimeError(err[-1] if err else "the subprocess did not start")

    def timed(self, n):
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def scalar_contenders(skipped):
    import micrograd.engine
    import micrograd.nn
    out = {"micrograd value": scalar_step(micrograd.engine.Value, micrograd.nn.MLP)}
    if not os.path.isdir(os.path.join(CLASSIC_DIR, "micrograd")):
        skipped.append(f"classic micrograd (pip install --no-deps --target {CLASSIC_DIR} micrograd==0.1.0)")
    else:
        try:
            out["classic micrograd"] = Remote(["--serve-scalar", "classic"])
        except RuntimeError as exc:
            skipped.append(f"classic micrograd ({exc})")
    return out


def _mg_backends():
    import micrograd as mg
    return [b for b in ("numpy", "numba") if b in mg.available_backends()]


def op_contenders(op, skipped):
    """name -> step running `op` forward and backward on 8x8 float32 tensors (leaf grads reset to None)."""
    import numpy as np
    rng = np.random.default_rng(0)
    a_np, b_np = (rng.standard_normal((8, 8)).astype(np.float32) for _ in range(2))
    g_np = np.ones((8, 8), np.float32)
    out = {}
    import micrograd as mg
    for be in _mg_backends():
        with mg.use_backend(be):
            a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
            g = mg.tensor(g_np)
        fwd = {"add": lambda a=a, b=b: a + b, "mul": lambda a=a, b=b: a * b, "matmul": lambda a=a, b=b: a @ b,
               "relu": lambda a=a: a.relu(), "sum": lambda a=a: a.sum()}[op]

        def step(fwd=fwd, a=a, b=b, g=g):
            a.grad = b.grad = None
            y = fwd()
            y.backward(None if op == "sum" else g)
        out[f"micrograd {be}"] = step
    torch = _try_import("torch", "pytorch cpu", skipped)
    if torch is not None:
        a, b = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
        g = torch.tensor(g_np)
        fwd = {"add": lambda: a + b, "mul": lambda: a * b, "matmul": lambda: a @ b, "relu": lambda: a.relu(),
               "sum": lambda: a.sum()}[op]

        def tstep():
            a.grad = b.grad = None
            y = fwd()
            y.backward(None if op == "sum" else g)
        out["pytorch cpu"] = tstep
    ag = _try_import("autograd", "autograd", skipped)
    if ag is not None:
        anp = ag.numpy
        f = {"add": lambda p: p[0] + p[1], "mul": lambda p: p[0] * p[1], "matmul": lambda p: anp.dot(p[0], p[1]),
             "relu": lambda p: anp.maximum(p[0], 0), "sum": lambda p: anp.sum(p[0])}[op]
        gg = np.float32(1) if op == "sum" else g_np

        def astep():
            vjp, _ = ag.make_vjp(f)((a_np, b_np))
            vjp(gg)
        out["autograd"] = astep
    mygrad = _try_import("mygrad", "mygrad", skipped)
    if mygrad is not None:
        ma, mb = mygrad.tensor(a_np), mygrad.tensor(b_np)
        from mygrad.nnet.activations import relu
        fwd = {"add": lambda: ma + mb, "mul": lambda: ma * mb, "matmul": lambda: ma @ mb, "relu": lambda: relu(ma),
               "sum": lambda: ma.sum()}[op]

        def mstep():
            y = fwd()
            y.backward(None if op == "sum" else g_np)
        out["mygrad"] = mstep
    return out


_warned = set()


def _try_import(module, name, skipped):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        if name not in _warned:
            _warned.add(name)
            skipped.append(f"{name} (not installed: pip install {module})")
        return None


def _init_mlp_params(sizes, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    return params


def autograd_mlp_step(ag, x_np, y_np, sizes):
    import numpy as np
    anp = ag.numpy
    from autograd.scipy.special import logsumexp
    params = _init_mlp_params(sizes)
    vel = [np.zeros_like(p) for p in params]
    rows = np.arange(len(y_np))

    def loss(ps):
        h = x_np
        for i in range(0, len(ps), 2):
            h = anp.dot(h, ps[i]) + ps[i + 1]
            if i + 2 < len(ps):
                h = anp.maximum(h, 0)
        return anp.mean(logsumexp(h, axis=1) - h[rows, y_np])
    value_and_grad = ag.value_and_grad(loss)

    def step():
        value, grads = value_and_grad(params)
        for p, v, g in zip(params, vel, grads):
            v *= 0.9
            v += g
            p -= 0.01 * v
        return float(value)
    return step


def mygrad_mlp_step(mygrad, x_np, y_np, sizes):
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy
    import numpy as np
    params = [mygrad.tensor(p) for p in _init_mlp_params(sizes)]
    vel = [np.zeros_like(p.data) for p in params]

    def step():
        h = x_np
        for i in range(0, len(params), 2):
            h = mygrad.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = relu(h)
        loss = softmax_crossentropy(h, y_np)
        loss.backward()
        for p, v in zip(params, vel):
            v *= 0.9
            v += p.grad
            p.data -= 0.01 * v
        return loss.item()
    return step


def tiny_mlp_layers(lib):
    return [lib.Linear(784, 16), lib.ReLU(), lib.Linear(16, 10)]


def model_contenders(task, skipped, only=None, tiny=False):
    """name -> training step for task mlp, cnn or lstm; `only` builds just that contender; `tiny` builds a
    784-16-10 MLP instead (to warm up JIT compilers and lazy initialisation before memory is measured)."""
    import numpy as np
    import micrograd as mg
    bc = _load_bench_cpu()
    shape = {"mlp": (128, 784), "cnn": (64, 1, 28, 28), "lstm": (64, 28, 28)}[task]
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, shape[0]).astype(np.int64)
    layers = tiny_mlp_layers if tiny else lstm_layers if task == "lstm" else bc.TASKS[task][0]
    sizes = [784, 16, 10] if tiny else [784, 512, 512, 10]
    want = (lambda name: only is None or name == only)
    out = {}
    mg.manual_seed(0)
    for be in _mg_backends():
        if want(f"micrograd {be}"):
            out[f"micrograd {be}"] = bc.micrograd_step(be, layers, shape, x_np, y_np)
    if "numba" not in _mg_backends() and only is None:
        skipped.append(f"micrograd numba ({mg.backend.unavailable_reason('numba')})")
    if want("pytorch cpu"):
        torch = _try_import("torch", "pytorch cpu", skipped)
        if torch is not None:
            out["pytorch cpu"] = bc.torch_step(layers, shape, x_np, y_np)
    if task == "mlp":
        if want("autograd"):
            ag = _try_import("autograd", "autograd", skipped)
            if ag is not None:
                out["autograd"] = autograd_mlp_step(ag, x_np, y_np, sizes)
        if want("mygrad"):
            mygrad = _try_import("mygrad", "mygrad", skipped)
            if mygrad is not None:
                out["mygrad"] = mygrad_mlp_step(mygrad, x_np, y_np, sizes)
    return out


def deepconv_model(nn):
    """examples/deep_convnet_mnist.py's ConvNet, written once for micrograd.nn and torch.nn."""
    def block(i, o):
        return [nn.Conv2d(i, o, 3, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.25), nn.Linear(1024, 256, bias=False),
                         nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 10))


def transformer_model(lib, vocab=96, context=64, dim=128, heads=4, layers=4):
    """examples/transformer.py's CharTransformer, written once for micrograd and torch (`lib`)."""
    import math

    import numpy as np
    nn = lib.nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
            self.proj = nn.Linear(dim, dim)
            self.register_buffer("allowed", lib.tensor(np.tril(np.ones((context, context), dtype=bool))),
                                 persistent=False)

        def forward(self, x):
            n, t, d = x.shape

            def split(y):
                return y.reshape(n, t, heads, d // heads).transpose(1, 2)
            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            scores = (q @ k.mT) * (1 / math.sqrt(d // heads))
            scores = lib.where(self.allowed[:t, :t], scores, -math.inf)
            return self.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(dim), Attention(), nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"), nn.Linear(4 * dim, dim))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.token, self.position = nn.Embedding(vocab, dim), nn.Embedding(context, dim)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab)
            self.register_buffer("positions", lib.arange(context), persistent=False)

        def forward(self, idx):
            x = self.token(idx) + self.position(self.positions[:idx.shape[1]])
            return self.head(self.ln(self.blocks(x)))
    return CharTransformer()


def big_model_contenders(task, skipped, only=None, batch=None):
    """name -> an Adam training step of the deep ConvNet (batch 128) or the transformer (batch 32), for micrograd's
    backends and PyTorch; `batch` replaces the batch size."""
    import numpy as np
    import micrograd as mg
    rng = np.random.default_rng(0)
    if task == "deepconv":
        n = batch or 128
        x_np = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
        y_np = rng.integers(0, 10, n).astype(np.int64)
    else:
        n = batch or 32
        x_np = rng.integers(0, 96, (n, 64)).astype(np.int64)
        y_np = rng.integers(0, 96, (n, 64)).astype(np.int64)

    want = (lambda name: only is None or name == only)
    out = {}
    for be in _mg_backends():
        if want(f"micrograd {be}"):
            out[f"micrograd {be}"] = big_model_step(mg, task, x_np, y_np, backend=be)
    if want("pytorch cpu"):
        torch = _try_import("torch", "pytorch cpu", skipped)
        if torch is not None:
            out["pytorch cpu"] = big_model_step(torch, task, x_np, y_np)
    return out


def big_model_step(lib, task, x_np, y_np, backend=None, device=None):
    """One Adam training step of the deep ConvNet or the transformer in `lib` (micrograd on `backend`, or torch on
    `device`) on the batch (x_np, y_np), as a closure returning the loss."""
    if backend is not None:  # the model, the optimizer's state and the batch are made on the backend
        import micrograd as mg
        with mg.use_backend(backend):
            step = big_model_step(lib, task, x_np, y_np, device=device)

        def on_backend():
            with mg.use_backend(backend):
                return step()
        return on_backend
    lib.manual_seed(0)
    model = deepconv_model(lib.nn) if task == "deepconv" else transformer_model(lib)
    if device is not None:
        model = model.to(device)
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    if device is not None:
        x, y = x.to(device), y.to(device)
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step


def lstm_layers(lib):
    """LSTM(28 -> 128) over 28 steps, batch first, then a linear head on the last step's output."""
    class LastStep(lib.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lib.LSTM(28, 128, batch_first=True)
            self.head = lib.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])
    return [LastStep()]


# ---- scaling: step time against problem size ----

SCALING = {  # sweep -> (task, the varied parameter, its values, the fixed ones)
    "mlp vs batch": ("mlp", "batch", (16, 64, 256, 1024), {"width": 512}),
    "mlp vs width": ("mlp", "width", (128, 512, 1024, 2048, 4096), {"batch": 128}),
    "conv vs batch": ("conv", "batch", (16, 64, 256, 512), {"channels": 32}),
    "conv vs channels": ("conv", "channels", (8, 16, 32, 64, 128), {"batch": 64}),
}


def scaling_contenders(task, batch, width=None, channels=None):
    import numpy as np
    rng = np.random.default_rng(0)
    if task == "mlp":
        shape = (batch, 784)

        def layers(lib):
            return [lib.Linear(784, width), lib.ReLU(), lib.Linear(width, width), lib.ReLU(), lib.Linear(width, 10)]
    else:
        shape = (batch, 1, 28, 28)

        def layers(lib):
            return [lib.Conv2d(1, channels, 3), lib.ReLU(), lib.MaxPool2d(2), lib.Conv2d(channels, channels, 3),
                    lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(), lib.Linear(channels * 25, 10)]
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, batch).astype(np.int64)
    bc = _load_bench_cpu()
    out = {f"micrograd {be}": bc.micrograd_step(be, layers, shape, x_np, y_np) for be in _mg_backends()}
    if bc.torch is not None:
        out["pytorch cpu"] = bc.torch_step(layers, shape, x_np, y_np)
    return out


def run_scaling(plot_path, budget=2.0):
    """Each sweep point: alternating rounds of each contender, about `budget` seconds of steps per contender."""
    results = {}
    start = time.perf_counter()
    for sweep, (task, varied, values, fixed) in SCALING.items():
        for value in values:
            params = dict(fixed, **{varied: value})
            steps = scaling_contenders(task, **params)
            first = {n: _once(f) for n, f in steps.items()}  # warm-up, and the length of one step
            per = max(1, int(budget / 3 / max(first.values())))
            times = time_rounds(steps, 3, per, 1)
            med = {n: statistics.median(ts) for n, ts in times.items()}
            results.setdefault(sweep, []).append((value, med))
            ref = med.get("pytorch cpu")
            cells = "  ".join(f"{n} {t * 1e3:8.2f} ms" + (f" ({t / ref:4.2f}x)" if ref else "") for n, t in med.items())
            print(f"{sweep:<17} {varied} {value:>5}: {cells}", flush=True)
    print(f"scaling: {time.perf_counter() - start:.0f} s")
    if plot_path:
        _plot_scaling(results, plot_path)
        print(f"plot written to {plot_path}")
    return results


def _once(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def _plot_scaling(results, path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 9))
    axes = fig.subplots(2, 2).ravel()
    styles = {"pytorch cpu": dict(color="black", marker="o"), "micrograd numpy": dict(color="tab:blue", marker="s"),
              "micrograd numba": dict(color="tab:orange", marker="^")}
    for ax, (sweep, points) in zip(axes, results.items()):
        varied = SCALING[sweep][1]
        for name in points[0][1]:
            xs = [v for v, _ in points]
            ys = [m[name] * 1e3 for _, m in points]
            ax.plot(xs, ys, label=name, **styles.get(name, {}))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(varied)
        ax.set_ylabel("ms per training step")
        fixed = ", ".join(f"{k} {v}" for k, v in SCALING[sweep][3].items())
        ax.set_title(f"{sweep} ({fixed})")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle("Training-step time against size: micrograd and PyTorch CPU, float32, one thread each")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


# ---- memory: one fresh process per contender ----

def _rss_kib():
    with open("/proc/self/status") as f:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}


MEMORY_TASKS = {"mlp": MEMORY_STEPS, "deepconv": 10, "transformer": 10}  # task -> steps measured


def measure_memory(task, name):
    if task == "mlp":
        warm = model_contenders("mlp", [], only=name, tiny=True)[name]
    else:  # the same model at batch 2 compiles the same kernels
        warm = big_model_contenders(task, [], only=name, batch=2)[name]
    for _ in range(3):  # JIT compilation and lazy initialisation are not the run's memory
        warm()
    del warm
    steps = model_contenders("mlp", [], only=name) if task == "mlp" else big_model_contenders(task, [], only=name)
    step = steps[name]
    base = _rss_kib()["VmRSS"]
    try:  # reset the peak (VmHWM) to the current RSS, so the import's transient peak does not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    for _ in range(MEMORY_TASKS[task]):
        step()
    peak = _rss_kib()["VmHWM"]
    return {"baseline_mib": base / 1024, "peak_mib": peak / 1024, "extra_mib": (peak - base) / 1024,
            "peak_reset": reset}


def run_memory(names):
    """task -> contender -> its memory figures (or error), each in a fresh process."""
    out = {}
    for task in MEMORY_TASKS:
        out[task] = {}
        # the bigger models exist for micrograd and PyTorch only (not the MLP's other peers)
        for name in names if task == "mlp" else [n for n in names if n.startswith(("micrograd", "pytorch"))]:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory", task, name],
                                  capture_output=True, text=True, timeout=900)
            if proc.returncode:
                out[task][name] = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
            else:
                out[task][name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def run_chain(quick):
    engines = [("micrograd value", "ours")]
    if os.path.isdir(os.path.join(CLASSIC_DIR, "micrograd")):
        engines.append(("classic micrograd", "classic"))
    out = {}
    for name, engine in engines:
        deepest, seconds, failure = 0, None, None
        for depth in CHAIN_DEPTHS:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--chain", engine, str(depth)],
                                  capture_output=True, text=True, timeout=900, cwd="/")
            if proc.returncode:
                lines = proc.stderr.strip().splitlines()
                failure = f"{depth}: {lines[-1] if lines else f'exit status {proc.returncode}'}"
                break
            deepest, seconds = depth, json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
        out[name] = {"deepest": deepest, "seconds": seconds, "failure": failure}
    return out


# ---- timing ----

def time_rounds(contenders, rounds, per_round, warmup):
    """Seconds per call of each contender in each round (bench_cpu.timed_rounds: shuffled alternating rounds);
    subprocess contenders are shut down afterwards."""
    try:
        return _load_bench_cpu().timed_rounds(contenders, rounds, per_round, warmup)
    finally:
        for c in contenders.values():
            if isinstance(c, Remote):
                c.close()


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a rough table in a minute or two)")
    parser.add_argument("--rounds", type=int, help="timed rounds per workload (default 15, quick 5)")
    parser.add_argument("--only", help="comma-separated workloads: "
                        "scalar,chain,ops,mlp,cnn,lstm,deepconv,transformer,memory")
    parser.add_argument("--json", help="write the raw per-round numbers here")
    parser.add_argument("--scaling", action="store_true",
                        help="time the MLP and conv steps over batch, width and channels, and plot them (--plot)")
    parser.add_argument("--plot", default=os.path.join(HERE, os.pardir, "docs", "scaling.png"),
                        help="where --scaling draws its picture (default docs/scaling.png)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per library (OpenBLAS, OpenMP, MKL, Numba, PyTorch); default 1, since "
                             "libraries alternating in one process stall each other's pools; 0: their defaults")
    parser.add_argument("--heap-pad", type=int, default=64 << 20, metavar="BYTES",
                        help="glibc heap slack for every contender (micrograd.backends.heap.pad_heap); 0: malloc's "
                             "defaults")
    args = parser.parse_args()
    if args.threads < 0:
        parser.error(f"--threads must be 0 (library defaults) or a positive count; got {args.threads}")
    if not 0 <= args.heap_pad < 2 ** 31:
        parser.error(f"--heap-pad must be a number of bytes from 0 to 2**31 - 1; got {args.heap_pad}")
    threads.cap(args.threads)  # before NumPy, Numba and PyTorch start their pools
    heap = threads.pad_heap(args.heap_pad)
    _load_bench_cpu()
    import numpy as np
    workloads = args.only.split(",") if args.only else ["scalar", "chain", "ops", "mlp", "cnn", "lstm", "deepconv",
                                                        "transformer", "memory"]
    rounds = args.rounds or (5 if args.quick else 15)
    skipped = []
    torch = _try_import("torch", "pytorch cpu", skipped)
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"pytorch {torch.__version__ + f' ({torch.get_num_threads()} threads)' if torch else '-'}, "
          f"{os.cpu_count()} CPUs, threads: {args.threads or 'library defaults'}, rounds {rounds}\nheap: {heap}")
    if args.scaling:
        run_scaling(os.path.normpath(args.plot))
        return
    rows = []  # (workload, contender, median seconds or None, ratio, note)
    raw = {}

    def table(workload, times, ref, unit):
        raw[workload] = times
        med = {n: statistics.median(ts) for n, ts in times.items()}
        base = med.get(ref)
        for n, t in med.items():
            rows.append((workload, n, t, t / base if base else None, unit))

    plan = {  # workload -> (per_round, warmup)
        "scalar": (1, 2), "ops": (100 if args.quick else 300, 50), "mlp": (3, 2), "cnn": (3, 2), "lstm": (2, 2),
        "deepconv": (1, 2), "transformer": (1, 2)}
    for workload in workloads:
        if workload == "scalar":
            table("scalar", time_rounds(scalar_contenders(skipped), rounds, *plan["scalar"]), "classic micrograd", "ms")
        elif workload == "ops":
            for op in ("add", "mul", "matmul", "relu", "sum"):
                table(f"op {op} 8x8", time_rounds(op_contenders(op, skipped), rounds, *plan["ops"]), "pytorch cpu",
                      "us")
        elif workload in ("mlp", "cnn", "lstm"):
            table(f"{workload} step", time_rounds(model_contenders(workload, skipped), rounds, *plan[workload]),
                  "pytorch cpu", "ms")
        elif workload in ("deepconv", "transformer"):
            table(f"{workload} step", time_rounds(big_model_contenders(workload, skipped), rounds, *plan[workload]),
                  "pytorch cpu", "ms")
        elif workload == "chain":
            raw["chain"] = run_chain(args.quick)
        elif workload == "memory":
            names = list(model_contenders("mlp", []))  # the installed ones (cheap to build)
            raw["memory"] = run_memory(names)
        else:
            parser.error(f"unknown workload {workload!r}")

    print(f"\n{'workload':<18} {'contender':<18} {'median':>12} {'vs ref':>8}   (ref: pytorch cpu; scalar: classic)")
    for workload, name, t, ratio, unit in rows:
        scale = 1e6 if unit == "us" else 1e3
        r = f"{ratio:7.2f}x" if ratio is not None else f"{'-':>8}"
        print(f"{workload:<18} {name:<18} {t * scale:9.2f} {unit:<2} {r}")
    if "chain" in raw:
        for name, res in raw["chain"].items():
            took = f" in {res['seconds']:.2f} s" if res["seconds"] is not None else ""
            fail = f"; fails at {res['failure']}" if res["failure"] else ""
            print(f"{'chain':<18} {name:<18} deepest working {res['deepest']:,}{took}{fail}")
    for task, results in raw.get("memory", {}).items():
        ref = results.get("pytorch cpu", {}).get("extra_mib")
        label = f"memory {task}"
        for name, res in results.items():
            if "error" in res:
                print(f"{label:<18} {name:<18} failed: {res['error']}")
                continue
            r = f"{res['extra_mib'] / ref:7.2f}x" if ref else f"{'-':>8}"
            print(f"{label:<18} {name:<18} {res['extra_mib']:9.1f} MiB {r}   (peak {res['peak_mib']:.0f} MiB, "
                  f"after setup {res['baseline_mib']:.0f} MiB)")
    for s in dict.fromkeys(skipped):
        print(f"skipped: {s}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": rounds, "quick": args.quick, "skipped": list(dict.fromkeys(skipped)),
                       "results": raw}, f, indent=1)
        print(f"raw numbers written to {args.json}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--serve-scalar", "--chain", "--memory"):
        worker(sys.argv[1:])
    else:
        main()
