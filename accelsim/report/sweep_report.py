"""A sweep's report: summary.md and index.html (`accelsim.report.pages`) with what was swept,
the best points per objective, the errors, and the plots of `accelsim.report.sweep_plots`,
rendered in memory and handed to the sweep's folder writer (`accelsim.sweep.store`), which
puts them beside the rows."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.report.inputs import NothingToPlot
from accelsim.report.pages import Page, Plot, html_page, markdown
from accelsim.report.sweep_data import value_text
from accelsim.report.sweep_plots import sweep_figures, sweep_tables
from accelsim.scenario.sweep_result import SweepResult
from accelsim.sweep.store import Pages, write_sweep
from accelsim.tables import Table
from accelsim.version import VERSION

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_DPI = 120
SHOWN_ERRORS = 10


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
    return buffer.getvalue()


def _figures(result: SweepResult) -> tuple[list[Plot], list[tuple[str, str]]]:
    """The plots as PNGs (every figure made here closed, whatever happens)."""
    if not result.ok():
        return [], [("plots", "no point ran, so there is nothing to draw")]
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        drawn = sweep_figures(result)
        return [Plot(name, title, _png(figure)) for name, title, figure in drawn], []
    except NothingToPlot as err:
        return [], [("plots", str(err))]
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def _error_table(result: SweepResult) -> list[Table]:
    counts = result.error_counts()
    if not counts:
        return []
    more = len(counts) - SHOWN_ERRORS
    caption = "Points that raised an error" + (f" ({more} more messages in sweep.csv)"
                                               if more > 0 else "")
    return [Table.of(caption, ("points", "error"),
                     ((n, message) for message, n in counts[:SHOWN_ERRORS]))]


def _axes_table(result: SweepResult) -> Table:
    sweep = result.sweep
    rows = [(name, ", ".join(value_text(name, v) for v in values) if len(values) <= 12 else
             f"{len(values)} values from {value_text(name, values[0])} to "
             f"{value_text(name, values[-1])}")
            for name, values in sweep.axes]
    rows += [("points", f"{len(sweep.points)} explicit points over "
              f"{', '.join(sweep.point_axes)}")] if sweep.points else []
    rows += [("constraint", c) for c in sweep.constraints]
    return Table.of("What was swept", ("axis", "values"), rows)


def _facts(result: SweepResult) -> tuple[str, ...]:
    sweep, failed = result.sweep, len(result.errors())
    # points already in the folder's sweep.csv, from an earlier run, finished or not
    resumed = (f"; {result.resumed:,} read back from an earlier run into this folder"
               + (" (it had finished: nothing was left to evaluate)"
                  if result.evaluated == 0 else "") if result.resumed else "")
    return (f"{len(result):,} points of {sweep.machine} over "
            f"{', '.join(sweep.network_names)}: {len(result) - failed:,} ok, {failed:,} "
            "raised an error",
            f"{result.evaluated:,} evaluated in {result.seconds:.1f} s "
            f"({result.points_per_s:,.0f} points/s){resumed}",
            "every row is in sweep.csv (and sweep.parquet where pyarrow is installed)",
            f"accelsim {VERSION}")


def render(result: SweepResult) -> Pages:
    """summary.md, index.html and the plots as PNGs of a `SweepResult`."""
    plots, left_out = _figures(result)
    tables = sweep_tables(result) if result.ok() else [result.best_table()]
    page = Page(f"accelsim sweep: {result.sweep.name}", result.sweep.description.strip(),
                _facts(result), (_axes_table(result), *tables, *_error_table(result)),
                tuple(plots), tuple(left_out))
    return Pages(markdown(page, True), html_page(page), tuple((p.name, p.png) for p in plots))


def write_sweep_report(result: SweepResult, out_dir: str | os.PathLike[str]) -> Path:
    """The sweep's folder: its rows (sweep.csv, sweep.parquet, sweep.json) and its pages."""
    return write_sweep(result, out_dir, render(result))
