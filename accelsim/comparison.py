"""Many runs side by side: networks × machines × batches × precisions (`ax.compare`,
`ax.run_scenario`), as one table, plain records for JSON/CSV, and HTML for notebooks.

A `Comparison` only holds results; it never simulates (`engine.compare` runs them). Records
carry their unit in every key (`seconds`, `throughput_per_s`, `ops_per_s`); ops are counted in
the precision's own unit (`ops_unit`: FLOP for fp32/fp16/bf16, OP for int8) and the two are
never summed. Which numbers a record holds is the registry of `accelsim.metrics`; energy
(`joules_per_inference`, `ops_per_joule`, `average_watts`) is None for a machine whose spec
gives no power figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accelsim.machines.results import RunResult
from accelsim.metrics import OP_METRICS, RUN_METRICS
from accelsim.precision import Precision
from accelsim.tables import Table
from accelsim.units import rate


@dataclass(frozen=True)
class Entry:
    """One run of a comparison (the result names its machine, network, batch, precision)."""

    result: RunResult

    @property
    def key(self) -> tuple[str, str, int, str]:
        r = self.result
        return r.machine, r.network, r.batch, r.precision.value


@dataclass(frozen=True)
class Skipped:
    """A combination that could not run, and why (a precision the machine lacks, a batch
    that does not fit its memory)."""

    machine: str
    network: str
    batch: int
    precision: str
    reason: str


RUN_LABELS = ("machine", "network", "batch", "seq_len", "precision", "ops_unit")
OP_LABELS = ("machine", "network", "batch", "precision", "op_index", "op", "layer", "kind",
             "kernel")
OP_COLUMNS = (*OP_LABELS, *(m.name for m in OP_METRICS))
"""results.csv's columns: an op's labels, then `metrics.OP_METRICS`."""


def run_record(r: RunResult) -> dict[str, Any]:
    """One run as plain values, the unit in every key: its labels, then `RUN_METRICS`."""
    labels = (r.machine, r.network, r.batch, r.seq_len, r.precision.value, r.ops_unit)
    return {**dict(zip(RUN_LABELS, labels, strict=True)),
            **{m.name: m.read(r) for m in RUN_METRICS}}


def op_record(r: RunResult, index: int) -> dict[str, Any]:
    """One op of a run as plain values (the run's key first), in `OP_COLUMNS` order."""
    op = r.layers[index]
    labels = (r.machine, r.network, r.batch, r.precision.value, index, op.name, op.layer,
              op.kind, op.kernel)
    return {**dict(zip(OP_LABELS, labels, strict=True)),
            **{m.name: m.read(op) for m in OP_METRICS}}


@dataclass(frozen=True)
class Comparison:
    """Runs side by side, in the order they were made (network, machine, batch, precision)."""

    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...] = ()
    specs: tuple[tuple[str, Any], ...] = ()  # (machine name, the spec it ran with): plain data

    def spec(self, machine: str) -> Any | None:
        """The spec `machine` ran with (None when the comparison does not hold it)."""
        return dict(self.specs).get(machine)

    @property
    def results(self) -> tuple[RunResult, ...]:
        """Every run's result, in order."""
        return tuple(e.result for e in self.entries)

    def machines(self) -> list[str]:
        """The machines that ran, in order of first appearance."""
        return list(dict.fromkeys(r.machine for r in self.results))

    def networks(self) -> list[str]:
        """The networks that ran, in order of first appearance."""
        return list(dict.fromkeys(r.network for r in self.results))

    def select(self, machine: str | None = None, network: str | None = None,
               precision: Precision | str | None = None,
               batch: int | None = None) -> tuple[RunResult, ...]:
        """The runs matching every given field, in order."""
        want = None if precision is None else Precision(precision)
        return tuple(r for r in self.results
                     if (machine is None or r.machine == machine)
                     and (network is None or r.network == network)
                     and (want is None or r.precision is want)
                     and (batch is None or r.batch == batch))

    def to_records(self) -> list[dict[str, Any]]:
        """One plain record per run (`run_record`)."""
        return [run_record(r) for r in self.results]

    def op_records(self) -> list[dict[str, Any]]:
        """One plain record per run × op (`op_record`)."""
        return [op_record(r, i) for r in self.results for i in range(len(r.layers))]

    def rows(self) -> Iterable[tuple[str, ...]]:
        """One row of text cells per run (`HEADER`), rates in the precision's own unit."""
        for r in self.results:
            acc = "—" if r.accuracy is None else f"{r.accuracy:.2%}"
            energy = "—" if r.energy is None else f"{r.joules_per_inference * 1e6:,.1f}"
            yield (r.machine, r.network, str(r.batch), r.precision.value,
                   f"{r.seconds * 1e6:,.1f}", f"{r.device_seconds * 1e6:,.1f}",
                   rate(r.throughput),
                   f"{r.achieved_ops_per_s / 1e12:,.3f} T{r.ops_unit}/s",
                   f"{r.utilization:.1%}", acc, energy, r.breakdown_line())

    HEADER = ("machine", "network", "batch", "precision", "end to end (µs)",
              "device (µs)", "inferences/s", "achieved", "of peak", "accuracy",
              "µJ/inference", "time goes to")

    def runs_table(self, title: str = "") -> Table:
        """The runs (`rows`), numbers aligned right."""
        return Table.of(title, self.HEADER, self.rows(), right=range(4, len(self.HEADER) - 1))

    def skipped_table(self, title: str = "skipped") -> Table | None:
        """What could not run and why (None when everything ran)."""
        if not self.skipped:
            return None
        return Table.of(title, ("machine", "network", "batch", "precision", "why"),
                        ((s.machine, s.network, s.batch, s.precision, s.reason)
                         for s in self.skipped), right={2})

    def table(self) -> str:
        """A text table: one line per run, then what was skipped and why."""
        lines = self.runs_table().lines()
        lines += [f"skipped: {s.network} on {s.machine} ({s.precision}, batch {s.batch}): "
                  f"{s.reason}" for s in self.skipped]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Comparison({len(self.entries)} runs: {', '.join(self.networks())} on "
                f"{', '.join(self.machines())})")

    def _repr_html_(self) -> str:
        skipped = self.skipped_table()
        return self.runs_table().html() + ("" if skipped is None else skipped.html())
