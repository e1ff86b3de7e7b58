"""What a scenario produced (`accelsim.run_scenario`): its runs as a `Comparison`, the book's
figures beside the model's, published references beside the model's values, the best
throughput within the scenario's latency limit and its quantization study (a `QuantStudy`,
when it asked for one); as text, HTML for notebooks and plain records.

`ScenarioResult.tables()` gives every table (`accelsim.tables.Table`), so the text table, the
HTML and the report's Markdown show the same cells. Writing the report is the report layer's
(`accelsim.report.write`), which sits above this module: `accelsim.run_scenario` binds it to
the result as `writer`, so `result.write(folder)` works as the public API promises
(ARCHITECTURE.md).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from accelsim.comparison import Comparison
from accelsim.errors import AccelsimError
from accelsim.machines.results import RunResult
from accelsim.metrics import METRICS
from accelsim.quant.study import QuantStudy
from accelsim.scenario.scenario import Reference, Scenario
from accelsim.tables import Table
from accelsim.units import number, quantity, rate, ratio, short

Writer = Callable[["ScenarioResult", Path], Path]


class Figure(Protocol):
    """A figure of the book beside the model's value (`accelsim.book.Figure`)."""

    @property
    def name(self) -> str: ...
    @property
    def book(self) -> str: ...
    @property
    def book_value(self) -> float: ...
    @property
    def model_value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def note(self) -> str: ...
    @property
    def ratio(self) -> float: ...


@dataclass(frozen=True)
class ReferenceRow:
    """A published figure and the model's value of the same metric (None: no run matched)."""

    reference: Reference
    model_value: float | None

    @property
    def ratio(self) -> float | None:
        """The model's value over the published one."""
        if self.model_value is None or not self.reference.value:
            return None
        return self.model_value / self.reference.value

    def record(self) -> dict[str, object]:
        """As plain values: the published figure, the model's, their ratio."""
        ref = self.reference
        return {"network": ref.network, "machine": ref.machine, "batch": ref.batch,
                "metric": ref.metric, "published_value": ref.value,
                "model_value": self.model_value, "ratio": self.ratio, "source": ref.source}


def _best_within(runs: Sequence[RunResult], limit_s: float) -> tuple[str, ...]:
    """The highest-throughput run of one machine × network × precision within the limit."""
    first = runs[0]
    key = (first.machine, first.network, first.precision.value)
    fitting = [r for r in runs if r.seconds <= limit_s]
    if not fitting:
        fastest = min(runs, key=lambda r: r.seconds)
        return (*key, "none", f"{short(fastest.seconds * 1e3)} at batch {fastest.batch}", "—")
    best = max(fitting, key=lambda r: r.throughput)
    return (*key, str(best.batch), short(best.seconds * 1e3), rate(best.throughput))


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's runs, the book's figures and the references beside the model."""

    scenario: Scenario
    comparison: Comparison
    figures: tuple[Figure, ...] = ()
    references: tuple[ReferenceRow, ...] = ()
    study: QuantStudy | None = None
    writer: Writer | None = field(default=None, compare=False, repr=False)

    @property
    def has_runs(self) -> bool:
        """False for a scenario that asked only for a quantization study."""
        return bool(self.scenario.machines) or self.study is None

    def _within_limit(self) -> Table | None:
        limit = self.scenario.latency_limit_s
        if limit is None or not self.comparison.entries:
            return None
        groups: dict[tuple[str, str, str], list[RunResult]] = {}
        for r in self.comparison.results:
            groups.setdefault((r.machine, r.network, r.precision.value), []).append(r)
        return Table(f"best throughput within the {limit * 1e3:g} ms latency limit "
                       "(end to end)",
                       ("machine", "network", "precision", "batch", "end to end (ms)",
                        "inferences/s"),
                       tuple(_best_within(runs, limit) for runs in groups.values()),
                       frozenset({3, 4, 5}))

    def sections(self) -> list[Table]:
        """The tables after the runs: the latency limit, the book's figures, the references,
        what was skipped and the quantization study's tables (each only when there is
        something to show)."""
        found = [self._within_limit()]
        if self.figures:
            found.append(Table(
                "the book's figures beside the model's",
                ("figure", "the book", "the model", "model / book", "note"),
                tuple((f.name, f.book, quantity(f.model_value, f.unit), ratio(f.ratio),
                       f.note) for f in self.figures), frozenset({2, 3})))
        if self.references:
            found.append(Table(
                "published figures beside the model's",
                ("network", "machine", "batch", "metric", "published", "the model",
                 "model / published", "source"),
                tuple((r.reference.network, r.reference.machine, str(r.reference.batch),
                       r.reference.metric, number(r.reference.value), number(r.model_value),
                       ratio(r.ratio), r.reference.source) for r in self.references),
                frozenset({2, 4, 5, 6})))
        found.append(self.comparison.skipped_table())
        if self.study is not None:
            found += self.study.tables()
        return [s for s in found if s is not None]

    def tables(self) -> list[Table]:
        """Every table: the runs (none for a scenario that asked only for a quantization
        study), then `sections()`."""
        runs = [self.comparison.runs_table("runs")] if self.has_runs else []
        return [*runs, *self.sections()]

    def table(self) -> str:
        """The runs, then each of `sections()`, as text."""
        runs = [self.comparison.runs_table().text()] if self.has_runs else []
        return "\n\n".join([*runs, *(t.text() for t in self.sections())])

    def to_records(self) -> list[dict[str, object]]:
        """One plain record per run (`Comparison.to_records`)."""
        return self.comparison.to_records()

    def __repr__(self) -> str:
        study = "" if self.study is None else f", {self.study!r}"
        return (f"ScenarioResult({self.scenario.name!r}: {len(self.comparison.entries)} runs, "
                f"{len(self.figures)} book figures, {len(self.references)} references{study})")

    def _repr_html_(self) -> str:
        s = self.scenario
        head = f"<h3>{html.escape(s.name)}</h3>"
        if s.description:
            head += f"<p>{html.escape(s.description)}</p>"
        return head + "".join(t.html() for t in self.tables())

    def write(self, out_dir: str | Path) -> Path:
        """Write the report (`scenario.formats`: json, csv, md, html, png) into `out_dir`;
        returns the folder. The report layer (`accelsim.report.write`) does the writing:
        `accelsim.run_scenario` binds it as `writer`."""
        if self.writer is None:
            raise AccelsimError("this result has no report writer bound; write it with "
                                "accelsim.report.write(result, out_dir), or run the "
                                "scenario with accelsim.run_scenario")
        return self.writer(self, Path(out_dir))


def model_value(comparison: Comparison, reference: Reference) -> float | None:
    """The model's value of the reference's metric: from the first run of its machine,
    network and batch (None when no such run was made, or the metric has no value)."""
    runs = comparison.select(machine=reference.machine, network=reference.network,
                             batch=reference.batch)
    if not runs:
        return None
    value = METRICS[reference.metric].read(runs[0])
    return None if value is None else float(value)
