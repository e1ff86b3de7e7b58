"""GEMM on a multi-core CPU as a BLIS-style blocked algorithm (Goto & van de Geijn 2008; Van
Zee & van de Geijn, "BLIS", 2015; blocking from cache sizes after Low et al., "Analytical
Modeling Is Enough for High-Performance BLIS", 2016).

Loops, outermost first: jc over N in nc columns (a packed B panel of kc × nc lives in L3), pc
over K in kc (packing that panel), ic over M in mc rows (a packed A block of mc × kc lives in
L2), jr over nc in nr, ir over mc in mr: the mr × nr micro-kernel, kc rank-1 updates with its
B micro-panel in L1. Blocking: kc so that the B micro-panel fills at most half of L1 (and at
most 384), mc so the A block fills half of L2, nc so the B panel (shared by the threads) fills
half of L3.

Time of one thread = packing (every element of A read from where it lives and gathered into
its panels; the threads that share a B panel pack it together) + micro-kernel calls (edge
tiles cost full tiles: the packed panels are zero-padded to mr and nr) + C updates (each
micro-tile's C is loaded and stored once per kc block). A micro-kernel step costs max(FMA
cycles, load cycles); where the data lives follows its size (L1, L2, L3 or DRAM bandwidth
per core). Threads split the rows (or, when there are
fewer row panels than threads, the columns); the slowest thread sets the time, threads are
used only above the library's size threshold, and a fixed call overhead (and thread wake-up
and join) is added. A single row or column goes to GEMV: streaming the matrix once.
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
LINE = 64
MAX_KC = 384  # longer k blocks stop paying: the C update is amortised and B still fits
GEMV_MULTITHREAD_MIN = 1 << 20  # elements: smaller GEMVs stay on one thread


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


def bandwidth_for(spec: CPUSpec, size_bytes: int) -> float:
    """Bytes per cycle one core streams from the level that holds `size_bytes`."""
    if size_bytes <= spec.l2_bytes:
        return spec.l2_bytes_per_cycle
    if size_bytes <= spec.l3_bytes:
        return spec.l3_bytes_per_cycle
    return spec.dram_bytes_per_s / spec.clock_hz / spec.cores


def microkernel_cycles(spec: CPUSpec, kc: int, c_bandwidth: float,
                       efficiency: float) -> float:
    """One mr × nr micro-kernel call over kc: FMA- or load-bound, plus loading and storing
    its C tile: mr row pieces, each a cache line read and written back, from wherever C is."""
    vectors = math.ceil(spec.mr / spec.simd_lanes)
    fma = vectors * spec.nr / spec.fma_pipes
    loads = (vectors + spec.nr) / LOAD_PORTS
    c_lines = spec.mr * math.ceil(spec.nr * FLOAT / LINE)
    c_update = max(2 * vectors * spec.nr / LOAD_PORTS, 2 * c_lines * LINE / c_bandwidth)
    return kc * max(fma / efficiency, loads) + c_update + MICROKERNEL_CALL_CYCLES


def thread_cycles(spec: CPUSpec, m: int, k: int, n: int, source_bytes: int,
                  output_bytes: int, efficiency: float, b_sharers: int) -> ThreadCycles:
    """Packing and micro-kernel cycles of one thread computing an m × n block over all of k,
    with `b_sharers` threads packing each B panel together."""
    blk = blocking(spec, m, k, n)
    a_bw = bandwidth_for(spec, source_bytes)
    c_bw = bandwidth_for(spec, min(output_bytes, blk.mc * blk.nc * FLOAT))
    col_blocks, k_blocks = math.ceil(n / blk.nc), math.ceil(k / blk.kc)
    pack_b = (k * n * FLOAT / a_bw + k * n / spec.simd_lanes * PACK_B_CYCLES_PER_VECTOR) \
        / b_sharers
    pack_a = col_blocks * (m * k * FLOAT / a_bw + m * k * PACK_A_CYCLES_PER_ELEMENT)
    tiles = math.ceil(m / spec.mr) * math.ceil(n / spec.nr)
    kernel = 0.0
    for kb in range(k_blocks):
        kc = min(blk.kc, k - kb * blk.kc)
        kernel += tiles * microkernel_cycles(spec, kc, c_bw, efficiency)
    return ThreadCycles(pack_a + pack_b, kernel, tiles * k_blocks, blk)


def split(spec: CPUSpec, m: int, n: int, threads: int) -> tuple[int, int]:
    """The largest block one thread gets: rows split first, columns when rows run out."""
    row_panels = math.ceil(m / spec.mr)
    if row_panels >= threads:
        return math.ceil(row_panels / threads) * spec.mr, n
    col_panels = math.ceil(n / spec.nr)
    return m, math.ceil(col_panels / threads) * spec.nr


def gemv(spec: CPUSpec, m: int, k: int, n: int) -> CpuGemm:
    """A single row or column: stream the matrix once; FMAs at full vector width."""
    matrix = k * max(m, n) * FLOAT
    threads = spec.cores if k * m * n >= GEMV_MULTITHREAD_MIN else 1
    stream = matrix / (bandwidth_for(spec, matrix) * threads)
    flops = k * max(m, n) / (spec.simd_lanes * spec.fma_pipes * threads)
    cycles = max(stream, flops) + spec.l2_latency_cycles
    overhead = spec.call_overhead_s + (spec.thread_sync_s if threads > 1 else 0.0)
    seconds = cycles / spec.clock_hz + overhead
    return CpuGemm("gemv", threads, seconds, 0.0, cycles / spec.clock_hz, 0.0, overhead, None,
                   0, 0.0, {"l3_or_dram": matrix}, "memory" if stream >= flops else "compute")


@lru_cache(maxsize=65536)
def predict(spec: CPUSpec, m: int, k: int, n: int) -> CpuGemm:
    """Time of C[m, n] = A[m, k] @ B[k, n] in fp32 through the blocked algorithm."""
    if min(m, n) == 1:
        return gemv(spec, m, k, n)
    macs = m * k * n
    threads = min(spec.cores, math.ceil(m / spec.mr) * math.ceil(n / spec.nr)) \
        if macs >= spec.multithread_min_macs else 1
    tm, tn = split(spec, m, n, threads)
    operands = (m * k + k * n) * FLOAT
    efficiency = spec.fma_efficiency if threads == 1 else spec.fma_efficiency_all_cores
    sharers = threads if tn == n else 1  # rows split: every thread uses the same B panel
    part = thread_cycles(spec, tm, k, tn, operands, m * n * FLOAT, efficiency, sharers)
    traffic = {"a": m * k * FLOAT * math.ceil(n / part.blocking.nc), "b": k * n * FLOAT,
               "c": 2 * m * n * FLOAT * math.ceil(k / part.blocking.kc)}
    memory = sum(traffic.values()) / spec.dram_bytes_per_s if operands > spec.l3_bytes else 0.0
    compute = (part.pack_cycles + part.kernel_cycles) / spec.clock_hz
    output = m * n * FLOAT
    faults = output / 4096 * spec.page_fault_s if output > spec.fresh_output_bytes else 0.0
    overhead = spec.call_overhead_s + (spec.thread_sync_s if threads > 1 else 0.0) + faults
    useful = macs / (math.ceil(m / spec.mr) * spec.mr * math.ceil(n / spec.nr) * spec.nr * k)
    seconds = max(compute, memory) + overhead
    bound = "memory" if memory > compute else ("latency" if overhead > compute else "compute")
    return CpuGemm(f"blis_{spec.mr}x{spec.nr}", threads, seconds,
                   part.pack_cycles / spec.clock_hz, part.kernel_cycles / spec.clock_hz, memory,
                   overhead, part.blocking, part.micro_tiles, 1 - useful, traffic, bound)
