"""The plot checker (`plot_check.faults`) on hand-built figures: each fault it exists to find
is drawn on purpose and found, and the same figure drawn right passes, so a clean report of
the bundled scenarios' plots means something."""

from __future__ import annotations

import numpy as np
import plot_check as check  # tests/report/conftest.py loads it by path
import pytest
from matplotlib.figure import Figure


def panel(width: float = 6.0, height: float = 4.0):
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def kinds(found: list[str]) -> set[str]:
    return {line.split(":")[0] for line in found}


def test_a_plain_figure_has_no_fault():
    figure, ax = panel()
    ax.plot([1, 2, 3], [1, 4, 9], marker="o", label="squares")
    ax.set_xticks([1, 2, 3], ["one", "two", "three"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("a title")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    assert check.faults(figure) == []


def test_crowded_tick_labels_overlap():
    figure, ax = panel()
    ax.set_xticks(range(30), [f"label number {i}" for i in range(30)])
    found = check.faults(figure)
    assert any(line.startswith("overlap: x tick label 'label number 0' and x tick label "
                               "'label number 1'") for line in found), found


def test_the_same_labels_turned_upright_do_not_overlap():
    figure, ax = panel(6.0, 6.0)
    ax.set_xticks(range(30), [f"label number {i}" for i in range(30)], rotation=90, fontsize=7)
    assert check.faults(figure) == []


def test_a_hidden_tick_label_does_not_count():
    figure, ax = panel()
    ax.set_xticks([0.0, 0.01, 1.0], ["a long label", "another long label", "end"])
    assert kinds(check.faults(figure)) == {"overlap"}
    ax.get_xticklabels()[1].set_visible(False)
    assert check.faults(figure) == []


def test_a_tick_outside_the_view_draws_no_label():
    """matplotlib keeps ticks past the view limits but draws no label for them."""
    figure, ax = panel()
    ax.set_xticks([0.0, 0.5, 1.0, 1.001], ["0", "half", "1", "one and a bit, not drawn"])
    ax.set_xlim(0.0, 1.0)
    assert check.faults(figure) == []


def test_slanted_labels_are_checked_by_their_slanted_boxes():
    """Long labels at 30°: their upright extents overlap, the texts do not."""
    figure, ax = panel(8.0, 5.0)
    labels = ax.set_xticks(range(8), [f"a rather long tick label {i}" for i in range(8)],
                           rotation=30, ha="right", rotation_mode="anchor", fontsize=8)
    assert check.faults(figure) == []
    renderer = figure.canvas.get_renderer()
    a, b = (label.get_window_extent(renderer) for label in labels[:2])
    assert a.overlaps(b)  # upright boxes would have called this an overlap


def test_tick_labels_over_the_axis_label():
    figure, ax = panel()
    ax.set_xlabel("a label pulled up onto the ticks", labelpad=-12)
    found = check.faults(figure)
    assert any("x label 'a label pulled up onto the ticks'" in line
               and "x tick label" in line for line in found), found


def test_tick_labels_of_neighbouring_panels_overlap():
    figure = Figure(figsize=(4.0, 3.0), dpi=100)  # no layout: the panels crowd each other
    left, right = figure.subplots(1, 2)
    left.yaxis.tick_right()  # its labels to the right, where the right panel's are
    for ax in (left, right):
        ax.set_ylim(0, 1e6)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f} inferences")
    found = check.faults(figure)
    assert any(line.startswith("overlap: y tick label") and "and y tick label" in line
               for line in found), found


def test_annotations_over_each_other():
    figure, ax = panel()
    ax.plot([0, 1], [0, 1], marker="o")
    ax.annotate("point A", (0.5, 0.5))
    ax.annotate("point B", (0.51, 0.5))
    found = check.faults(figure)
    assert found == ["overlap: annotation 'point A' and annotation 'point B'"], found


def test_a_legend_over_a_text_and_over_another_panel():
    figure = Figure(figsize=(8.0, 4.0), dpi=100)  # no layout to move the panels apart
    left, _ = figure.subplots(1, 2)
    left.plot([0, 1], [0, 1], label="a line with a very long legend entry, wider than its panel")
    left.text(0.55, 0.98, "a note", transform=left.transAxes, va="top")
    left.legend(loc="upper left", bbox_to_anchor=(0.5, 1.0))
    found = check.faults(figure)
    assert any(line.startswith("overlap: legend of ''") and "text 'a note'" in line
               for line in found), found
    assert any("the data area of" in line for line in found), found


def test_legend_texts_over_each_other():
    figure, ax = panel()
    ax.plot([0, 1], [0, 1], label="first")
    ax.plot([0, 1], [1, 0], label="second")
    ax.legend(labelspacing=-1.2)
    assert any(line.startswith("overlap: legend text 'first' and legend text 'second'")
               for line in check.faults(figure))


def test_text_off_the_figure():
    figure, _ = panel()
    figure.text(0.9, 0.5, "a text that runs past the right edge")
    assert check.faults(figure) == [
        "off the figure: figure text 'a text that runs past the right edge'"]


def test_a_legend_off_the_figure():
    figure = Figure(figsize=(6.0, 4.0), dpi=100)  # no layout to make room for it
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(loc="upper left", bbox_to_anchor=(1.05, 1.0))
    assert "off the figure: legend of ''" in check.faults(figure)


def test_markers_outside_the_view():
    figure, ax = panel()
    ax.plot([1, 2, 3], [1, 2, 30], marker="o", gid="series")
    ax.set_ylim(0, 10)
    assert check.faults(figure) == ["outside the axes: marker of 'series' at (3, 30) in ''"]


def test_a_point_on_the_edge_is_inside():
    figure, ax = panel()
    ax.plot([1, 2, 3], [1, 2, 10], marker="o")
    ax.set_ylim(0, 10)
    ax.set_xlim(1, 3)
    assert check.faults(figure) == []


def test_zero_on_a_log_axis_cannot_be_placed():
    figure, ax = panel()
    ax.plot([1, 2, 3], [0.0, 1.0, 10.0], marker="o", gid="series")
    ax.set_yscale("log")
    assert check.faults(figure) == ["outside the axes: marker of 'series' at (1, 0) in ''"]


def test_a_line_without_markers_may_leave_the_view_but_not_miss_it():
    figure, ax = panel()
    ax.plot(np.linspace(0, 10, 50), np.linspace(0, 10, 50), gid="slope")  # crosses the view
    ax.axhline(20.0, gid="limit")
    ax.set_xlim(2, 4)
    ax.set_ylim(0, 10)
    assert check.faults(figure) == ["outside the axes: line 'limit' in ''"]


def test_scatter_points_outside_the_view():
    figure, ax = panel()
    ax.scatter([1, 2, 50], [1, 2, 3], gid="ops")
    ax.set_xlim(0, 10)
    assert check.faults(figure) == ["outside the axes: point of 'ops' at (50, 3) in ''"]


@pytest.mark.parametrize("horizontal", [False, True])
def test_a_bar_longer_than_its_axis(horizontal):
    figure, ax = panel()
    draw = ax.barh if horizontal else ax.bar
    draw([0, 1], [5, 50], gid="bars")
    (ax.set_xlim if horizontal else ax.set_ylim)(0, 10)
    found = check.faults(figure)
    assert len(found) == 1 and found[0].startswith("outside the axes: end of bar 'bars'"), found


def test_a_bar_from_zero_on_a_log_axis_is_inside():
    """A bar's base at 0 cannot be drawn on a log axis; its end, where it is read, can."""
    figure, ax = panel()
    ax.bar([0, 1], [5, 50])
    ax.set_yscale("log")
    assert check.faults(figure) == []


def test_a_value_label_of_a_point_outside_the_view():
    figure = Figure(figsize=(6.0, 4.0), dpi=100)  # margins wide enough for the labels
    ax = figure.add_subplot()
    ax.text(5.0, 11.0, "11.0")
    ax.annotate("3", (1.0, -4.0), xytext=(0.5, 0.5), textcoords="axes fraction")
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    found = check.faults(figure)
    assert found == [
        "outside the axes: the point '11.0' labels, at (5, 11), in ''",
        "outside the axes: the point '3' labels, at (1, -4), in ''"], found


def test_hidden_panels_and_a_twins_hidden_axis_are_not_read():
    figure = Figure(figsize=(8.0, 4.0), dpi=100, layout="constrained")
    ax, spare = figure.subplots(1, 2)
    spare.set_xticks(range(30), [f"label number {i}" for i in range(30)])
    assert check.faults(figure) != []
    spare.set_visible(False)
    twin = ax.twinx()  # shares ax's x axis, whose labels it does not draw a second time
    ax.plot([0, 1], [0, 1], marker="o")
    twin.plot([0, 1], [5, 3], marker="s")
    ax.set_title("twins")
    assert check.faults(figure) == []


def test_rotated_boxes_overlap_by_their_shapes():
    """Two diamonds whose upright boxes overlap but who lie apart, and two that touch
    by less than the tolerance."""
    diamond = np.array([[1.0, 0.0], [2.0, 1.0], [1.0, 2.0], [0.0, 1.0]]) * 10
    assert check.overlap(diamond, diamond + np.array([10, 10])) is False  # edge to edge
    assert check.overlap(diamond, diamond + np.array([14, 14])) is False  # apart, boxes overlap
    assert check.overlap(diamond, diamond + np.array([5, 5])) is True
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    assert check.overlap(square, square + np.array([9.5, 0])) is False  # half a pixel
    assert check.overlap(square, square + np.array([8, 0])) is True
