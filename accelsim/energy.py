"""Energy per inference: a run's operation and byte counts priced from a per-op table, plus
static power over its time.

Model (every run, every sweep point)::

    dynamic = tech(nm) · [ Σ_p MACs_p · (mult_p + add_acc(p)) + vector ops · add_v(p)
                           + on-chip bytes · SRAM/byte ]  +  DRAM bytes · DRAM/byte
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
  100 pJ (1 MB); per byte is that over 8. On-chip bytes are priced at the 1 MB figure,
  12.5 pJ/byte: the buffers the machines count (the TPU's 24 MiB Unified Buffer and 4 MiB of
  accumulators) are megabytes, built from banks of that order.
- **DRAM per byte**: Horowitz gives 1.3–2.6 nJ per 64-bit DRAM access; the low end over
  8 bytes, 162.5 pJ/byte. It is not scaled by the logic node: DRAM and its interface are set
  by the memory, not the compute die. HBM (the H100/H200/V100) costs several times less per
  bit, so their DRAM term is an overestimate.
- **Technology factor** `tech(nm)` = (nm / 45) · (V / 0.9 V)²: dynamic energy is C·V², with
  switched capacitance taken proportional to the feature size and V the node's nominal core
  supply (`NOMINAL_VOLTS`, typical foundry values; an assumption). It applies to arithmetic
  and SRAM. FinFET node names (≤ 16 nm) shrink faster than capacitance, so below 16 nm the
  factor is optimistic.
- **Static power**: each spec's `idle_watts` (the power drawn with nothing to do: leakage,
  clocks, memory refresh, the interfaces) for the whole run, with its source in the spec.
  Where a spec builds its die from blocks (the TPU), `idle_watts` follows what it builds
  (`idle_watts_of`): each `Block` of the reference die's floor plan draws its area share of
  the reference's measured idle power, times how many times the reference's resources the
  design builds (array cells, buffer bytes, interface bandwidth); a clocked block's share is
  part leakage (`leakage_fraction`, fixed by area) and part clock tree and idle switching
  (C·V²·f: ∝ area × clock); the whole scales with the node as dynamic energy does
  (`technology_factor`, an assumption: leakage per unit area is not modelled by node).
  Idle power taken proportional to area is the assumption; the area shares are published
  (the TPU's floor plan, Jouppi et al. 2017, Figure 2), the watts per share are fitted so the
  reference design draws its measured idle power.
  `tdp_watts` bounds the average: `Energy.tdp_fraction` above 1 means the model draws more
  than the part can dissipate.

What the table leaves out: instruction fetch and decode, register files, control and wires,
which dominate a CPU's or GPU's dynamic energy (Horowitz's point); the GPU and CPU models
count no on-chip traffic (`OpResult.onchip_bytes` is 0 there), and their `dram_bytes` is the
traffic their kernels stream whether or not a cache holds it. Their dynamic energy is
therefore a floor; at small batches their energy is mostly static power over the run.
Host transfers are not priced alike: the TPU's executor counts its PCIe reads and writes as
off-chip traffic, so they are in its `dram_bytes` and priced at the DRAM rate (about half of
LeNet-5's DRAM bytes at batch 64), while the GPU and CPU models keep transfers out of
`dram_bytes`. A TPU GEMM on 16-bit activations (two passes of the 8-bit array) is priced as
one int8 MAC per multiply-accumulate, so its arithmetic energy is underestimated about 2×.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

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


def mac_pj(precision: Precision) -> float:
    """One MAC at 45 nm: the precision's multiply and its accumulator's add."""
    mult, add = MAC_PARTS[precision]
    return ENERGY_45NM[mult] + ENERGY_45NM[add]


class EnergyPart(StrEnum):
    """Where energy goes."""

    ARITHMETIC = "arithmetic"  # the GEMMs' multiply-accumulates
    VECTOR = "vector"  # element-wise and pooling ops
    SRAM = "on-chip SRAM"
    DRAM = "DRAM"
    STATIC = "static"  # idle power over the run


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
                  leakage_fraction: float, node_ratio: float = 1.0) -> float:
    """Idle power of a design built from `blocks` (the module docstring's model):
    `reference_watts` × node_ratio × Σ share · scale · (λ + (1 − λ) · clock_ratio) / Σ share,
    λ = `leakage_fraction`, clock_ratio 1 for an unclocked block. With every scale, the
    clock and the node at the reference's, the result is `reference_watts`."""
    def block_watts(b: Block) -> float:
        clock = leakage_fraction + (1 - leakage_fraction) * clock_ratio if b.clocked else 1.0
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
        """Average power over the spec's TDP (above 1: more than the part can dissipate)."""
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
                       vector_precision: Precision | None = None) -> Energy:
    """Price counts with `spec`'s node and idle power (the module docstring's model).
    `macs` maps each precision to its multiply-accumulates; vector ops are priced in
    `vector_precision`, by default the MACs' precision (fp32 when there are none or several)."""
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
    parts = {EnergyPart.ARITHMETIC: tech * sum(n * mac_pj(p) for p, n in counts.items()) * PJ,
             EnergyPart.VECTOR: tech * vector_ops * ENERGY_45NM[VECTOR_PART[vector_precision]]
             * PJ,
             EnergyPart.SRAM: tech * sram * SRAM_PJ_PER_BYTE * PJ,
             EnergyPart.DRAM: dram * DRAM_PJ_PER_BYTE * PJ,
             EnergyPart.STATIC: spec.idle_watts * seconds}
    return Energy(batch, seconds, 2 * sum(counts.values()),
                  tuple((p, j) for p, j in parts.items() if j > 0),
                  tuple(counts.items()), vector_ops, sram, dram, spec.process_nm, tech,
                  spec.idle_watts, spec.tdp_watts)


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
    def batch(self) -> int: ...

    @property
    def layers(self) -> Sequence[_Traffic]: ...


class HasSpec(Protocol):
    @property
    def spec(self) -> object: ...


def energy_of(result: CountedRun, machine: HasSpec) -> Energy:
    """A run priced with `machine`'s spec: its MACs (ops / 2) at its precision, its vector
    ops, the on-chip and DRAM bytes of its ops and its end-to-end seconds. Equal to
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
        batch=result.batch)
