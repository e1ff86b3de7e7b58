"""Plots and tables of a design-space sweep (the `accelsim sweep` report).

`sweep_figures(result)` returns (name, title, Figure) for each plot the result can draw:
- `pareto_energy`: throughput (inferences/s) against energy per inference (J), a panel per
  network: every design point faint (small grey markers, or grey hexagons shaded by how many
  points fall in each once a panel holds more than CLOUD_SCATTER_MAX), the non-dominated
  points (`pareto.pareto_front`: no point has both more throughput and less energy) as a line
  in the network's colour, a few of them numbered and their axis values listed under the
  panel (the values they all share on one line);
- `pareto_latency`: the same for latency of one batch (s) against throughput;
- `sensitivity_<axis>`, one per axis that varies: throughput and energy per inference against
  the axis' values, per network the median over the other axes (line), their middle half
  (25th–75th percentile, dark band) and min–max (light band). An axis whose values span a
  decade or more is drawn on a log scale, as is such a metric.
`sweep_tables(result)` returns the report's tables (`sweep_tables` module).

`result` is read as columns (`sweep_data.sweep_view`). A plot with
nothing to draw (no energy columns, a single point) is left out, not an error. The figures
are not registered with pyplot: there is nothing to close; save them with `fig.savefig`.
Drawing is vectorized: one collection per panel for the cloud, whatever its size.
Artists carry gids: 'panel|points', 'panel|front', 'panel|front label', 'panel|front key',
'axis|panel|metric|median', 'axis|panel|metric|quartiles', 'axis|panel|metric|range'.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from accelsim.report.pareto import pareto_front
from accelsim.report.style import COLORS, DPI, HEIGHT_IN, WIDTH_IN, finish, gid
from accelsim.report.sweep_data import (
    ENERGY,
    LATENCY,
    THROUGHPUT,
    SweepView,
    short_name,
    sweep_view,
    unit_symbol,
    value_text,
)
from accelsim.report.sweep_tables import sweep_tables
from accelsim.scenario.sweep_result import SweepResult
from accelsim.units import si

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["pareto_front", "sweep_figures", "sweep_tables"]

CLOUD_SCATTER_MAX = 20_000  # more points than this in a panel: a hexbin, not markers
HEXBIN_GRID = 60
FRONT_LABELS = 4  # numbered front points per panel, spread along the front
LABEL_GAP = 0.08  # numbered front points lie at least this far apart (axes fractions)
KEY_WIDTH = 58  # characters per line of the front points' key under a panel
PANEL_COLUMNS = 3
CLOUD_COLOR = "0.55"
LOG_SPAN = 10.0  # a span of at least one decade gets a log axis
LABELS = {THROUGHPUT: ("throughput (inferences/s)", ""),
          LATENCY: ("latency of one batch (s)", "s"),
          ENERGY: ("energy per inference (J)", "J")}
PARETO = (("pareto_energy", ENERGY, THROUGHPUT, (False, True),
           "Pareto front: throughput against energy per inference"),
          ("pareto_latency", THROUGHPUT, LATENCY, (True, False),
           "Pareto front: latency against throughput"))
SENSITIVITY_METRICS = (THROUGHPUT, ENERGY)


def _figure(panels: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    """A figure (outside pyplot) of `panels` Axes, PANEL_COLUMNS to a row."""
    from matplotlib.figure import Figure

    cols = min(PANEL_COLUMNS, panels)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(max(WIDTH_IN, 1.8 + width * cols), max(HEIGHT_IN, 0.8 + height * rows)),
                 dpi=DPI, layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for spare in axes[panels:]:
        spare.set_visible(False)
    return fig, axes[:panels]


def _is_log(values: NDArray[Any]) -> bool:
    """Positive values spanning at least LOG_SPAN."""
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0 and finite.max() >= LOG_SPAN * finite.min())


def _ticks(ax: Axes, axis: str, log: bool, unit: str) -> None:
    """Tick labels with engineering prefixes ('10 µJ', '1 M'); no minor labels."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        target.set_minor_formatter(NullFormatter())
    target.set_major_formatter(FuncFormatter(lambda v, _: si(v, unit)))


