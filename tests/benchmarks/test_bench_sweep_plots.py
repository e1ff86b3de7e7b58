"""Sweep report speed (run with `make bench`): the figures and tables of a 100,000-point
sweep, as the 100,000-point TPU sweep of issue 12 would give them (two networks, four axes),
drawn and saved as PNG. Aim: well under the sweep's own minute — under 15 s on 2 cores."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.report.sweep_plots import sweep_figures, sweep_tables

POINTS = 100_000
AXES = ("tpu.array_rows", "tpu.array_cols", "tpu.ddr_bytes_per_s", "batch")


@dataclass
class StandInSweep:
    axes: tuple[str, ...]
    rows: list[dict[str, Any]]
    objectives: dict[str, str] = field(default_factory=dict)  # none beyond the metrics


def stand_in() -> StandInSweep:
    rng = np.random.default_rng(0)
    size = rng.choice([8, 16, 32, 64, 128, 256, 512], (2, POINTS))
    ddr = rng.choice([8.5e9, 17e9, 34e9, 68e9, 136e9], POINTS)
    batch = rng.choice([1, 4, 16, 64, 256], POINTS)
    throughput = size[0] * size[1] * ddr / 1e12 * batch * rng.lognormal(0, 0.3, POINTS)
    nets = np.where(np.arange(POINTS) % 2, "lenet5", "lstm-char")
    return StandInSweep(AXES, [
        {"point": str(i), "status": "ok", "machine": "tpu-v1", "network": net,
         "tpu.array_rows": r, "tpu.array_cols": c, "tpu.ddr_bytes_per_s": d, "batch": b,
         "throughput_per_s": t, "latency_s": b / t, "joules_per_inference": 30 / t + 1e-6,
         "ops_per_joule": t * 1e6}
        for i, (net, r, c, d, b, t) in enumerate(zip(
            nets.tolist(), size[0].tolist(), size[1].tolist(), ddr.tolist(), batch.tolist(),
            throughput.tolist(), strict=True))])


def report(result: StandInSweep) -> int:
    """Every figure saved as PNG and every table built; returns the PNG bytes written."""
    written = 0
    for _, _, fig in sweep_figures(result):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        written += buffer.tell()
    sweep_tables(result)
    return written


def test_bench_sweep_report_of_100k_points(benchmark, capsys):
    result = stand_in()
    started = time.perf_counter()
    assert benchmark.pedantic(report, args=(result,), rounds=3, iterations=1) > 0
    seconds = benchmark.stats.stats.median
    benchmark.extra_info["points"] = POINTS
    with capsys.disabled():
        print(f"\nsweep report of {POINTS:,} points: {seconds:.1f} s "
              f"(3 rounds in {time.perf_counter() - started:.1f} s)")
    assert seconds < 15
