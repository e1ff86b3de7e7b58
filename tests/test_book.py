"""The book's figures: each model value against a closed form worked by hand from the book's
own arithmetic or the specs' datasheet fields, or against the machine model that times it."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.book import Figure, array_multiplier_cells, book_figures


@pytest.fixture(scope="module")
def figures() -> dict[str, Figure]:
    return {f.name: f for f in book_figures()}


def test_names_are_unique_and_every_figure_is_complete():
    found = book_figures()
    assert len({f.name for f in found}) == len(found)
    for f in found:
        assert f.book and f.book_value > 0 and f.model_value > 0
        assert f.ratio == pytest.approx(f.model_value / f.book_value)


def test_every_disagreement_is_explained(figures):
    for f in figures.values():
        if abs(f.ratio - 1) > 0.01:
            assert len(f.note) > 20, f"{f.name} is {f.ratio:.2f}× the book without a note"


@pytest.mark.parametrize("name,side", [
    # 32 − 5 + 1 = 28, halved 14, 14 − 5 + 1 = 10, halved 5
    ("C1 feature maps", 28), ("S2 feature maps", 14), ("C3 feature maps", 10),
    ("S4 feature maps", 5)])
def test_lenet5_map_sides(figures, name, side):
    assert figures[f"LeNet-5 {name}"].model_value == side


def test_lenet5_sizes_agree_with_the_lowered_gemms(figures):
    """The lowering (a different code path) gives the same sizes as GEMM dimensions."""
    gemms = {op.name: op for op in ax.lower(ax.network("lenet5", weights="none"), 1).ops
             if isinstance(op, ax.Gemm)}
    assert gemms["conv1"].m == figures["LeNet-5 C1 feature maps"].model_value ** 2
    assert gemms["conv2"].m == figures["LeNet-5 C3 feature maps"].model_value ** 2
    assert gemms["conv2"].k == 6 * 5 * 5  # S2's 6 maps under a 5 × 5 window
    assert gemms["conv3"].m == 1 and gemms["conv3"].n == figures["LeNet-5 C5 layer"].model_value
    assert gemms["fc1"].n == figures["LeNet-5 F6 layer"].model_value == 80
    assert gemms["fc2"].n == figures["LeNet-5 output layer"].model_value == 10


def test_neuron(figures):
    assert figures["Neuron example output"].model_value == 2 * 2 + 5 * -1 + 8 * 0.5 == 3


def test_tpu_peaks(figures):
    v1 = 256 * 256 * 2 * 700e6
    assert figures["TPU v1 peak"].model_value == pytest.approx(v1)
    assert figures["TPU v1 over Xavier"].model_value == pytest.approx(v1 / 20e12)
    assert figures["TPU v1 over Xavier"].model_value == pytest.approx(4.6, abs=0.05)
    chip = 2 * 128 * 128 * 2 * 700e6
    assert figures["TPU v2 chip peak"].model_value == pytest.approx(chip)
    assert figures["TPU v2 board peak"].model_value == pytest.approx(4 * chip)
    assert figures["TPU v3 pod peak"].model_value == pytest.approx(8 * 64 * 4 * chip)
    # The book's own arithmetic with its rounded 45 TFLOPS chip gives its 92,160 TFLOPS.
    assert figures["TPU v3 pod peak"].book_value == 8 * 64 * 4 * 45e12


def test_cpu_growth(figures):
    assert figures["CPU cores, 2006 → 2017"].model_value == 28 / 4
    assert figures["CPU SIMD width, 2006 → 2017"].model_value == 16 / 2
    assert figures["CPU peak growth, 2006 → 2017"].model_value == 56


def test_gpu_figures(figures):
    assert figures["GeForce 8800 GTX cores"].model_value == 16 * 8
    gtx = 16 * 8 * 1.35e9 * 3  # MAD + MUL per lane per cycle
    assert figures["GeForce 8800 GTX peak"].model_value == pytest.approx(gtx)
    assert figures["GV100 cores"].model_value == 84 * 64
    cpu_2006 = 4 * 2 * 2 * 2.66e9  # cores × lanes × FMA × clock
    assert figures["GPU/CPU peak, 2006"].model_value == pytest.approx(gtx / cpu_2006)
    v100 = 80 * 64 * 2 * 1.53e9
    cpu_2017 = 28 * 16 * 2 * 1.7e9
    assert figures["GPU/CPU peak, 2017"].model_value == pytest.approx(v100 / cpu_2017)
    for name in ("GPU/CPU peak, 2006", "GPU/CPU peak, 2017"):
        assert 10 <= figures[name].model_value <= 15  # the book's range


def test_sgemm_ratio_is_the_timing_models_and_below_the_books_range(figures):
    n = 4096
    cpu = ax.machine("cpu-skylake-8180").gemm(n, n, n, "fp32")
    gpu = ax.machine("gpu-v100").gemm(n, n, n, "fp32")
    ratio = figures["GPU/CPU 4096³ SGEMM, 2017"].model_value
    assert ratio == pytest.approx(cpu.seconds / gpu.seconds)
    # Neither machine can beat its peak, so the ratio is at most the peak ratio over the
    # CPU's efficiency; both GEMMs are big enough to run above half of peak.
    assert gpu.utilization > 0.5 and cpu.utilization > 0.5
    assert 1 < ratio < 10


def test_array_multiplier_cells_match_the_textbook_4x4():
    assert array_multiplier_cells(4) == (16, 8, 4)  # 16 AND gates, 8 full, 4 half adders


def test_multiplier_area_ratio(figures):
    # 32 bits: 1024 + 960 + 32 cells; 8 bits: 64 + 48 + 8.
    assert figures["8-bit vs 32-bit multiplier area"].model_value == pytest.approx(2016 / 120)
    and_32, _, _ = array_multiplier_cells(32)
    and_8, _, _ = array_multiplier_cells(8)
    assert and_32 / and_8 == (32 / 8) ** 2 == figures["8-bit vs 32-bit multiplier area"].book_value