def _cloud(ax: Axes, x: NDArray[Any], y: NDArray[Any], logs: tuple[bool, bool],
           ident: str) -> None:
    """Every point, faint: markers, or a hexbin shaded by count when there are many."""
    if x.size <= CLOUD_SCATTER_MAX:
        ax.scatter(x, y, s=4, color=CLOUD_COLOR, alpha=0.35, linewidths=0, rasterized=True,
                   gid=gid(ident, "points"))
        return
    from matplotlib.colors import LinearSegmentedColormap

    shades = LinearSegmentedColormap.from_list("cloud", ["0.88", "0.35"])
    ax.hexbin(x, y, gridsize=HEXBIN_GRID, bins="log", mincnt=1, cmap=shades, linewidths=0.1,
              xscale="log" if logs[0] else "linear", yscale="log" if logs[1] else "linear",
              gid=gid(ident, "points"))


def spread(count: int, most: int) -> list[int]:
    """Up to `most` positions out of `count`, evenly spread, both ends included."""
    return sorted({round(float(p)) for p in np.linspace(0, count - 1, min(count, most))})


def apart(points: NDArray[np.float64], gap: float) -> list[int]:
    """Positions of `points` (rows of axes-fraction coordinates, in front order) to label:
    greedily, each at least `gap` from the previous one taken, then spread to at most
    FRONT_LABELS, both ends of the front kept."""
    taken = [0] if len(points) else []
    for j in range(1, len(points)):
        if np.hypot(*(points[j] - points[taken[-1]])) >= gap:
            taken.append(j)
    return [taken[k] for k in spread(len(taken), FRONT_LABELS)]


def _fractions(values: NDArray[Any], log: bool, everything: NDArray[Any]) -> NDArray[Any]:
    """Values as fractions of the span of `everything` (in log10 on a log axis)."""
    scale = np.log10 if log else np.asarray
    low, high = scale(everything.min()), scale(everything.max())
    return (scale(values) - low) / (high - low) if high > low else np.zeros(values.size)


def front_key(view: SweepView, chosen: Sequence[int], axes: Sequence[str]) -> list[str]:
    """Lines describing the labelled front points: first the axes every one of them shares
    ('all: clock_hz = 2.8 GHz'), then per point its number and the other axes' values."""
    texts = {a: [value_text(a, view.values[a][i]) for i in chosen] for a in axes}
    shared = [a for a in axes if len(set(texts[a])) == 1]
    lines = ["all: " + ", ".join(f"{short_name(a)} = {texts[a][0]}" for a in shared)] \
        if shared and len(chosen) > 1 else []
    differ = [a for a in axes if a not in shared or len(chosen) == 1]
    lines += [f"{n + 1}: " + ", ".join(f"{short_name(a)} = {texts[a][n]}" for a in differ)
              for n in range(len(chosen))]
    return [textwrap.fill(line, KEY_WIDTH, subsequent_indent="    ") for line in lines]


def _label_front(ax: Axes, view: SweepView, front: NDArray[np.intp], where: NDArray[np.intp],
                 logs: tuple[bool, bool], metrics: tuple[str, str]) -> None:
    """Number a few front points that lie apart and list their axis values under the panel
    (`where`: the panel's points)."""
    in_panel = np.zeros(view.size, dtype=bool)
    in_panel[where] = True
    axes = view.varying(in_panel)
    if not axes or not front.size:
        return
    x, y = view.metrics[metrics[0]], view.metrics[metrics[1]]
    sample = front[spread(front.size, 50 * FRONT_LABELS)]  # a long front: every nth point
    spots = np.column_stack([_fractions(x[sample], logs[0], x[where]),
                             _fractions(y[sample], logs[1], y[where])])
    chosen = [int(sample[j]) for j in apart(spots, LABEL_GAP)]
    p = int(view.panel[chosen[0]])
    name, color = view.panels[p], COLORS[p % len(COLORS)]
    for n, i in enumerate(chosen):
        ax.annotate(str(n + 1), (x[i], y[i]), xytext=(4, 4), textcoords="offset points",
                    fontsize=7, fontweight="bold", color=color, gid=gid(name, "front label"))
    ax.annotate("front points:\n" + "\n".join(front_key(view, chosen, axes)), (0.0, 0.0),
                xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -6),
                textcoords="offset points", va="top", ha="left", fontsize=6, color="0.2",
                gid=gid(name, "front key"))


