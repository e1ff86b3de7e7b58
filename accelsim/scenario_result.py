"""What a scenario produced (`accelsim.run_scenario`): its runs as a `Comparison`, the book's
figures beside the model's, published references beside the model's values, the best
throughput within the scenario's latency limit and its quantization study (a `QuantStudy`,
when it asked for one); as text, HTML for notebooks and plain records.

`ScenarioResult.sections()` gives every table after the runs as (title, header, rows) of text,
so the text table, the HTML and the report's markdown show the same cells. `write` hands the
result to the report layer (`accelsim.report.write`), which sits above this module.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from accelsim.comparison import Comparison, run_record
from accelsim.machines.results import RunResult, html_table
from accelsim.quant.study import QuantStudy
from accelsim.scenario import Reference, Scenario

_SCALES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


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


class Section(NamedTuple):
    """One table: a title, its header and rows of text; `right` columns are numbers."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()


def quantity(value: float, unit: str) -> str:
    """92e12, 'OP/s' → '92.0 TOP/s'; 4.5e-5, 's' → '45.0 µs'; other units as given."""
    if unit == "s" and 0 < abs(value) < 1:
        scale, prefix = (1e-3, "m") if abs(value) >= 1e-3 else (1e-6, "µ")
        return f"{value / scale:,.1f} {prefix}s"
    if unit[:1].isupper():  # an SI unit: B, OP, FLOP, Hz, W, MAC
        for scale, prefix in _SCALES:
            if abs(value) >= scale:
                return f"{value / scale:,.1f} {prefix}{unit}"
    return f"{value:,.4g} {unit}".rstrip()


def number(value: float | None) -> str:
    """A published or model value for a table: '—' for none, 3.500e+12, 13,194, 0.5."""
    if value is None:
        return "—"
    if abs(value) >= 1e9:
        return f"{value:.3e}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def ratio_text(ratio: float | None) -> str:
    """A model / published ratio: '—' for none, 1.34, 4.2e+03."""
    if ratio is None:
        return "—"
    return f"{ratio:.2f}" if 0.01 <= abs(ratio) < 100 else f"{ratio:.3g}"


def text_table(section: Section) -> str:
    """A titled text table, columns padded to their widest cell."""
    rows = [section.header, *section.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(section.header))]
    lines = ["  ".join(cell.rjust(w) if i in section.right else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    return "\n".join([f"{section.title}:", *(f"  {line}" for line in lines)])


def _best_within(runs: Sequence[RunResult], limit_s: float) -> tuple[str, ...]:
    """The highest-throughput run of one machine × network × precision within the limit."""
    first = runs[0]
    key = (first.machine, first.network, first.precision.value)
    fitting = [r for r in runs if r.seconds <= limit_s]
    if not fitting:
        fastest = min(runs, key=lambda r: r.seconds)
        return (*key, "none", f"{_ms(fastest.seconds)} at batch {fastest.batch}", "—")
    best = max(fitting, key=lambda r: r.throughput)
    return (*key, str(best.batch), _ms(best.seconds), f"{best.throughput:,.0f}")


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.2f}" if ms >= 1 else f"{ms:.3g}"


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's runs, the book's figures and the references beside the model."""

    scenario: Scenario
    comparison: Comparison
    figures: tuple[Figure, ...] = ()
    references: tuple[ReferenceRow, ...] = ()
    study: QuantStudy | None = None

    @property
    def has_runs(self) -> bool:
        """False for a scenario that asked only for a quantization study."""
        return bool(self.scenario.machines) or self.study is None

    def _within_limit(self) -> Section | None:
        limit = self.scenario.latency_limit_s
        if limit is None or not self.comparison.entries:
            return None
        groups: dict[tuple[str, str, str], list[RunResult]] = {}
        for r in self.comparison.results:
            groups.setdefault((r.machine, r.network, r.precision.value), []).append(r)
        return Section(f"best throughput within the {limit * 1e3:g} ms latency limit "
                       "(end to end)",
                       ("machine", "network", "precision", "batch", "end to end (ms)",
                        "inferences/s"),
                       tuple(_best_within(runs, limit) for runs in groups.values()),
                       frozenset({3, 4, 5}))

    def sections(self) -> list[Section]:
        """The tables after the runs: the latency limit, the book's figures, the references,
        what was skipped and the quantization study's tables (each only when there is
        something to show)."""
        found = [self._within_limit()]
        if self.figures:
            found.append(Section(
                "the book's figures beside the model's",
                ("figure", "the book", "the model", "model / book", "note"),
                tuple((f.name, f.book, quantity(f.model_value, f.unit), ratio_text(f.ratio),
                       f.note) for f in self.figures), frozenset({2, 3})))
        if self.references:
            found.append(Section(
                "published figures beside the model's",
                ("network", "machine", "batch", "metric", "published", "the model",
                 "model / published", "source"),
                tuple((r.reference.network, r.reference.machine, str(r.reference.batch),
                       r.reference.metric, number(r.reference.value), number(r.model_value),
                       ratio_text(r.ratio), r.reference.source) for r in self.references),
                frozenset({2, 4, 5, 6})))
        if self.comparison.skipped:
            found.append(Section(
                "skipped", ("machine", "network", "batch", "precision", "why"),
                tuple((s.machine, s.network, str(s.batch), s.precision, s.reason)
                      for s in self.comparison.skipped), frozenset({2})))
        if self.study is not None:
            found += [Section(*t) for t in self.study.tables()]
        return [s for s in found if s is not None]

    def table(self) -> str:
        """The runs, then each of `sections()`, as text."""
        runs = [dataclasses.replace(self.comparison, skipped=()).table()] if self.has_runs \
            else []
        return "\n\n".join([*runs, *(text_table(s) for s in self.sections())])

    def to_records(self) -> list[dict[str, Any]]:
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
        runs = html_table("runs", Comparison.HEADER, self.comparison.rows()) \
            if self.has_runs else ""
        return head + runs + "".join(html_table(x.title, x.header, x.rows)
                                     for x in self.sections())

    def write(self, out_dir: str | Path) -> Path:
        """Write the report (`scenario.formats`: json, csv, md, html, png) into `out_dir`;
        returns the folder (`accelsim.report.write`)."""
        from accelsim.report import write  # the report reads results by duck typing

        return Path(write(self, out_dir))


def model_value(comparison: Comparison, reference: Reference) -> float | None:
    """The model's value of the reference's metric: from the first run of its machine,
    network and batch (None when no such run was made, or the metric has no value)."""
    runs = comparison.select(machine=reference.machine, network=reference.network,
                             batch=reference.batch)
    if not runs:
        return None
    value = run_record(runs[0])[reference.metric]
    return None if value is None else float(value)
