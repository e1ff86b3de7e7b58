"""Energy per inference: a run's operation and byte counts priced from a per-op table, plus
static power over its time.

Model (every run, every sweep point)::

    dynamic = tech(nm) · v² · [ Σ_p MACs_p · (mult_p + add_acc(p)) + vector ops · add_v(p)
                                + on-chip bytes · SRAM/byte
                                + instructions · instr + register bytes · RF/byte
                                + L1 bytes · L1/byte + L2 bytes · L2/byte ]      (CPUs, GPUs)
              + DRAM bytes · DRAM/byte
              + active_watts · (ρ + (1 − ρ) · utilization) · device seconds     (CPUs, GPUs)
    static  = idle_watts · seconds            (seconds: the run's end-to-end time)
    joules per inference = (dynamic + static) / batch
    ops per joule        = ops / (dynamic + static)   (ops as `RunResult.ops`: 2 per MAC)
    average watts        = (dynamic + static) / seconds

Sources and assumptions:

- **Per-op energy** (`ENERGY_45NM`, pJ): M. Horowitz, "Computing's energy problem (and what we
  can do about it)", ISSCC 2014 Digest of Technical Papers, pp. 10–14 — his table of rough
  energy costs at 45 nm and 0.9 V. A MAC is the precision's multiply plus an add at its
  accumulator's width (`Precision.accumulator_bytes`: int32 for int8, as the TPU v1's 32-bit
  accumulators and VNNI/DP4A do; fp32 for fp16 and bf16, as tensor cores accumulate). bf16
  has no entry: it is priced as fp16 (its 8-bit mantissa multiplier is, if anything,
  smaller). An element-wise or pooling op is one add of the run's format (int32 for int8
  runs, whose element-wise work is on 32-bit accumulators); exp-based ones (sigmoid, tanh)
  are counted as one op too, which underprices them.
- **SRAM per byte**: Horowitz gives a 64-bit cache access as 10 pJ (8 KB), 20 pJ (32 KB) and
  100 pJ (1 MB); per byte is that over 8. The TPU's on-chip bytes are priced at the 1 MB
  figure, 12.5 pJ/byte: its buffers (the 24 MiB Unified Buffer, 4 MiB of accumulators) are
  megabytes, built from banks of that order.
- **DRAM per byte**: Horowitz gives 1.3–2.6 nJ per 64-bit DRAM access; the low end over
  8 bytes, 162.5 pJ/byte. It is not scaled by the logic node or supply: DRAM and its
  interface are set by the memory, not the compute die. HBM (the H100/H200/V100) costs
  several times less per bit, so their DRAM term is an overestimate.
- **Technology factor** `tech(nm)` = (nm / 45) · (V / 0.9 V)²: dynamic energy is C·V², with
  switched capacitance taken proportional to the feature size and V the node's nominal core
  supply (`NOMINAL_VOLTS`, typical foundry values; an assumption). FinFET node names
  (≤ 16 nm) shrink faster than capacitance, so below 16 nm the factor is optimistic.
- **Voltage and frequency** (`volts_ratio`): a part's supply is its node's nominal at its
  nominal clock (`nominal_clock_hz`: tpu-v1's 700 MHz, each GPU and CPU preset's clock) and
  follows the clock, V / V_nom = 1 + `VF_SLOPE` · (f / f_nom − 1) with `VF_SLOPE` = 1 — the
  alpha-power law (Sakurai and Newton, IEEE JSSC 1990), f ∝ (V − V_t)^α / V with α ≈ 1.3 and
  V_t ≈ V / 3, gives d ln V / d ln f ≈ 1 near nominal — held between 0.7 × nominal (SRAM
  retention: an assumption) and 1.2 × nominal (gate-oxide reliability: an assumption).
  Dynamic energy per event scales by v² (v = `volts_ratio`), clock-tree and idle switching
  power by v²·f (`clock_power_ratio`), leakage by v (leakage current held fixed: an
  assumption; it grows faster). A clock beyond 1.2 × nominal is taken to be reached by a
  deeper pipeline at the ceiling supply; a design built for a clock sets `nominal_clock_hz`
  with it.
- **Instructions, registers and caches** (CPUs and GPUs, `Activity`, `EventCosts`): their
  timing models' own counts (machines/gpu/power.py: the GEMM kernels' per-warp instruction
  mix, one fetch and decode per warp instruction; machines/cpu/power.py: the BLIS
  micro-kernel's loads, broadcasts and FMAs), priced at 45 nm: an instruction's fetch,
  decode and control at Horowitz's figure for a 32-bit add instruction of a RISC core
  (~70 pJ, less its 6 pJ register access and 0.1 pJ add: `INSTRUCTION_PJ`), register-file
  bytes at his 8 KB SRAM figure (1.25 pJ/byte, his 6 pJ register access per 32-bit operand
  in round numbers), L1 and shared memory at his 32 KB figure (2.5 pJ/byte), L2 and L3 at
  his 1 MB figure (12.5 pJ/byte). SIMT pays one fetch and decode for 32 lanes (Keckler et
  al., "GPUs and the future of parallel computing", IEEE Micro 2011), so a GPU's register
  file, not its instruction stream, is its largest event term.
- **Active power** (CPUs and GPUs): while a CPU or GPU runs (`device_seconds`) its clocks,
  pipeline latches and schedulers are un-gated. Both run at their TDP at their peak
  (Jouppi et al. 2017, Table 2: the Haswell busy at its 145 W TDP; a GPU's boost holds its
  board limit — an assumption for GPUs), so `active_watts` at nominal is what the TDP leaves
  over idle and the events at the fp32 peak. A share ρ = `CLOCK_NETWORK_SHARE` (0.5, an
  assumption: Gonzalez and Horowitz, IEEE JSSC 1996, put 50–80% of a processor's energy in
  its clock network and on-chip memories) is drawn whatever the run issues; the rest in
  proportion to its utilization (`active_watts_at`); a clock what-if scales it by v²·f. The
  TPU has none of this: it has no power management and no turbo (the paper's TPU draws 40 W
  busy against its 75 W TDP), so its dynamic energy is events alone.
- **Static power**: each spec's `idle_watts` (the power drawn with nothing to do: leakage,
  clocks, memory refresh, the interfaces) for the whole run, with its source in the spec.
  Where a spec builds its die from blocks (the TPU, GPUs), `idle_watts` follows what it builds
  (`idle_watts_of`): each `Block` of the reference die's floor plan draws its area share of
  the reference's measured idle power, times how many times the reference's resources the
  design builds (array cells, buffer bytes, interface bandwidth); a clocked block's share is
  part leakage (`leakage_fraction`, ∝ v) and part clock tree and idle switching (∝ area ×
  v² × clock); the whole scales with the node as dynamic energy does (`technology_factor`,
  an assumption: leakage per unit area is not modelled by node). Idle power taken
  proportional to area is the assumption; the area shares are published (the TPU's floor
  plan, Jouppi et al. 2017, Figure 2), the watts per share are fitted so the reference
  design draws its measured idle power. A GPU builds its die alike (machines/gpu/power.py:
  SM SRAM and lanes, L2, memory interface, host links, fixed blocks; assumed shares), from
  each preset's own idle figure at its own design; a CPU's idle power is its spec's figure
  per core.
- **TDP**: the power the part's package is rated for. The TPU's follows what the spec builds
  (its floor plan at the nominal clock and supply), a CPU's its cores; a GPU's is its
  board's datasheet figure (a GPU what-if whose idle power and peak events exceed it gets no
  active power: machines/gpu/power.py). A clock set above the nominal does not raise it, so
  `Energy.tdp_fraction` above 1 means the run draws more than a part built as the spec
  builds it is packaged to dissipate: a real part would throttle, and the run's times,
  which assume the clock held, are optimistic.

What is left out: control and wires beyond the active power, the CPU's out-of-order
machinery as events (the active power carries it), packing and set-up instructions, and
element-wise kernels' instructions beyond PyTorch's vectorized kernel's four per element.
The GPU and CPU models' `dram_bytes` is the traffic their kernels stream whether or not a
cache holds it. Host transfers are not priced alike: the TPU's executor counts its PCIe
reads and writes as off-chip traffic, so they are in its `dram_bytes` and priced at the DRAM
rate (about half of LeNet-5's DRAM bytes at batch 64), while the GPU and CPU models keep
transfers out of `dram_bytes`. A TPU GEMM on 16-bit activations (two passes of the 8-bit
array) is priced as one int8 MAC per multiply-accumulate, so its arithmetic energy is
underestimated about 2×.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from accelsim.checks import check_count, check_number
from accelsim.errors import AccelsimError
from accelsim.ir import Pool, Vector, Workload
from accelsim.precision import Precision

PJ = 1e-12

ENERGY_45NM: Mapping[str, float] = MappingProxyType({
    # picojoules per operation at 45 nm, 0.9 V (Horowitz, ISSCC 2014)
    "int8 add": 0.03, "int32 add": 0.1, "fp16 add": 0.4, "fp32 add": 0.9,
    "int8 mult": 0.2, "int32 mult": 3.1, "fp16 mult": 1.1, "fp32 mult": 3.7,
    # picojoules per 64-bit access
    "sram 8KB": 10.0, "sram 32KB": 20.0, "sram 1MB": 100.0,
    "dram low": 1300.0, "dram high": 2600.0,
})
"""Horowitz, ISSCC 2014: energy per operation (pJ) at 45 nm, 0.9 V."""

AREA_45NM_UM2: Mapping[str, float] = MappingProxyType({
    "int8 add": 36.0, "int32 add": 137.0, "fp16 add": 1360.0, "fp32 add": 4184.0,
    "int8 mult": 282.0, "int32 mult": 3495.0, "fp16 mult": 1640.0, "fp32 mult": 7700.0,
})
"""Horowitz, ISSCC 2014: area (µm²) of the same units at 45 nm."""

ACCESS_BYTES = 8  # Horowitz's memory figures are per 64-bit access
SRAM_PJ_PER_BYTE = ENERGY_45NM["sram 1MB"] / ACCESS_BYTES  # 12.5 pJ at 45 nm
DRAM_PJ_PER_BYTE = ENERGY_45NM["dram low"] / ACCESS_BYTES  # 162.5 pJ, not node-scaled

# The multiply and the accumulating add of one MAC, by the run's precision (see the docstring).
MAC_PARTS: Mapping[Precision, tuple[str, str]] = MappingProxyType({
    Precision.FP32: ("fp32 mult", "fp32 add"), Precision.FP16: ("fp16 mult", "fp32 add"),
    Precision.BF16: ("fp16 mult", "fp32 add"), Precision.INT8: ("int8 mult", "int32 add")})
VECTOR_PART: Mapping[Precision, str] = MappingProxyType({
    Precision.FP32: "fp32 add", Precision.FP16: "fp16 add", Precision.BF16: "fp16 add",
    Precision.INT8: "int32 add"})

REFERENCE_NM, REFERENCE_VOLTS = 45.0, 0.9  # Horowitz's process and supply
# Nominal core supply (V) by node: typical foundry logic values (TSMC 28HPM 0.9 V, N7/N5
# 0.75 V; Intel 22/14 nm ~0.8 V; 90 nm 1.2 V). An assumption; interpolated between nodes,
# held flat beyond the ends.
NOMINAL_VOLTS: tuple[tuple[float, float], ...] = (
    (5, 0.75), (7, 0.75), (12, 0.8), (14, 0.8), (16, 0.8), (22, 0.8), (28, 0.9), (45, 0.9),
    (65, 1.1), (90, 1.2))


def nominal_volts(process_nm: float) -> float:
    """The node's nominal core supply (`NOMINAL_VOLTS`, linear between listed nodes)."""
    nodes, volts = zip(*NOMINAL_VOLTS, strict=True)
    return float(np.interp(process_nm, nodes, volts))


