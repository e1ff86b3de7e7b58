"""Start-up (run with `make bench`): whole processes, warm (numba's caches on disk, the host's
calibration saved), median of five runs: `import accelsim` within 0.3 s, `accelsim time
lenet5 --machine tpu-v1` within 0.4 s and `--machine gpu-h200` within 0.6 s. A command loads
only the layers it uses (ARCHITECTURE.md); these budgets hold it to that."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ACCELSIM = str(Path(sys.executable).with_name("accelsim"))
COMMANDS = {
    "import accelsim": ([sys.executable, "-c", "import accelsim"], 0.3),
    "time lenet5 on tpu-v1": ([ACCELSIM, "time", "lenet5", "--machine", "tpu-v1",
                               "--batch", "64"], 0.4),
    "time lenet5 on gpu-h200": ([ACCELSIM, "time", "lenet5", "--machine", "gpu-h200",
                                 "--batch", "64"], 0.6),
}


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


@pytest.mark.parametrize("name", list(COMMANDS))
def test_bench_start_up(benchmark, name):
    command, budget = COMMANDS[name]
    _run(command)  # warm: numba's and the OS's caches, the calibration
    benchmark.pedantic(_run, args=(command,), rounds=5, iterations=1)
    assert benchmark.stats.stats.median < budget, (name, benchmark.stats.stats.median)
