"""GPU training-step timings: micrograd's cupy backend against PyTorch CUDA, float32.

The MLP and CNN training steps of bench_cpu.py (same models, batches, SGD momentum 0.9, cross-entropy) and the deep
ConvNet and transformer steps of run.py (Adam; the fused conv2d, BatchNorm, LayerNorm, GELU paths), each
step ending in loss.item() for both contenders, so every timed step includes one device synchronisation.
PyTorch's TF32 is switched off (CuPy's cuBLAS calls use none): both run true float32. Warm-up steps (kernel
compilation, cuDNN autotuning, allocator growth) are excluded; the table shows medians over rounds.

    python benchmarks/bench_gpu.py [--rounds 30] [--steps 10] [--only cnn|mlp|deepconv|transformer]
"""
import argparse
import sys

import numpy as np

import micrograd as mg
from bench_cpu import TASKS, alternate, micrograd_step, torch_step
from run import big_model_step

BIG = ("deepconv", "transformer")

try:
    import torch
except ImportError:  # reported below
    torch = None


def bench(task, rounds, steps):
    if task in BIG:
        return bench_big(task, rounds, steps)
    layers, shape = TASKS[task]
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, shape[0]).astype(np.int64)
    mg.manual_seed(0)
    contenders = {"micrograd cupy": micrograd_step("cupy", layers, shape, x_np, y_np)}
    if torch is not None and torch.cuda.is_available():
        contenders["pytorch cuda"] = torch_step(layers, shape, x_np, y_np, device="cuda")
    return alternate(contenders, rounds, steps, warmup=5)


def bench_big(task, rounds, steps):
    rng = np.random.default_rng(0)
    if task == "deepconv":
        x_np, y_np = rng.standard_normal((128, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 128)
    else:
        x_np, y_np = rng.integers(0, 96, (32, 64)), rng.integers(0, 96, (32, 64))
    contenders = {"micrograd cupy": big_model_step(mg, task, x_np, y_np.astype(np.int64), backend="cupy")}
    if torch is not None and torch.cuda.is_available():
        contenders["pytorch cuda"] = big_model_step(torch, task, x_np, y_np.astype(np.int64), device="cuda")
    return alternate(contenders, rounds, steps, warmup=5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--only", choices=sorted(TASKS) + list(BIG))
    args = parser.parse_args()
    if "cupy" not in mg.available_backends():
        print(f"the cupy backend is unavailable: {mg.backend.unavailable_reason('cupy')}")
        return 1
    import cupy

    dev = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    print(f"device: {dev['name'].decode()}; cupy {cupy.__version__}; numpy {np.__version__}")
    if torch is None or not torch.cuda.is_available():
        print("note: PyTorch with CUDA is not importable here; its column is skipped")
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(f"pytorch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()})")
    print(f"{'task':<11} {'contender':<16} {'median ms/step':>15} {'vs pytorch':>11}")
    for task in [args.only] if args.only else list(TASKS) + list(BIG):
        med = bench(task, args.rounds, args.steps)
        ref = med.get("pytorch cuda")
        for name, t in med.items():
            vs = f"{t / ref:10.2f}x" if ref else f"{'-':>11}"
            print(f"{task:<11} {name:<16} {t * 1e3:15.3f} {vs}")
    print("target: micrograd cupy within 1.3x of pytorch cuda")
    return 0


if __name__ == "__main__":
    sys.exit(main())