@cache
def technology_factor(process_nm: float) -> float:
    """Energy per op at `process_nm` over 45 nm: (nm / 45) · (V / 0.9)² (C·V², C ∝ nm)."""
    nm = check_number(process_nm, "process_nm")
    return nm / REFERENCE_NM * (nominal_volts(nm) / REFERENCE_VOLTS) ** 2


# Supply voltage against clock (the module docstring's V–f model): V / V_nominal follows
# f / f_nominal (`VF_SLOPE`: the alpha-power law's d ln V / d ln f near nominal), held between
# a floor and a ceiling (assumptions: SRAM retention near 0.7 of nominal; gate-oxide
# reliability allowing 20% overdrive).
VF_SLOPE = 1.0
VOLTS_FLOOR_RATIO, VOLTS_CEILING_RATIO = 0.7, 1.2


def volts_ratio(clock_hz: float, nominal_clock_hz: float) -> float:
    """Supply over the nominal supply at `clock_hz` for a part whose nominal clock is
    `nominal_clock_hz`: 1 + VF_SLOPE · (f / f_nominal − 1), within [VOLTS_FLOOR_RATIO,
    VOLTS_CEILING_RATIO]."""
    ratio = 1.0 + VF_SLOPE * (clock_hz / nominal_clock_hz - 1.0)
    return min(max(ratio, VOLTS_FLOOR_RATIO), VOLTS_CEILING_RATIO)


