"""Every example in examples/ runs end to end on a tiny slice of its data (a smoke test, not a target check).

Each runs as a user would start it, in a subprocess with --epochs 1 (or a few steps), a small --limit and
--out a temporary folder; the test reads its last line (the result line) and checks that the PNG of
its curves and its checkpoint were written and that the checkpoint reloads.
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
