"""TPU speed (run with `make bench`; `make bench-scalesim` adds SCALE-Sim side by side).

Goals from the TPU issue: a full tpu-v1 timing run of LeNet-5 (compile + execute) at least
1,000× faster than SCALE-Sim's run of the same layers; the cycle-level engine at least 10×
more array-cycles per second than SCALE-Sim on 256×256 while computing the values; a LeNet-5
batch-64 run (timing, int8 outputs, accuracy) well under a second after warm-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.machines.tpu import SystolicArray

ROOT = Path(__file__).resolve().parents[2]
SCALESIM_PYTHON = ROOT / ".venv-scalesim" / "bin" / "python"
LENET_GEMMS = [(784, 25, 6), (100, 150, 16), (1, 400, 120), (1, 120, 80), (1, 80, 10)]


def tpu_timing_run(tpu, net) -> float:
    return tpu.time_workload(ax.lower(net, 1), ax.Precision.INT8).cycles


def engine_run(array: SystolicArray, operands) -> int:
    return sum(array.simulate(a, b).cycles_run for a, b in operands)


def lenet_operands(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(-128, 128, (m, k), dtype=np.int8),
             rng.integers(-128, 128, (k, n), dtype=np.int8)) for m, k, n in LENET_GEMMS]


def best_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def test_bench_tpu_lenet5_timing_run(benchmark):
    tpu, net = ax.machine("tpu-v1"), ax.network("lenet5")
    assert benchmark(tpu_timing_run, tpu, net) > 0


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_bench_systolic_engine_lenet_layers_256(benchmark, dataflow):
    array, operands = SystolicArray(256, 256, dataflow), lenet_operands()
    assert benchmark(engine_run, array, operands) > 0


def test_bench_tpu_lenet5_batch64_with_numerics(benchmark):
    tpu, net = ax.machine("tpu-v1"), ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    q = ax.quantize(net, calibration=ax.datasets.load("digits", split="train")[0][:256])
    result = benchmark(tpu.run, q, batch=64, precision="int8", data=(x, y))
    assert result.accuracy >= 0.97
    assert benchmark.stats.stats.median < 1.0


@pytest.mark.slow
@pytest.mark.skipif(not SCALESIM_PYTHON.exists(), reason="run `make bench-scalesim` first")
def test_side_by_side_with_scalesim(capsys):
    layers = [{"dataflow": df, "rows": 256, "cols": 256, "m": m, "k": k, "n": n}
              for df in ("ws", "os", "is") for m, k, n in LENET_GEMMS]
    proc = subprocess.run([str(SCALESIM_PYTHON), str(Path(__file__).with_name(
        "scalesim_runner.py"))], input=json.dumps(layers), capture_output=True, text=True,
        check=True, env={**os.environ, "PYTHONPATH": ""})
    runs = [json.loads(line) for line in proc.stdout.splitlines()]
    tpu, net = ax.machine("tpu-v1"), ax.network("lenet5")
    report = {}
    for df in ("ws", "os", "is"):
        mine = [r for r in runs if r["dataflow"] == df]
        array = SystolicArray(256, 256, df)
        assert [r["total_cycles"] for r in mine] == [array.cycles(m, k, n)
                                                     for m, k, n in LENET_GEMMS]
        scalesim_seconds = sum(r["seconds"] for r in mine)
        cycles = sum(r["total_cycles"] + 1 for r in mine)
        operands = lenet_operands()
        engine_seconds = best_seconds(lambda a=array, o=operands: engine_run(a, o), 5)
        report[df] = {"scalesim_s": scalesim_seconds,
                      "scalesim_cycles_per_s": cycles / scalesim_seconds,
                      "engine_s": engine_seconds, "engine_cycles_per_s": cycles / engine_seconds,
                      "engine_speedup": scalesim_seconds / engine_seconds}
    timing_seconds = best_seconds(lambda: tpu_timing_run(tpu, net), 50)
    ws_seconds = report["ws"]["scalesim_s"]
    report["tpu_v1_timing_run"] = {"seconds": timing_seconds,
                                   "speedup_vs_scalesim_ws": ws_seconds / timing_seconds}
    with capsys.disabled():
        print("\n" + json.dumps(report, indent=2))
    assert report["tpu_v1_timing_run"]["speedup_vs_scalesim_ws"] >= 1000
    assert all(report[df]["engine_speedup"] >= 10 for df in ("ws", "os", "is"))