def clock_power_ratio(clock_hz: float, nominal_clock_hz: float) -> float:
    """Clock-tree and idle-switching power (C·V²·f) at `clock_hz` over the nominal clock's."""
    return clock_hz / nominal_clock_hz * volts_ratio(clock_hz, nominal_clock_hz) ** 2


# Share of a CPU's or GPU's active power (clocks and pipelines un-gated while it runs: the
# `Activity.active_watts` its TDP leaves over idle and events) drawn whatever it issues —
# the clock network; the rest (pipeline latches, operand and result wires) follows its
# issue rate, taken as its arithmetic utilization. An assumption: Gonzalez and Horowitz
# (IEEE JSSC 1996) put 50-80% of a processor's energy in its clock network and on-chip
# memories (which the events price apart).
CLOCK_NETWORK_SHARE = 0.5


def active_watts_at(nominal_watts: float, utilization: float, clock_ratio: float) -> float:
    """Active power at `utilization` of peak issue, `clock_ratio` (C·V²·f over nominal) times
    `nominal_watts` × (CLOCK_NETWORK_SHARE + (1 − CLOCK_NETWORK_SHARE) · utilization):
    `nominal_watts` at the peak and the nominal clock."""
    u = min(max(utilization, 0.0), 1.0)
    return nominal_watts * clock_ratio * (CLOCK_NETWORK_SHARE + (1 - CLOCK_NETWORK_SHARE) * u)


