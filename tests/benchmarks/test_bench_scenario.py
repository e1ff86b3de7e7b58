"""Scenario speed (run with `make bench`): a warm `accelsim run scenarios/quickstart.toml`
(LeNet-5 and the char LSTM on tpu-v1, gpu-h200 and cpu-host at four batches, accuracy on
each test split, every plot and format) within 10 s."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.toml"


def _run(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "accelsim.cli", "run", str(QUICKSTART), "--out",
                    str(out)], check=True, capture_output=True)
    return time.perf_counter() - started


def test_bench_warm_quickstart_run(benchmark, tmp_path):
    _run(tmp_path / "cold")  # numba's caches, the host calibration, the trained weights
    seconds = benchmark.pedantic(_run, args=(tmp_path / "warm",), rounds=3, iterations=1)
    assert benchmark.stats.stats.median < 10.0, seconds
