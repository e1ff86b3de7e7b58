"""SIMT GPU specifications, as data. Units are in the field names.

Sources: NVIDIA's architecture whitepapers and datasheets (G80/GeForce 8800 GTX technical
brief 2006; Kepler GK210 / Tesla K80 datasheet; Volta V100 whitepaper 2017; Hopper H100
whitepaper 2022; H200 product brief 2024) and the CUDA occupancy limits per compute
capability. Latencies are typical microbenchmark figures for each generation (Jia et al.,
"Dissecting the NVIDIA Volta GPU Architecture via Microbenchmarking", 2018, and the Hopper
follow-up by Luo et al., 2024); `kernel_launch_s` for the H200 is the measured device time of
a trivial kernel replayed in a CUDA graph (accelsim/measure/data/gpu-h200-2026-11.json).

A spec is the hardware only; the software that drives it (framework, library algorithms,
layout, host costs) is the machine's `GPURuntime` (runtime.py). `grid_sync_cycles` and
`dram_achievable_fraction` are device properties the library kernels expose; they come from
the H200 system's measurements (mostly its whole-network file, accelsim/measure/data/
gpu-h200-network-2026-11-27.json, "the network file" below), and the other presets keep the
H200's values for them.

Power (accelsim/energy.py prices runs with it): `process_nm` is the die's node, `tdp_watts`
the datasheet's board power (per die for the K80), `idle_watts` the static power drawn over a
run, which follows what the spec builds from each preset's own figure at its own design
(`reference_idle_watts`; below). Only the K80 has a measured idle figure (Jouppi et al. 2017,
Table 2: 25 W idle, 98 W busy, 150 W TDP per die); NVIDIA publishes none for the others, so
their reference idle power is the K80 die's idle share of its TDP (25 / 150) times their TDP
— an assumption, noted per preset. A run's instructions, register and cache bytes and active
power come from power.py (`activity`); the supply follows `clock_hz` from `nominal_clock_hz`
(`volts_ratio`).

Idle power follows the spec's floor plan (`GPUSpec.floor_plan`; power.py gives its shares
and their sources, `energy.idle_watts_of` the model): every preset idles at its reference
figure at its defaults, an H100 with twice the SMs (264) at 187 W against its 117 W. The
`reference_*` fields hold the design that figure is at, filled in from the spec itself when
it is made (as `nominal_clock_hz` is), so a what-if keeps its preset's and scales from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accelsim.energy import Activity, Block, volts_ratio
from accelsim.errors import AccelsimError, SpecError
from accelsim.machines.gpu.power import Run, activity_of, floor_plan_of, idle_watts_from
from accelsim.machines.specs import SpecValue, check_spec, replace_spec
from accelsim.precision import Precision

REGISTER_BYTES = 4  # a 32-bit register


@dataclass(frozen=True)
class GPUSpec:
    """One GPU: streaming multiprocessors (SMs) of warp schedulers and FP32 lanes."""

    name: str
    sm_count: int
    clock_hz: float
    fp32_lanes_per_sm: int
    schedulers_per_sm: int
    dram_bytes_per_s: float
    dram_bytes: int  # device memory capacity (HBM or GDDR); see machines/capacity.py
    l2_bytes: int
    l2_bytes_per_s: float
    shared_bytes_per_cycle_per_sm: int
    registers_per_sm: int
    shared_memory_per_sm_bytes: int
    max_warps_per_sm: int
    max_ctas_per_sm: int
    max_registers_per_thread: int
    dram_latency_cycles: int
    l2_latency_cycles: int
    shared_latency_cycles: int
    fma_latency_cycles: int
    kernel_launch_s: float
    flops_per_lane_per_cycle: float = 2.0  # an FMA; G80 adds a co-issued MUL (3)
    warp_issue_interval_cycles: float = 1.5  # a lone warp issues math every 1.5 cycles
    l2_port_bytes_per_cycle_per_sm: float = 64.0
    # L1 data cache and shared memory share this SRAM: the shared-memory carve-out
    # (shared_memory_per_sm_bytes) can be at most this much.
    l1_bytes_per_sm: int = 256 * 1024
    barrier_latency_cycles: float = 20.0
    cold_start_cycles: float = 1000.0  # a GEMM kernel's first CTAs: code and constant misses
    # --- the device under library kernels ---
    # Kernels stream DRAM at most at this fraction of `dram_bytes_per_s`: the H200's measured
    # copy bandwidth, 4,185 GB/s of 4,800 (gpu-h200-2026-11.json "peaks").
    dram_achievable_fraction: float = 0.87
    # A grid-wide barrier between the time steps of a persistent kernel (cuDNN's
    # RNN_blockPersist): arrive on a counter in L2, spin until all CTAs have. Fitted: the
    # network file's cuDNN LSTM at batch 1-64, where the step's math hides under its
    # dependent chain (recurrent.py): 2.2-2.5 µs a step in fp32, ~1.6 µs in fp16; 1,230
    # cycles (0.6 µs) puts both within ~10%.
    grid_sync_cycles: float = 1230.0
    warp_size: int = 32  # threads per warp: lanes, registers per warp, GEMV lanes
    register_alloc_unit: int = 256
    tensor_ops_per_cycle_per_sm: tuple[tuple[Precision, float], ...] = ()
    has_async_copy: bool = True  # LDGSTS (sm80+); else LDG + STS via registers
    # Cooperative grid-wide synchronization (compute capability 6.0 and later: Pascal on),
    # which cuDNN's persistent RNN kernels need: the cuDNN API reference says of
    # CUDNN_RNN_ALGO_PERSIST_STATIC / _DYNAMIC "only supported on devices with compute
    # capability >= 6.0". Without it a recurrent layer runs per step (recurrent.py).
    has_grid_sync: bool = True
    # --- power (module docstring); defaults are the H200's ---
    process_nm: float = 5.0
    tdp_watts: float = 700.0
    # The clock the supply is nominal at (energy.volts_ratio): 0, the default, is the spec's
    # own clock_hz, filled in when the spec is made, so that a clock what-if moves the clock
    # and not the nominal (the preset's datasheet clock).
    nominal_clock_hz: float = 0.0
    # Static power at the reference design (the preset's figure at its own defaults) and that
    # design (`design()`): 0, the default for each reference_* below, is this spec's own,
    # filled in when it is made, so a what-if scales idle power from its preset's design.
    reference_idle_watts: float = 700 * 25 / 150
    reference_clock_hz: float = 0.0
    reference_process_nm: float = 0.0
    reference_sm_sram_bytes: float = 0.0  # register files and L1/shared SRAM of all SMs
    reference_fp32_lanes: float = 0.0  # of all SMs
    reference_l2_bytes: float = 0.0
    reference_dram_bytes_per_s: float = 0.0
    source: str = ""

    # Overheads a what-if may remove entirely (a free launch, no cold start); idle power
    # (energy from the work alone); fields whose 0 means "this spec's own".
    may_be_zero: ClassVar[frozenset[str]] = frozenset(
        {"kernel_launch_s", "cold_start_cycles", "reference_idle_watts", "nominal_clock_hz",
         "reference_clock_hz", "reference_process_nm", "reference_sm_sram_bytes",
         "reference_fp32_lanes", "reference_l2_bytes", "reference_dram_bytes_per_s"})

    def __post_init__(self) -> None:
        check_spec(self)
        if not self.nominal_clock_hz:
            object.__setattr__(self, "nominal_clock_hz", self.clock_hz)
        for quantity, value in self.design().items():
            if not getattr(self, f"reference_{quantity}"):
                object.__setattr__(self, f"reference_{quantity}", float(value))
        for precision, _ in self.tensor_ops_per_cycle_per_sm:
            if precision not in TENSOR_PRECISIONS:
                raise SpecError(f"{self.name}: tensor_ops_per_cycle_per_sm names "
                                f"{precision.value}, which tensor cores do not run; name "
                                f"{', '.join(p.value for p in TENSOR_PRECISIONS)}")
        if self.dram_achievable_fraction > 1:
            raise SpecError(
                f"{self.name}: dram_achievable_fraction = {self.dram_achievable_fraction} "
                "must be at most 1 (the share of dram_bytes_per_s kernels reach); use e.g. "
                "0.87, the H200's measured copy bandwidth over its datasheet's")
        if self.shared_memory_per_sm_bytes > self.l1_bytes_per_sm:
            raise SpecError(
                f"{self.name}: shared_memory_per_sm_bytes = {self.shared_memory_per_sm_bytes} "
                f"must be at most l1_bytes_per_sm = {self.l1_bytes_per_sm} (shared memory is "
                "carved out of the L1 SRAM); raise l1_bytes_per_sm too, or use less shared "
                "memory")

    @property
    def dram_achievable_bytes_per_s(self) -> float:
        return self.dram_bytes_per_s * self.dram_achievable_fraction

    @property
    def cold_start_s(self) -> float:
        return self.cold_start_cycles / self.clock_hz

    @property
    def memory_bytes_per_s(self) -> float:
        """Main memory's bandwidth (`dram_bytes_per_s`): the roofline's slope."""
        return self.dram_bytes_per_s

    @property
    def fp32_peak_flops(self) -> float:
        return self.sm_count * self.fp32_lanes_per_sm * self.flops_per_lane_per_cycle * \
            self.clock_hz

    def peak_ops_per_s(self, precision: Precision) -> float:
        if precision is Precision.FP32:
            return self.fp32_peak_flops
        return self.sm_count * self.tensor_rate(precision) * self.clock_hz

    def tensor_rate(self, precision: Precision) -> float:
        """Tensor-core ops per cycle per SM at a precision."""
        rates = dict(self.tensor_ops_per_cycle_per_sm)
        if precision not in rates:
            raise AccelsimError(f"{self.name} has no {precision.value} tensor cores; it runs "
                                f"{', '.join(sorted(p.value for p in self.precisions))}")
        return rates[precision]

    @property
    def precisions(self) -> frozenset[Precision]:
        return frozenset({Precision.FP32} | {p for p, _ in self.tensor_ops_per_cycle_per_sm})

    @property
    def volts_ratio(self) -> float:
        """Supply over nominal at `clock_hz` (`energy.volts_ratio`)."""
        return volts_ratio(self.clock_hz, self.nominal_clock_hz)

    def design(self) -> dict[str, float]:
        """What the floor plan's blocks and idle power scale with (each `reference_` field
        holds its preset's): clock, node, the SMs' SRAM bytes and FP32 lanes, L2 bytes and
        DRAM bandwidth."""
        return {"clock_hz": self.clock_hz, "process_nm": self.process_nm,
                "sm_sram_bytes": float(self.sm_count * (REGISTER_BYTES * self.registers_per_sm
                                                        + self.l1_bytes_per_sm)),
                "fp32_lanes": float(self.sm_count * self.fp32_lanes_per_sm),
                "l2_bytes": float(self.l2_bytes), "dram_bytes_per_s": self.dram_bytes_per_s}

    def floor_plan(self) -> tuple[Block, ...]:
        """The die's blocks (power.py), each scaled by what this spec builds over its
        reference design."""
        return floor_plan_of(self)

    @property
    def idle_watts(self) -> float:
        """Static power of this design: `reference_idle_watts` shared over the floor plan's
        blocks, scaled by what it builds, its clock and supply and its node (power.py,
        `energy.idle_watts_of`); the reference figure at the reference design."""
        return idle_watts_from(self)

    def activity(self, result: Run) -> Activity:
        """A run's warp instructions, register and cache bytes and active power (power.py)."""
        return activity_of(self, result)

    def replace(self, **overrides: SpecValue) -> GPUSpec:
        return replace_spec(self, overrides)


