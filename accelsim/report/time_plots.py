"""Where the time goes, and how busy each layer keeps the arithmetic units.

`time`: per run, two stacked bars by `Category` as shares of the end-to-end time: end to end
(solid) and the device's part (hatched: every category but host transfer and framework, the
work on the device with data resident). A single run is drawn op by op in microseconds.
`utilization`: per layer, achieved over peak at the run's precision (the layer's ops over its
seconds), for every machine × precision at its largest batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from accelsim.machines.results import Breakdown, Category, RunResult
from accelsim.report.inputs import NothingToPlot, Runs, runs_of
from accelsim.report.style import (
    CATEGORY_COLORS,
    HEIGHT_IN,
    Palette,
    category_handles,
    finish,
    gid,
    legend_outside,
    new_axes,
    percent_axis,
)
from accelsim.units import duration

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HOST_SIDE = (Category.HOST_TRANSFER, Category.FRAMEWORK)
UNCLASSIFIED_COLOR = "#dddddd"


def device_part(time: Breakdown) -> Breakdown:
    """The categories spent on the device (all but host transfer and framework)."""
    return Breakdown(tuple((c, s) for c, s in time.parts if c not in HOST_SIDE))


def _stack(ax: Axes, y: float, time: Breakdown, scale: float, height: float, hatch: str | None,
           ident: tuple[object, ...]) -> float:
    """One horizontal bar stacked by category, each share × `scale`; returns its end."""
    left = 0.0
    for category, seconds in time.parts:
        ax.barh(y, seconds * scale, height, left=left, color=CATEGORY_COLORS[category],
                hatch=hatch, edgecolor="white" if hatch else None, linewidth=0,
                gid=gid(*ident, category.value))
        left += seconds * scale
    return left


def time(result: Runs, ax: Axes | None = None) -> Axes:
    """Where the time goes: per run, end to end beside the device's part, as shares of the
    end-to-end time (a single run: op by op, in µs)."""
    runs = runs_of(result, "where the time goes")
    if len(runs) == 1:
        return _time_per_op(runs[0], ax)
    ax = ax or new_axes(10.0, max(4.5, 1.4 + 0.34 * len(runs)))
    for i, r in enumerate(runs):
        y = len(runs) - 1 - i
        key = (r.machine, r.network, r.precision.value, r.batch)
        scale = 100 / r.seconds if r.seconds > 0 else 0.0
        _stack(ax, y + 0.19, r.time, scale, 0.36, None, (*key, "end to end"))
        end = _stack(ax, y - 0.19, device_part(r.time), scale, 0.36, "////", (*key, "device"))
        ax.text(end + 1, y - 0.19, duration(r.device_seconds), va="center", fontsize=7)
    ax.set_yticks(range(len(runs)), [f"{r.machine}, {r.network}, {r.precision.value}, "
                                     f"batch {r.batch}: {duration(r.seconds)}"
                                     for r in reversed(runs)], fontsize=7)
    ax.set_xlim(0, 115)
    ax.set_xticks(range(0, 101, 20))
    ax.set_ylim(-0.6, len(runs) - 0.4)
    shown = [c for c in Category if any(r.time[c] > 0 for r in runs)]
    legend_outside(ax, [*category_handles(shown), *_bar_kinds()])
    finish(ax, "Where the time goes: end to end (solid) and its device part (hatched, with "
               "device time)", "share of end-to-end time (%)", "run: end-to-end time")
    ax.grid(True, axis="x", alpha=0.3)
    ax.grid(False, axis="y")
    return ax


def _bar_kinds() -> list[object]:
    from matplotlib.patches import Patch

    # outlined, unfilled: a grey fill would read as the framework category's colour
    return [Patch(facecolor="none", edgecolor="black", label="end to end"),
            Patch(facecolor="none", hatch="////", edgecolor="black", label="device")]


def _time_per_op(r: RunResult, ax: Axes | None) -> Axes:
    """One run op by op: each op's seconds stacked by category, in µs."""
    ops = [op for op in r.layers if op.seconds > 0]
    ax = ax or new_axes(9.0, max(4.5, 1.4 + 0.28 * len(ops)))
    for i, op in enumerate(ops):
        y = len(ops) - 1 - i
        end = _stack(ax, y, op.time, 1e6, 0.7, None, (op.name,))
        rest = op.seconds * 1e6 - end
        if rest > 1e-3 * op.seconds * 1e6:
            ax.barh(y, rest, 0.7, left=end, color=UNCLASSIFIED_COLOR,
                    gid=gid(op.name, "not classified"))
    ax.set_yticks(range(len(ops)), [op.name for op in reversed(ops)], fontsize=8)
    shown = [c for c in Category if any(op.time[c] > 0 for op in ops)]
    legend_outside(ax, category_handles(shown))
    return finish(ax, f"Where the time goes in {r.network} on {r.machine} "
                      f"({r.precision.value}, batch {r.batch}), op by op",
                  "time (µs)", "op")


