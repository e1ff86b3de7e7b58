"""`SweepResult`: one row per design point, in the sweep's order.

Columns (`Sweep.columns`, the CSV header and the Parquet schema): point (the stable id),
status ("ok" or "error"), error (the message; "" when ok), machine, network, batch,
precision, one column per other axis named as the scenario names it, then the metrics
(`METRICS`: cycles, seconds, device_seconds, latency_s, throughput_per_s, ops,
utilization_fraction, dram_bytes, joules_per_inference, ops_per_joule, average_watts; empty
on an error row, and the energy columns empty where the machine gives no power figures).
Rows are plain tuples inside; `rows`, `ok()` and `to_records()` give dicts.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from accelsim.errors import AccelsimError
from accelsim.metrics import OBJECTIVES, Better
from accelsim.scenario.space import METRICS, Setting, Sweep
from accelsim.tables import Table

Writer = Callable[["SweepResult", Path], Path]
Cell = Setting | float
"""One cell of a row: a label, an axis value, a metric (None where the point has none)."""
Row = dict[str, Cell]



def _shown(value: Cell) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A sweep's rows (`values`: one tuple per point, in `columns` order) and how the run
    went: points evaluated now, points read back from an earlier interrupted run into the
    same folder, wall seconds, and the folder written (None for a sweep kept in memory)."""

    sweep: Sweep
    values: tuple[tuple[Cell, ...], ...]
    evaluated: int = 0
    resumed: int = 0
    seconds: float = 0.0
    out: Path | None = None
    objectives: ClassVar[Mapping[str, Better]] = OBJECTIVES
    writer: Writer | None = field(default=None, compare=False, repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.sweep.columns

    @property
    def axes(self) -> tuple[str, ...]:
        """The swept axes, named as the columns name them."""
        return self.sweep.parameters

    @property
    def metrics(self) -> tuple[str, ...]:
        return METRICS

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def rows(self) -> list[Row]:
        """Every row as {column: value}."""
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self.values]

    def to_records(self) -> list[Row]:
        """Every row as a new dict (yours to change)."""
        return [dict(r) for r in self.rows]

    def ok(self) -> list[Row]:
        """The rows whose point ran."""
        return [r for r in self.rows if r["status"] == "ok"]

    def errors(self) -> list[Row]:
        """The rows whose point raised, with its message in "error"."""
        return [r for r in self.rows if r["status"] != "ok"]

    def column(self, name: str) -> list[Cell]:
        """One column's values, in row order."""
        if name not in self.columns:
            raise AccelsimError(f"column({name!r}): no such column; use one of "
                                f"{', '.join(self.columns)}")
        index = self.columns.index(name)
        return [row[index] for row in self.values]

    @property
    def points_per_s(self) -> float:
        """Points evaluated per wall second in this run."""
        return self.evaluated / self.seconds if self.seconds > 0 else 0.0

    def best(self, metric: str, network: str | None = None) -> Row | None:
        """The ok row best at `metric` (its direction from `objectives`, else higher is
        better), among `network`'s rows when given; None when no row has a value."""
        if not isinstance(metric, str) or metric not in self.columns:
            raise AccelsimError(f"best({metric!r}): no such column; use one of "
                                f"{', '.join(c for c in self.columns if c in self.metrics)}")
        if network is not None and network not in self.sweep.network_names:
            raise AccelsimError(f"best(network={network!r}): not a network of this sweep; use "
                                f"one of {', '.join(self.sweep.network_names)}")
        sign = -1.0 if self.objectives.get(metric, Better.MAX) is Better.MIN else 1.0
        rows = [r for r in self.ok() if isinstance(r[metric], int | float)
                and (network is None or r["network"] == network)]
        return max(rows, key=lambda r: sign * float(r[metric]), default=None)  # type: ignore[arg-type]

    def best_table(self) -> Table:
        """For each network and objective, the best point's value and axes."""
        rows = []
        for network in self.sweep.network_names:
            for metric, direction in self.objectives.items():
                row = self.best(metric, network)
                if row is not None:
                    rows.append((network, metric, direction.value, _shown(row[metric]),
                                 *(_shown(row[a]) for a in self.axes), row["point"]))
        return Table.of("Best points per objective",
                        ("network", "objective", "best", "value", *self.axes, "point"), rows)

    def error_counts(self) -> list[tuple[str, int]]:
        """Each distinct error message and how many points raised it, most common first."""
        return Counter(str(r["error"]) for r in self.errors()).most_common()

    def summary(self) -> str:
        """One line: points, failures and speed."""
        failed = len(self.errors())
        resumed = f", {self.resumed:,} read back from an earlier run" if self.resumed else ""
        return (f"{self.sweep.name}: {len(self):,} points of {self.sweep.machine} "
                f"({len(self) - failed:,} ok, {failed:,} errors); {self.evaluated:,} evaluated "
                f"in {self.seconds:.1f} s ({self.points_per_s:,.0f} points/s){resumed}")

    def table(self) -> str:
        """The best points per objective as aligned text."""
        return "\n".join(self.best_table().lines())

    def write(self, out: str | os.PathLike[str]) -> Path:
        """The sweep's report folder: sweep.csv, Parquet when pyarrow is present, sweep.json,
        summary.md, index.html and the plots. The report layer (`accelsim.report.write`)
        does the writing: `accelsim.run_sweep` binds it as `writer`."""
        if self.writer is None:
            raise AccelsimError("this result has no report writer bound; write it with "
                                "accelsim.report.write(result, out), or run the sweep with "
                                "accelsim.run_sweep")
        return self.writer(self, Path(out))

    def __repr__(self) -> str:
        return f"SweepResult({self.summary()})"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>{self.best_table().html(caption=False)}"
