"""The GPU model against the recorded H200 measurements (deterministic: a bundled file)."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.measure.gpu_h200 import validate

LIBRARY_MISFIRES = {"lenet5.conv3 16x400x120", "lenet5.fc6 16x120x80"}


@pytest.fixture(scope="module")
def report():
    return validate(ax.machine("gpu-h200"))


def test_fp32_gemms_match_the_h200_measurements(report):
    rows = report.gemm_rows(ax.Precision.FP32)
    assert len(rows) == 31
    assert report.median_ape(ax.Precision.FP32) <= 0.12
    assert report.fraction_over_2x(ax.Precision.FP32) <= 0.10
    assert {r.label for r in rows if r.off_by_2x} <= LIBRARY_MISFIRES
    big = next(r for r in rows if r.label == "square 4096x4096x4096")
    assert abs(big.error) < 0.1


def test_report_covers_lenet_and_lstm(report):
    assert len(report.lenet) == 8 and len(report.lstm) == 8
    text = report.text()
    assert "median absolute error" in text and "lenet5 batch 4096" in text