TENSOR_PRECISIONS = (Precision.FP16, Precision.BF16, Precision.INT8)
# The reference design's fields (`GPUSpec.design`), not its idle figure.
REFERENCE_FIELDS = tuple(f.name for f in dataclasses.fields(GPUSpec)
                         if f.name.startswith("reference_") and not f.name.endswith("_watts"))


def _as_its_own_reference(spec: GPUSpec) -> GPUSpec:
    """`spec` (a preset made from another by `replace`) with its own design as the reference
    its idle figure is at, rather than the other's."""
    return spec.replace(**dict.fromkeys(REFERENCE_FIELDS, 0.0))


K80_IDLE_SHARE = 25 / 150  # a K80 die's measured idle over its TDP (Jouppi et al. 2017, Table 2)


def _tensor(fp16: float, bf16: float | None = None,
            int8: float | None = None) -> tuple[tuple[Precision, float], ...]:
    rates = zip(TENSOR_PRECISIONS, (fp16, bf16, int8), strict=True)
    return tuple((precision, rate) for precision, rate in rates if rate)


# Hopper (H200 and H100 SXM): 132 SMs, 4 sub-partitions of 32 FP32 lanes; dense tensor-core
# rates per SM per cycle: fp16/bf16 4,096 FLOP (989 TFLOPS at 1.83 GHz in the whitepaper),
# int8 8,192 OP.
H200 = GPUSpec(
    name="gpu-h200", sm_count=132, clock_hz=1.98e9, fp32_lanes_per_sm=128, schedulers_per_sm=4,
    dram_bytes_per_s=4.8e12, dram_bytes=141 * 10**9, l2_bytes=60 * 2**20, l2_bytes_per_s=5.5e12,
    shared_bytes_per_cycle_per_sm=128, registers_per_sm=65536,
    shared_memory_per_sm_bytes=228 * 1024, max_warps_per_sm=64, max_ctas_per_sm=32,
    max_registers_per_thread=255, dram_latency_cycles=820, l2_latency_cycles=260,
    shared_latency_cycles=30, fma_latency_cycles=4, kernel_launch_s=0.96e-6,
    tensor_ops_per_cycle_per_sm=_tensor(4096, 4096, 8192),
    # TSMC 4N (an N5-family process: 5 nm class); up to 700 W (H200 SXM product brief);
    # idle assumed K80_IDLE_SHARE of it (117 W; no published figure)
    process_nm=5.0, tdp_watts=700.0, reference_idle_watts=700 * K80_IDLE_SHARE,
    source="NVIDIA H200 product brief (2024), Hopper whitepaper (2022)")
