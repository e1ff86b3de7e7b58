"""Pareto fronts of two metrics, exactly, in O(n log n) with numpy.

A point dominates another when it is at least as good in both metrics and better in one
("good" = larger for a maximized metric, smaller for a minimized one). The front is every
point no other point dominates; identical points do not dominate each other, so all copies of
a front point are on it. Points with a NaN in either metric are never on the front.

The method: flip signs so both metrics are maximized, sort by x descending then y
descending. A point is on the front exactly when its y is the largest among the points with
its x (no point of equal x beats it) and strictly larger than every y seen at a larger x (no
point of larger x matches it). Both tests are a running maximum over the sorted order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def pareto_front(xs: ArrayLike, ys: ArrayLike,
                 maximize: Sequence[bool] = (True, False)) -> NDArray[np.intp]:
    """Indices of the non-dominated points of (xs[i], ys[i]), ordered by x ascending (ties
    by y ascending). `maximize` says, for x and for y, whether larger is better; the default
    suits throughput (x, larger is better) against latency (y, smaller is better)."""
    x = np.asarray(xs, dtype=float).ravel()
    y = np.asarray(ys, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"xs has {x.size} values and ys {y.size}: give one y per x")
    if len(maximize) != 2:
        raise ValueError(f"maximize={tuple(maximize)!r}: give two flags, for x and for y")
    keep = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    gx = x[keep] if maximize[0] else -x[keep]  # both maximized from here on
    gy = y[keep] if maximize[1] else -y[keep]
    order = np.lexsort((-gy, -gx))  # x descending, then y descending
    sx, sy = gx[order], gy[order]
    new_x = np.ones(sx.size, dtype=bool)
    new_x[1:] = sx[1:] != sx[:-1]
    group_start = np.maximum.accumulate(np.where(new_x, np.arange(sx.size), 0))
    best_in_group = sy[group_start]  # the group's largest y comes first
    running = np.maximum.accumulate(sy)
    before_group = np.full(sx.size, -np.inf)
    starts = group_start > 0
    before_group[starts] = running[group_start[starts] - 1]
    on_front = (sy == best_in_group) & (sy > before_group)
    front = keep[order[on_front]]
    return front[np.lexsort((y[front], x[front]))]