def _pareto_panel(ax: Axes, view: SweepView, p: int, metrics: tuple[str, str],
                  maximize: tuple[bool, bool]) -> None:
    """One panel: the cloud of panel `p`, its front and labels."""
    x, y = view.metrics[metrics[0]], view.metrics[metrics[1]]
    rows = np.flatnonzero((view.panel == p) & np.isfinite(x) & np.isfinite(y))
    name, color = view.panels[p], COLORS[p % len(COLORS)]
    logs = (_is_log(x[rows]), _is_log(y[rows]))
    _cloud(ax, x[rows], y[rows], logs, name)
    front = rows[pareto_front(x[rows], y[rows], maximize)]
    ax.plot(x[front], y[front], color=color, marker="o", ms=3.5, lw=1.2, gid=gid(name, "front"))
    _label_front(ax, view, front, rows, logs, metrics)
    for axis, metric, log in (("x", metrics[0], logs[0]), ("y", metrics[1], logs[1])):
        _ticks(ax, axis, log, LABELS[metric][1])
    ax.margins(0.12)
    finish(ax, f"{name}: {front.size:,} of {rows.size:,} points on the front" if rows.size
           else f"{name}: no point ran",
           LABELS[metrics[0]][0], LABELS[metrics[1]][0])


def _cloud_handle(many: bool) -> Any:
    from matplotlib.lines import Line2D
    from matplotlib.patches import RegularPolygon

    if many:
        return RegularPolygon((0, 0), 6, radius=1, color="0.6",
                              label="design points (shade: how many)")
    return Line2D([], [], color=CLOUD_COLOR, marker="o", ms=3, ls="none", alpha=0.6,
                  label="design point")


def _pareto_figure(view: SweepView, metrics: tuple[str, str], maximize: tuple[bool, bool],
                   title: str) -> Figure:
    from matplotlib.lines import Line2D

    fig, axes = _figure(len(view.panels), 3.6, 3.4)
    for p, ax in enumerate(axes):
        _pareto_panel(ax, view, p, metrics, maximize)
    many = bool(np.bincount(view.panel).max() > CLOUD_SCATTER_MAX)
    fig.legend(handles=[_cloud_handle(many),
                        Line2D([], [], color="0.2", marker="o", ms=3.5, lw=1.2,
                               label="Pareto front\n(no point better in both)")],
               loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    return fig


def group_quantiles(codes: NDArray[np.intp], values: NDArray[Any], groups: int,
                    fractions: Sequence[float]) -> NDArray[np.float64]:
    """Quantiles of `values` per group code 0..groups-1 (each group non-empty), one row per
    fraction, interpolated linearly between order statistics as `numpy.quantile` does."""
    order = np.lexsort((values, codes))
    ordered = values[order].astype(float)
    counts = np.bincount(codes, minlength=groups)
    starts = np.cumsum(counts) - counts
    out = np.empty((len(fractions), groups))
    for row, f in enumerate(fractions):
        at = starts + f * (counts - 1)
        low = np.floor(at).astype(np.intp)
        high = np.minimum(low + 1, starts + counts - 1)
        out[row] = ordered[low] + (ordered[high] - ordered[low]) * (at - low)
    return out


def _positions(view: SweepView, axis: str) -> tuple[NDArray[Any], NDArray[Any]]:
    """Per ok point, its x position for `axis` (NaN where it has none), and the distinct
    values: the numbers themselves, or 0..k-1 for text values in sorted order."""
    values = view.values[axis]
    if values.dtype != object:
        return values, np.unique(values[np.isfinite(values)])
    present = values != ""
    names = np.unique(values[present])
    where = np.full(values.size, np.nan)
    where[present] = np.searchsorted(names, values[present])
    return where, names


def _sensitivity_panel(ax: Axes, view: SweepView, axis: str, metric: str,
                       x: NDArray[Any]) -> None:
    """Per network, the metric's median and min–max over the other axes at each value."""
    y = view.metrics[metric]
    usable = np.isfinite(x) & np.isfinite(y)
    for p, name in enumerate(view.panels):
        rows = np.flatnonzero(usable & (view.panel == p))
        if not rows.size:
            continue
        at, codes = np.unique(x[rows], return_inverse=True)
        low, q1, median, q3, high = group_quantiles(codes.astype(np.intp), y[rows], at.size,
                                                    (0.0, 0.25, 0.5, 0.75, 1.0))
        color = COLORS[p % len(COLORS)]
        ax.fill_between(at, low, high, color=color, alpha=0.1, lw=0,
                        gid=gid(axis, name, metric, "range"))
        ax.fill_between(at, q1, q3, color=color, alpha=0.25, lw=0,
                        gid=gid(axis, name, metric, "quartiles"))
        ax.plot(at, median, color=color, marker="o", ms=3.5, lw=1.5, label=name,
                gid=gid(axis, name, metric, "median"))
    _ticks(ax, "y", _is_log(y[usable]), LABELS[metric][1])


def _axis_ticks(ax: Axes, axis: str, values: NDArray[Any], numeric: bool) -> None:
    """The axis' values as ticks (when few enough), log when they span a decade."""
    log = numeric and _is_log(values)
    if log:
        ax.set_xscale("log")
        from matplotlib.ticker import NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())
    if not numeric:
        ax.set_xticks(range(values.size), [str(v) for v in values], fontsize=7)
        ax.set_xlim(-0.5, values.size - 0.5)
    elif values.size <= 12:
        ax.set_xticks(values, [value_text(axis, v) for v in values], fontsize=7,
                      rotation=30 if values.size > 4 else 0, ha="right" if values.size > 4
                      else "center", rotation_mode="anchor")
    else:
        _ticks(ax, "x", False, unit_symbol(axis))