# Power as the H200: TSMC 4N, up to 700 W (H100 SXM datasheet), idle assumed (the H200's
# 117 W at the H100's own design: its HBM3 and L2 are not scaled down from the H200's).
H100 = _as_its_own_reference(H200.replace(
    name="gpu-h100", dram_bytes_per_s=3.35e12, dram_bytes=80 * 2**30, l2_bytes=50 * 2**20,
    source="NVIDIA H100 SXM datasheet, Hopper whitepaper (2022)"))
# Volta V100 SXM2: 80 SMs × 64 FP32 lanes at 1.53 GHz = 15.7 TFLOPS; 640 tensor cores
# (8 per SM × 64 FMA × 2) = 125 TFLOPS fp16. Memory: the 16 GiB HBM2 part of the 2017
# whitepaper (a 32 GB V100 SXM2 followed in 2018; override dram_bytes for it).
V100 = GPUSpec(
    name="gpu-v100", l1_bytes_per_sm=128 * 1024,
    sm_count=80, clock_hz=1.53e9, fp32_lanes_per_sm=64, schedulers_per_sm=4,
    dram_bytes_per_s=900e9, dram_bytes=16 * 2**30, l2_bytes=6 * 2**20, l2_bytes_per_s=2.1e12,
    shared_bytes_per_cycle_per_sm=128, registers_per_sm=65536,
    shared_memory_per_sm_bytes=96 * 1024, max_warps_per_sm=64, max_ctas_per_sm=32,
    max_registers_per_thread=255, dram_latency_cycles=450, l2_latency_cycles=200,
    shared_latency_cycles=20, fma_latency_cycles=4, kernel_launch_s=2.0e-6,
    tensor_ops_per_cycle_per_sm=_tensor(1024),
    # TSMC 12 nm FFN; 300 W (V100 SXM2 datasheet); idle assumed K80_IDLE_SHARE of it (50 W)
    process_nm=12.0, tdp_watts=300.0, reference_idle_watts=300 * K80_IDLE_SHARE,
    has_async_copy=False, source="NVIDIA Tesla V100 whitepaper (2017)")
