"""The `gpu-v100` model against DeepBench's published V100 GEMMs
(accelsim/measure/data/deepbench-v100.json). One constant was fitted on this file:
`K_MAJOR_DRAM_EFFICIENCY` (gemm.py), on the even-indexed rows of each sheet; the odd-indexed
rows are out of sample. Each half is held to bounds a little above the model's error today
(even: fp32 13.1%, fp16 11.6%; odd: fp32 14.6%, fp16 10.9%; no row off by more than 2x), so
that a change that makes it worse fails."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.validation.comparison import median_ape
from accelsim.validation.deepbench import gemm_report

FP32, FP16 = ax.Precision.FP32, ax.Precision.FP16


@pytest.fixture(scope="module")
def report():
    return gemm_report(ax.machine("gpu-v100"))


def half(report, precision, parity: int):
    return [r for i, r in enumerate(report.gemm_rows(precision)) if i % 2 == parity]


def test_every_deepbench_gemm_is_compared(report):
    assert len(report.gemm_rows(FP32)) == 160
    assert len(report.gemm_rows(FP16)) == 160
    assert {r.precision for r in report.gemm} == {FP32, FP16}


@pytest.mark.parametrize(("precision", "bound"), [(FP32, 0.14), (FP16, 0.125)])
def test_gemms_in_sample_even_rows(report, precision, bound):
    rows = half(report, precision, 0)
    assert median_ape(rows) <= bound, report.text()
    assert not any(r.off_by_2x for r in rows), report.text()


@pytest.mark.parametrize(("precision", "bound"), [(FP32, 0.155), (FP16, 0.12)])
def test_gemms_out_of_sample_odd_rows(report, precision, bound):
    rows = half(report, precision, 1)
    assert median_ape(rows) <= bound, report.text()
    assert not any(r.off_by_2x for r in rows), report.text()


def test_whole_sheets_within_the_issue_bounds(report):
    for precision in (FP32, FP16):
        assert report.median_ape(precision) <= 0.15, report.text()
        assert report.fraction_over_2x(precision) <= 0.05, report.text()


def test_k_major_streaming_is_what_separates_tn_from_nn(report):
    # the same shape, A transposed (K-major) or not: measured 2.2-2.4x apart in fp16
    rows = {r.label: r for r in report.gemm_rows(FP16)}
    tn = rows["Language Modelling 1024x500000x16 TN"]
    nn = rows["Language Modelling 1024x500000x16 NN"]
    assert tn.measured_us > 2 * nn.measured_us
    assert tn.predicted_us > 1.7 * nn.predicted_us
    assert not tn.off_by_2x and not nn.off_by_2x