def mac_pj(precision: Precision) -> float:
    """One MAC at 45 nm: the precision's multiply and its accumulator's add."""
    mult, add = MAC_PARTS[precision]
    return ENERGY_45NM[mult] + ENERGY_45NM[add]


class EnergyPart(StrEnum):
    """Where energy goes."""

    ARITHMETIC = "arithmetic"  # the GEMMs' multiply-accumulates
    VECTOR = "vector"  # element-wise and pooling ops
    INSTRUCTIONS = "instructions"  # fetch, decode and issue (CPUs and GPUs)
    REGISTERS = "register file"  # operand reads and result writes (CPUs and GPUs)
    SRAM = "on-chip SRAM"  # buffers, caches and shared memory
    DRAM = "DRAM"
    ACTIVE = "active clocking"  # clocks and pipelines un-gated while CPUs and GPUs run
    STATIC = "static"  # idle power over the run


SRAM_8KB_PJ_PER_BYTE = ENERGY_45NM["sram 8KB"] / ACCESS_BYTES  # 1.25 pJ at 45 nm
SRAM_32KB_PJ_PER_BYTE = ENERGY_45NM["sram 32KB"] / ACCESS_BYTES  # 2.5 pJ at 45 nm
# One instruction's fetch, decode and control in a simple 45 nm RISC core, beyond its
# operation and register accesses: Horowitz (ISSCC 2014) breaks a 32-bit add instruction's
# ~70 pJ into an I-cache access of 25 pJ, a register-file access of 6 pJ and control for
# the rest (the add itself 0.1 pJ); 70 − 6 − 0.1.
INSTRUCTION_PJ = 70.0 - 6.0 - 0.1