# One GK210 die of a Tesla K80, as the TPU paper compared: 13 SMX × 192 lanes at 560 MHz =
# 2.8 TFLOPS, 160 GB/s, 12 GiB of GDDR5 (the board's 24 GiB is 12 per die).
K80 = GPUSpec(
    name="gpu-k80", l1_bytes_per_sm=128 * 1024,
    sm_count=13, clock_hz=560e6, fp32_lanes_per_sm=192, schedulers_per_sm=4,
    dram_bytes_per_s=160e9, dram_bytes=12 * 2**30, l2_bytes=1536 * 1024, l2_bytes_per_s=500e9,
    shared_bytes_per_cycle_per_sm=256, registers_per_sm=131072,
    shared_memory_per_sm_bytes=112 * 1024, max_warps_per_sm=64, max_ctas_per_sm=16,
    max_registers_per_thread=255, dram_latency_cycles=350, l2_latency_cycles=200,
    shared_latency_cycles=30, fma_latency_cycles=9, kernel_launch_s=4.0e-6,
    has_async_copy=False, has_grid_sync=False,
    # Jouppi et al. 2017, Table 2, per die: 28 nm, 150 W TDP (the board's 300 W over two
    # dies), 25 W measured idle (98 W measured busy)
    process_nm=28.0, tdp_watts=150.0, reference_idle_watts=25.0,
    source="Jouppi et al. 2017 (one K80 die); NVIDIA Tesla K80 datasheet")
