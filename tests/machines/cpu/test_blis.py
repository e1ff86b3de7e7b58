"""The blocked GEMM model: blocking from the caches, edges, threads, packing, GEMV."""

from __future__ import annotations

import pytest

from accelsim.machines.cpu.blis import blocking, predict
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE


def test_blocking_fits_the_caches():
    blk = blocking(HASWELL, 10_000, 10_000, 10_000)
    assert blk.kc % 8 == 0 and blk.mc % HASWELL.mr == 0 and blk.nc % HASWELL.nr == 0
    assert HASWELL.nr * blk.kc * 4 <= HASWELL.l1_bytes / 2 and blk.kc == 384
    assert blk.mc * blk.kc * 4 <= HASWELL.l2_bytes / 2
    assert blk.kc * blk.nc * 4 <= HASWELL.l3_bytes / 2
    small = blocking(HASWELL, 20, 30, 7)
    assert (small.mc, small.kc, small.nc) == (32, 30, 8)


def test_edge_tiles_cost_full_tiles():
    # N = 6 on a 16 × 4 micro-kernel: two column panels, one of them half empty.
    assert predict(HASWELL, 784, 25, 6).edge_waste == pytest.approx(0.25)
    assert predict(HASWELL, 784, 25, 8).edge_waste == 0.0
    assert predict(HASWELL, 784, 25, 6).kernel_seconds == pytest.approx(
        predict(HASWELL, 784, 25, 8).kernel_seconds)


def test_threads_only_above_the_library_threshold():
    assert predict(HASWELL, 16, 80, 10).threads == 1
    assert predict(HASWELL, 2048, 2048, 2048).threads == HASWELL.cores
    assert predict(HASWELL, 16, 4096, 4096).threads == HASWELL.cores  # split over columns


def test_big_gemms_approach_the_sustained_peak():
    g = predict(SKYLAKE, 8192, 8192, 8192)
    rate = 2 * 8192**3 / g.seconds
    assert 0.6 * SKYLAKE.fp32_peak_flops < rate < 0.85 * SKYLAKE.fp32_peak_flops
    assert g.bound == "compute"


def test_call_overhead_dominates_tiny_gemms():
    g = predict(HASWELL, 16, 8, 8)
    assert g.bound == "latency" and g.seconds < 2 * HASWELL.call_overhead_s + 1e-6


def test_single_row_is_a_gemv_that_streams_the_matrix():
    g = predict(HASWELL, 1, 4096, 4096)
    assert g.kernel == "gemv" and g.bound == "memory"
    matrix = 4096 * 4096 * 4
    assert g.seconds > matrix / HASWELL.dram_bytes_per_s


def test_time_grows_with_every_dimension():
    base = predict(HASWELL, 512, 512, 512).seconds
    for shape in ((1024, 512, 512), (512, 1024, 512), (512, 512, 1024)):
        assert predict(HASWELL, *shape).seconds > 1.5 * base
