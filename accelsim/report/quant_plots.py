"""Plots of a quantization study (`accelsim.quant.study.accuracy_study`, a scenario's
[quantization] table). Each takes a `QuantStudy` or a scenario's result holding one.

- `quantization`: a panel per network, a bar per variant (number format): top-1 accuracy on
  its test split, the axis zoomed to the network's spread (drops are fractions of a point),
  fp32 as a dashed reference line, simulated int16 hatched. A network with per-step targets
  (a language model) gets a second panel beside it: each variant's perplexity, fp32 dashed.
- `sensitivity`: each quantizable layer's accuracy drop alone at 8 bits (simulated; the rest
  fp32), grouped by network, then every layer at 8 bits (grey); the layers the mixed-
  precision suggestion keeps at 16 bits are hatched and marked, the budget a dotted line.

Artists carry gids: 'network|variant|accuracy', 'network|variant|perplexity',
'network|fp32|accuracy reference', 'network|fp32|perplexity reference', 'network|layer|drop',
'drop budget'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from accelsim.errors import AccelsimError
from accelsim.quant.study import QuantStudy, StudyRow
from accelsim.report.inputs import NothingToPlot, Studied, study_of
from accelsim.report.style import (
    COLORS,
    DPI,
    HEIGHT_IN,
    WIDTH_IN,
    finish,
    gid,
    legend_outside,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SIMULATED_HATCH = "///"
ALL_LAYERS = "all layers"
ALL_LAYERS_COLOR = "0.6"
PANEL_COLUMNS = 3
TITLE = ("Quantization: top-1 accuracy on each test split by number format (dashed: fp32; "
         "each axis zoomed to its network's spread; hatched: simulated)")


def _study(result: Studied, what: str) -> QuantStudy:
    study = study_of(result)
    if study is None or not study.rows:
        raise NothingToPlot(f"no quantization study to plot {what} of: add a [quantization] "
                            "table to the scenario (or give accuracy_study's result)")
    return study


def _colors(study: QuantStudy) -> dict[str, str]:
    return {label: COLORS[i % len(COLORS)] for i, label in enumerate(study.variants())}


def _zoom(values: Sequence[float], floor: float) -> tuple[float, float]:
    """Axis limits around the values, at least `floor` wide, with room for labels."""
    low, high = min(values), max(values)
    span = max(high - low, floor)
    return low - 0.8 * span, high + 0.8 * span


def _bars(ax: Axes, net: str, rows: Sequence[StudyRow], order: list[str], colors: dict[str, str],
          metric: str) -> None:
    """Horizontal bars, one per variant at its place in `order`, with the fp32 line."""
    values = {r.variant.label: (100 * r.accuracy if metric == "accuracy" else r.perplexity)
              for r in rows}
    shown = [v for v in values.values() if v is not None and math.isfinite(v)]
    ref = 100 * rows[0].fp32_accuracy if metric == "accuracy" else rows[0].fp32_perplexity
    for r in rows:
        value = values[r.variant.label]
        if value is None or not math.isfinite(value):
            continue
        y = order.index(r.variant.label)
        ax.barh(y, value, 0.75, color=colors[r.variant.label], edgecolor="0.3", lw=0.5,
                hatch=SIMULATED_HATCH if r.variant.simulated else None,
                gid=gid(net, r.variant.label, metric))
        # over the fp32 line (zorder) on a white box, so the line never hides a digit
        ax.text(value, y, f" {value:.2f}" if metric == "accuracy" else f" {value:.3f}",
                va="center", fontsize=6, zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 1.0})
    if ref is not None:
        ax.axvline(ref, color="black", ls="--", lw=1, zorder=3,
                   gid=gid(net, "fp32", f"{metric} reference"))
    seen = [*shown, *([] if ref is None else [ref])]
    low, high = _zoom(seen, 0.5 if metric == "accuracy" else 0.02 * max(seen))
    ax.set_xlim(max(0.0, low), high)
    for label in order:
        if label not in values:
            ax.text(0.02, order.index(label), "not applicable", transform=ax.get_yaxis_transform(),
                    va="center", fontsize=6, color="0.45")


def _percent_to_100(ax: Axes) -> None:
    """x tick labels in percent, none past 100 (the axis runs on for the value labels)."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v:,.10g}%" if v <= 100 + 1e-9 else ""))


def _panels(study: QuantStudy, network: str | None) -> list[tuple[str, str, list[StudyRow]]]:
    """(network, metric, rows) for every panel: accuracy, and perplexity where measured."""
    nets = study.networks() if network is None else [network]
    if network is not None and network not in study.networks():
        raise NothingToPlot(f"no network {network!r} in the study; it holds "
                            f"{', '.join(study.networks())}")
    panels = []
    for net in nets:
        rows = [r for r in study.rows if r.network == net]
        panels.append((net, "accuracy", rows))
        if any(r.perplexity is not None for r in rows):
            panels.append((net, "perplexity", rows))
    return panels


def _grid(count: int, variants: int) -> list[Axes]:
    """`count` panels, PANEL_COLUMNS to a row, each tall enough for `variants` bars."""
    import matplotlib.pyplot as plt

    cols = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / cols)
    fig, grid = plt.subplots(rows, cols, squeeze=False, dpi=DPI, layout="constrained",
                             figsize=(max(WIDTH_IN, 1.8 + 3.0 * cols),
                                      max(HEIGHT_IN, 0.6 + rows * (1.2 + 0.2 * variants))))
    axes = list(grid.flat)
    for spare in axes[count:]:
        spare.set_visible(False)
    fig.suptitle(TITLE, fontsize=10)
    return axes[:count]