# GeForce 8800 GTX (G80, 2006): 16 SMs × 8 lanes = 128 cores at a 1.35 GHz shader clock; a MAD
# plus a co-issued MUL per lane per cycle = 518 GFLOPS, the book's "~500 GFLOPS"; 768 MiB of
# GDDR3. G80 has no L1 data cache: its 16 KiB of SRAM per SM is all shared memory.
GTX8800 = GPUSpec(
    name="gpu-8800gtx", l1_bytes_per_sm=16 * 1024,
    sm_count=16, clock_hz=1.35e9, fp32_lanes_per_sm=8, schedulers_per_sm=1,
    dram_bytes_per_s=86.4e9, dram_bytes=768 * 2**20, l2_bytes=96 * 1024, l2_bytes_per_s=200e9,
    shared_bytes_per_cycle_per_sm=64, registers_per_sm=8192,
    shared_memory_per_sm_bytes=16 * 1024, max_warps_per_sm=24, max_ctas_per_sm=8,
    max_registers_per_thread=124, dram_latency_cycles=500, l2_latency_cycles=300,
    shared_latency_cycles=36, fma_latency_cycles=22, kernel_launch_s=7.0e-6,
    flops_per_lane_per_cycle=3.0, has_async_copy=False, has_grid_sync=False,
    # G80 is a TSMC 90 nm die; ~155 W board power (the commonly listed figure for the 8800
    # GTX); idle assumed K80_IDLE_SHARE of it (26 W; G80 had little power gating, so its
    # real idle was likely higher)
    process_nm=90.0, tdp_watts=155.0, reference_idle_watts=155 * K80_IDLE_SHARE,
    source="NVIDIA GeForce 8800 GTX / G80 technical brief (2006)")

# --- P100, T4, A100: datasheet presets, fitted to no timing ---
# Every value below is read off a datasheet, a whitepaper or a microbenchmark paper, or is an
# assumption named as such; none was adjusted to make a measured time come out (no P100, T4
# or A100 timing is in the repository). Sources: NVIDIA Tesla P100 whitepaper (2016, GP100),
# Turing architecture whitepaper (2018) and T4 datasheet, A100 Tensor Core GPU architecture
# whitepaper (2020); the CUDA programming guide's per-compute-capability limits (6.0, 7.5,
# 8.0); latencies from Jia et al., "Dissecting the NVIDIA Volta GPU Architecture via
# Microbenchmarking" (2018, its P100 column) and "Dissecting the NVidia Turing T4 GPU via
# Microbenchmarking" (2019), and for the A100 Abdelkhalik et al., "Demystifying the Nvidia
# Ampere Architecture through Microbenchmarking and Instruction-level Analysis" (2022).
# Assumed alike for all three, for want of a published figure:
# - DRAM latency: the V100's 450 cycles in time (294 ns) at each one's clock;
# - `kernel_launch_s`: the V100's 2 µs;
# - the host_*, dram_achievable_fraction, grid_sync_cycles, warp_issue_interval_cycles,
#   l2_port_bytes_per_cycle_per_sm, barrier_latency_cycles and cold_start_cycles defaults
#   (the H200 system's, as every preset but the H200 keeps them);
# - idle power: K80_IDLE_SHARE of the TDP (module docstring).
V100_DRAM_LATENCY_S = 450 / 1.53e9  # V100's dram_latency_cycles at its clock


