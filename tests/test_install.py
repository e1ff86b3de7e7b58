"""A plain (non-editable) install carries the model files and weights as package data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # CI runs it (.ci/run: make test-slow)
def test_non_editable_install_loads_lenet5_from_any_directory(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    modules = {p.relative_to(ROOT) for p in (ROOT / "accelsim").rglob("*.py")}
    assert {p for p in modules if not (target / p).is_file()} == set()  # every package listed
    script = (
        "import accelsim as ax, pathlib, sys\n"
        f"assert pathlib.Path(ax.__file__).is_relative_to({str(target)!r}), ax.__file__\n"
        "net = ax.network('lenet5')\n"
        "x, y = ax.datasets.load('digits', split='test')\n"
        "print(net.trained and ax.network('cnn-wide').trained, round(net.accuracy(x, y), 3),\n"
        "      len(ax.networks()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=False, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    trained, accuracy, count = run.stdout.split()
    assert trained == "True" and float(accuracy) >= 0.97 and int(count) >= 7
