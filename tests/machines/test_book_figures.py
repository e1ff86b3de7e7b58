"""The book's arithmetic, from the presets: CPU growth 2006 → 2017, GPU/CPU peak ratios, and
the TPU paper's comparison platforms."""

import pytest

import accelsim as ax
from accelsim.machines.cpu.core import book_speedup
from accelsim.machines.cpu.spec import BOOK_2006, BOOK_2017


def test_cpu_2006_to_2017_is_7x_cores_times_8x_width():
    cores, width, both = book_speedup(BOOK_2006, BOOK_2017)
    assert (cores, width, both) == (7.0, 8.0, 56.0)


@pytest.mark.parametrize("gpu,cpu", [("gpu-8800gtx", "cpu-book-2006"),
                                     ("gpu-v100", "cpu-book-2017")])
def test_gpu_cpu_peak_ratio_is_10_to_15x(gpu, cpu):
    ratio = ax.machine(gpu).peak_ops_per_s("fp32") / ax.machine(cpu).peak_ops_per_s("fp32")
    assert 10 <= ratio <= 15


def test_tpu_paper_platforms():
    haswell = ax.machine("cpu-haswell-e5-2699v3")
    assert haswell.spec.cores == 18
    assert haswell.peak_ops_per_s("fp32") == pytest.approx(1.3e12, rel=0.02)
    assert ax.machine("gpu-k80").peak_ops_per_s("fp32") == pytest.approx(2.8e12, rel=0.01)
    assert ax.machine("tpu-v1").peak_ops_per_s("int8") / haswell.peak_ops_per_s("fp32") > 60
