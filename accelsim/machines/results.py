"""Results of timing: one `OpResult` per op, one `RunResult` per network run.

Where time goes is typed, the same for every machine: each result carries a `Breakdown`
(seconds per `Category`) that a report renders without knowing the machine, and a frozen
machine-specific `detail` dataclass beneath it (the TPU's counters, a GPU kernel's waves, a
CPU GEMM's packing). `bound` is a `Bound`. Both results are frozen, render as HTML in
notebooks (`_repr_html_`, no pandas) and convert to plain dictionaries (`to_dict`) for JSON
and CSV writers. Ops are counted 2 per multiply-accumulate, in the precision's own unit: FLOP
for fp32/fp16/bf16, OP for int8; the two are never added.

Two times (ARCHITECTURE.md): `device_seconds` is the machine busy on one batch with inputs already
in its memory; `seconds` is end to end as a framework's user sees it (host transfers and the
runtime included).

Energy: a run carries its `Energy` (accelsim/energy.py: its counts priced with the machine's
per-op table, node and idle power over `seconds`), which `Machine.run` attaches;
`joules_per_inference`, `ops_per_joule` and `average_watts` read it.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import numpy as np

from accelsim.energy import Energy
from accelsim.errors import AccelsimError
from accelsim.ir import Transfer, Workload
from accelsim.precision import Precision
from accelsim.tables import Table
from accelsim.units import rate, share, si


class Category(StrEnum):
    """Where time goes, on every machine."""

    COMPUTE = "compute"  # arithmetic units busy: GEMM kernels, the TPU's array, CPU micro-kernels
    MEMORY_STALL = "memory stall"  # waiting for DRAM/weights beyond the arithmetic; CPU packing
    LATENCY = "latency"  # pipeline fill and drain, dependencies, weight shifts, kernel start-up
    ELEMENTWISE = "elementwise"  # activations, pooling, the recurrent cell, the TPU's Activate
    LAUNCH = "launch"  # kernel launch on the device; a BLAS call's dispatch on a CPU
    HOST_TRANSFER = "host transfer"  # inputs in and outputs out over the host link
    FRAMEWORK = "framework"  # a framework's per-op host overhead not hidden behind the device

    def __repr__(self) -> str:  # `r.breakdown()` prints {'compute': 0.61, ...}
        return repr(self.value)


class Bound(StrEnum):
    """What limited an op."""

    COMPUTE = "compute"
    MEMORY = "memory"
    LATENCY = "latency"


@dataclass(frozen=True)
class Breakdown:
    """Seconds per category (categories with no time are left out)."""

    parts: tuple[tuple[Category, float], ...] = ()

    @classmethod
    def of(cls, seconds: Mapping[Category, float]) -> Breakdown:
        """From a mapping; zero and negative shares (rounding) are dropped."""
        return cls(tuple((c, float(seconds[c])) for c in Category
                         if c in seconds and seconds[c] > 0))

    @classmethod
    def total_of(cls, breakdowns: Iterable[Breakdown]) -> Breakdown:
        sums: dict[Category, float] = {}
        for b in breakdowns:
            for c, s in b.parts:
                sums[c] = sums.get(c, 0.0) + s
        return cls.of(sums)

    def __getitem__(self, category: Category) -> float:
        return dict(self.parts).get(category, 0.0)

    def __iter__(self) -> Iterator[Category]:
        return iter(c for c, _ in self.parts)

    @property
    def seconds(self) -> float:
        return sum(s for _, s in self.parts)

    def scaled(self, factor: float) -> Breakdown:
        return Breakdown(tuple((c, s * factor) for c, s in self.parts))

    def fractions(self) -> dict[Category, float]:
        total = self.seconds
        return {c: s / total for c, s in self.parts} if total > 0 else {}

    def line(self, minimum: float = 0.005) -> str:
        """'compute 78%, latency 17%' (shares of at least `minimum`)."""
        return ", ".join(f"{c.value} {v:.0%}" for c, v in self.fractions().items()
                         if v >= minimum)


class MachineProgram(Protocol):
    """A compiled program a machine ran (the TPU's): `str()` is its disassembly."""

    def __len__(self) -> int: ...

    def count(self, kind: type) -> int: ...


class Detail(Protocol):
    """A machine's frozen detail dataclass beneath a result (a GPU kernel's waves, the TPU's
    counters, a CPU GEMM's packing): any dataclass instance, flattened by `detail_dict`."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


def detail_dict(detail: Detail | None) -> dict[str, object]:
    """A detail dataclass as plain values (nested ones flattened with dots)."""
    if detail is None:
        return {}
    out: dict[str, object] = {}
    for f in dataclasses.fields(detail):
        value = getattr(detail, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update({f"{f.name}.{k}": v for k, v in detail_dict(value).items()})
        else:
            out[f.name] = value
    return out


@dataclass(frozen=True)
class OpResult:
    """Timing of one op: cycles at the machine clock, work, traffic and what limited it."""

    name: str
    kind: str
    cycles: float
    seconds: float
    ops: int
    precision: Precision
    dram_bytes: int
    onchip_bytes: int
    utilization: float
    bound: Bound
    time: Breakdown = field(default_factory=Breakdown)
    detail: Detail | None = None  # the machine's frozen detail dataclass
    kernel: str = ""  # what ran it: a GPU kernel's name, a TPU instruction, a CPU routine
    layer: str = ""  # the network layer the op belongs to
    # From the op's first instruction to its end where that reaches back before its own
    # `seconds` (the TPU's weight FIFO fetches an op's weights while earlier ops run); None
    # where the op's work lies within `seconds`. Its bytes and ops all move within it.
    span_seconds: float | None = None

    @property
    def achieved_ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @property
    def work_seconds(self) -> float:
        """The time in which all of the op's `dram_bytes` and `ops` were moved and done:
        `span_seconds` where the machine gives it, else `seconds` (a roofline's time)."""
        return self.seconds if self.span_seconds is None else self.span_seconds

    def breakdown(self) -> dict[Category, float]:
        """{Category: fraction of this op's time}."""
        return self.time.fractions()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "layer": self.layer, "kind": self.kind, "cycles": self.cycles,
            "seconds": self.seconds, "ops": self.ops, "precision": self.precision.value,
            "dram_bytes": self.dram_bytes, "onchip_bytes": self.onchip_bytes,
            "utilization": self.utilization, "bound": self.bound.value, "kernel": self.kernel}
        out.update({f"time_s.{c.value}": s for c, s in self.time.parts})
        out.update({f"detail.{k}": v for k, v in detail_dict(self.detail).items()})
        return out

    def __repr__(self) -> str:
        return (f"OpResult({self.name!r}, {self.kind}, {self.seconds * 1e6:,.2f} µs, "
                f"{self.bound.value}-bound, util {self.utilization:.1%})")

    def _repr_html_(self) -> str:
        rows = [("kind", self.kind), ("time", f"{self.seconds * 1e6:,.2f} µs"),
                ("cycles", f"{self.cycles:,.0f}"), ("ops", f"{self.ops:,}"),
                ("utilization", f"{self.utilization:.1%}"), ("bound", self.bound.value),
                ("kernel", self.kernel or "—")]
        rows += [(c.value, f"{v:.1%}") for c, v in self.breakdown().items()]
        return Table.of(f"{self.name} ({self.precision.value})", ("", ""), rows).html()


@dataclass(frozen=True, eq=False)
class RunResult:
    """One batch of one network on one machine at one precision."""

    machine: str
    network: str
    batch: int
    precision: Precision
    layers: tuple[OpResult, ...]
    cycles: float
    seconds: float
    device_seconds: float
    ops: int
    peak_ops_per_s: float
    clock_hz: float
    seq_len: int | None = None
    accuracy: float | None = None
    outputs: np.ndarray | None = None
    program: MachineProgram | None = None  # the TPU's compiled program, or None
    detail: Detail | None = None  # the machine's frozen run-level detail dataclass
    time: Breakdown = field(default_factory=Breakdown)
    vector_ops: int = 0  # element-wise and pooling ops (energy.vector_ops_of), apart from `ops`
    energy: Energy | None = None  # None only for a machine whose spec gives no power figures
    memory_bytes_per_s: float | None = None  # the spec's main memory (the roofline's slope)

    @property
    def throughput(self) -> float:
        """Inferences (samples) per second, end to end."""
        return self.batch / self.seconds if self.seconds > 0 else 0.0

    @property
    def device_throughput(self) -> float:
        return self.batch / self.device_seconds if self.device_seconds > 0 else 0.0

    @property
    def achieved_ops_per_s(self) -> float:
        """Over device time: what the hardware sustained."""
        return self.ops / self.device_seconds if self.device_seconds > 0 else 0.0

    @property
    def utilization(self) -> float:
        """Achieved (over device time) over peak arithmetic rate at this precision."""
        return self.achieved_ops_per_s / self.peak_ops_per_s if self.peak_ops_per_s else 0.0

    @property
    def ops_unit(self) -> str:
        return self.precision.ops_unit

    def _energy(self) -> Energy:
        if self.energy is None:
            raise AccelsimError(f"{self.machine} gives no power figures, so this run carries no "
                                "energy; give its spec process_nm, idle_watts and tdp_watts, "
                                "or price it with accelsim.energy.energy_of(result, machine)")
        return self.energy

    @property
    def joules_per_inference(self) -> float:
        """Energy per sample: dynamic (per-op table) plus idle power over `seconds`."""
        return self._energy().joules_per_inference

    @property
    def ops_per_joule(self) -> float:
        """`ops` (2 per MAC) over the batch's joules."""
        return self._energy().ops_per_joule

    @property
    def average_watts(self) -> float:
        """The batch's joules over its end-to-end `seconds`."""
        return self._energy().average_watts

    def breakdown(self) -> dict[Category, float]:
        """{Category: fraction of the end-to-end time}."""
        return self.time.fractions()

    def breakdown_line(self) -> str:
        return self.time.line()

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """Plain values for JSON; outputs are left out (they can be large)."""
        out: dict[str, Any] = {
            "machine": self.machine, "network": self.network, "batch": self.batch,
            "seq_len": self.seq_len, "precision": self.precision.value,
            "cycles": self.cycles, "seconds": self.seconds,
            "device_seconds": self.device_seconds, "throughput": self.throughput,
            "ops": self.ops, "ops_unit": self.ops_unit,
            "achieved_ops_per_s": self.achieved_ops_per_s,
            "peak_ops_per_s": self.peak_ops_per_s, "utilization": self.utilization,
            "accuracy": self.accuracy, "vector_ops": self.vector_ops,
            **({} if self.energy is None else self.energy.to_dict()),
            **{f"time_s.{c.value}": s for c, s in self.time.parts},
            **{f"detail.{k}": v for k, v in detail_dict(self.detail).items()},
        }
        if layers:
            out["layers"] = [r.to_dict() for r in self.layers]
        return out

    def summary(self) -> str:
        """Two lines for a terminal, and a third for energy when the run carries it."""
        acc = "" if self.accuracy is None else f", accuracy {self.accuracy:.2%}"
        e = self.energy
        energy = "" if e is None else (f"\n  {e.joules_per_inference * 1e6:,.2f} µJ per "
                                       f"inference, {e.average_watts:,.1f} W average "
                                       f"({e.line()})")
        return (f"{self.network} on {self.machine} ({self.precision.value}, batch "
                f"{self.batch}): {self.seconds * 1e6:,.1f} µs end to end "
                f"({self.device_seconds * 1e6:,.1f} µs on the device), "
                f"{rate(self.throughput)} inferences/s\n  "
                f"{si(self.achieved_ops_per_s, f'{self.ops_unit}/s')} of "
                f"{si(self.peak_ops_per_s, f'{self.ops_unit}/s')} peak "
                f"({share(self.utilization)}){acc}{energy}")

    def op_table(self) -> Table:
        """One row per op: cycles, time, work, utilization, what bound it ('—' for ops fused
        into another and costing no time of their own) and the kernel that ran it."""
        return Table.of("", ("op", "kind", "cycles", "µs", "ops", "util", "bound", "kernel"),
                        ((r.name, r.kind, f"{r.cycles:,.0f}", f"{r.seconds * 1e6:,.2f}",
                          f"{r.ops:,}", f"{r.utilization:.1%}",
                          r.bound.value if r.cycles else "—", r.kernel) for r in self.layers),
                        right={2, 3, 4, 5})

    def table(self) -> str:
        """`op_table` as aligned text."""
        return self.op_table().text()

    def __repr__(self) -> str:
        return (f"RunResult({self.network!r} on {self.machine!r}, {self.precision.value}, "
                f"batch {self.batch}: {self.seconds * 1e6:,.1f} µs, "
                f"{rate(self.throughput)}/s)")

    def _repr_html_(self) -> str:
        head = f"<p>{html.escape(self.summary()).replace(chr(10), '<br>')}</p>"
        shares = self.breakdown_line()
        if shares:
            head += f"<p>time: {html.escape(shares)}</p>"
        return head + self.op_table().html()


@dataclass(frozen=True)
class WorkloadTiming:
    """A timed workload (`Machine.time_workload`): per-op results, both times, where the
    time went, and the machine's program (a TPU `Program`) and run-level detail if it has
    them."""

    layers: tuple[OpResult, ...]
    cycles: float
    seconds: float
    device_seconds: float
    time: Breakdown
    program: MachineProgram | None = None
    detail: Detail | None = None

    @classmethod
    def serial(cls, layers: tuple[OpResult, ...], workload: Workload,
               detail: Detail | None = None) -> WorkloadTiming:
        """Ops one after another: end to end is every op, device time all but the host
        transfers."""
        seconds = sum(r.seconds for r in layers)
        device = sum(r.seconds for r, op in zip(layers, workload.ops, strict=True)
                     if not isinstance(op, Transfer))
        return cls(layers, sum(r.cycles for r in layers), seconds, device,
                   Breakdown.total_of(r.time for r in layers), None, detail)