@dataclass(frozen=True)
class EventCosts:
    """Picojoules per event at 45 nm and nominal supply (scaled like arithmetic): an issued
    instruction (a GPU's warp instruction is one), a register-file byte, an L1 or
    shared-memory byte, an L2 or L3 byte."""

    instruction_pj: float = INSTRUCTION_PJ
    register_pj_per_byte: float = SRAM_8KB_PJ_PER_BYTE
    l1_pj_per_byte: float = SRAM_32KB_PJ_PER_BYTE
    l2_pj_per_byte: float = SRAM_PJ_PER_BYTE


@dataclass(frozen=True)
class Activity:
    """What a general-purpose processor's timing model counts beyond arithmetic and DRAM
    (machines/gpu/power.py, machines/cpu/power.py): instructions issued, register-file,
    L1/shared-memory and L2/L3 bytes, priced by `costs`; and the seconds its cores run with
    their clocks un-gated, drawing `active_watts` beyond idle."""

    costs: EventCosts
    instructions: float = 0.0
    register_bytes: float = 0.0
    l1_bytes: float = 0.0
    l2_bytes: float = 0.0
    active_seconds: float = 0.0
    active_watts: float = 0.0

    def joules(self, scale: float) -> dict[EnergyPart, float]:
        """Its events priced, each pJ figure times `scale` (node and supply), and the
        active power over its seconds."""
        c = self.costs
        return {EnergyPart.INSTRUCTIONS: scale * self.instructions * c.instruction_pj * PJ,
                EnergyPart.REGISTERS: scale * self.register_bytes * c.register_pj_per_byte
                * PJ,
                EnergyPart.SRAM: scale * (self.l1_bytes * c.l1_pj_per_byte
                                          + self.l2_bytes * c.l2_pj_per_byte) * PJ,
                EnergyPart.ACTIVE: self.active_watts * self.active_seconds}


@dataclass(frozen=True)
class Block:
    """One block of a die's floor plan, for `idle_watts_of`: its share of the reference die's
    area, how many times the reference's resources a design builds (`scale`: 2.0 for twice
    the buffer bytes), and whether its idle power follows the core clock (an I/O interface's
    follows its own link, which `scale` carries)."""

    name: str
    area_share: float
    scale: float
    clocked: bool = True


def idle_watts_of(blocks: Sequence[Block], reference_watts: float, *, clock_ratio: float,
                  leakage_fraction: float, node_ratio: float = 1.0,
                  volts_ratio: float = 1.0) -> float:
    """Idle power of a design built from `blocks` (the module docstring's model):
    `reference_watts` × node_ratio × Σ share · scale · (λ·v + (1 − λ) · clock_ratio · v²)
    / Σ share, λ = `leakage_fraction`, v = `volts_ratio` (leakage ∝ V, clock power ∝ V²·f);
    an unclocked block (I/O on its own supply) counts 1. With every scale, the clock, the
    supply and the node at the reference's, the result is `reference_watts`."""
    def block_watts(b: Block) -> float:
        clock = leakage_fraction * volts_ratio \
            + (1 - leakage_fraction) * clock_ratio * volts_ratio ** 2 if b.clocked else 1.0
        return b.area_share * b.scale * clock

    total_share = sum(b.area_share for b in blocks)
    return reference_watts * node_ratio * sum(map(block_watts, blocks)) / total_share


@runtime_checkable
class PoweredSpec(Protocol):
    """What pricing a run needs of a machine's spec (every preset's spec has it)."""

    @property
    def name(self) -> str: ...

    @property
    def process_nm(self) -> float: ...

    @property
    def idle_watts(self) -> float: ...

    @property
    def tdp_watts(self) -> float: ...


class ClockedSpec(PoweredSpec, Protocol):
    """A spec whose power a GPU or CPU activity model scales with its clock over the clock
    it was designed for (machines/*/power.py)."""

    @property
    def clock_hz(self) -> float: ...

    @property
    def nominal_clock_hz(self) -> float: ...


