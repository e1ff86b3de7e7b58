"""Plots that cannot mislead (issue 21, item 4): each test fails on a picture that told a
reader something false — an accuracy axis cut at 50%, end-to-end and device points drawn
alike, labels over labels, a reference line through digits, a legend swatch in the colour of
a different thing."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from accelsim.engine import compare
from accelsim.report import plots
from accelsim.report.quant_plots import quantization
from accelsim.report.style import CATEGORY_COLORS
from accelsim.report.time_plots import utilization


def overlaps(texts) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts whose drawn boxes intersect."""
    shown = [t for t in texts if t.get_visible() and t.get_text().strip()]
    if not shown:
        return []
    figure = shown[0].get_figure(root=True)
    renderer = figure.canvas.get_renderer()
    figure.canvas.draw()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in shown]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
            if box_a.overlaps(box_b)]


def test_accuracy_axis_starts_at_zero(scored):
    """A bar's height is its accuracy: a 54.8% bar is half of a 100% one, not nothing."""
    ax = plots.accuracy(scored)
    assert ax.get_ylim()[0] == 0.0
    assert max(ax.get_yticks()) == 100


def test_one_batch_throughput_tells_end_to_end_from_device_by_marker_fill():
    """With one batch there is no line to be solid or dashed: the fill shows which is which,
    in the plot and in its legend."""
    cmp = compare(["lenet5"], ["tpu-v1", "gpu-h200"], batch=[4])
    ax = plots.throughput(cmp)
    drawn = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    for machine, precision in (("tpu-v1", "int8"), ("gpu-h200", "fp32")):
        e2e = drawn[f"{machine}|lenet5|{precision}|end to end"]
        device = drawn[f"{machine}|lenet5|{precision}|device"]
        assert len(e2e.get_xdata()) == 1
        assert e2e.get_marker() not in ("", "None", None)
        assert to_rgba(e2e.get_markerfacecolor())[3] == 1.0
        assert device.get_markerfacecolor() == "none"
    legend = {h.get_label(): h for h in ax.get_legend().legend_handles}
    assert legend["device"].get_markerfacecolor() == "none"
    assert legend["end to end"].get_markerfacecolor() != "none"
    assert legend["end to end"].get_marker() not in ("", "None", None)


def test_tpu_paper_utilization_labels_do_not_overlap():
    """The TPU paper's 27 layers at batch 200 on three machines: every tick label readable."""
    cmp = compare(["tpu-mlp0", "tpu-lstm0", "tpu-cnn0"],
                  ["tpu-v1", "gpu-k80", "cpu-haswell-e5-2699v3"], batch=[200])
    ax = utilization(cmp)
    labels = ax.get_xticklabels()
    assert len(labels) == 27
    assert overlaps(labels) == []


def test_time_legend_end_to_end_swatch_is_no_category_colour(comparison):
    ax = plots.time(comparison)
    legend = {h.get_label(): h for h in ax.get_legend().legend_handles}
    categories = {to_rgba(c) for c in CATEGORY_COLORS.values()}
    for kind in ("end to end", "device"):
        swatch = legend[kind]
        assert to_rgba(swatch.get_facecolor()) not in categories, kind
        assert to_rgba(swatch.get_facecolor())[3] == 0.0  # outlined, not filled
    assert legend["framework"].get_facecolor() != legend["end to end"].get_facecolor()


@pytest.fixture(scope="module")
def study():
    from accelsim.quant.study import accuracy_study

    return accuracy_study("lenet5", sensitivity=False)


def test_quantization_values_are_drawn_over_the_fp32_line(study):
    """The fp32 line sits where the fp32 bar ends, where its label starts: the label is drawn
    above the line on an opaque box, so '54.52' never reads '|4.52'."""
    ax = quantization(study, network="lenet5", ax=plt.subplots()[1])
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "lenet5|fp32|accuracy reference"]
    values = [t for t in ax.texts if t.get_text().strip()[:1].isdigit()]
    assert len(values) >= 3
    for text in values:
        assert text.get_zorder() > line.get_zorder()
        box = text.get_bbox_patch()
        assert box is not None and to_rgba(box.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
