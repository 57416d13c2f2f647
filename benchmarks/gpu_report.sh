#!/usr/bin/env bash
# The GPU report, offline, on a machine with an NVIDIA GPU where CuPy and PyTorch (CUDA) are installed:
# installs this checkout in place without downloading anything, runs the GPU tests (`pytest -m gpu`: the
# test_cupy_backend.py GPU checks, each CUDA kernel against its CPU build, the world-size-1 NCCL run of
# test_distributed.py, and the whole property/conformance suite on the cupy backend), then the
# MLP, CNN, deep ConvNet and transformer training-step benchmarks against PyTorch CUDA, and prints one report.
#
#     bash benchmarks/gpu_report.sh [bench_gpu.py options]      (PYTHON=... to pick the interpreter)
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi unavailable"
"$PY" -m pip install --no-deps --no-build-isolation -q -e . || { echo "install failed"; exit 2; }
"$PY" -m micrograd.info

echo "== pytest -m gpu"
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider tests/
tests=$?

echo "== benchmark (float32, ms per training step, median)"
"$PY" benchmarks/bench_gpu.py "$@"
bench=$?

echo "== summary: gpu tests $([ $tests -eq 0 ] && echo passed || echo "FAILED (exit $tests)"); benchmark $([ $bench -eq 0 ] && echo ran || echo "FAILED (exit $bench)")"
exit $(( tests != 0 || bench != 0 ))