def _dram_latency_cycles(clock_hz: float) -> int:
    return round(V100_DRAM_LATENCY_S * clock_hz)


# Tesla P100 SXM2 (GP100, compute capability 6.0), P100 whitepaper: 56 SMs × 64 FP32 lanes at
# a 1,480 MHz boost = 10.6 TFLOPS; 16 GB HBM2 at 732 GB/s (SXM2 datasheet; the whitepaper's
# 720 GB/s is the PCIe card's figure); 4 MB L2. Each SM is two processing blocks of 32
# lanes and one warp scheduler each; 64 KB of shared memory per SM in its own SRAM (the
# 24 KB L1/texture cache is separate), hence l1_bytes_per_sm = the shared memory. Latencies:
# Jia et al. 2018/2019 (P100: L2 hit ~234, shared ~24 cycles, dependent FFMA 6 cycles).
# No tensor cores: fp16 runs as paired FP16 (half2) on the FP32 lanes at 2× fp32 (21.2
# TFLOPS), a SIMT path this model does not have (its fp16 is tensor-core kernels: tile
# menu, MMA latency, warp-level fragments), so fp16 is refused here rather than priced as
# tensor cores; GP100 has no int8 dot product (DP4A is GP102/104's). A what-if can still
# give it tensor_ops_per_cycle_per_sm=((Precision.FP16, 256),), knowing it prices a
# mechanism GP100 lacks.
P100 = GPUSpec(
    name="gpu-p100", l1_bytes_per_sm=64 * 1024,
    sm_count=56, clock_hz=1.48e9, fp32_lanes_per_sm=64, schedulers_per_sm=2,
    dram_bytes_per_s=732e9, dram_bytes=16 * 2**30, l2_bytes=4 * 2**20,
    # L2: 1,624 GB/s measured (Jia et al. 2019, P100 column)
    l2_bytes_per_s=1.624e12,
    shared_bytes_per_cycle_per_sm=128, registers_per_sm=65536,
    shared_memory_per_sm_bytes=64 * 1024, max_warps_per_sm=64, max_ctas_per_sm=32,
    max_registers_per_thread=255, dram_latency_cycles=_dram_latency_cycles(1.48e9),
    l2_latency_cycles=234, shared_latency_cycles=24, fma_latency_cycles=6,
    kernel_launch_s=2.0e-6, has_async_copy=False,
    # TSMC 16 nm FinFET; 300 W (P100 SXM2 datasheet); idle assumed K80_IDLE_SHARE (50 W)
    process_nm=16.0, tdp_watts=300.0, reference_idle_watts=300 * K80_IDLE_SHARE,
    source="NVIDIA Tesla P100 whitepaper (2016) and SXM2 datasheet; Jia et al. 2018/2019 "
           "latencies; fitted to no timing")