@runtime_checkable
class SuppliedSpec(PoweredSpec, Protocol):
    """A spec whose supply follows its clock (`volts_ratio`: supply over nominal); a spec
    without it is priced at its node's nominal supply."""

    @property
    def volts_ratio(self) -> float: ...


@runtime_checkable
class ActiveSpec(PoweredSpec, Protocol):
    """A spec whose machine's timing model counts more than arithmetic (CPUs and GPUs)."""

    def activity(self, result: CountedRun) -> Activity: ...


@dataclass(frozen=True)
class Energy:
    """A run's energy: joules per batch by part, the counts priced, and the spec's power."""

    batch: int
    seconds: float
    ops: int  # 2 per MAC, as RunResult.ops
    parts: tuple[tuple[EnergyPart, float], ...]  # joules per batch
    macs: tuple[tuple[Precision, int], ...]
    vector_ops: int
    sram_bytes: float
    dram_bytes: float
    process_nm: float
    technology_factor: float
    idle_watts: float
    tdp_watts: float
    volts_ratio: float = 1.0  # supply over nominal: dynamic energy scales by its square
    activity: Activity | None = None

    def __getitem__(self, part: EnergyPart) -> float:
        return dict(self.parts).get(part, 0.0)

    @property
    def joules(self) -> float:
        """Per batch."""
        return sum(j for _, j in self.parts)

    @property
    def static_joules(self) -> float:
        return self[EnergyPart.STATIC]

    @property
    def dynamic_joules(self) -> float:
        return self.joules - self.static_joules

    @property
    def joules_per_inference(self) -> float:
        return self.joules / self.batch

    @property
    def ops_per_joule(self) -> float:
        return self.ops / self.joules if self.joules > 0 else 0.0

    @property
    def average_watts(self) -> float:
        return self.joules / self.seconds if self.seconds > 0 else 0.0

    @property
    def tdp_fraction(self) -> float:
        """Average power over the spec's TDP. Above 1: the run draws more than the package
        of a part built as the spec builds it is rated to dissipate (a clock set above the
        nominal does that); a real part would throttle, so its times are optimistic."""
        return self.average_watts / self.tdp_watts

    def fractions(self) -> dict[EnergyPart, float]:
        total = self.joules
        return {p: j / total for p, j in self.parts} if total > 0 else {}

    def line(self, minimum: float = 0.005) -> str:
        """'static 80%, arithmetic 12%, DRAM 8%' (shares of at least `minimum`)."""
        return ", ".join(f"{p.value} {v:.0%}" for p, v in self.fractions().items()
                         if v >= minimum)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, units in the keys."""
        return {"joules_per_inference": self.joules_per_inference,
                "ops_per_joule": self.ops_per_joule, "average_watts": self.average_watts,
                "joules": self.joules, "dynamic_joules": self.dynamic_joules,
                "static_joules": self.static_joules, "tdp_fraction": self.tdp_fraction,
                **{f"joules.{p.value}": j for p, j in self.parts}}


def energy_from_counts(spec: PoweredSpec, *, macs: Mapping[Precision, int], vector_ops: int,
                       sram_bytes: float, dram_bytes: float, seconds: float, batch: int,
                       vector_precision: Precision | None = None,
                       activity: Activity | None = None) -> Energy:
    """Price counts with `spec`'s node, supply and idle power (the module docstring's model).
    `macs` maps each precision to its multiply-accumulates; vector ops are priced in
    `vector_precision`, by default the MACs' precision (fp32 when there are none or several);
    `activity`, where the machine counts it, adds instructions, register and cache bytes and
    active power."""
    owner = spec.name
    counts = {Precision.parse(p): int(check_number(n, f"macs[{p}]", owner=owner, integer=True,
                                                   zero_ok=True)) for p, n in macs.items()}
    vector_ops = int(check_number(vector_ops, "vector_ops", owner=owner, integer=True,
                                  zero_ok=True))
    sram, dram, seconds = (check_number(v, name, owner=owner, zero_ok=True) for name, v in
                           (("sram_bytes", sram_bytes), ("dram_bytes", dram_bytes),
                            ("seconds", seconds)))
    batch = check_count(batch, "batch", owner=owner)
    if vector_precision is None:
        vector_precision = next(iter(counts)) if len(counts) == 1 else Precision.FP32
    tech = technology_factor(spec.process_nm)
    volts = spec.volts_ratio if isinstance(spec, SuppliedSpec) else 1.0
    scale = tech * volts ** 2  # C·V²: the node's, then the supply over nominal
    parts = {EnergyPart.ARITHMETIC: scale * sum(n * mac_pj(p) for p, n in counts.items()) * PJ,
             EnergyPart.VECTOR: scale * vector_ops * ENERGY_45NM[VECTOR_PART[vector_precision]]
             * PJ,
             EnergyPart.SRAM: scale * sram * SRAM_PJ_PER_BYTE * PJ,
             EnergyPart.DRAM: dram * DRAM_PJ_PER_BYTE * PJ}
    if activity is not None:
        for part, joules in activity.joules(scale).items():
            parts[part] = parts.get(part, 0.0) + joules
    parts[EnergyPart.STATIC] = spec.idle_watts * seconds
    ordered = ((p, parts[p]) for p in EnergyPart if parts.get(p, 0.0) > 0)
    return Energy(batch, seconds, 2 * sum(counts.values()), tuple(ordered),
                  tuple(counts.items()), vector_ops, sram, dram, spec.process_nm, tech,
                  spec.idle_watts, spec.tdp_watts, volts, activity)


def vector_ops_of(workload: Workload) -> int:
    """Element-wise and pooling operations: one per vector element, window − 1 per pooled
    output (comparisons or adds); the GEMMs' MACs are counted apart."""
    return sum(op.total_elements if isinstance(op, Vector) else op.window_ops
               for op in workload.ops if isinstance(op, Vector | Pool))


