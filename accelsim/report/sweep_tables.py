"""Tables of a design-space sweep, as `tables.Table`s so summary.md and index.html render
them like every other report table:
- "Sweep points": per network, how many points ran, succeeded and failed, and the range of
  throughput and energy per inference over the successful ones;
- "Best design points per objective": per network and objective (the result's `objectives`,
  else the contract's: throughput max, latency min, energy per inference min, ops per joule
  max), the best point's axis values and all its metrics (the first such point on ties).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from accelsim.metrics import METRICS as REGISTRY
from accelsim.metrics import Better
from accelsim.report.sweep_data import (
    ENERGY,
    LATENCY,
    METRICS,
    OPS_PER_JOULE,
    THROUGHPUT,
    SweepView,
    sweep_view,
    value_text,
)
from accelsim.scenario.sweep_result import SweepResult
from accelsim.tables import Table
from accelsim.units import si

OBJECTIVE_NAMES = {THROUGHPUT: "throughput", LATENCY: "latency",
                   ENERGY: "energy per inference", OPS_PER_JOULE: "ops per joule"}
METRIC_HEADERS = ("throughput (inferences/s)", "latency", "energy per inference",
                  "ops per joule")


def metric_text(metric: str, value: float) -> str:
    """A metric as read in a table: 123456.7 inferences/s as '123,457', 2e-6 J as '2 µJ'."""
    if not np.isfinite(value):
        return "—"
    if metric == THROUGHPUT:
        return f"{value:,.0f}" if value >= 100 else f"{value:.4g}"
    return si(value, REGISTRY[metric].unit, digits=4)


def _range(values: NDArray[np.float64], metric: str) -> str:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return "—"
    return f"{metric_text(metric, finite.min())} – {metric_text(metric, finite.max())}"


def points_table(view: SweepView) -> Table:
    rows = []
    for p, name in enumerate(view.panels):
        mine = view.panel == p
        total = int(np.count_nonzero(view.all_panels == p))
        ok = int(np.count_nonzero(mine))
        rows.append((name, f"{total:,}", f"{ok:,}", f"{total - ok:,}",
                     _range(view.metrics[THROUGHPUT][mine], THROUGHPUT),
                     _range(view.metrics[ENERGY][mine], ENERGY)))
    return Table.of("Sweep points", ("network", "points", "ok", "failed",
                                     "throughput (inferences/s)", "energy per inference"),
                    rows)


def best_index(view: SweepView, p: int, metric: str) -> int | None:
    """The ok point of panel `p` best in `metric` (its objective), or None if none has it."""
    values = view.metrics[metric]
    rows = np.flatnonzero((view.panel == p) & np.isfinite(values))
    if not rows.size:
        return None
    pick = np.argmax if view.objectives[metric] is Better.MAX else np.argmin
    return int(rows[pick(values[rows])])


def best_table(view: SweepView) -> Table:
    order = [m for m in METRICS if m in view.objectives]
    order += [m for m in view.objectives if m not in order]
    rows = []
    for p, name in enumerate(view.panels):
        for metric in order:
            i = best_index(view, p, metric)
            if i is None:
                continue
            goal = "highest" if view.objectives[metric] is Better.MAX else "lowest"
            rows.append((name, f"{goal} {OBJECTIVE_NAMES.get(metric, metric)}",
                         str(view.points[i]),
                         *(value_text(a, view.values[a][i]) for a in view.axes),
                         *(metric_text(m, view.metrics[m][i]) for m in METRICS)))
    return Table.of("Best design points per objective",
                    ("network", "best for", "point", *view.axes, *METRIC_HEADERS), rows)


def sweep_tables(result: SweepResult) -> list[Table]:
    """The sweep's tables (see the module); a sweep without a successful point gets the
    points table only. Failed points are the report's own table (`sweep_report`)."""
    view = sweep_view(result)
    return [points_table(view), *([best_table(view)] if view.size else [])]
