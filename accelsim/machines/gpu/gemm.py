"""GEMM timing on a SIMT GPU: the kernel a library would pick, its waves, split-K and tail.

For every kernel of the menu (kernels.py) and every split of K that a library would
consider, the time is: launch + max(waves of CTAs across the SMs, DRAM traffic / bandwidth)
+ the drain of the last stores, plus a reduction kernel when K is split. The bandwidth is
the achievable one (`dram_achievable_bytes_per_s`: the measured copy bandwidth's share of
the datasheet's). A wave's duration comes from simulating one SM with that many resident
CTAs (sm_sim.py); occupancy follows registers, shared memory, warps and the CTA limit; the
SM's share of L2 bandwidth sets how fast its copies stream. K iterations beyond the
simulated ones are extrapolated from the steady-state cycles per iteration. The kernel with
the smallest predicted time is chosen, as a heuristic library tuned on the hardware would.
M = 1 or N = 1 GEMMs may also run as a GEMV: one warp per output, each lane striding through
K with a few loads in flight, then a warp reduction.

A GPU without asynchronous global→shared copies (`has_async_copy` False: Volta, Kepler, G80)
runs the register-staged two-stage mainloop (kernels.py, sm_sim.py): two stages of shared
memory count against occupancy instead of `stages`, and each slice adds STS instructions.
Warp-wide counts (registers allocated per warp, GEMV lanes, the shuffle reduction's steps)
follow `warp_size`.

Operand layouts, where the caller knows them (`a_k_major`, `b_k_major`; DeepBench's
transposes): an operand stored with K contiguous (A transposed, or B not, in cuBLAS's
column-major terms) is read by each CTA as BM (or BN) separate rows, BK elements of each per
slice; across the grid these are many short runs in many DRAM pages, where an operand stored
M- (or N-) major is read by neighbouring CTAs as one long run. Its DRAM bytes are moved at
`K_MAJOR_DRAM_EFFICIENCY` of the achievable bandwidth. This is what makes DeepBench's V100
fp16 "TN" GEMMs with a large A (M = 512-7,680, N ≤ 64, K = 2,560-500,000) 2.2-2.4× slower
than the same "NN" shapes (about 350 against 650-850 GB/s), and the M = 35, N = 8,457 shapes
(a large K-major B) as slow. Network GEMMs do not carry layouts yet: they are read at full
efficiency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.machines.gpu.kernels import (
    SETUP_OPS,
    SIMT_MENU,
    TENSOR_MENU,
    TileConfig,
    warp_program,
)
from accelsim.machines.gpu.sm_sim import SmProgram, SmTiming, simulate_sm
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.precision import Precision

SIMULATED_ITERS = 4
QUEUE_CYCLES = 64.0  # how far a warp may run ahead of a busy shared-memory or L2 port
COPY_QUEUE_CYCLES = 256.0  # cycles of copies a warp may have queued at the L2 port
SPLITS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
GEMV_LANE_LOADS = 4  # loads each lane keeps in flight per pass over K
# DRAM efficiency of an operand stored K-major (see the module docstring): fitted on the
# even-indexed rows of DeepBench's V100 GEMMs, fp32 and fp16 together
# (accelsim/measure/data/deepbench-v100.json; tests/validation/test_gpu_v100_out_of_sample.py
# reports both halves).
K_MAJOR_DRAM_EFFICIENCY = 0.5


@dataclass(frozen=True)
class KernelChoice:
    """The chosen kernel and its predicted time, with the pieces that make it up."""

    name: str
    split_k: int
    ctas: int
    ctas_per_sm: int
    waves: float
    seconds: float
    compute_seconds: float
    dram_seconds: float
    launch_seconds: float
    reduce_seconds: float
    dram_bytes: int
    bound: str


def occupancy(tile: TileConfig, spec: GPUSpec, precision: Precision) -> int:
    """Resident CTAs per SM, limited by registers, shared memory, warps and the CTA cap."""
    regs_per_warp = math.ceil(tile.registers_per_thread * spec.warp_size
                              / spec.register_alloc_unit) * spec.register_alloc_unit
    by_regs = spec.registers_per_sm // (regs_per_warp * tile.warps)
    by_smem = spec.shared_memory_per_sm_bytes // tile.shared_bytes(precision.bytes,
                                                                   spec.has_async_copy)
    by_warps = spec.max_warps_per_sm // tile.warps
    fits = tile.registers_per_thread <= spec.max_registers_per_thread
    return min(by_regs, by_smem, by_warps, spec.max_ctas_per_sm) if fits else 0


def l2_share(spec: GPUSpec, active_sms: int) -> float:
    """Bytes per cycle one SM can move to and from L2: its fair share of the L2 bandwidth,
    at most what its own port carries."""
    fair = spec.l2_bytes_per_s / spec.clock_hz / max(1, active_sms)
    return min(fair, spec.l2_port_bytes_per_cycle_per_sm)


def sm_inputs(spec: GPUSpec, precision: Precision, tile: TileConfig, share: float,
              aligned: bool, k_iters: int) -> tuple[SmProgram, SmTiming]:
    """The warp program and SM timing that sm_sim.simulate_sm runs for one CTA of `tile`
    looping over `k_iters` K slices, its copies streaming at `share` bytes per cycle."""
    lanes = spec.fp32_lanes_per_sm / spec.schedulers_per_sm
    tensor = 1.0 if precision is Precision.FP32 else \
        spec.tensor_rate(precision) / spec.schedulers_per_sm
    prog = warp_program(tile, precision, lanes, tensor, aligned, spec.warp_size,
                        spec.has_async_copy)
    program = SmProgram(
        setup=prog.setup, global_loads=prog.global_loads, shared_stores=prog.shared_stores,
        shared_loads=prog.shared_loads, math=prog.math, inner_steps=prog.inner_steps,
        loop_overhead=prog.loop_overhead, stores=prog.stores, epilogue=prog.epilogue,
        k_iters=k_iters, stages=tile.pipeline_depth(spec.has_async_copy),
        async_copy=bool(spec.has_async_copy))
    port = spec.shared_bytes_per_cycle_per_sm
    timing = SmTiming(
        alu_latency_cycles=float(spec.fma_latency_cycles),
        shared_latency_cycles=float(spec.shared_latency_cycles),
        memory_latency_cycles=float(spec.dram_latency_cycles),
        barrier_latency_cycles=float(spec.barrier_latency_cycles),
        math_cycles=float(prog.math_cycles),
        shared_load_cycles=float(prog.shared_load_bytes / port),
        shared_store_cycles=float(prog.load_bytes / port),
        load_cycles=float(prog.load_bytes / share), store_cycles=float(prog.store_bytes / share),
        queue_cycles=QUEUE_CYCLES, copy_queue_cycles=COPY_QUEUE_CYCLES,
        math_issue_gap_cycles=float(spec.warp_issue_interval_cycles))
    return program, timing


@lru_cache(maxsize=8192)
def _simulate(tile: TileConfig, spec: GPUSpec, precision: Precision, ctas: int, k_iters: int,
              share: float, aligned: bool) -> tuple[float, float]:
    program, timing = sm_inputs(spec, precision, tile, share, aligned, k_iters)
    return simulate_sm(ctas, tile.warps, spec.schedulers_per_sm, program, timing)


def wave_cycles(tile: TileConfig, spec: GPUSpec, precision: Precision, ctas: int,
                k_iters: int, share: float, aligned: bool) -> tuple[float, float]:
    """(cycles until the last store issues, until it completes) for `ctas` CTAs on one SM;
    beyond SIMULATED_ITERS iterations, the steady-state cycles per iteration extrapolate."""
    if k_iters <= SIMULATED_ITERS:
        return _simulate(tile, spec, precision, ctas, k_iters, share, aligned)
    before = _simulate(tile, spec, precision, ctas, SIMULATED_ITERS - 1, share, aligned)
    after = _simulate(tile, spec, precision, ctas, SIMULATED_ITERS, share, aligned)
    extra = (k_iters - SIMULATED_ITERS) * (after[0] - before[0])
    return after[0] + extra, after[1] + extra


def _dram_seconds(m: int, k: int, n: int, precision: Precision, traffic: int,
                  spec: GPUSpec, a_k_major: bool, b_k_major: bool) -> float:
    """`traffic` bytes at the achievable bandwidth, K-major operands' bytes at
    K_MAJOR_DRAM_EFFICIENCY of it."""
    short = (a_k_major * m + b_k_major * n) * k * precision.bytes
    extra = short * (1 / K_MAJOR_DRAM_EFFICIENCY - 1)
    return (traffic + extra) / spec.dram_achievable_bytes_per_s


def _dram_bytes(m: int, k: int, n: int, precision: Precision, split: int,
                atomic: bool = False) -> int:
    """Operands read once, C written once, and with a split K reduced by a second kernel:
    split - 1 fp32 partial tiles written and read back (none when the partials are added
    into C with atomics: that traffic stays in L2, `atomic_seconds`)."""
    out = 4 if precision is Precision.INT8 else precision.bytes  # int8 GEMMs emit int32
    partials = (split - 1) * m * n * 4 * 2 if split > 1 and not atomic else 0
    return (m * k + k * n) * precision.bytes + m * n * out + partials


def reduce_seconds(m: int, n: int, split: int, spec: GPUSpec) -> float:
    """The split-K reduction kernel: read `split` partial tiles, write the result."""
    if split == 1:
        return 0.0
    traffic = (split + 1) * m * n * 4
    latency = 2 * spec.dram_latency_cycles / spec.clock_hz
    return spec.kernel_launch_s + latency + traffic / spec.dram_achievable_bytes_per_s


def atomic_seconds(m: int, n: int, split: int, spec: GPUSpec) -> float:
    """A split K reduced in place: each of the split - 1 CTAs beyond the first of an output
    tile adds its fp32 partial into C with atomics, which the L2 executes (4 bytes read,
    added and written back per output); the adds stream at the L2's bandwidth."""
    if split == 1:
        return 0.0
    return (split - 1) * m * n * 4 / spec.l2_bytes_per_s


