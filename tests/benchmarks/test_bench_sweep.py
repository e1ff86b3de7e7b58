"""Sweep speed (run with `make bench`): timing-only TPU design points in one process.

Issue 12 must show a 100,000-point TPU sweep over LeNet-5 and the char LSTM in under a minute
on a 2-core machine: 100,000 / 60 s / 2 processes ≈ 830 points/s per process, before the
runner's own costs. The aim set for `accelsim.sweep.tpu_points` is 3,000 points/s in one
process on a grid like the design-space scenario's: both networks, batches 1..256, array
rows and columns 8..512, DDR3 bandwidth ×0.25..×4 and clock ×0.5..×4 (17,640 points), fed in
chunks of 1,000 as a sweep runner would. Each network's rate and the mixed rate are printed.
"""

from __future__ import annotations

import itertools
import time

import pytest

from accelsim.sweep import TpuPoint, tpu_points

SIZES = (8, 16, 32, 64, 128, 256, 512)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
DDR = (0.25, 0.5, 1.0, 2.0, 4.0)
CLOCK = (0.5, 1.0, 2.0, 4.0)
CHUNK = 1000


def grid(networks: tuple[str, ...]) -> list[TpuPoint]:
    """The points in grid order, the spec's rates innermost."""
    return [TpuPoint(net, batch, {"array_rows": rows, "array_cols": cols,
                                  "ddr_bytes_per_s": 34e9 * ddr, "clock_hz": 700e6 * clock})
            for net, batch, rows, cols, ddr, clock in itertools.product(
                networks, BATCHES, SIZES, SIZES, DDR, CLOCK)]


def sweep(points: list[TpuPoint]) -> int:
    """Every point, in chunks; returns how many failed (none should)."""
    failed = 0
    for start in range(0, len(points), CHUNK):
        failed += sum(not isinstance(r, dict) for r in tpu_points(points[start:start + CHUNK]))
    return failed


@pytest.mark.parametrize("networks", [("lenet5",), ("lstm-char",), ("lenet5", "lstm-char")],
                         ids="+".join)
def test_bench_tpu_sweep_points_per_second(benchmark, capsys, networks):
    points = grid(networks)
    sweep(points[:CHUNK])  # numba's cache, the networks
    started = time.perf_counter()
    assert benchmark.pedantic(sweep, args=(points,), rounds=3, iterations=1) == 0
    rate = len(points) / benchmark.stats.stats.median
    benchmark.extra_info["points"] = len(points)
    benchmark.extra_info["points_per_s"] = rate
    with capsys.disabled():
        print(f"\n{'+'.join(networks)}: {len(points):,} points, {rate:,.0f} points/s "
              f"(3 rounds in {time.perf_counter() - started:.1f} s)")
    assert rate >= 3000
