"""What a reader cannot read in a drawn figure (issue 21, item 5): `faults(figure)` lists

- two visible texts drawn over each other: tick labels (of ticks in view) of one axis, of
  the other axis, of another panel; axis labels, titles, the figure's title, legend texts,
  annotations and value labels, each against every other (rotated texts by their rotated
  boxes, not the upright boxes around them);
- a legend over a text that is not its own, over another panel's data area, or over
  another legend;
- a text or a legend running off the figure;
- a data point drawn outside its axes' view (clipped away: a point a reader cannot see): a
  marked line's vertices, a scatter's points, a bar's value end and its width, the point a
  data-placed text or annotation labels, a line without markers lying wholly outside;
  a finite value that the axis cannot place (0 on a log axis) counts as outside.

Each fault is one line naming the texts or the artist (its gid, else its label) and the
panel (its title). Overlaps count from `TOLERANCE_PX` on, so boxes that only touch pass.
A test helper (the test modules load it by path), not a part of accelsim.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

TOLERANCE_PX = 1.0


@dataclass(frozen=True)
class Label:
    """A visible text: what it is ('x tick label'), where (the panel's title) and the legend
    holding it (None for any other text)."""

    role: str
    text: Text
    panel: str
    legend: Legend | None = None

    def __str__(self) -> str:
        return f"{self.role} {self.text.get_text()!r}" + (
            f" in {self.panel!r}" if self.panel else "")


def faults(figure: Figure) -> list[str]:
    """Every fault of `figure` (see the module), drawn first with Agg."""
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    labels = list(figure_labels(figure))
    legends = [(legend, _owner(legend, figure)) for legend in _legends(figure)]
    return [*_text_overlaps(labels, renderer),
            *_legend_overlaps(legends, labels, _panels(figure), renderer),
            *_off_figure(figure, labels, legends, renderer),
            *(f for ax in _panels(figure) for f in outside_axes(ax))]


def _panels(figure: Figure) -> list[Axes]:
    return [ax for ax in figure.axes if ax.get_visible()]


def _name(ax: Axes) -> str:
    """A panel's name: its title, else its twin's (a twinx panel has none of its own)."""
    return ax.get_title() or next((o.get_title() for o in ax.get_shared_x_axes().get_siblings(ax)
                                   if o.get_title()), "")


def _shown(text: Text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _in_view(axis: Axis, loc: float) -> bool:
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * (high - low)
    return low - slack <= loc <= high + slack


def _tick_labels(axis: Axis, name: str, panel: str) -> Iterator[Label]:
    """The labels of the ticks an axis draws (those in view), both sides, major and minor."""
    if not axis.get_visible():
        return
    for which, ticks in (("", axis.get_major_ticks()), ("minor ", axis.get_minor_ticks())):
        for tick in ticks:
            if tick.get_visible() and _in_view(axis, tick.get_loc()):
                for text in (tick.label1, tick.label2):
                    if _shown(text):
                        yield Label(f"{name} {which}tick label", text, panel)


def _axes_labels(ax: Axes) -> Iterator[Label]:
    panel = _name(ax)
    for title in (ax.title, ax._left_title, ax._right_title):
        yield Label("title", title, panel)
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if axis.get_visible():
            yield Label(f"{name} label", axis.label, panel)
            yield Label(f"{name} offset", axis.get_offset_text(), panel)
        yield from _tick_labels(axis, name, panel)
    for text in ax.texts:
        yield Label("annotation" if isinstance(text, Annotation) else "text", text, panel)


def _legends(figure: Figure) -> list[Legend]:
    found = [ax.get_legend() for ax in _panels(figure)]
    return [lg for lg in [*found, *figure.legends] if lg is not None and lg.get_visible()]


def _owner(legend: Legend, figure: Figure) -> Axes | None:
    """The panel a legend belongs to (None for the figure's legend)."""
    return next((ax for ax in _panels(figure) if ax.get_legend() is legend), None)


def figure_labels(figure: Figure) -> Iterator[Label]:
    """Every visible, non-empty text of the figure."""
    labels: Iterator[Label] = itertools.chain(
        (Label("figure text", t, "") for t in figure.texts),
        (label for ax in _panels(figure) for label in _axes_labels(ax)),
        (Label("legend text", t, "", lg) for lg in _legends(figure)
         for t in (*lg.get_texts(), lg.get_title())))
    return (label for label in labels if _shown(label.text))


def corners(text: Text, renderer: RendererBase) -> np.ndarray:
    """The four corners of a text's drawn box in pixels: for a rotated text the rotated
    rectangle inside its upright extent (found from the extent's width and height)."""
    box = text.get_window_extent(renderer)
    angle = np.deg2rad(text.get_rotation())
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    if min(c, s) < 1e-6 or abs(c - s) < 1e-2:  # upright, sideways, or 45° (no unique box)
        return _box_corners(box)
    width, height = np.linalg.solve([[c, s], [s, c]], [box.width, box.height])
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = np.array([[0, 0], [width, 0], [width, height], [0, height]]) @ turn.T
    return points - points.min(axis=0) + [box.x0, box.y0]


def _box_corners(box: Bbox) -> np.ndarray:
    return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])


