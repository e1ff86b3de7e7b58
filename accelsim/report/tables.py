"""The report's tables, built once and rendered as Markdown or HTML: the runs (the same columns
as `Comparison.table`), then a scenario result's own `sections()` (the same cells its text
table and notebook HTML show: the latency limit, the book's figures beside the model's,
published references beside the model's, what was skipped). A result without `sections()`
(a bare comparison, or any object with the scenario result's fields) gets those tables built
here from its `figures`, `references` and skipped runs."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accelsim.comparison import Comparison
from accelsim.machines.results import html_table
from accelsim.report.inputs import (
    comparison_of,
    figures_of,
    references_of,
    study_of,
    study_only,
)
from accelsim.report.style import si


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def ratio_text(ratio: float | None) -> str:
    """'—' for none, else three significant digits and '×'."""
    return "—" if ratio is None else f"{ratio:.3g}×"


def _ratio(model: float | None, reference: float | None) -> float | None:
    return model / reference if model is not None and reference else None


def runs_table(cmp: Comparison) -> Table:
    """The runs, with the columns of `Comparison.table`."""
    return Table("Runs", Comparison.HEADER, tuple(tuple(row) for row in cmp.rows()))


def skipped_table(cmp: Comparison) -> Table | None:
    """What could not run and why (None when everything ran)."""
    if not cmp.skipped:
        return None
    return Table("Skipped", ("machine", "network", "batch", "precision", "why"),
                 tuple((s.machine, s.network, str(s.batch), s.precision, s.reason)
                       for s in cmp.skipped))


def quantity(value: float, unit: str) -> str:
    """With an SI prefix for SI units (92 TOP/s), as given otherwise (28 pixels per side)."""
    return si(value, unit) if unit[:1].isupper() else f"{value:,.4g} {unit}".rstrip()


def figures_table(figures: Iterable[Any]) -> Table | None:
    """The book's figures (`accelsim.book.Figure`) beside accelsim's values."""
    rows = tuple((f.name, f.book, quantity(f.book_value, f.unit),
                  quantity(f.model_value, f.unit),
                  ratio_text(_ratio(f.model_value, f.book_value)), f.note or "")
                 for f in figures)
    if not rows:
        return None
    return Table("The book's figures beside accelsim's",
                 ("figure", "the book says", "book value", "accelsim", "accelsim / book",
                  "note"), rows)


def reference_record(row: Any) -> dict[str, Any]:
    """A `ReferenceRow` as plain values: the published figure, the model's, their ratio."""
    ref = row.reference
    return {"network": ref.network, "machine": ref.machine, "batch": ref.batch,
            "metric": ref.metric, "published_value": ref.value,
            "model_value": row.model_value, "ratio": _ratio(row.model_value, ref.value),
            "source": ref.source}


def references_table(rows: Iterable[Any]) -> Table | None:
    """Published figures (a scenario's [[reference]]) beside the model's."""
    records = [reference_record(r) for r in rows]
    if not records:
        return None
    return Table("Published figures beside accelsim's",
                 ("network", "machine", "batch", "metric", "published", "accelsim",
                  "accelsim / published", "source"),
                 tuple((r["network"], r["machine"], str(r["batch"]), r["metric"],
                        f"{r['published_value']:,.4g}",
                        "—" if r["model_value"] is None else f"{r['model_value']:,.4g}",
                        ratio_text(r["ratio"]), r["source"]) for r in records))


def _table(section: Any) -> Table:
    """A titled section (`ScenarioResult.sections()`, `QuantStudy.tables()`) as a Table."""
    title = section.title
    return Table(title[:1].upper() + title[1:], tuple(section.header), tuple(section.rows))


def result_tables(result: Any) -> list[Table]:
    """Every table of a report: the runs (none when only a quantization study was asked
    for), then the result's sections (which hold its study's tables)."""
    cmp = comparison_of(result)
    sections = getattr(result, "sections", None)
    if callable(sections):
        found: list[Table | None] = [_table(s) for s in sections()]
    else:
        study = study_of(result)
        found = [figures_table(figures_of(result)), references_table(references_of(result)),
                 skipped_table(cmp),
                 *([] if study is None else [_table(t) for t in study.tables()])]
    runs = [] if study_only(result) else [runs_table(cmp)]
    return [*runs, *(t for t in found if t is not None)]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    """A table as a Markdown section: a heading, then a pipe table."""
    lines = [f"## {table.caption}", "",
             "| " + " | ".join(_md_cell(h) for h in table.header) + " |",
             "|" + "|".join("---" for _ in table.header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    """A table as an HTML section: a heading, then an escaped table."""
    return (f"<h2>{html.escape(table.caption)}</h2>\n"
            + html_table("", table.header, table.rows) + "\n")
