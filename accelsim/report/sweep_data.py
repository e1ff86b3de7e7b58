"""A sweep's result as columns, for its plots and tables (`sweep_plots`, `sweep_tables`).

A `SweepResult` gives `axes` (the axis column names, as the scenario spells them), `rows`
(one dict per point with the columns `point`, `status` ("ok" | "error"), `error`,
`machine`, `network`, `batch`, `precision`, one per axis, and the metrics) and `objectives`
(metric -> `Better`). Each column is converted once into a numpy array (metrics as floats,
NaN where missing), so that drawing and ranking 100,000 points is vectorized.

Panels: one per network; a sweep over several machines (or precisions that are not an axis)
gets one per machine × network (× precision), since their metrics are not comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accelsim.metrics import OBJECTIVES, Better
from accelsim.scenario.sweep_result import SweepResult
from accelsim.units import si, unit_of

THROUGHPUT, LATENCY, ENERGY, OPS_PER_JOULE = OBJECTIVES
METRICS = (THROUGHPUT, LATENCY, ENERGY, OPS_PER_JOULE)
PANEL_KEYS = ("machine", "network", "precision")


def unit_symbol(name: str) -> str:
    """The SI unit a column's name carries ('' for none): 'tpu.ddr_bytes_per_s' -> 'B/s'."""
    return unit_of(name).symbol


def value_text(name: str, value: object) -> str:
    """An axis value as read: 'tpu.ddr_bytes_per_s', 3.4e10 -> '34 GB/s'; 256 -> '256'."""
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    number = float(value)  # type: ignore[arg-type]  # an axis value: a number or a bool
    if not np.isfinite(number):
        return "—"
    unit = unit_symbol(name)
    return si(number, unit) if unit else f"{number:,.6g}"


def short_name(axis: str) -> str:
    """'tpu.array_rows' -> 'array_rows': the part after the machine family."""
    return axis.rsplit(".", 1)[-1]


def _floats(values: list[Any]) -> NDArray[np.float64]:
    """Numbers (or numeric strings, as read back from CSV) as floats; None and '' as NaN."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return np.array([_float(v) for v in values], dtype=float)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _axis_column(values: list[Any]) -> NDArray[Any]:
    """Floats when every present value is a number, else the values as text."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds and all(issubclass(k, int | float | np.number) and not issubclass(k, bool)
                     for k in kinds):
        return _floats(values)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


@dataclass(frozen=True)
class SweepView:
    """The sweep's successful points as columns, and every point's panel and status."""

    axes: tuple[str, ...]
    metrics: dict[str, NDArray[np.float64]]  # per ok point
    values: dict[str, NDArray[Any]]  # axis columns per ok point (floats, or text)
    points: NDArray[Any]  # point ids of the ok points
    panel: NDArray[np.intp]  # panel index per ok point
    panels: tuple[str, ...]
    all_panels: NDArray[np.intp]  # panel index per point, failed ones included
    objectives: dict[str, Better]

    @property
    def size(self) -> int:
        return int(self.points.size)

    def has(self, metric: str) -> bool:
        """Whether any ok point has a finite value of `metric`."""
        return bool(np.isfinite(self.metrics[metric]).any())

    def varying(self, where: NDArray[np.bool_]) -> list[str]:
        """The axes that take more than one value among the points `where` holds."""
        return [a for a in self.axes if np.unique(self.values[a][where]).size > 1]


def _panel_codes(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]
                 ) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """A panel per distinct machine × network × precision, naming only what varies."""
    keys = [k for k in PANEL_KEYS if k not in axes]
    columns = {k: [str(r.get(k, "")) for r in rows] for k in keys}
    shown = [k for k in keys if k == "network" or len(set(columns[k])) > 1]
    labels = [" · ".join(columns[k][i] for k in shown) for i in range(len(rows))]
    names, first, codes = np.unique(np.array(labels, dtype=object), return_index=True,
                                    return_inverse=True)
    order = np.argsort(first)  # panels in order of appearance
    rank = np.empty(len(names), dtype=np.intp)
    rank[order] = np.arange(len(names))
    return rank[codes].astype(np.intp), tuple(str(names[j]) for j in order)


def sweep_view(result: SweepResult) -> SweepView:
    """The columns of a sweep's result (see the module)."""
    axes = tuple(str(a) for a in result.axes)
    rows = list(result.rows)
    ok = np.array([r.get("status", "ok") == "ok" for r in rows], dtype=bool)
    good = [r for r, keep in zip(rows, ok, strict=True) if keep]
    all_panels, panels = _panel_codes(rows, axes)
    objectives = {name: Better(way) for name, way in result.objectives.items()}
    return SweepView(
        axes=axes,
        metrics={m: _floats([r.get(m) for r in good]) for m in {*METRICS, *objectives}},
        values={a: _axis_column([r.get(a) for r in good]) for a in axes},
        points=np.array([str(r.get("point", i)) for i, r in enumerate(good)], dtype=object),
        panel=all_panels[ok], panels=panels, all_panels=all_panels,
        objectives=objectives)