def layer_utilization(r: RunResult) -> dict[str, float]:
    """Layer -> its ops over its seconds over the run's peak, for layers that compute."""
    ops: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for op in r.layers:
        layer = op.layer or op.name
        ops[layer] = ops.get(layer, 0) + op.ops
        seconds[layer] = seconds.get(layer, 0.0) + op.seconds
    return {layer: ops[layer] / seconds[layer] / r.peak_ops_per_s for layer in ops
            if ops[layer] > 0 and seconds[layer] > 0 and r.peak_ops_per_s > 0}


def largest_batches(runs: Sequence[RunResult]) -> list[RunResult]:
    """Each machine × network × precision at its largest batch, in order of appearance."""
    best: dict[tuple[str, str, str], RunResult] = {}
    for r in runs:
        key = (r.machine, r.network, r.precision.value)
        if key not in best or r.batch > best[key].batch:
            best[key] = r
    return list(best.values())


def utilization(result: Runs, ax: Axes | None = None) -> Axes:
    """Per layer (groups) and machine × precision (bars): achieved over peak, in percent,
    at each run's largest batch."""
    runs = largest_batches(runs_of(result, "utilization"))
    values = {(r.machine, r.precision.value, r.network, layer): u * 100
              for r in runs for layer, u in layer_utilization(r).items()}
    if not values:
        raise NothingToPlot("no layer does arithmetic: no utilization to plot")
    groups = list(dict.fromkeys((net, layer) for _, _, net, layer in values))
    palette = Palette.of(runs)
    series = list(palette.colors)
    labels = [f"{net}: {layer}" for net, layer in groups]
    # tall enough that the upright labels (~0.065 in a character) leave the Axes room for
    # its y label, which is centred on it
    ax = ax or new_axes(max(8.0, 3.0 + 0.5 * len(groups) * max(1, len(series)) / 3),
                        max(HEIGHT_IN, 3.5 + 0.065 * max(map(len, labels))))
    width = 0.8 / len(series)
    for i, (machine, precision) in enumerate(series):
        for j, (net, layer) in enumerate(groups):
            pct = values.get((machine, precision, net, layer))
            if pct:
                ax.bar(j + (i - (len(series) - 1) / 2) * width, pct, width,
                       color=palette.colors[machine, precision],
                       gid=gid(machine, net, precision, layer))
    ax.set_yscale("log")
    ax.set_ylim(min(values.values()) / 2, 100 * 1.5)
    percent_axis(ax)
    # upright labels, one line each: a slot is narrower than "tpu-lstm0: lstm_5" written flat
    ax.set_xticks(np.arange(len(groups)), labels, fontsize=8, rotation=90)
    legend_outside(ax, palette.handles(markers=False))
    batches = sorted({r.batch for r in runs})
    at = f"batch {batches[0]}" if len(batches) == 1 else "each run's largest batch"
    finish(ax, f"Utilization per layer at {at}", "network and layer",
           "utilization (% of peak at the run's precision)")
    ax.grid(False, axis="x")
    return ax
