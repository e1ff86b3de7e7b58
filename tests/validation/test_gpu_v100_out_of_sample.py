"""Out-of-sample: the `gpu-v100` model against DeepBench's published V100 GEMMs, which no
constant of the GPU model was fitted on (accelsim/measure/data/deepbench-v100.json). The
bounds are the model's error today, so that a change that makes it worse fails."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.validation.deepbench import gemm_report


@pytest.fixture(scope="module")
def report():
    return gemm_report(ax.machine("gpu-v100"))


def test_every_deepbench_gemm_is_compared(report):
    assert len(report.gemm_rows(ax.Precision.FP32)) == 160
    assert len(report.gemm_rows(ax.Precision.FP16)) == 160
    assert {r.precision for r in report.gemm} == {ax.Precision.FP32, ax.Precision.FP16}


def test_fp32_gemms_out_of_sample(report):
    assert report.median_ape(ax.Precision.FP32) <= 0.16, report.text()
    assert report.fraction_over_2x(ax.Precision.FP32) == 0, report.text()


def test_fp16_gemms_out_of_sample(report):
    assert report.median_ape(ax.Precision.FP16) <= 0.15, report.text()
    assert report.fraction_over_2x(ax.Precision.FP16) <= 8 / 160, report.text()
