"""Results of timing: one `OpResult` per op, one `RunResult` per network run.

Both are frozen, render as HTML tables in notebooks (`_repr_html_`, no pandas) and convert to
plain dictionaries (`to_dict`) for JSON and CSV writers. Ops are counted 2 per
multiply-accumulate, in the precision's own unit: FLOP for fp32/fp16/bf16, OP for int8.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.precision import Precision

BOUNDS = ("compute", "memory", "latency")


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
    bound: str
    details: Mapping[str, float] = field(default_factory=dict)
    kernel: str = ""  # what ran it: a GPU kernel's name, a TPU instruction, a CPU routine

    @property
    def achieved_ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("name", "kind", "cycles", "seconds", "ops",
                                              "dram_bytes", "onchip_bytes", "utilization",
                                              "bound", "kernel")}
        out["precision"] = self.precision.value
        out.update({f"details.{k}": v for k, v in self.details.items()})
        return out


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
    ops: int
    peak_ops_per_s: float
    clock_hz: float
    seq_len: int | None = None
    accuracy: float | None = None
    outputs: np.ndarray | None = None
    program: Any = None
    details: Mapping[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Inferences (samples) per second."""
        return self.batch / self.seconds if self.seconds > 0 else 0.0

    @property
    def achieved_ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @property
    def utilization(self) -> float:
        """Achieved over peak arithmetic rate at this precision."""
        return self.achieved_ops_per_s / self.peak_ops_per_s if self.peak_ops_per_s else 0.0

    @property
    def ops_unit(self) -> str:
        return self.precision.ops_unit

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """Plain values for JSON; outputs are left out (they can be large)."""
        out: dict[str, Any] = {
            "machine": self.machine, "network": self.network, "batch": self.batch,
            "seq_len": self.seq_len, "precision": self.precision.value,
            "cycles": self.cycles, "seconds": self.seconds, "throughput": self.throughput,
            "ops": self.ops, "ops_unit": self.ops_unit,
            "achieved_ops_per_s": self.achieved_ops_per_s,
            "peak_ops_per_s": self.peak_ops_per_s, "utilization": self.utilization,
            "accuracy": self.accuracy, **{f"details.{k}": v for k, v in self.details.items()},
        }
        if layers:
            out["layers"] = [r.to_dict() for r in self.layers]
        return out

    def summary(self) -> str:
        """Two lines for a terminal."""
        acc = "" if self.accuracy is None else f", accuracy {self.accuracy:.2%}"
        return (f"{self.network} on {self.machine} ({self.precision.value}, batch "
                f"{self.batch}): {self.seconds * 1e6:,.1f} µs, {self.throughput:,.0f} "
                f"inferences/s\n  {self.achieved_ops_per_s / 1e12:.3f} T{self.ops_unit}/s of "
                f"{self.peak_ops_per_s / 1e12:.1f} peak ({self.utilization:.1%}){acc}")

    def breakdown(self) -> dict[str, float]:
        """Where the cycles went (machines that classify them), as fractions of the total."""
        parts = {k.removesuffix("_cycles"): v for k, v in self.details.items()
                 if k.endswith("_cycles")}
        total = sum(parts.values())
        return {k: v / total for k, v in parts.items()} if total else {}

    def breakdown_line(self) -> str:
        """'array active 78%, dependency stall 17%, ...' (shares of at least 0.5%)."""
        return ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in self.breakdown().items()
                         if v >= 0.005)

    def table(self) -> str:
        """One line per op: cycles, time, work, utilization and what bound it ('—' for ops
        fused into another and costing no time of their own)."""
        lines = [f"{'op':<16}{'kind':<9}{'cycles':>12}{'µs':>10}{'ops':>14}{'util':>8}  "
                 "bound     kernel"]
        for r in self.layers:
            lines.append(f"{r.name:<16}{r.kind:<9}{r.cycles:>12,.0f}{r.seconds * 1e6:>10.2f}"
                         f"{r.ops:>14,}{r.utilization:>8.1%}  "
                         f"{(r.bound if r.cycles else '—'):<9} {r.kernel}".rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(self.summary()).replace("\n", "<br>")
        cols = ("name", "kind", "cycles", "ops", "utilization", "bound")
        rows = "".join(
            "<tr>" + "".join(f"<td>{_cell(getattr(r, c))}</td>" for c in cols) + "</tr>"
            for r in self.layers)
        header = "".join(f"<th>{c}</th>" for c in cols)
        return f"<p>{head}</p><table><tr>{header}</tr>{rows}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))
