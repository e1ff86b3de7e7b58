"""How the report's plots look: one figure size, colours per machine × precision, markers per
network, colours per time category, legends outside the data, batch axes that show the
batches run (numbers with SI prefixes come from `accelsim.units`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accelsim.machines.results import Category, RunResult

if TYPE_CHECKING:  # matplotlib is imported when a plot is drawn, not with `import accelsim`
    from matplotlib.axes import Axes

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#17becf", "#7f7f7f", "#bcbd22")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
CATEGORY_COLORS = {
    Category.COMPUTE: "#2ca02c", Category.MEMORY_STALL: "#d62728",
    Category.LATENCY: "#ff7f0e", Category.ELEMENTWISE: "#9467bd", Category.LAUNCH: "#8c564b",
    Category.HOST_TRANSFER: "#1f77b4", Category.FRAMEWORK: "#7f7f7f"}


def new_axes(width: float = WIDTH_IN, height: float = HEIGHT_IN) -> Axes:
    """A fresh figure's Axes, laid out so legends outside the data stay on the figure."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, height), dpi=DPI, layout="constrained")
    return ax


def series_key(r: RunResult) -> tuple[str, str]:
    """What a colour stands for: a machine at a precision."""
    return r.machine, r.precision.value


def gid(*parts: object) -> str:
    """An artist's id ('tpu-v1|lenet5|int8|end to end'): tests and readers find data by it."""
    return "|".join(str(p) for p in parts)


@dataclass(frozen=True)
class Palette:
    """Colours per machine × precision, markers per network, in order of appearance."""

    colors: dict[tuple[str, str], str]
    markers: dict[str, str]

    @classmethod
    def of(cls, runs: Iterable[RunResult]) -> Palette:
        runs = list(runs)
        keys = list(dict.fromkeys(series_key(r) for r in runs))
        nets = list(dict.fromkeys(r.network for r in runs))
        return cls({k: COLORS[i % len(COLORS)] for i, k in enumerate(keys)},
                   {n: MARKERS[i % len(MARKERS)] for i, n in enumerate(nets)})

    def color(self, r: RunResult) -> str:
        return self.colors[series_key(r)]

    def marker(self, r: RunResult) -> str:
        return self.markers[r.network]

    def handles(self, markers: bool = True) -> list[Any]:
        """Legend entries: a line per machine × precision, a grey marker per network."""
        from matplotlib.lines import Line2D

        out: list[Any] = [Line2D([], [], color=c, lw=2, label=f"{m} ({p})")
                          for (m, p), c in self.colors.items()]
        if markers and len(self.markers) > 1:
            out += [Line2D([], [], color="0.35", marker=mk, ls="none", label=n)
                    for n, mk in self.markers.items()]
        return out


def line_handles(styles: dict[str, str], hollow: Iterable[str] | None = None) -> list[Any]:
    """Black legend lines per line style; with `hollow`, each carries a marker, hollow for
    the labels named (a single batch draws markers only, so the legend shows them)."""
    from matplotlib.lines import Line2D

    if hollow is None:
        return [Line2D([], [], color="black", ls=ls, lw=1.5, label=label)
                for label, ls in styles.items()]
    empty = set(hollow)
    return [Line2D([], [], color="black", ls=ls, lw=1.5, marker="o", label=label,
                   markerfacecolor="none" if label in empty else "black")
            for label, ls in styles.items()]


def category_handles(categories: Iterable[Category]) -> list[Any]:
    from matplotlib.patches import Patch

    return [Patch(color=CATEGORY_COLORS[c], label=c.value) for c in categories]


def legend_outside(ax: Axes, handles: Sequence[Any], title: str | None = None,
                   x: float = 1.01) -> None:
    """A legend to the right of the data (at `x` axes widths), never on it."""
    ax.legend(handles=list(handles), loc="upper left", bbox_to_anchor=(x, 1.0),
              borderaxespad=0.0, fontsize=8, title=title, title_fontsize=8, frameon=False)


def batch_axis(ax: Axes, batches: Iterable[int]) -> None:
    """A log batch axis whose ticks are the batches that were run."""
    from matplotlib.ticker import NullFormatter

    ticks = sorted(set(batches))
    ax.set_xscale("log")
    ax.set_xticks(ticks, [str(b) for b in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(ticks) == 1:
        ax.set_xlim(ticks[0] / 2, ticks[0] * 2)


def plain_log_axis(ax: Axes, axis: str = "y") -> None:
    """A log axis whose labels read 0.01, 1, 1,000 rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels as percentages for values stored in percent."""
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}%"))


def finish(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """Title, axis labels (each with its unit) and a light major grid; returns `ax`."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    return ax
