"""GEMM on a multi-core CPU as numpy's BLAS (OpenBLAS) runs it: a blocked algorithm (Goto &
van de Geijn 2008; Van Zee & van de Geijn, "BLIS", 2015; blocking from cache sizes after Low
et al., "Analytical Modeling Is Enough for High-Performance BLIS", 2016) behind OpenBLAS's
choices of path, threads and partition. Sources: github.com/OpenMathLib/OpenBLAS, files named
where used. numpy calls cblas_sgemm row-major, which OpenBLAS runs as the column-major
Cᵀ = Bᵀ·Aᵀ: OpenBLAS's M is numpy's n and its N numpy's m.

Blocking: kc so that a B micro-panel fills at most half of L1 (and at most 384), mc so the
packed A block fills half of L2, nc so the packed B panel fills half of L3. The mr × nr
micro-kernel runs kc rank-1 updates: mr columns of C (OpenBLAS's M, in vectors), nr rows.

Time of one thread = packing (every element read from where it lives and copied into its
panels: B's rows are contiguous, A's rows are gathered; a panel takes one line from each of
B's rows, so rows a page apart cost an address translation per line, `PACK_PAGE_CYCLES`) +
micro-kernel calls + C updates (each
tile's nr rows loaded and stored once per kc block). A micro-kernel step costs max(FMA cycles
at the measured sustained rate `fma_efficiency`, load cycles); where the data lives follows
its size (L2, L3 or DRAM bandwidth per core), a working set that every call reads again
staying in a level only within half of it (`RESIDENT_SHARE`, the blocking's rule); operands
beyond half of L3 also pay their DRAM traffic. Columns beyond the last full mr panel go
through the kernel's tails (mr/2, mr/4, ... 1 wide) at the FMAs those issue (`TAIL_FMAS`);
rows beyond the last nr go through narrower tails at the same cost per row. A threaded
call's micro-kernels run at the all-core rate (`fma_efficiency_all_cores`, at most the
one-thread one), which the calibration times with every core busy: on a shared VM the cores
slow down together (on the 2-vCPU EPYC Zen 4 host, 384³ on two threads ran 1.4-2.1× faster
than on one, varying from minute to minute, with no steal time and both vCPUs alike alone).
FMA issue is `vector_fmas_per_cycle`: AMD Zen 4's 256-bit pipes take a 512-bit FMA in two
halves (`fma_bits`).

Paths and threads:
- A single row or column goes to GEMV (numpy's matmul does that): the matrix streams once,
  from the level it fits in with room to spare (half of it); threads only from
  `GEMV_MULTITHREAD_MIN` elements (interface/gemv.c), each a band of the output
  (driver/level2/gemv_thread.c).
- AVX-512 kernel families take GEMMs up to 100³ MACs through an unpacked one-thread
  "small matrix" kernel (kernel/x86_64/sgemm_small_kernel_{permit,nn}_skylakex.c), issue-
  or load-bound.
- Threads (interface/gemm.c): one up to `multithread_min_macs` MACs, else
  min(cores, MACs // multithread_min_macs). They form a grid (driver/level3/level3_thread.c):
  `col_threads` split numpy's columns, each at least `switch_ratio` wide, `row_threads`
  groups split the rows, and the grid is reshaped towards square blocks. Every thread packs
  its own columns of B (threads of different groups pack the same ones again) and one piece
  of its group's rows of A (`switch_ratio` rows at least, so a small m leaves threads without
  a piece to pack), then computes its columns over all of its group's rows. The slowest
  thread sets the time.
- A threaded call costs `thread_sync_s` for each thread beyond the caller: exec_blas
  (driver/others/blas_server.c) wakes each worker, hands it its job and waits for each in
  turn. It is measured on the host (measure/host.py); specs without a measurement keep the
  default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.machines.cpu.spec import CPUSpec

FLOAT = 4
LOAD_PORTS = 2
MICROKERNEL_CALL_CYCLES = 24  # call, pointer setup, loop control, prefetches
PACK_B_CYCLES_PER_VECTOR = 1.0  # B rows are contiguous: a load and a store per vector
PACK_A_CYCLES_PER_ELEMENT = 0.5  # A is gathered across rows into mr-wide panels
# Packing B's panels reads one line of each of B's rows (mr floats); rows a page or more apart
# put every line on its own page (an address translation each; rows closer share a page).
# Cycles per page so reached (fit: one-thread numpy GEMMs of k = 1024 and n = 256, 512, 2048
# at 16-128 rows on the 2-vCPU EPYC Zen 4 host, the intercept over rows less the packing's
# streaming cost: 0.16, 0.44, 1.19 cycles per element; least squares 17.7).
PACK_PAGE_CYCLES = 18.0
PAGE = 4096
LINE = 64
MAX_KC = 384  # longer k blocks stop paying: the C update is amortised and B still fits
RESIDENT_SHARE = 0.5  # of a cache level a working set re-read every call may occupy
# OpenBLAS interface/gemv.c: below 115200 × GEMM_MULTITHREAD_THRESHOLD (4) matrix elements,
# one thread; driver/level2/gemv_thread.c gives each thread at least 4 output elements.
GEMV_MULTITHREAD_MIN = 115_200 * 4
GEMV_MIN_PER_THREAD = 4
# kernel/x86_64/sgemm_small_kernel_permit_skylakex.c: non-transposed GEMMs up to 100³ MACs
# take the small-matrix kernel, which KERNEL.SKYLAKEX (and COOPERLAKE, SAPPHIRERAPIDS, which
# include it) provide: OpenBLAS's AVX-512 families, the 16-lane ones.
SMALL_GEMM_MAX_MACS = 100**3
SMALL_GEMM_LANES = 16
# sgemm_small_kernel_nn_skylakex.c: C's row is cut into chunks of 4, 2 and 1 vectors (the
# last one masked); each chunk's rows go 4 (4-vector chunk) or 6 at a time, the rest 2 and 1.
# (vectors, rows per tile)
SMALL_GEMM_TILES = ((4, 4), (2, 6), (1, 6))
# The packed kernels' tails (OpenBLAS's M, numpy's columns) narrower than a vector: vector FMAs
# per row of C and step of k, by the kernel's fp32 lanes. sgemm_kernel_16x4_skylakex_3.c
# (AVX-512): m8 and m4 pack 2 and 4 rows into one zmm (KERNEL_k1m8n4: 2 FMAs per 4 rows,
# KERNEL_k1m4n4: 1), m2 one xmm per 2 rows, m1 one per 4 rows. sgemm_kernel_8x4_haswell_2.c
# (AVX2): m4 one xmm FMA per row, m2 and m1 one per 2 and 4 rows.
TAIL_FMAS: dict[int, dict[int, float]] = {16: {8: 0.5, 4: 0.25, 2: 0.5, 1: 0.25},
                                          8: {4: 1.0, 2: 0.5, 1: 0.25}}


@dataclass(frozen=True)
class Blocking:
    mc: int
    kc: int
    nc: int


@dataclass(frozen=True)
class CpuGemm:
    """Predicted time of one GEMM and where it went."""

    kernel: str
    threads: int
    seconds: float
    pack_seconds: float
    kernel_seconds: float
    memory_seconds: float
    overhead_seconds: float
    blocking: Blocking | None
    micro_tiles: int
    edge_waste: float  # fraction of micro-kernel work spent on padding
    traffic: dict[str, int]
    bound: str


@dataclass(frozen=True)
class ThreadGrid:
    """OpenBLAS's threads over C (level3_thread.c): `col_threads` × `row_threads` threads; one
    computes `rows` × `cols` of C and packs `cols` columns of B and at most `piece` rows of A."""

    col_threads: int
    row_threads: int
    rows: int
    cols: int
    piece: int

    @property
    def threads(self) -> int:
        return self.col_threads * self.row_threads


@dataclass(frozen=True)
class ThreadCycles:
    """One thread's packing and micro-kernel cycles, its micro-kernel calls and blocking."""

    pack_cycles: float
    kernel_cycles: float
    micro_tiles: int
    blocking: Blocking


