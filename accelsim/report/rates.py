"""Bar charts of rates and accuracy: peak against achieved per machine and precision, each in
its own unit (int8 in TOP/s, floats in TFLOP/s, on separate axes: the book's "92 TOPS against
20 TFLOPS" made honest), and accuracy per network and precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from accelsim.machines.results import RunResult
from accelsim.report.style import COLORS, finish, gid, legend_outside, percent_axis
from accelsim.units import short

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PEAK_COLOR = "0.8"
TERA = 1e12


@dataclass(frozen=True)
class RateGroup:
    """One machine at one precision: its peak, and the best achieved rate per network."""

    machine: str
    precision: str
    unit: str  # "OP" or "FLOP"
    peak_ops_per_s: float
    achieved_ops_per_s: tuple[tuple[str, float], ...]


def rate_groups(runs: Sequence[RunResult]) -> list[RateGroup]:
    """Machine × precision groups in order of appearance; achieved is the best over batches
    (over device time, what the hardware sustained)."""
    keys = list(dict.fromkeys((r.machine, r.precision.value) for r in runs))
    groups = []
    for machine, precision in keys:
        mine = [r for r in runs if (r.machine, r.precision.value) == (machine, precision)]
        nets = dict.fromkeys(r.network for r in mine)
        best = tuple((n, max(r.achieved_ops_per_s for r in mine if r.network == n))
                     for n in nets)
        groups.append(RateGroup(machine, precision, mine[0].ops_unit,
                                mine[0].peak_ops_per_s, best))
    return groups


def _group_bars(ax: Axes, pos: float, group: RateGroup, nets: list[str],
                width: float) -> list[float]:
    """A group's peak bar and one achieved bar per network; returns the values in tera."""
    bars = [("peak", group.peak_ops_per_s, PEAK_COLOR)]
    bars += [(n, dict(group.achieved_ops_per_s).get(n, 0.0), COLORS[i % len(COLORS)])
             for i, n in enumerate(nets)]
    values = []
    for i, (label, value, color) in enumerate(bars):
        x = pos + (i - (len(bars) - 1) / 2) * width
        if value <= 0:
            continue
        ax.bar(x, value / TERA, width, color=color, edgecolor="0.3", linewidth=0.5,
               hatch="//" if label == "peak" else None,
               gid=gid(group.machine, group.precision, label, f"T{group.unit}/s"))
        ax.text(x, value / TERA * 1.15, short(value / TERA), ha="center", va="bottom",
                rotation=90, fontsize=7)
        values.append(value / TERA)
    return values


def _section(ax: Axes, groups: list[RateGroup], start: float, nets: list[str]) -> list[float]:
    """Draw a section's groups from x = start; returns their positions."""
    width = 0.8 / (1 + len(nets))
    positions = [start + i for i in range(len(groups))]
    values = [v for pos, g in zip(positions, groups, strict=True)
              for v in _group_bars(ax, pos, g, nets, width)]
    ax.set_yscale("log")
    ax.set_ylim(min(values) / 3, max(values) * 8)
    unit = f"T{groups[0].unit}/s"
    kinds = "int8 (left)" if groups[0].unit == "OP" else "floating point (right)"
    ax.set_ylabel(f"{kinds}: rate ({unit})")
    return positions


def draw_rates(ax: Axes, runs: Sequence[RunResult]) -> Axes:
    """Peak (hatched) and best achieved per network, int8 groups on `ax` and float groups
    on a twin axis to the right, each labelled in its own unit."""
    from matplotlib.patches import Patch

    groups = rate_groups(runs)
    nets = list(dict.fromkeys(r.network for r in runs))
    sections = [s for s in ([g for g in groups if g.unit == "OP"],
                            [g for g in groups if g.unit == "FLOP"]) if s]
    targets = [ax, ax.twinx()] if len(sections) == 2 else [ax]
    ticks: list[tuple[float, str]] = []
    start = 0.0
    for target, section in zip(targets, sections, strict=True):
        positions = _section(target, section, start, nets)
        ticks += [(p, f"{g.machine}\n{g.precision}, T{g.unit}/s")
                  for p, g in zip(positions, section, strict=True)]
        start = positions[-1] + 1.6
    ax.set_xticks([p for p, _ in ticks], [label for _, label in ticks], fontsize=8)
    if len(sections) == 2:  # a line between the int8 and the float sections
        ax.axvline((ticks[len(sections[0]) - 1][0] + ticks[len(sections[0])][0]) / 2,
                   color="0.4", lw=1, ls="--")
    handles = [Patch(facecolor=PEAK_COLOR, edgecolor="0.3", hatch="//", label="peak")]
    handles += [Patch(color=COLORS[i % len(COLORS)], label=f"achieved: {n}")
                for i, n in enumerate(nets)]
    legend_outside(targets[-1], handles, x=1.12 if len(targets) == 2 else 1.01)
    finish(ax, "Peak and best achieved rate: int8 OP/s and float FLOP/s are different work",
           "machine and precision", ax.get_ylabel())
    ax.grid(False)
    return ax


def _accuracy_series(runs: Sequence[RunResult]) -> dict[tuple[str, str], float]:
    """(network, series) -> accuracy; a series is the precision, split by machine only where
    machines at one precision disagree."""
    per_machine = {(r.network, r.precision.value, r.machine): float(r.accuracy or 0.0)
                   for r in runs}
    seen: dict[tuple[str, str], set[float]] = {}
    for (net, lab, _), acc in per_machine.items():
        seen.setdefault((net, lab), set()).add(acc)
    split = any(len(values) > 1 for values in seen.values())
    return {(net, f"{lab} on {m}" if split else lab): acc
            for (net, lab, m), acc in per_machine.items()}


def draw_accuracy(ax: Axes, runs: Sequence[RunResult]) -> Axes:
    """Grouped bars: networks on x, a bar per precision, accuracy in percent."""
    values = _accuracy_series(runs)
    nets = list(dict.fromkeys(n for n, _ in values))
    series = list(dict.fromkeys(s for _, s in values))
    width = 0.8 / len(series)
    for i, name in enumerate(series):
        for j, net in enumerate(nets):
            if (net, name) not in values:
                continue
            x, pct = j + (i - (len(series) - 1) / 2) * width, values[net, name] * 100
            ax.bar(x, pct, width, color=COLORS[i % len(COLORS)], gid=gid(net, name),
                   label=name if j == 0 else None)
            ax.text(x, pct, f"{pct:.2f}%", ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0.0, 108.0)  # from zero: a bar's height is its accuracy, 54.8% half of 100%
    ax.set_yticks(range(0, 101, 20))
    ax.set_xticks(np.arange(len(nets)), nets)
    percent_axis(ax)
    legend_outside(ax, ax.get_legend_handles_labels()[0], title="precision")
    finish(ax, "Accuracy on each network's test split, by precision", "network",
           "accuracy (% of test samples)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.grid(False, axis="x")
    return ax
