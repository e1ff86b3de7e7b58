"""The blocked GEMM model: blocking from the caches, edges, OpenBLAS's paths, threads and
partition, packing, GEMV. Thread grids and pieces are worked by hand from OpenBLAS's
interface/gemm.c and driver/level3/level3_thread.c."""

from __future__ import annotations

import pytest

from accelsim.machines.cpu.blis import (
    PACK_PAGE_CYCLES,
    blocking,
    column_fmas,
    gemm_threads,
    pack_page_cycles,
    partition,
    predict,
    row_pieces,
    small_gemm_cycles,
    thread_grid,
)
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE

# An AVX-512 host as OpenBLAS's SKYLAKEX kernels see it: 16 lanes, 16 × 4 micro-kernel.
AVX512 = HASWELL.replace(name="avx512-16", cores=16, simd_lanes=16, l2_bytes=2 * 2**20)


def test_blocking_fits_the_caches():
    blk = blocking(HASWELL, 10_000, 10_000, 10_000)
    assert blk.kc % 8 == 0 and blk.mc % HASWELL.mr == 0 and blk.nc % HASWELL.nr == 0
    assert HASWELL.nr * blk.kc * 4 <= HASWELL.l1_bytes / 2 and blk.kc == 384
    assert blk.mc * blk.kc * 4 <= HASWELL.l2_bytes / 2
    assert blk.kc * blk.nc * 4 <= HASWELL.l3_bytes / 2
    small = blocking(HASWELL, 20, 30, 7)
    assert (small.mc, small.kc, small.nc) == (32, 30, 8)


def test_column_tails_cost_what_the_kernels_issue():
    # n = 6 = a 4-wide and a 2-wide tail. AVX2 (sgemm_kernel_8x4_haswell_2.c): one xmm FMA
    # per row for m4, one per 2 rows for m2; a full 16-column panel is 2 ymm FMAs per row.
    assert column_fmas(HASWELL, 6) == 1.5 and column_fmas(HASWELL, 16) == 2
    # AVX-512 (sgemm_kernel_16x4_skylakex_3.c): m4 packs 4 rows in one zmm, m2 one xmm per
    # 2 rows; n = 120 is 7 full panels and an m8 tail (2 rows per zmm).
    assert column_fmas(AVX512, 6) == 0.75 and column_fmas(AVX512, 120) == 7.5
    narrow, full = predict(HASWELL, 784, 25, 6), predict(HASWELL, 784, 25, 16)
    assert narrow.kernel_seconds == pytest.approx(0.75 * full.kernel_seconds)
    assert narrow.edge_waste == pytest.approx(1 - 6 / (1.5 * 8))
    assert full.edge_waste == 0.0


@pytest.mark.parametrize("shape, cores, threads", [
    ((16, 80, 10), 18, 1),
    ((64, 64, 64), 18, 1),  # exactly 65536 × 4 MACs: still one thread ("<=")
    ((128, 128, 128), 18, 8),  # 2^21 MACs: one thread per 2^18
    ((16, 256, 512), 16, 8),
    ((16, 1024, 2048), 16, 16),  # capped at the cores
    ((2048, 2048, 2048), 18, 18),
])
def test_openblas_thread_count(shape, cores, threads):
    spec = HASWELL.replace(cores=cores)
    assert gemm_threads(spec, *shape) == threads


def test_thread_grid_follows_level3_thread():
    # columns (numpy's n, OpenBLAS's M) first, each at least SWITCH_RATIO (16) wide ...
    assert thread_grid(AVX512, 16, 512, 8) == (8, 1)
    # ... then row groups, then squarer blocks: 16 × 1 → 8 × 2 → 4 × 4
    assert thread_grid(AVX512, 256, 256, 16) == (4, 4)
    # 80 columns hold 4 threads; 4 × 4 reshapes to 1 × 16 row bands
    assert thread_grid(AVX512, 4096, 80, 16) == (1, 16)
    two = HASWELL.replace(cores=2)  # SWITCH_RATIO 8
    assert thread_grid(two, 128, 128, 2) == (2, 1)  # a tie does not reshape
    assert thread_grid(two, 256, 80, 2) == (1, 2)


