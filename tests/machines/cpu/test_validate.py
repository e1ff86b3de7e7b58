"""The CPU model against live numpy/BLAS measurements on this host (the issue's goal: median
absolute error ≤ 20% over ≥ 20 shapes from 1 kFLOP to 10 GFLOP, ≤ 10% of shapes off by more
than 2×). The host is shared and noisy: one re-measurement is allowed before failing."""

from __future__ import annotations

import accelsim as ax
from accelsim.machines.cpu.validate import SHAPES, validate


def test_shape_spread():
    flops = [2 * m * k * n for m, k, n in SHAPES]
    assert len(SHAPES) >= 20 and min(flops) <= 2_000 and 5e9 <= max(flops) <= 1e10


def test_live_host_gemms_within_20_percent():
    cpu = ax.machine("cpu-host")
    for _ in range(2):
        report = validate(cpu)
        if report.median_ape() <= 0.20 and report.fraction_over_2x() <= 0.10:
            break
    assert report.median_ape() <= 0.20, report.text()
    assert report.fraction_over_2x() <= 0.10, report.text()