def tiled_kernel(tile: TileConfig, split: int, m: int, k: int, n: int, spec: GPUSpec,
                 precision: Precision, gathered: bool = False, atomic: bool = False,
                 a_k_major: bool = False, b_k_major: bool = False) -> KernelChoice | None:
    """`tile` with K split `split` ways (None if it cannot run on an SM): `split` times the
    CTAs, each walking K / split, then the partials reduced by a second kernel
    (`reduce_seconds`) or, with `atomic`, added into C in L2 (`atomic_seconds`; C must be
    zeroed first, which the caller times). `gathered`: the A operand is gathered element by
    element (an implicit-GEMM convolution's im2col rows are not contiguous in memory), so
    its copies are scalar, not 16-byte vectors. `a_k_major`, `b_k_major`: the operands'
    layouts (module docstring)."""
    per_sm = occupancy(tile, spec, precision)
    k_slice = math.ceil(k / split)
    if per_sm == 0 or (split > 1 and k_slice < 1):
        return None
    ctas = math.ceil(m / tile.bm) * math.ceil(n / tile.bn) * split
    k_iters = math.ceil(k_slice / tile.bk)
    aligned = not gathered and (k * precision.bytes) % 16 == 0 and \
        (n * precision.bytes) % 16 == 0
    slots = spec.sm_count * per_sm
    full, rest = divmod(ctas, slots)
    share = l2_share(spec, min(spec.sm_count, ctas))
    cycles, drain = 0.0, 0.0
    if full:
        busy, last = wave_cycles(tile, spec, precision, per_sm, k_iters, share, aligned)
        cycles, drain = full * busy, last - busy
    if rest:
        busy, last = wave_cycles(tile, spec, precision, math.ceil(rest / spec.sm_count),
                                 k_iters, share, aligned)
        cycles, drain = cycles + busy, last - busy
    compute = (cycles + drain) / spec.clock_hz
    traffic = _dram_bytes(m, k, n, precision, split, atomic)
    dram = _dram_seconds(m, k, n, precision, traffic, spec, a_k_major, b_k_major)
    reduce = atomic_seconds(m, n, split, spec) if atomic else reduce_seconds(m, n, split, spec)
    total = spec.kernel_launch_s + spec.cold_start_s + max(compute, dram) + reduce
    return KernelChoice(f"{tile.name}" + (f"_splitk{split}" if split > 1 else ""), split,
                        ctas, per_sm, ctas / slots, total, compute, dram,
                        spec.kernel_launch_s, reduce, traffic,
                        "memory" if dram > compute else "compute")