def overlap(a: np.ndarray, b: np.ndarray, tolerance: float = TOLERANCE_PX) -> bool:
    """Whether two convex quadrilaterals (corners in order) overlap by more than
    `tolerance` pixels along every separating direction (their edges' normals)."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for nx, ny in np.column_stack([-edges[:, 1], edges[:, 0]]):
            norm = np.hypot(nx, ny)
            if norm == 0:
                continue
            pa, pb = a @ [nx / norm, ny / norm], b @ [nx / norm, ny / norm]
            if min(pa.max(), pb.max()) - max(pa.min(), pb.min()) <= tolerance:
                return False
    return True


def _text_overlaps(labels: list[Label], renderer: RendererBase) -> Iterator[str]:
    shapes = [(label, corners(label.text, renderer)) for label in labels]
    for (a, box_a), (b, box_b) in itertools.combinations(shapes, 2):
        if overlap(box_a, box_b):
            yield f"overlap: {a} and {b}"


def _legend_overlaps(legends: list[tuple[Legend, Axes | None]], labels: list[Label],
                     panels: list[Axes], renderer: RendererBase) -> Iterator[str]:
    """A legend over a text not its own, another panel's data area or another legend."""
    for legend, owner in legends:
        box = _box_corners(legend.get_window_extent(renderer))
        name = f"legend of {_name(owner)!r}" if owner is not None else "the figure's legend"
        for label in labels:
            if label.legend is not legend and overlap(box, corners(label.text, renderer)):
                yield f"overlap: {name} and {label}"
        for ax in panels:
            if (owner is None or not _same_place(ax, owner)) and overlap(
                    box, _box_corners(ax.bbox)):
                yield f"overlap: {name} and the data area of {_name(ax)!r}"
    for (a, _), (b, _) in itertools.combinations(legends, 2):
        if overlap(_box_corners(a.get_window_extent(renderer)),
                   _box_corners(b.get_window_extent(renderer))):
            yield "overlap: two legends"


def _same_place(a: Axes, b: Axes) -> bool:
    """The same panel, or its twin (which shares its place)."""
    return a is b or np.allclose(a.bbox.extents, b.bbox.extents)


def _off_figure(figure: Figure, labels: list[Label], legends: list[tuple[Legend, Axes | None]],
                renderer: RendererBase) -> Iterator[str]:
    page = figure.bbox.padded(TOLERANCE_PX)
    for label in labels:
        points = corners(label.text, renderer)
        if not all(page.contains(x, y) for x, y in points):
            yield f"off the figure: {label}"
    for legend, owner in legends:
        box = legend.get_window_extent(renderer)
        if not (page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1)):
            yield "off the figure: " + (f"legend of {_name(owner)!r}" if owner is not None
                                        else "the figure's legend")


