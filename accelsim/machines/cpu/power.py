"""What a CPU run spends beyond its arithmetic: the instructions, register-file bytes and L1
and L2 bytes of its micro-kernels and vector loops, and the power of its cores running.

Counts come from what the GEMM model runs (blis.py: an mr × nr micro-kernel of `simd_lanes`
fp32 lanes, four int8 MACs a lane with VNNI). Each k step of the micro-kernel loads mr / lanes
vectors of A, broadcasts nr values of B and issues mr / lanes · nr vector FMAs, so per MAC:

    instructions    = (mr / L + nr + mr · nr / L) / (mr · nr)      L: MACs per vector lane-set
    register bytes  = 16 B per lane per FMA (three sources read, one result written) and
                      4 B per lane per load (the vector written)
    L1 bytes        = (mr + nr) · element bytes / (mr · nr)        A's and B's values, per k step
    L2 bytes        = element bytes / nr                           A's micro-panel, from the L2
                                                                   block (B's sits in L1)

(BLIS's layout: Van Zee and van de Geijn, "BLIS: a framework for rapidly instantiating BLAS
functionality", ACM TOMS 2015; packing, a few percent of the traffic, is left out). An
element-wise or pooling op is `VECTOR_INSTRUCTIONS` instructions a vector (load, operate,
store), its operands through L1. Prices: `EventCosts` (accelsim/energy.py), one instruction
at Horowitz's 45 nm RISC figure less its register access — an out-of-order core's renaming,
scheduling and retirement cost more, which the active power carries.

Active power: a Haswell under a full load draws its TDP (Jouppi et al. 2017, Table 2: busy
145 W = TDP; turbo fills the envelope), so the power that is neither idle nor events is
`tdp − idle − events at the FMA peak` (`nominal_active_watts`), drawn over the run's compute
time (`device_seconds`) as energy.active_watts_at shares it by utilization; a clock what-if
scales it as C·V²·f.
"""

from __future__ import annotations

from typing import Protocol

from accelsim.energy import (
    ActiveRun,
    Activity,
    ClockedSpec,
    EventCosts,
    active_watts_at,
    clock_power_ratio,
    mac_pj,
    technology_factor,
)
from accelsim.precision import Precision


class CPUSpec(ClockedSpec, Protocol):
    """What the CPU's power model reads of its spec (machines/cpu/spec.py's CPUSpec; a
    protocol, so that the spec may import this module), besides its clocks and power."""

    @property
    def simd_lanes(self) -> int: ...

    @property
    def mr(self) -> int: ...

    @property
    def nr(self) -> int: ...

    @property
    def fp32_peak_flops(self) -> float: ...


CPU_COSTS = EventCosts()
FMA_REGISTER_BYTES_PER_LANE = 16  # three 32-bit sources read, one result written
LOAD_REGISTER_BYTES_PER_LANE = 4  # the loaded (or broadcast) value written
LANE_BYTES = 4
VECTOR_INSTRUCTIONS = 3.0  # an element-wise vector: load, operate, store


class Op(Protocol):
    @property
    def ops(self) -> int: ...

    @property
    def precision(self) -> Precision: ...


Run = ActiveRun[Op]  # what `activity_of` reads of a `RunResult`


def macs_per_lane(precision: Precision) -> int:
    return 4 if precision is Precision.INT8 else 1  # vpdpbusd: 4 int8 MACs a 32-bit lane


def events_per_mac(spec: CPUSpec, precision: Precision) -> tuple[float, float, float, float]:
    """(instructions, register bytes, L1 bytes, L2 bytes) per MAC of the micro-kernel."""
    lanes, mr, nr = spec.simd_lanes, spec.mr, spec.nr
    per_step = mr * nr * macs_per_lane(precision)  # MACs of one k step
    loads, fmas = mr / lanes + nr, mr / lanes * nr
    registers = lanes * (fmas * FMA_REGISTER_BYTES_PER_LANE
                         + loads * LOAD_REGISTER_BYTES_PER_LANE)
    ebytes = precision.bytes
    return ((loads + fmas) / per_step, registers / per_step,
            (mr + nr) * ebytes / per_step, ebytes / nr / macs_per_lane(precision))


def activity_of(spec: CPUSpec, result: Run) -> Activity:
    """The run's events (module docstring) and its active power over its compute time."""
    totals = [0.0] * 4
    for op in result.layers:
        macs = op.ops // 2
        if macs:
            for i, e in enumerate(events_per_mac(spec, op.precision)):
                totals[i] += macs * e
    vectors = result.vector_ops / spec.simd_lanes
    return Activity(
        CPU_COSTS, instructions=totals[0] + vectors * VECTOR_INSTRUCTIONS,
        register_bytes=totals[1] + vectors * VECTOR_INSTRUCTIONS * spec.simd_lanes
        * LOAD_REGISTER_BYTES_PER_LANE,
        l1_bytes=totals[2] + 2 * result.vector_ops * LANE_BYTES, l2_bytes=totals[3],
        active_seconds=float(result.device_seconds),
        active_watts=active_watts_at(nominal_active_watts(spec), result.utilization,
                                     clock_power_ratio(spec.clock_hz, spec.nominal_clock_hz)))


def peak_event_watts(spec: CPUSpec) -> float:
    """Arithmetic and events with every core's FMA pipes full (fp32), at the nominal clock."""
    macs_per_s = spec.fp32_peak_flops / 2 * spec.nominal_clock_hz / spec.clock_hz
    inst, regs, l1, l2 = events_per_mac(spec, Precision.FP32)
    c = CPU_COSTS
    pj = mac_pj(Precision.FP32) + inst * c.instruction_pj + regs * c.register_pj_per_byte \
        + l1 * c.l1_pj_per_byte + l2 * c.l2_pj_per_byte
    return macs_per_s * pj * technology_factor(spec.process_nm) * 1e-12


def nominal_active_watts(spec: CPUSpec) -> float:
    """What the TDP leaves over idle and the peak's events (module docstring), at least 0."""
    return max(spec.tdp_watts - spec.idle_watts - peak_event_watts(spec), 0.0)