# Tesla T4 (TU104, compute capability 7.5), Turing whitepaper and T4 datasheet: 40 SMs × 64
# FP32 lanes (4 partitions of 16) at a 1,590 MHz boost = 8.1 TFLOPS; 320 Turing tensor cores,
# 8 per SM of 64 fp16 FMA a cycle: 1,024 FLOP per SM per cycle = 65 TFLOPS fp16, int8 twice
# that = 130 TOPS (dense; int4's 260 TOPS is not modelled, Turing has no bf16); 16 GB GDDR6
# at 320 GB/s; 4 MB L2; 96 KB of L1/shared SRAM per SM, at most 64 KB shared; 1,024 threads
# (32 warps) and 16 CTAs per SM. Latencies: Jia et al. 2019 (T4: L2 hit ~188, shared ~19
# cycles, dependent FFMA 4 cycles); its L2 bandwidth, 1,270 GB/s measured, ibid.
T4 = GPUSpec(
    name="gpu-t4", l1_bytes_per_sm=96 * 1024,
    sm_count=40, clock_hz=1.59e9, fp32_lanes_per_sm=64, schedulers_per_sm=4,
    dram_bytes_per_s=320e9, dram_bytes=16 * 2**30, l2_bytes=4 * 2**20,
    l2_bytes_per_s=1.27e12,
    shared_bytes_per_cycle_per_sm=128, registers_per_sm=65536,
    shared_memory_per_sm_bytes=64 * 1024, max_warps_per_sm=32, max_ctas_per_sm=16,
    max_registers_per_thread=255, dram_latency_cycles=_dram_latency_cycles(1.59e9),
    l2_latency_cycles=188, shared_latency_cycles=19, fma_latency_cycles=4,
    kernel_launch_s=2.0e-6, tensor_ops_per_cycle_per_sm=_tensor(1024, int8=2048),
    has_async_copy=False,
    # TSMC 12 nm FFN; 70 W (T4 datasheet); idle assumed K80_IDLE_SHARE of it (11.7 W)
    process_nm=12.0, tdp_watts=70.0, reference_idle_watts=70 * K80_IDLE_SHARE,
    source="NVIDIA Turing architecture whitepaper (2018), Tesla T4 datasheet; Jia et al. "
           "2019 latencies; fitted to no timing")
# A100 SXM4 40 GB (GA100, compute capability 8.0), A100 whitepaper: 108 SMs × 64 FP32 lanes
# (4 partitions of 16) at a 1,410 MHz boost = 19.5 TFLOPS; 432 third-generation tensor cores,
# 4 per SM of 256 fp16 FMA a cycle: 2,048 FLOP per SM per cycle = 312 TFLOPS fp16 and bf16,
# int8 twice that = 624 TOPS (dense; 2:4 sparsity and tf32 are not modelled); 40 GB HBM2
# (five 8 GB stacks) at 1,555 GB/s; 40 MB L2; 192 KB of L1/shared SRAM per SM, at most 164 KB
# shared; 2,048 threads (64 warps) and 32 CTAs per SM; LDGSTS asynchronous copies. L2
# bandwidth: the whitepaper's "2.3× the V100's" on the V100 preset's 2.1 TB/s (assumed: no
# A100 measurement used). Latencies: Abdelkhalik et al. 2022 (L2 hit ~200, shared ~23
# cycles, dependent FFMA 4 cycles).
A100 = GPUSpec(
    name="gpu-a100", l1_bytes_per_sm=192 * 1024,
    sm_count=108, clock_hz=1.41e9, fp32_lanes_per_sm=64, schedulers_per_sm=4,
    dram_bytes_per_s=1555e9, dram_bytes=40 * 2**30, l2_bytes=40 * 2**20,
    l2_bytes_per_s=2.3 * 2.1e12,
    shared_bytes_per_cycle_per_sm=128, registers_per_sm=65536,
    shared_memory_per_sm_bytes=164 * 1024, max_warps_per_sm=64, max_ctas_per_sm=32,
    max_registers_per_thread=255, dram_latency_cycles=_dram_latency_cycles(1.41e9),
    l2_latency_cycles=200, shared_latency_cycles=23, fma_latency_cycles=4,
    kernel_launch_s=2.0e-6, tensor_ops_per_cycle_per_sm=_tensor(2048, 2048, 4096),
    # TSMC N7; 400 W (A100 SXM4 datasheet); idle assumed K80_IDLE_SHARE of it (67 W)
    process_nm=7.0, tdp_watts=400.0, reference_idle_watts=400 * K80_IDLE_SHARE,
    source="NVIDIA A100 Tensor Core GPU architecture whitepaper (2020) and datasheet; "
           "Abdelkhalik et al. 2022 latencies; fitted to no timing")

GPU_SPECS: dict[str, GPUSpec] = {
    s.name: s for s in (H200, H100, V100, K80, GTX8800, A100, T4, P100)}
