"""In-sample: the CPU model against GEMMs recorded on real hosts, replayed with the spec each
host's calibration produced (deterministic: bundled files, no timing of the machine running
the tests). The GEMM model was developed on these rows (OpenBLAS's thread count, grid and
per-thread wake-up, its small-matrix kernel; the default `thread_sync_s` of 2.5 µs comes from
the 16-core host's GEMMs), so these checks catch regressions. Thresholds, as the live check
(`make validate`) asks: ≤ 20% median and ≤ 10% of shapes off by 2×."""

from __future__ import annotations

import pytest

from accelsim.measure.gemm_timing import SHAPES
from accelsim.measure.recorded import read, recorded_hosts, spec_of
from accelsim.validation.cpu_gemms import replay

SIXTEEN = "cpu-intel-16core-2026-11-27.json"


def test_recorded_hosts_carry_specs_and_the_validation_shapes():
    hosts = recorded_hosts()
    assert SIXTEEN in hosts and len(hosts) >= 2
    for name in hosts:
        rows = read(name)["gemm"]["rows"]
        assert {(r["m"], r["k"], r["n"]) for r in rows} == set(SHAPES)


def test_shape_spread():
    flops = [2 * m * k * n for m, k, n in SHAPES]
    assert len(SHAPES) >= 20 and min(flops) <= 2_000 and 5e9 <= max(flops) <= 1e10


@pytest.mark.parametrize("name", [n for n in recorded_hosts() if n != SIXTEEN])
def test_two_core_hosts_within_20_percent(name):
    report = replay(name)
    assert spec_of(read(name)).cores <= 4
    assert report.median_ape() <= 0.20, report.text()
    assert report.fraction_over_2x() <= 0.10, report.text()


def test_sixteen_core_host_within_20_percent():
    report = replay(SIXTEEN)
    assert spec_of(read(SIXTEEN)).cores == 16
    assert report.median_ape() <= 0.20, report.text()
    assert report.fraction_over_2x() <= 0.10, report.text()


def test_validate_names_recorded_hosts(capsys):
    from accelsim.cli import main

    assert main(["validate", SIXTEEN.removesuffix(".json")]) == 0
    out = capsys.readouterr().out
    assert "recorded, 16 cores" in out and f"{replay(SIXTEEN).median_ape():.1%}" in out
    assert main(["validate", "cpu-nowhere"]) == 2
    assert "cpu-intel-16core-2026-11-27" in capsys.readouterr().err