def test_row_pieces_are_at_least_switch_ratio_rows():
    assert row_pieces(100, 4, 16) == (25, 25, 25, 25)
    assert row_pieces(40, 4, 16) == (16, 16, 8, 0)
    assert row_pieces(16, 8, 16) == (16, 0, 0, 0, 0, 0, 0, 0)  # one thread packs all of A
    assert row_pieces(16, 16, 16) == (1,) * 16  # single rows are not widened
    grid = partition(AVX512, 16, 512, 8)
    assert (grid.threads, grid.rows, grid.cols, grid.piece) == (8, 16, 64, 16)


def test_each_thread_packs_its_own_columns_of_b():
    # 16 row bands (1 × 16): every thread packs all of B again, and a 256-row piece of A
    spec = AVX512.replace(thread_sync_s=0.0)
    grid = partition(spec, 4096, 80, 16)
    assert (grid.rows, grid.cols, grid.piece) == (256, 80, 256)
    # operands (2 MB) beyond half of L2 stream from L3 (20 B/cycle): B's 120 × 80 rows at a
    # cycle per 16-float vector (rows 320 B apart: a line reaches 320/4096 of a page), A's
    # 256 × 120 piece gathered at half a cycle per float
    cycles = 120 * 80 * (4 / 20 + 1 / 16 + 320 / 4096 * PACK_PAGE_CYCLES / 16) \
        + 256 * 120 * (4 / 20 + 0.5)
    banded = predict(spec, 4096, 120, 80)
    assert banded.pack_seconds == pytest.approx(cycles / spec.clock_hz)


def test_sync_costs_each_worker():
    quiet = AVX512.replace(thread_sync_s=0.0)
    for shape in ((256, 256, 256), (16, 256, 512), (1600, 150, 16)):
        g = predict(quiet.replace(thread_sync_s=3e-6), *shape)
        extra = g.seconds - predict(quiet, *shape).seconds
        assert g.threads > 1 and extra == pytest.approx((g.threads - 1) * 3e-6)
    one = predict(HASWELL.replace(thread_sync_s=1.0), 16, 80, 10)
    assert one.threads == 1 and one.seconds < 1e-3


def test_every_thread_runs_at_the_one_thread_rate():
    # each core has its own FMA units: 16 threads, each with 1/16 of the work
    whole = predict(AVX512, 4096, 512, 512)
    alone = predict(AVX512.replace(cores=1), 256, 512, 512)
    assert whole.threads == 16
    assert whole.kernel_seconds == pytest.approx(alone.kernel_seconds, rel=0.01)


def test_threads_slow_to_the_all_core_rate():
    """A host whose cores slow down when all are busy (fma_efficiency_all_cores below the
    one-thread figure): threaded calls' kernels run at the all-core rate, one-thread ones
    keep theirs (FMA-bound steps take twice as long at half the efficiency; the C tiles'
    loads and stores keep their time)."""
    busy = AVX512.replace(fma_efficiency=0.8, fma_efficiency_all_cores=0.4)
    slowed = predict(busy, 4096, 512, 512).kernel_seconds
    steady = predict(busy.replace(fma_efficiency_all_cores=0.8), 4096, 512, 512).kernel_seconds
    assert 1.9 < slowed / steady < 2.0
    alone = predict(busy.replace(cores=1), 256, 512, 512)
    assert alone.kernel_seconds == pytest.approx(
        predict(busy.replace(cores=1, fma_efficiency_all_cores=0.8), 256, 512, 512)
        .kernel_seconds)


