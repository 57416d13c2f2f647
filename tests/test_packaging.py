"""Packaging: every package folder is installed, and backends/ only as micrograd.backends."""

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _package_folders():
    """Dotted names of the package folders in the source tree, as installed."""
    names = set()
    for top, installed_as in (("micrograd", "micrograd"), ("backends", "micrograd.backends")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            if top == "micrograd" and rel[:1] == ("backends",):
                continue  # a local link to backends/, not a package of its own
            names.add(".".join((installed_as, *rel)))
    return names


def test_setup_cfg_lists_every_package_folder():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    assert listed == _package_folders()
    assert cfg["options"]["package_dir"].split() == ["micrograd.backends", "=", "backends"]


def test_installed_backends_only_under_micrograd(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = (
        "import importlib.util as u; "
        "print(u.find_spec('micrograd') is not None, u.find_spec('backends') is None, "
        "u.find_spec('micrograd.backends') is not None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    if out[0] != "True":
        pytest.skip("micrograd is not installed in this environment (pip install -e .)")
    assert out == ["True", "True", "True"]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line
                and not line.lstrip().startswith("#")]
    assert len(commands) == 1
    assert commands[0].strip() in readme