def _sensitivity_figure(view: SweepView, axis: str) -> Figure | None:
    """Throughput and energy per inference against `axis`, a panel per metric."""
    from matplotlib.patches import Patch

    metrics = [m for m in SENSITIVITY_METRICS if view.has(m)]
    x, values = _positions(view, axis)
    if not metrics or values.size < 2:
        return None
    fig, axes = _figure(len(metrics), 4.2, 3.6)
    unit = unit_symbol(axis)
    for ax, metric in zip(axes, metrics, strict=True):
        _sensitivity_panel(ax, view, axis, metric, x)
        _axis_ticks(ax, axis, values, view.values[axis].dtype != object)
        finish(ax, LABELS[metric][0].split(" (")[0], f"{axis}" + (f" ({unit})" if unit else ""),
               LABELS[metric][0])
    handles, _ = axes[0].get_legend_handles_labels()
    fig.legend(handles=[*handles, Patch(color="0.6", alpha=0.45, label="middle half"),
                        Patch(color="0.6", alpha=0.15, label="min–max")],
               loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(sensitivity_title(axis), fontsize=10)
    return fig


def sensitivity_title(axis: str) -> str:
    return (f"Sensitivity to {short_name(axis)}: over the other axes, the median (line), the "
            "middle half and min–max (bands)")


def slug(axis: str) -> str:
    """'tpu.array_rows' -> 'tpu_array_rows': an axis as part of a file name."""
    return re.sub(r"\W+", "_", axis).strip("_")


def sweep_figures(result: SweepResult) -> list[tuple[str, str, Figure]]:
    """(name, title, Figure) of each sweep plot the result can draw (see the module)."""
    view = sweep_view(result)
    if view.size == 0:
        return []
    figures: list[tuple[str, str, Figure]] = []
    for name, x, y, maximize, title in PARETO:
        if view.has(x) and view.has(y):
            figures.append((name, title, _pareto_figure(view, (x, y), maximize, title)))
    for axis in view.axes:
        fig = _sensitivity_figure(view, axis)
        if fig is not None:
            figures.append((f"sensitivity_{slug(axis)}", sensitivity_title(axis), fig))
    return figures