def _outside(ax: Axes, pixels: np.ndarray) -> np.ndarray:
    """Which rows of display coordinates lie outside the axes' area (or are not finite)."""
    area = ax.bbox.padded(TOLERANCE_PX / 2)
    finite = np.isfinite(pixels).all(axis=1)
    inside = finite.copy()
    inside[finite] = ((pixels[finite, 0] >= area.x0) & (pixels[finite, 0] <= area.x1)
                      & (pixels[finite, 1] >= area.y0) & (pixels[finite, 1] <= area.y1))
    return ~inside


def _artist_name(artist: object) -> str:
    gid = getattr(artist, "get_gid", lambda: None)()
    label = getattr(artist, "get_label", lambda: "")()
    return repr(gid or (label if label and not label.startswith("_") else type(artist).__name__))


def _report(ax: Axes, what: str, data: np.ndarray, outside: np.ndarray) -> Iterator[str]:
    for x, y in data[outside][:3]:
        yield f"outside the axes: {what} at ({x:.4g}, {y:.4g}) in {_name(ax)!r}"
    if outside.sum() > 3:
        yield f"outside the axes: {outside.sum() - 3} more points of {what} in {_name(ax)!r}"


def outside_axes(ax: Axes) -> Iterator[str]:
    """Data a reader cannot see: marked vertices, scatter points, bar ends and labelled
    points outside the view; an unmarked line wholly outside it."""
    for line in ax.get_lines():
        data = np.asarray(line.get_xydata(), dtype=float).reshape(-1, 2)
        data = data[np.isfinite(data).all(axis=1)]
        if not line.get_visible() or not data.size:
            continue
        outside = _outside(ax, line.get_transform().transform(data))
        if line.get_marker() not in (None, "", " ", "None", "none") and line.get_markersize():
            yield from _report(ax, f"marker of {_artist_name(line)}", data, outside)
        elif outside.all() and not _crosses(ax, line.get_transform().transform(data)):
            yield f"outside the axes: line {_artist_name(line)} in {_name(ax)!r}"
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible():
            data = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
            data = data[np.isfinite(data).all(axis=1)]
            outside = _outside(ax, coll.get_offset_transform().transform(data))
            yield from _report(ax, f"point of {_artist_name(coll)}", data, outside)
    yield from _bar_ends(ax)
    yield from _placed_texts(ax)


def _crosses(ax: Axes, pixels: np.ndarray) -> bool:
    """Whether a polyline whose vertices are all outside still passes through the area
    (a segment from left of it to right of it)."""
    finite = pixels[np.isfinite(pixels).all(axis=1)]
    if not finite.size:
        return False
    area = ax.bbox
    xs, ys = finite[:, 0], finite[:, 1]
    return bool(xs.min() <= area.x1 and xs.max() >= area.x0 and ys.min() <= area.y1
                and ys.max() >= area.y0)


def _bar_ends(ax: Axes) -> Iterator[str]:
    """Each bar's value end (where its length is read) and its two sides, inside the view."""
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        vertical = container.orientation != "horizontal"
        for bar in container.patches:
            x, y, w, h = bar.get_x(), bar.get_y(), bar.get_width(), bar.get_height()
            if not bar.get_visible() or (h if vertical else w) == 0:
                continue
            ends = ([(x, y + h), (x + w, y + h)] if vertical else [(x + w, y), (x + w, y + h)])
            data = np.array(ends, dtype=float)
            outside = _outside(ax, ax.transData.transform(data))
            if outside.any():
                yield (f"outside the axes: end of bar {_artist_name(bar)} at "
                       f"({data[0, 0]:.4g}, {data[0, 1]:.4g}) in {_name(ax)!r}")


def _placed_texts(ax: Axes) -> Iterator[str]:
    """A text placed at a data point (a value label, an annotation of a point): the point
    inside the view."""
    for text in ax.texts:
        if not _shown(text):
            continue
        if isinstance(text, Annotation):
            point = text.xy if text.xycoords == "data" else None
        else:
            point = text.get_position() if text.get_transform() == ax.transData else None
        if point is not None and _outside(ax, ax.transData.transform([point])).any():
            yield (f"outside the axes: the point {text.get_text()!r} labels, at "
                   f"({point[0]:.4g}, {point[1]:.4g}), in {_name(ax)!r}")
