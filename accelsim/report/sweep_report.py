"""A sweep's pages: summary.md and index.html (`accelsim.report.pages`) with what was swept,
the best points per objective, the errors, and the plots of `accelsim.report.sweep_plots`
(`sweep_figures(result)` -> [(name, title, Figure)], `sweep_tables(result)` -> tables). Where
that module is not installed, the pages carry this module's own best-points table and no
plots. Everything is rendered in memory; `accelsim.sweep.store.write_sweep` writes it."""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys
from collections.abc import Sequence
from typing import Any

from accelsim.report.pages import Page, Plot, html_page, markdown
from accelsim.report.sweep_data import value_text
from accelsim.report.tables import Table

PLOTS_MODULE = "accelsim.report.sweep_plots"
PNG_DPI = 120
SHOWN_ERRORS = 10


def _plots_module() -> Any | None:
    """`accelsim.report.sweep_plots`, or None where it does not exist."""
    if importlib.util.find_spec(PLOTS_MODULE) is None:
        return None
    return importlib.import_module(PLOTS_MODULE)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
    return buffer.getvalue()


def _figures(result: Any, module: Any) -> tuple[list[Plot], list[tuple[str, str]]]:
    """The plots as PNGs (every figure made here closed, whatever happens)."""
    if module is None:
        return [], [("plots", f"{PLOTS_MODULE} is not installed")]
    if not result.ok():
        return [], [("plots", "no point ran, so there is nothing to draw")]
    import matplotlib.pyplot as plt

    from accelsim.report.inputs import NothingToPlot

    before = set(plt.get_fignums())
    try:
        drawn = module.sweep_figures(result)
        return [Plot(name, title, _png(figure)) for name, title, figure in drawn], []
    except NothingToPlot as err:
        return [], [("plots", str(err))]
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def _table(item: Any) -> Table:
    """A table from sweep_tables: a `Table`, or (caption, header, rows)."""
    if isinstance(item, Table):
        return item
    caption, header, rows = item
    return Table(str(caption), tuple(map(str, header)),
                 tuple(tuple(map(str, row)) for row in rows))


def best_points_table(result: Any) -> Table:
    """For each network and objective, the best point's value and its axes."""
    header, rows = result.best_table()
    return Table("Best points per objective", tuple(header), tuple(rows))


def _error_table(result: Any) -> list[Table]:
    counts = result.error_counts()
    if not counts:
        return []
    rows = tuple((str(n), message) for message, n in counts[:SHOWN_ERRORS])
    more = len(counts) - SHOWN_ERRORS
    caption = "Points that raised an error" + (f" ({more} more messages in sweep.csv)"
                                               if more > 0 else "")
    return [Table(caption, ("points", "error"), rows)]


def _axes_table(result: Any) -> Table:
    sweep = result.sweep
    rows = [(name, ", ".join(value_text(name, v) for v in values) if len(values) <= 12 else
             f"{len(values)} values from {value_text(name, values[0])} to "
             f"{value_text(name, values[-1])}")
            for name, values in sweep.axes]
    rows += [("points", f"{len(sweep.points)} explicit points over "
              f"{', '.join(sweep.point_axes)}")] if sweep.points else []
    rows += [("constraint", c) for c in sweep.constraints]
    return Table("What was swept", ("axis", "values"), tuple(rows))


def _facts(result: Any) -> tuple[str, ...]:
    sweep, failed = result.sweep, len(result.errors())
    version = getattr(sys.modules.get("accelsim"), "__version__", "unknown")
    resumed = (f"; {result.resumed:,} read back from an earlier, interrupted run"
               if result.resumed else "")
    return (f"{len(result):,} points of {sweep.machine} over "
            f"{', '.join(sweep.network_names)}: {len(result) - failed:,} ok, {failed:,} "
            "raised an error",
            f"{result.evaluated:,} evaluated in {result.seconds:.1f} s "
            f"({result.points_per_s:,.0f} points/s){resumed}",
            "every row is in sweep.csv (and sweep.parquet where pyarrow is installed)",
            f"accelsim {version}")


def render(result: Any) -> tuple[str, str, Sequence[Plot]]:
    """(summary.md, index.html, the plots as PNGs) of a `SweepResult`."""
    module = _plots_module()
    plots, left_out = _figures(result, module)
    tables = ([_table(t) for t in module.sweep_tables(result)] if module is not None
              and result.ok() else [best_points_table(result)])
    page = Page(f"accelsim sweep: {result.sweep.name}", result.sweep.description.strip(),
                _facts(result), (_axes_table(result), *tables, *_error_table(result)),
                tuple(plots), tuple(left_out))
    return markdown(page, True), html_page(page), plots