def blocking(spec: CPUSpec, m: int, k: int, n: int) -> Blocking:
    """Cache blocking from the cache sizes, clipped to the problem."""
    kc = max(8, min(MAX_KC, spec.l1_bytes // (2 * spec.nr * FLOAT)) // 8 * 8)
    kc = min(kc, k)
    mc = max(spec.mr, (spec.l2_bytes // (2 * kc * FLOAT)) // spec.mr * spec.mr)
    nc = max(spec.nr, (spec.l3_bytes // (2 * kc * FLOAT)) // spec.nr * spec.nr)
    return Blocking(min(mc, _round_up(m, spec.mr)), kc, min(nc, _round_up(n, spec.nr)))


def _round_up(value: int, unit: int) -> int:
    return math.ceil(value / unit) * unit


def reread_bandwidth(spec: CPUSpec, size_bytes: int) -> float:
    """Bytes per cycle one core streams a working set that every call reads again: it stays
    in a level only within `RESIDENT_SHARE` of it (the blocking's rule: the rest holds the
    other operands, the packed buffers, the caller's data)."""
    return bandwidth_for(spec, math.ceil(size_bytes / RESIDENT_SHARE))


def beyond_l3_share(spec: CPUSpec, size_bytes: float) -> bool:
    """Whether a working set re-read every call outgrows the share of L3 it keeps
    (`RESIDENT_SHARE`): it then comes from DRAM."""
    return size_bytes > spec.l3_bytes * RESIDENT_SHARE


def bandwidth_for(spec: CPUSpec, size_bytes: int) -> float:
    """Bytes per cycle one core streams from the level that holds `size_bytes`."""
    if size_bytes <= spec.l2_bytes:
        return spec.l2_bytes_per_cycle
    if size_bytes <= spec.l3_bytes:
        return spec.l3_bytes_per_cycle
    return spec.dram_bytes_per_s / spec.clock_hz / spec.cores


def switch_ratio(spec: CPUSpec) -> int:
    """OpenBLAS's SWITCH_RATIO for sgemm (param.h): the fewest columns or rows worth a thread
    of their own, 16 in the AVX-512 families (SKYLAKEX, COOPERLAKE, SAPPHIRERAPIDS) and 8 in
    HASWELL and ZEN: one vector register of floats."""
    return spec.simd_lanes


def gemm_threads(spec: CPUSpec, m: int, k: int, n: int) -> int:
    """Threads OpenBLAS asks for (interface/gemm.c): one up to `multithread_min_macs` MACs
    (SMP_THRESHOLD_MIN 65536 × GEMM_MULTITHREAD_THRESHOLD 4), else one per that many MACs, at
    most one per core."""
    macs = m * k * n
    if macs <= spec.multithread_min_macs:
        return 1
    return max(1, min(spec.cores, macs // spec.multithread_min_macs))


def thread_grid(spec: CPUSpec, m: int, n: int, threads: int) -> tuple[int, int]:
    """(col_threads, row_threads) as level3_thread.c's gemm_thread lays `threads` over C:
    columns first, halving until each has `switch_ratio`; then row groups of at most
    `switch_ratio` × col_threads rows; then halve columns and double rows while that makes
    the blocks squarer (smaller m·col_threads + n·row_threads)."""
    ratio = switch_ratio(spec)
    cols = 1 if n < 2 * ratio else threads
    while cols > 1 and n < cols * ratio:
        cols //= 2
    if m < ratio * cols:
        return cols, 1
    rows = min(math.ceil(m / (ratio * cols)), threads // cols)
    while cols % 2 == 0 and m * cols + n * rows > m * (cols // 2) + n * rows * 2:
        cols, rows = cols // 2, rows * 2
    return cols, rows


def row_pieces(m: int, threads: int, ratio: int) -> tuple[int, ...]:
    """The rows of A each thread packs (gemm_driver's range_N): m shared out evenly, each
    piece widened to `ratio` rows unless it is a single row, the last ones left empty."""
    pieces, left = [], m
    for index in range(threads):
        width = math.ceil(left / (threads - index)) if left > 0 else 0
        width = min(ratio if 1 < width < ratio else width, left)
        pieces.append(width)
        left -= width
    return tuple(pieces)


def partition(spec: CPUSpec, m: int, n: int, threads: int) -> ThreadGrid:
    """The thread grid and the largest block one thread computes and packs."""
    cols_t, rows_t = thread_grid(spec, m, n, threads) if threads > 1 else (1, 1)
    pieces = row_pieces(m, cols_t * rows_t, switch_ratio(spec))
    groups = [sum(pieces[g * cols_t:(g + 1) * cols_t]) for g in range(rows_t)]
    return ThreadGrid(cols_t, rows_t, max(groups), math.ceil(n / cols_t), max(pieces))


def microkernel_cycles(spec: CPUSpec, kc: int, c_bandwidth: float,
                       efficiency: float) -> float:
    """One mr × nr micro-kernel call over kc: FMA- or load-bound, plus loading and storing
    its C tile: nr row pieces mr wide (OpenBLAS's column-major view of numpy's row-major C),
    each read and written back, from wherever C is."""
    vectors = math.ceil(spec.mr / spec.simd_lanes)
    fma = vectors * spec.nr / spec.vector_fmas_per_cycle
    loads = (vectors + spec.nr) / LOAD_PORTS
    c_lines = spec.nr * math.ceil(spec.mr * FLOAT / LINE)
    c_update = max(2 * vectors * spec.nr / LOAD_PORTS, 2 * c_lines * LINE / c_bandwidth)
    return kc * max(fma / efficiency, loads) + c_update + MICROKERNEL_CALL_CYCLES


def pack_page_cycles(row_bytes: int) -> float:
    """Address translation cycles per packed element of B, whose rows are `row_bytes` apart
    (`PACK_PAGE_CYCLES` per page its panel lines reach)."""
    return min(1.0, row_bytes / PAGE) * FLOAT / LINE * PACK_PAGE_CYCLES


def thread_cycles(spec: CPUSpec, grid: ThreadGrid, k: int, source_bytes: int,
                  output_bytes: int, row_bytes: int = 0) -> ThreadCycles:
    """Packing and micro-kernel cycles of one thread: its `grid.cols` columns of B (over all
    of k), its piece of A (again for each nc panel), and its rows × cols block of C in
    full-tile equivalents (`column_fmas`; rows need no padding: the kernels' row tails cost
    per row)."""
    blk = blocking(spec, grid.rows, k, grid.cols)
    a_bw = reread_bandwidth(spec, source_bytes)
    c_bw = bandwidth_for(spec, min(output_bytes, blk.mc * blk.nc * FLOAT))
    col_blocks, k_blocks = math.ceil(grid.cols / blk.nc), math.ceil(k / blk.kc)
    pack_b = k * grid.cols * (FLOAT / a_bw + PACK_B_CYCLES_PER_VECTOR / spec.simd_lanes
                              + pack_page_cycles(row_bytes))
    pack_a = col_blocks * grid.piece * k * (FLOAT / a_bw + PACK_A_CYCLES_PER_ELEMENT)
    tiles = column_fmas(spec, grid.cols) / math.ceil(spec.mr / spec.simd_lanes) \
        * grid.rows / spec.nr
    kernel = 0.0
    efficiency = spec.fma_efficiency if grid.threads < 2 else \
        min(spec.fma_efficiency, spec.fma_efficiency_all_cores)
    for kb in range(k_blocks):
        kc = min(blk.kc, k - kb * blk.kc)
        kernel += tiles * microkernel_cycles(spec, kc, c_bw, efficiency)
    return ThreadCycles(pack_a + pack_b, kernel, math.ceil(tiles) * k_blocks, blk)


def column_fmas(spec: CPUSpec, n: int) -> float:
    """Vector FMAs per row of C and step of k for n columns: full mr panels, then the
    kernel's tails of mr/2, mr/4, ... 1 columns, each costing what `TAIL_FMAS` says for the
    kernel's vector width (one narrower vector per row where it says nothing)."""
    full, rest = divmod(n, spec.mr)
    fmas = float(full * math.ceil(spec.mr / spec.simd_lanes))
    tails = TAIL_FMAS.get(spec.simd_lanes, {})
    width = spec.mr // 2
    while rest and width:
        if rest >= width:
            fmas += tails.get(width, math.ceil(width / spec.simd_lanes))
            rest -= width
        width //= 2
    return fmas


def sync_seconds(spec: CPUSpec, threads: int) -> float:
    """Waking and joining the `threads` - 1 workers of a threaded call: exec_blas
    (driver/others/blas_server.c) hands each its job and waits for each in turn, so the cost
    grows with every thread (`thread_sync_s` each)."""
    return (threads - 1) * spec.thread_sync_s


def gemv(spec: CPUSpec, m: int, k: int, n: int) -> CpuGemm:
    """A single row or column: stream the matrix once, each thread a band of the output;
    FMAs at full vector width."""
    out = max(m, n)
    matrix = k * out * FLOAT
    threads = 1 if k * out < GEMV_MULTITHREAD_MIN else \
        max(1, min(spec.cores, out // GEMV_MIN_PER_THREAD))
    band = math.ceil(out / threads)
    stream = k * band * FLOAT / reread_bandwidth(spec, matrix)
    flops = k * band / (spec.simd_lanes * spec.vector_fmas_per_cycle)
    cycles = max(stream, flops) + spec.l2_latency_cycles
    overhead = spec.call_overhead_s + sync_seconds(spec, threads)
    seconds = cycles / spec.clock_hz + overhead
    return CpuGemm("gemv", threads, seconds, 0.0, cycles / spec.clock_hz, 0.0, overhead, None,
                   0, 0.0, {"l3_or_dram": matrix}, "memory" if stream >= flops else "compute")


def small_gemm_applies(spec: CPUSpec, m: int, k: int, n: int) -> bool:
    """Whether OpenBLAS takes its small-matrix kernel (module docstring)."""
    return spec.simd_lanes == SMALL_GEMM_LANES and m * k * n <= SMALL_GEMM_MAX_MACS


def small_gemm_cycles(spec: CPUSpec, m: int, k: int, n: int) -> tuple[float, int]:
    """(cycles, tiles) of the small-matrix kernel: no packing; each tile of `vectors` ×
    `rows` accumulators runs k steps of max(FMAs over the FMA pipes, loads of B's vectors and
    broadcasts of A's values over the load ports), then stores its C."""
    lanes = spec.simd_lanes
    chunks = (n // (4 * lanes), n % (4 * lanes) // (2 * lanes),
              math.ceil(n % (2 * lanes) / lanes))
    cycles, tiles = 0.0, 0
    for (vectors, rows), count in zip(SMALL_GEMM_TILES, chunks, strict=True):
        for height, tall in ((rows, m // rows), (2, m % rows // 2), (1, m % rows % 2)):
            step = max(vectors * height / spec.vector_fmas_per_cycle,
                       (vectors + height) / LOAD_PORTS)
            cycles += count * tall * (k * step + vectors * height)
            tiles += count * tall
    return cycles, tiles


def small_gemm(spec: CPUSpec, m: int, k: int, n: int) -> CpuGemm:
    """One thread through the small-matrix kernel, operands read where they are."""
    cycles, tiles = small_gemm_cycles(spec, m, k, n)
    seconds = cycles / spec.clock_hz
    useful = n / (math.ceil(n / spec.simd_lanes) * spec.simd_lanes)
    bound = "latency" if spec.call_overhead_s > seconds else "compute"
    return CpuGemm("small", 1, seconds + spec.call_overhead_s, 0.0, seconds, 0.0,
                   spec.call_overhead_s, None, tiles, 1 - useful,
                   {"a": m * k * FLOAT, "b": k * n * FLOAT, "c": m * n * FLOAT}, bound)


@lru_cache(maxsize=65536)
def predict(spec: CPUSpec, m: int, k: int, n: int, row_bytes: int | None = None) -> CpuGemm:
    """Time of C[m, n] = A[m, k] @ B[k, n] in fp32 through numpy's BLAS. B's rows lie
    `row_bytes` apart (by default n floats, numpy's layout; 0 for weights already in blocks)."""
    if min(m, n) == 1:
        return gemv(spec, m, k, n)
    if small_gemm_applies(spec, m, k, n):
        return small_gemm(spec, m, k, n)
    threads = gemm_threads(spec, m, k, n)
    grid = partition(spec, m, n, threads)
    operands = (m * k + k * n) * FLOAT
    part = thread_cycles(spec, grid, k, operands, m * n * FLOAT,
                         n * FLOAT if row_bytes is None else row_bytes)
    traffic = {"a": m * k * FLOAT * math.ceil(n / part.blocking.nc), "b": k * n * FLOAT,
               "c": 2 * m * n * FLOAT * math.ceil(k / part.blocking.kc)}
    memory = sum(traffic.values()) / spec.dram_bytes_per_s \
        if beyond_l3_share(spec, operands) else 0.0
    compute = (part.pack_cycles + part.kernel_cycles) / spec.clock_hz
    output = m * n * FLOAT
    faults = output / 4096 * spec.page_fault_s if output > spec.fresh_output_bytes else 0.0
    overhead = spec.call_overhead_s + sync_seconds(spec, grid.threads) + faults
    useful = n / (column_fmas(spec, n) * spec.simd_lanes)
    seconds = max(compute, memory) + overhead
    bound = "memory" if memory > compute else ("latency" if overhead > compute else "compute")
    return CpuGemm(f"blis_{spec.mr}x{spec.nr}", grid.threads, seconds,
                   part.pack_cycles / spec.clock_hz, part.kernel_cycles / spec.clock_hz, memory,
                   overhead, part.blocking, part.micro_tiles, 1 - useful, traffic, bound)