def gemv_kernel(m: int, k: int, n: int, spec: GPUSpec, precision: Precision) -> KernelChoice:
    """y = x·B with one warp per output: each of its warp_size lanes keeps GEMV_LANE_LOADS
    loads in flight per pass over K, each pass a round trip to DRAM, then a shuffle
    reduction across the warp."""
    outputs = max(m, n)
    passes = math.ceil(k / (spec.warp_size * GEMV_LANE_LOADS))
    latency = passes * spec.dram_latency_cycles / spec.clock_hz
    traffic = (m * k + k * n) * precision.bytes + m * n * 4
    dram = traffic / spec.dram_achievable_bytes_per_s
    shuffles = (spec.warp_size - 1).bit_length()  # a shuffle tree over the warp's lanes
    reduction = shuffles * spec.shared_latency_cycles / spec.clock_hz
    body = max(latency, dram + spec.dram_latency_cycles / spec.clock_hz) + reduction
    total = spec.kernel_launch_s + spec.cold_start_s + body
    ctas = math.ceil(outputs / 4)
    return KernelChoice("gemv", 1, ctas, min(ctas, spec.max_ctas_per_sm), ctas / spec.sm_count,
                        total, latency + reduction, dram, spec.kernel_launch_s, 0.0, traffic,
                        "memory" if dram > latency else "latency")


