"""Every example in examples/ runs end to end on a tiny slice of its data (a smoke test, not a target check).

Each runs as a user would start it, in a subprocess with --epochs 1 (or a few steps), a small --limit and
--out a temporary folder; the test reads its last line (the result line) and checks that the PNG of
its curves and its checkpoint were written and that the checkpoint reloads (autodiff_tour, which trains no
model, has a test of its own). Flags too small to run with stop with a usage error (exit code 2) that names the
flag and its minimum.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd as mg

for extra in ("tqdm", "matplotlib", "networkx"):
    pytest.importorskip(extra, reason="the examples' extras are not installed: pip install -e '.[examples]'")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"([0-9]+(?:\.[0-9]+)?)"

# name -> (extra flags, metric names in the result line)
RUNS = {
    "neuron": (["--epochs", "3", "--limit", "20"], ["train_accuracy"]),
    "mlp_mnist": (["--epochs", "1", "--limit", "500", "--batch-size", "100"], ["test_accuracy"]),
    "cnn_mnist": (["--epochs", "1", "--limit", "200", "--batch-size", "50"], ["test_accuracy"]),
    "deep_convnet_mnist": (["--epochs", "1", "--limit", "100", "--batch-size", "50"], ["test_accuracy"]),
    "lstm_mnist": (["--epochs", "1", "--limit", "200", "--batch-size", "50"], ["test_accuracy"]),
    "transformer": (["--epochs", "1", "--limit", "8000", "--context", "32", "--layers", "1", "--dim", "32",
                     "--sample", "20"], ["val_loss", "val_bpc", "unigram_bpc"]),
    "gnn_karate": (["--epochs", "10"], ["test_accuracy"]),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs_and_writes_its_outputs(name, tmp_path):
    flags, metrics = RUNS[name]
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), *flags, "--seed", "0", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"

    last = proc.stdout.strip().splitlines()[-1]
    backend = "scalar" if name == "neuron" else r"\w+"
    values = " ".join(f"{m}={NUMBER}" for m in metrics)
    match = re.fullmatch(rf"result: example={name} backend={backend} {values} seconds={NUMBER}", last)
    assert match, f"unexpected last line: {last!r}"
    for metric, value in zip(metrics, match.groups()):
        if metric.endswith("accuracy"):
            assert 0.0 <= float(value) <= 1.0, last
        else:
            assert 0.0 < float(value) < 10.0, last  # nats or bits per character: positive and finite

    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoint = mg.load(tmp_path / f"{name}.npz")
    assert checkpoint["model"], "the checkpoint holds no model weights"
    assert all(isinstance(t, mg.Tensor) for t in checkpoint["model"].values())
    if name != "neuron":  # the classic demo updates its Values by hand, without an optimizer
        assert checkpoint["optimizer"]["param_groups"]


def test_neuron_example_matches_the_classic_demo(tmp_path):
    """Part 1 prints the classic neuron's value; --dot writes its graph."""
    dot = tmp_path / "neuron.dot"
    cmd = [sys.executable, str(EXAMPLES / "neuron.py"), "--steps", "1", "--seed", "0", "--out", str(tmp_path),
           "--dot", str(dot)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[1].lstrip().startswith("relu(w.x + b) = 0.8814")
    assert lines[3].lstrip().startswith("tanh(w.x + b) = 0.7071")
    text = dot.read_text()
    assert text.startswith("digraph micrograd {") and "tanh" in text


def test_autodiff_tour_runs_and_newton_reaches_the_lower_loss(tmp_path):
    """The tour's Jacobians agree across modes, Newton ends at least as low as gradient descent, and it draws."""
    flags = ["--width", "16", "--repeats", "1", "--samples", "100", "--newton-steps", "8", "--gd-steps", "20"]
    cmd = [sys.executable, str(EXAMPLES / "autodiff_tour.py"), *flags, "--seed", "0", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"

    last = proc.stdout.strip().splitlines()[-1]
    match = re.fullmatch(rf"result: example=autodiff_tour backend=\w+ newton_loss={NUMBER} gd_loss={NUMBER} "
                         rf"seconds={NUMBER}", last)
    assert match, f"unexpected last line: {last!r}"
    newton, gd = float(match[1]), float(match[2])
    assert 0.0 < newton <= gd + 1e-9, last
    assert float(re.search(r"max \|jacfwd - jacrev\| += (\S+)", proc.stdout)[1]) < 1e-10, proc.stdout
    assert (tmp_path / "autodiff_tour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# (example, flags, the usage error it must print): each names the flag, what is too small and the minimum.
BAD_FLAGS = [
    ("mlp_mnist", ["--epochs", "0"], "argument --epochs: must be at least 1; got 0"),
    ("mlp_mnist", ["--seed", "-1"], "argument --seed: must be at least 0; got -1"),
    ("mlp_mnist", ["--epochs", "two"], "argument --epochs: expected an integer; got 'two'"),
    ("cnn_mnist", ["--batch-size", "0"], "argument --batch-size: must be at least 1; got 0"),
    ("lstm_mnist", ["--limit", "-5"], "argument --limit: must be at least 1; got -5"),
    ("deep_convnet_mnist", ["--batch-size", "1"],
     "argument --batch-size: must be at least 2 (BatchNorm normalises over the batch); got 1"),
    ("deep_convnet_mnist", ["--limit", "10", "--batch-size", "50"],
     "argument --limit: must be at least the --batch-size (50): every step takes a full batch; got 10"),
    ("deep_convnet_mnist", ["--shift", "-1"], "argument --shift: must be at least 0; got -1"),
    ("transformer", ["--limit", "256", "--context", "64"],
     "argument --limit: the held-out tenth has length 26, shorter than one context window + 1 (65 characters "
     "for --context 64); the minimum --limit is 641 (or use a smaller --context)"),
    ("transformer", ["--limit", "0"], "argument --limit: must be at least 1; got 0"),
    ("transformer", ["--context", "0"], "argument --context: must be at least 1; got 0"),
    ("transformer", ["--layers", "0"], "argument --layers: must be at least 1; got 0"),
    ("transformer", ["--dim", "30", "--heads", "4"],
     "argument --dim: must be a multiple of --heads (4), which split it evenly; got 30"),
    ("transformer", ["--sample", "-1"], "argument --sample: must be at least 0; got -1"),
    ("gnn_karate", ["--epochs", "-3"], "argument --epochs: must be at least 1; got -3"),
    ("gnn_karate", ["--hidden", "0"], "argument --hidden: must be at least 1; got 0"),
    ("neuron", ["--steps", "0"], "argument --steps: must be at least 1; got 0"),
    ("neuron", ["--limit", "0"], "argument --limit: must be at least 1; got 0"),
    ("neuron", ["--batch-size", "-2"], "argument --batch-size: must be at least 1; got -2"),
    ("autodiff_tour", ["--newton-steps", "0"], "argument --newton-steps: must be at least 1; got 0"),
    ("autodiff_tour", ["--l2", "0"], "argument --l2: must be positive; got 0"),
]


@pytest.mark.parametrize("name, flags, message", BAD_FLAGS, ids=[f"{n} {' '.join(f)}" for n, f, _ in BAD_FLAGS])
def test_example_rejects_flags_too_small_with_a_usage_error(name, flags, message, tmp_path):
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), *flags, "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("usage: "), proc.stderr
    assert proc.stderr.rstrip().endswith(f"{name}.py: error: {message}"), proc.stderr


def test_transformer_runs_with_the_minimum_limit_its_error_names(tmp_path):
    """--context 64 needs --limit 641: a held-out tenth of 65 characters, one window and its next character."""
    flags = ["--epochs", "1", "--limit", "641", "--context", "64", "--layers", "1", "--dim", "16", "--sample", "0"]
    cmd = [sys.executable, str(EXAMPLES / "transformer.py"), *flags, "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("result: example=transformer ")
