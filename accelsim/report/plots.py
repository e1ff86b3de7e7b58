"""The report's plots (`ax.plot`): each takes a `Comparison` or a scenario's result, draws on
`ax` (a new figure when None) and returns the matplotlib Axes. They never show a window.

- `throughput`: inferences/s against batch, end to end (solid) and on the device (dashed);
- `latency`: end-to-end latency against batch, with the scenario's latency limit;
- `roofline`: each machine's roofline at each precision it ran, and every op's achieved point;
- `ops_vs_flops`: peak and achieved rates, int8 in TOP/s and floats in TFLOP/s on separate
  axes, never summed or drawn against one unit;
- `accuracy`: accuracy per network and precision (runs scored with `accuracy=True`);
- `time`: where the time goes, by `Category`, end to end beside the device's share;
- `utilization`: each layer's achieved share of peak, per machine and precision.

A result holding nothing a plot can draw raises `NothingToPlot` (a report leaves the plot
out with a note). Every artist that carries data has a gid naming its run
('machine|network|precision|batch|...'), so tests and readers can find it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING, Any

import numpy as np

from accelsim.machines.results import OpResult, RunResult
from accelsim.report.inputs import NothingToPlot, Runs, comparison_of, latency_limit_s, runs_of
from accelsim.report.rates import draw_accuracy, draw_rates
from accelsim.report.style import (
    Palette,
    batch_axis,
    finish,
    gid,
    legend_outside,
    line_handles,
    new_axes,
    plain_log_axis,
)
from accelsim.report.time_plots import time, utilization
from accelsim.units import si

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PLOTS", "NothingToPlot", "accuracy", "latency", "ops_vs_flops", "roofline",
           "throughput", "time", "utilization"]


def _series(runs: tuple[RunResult, ...]) -> list[tuple[tuple[str, str, str], list[RunResult]]]:
    """Runs grouped by machine × network × precision, each group sorted by batch."""
    def key(r: RunResult) -> tuple[str, str, str]:
        return r.machine, r.network, r.precision.value

    order = {k: i for i, k in enumerate(dict.fromkeys(key(r) for r in runs))}
    ordered = sorted(runs, key=lambda r: (order[key(r)], r.batch))
    return [(k, list(g)) for k, g in groupby(ordered, key=key)]


def throughput(result: Runs, ax: Axes | None = None) -> Axes:
    """Inferences per second against batch, log–log: end to end solid, device dashed."""
    runs = runs_of(result, "throughput")
    ax = ax or new_axes()
    palette = Palette.of(runs)
    for (machine, network, precision), group in _series(runs):
        first = group[0]
        style: dict[str, Any] = {"color": palette.color(first), "marker": palette.marker(first)}
        batches = [r.batch for r in group]
        ax.plot(batches, [r.throughput for r in group], ls="-", **style,
                gid=gid(machine, network, precision, "end to end"))
        # hollow markers: with one batch there is no line, and the fill tells the two apart
        ax.plot(batches, [r.device_throughput for r in group], ls="--", alpha=0.7, **style,
                markerfacecolor="none", gid=gid(machine, network, precision, "device"))
    ax.set_yscale("log")
    batch_axis(ax, (r.batch for r in runs))
    legend_outside(ax, [*palette.handles(), *line_handles({"end to end": "-", "device": "--"},
                                                          hollow={"device"})])
    return finish(ax, "Throughput against batch: end to end (solid, filled), on the device "
                      "(dashed, hollow)", "batch (samples)", "throughput (inferences/s)")


def latency(result: Runs, ax: Axes | None = None) -> Axes:
    """End-to-end latency of one batch against batch, log–log, with the scenario's latency
    limit as a horizontal line when it has one."""
    runs = runs_of(result, "latency")
    ax = ax or new_axes()
    palette = Palette.of(runs)
    for (machine, network, precision), group in _series(runs):
        ax.plot([r.batch for r in group], [r.seconds * 1e3 for r in group],
                color=palette.color(group[0]), marker=palette.marker(group[0]),
                gid=gid(machine, network, precision, "end to end"))
    handles = palette.handles()
    limit = latency_limit_s(result)
    if limit is not None:
        handles.append(ax.axhline(limit * 1e3, color="black", ls=":", lw=1.5,
                                  label=f"latency limit {limit * 1e3:g} ms",
                                  gid="latency limit"))
    ax.set_yscale("log")
    plain_log_axis(ax)
    batch_axis(ax, (r.batch for r in runs))
    legend_outside(ax, handles)
    return finish(ax, "End-to-end latency of one batch", "batch (samples)", "latency (ms)")


def _drawn(r: RunResult) -> tuple[list[OpResult], list[OpResult]]:
    """The ops a roofline draws, and those it leaves out: an op whose bytes at the run's
    main-memory bandwidth take longer than the op took read them from a cache (a CPU GEMM
    whose operands stay in L3 by the model's account), so they are no point on a DRAM
    roofline."""
    ops = [op for op in r.layers if op.ops > 0 and op.dram_bytes > 0 and op.work_seconds > 0]
    bw = r.memory_bytes_per_s
    cached = [op for op in ops if bw and op.dram_bytes / bw > op.work_seconds * (1 + 1e-9)]
    return [op for op in ops if op not in cached], cached


def roofline_points(r: RunResult) -> tuple[list[float], list[float]]:
    """(ops per DRAM byte, ops/s) of every op drawn (`_drawn`), both over the same work: the
    op's bytes and ops over `OpResult.work_seconds`, the time in which they all moved (on
    the TPU from the DDR3 fetch of its first weight tile, which runs while earlier ops
    compute), so no point rises above the roof."""
    ops, _ = _drawn(r)
    return ([op.ops / op.dram_bytes for op in ops],
            [op.ops / op.work_seconds for op in ops])


def from_cache(r: RunResult) -> list[str]:
    """The ops a roofline leaves out: their bytes came from a cache, not DRAM (`_drawn`)."""
    return [op.name for op in _drawn(r)[1]]


def roofline(result: Runs, machine: str | None = None, ax: Axes | None = None) -> Axes:
    """Each machine's roofline (or the named machine's) at every precision it ran: the peak
    rate and the main-memory bandwidth slope (`RunResult.memory_bytes_per_s`), with every
    op's point (ops per DRAM byte against ops/s over the time its bytes and ops took:
    `roofline_points`), log–log."""
    runs = runs_of(result, "a roofline")
    if machine is not None:
        runs = tuple(r for r in runs if r.machine == machine)
        if not runs:
            have = ", ".join(comparison_of(result).machines())
            raise NothingToPlot(f"no runs on {machine!r} to draw a roofline of; the result "
                                f"ran {have}")
    points = {r: roofline_points(r) for r in runs}
    xs = [x for intensities, _ in points.values() for x in intensities]
    if not xs:
        raise NothingToPlot("no op both computes and moves DRAM bytes: no roofline point")
    ax = ax or new_axes()
    palette = Palette.of(runs)
    for r, (x, y) in points.items():
        ax.scatter(x, y, color=palette.color(r), marker=palette.marker(r), s=28, alpha=0.75,
                   edgecolors="white", linewidths=0.5,
                   gid=gid(r.machine, r.network, r.precision.value, r.batch))
    handles = _roofs(ax, runs, palette, (min(xs) / 4, max(xs) * 4))
    ax.set_xscale("log")
    ax.set_yscale("log")
    cached = sum(len(from_cache(r)) for r in runs)
    if cached:  # said, not hidden: the reader sees how many points the DRAM roof leaves out
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], ls="none", label=f"{cached} op runs not drawn: their "
                              "bytes came from cache\nfaster than DRAM allows"))
    legend_outside(ax, [*handles, *palette.handles()[len(palette.colors):]])
    what = "Roofline" if machine is None else f"Roofline of {machine}"
    return finish(ax, f"{what}: each op over the time its bytes and ops took",
                  "operational intensity (ops per DRAM byte)",
                  "rate (OP/s for int8, FLOP/s for floats)")


def _roofs(ax: Axes, runs: tuple[RunResult, ...], palette: Palette,
           span: tuple[float, float]) -> list[object]:
    """One roof per machine × precision: min(peak, bandwidth × intensity), the bandwidth the
    run's spec gives (`RunResult.memory_bytes_per_s`), drawn across the ops' intensities and
    every ridge point."""
    firsts: dict[tuple[str, str], RunResult] = {}
    for r in runs:
        firsts.setdefault((r.machine, r.precision.value), r)
    ridges = [r.peak_ops_per_s / r.memory_bytes_per_s for r in firsts.values()
              if r.memory_bytes_per_s]
    x = np.logspace(np.log10(min([span[0], *(v / 4 for v in ridges)])),
                    np.log10(max([span[1], *(v * 4 for v in ridges)])), 200)
    handles: list[object] = []
    for (machine, precision), r in firsts.items():
        peak, bw = r.peak_ops_per_s, r.memory_bytes_per_s
        y = np.minimum(peak, bw * x) if bw else np.full_like(x, peak)
        memory = si(bw, "B/s") if bw else "DRAM bandwidth unknown"
        (line,) = ax.plot(x, y, color=palette.color(r), lw=1.5,
                          label=f"{machine} ({precision}): {si(peak, r.ops_unit + '/s')}, "
                                f"{memory}", gid=gid(machine, precision, "roof"))
        handles.append(line)
    return handles


def ops_vs_flops(result: Runs, ax: Axes | None = None) -> Axes:
    """Peak and best achieved rate per machine and precision as bars: int8 in TOP/s on the
    left axis, floating point in TFLOP/s on the right one. An int8 op and a float op are not
    the same work, so the two never share an axis or a sum."""
    runs = runs_of(result, "ops against flops")
    groups = len({(r.machine, r.precision) for r in runs})
    return draw_rates(ax or new_axes(max(8.0, 3.0 + 1.3 * groups)), runs)


def accuracy(result: Runs, ax: Axes | None = None) -> Axes:
    """Accuracy per network (groups) and precision (bars), from the runs scored on their
    test split."""
    scored = tuple(r for r in comparison_of(result).results if r.accuracy is not None)
    if not scored:
        raise NothingToPlot("no run carries an accuracy: compare with accuracy=True (a "
                            "scenario's [run] accuracy = true) to plot it")
    ax = ax or new_axes()
    return draw_accuracy(ax, scored)


PLOTS: dict[str, Callable[..., Axes]] = {
    "throughput": throughput, "latency": latency, "roofline": roofline,
    "ops_vs_flops": ops_vs_flops, "accuracy": accuracy, "time": time,
    "utilization": utilization}
