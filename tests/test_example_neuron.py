"""examples/neuron.py runs and reports its result line."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "neuron.py"


def test_neuron_example_runs_a_few_steps():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--steps", "3", "--seed", "0"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[1].lstrip().startswith("relu(w.x + b) = 0.8814")
    pattern = r"result: example=neuron backend=scalar train_accuracy=([0-9.]+) seconds=([0-9.]+)"
    match = re.fullmatch(pattern, lines[-1])
    assert match, lines[-1]
    assert 0.0 <= float(match.group(1)) <= 1.0
