"""GEMM kernel selection and timing mechanisms: occupancy, waves and tails, split-K, GEMV."""

from __future__ import annotations

import math

import pytest

from accelsim.machines.gpu.gemm import (
    choose_kernel,
    fastest_split,
    gemv_kernel,
    occupancy,
    splits,
    tiled_kernel,
)
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU
from accelsim.machines.gpu.spec import GTX8800, H200, V100
from accelsim.precision import Precision

FP32 = Precision.FP32
TILES = {t.name: t for t in SIMT_MENU + TENSOR_MENU}


def test_occupancy_from_registers_shared_memory_and_warps():
    assert occupancy(TILES["simt_256x128x8_stage3"], H200, FP32) == 1  # 254 regs × 256 threads
    assert occupancy(TILES["simt_64x32x8_stage3"], H200, FP32) == 8  # 128 regs × 64 threads
    assert occupancy(TILES["simt_32x32x8_stage3"], H200, FP32) == 12  # 80 regs × 64 threads
    # The 2006 GPU's 8,192 registers cannot hold the big tiles at all.
    assert occupancy(TILES["simt_128x64x8_stage3"], GTX8800, FP32) == 0


def test_thread_tiles():
    assert TILES["simt_256x128x8_stage3"].thread_tile(32) == (16, 8)
    assert TILES["simt_128x64x8_stage3"].thread_tile(32) == (8, 8)
    # A 64×64 warp tile over 64 lanes: 8×8 lanes of 8×8 outputs each.
    assert TILES["simt_256x128x8_stage3"].thread_tile(64) == (8, 8)


def test_warp_size_sets_register_allocation_per_warp():
    # 121 registers × 64 lanes = 7,744, allocated in units of 256: 7,936 per warp, 15,872
    # per 2-warp CTA: 4 CTAs in 65,536 registers (8 with 32-lane warps).
    wide = H200.replace(warp_size=64)
    assert occupancy(TILES["simt_64x32x8_stage3"], wide, FP32) == 4


def test_gemv_latency_follows_the_warp_size():
    # K = 4096 over 32 lanes × 4 loads in flight: 32 passes of 820 cycles, then a 5-step
    # shuffle tree of 30 cycles each; 64 lanes halve the passes and add a step.
    for warp_size, passes, steps in ((32, 32, 5), (64, 16, 6)):
        spec = H200.replace(warp_size=warp_size)
        got = gemv_kernel(1, 4096, 4096, spec, FP32).compute_seconds
        assert got == pytest.approx((passes * 820 + steps * 30) / H200.clock_hz, rel=1e-12)


def test_without_async_copies_two_shared_memory_stages_count():
    # tc_128x128x32_stage4 at fp16: 4 stages × 256 × 32 × 2 B = 64 KiB, one CTA in the
    # V100's 96 KiB; a register-staged mainloop keeps 2 stages (32 KiB), and 168 registers ×
    # 128 threads then allow 3.
    tile = TILES["tc_128x128x32_stage4"]
    assert occupancy(tile, V100.replace(has_async_copy=True), Precision.FP16) == 1
    assert occupancy(tile, V100, Precision.FP16) == 3


def test_copies_through_registers_cost_time_on_a_v100():
    assert not V100.has_async_copy
    for shape in ((1024, 1024, 1024), (4096, 4096, 4096), (256, 256, 256)):
        staged = choose_kernel(*shape, V100, FP32).seconds
        direct = choose_kernel(*shape, V100.replace(has_async_copy=True), FP32).seconds
        assert 1.02 * direct < staged < 1.2 * direct, shape


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
def test_tensor_core_gemms_beat_simt(precision: Precision) -> None:
    simt = choose_kernel(4096, 4096, 4096, H200, FP32).seconds
    assert choose_kernel(4096, 4096, 4096, H200, precision).seconds < simt / 4


def test_a_split_k_kernel_is_its_partial_gemms_then_their_reduction():
    # K split s ways: s times the CTAs, each walking K / s, i.e. the SM time of an unsplit GEMM
    # of s·M rows and K / s; then the partials reduced by a second kernel, or added into C
    # in L2 with atomics.
    tile = TILES["simt_64x32x8_stage3"]
    m, k, n, s = 64, 2048, 32, 8
    partial = tiled_kernel(tile, 1, s * m, k // s, n, H200, FP32)
    split = tiled_kernel(tile, s, m, k, n, H200, FP32)
    assert split.ctas == partial.ctas and split.compute_seconds == partial.compute_seconds
    reduce = (H200.kernel_launch_s + 2 * H200.dram_latency_cycles / H200.clock_hz
              + (s + 1) * m * n * 4 / H200.dram_achievable_bytes_per_s)
    assert split.reduce_seconds == pytest.approx(reduce, rel=1e-12)
    operands = (m * k + k * n + m * n) * 4
    assert split.dram_bytes == operands + (s - 1) * m * n * 4 * 2  # partials out and back
    fixed = H200.kernel_launch_s + H200.cold_start_s
    assert split.seconds == pytest.approx(
        fixed + max(split.compute_seconds, split.dram_seconds) + reduce, rel=1e-12)
    atomic = tiled_kernel(tile, s, m, k, n, H200, FP32, atomic=True)
    assert atomic.compute_seconds == partial.compute_seconds and atomic.dram_bytes == operands
    assert atomic.reduce_seconds == pytest.approx((s - 1) * m * n * 4 / H200.l2_bytes_per_s)


def test_fastest_split_walks_at_least_min_k_per_cta():
    tile = TILES["simt_32x32x8_stage3"]
    assert splits(tile, 64, 2048, 16, H200, min_k=128) == [1, 2, 3, 4, 6, 8, 12, 16]
    assert splits(tile, 64, 120, 16, H200, min_k=128) == [1]
    best = fastest_split(tile, 64, 2048, 16, H200, FP32, min_k=128)
    assert best.seconds == min(tiled_kernel(tile, s, 64, 2048, 16, H200, FP32).seconds
                               for s in (1, 2, 3, 4, 6, 8, 12, 16))