class _Traffic(Protocol):
    @property
    def dram_bytes(self) -> int: ...

    @property
    def onchip_bytes(self) -> int: ...


OpT_co = TypeVar("OpT_co", covariant=True)


class ActiveRun(Protocol[OpT_co]):
    """What a GPU's or CPU's activity model (machines/*/power.py `activity_of`) reads of a
    `RunResult`: its ops (of the kind the model reads) and how busy the device was."""

    @property
    def layers(self) -> Sequence[OpT_co]: ...

    @property
    def vector_ops(self) -> int: ...

    @property
    def device_seconds(self) -> float: ...

    @property
    def utilization(self) -> float: ...


class CountedRun(Protocol):
    """What `energy_of` reads of a `RunResult`."""

    @property
    def precision(self) -> Precision: ...

    @property
    def ops(self) -> int: ...

    @property
    def vector_ops(self) -> int: ...

    @property
    def seconds(self) -> float: ...

    @property
    def device_seconds(self) -> float: ...

    @property
    def batch(self) -> int: ...

    @property
    def layers(self) -> Sequence[_Traffic]: ...


class HasSpec(Protocol):
    @property
    def spec(self) -> object: ...


def energy_of(result: CountedRun, machine: HasSpec) -> Energy:
    """A run priced with `machine`'s spec: its MACs (ops / 2) at its precision, its vector
    ops, the on-chip and DRAM bytes of its ops, its end-to-end seconds and, for a CPU or GPU,
    the activity its timing model counts (`ActiveSpec.activity`). Equal to
    `energy_from_counts` on those counts (what the fast sweep path calls)."""
    spec = machine.spec
    if not isinstance(spec, PoweredSpec):
        raise AccelsimError(f"{getattr(spec, 'name', type(spec).__name__)} gives no power "
                            "figures: add process_nm, idle_watts and tdp_watts to its spec "
                            "to price its runs")
    return energy_from_counts(
        spec, macs={result.precision: result.ops // 2}, vector_ops=result.vector_ops,
        sram_bytes=sum(op.onchip_bytes for op in result.layers),
        dram_bytes=sum(op.dram_bytes for op in result.layers), seconds=result.seconds,
        batch=result.batch,
        activity=spec.activity(result) if isinstance(spec, ActiveSpec) else None)