def test_half_width_pipes_halve_the_fma_rate():
    """Zen 4 (`fma_bits` 256 under 16 lanes): one 16-lane FMA a cycle, so FMA-bound kernels
    take twice the cycles (the small-matrix kernel: 16 FMAs at 1 a cycle, not 2), and the
    peak halves."""
    zen4 = AVX512.replace(fma_bits=256)
    assert zen4.vector_fmas_per_cycle == 1.0 and AVX512.vector_fmas_per_cycle == 2.0
    assert zen4.fp32_peak_flops == AVX512.fp32_peak_flops / 2
    assert small_gemm_cycles(zen4, 4, 10, 64) == (10 * 16 + 16, 1)
    # 6 rows of one vector: load-bound at 2 pipes ((1 + 6) / 2 loads), FMA-bound at 1 (6)
    assert small_gemm_cycles(AVX512, 6, 10, 16) == (10 * 3.5 + 6, 1)
    assert small_gemm_cycles(zen4, 6, 10, 16) == (10 * 6 + 6, 1)
    assert AVX512.replace(fma_bits=512).vector_fmas_per_cycle == 2.0  # a whole vector
    assert HASWELL.replace(fma_bits=256).vector_fmas_per_cycle == 2.0  # AVX2: whole too


def test_packing_pays_a_translation_per_page_its_lines_reach():
    """Each packed line of B (16 floats) comes from its own row: rows a page or more apart put
    every line on a new page, rows closer share one (a quarter of a page per line at 1 KiB)."""
    assert pack_page_cycles(8192) == pack_page_cycles(4096) == PACK_PAGE_CYCLES / 16
    assert pack_page_cycles(1024) == PACK_PAGE_CYCLES / 64 and pack_page_cycles(0) == 0.0
    one = HASWELL.replace(cores=1)
    strided, blocked = predict(one, 16, 1024, 2048), predict(one, 16, 1024, 2048, 0)
    extra = (strided.pack_seconds - blocked.pack_seconds) * one.clock_hz
    assert extra == pytest.approx(1024 * 2048 * PACK_PAGE_CYCLES / 16)
    assert strided.kernel_seconds == blocked.kernel_seconds


def test_small_matrix_kernel_on_avx512_only():
    # one 64-column chunk of 4 rows: k steps of max(16 FMAs / 2 pipes, 8 loads / 2 ports),
    # then 16 stores
    assert small_gemm_cycles(AVX512, 4, 10, 64) == (10 * 8 + 16, 1)
    # one 16-column chunk of 6 rows: load-bound, (1 + 6) / 2 per step
    assert small_gemm_cycles(AVX512, 6, 10, 16) == (10 * 3.5 + 6, 1)
    g = predict(AVX512, 64, 64, 64)
    assert g.kernel == "small" and g.threads == 1 and g.pack_seconds == 0.0
    assert predict(AVX512, 101, 100, 100).kernel.startswith("blis")  # above 100³ MACs
    assert predict(HASWELL, 64, 64, 64).kernel.startswith("blis")  # no AVX-512 kernels


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


def test_gemv_threads_above_its_own_threshold():
    # interface/gemv.c: below 115200 × 4 matrix elements one thread; gemv_thread.c: bands of
    # at least 4 outputs
    assert predict(HASWELL, 1, 400, 1000).threads == 1
    assert predict(HASWELL, 1, 1024, 2048).threads == HASWELL.cores
    assert predict(HASWELL, 1, 100_000, 32).threads == 8
    quiet = HASWELL.replace(thread_sync_s=0.0)
    extra = predict(HASWELL, 1, 1024, 2048).seconds - predict(quiet, 1, 1024, 2048).seconds
    assert extra == pytest.approx((HASWELL.cores - 1) * HASWELL.thread_sync_s)


def test_time_grows_with_every_dimension():
    base = predict(HASWELL, 512, 512, 512).seconds
    for shape in ((1024, 512, 512), (512, 1024, 512), (512, 512, 1024)):
        assert predict(HASWELL, *shape).seconds > 1.5 * base