def lower_bound(tile: TileConfig, split: int, m: int, k: int, n: int, spec: GPUSpec,
                precision: Precision) -> float:
    """A time no run of this kernel can beat: its math at full pipe rate, its DRAM traffic,
    one memory round trip, launch and reduction. Used to skip hopeless candidates."""
    per_sm = occupancy(tile, spec, precision)
    if per_sm == 0:
        return math.inf
    ctas = math.ceil(m / tile.bm) * math.ceil(n / tile.bn) * split
    k_iters = math.ceil(math.ceil(k / split) / tile.bk)
    waves = math.ceil(ctas / (spec.sm_count * per_sm))
    resident = min(per_sm, math.ceil(ctas / spec.sm_count))
    lanes = spec.fp32_lanes_per_sm if precision is Precision.FP32 else \
        spec.tensor_rate(precision) / 2
    warps_per_scheduler = resident * tile.warps / spec.schedulers_per_sm
    pace = max(1.0, spec.warp_issue_interval_cycles / max(warps_per_scheduler, 1.0))
    math_cycles = resident * tile.bm * tile.bn * tile.bk * k_iters / lanes * pace
    chain = (SETUP_OPS * spec.fma_latency_cycles + 2 * spec.dram_latency_cycles)
    cycles = waves * (math_cycles + chain)
    dram = _dram_bytes(m, k, n, precision, split) / spec.dram_achievable_bytes_per_s
    return spec.kernel_launch_s + spec.cold_start_s + max(cycles / spec.clock_hz, dram) + \
        reduce_seconds(m, n, split, spec)


def candidates(m: int, k: int, n: int, spec: GPUSpec,
               precision: Precision) -> list[tuple[float, TileConfig, int]]:
    """(lower bound, tile, split) for every kernel of the menu a library would consider."""
    menu = SIMT_MENU if precision is Precision.FP32 else TENSOR_MENU
    out = [(lower_bound(tile, split, m, k, n, spec, precision), tile, split)
           for tile in menu for split in splits(tile, m, k, n, spec)]
    return sorted(out, key=lambda item: item[0])


def splits(tile: TileConfig, m: int, k: int, n: int, spec: GPUSpec,
           min_k: int = 1) -> list[int]:
    """The splits of K a library considers for `tile`: from SPLITS, as long as the grid
    stays within 4 CTAs per SM and each CTA keeps at least `min_k` elements of K."""
    tiles = math.ceil(m / tile.bm) * math.ceil(n / tile.bn)
    return [s for s in SPLITS
            if s == 1 or (tiles * s <= 4 * spec.sm_count and s * min_k <= k)]


def fastest_split(tile: TileConfig, m: int, k: int, n: int, spec: GPUSpec,
                  precision: Precision, atomic: bool = False,
                  min_k: int = 1) -> KernelChoice | None:
    """`tile` at its fastest split of K (`splits`), each split timed with its partial GEMMs
    of K / split and their reduction; None if the tile cannot run on an SM."""
    timed = [tiled_kernel(tile, s, m, k, n, spec, precision, atomic=atomic)
             for s in splits(tile, m, k, n, spec, min_k)]
    found = [c for c in timed if c is not None]
    return min(found, key=lambda c: c.seconds) if found else None


@lru_cache(maxsize=65536)
def choose_kernel(m: int, k: int, n: int, spec: GPUSpec, precision: Precision,
                  a_k_major: bool = False, b_k_major: bool = False) -> KernelChoice:
    """The fastest kernel of the menu (and split of K) for C[m, n] = A[m, k] @ B[k, n],
    its operands stored as `a_k_major` and `b_k_major` say (module docstring).

    Candidates are simulated in order of their lower bound; the search stops once no
    remaining candidate's bound can beat the best time found (branch and bound).
    """
    best = gemv_kernel(m, k, n, spec, precision) if min(m, n) == 1 else None
    for bound, tile, split in candidates(m, k, n, spec, precision):
        if best is not None and bound >= best.seconds:
            break
        choice = tiled_kernel(tile, split, m, k, n, spec, precision, a_k_major=a_k_major,
                              b_k_major=b_k_major)
        if choice is not None and (best is None or choice.seconds < best.seconds):
            best = choice
    if best is None:  # no kernel of the menu fits on an SM: say which limit
        from accelsim.machines.capacity import kernel_fit_error

        raise kernel_fit_error(spec, precision,
                               SIMT_MENU if precision is Precision.FP32 else TENSOR_MENU)
    return best
