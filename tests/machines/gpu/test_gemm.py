"""GEMM kernel selection and timing mechanisms: occupancy, waves and tails, split-K, GEMV."""

from __future__ import annotations

import math

import pytest

from accelsim.machines.gpu.gemm import choose_kernel, occupancy, tiled_kernel
from accelsim.machines.gpu.kernels import SIMT_MENU
from accelsim.machines.gpu.spec import GTX8800, H200
from accelsim.precision import Precision

FP32 = Precision.FP32
TILES = {t.name: t for t in SIMT_MENU}


def test_occupancy_from_registers_shared_memory_and_warps():
    assert occupancy(TILES["simt_256x128x8_stage3"], H200, FP32) == 1  # 254 regs × 256 threads
    assert occupancy(TILES["simt_64x32x8_stage3"], H200, FP32) == 8  # 128 regs × 64 threads
    assert occupancy(TILES["simt_32x32x8_stage3"], H200, FP32) == 12  # 80 regs × 64 threads
    # The 2006 GPU's 8,192 registers cannot hold the big tiles at all.
    assert occupancy(TILES["simt_128x64x8_stage3"], GTX8800, FP32) == 0


def test_thread_tiles():
    assert TILES["simt_256x128x8_stage3"].thread_tile == (16, 8)
    assert TILES["simt_128x64x8_stage3"].thread_tile == (8, 8)


def test_an_extra_wave_costs_about_one_wave():
    tile = TILES["simt_128x32x8_stage3"]
    per_sm = occupancy(tile, H200, FP32)
    slots = H200.sm_count * per_sm
    rows = slots * tile.bm  # exactly one full wave of CTAs (N = 32: one CTA column)
    one = tiled_kernel(tile, 1, rows, 256, 32, H200, FP32)
    tail = tiled_kernel(tile, 1, rows + tile.bm, 256, 32, H200, FP32)
    two = tiled_kernel(tile, 1, 2 * rows, 256, 32, H200, FP32)
    assert one.waves == 1.0 and two.waves == 2.0
    wave = two.compute_seconds - one.compute_seconds
    assert wave > 0.5 * one.compute_seconds
    # One CTA more starts a second, nearly empty wave: it costs a wave of one resident CTA.
    assert one.compute_seconds < tail.compute_seconds < two.compute_seconds


def test_split_k_for_small_outputs_with_long_k():
    choice = choose_kernel(64, 8192, 64, H200, FP32)
    assert choice.split_k > 1 and choice.reduce_seconds > 0
    assert choose_kernel(4096, 4096, 4096, H200, FP32).split_k == 1


def test_gemv_for_a_single_row():
    choice = choose_kernel(1, 4096, 4096, H200, FP32)
    assert choice.name == "gemv" and choice.bound == "memory"
    weights = 4096 * 4096 * 4
    assert choice.seconds > weights / H200.dram_bytes_per_s


def test_big_gemm_runs_near_the_measured_peak():
    choice = choose_kernel(8192, 8192, 8192, H200, FP32)
    achieved = 2 * 8192**3 / choice.seconds
    assert 0.65 * H200.fp32_peak_flops < achieved < 0.85 * H200.fp32_peak_flops
    assert choice.bound == "compute"


def test_predictions_are_cached_and_monotone_in_k():
    first = choose_kernel(333, 444, 555, H200, FP32)
    assert choose_kernel(333, 444, 555, H200, FP32) is first
    times = [choose_kernel(512, k, 512, H200, FP32).seconds for k in (64, 256, 1024, 4096)]
    assert times == sorted(times)
    assert math.isfinite(first.seconds)


@pytest.mark.parametrize("precision", [Precision.FP16, Precision.BF16, Precision.INT8])
def test_tensor_core_gemms_beat_simt(precision):
    simt = choose_kernel(4096, 4096, 4096, H200, FP32).seconds
    assert choose_kernel(4096, 4096, 4096, H200, precision).seconds < simt / 4