def quantization(result: Studied, network: str | None = None, ax: Axes | None = None) -> Axes:
    """A panel per network (and a perplexity panel per language model) of the study's
    variants, titled on the figure (`TITLE`); returns the first panel. With `ax`, draws one
    network's accuracy on it (name it with `network` when the study holds several)."""
    study = _study(result, "accuracy")
    if ax is not None and network is None and len(study.networks()) > 1:
        raise AccelsimError(f"the study holds {len(study.networks())} networks; name one "
                            "(network='lenet5') to draw it on the Axes given")
    panels = _panels(study, network)
    targets = [ax] if ax is not None else _grid(len(panels), len(study.variants()))
    colors, order = _colors(study), study.variants()
    columns = min(PANEL_COLUMNS, len(panels))
    for i, (target, (net, metric, rows)) in enumerate(zip(targets, panels, strict=False)):
        _bars(target, net, rows, order, colors, metric)
        first_column = ax is not None or i % columns == 0
        target.set_yticks(range(len(order)), order if first_column else [], fontsize=7)
        target.set_ylim(len(order) - 0.5, -0.5)  # the first variant on top
        if metric == "accuracy":
            _percent_to_100(target)
            finish(target, f"{net}: accuracy", "accuracy (% of test samples)",
                   "variant" if first_column else "")
        else:
            finish(target, f"{net}: perplexity (lower is better)",
                   "perplexity (exp of mean cross-entropy)", "variant" if first_column else "")
        target.grid(False, axis="y")
    return targets[0]


def _sensitivity_bars(study: QuantStudy) -> list[tuple[str, str, float, bool]]:
    """(network, layer, drop in points, kept at 16 bits) per bar, 'all layers' last."""
    return [(r["network"], r["layer"], r["drop_points"], r["sixteen_bit"])
            for r in study.sensitivity_records()]


def _network_labels(ax: Axes, study: QuantStudy, nets: list[str],
                    positions: list[tuple[float, str]]) -> None:
    """Each network's name over its group, with the layers its suggestion keeps at 16."""
    from matplotlib.transforms import blended_transform_factory

    kept = {m.network: ", ".join(m.sixteen_bit) or "none" for m in study.mixed}
    where = blended_transform_factory(ax.transData, ax.transAxes)
    for net in nets:
        xs = [x for x, n in positions if n == net]
        ax.text((xs[0] + xs[-1]) / 2, 0.98, f"{net}\n16-bit: {kept.get(net, 'none')}",
                transform=where, ha="center", va="top", fontsize=7)


def sensitivity(result: Studied, ax: Axes | None = None) -> Axes:
    """Each quantizable layer's accuracy drop alone at 8 bits (simulated), grouped by network,
    then every layer at 8 bits; the suggestion's 16-bit layers hatched, the budget dotted."""
    from matplotlib.patches import Patch

    study = _study(result, "per-layer sensitivity")
    bars = _sensitivity_bars(study)
    if not bars:
        raise NothingToPlot("the study measured no per-layer sensitivity: run it with "
                            "sensitivity = true")
    own = ax is None
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(WIDTH_IN, 2.0 + 0.3 * len(bars)), HEIGHT_IN + 1),
                             dpi=DPI, layout="constrained")
    nets = list(dict.fromkeys(net for net, *_ in bars))
    xs = [i + 0.8 * nets.index(net) for i, (net, *_) in enumerate(bars)]  # gaps between nets
    for x, (net, layer, drop, wide) in zip(xs, bars, strict=True):
        color = ALL_LAYERS_COLOR if layer == ALL_LAYERS else COLORS[nets.index(net) % len(COLORS)]
        ax.bar(x, drop, 0.75, color=color, edgecolor="0.3", lw=0.5,
               hatch=SIMULATED_HATCH if wide else None, gid=gid(net, layer, "drop"))
        ax.text(x, drop, f" {drop:.2f}" + (" 16-bit" if wide else ""), rotation=90,
                ha="center", va="bottom" if drop >= 0 else "top", fontsize=6,
                fontweight="bold" if wide else None)
    _network_labels(ax, study, nets, [(x, net) for x, (net, *_) in zip(xs, bars, strict=True)])
    budget = study.max_drop_points
    line = ax.axhline(budget, color="black", ls=":", lw=1.2, gid="drop budget",
                      label=f"budget: {budget:g} points")
    ax.axhline(0.0, color="0.3", lw=0.8)
    drops = [drop for _, _, drop, _ in bars]
    ax.set_ylim(min(0.0, *drops) - 0.25 * max(budget, 0.2), 1.6 * max(budget, *drops, 0.2))
    ax.set_xticks(xs, [layer for _, layer, _, _ in bars], rotation=90, fontsize=7)
    legend_outside(ax, [Patch(facecolor="white", edgecolor="0.3", hatch=SIMULATED_HATCH,
                              label="kept at 16 bits (the suggestion)"),
                        Patch(color=ALL_LAYERS_COLOR, label="every layer at 8 bits"), line])
    title = (f"Per-layer sensitivity: accuracy drop with one layer at 8 bits (simulated, "
             f"{study.mixed[0].scheme.label})")
    finish(ax, "" if own else title, "layer, grouped by network",
           "accuracy drop from fp32 (points)")
    figure = ax.get_figure(root=True)
    if own and figure is not None:  # over the whole figure, legend included
        figure.suptitle(title, fontsize=10)
    ax.grid(False, axis="x")
    return ax


STUDY_PLOTS: dict[str, Callable[..., Axes]] = {"quantization": quantization,
                                              "sensitivity": sensitivity}
