"""Sweep plots and tables: the Pareto front against hand-worked points and an all-pairs
twin, the drawn fronts, medians and bands against the rows they come from, and the tables'
best points and failures. The sweep result is a stand-in with the contract's attributes
(`axes`, `rows`): the plots read nothing else."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

from accelsim.report.pareto import pareto_front
from accelsim.report.style import HEIGHT_IN, WIDTH_IN
from accelsim.report.sweep_data import sweep_view, value_text
from accelsim.report.sweep_plots import (
    CLOUD_SCATTER_MAX,
    group_quantiles,
    slug,
    spread,
    sweep_figures,
    sweep_tables,
)
from accelsim.units import si

AXES = ("tpu.array_rows", "tpu.ddr_bytes_per_s", "batch")
SIZES = (64, 128, 256)
DDR = (17e9, 34e9, 68e9)
BATCHES = (1, 8, 64)


@dataclass
class StandInSweep:
    """What the sweep contract gives a plot: axis names and one dict per point."""

    axes: tuple[str, ...]
    rows: list[dict[str, Any]]
    objectives: dict[str, str] = field(default_factory=lambda: {
        "throughput_per_s": "max", "latency_s": "min", "joules_per_inference": "min",
        "ops_per_joule": "max"})


def metrics(net: str, size: int, ddr: float, batch: int) -> dict[str, float]:
    """Made-up closed forms with real trade-offs: a bigger array and batch raise throughput
    and latency; more bandwidth raises throughput and energy per inference."""
    throughput = size * ddr / 1e9 * batch ** 0.5 * (10.0 if net == "lenet5" else 1.0)
    joules = 1e-6 * ddr / 34e9 + 1e-3 / throughput
    return {"throughput_per_s": throughput, "latency_s": batch / throughput * size / 64,
            "joules_per_inference": joules, "ops_per_joule": 1e6 / joules}


def sweep(energy: bool = True, fail_every: int = 0) -> StandInSweep:
    rows = []
    for n, (net, size, ddr, batch) in enumerate(itertools.product(
            ("lenet5", "lstm-char"), SIZES, DDR, BATCHES)):
        row: dict[str, Any] = {"point": f"p{n}", "status": "ok", "error": "",
                               "machine": "tpu-v1", "network": net, "batch": batch,
                               "precision": "int8", "tpu.array_rows": size,
                               "tpu.ddr_bytes_per_s": ddr, **metrics(net, size, ddr, batch)}
        if not energy:
            row.update(joules_per_inference=None, ops_per_joule=None)
        if fail_every and n % fail_every == 0:
            row.update(status="error", error="CapacityError: does not fit\nmore text",
                       throughput_per_s=None, latency_s=None)
        rows.append(row)
    return StandInSweep(AXES, rows)


def dominated(xs, ys, maximize):
    """All-pairs twin: whether some point is at least as good in both and better in one."""
    x = np.where(maximize[0], 1, -1) * np.asarray(xs, dtype=float)
    y = np.where(maximize[1], 1, -1) * np.asarray(ys, dtype=float)
    geq = (x[:, None] >= x[None, :]) & (y[:, None] >= y[None, :])
    gt = (x[:, None] > x[None, :]) | (y[:, None] > y[None, :])
    return (geq & gt).any(axis=0) | ~(np.isfinite(x) & np.isfinite(y))


def artists(fig: Figure) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for a in fig.findobj(lambda a: a.get_gid() is not None):
        found.setdefault(a.get_gid(), []).append(a)
    return found


def figures(result: Any) -> dict[str, tuple[str, Figure]]:
    return {name: (title, fig) for name, title, fig in sweep_figures(result)}


# ---- the Pareto front ----

def test_pareto_front_of_hand_made_points():
    # More x is better, less y is better: (2, 0.5) beats (1, 1); (3, 2) beats (2, 2) and
    # (3, 3); (4, 5) has the most x. The front, by x: (2, 0.5), (3, 2), (4, 5).
    xs = [1, 2, 3, 3, 2, 4]
    ys = [1, 2, 2, 3, 0.5, 5]
    assert pareto_front(xs, ys).tolist() == [4, 2, 5]
    # Both maximized: (4, 5) dominates everything.
    assert pareto_front(xs, ys, maximize=(True, True)).tolist() == [5]
    # Both minimized: (1, 1) and (2, 0.5).
    assert pareto_front(xs, ys, maximize=(False, False)).tolist() == [0, 4]


def test_copies_of_a_front_point_are_all_on_the_front_and_nan_never():
    xs = [1.0, 1.0, 2.0, np.nan, 0.5]
    ys = [1.0, 1.0, 3.0, 0.0, 1.0]
    assert pareto_front(xs, ys).tolist() == [0, 1, 2]  # (0.5, 1) is beaten by (1, 1)
    assert pareto_front([], []).tolist() == []
    with pytest.raises(ValueError, match="one y per x"):
        pareto_front([1, 2], [1])


@pytest.mark.parametrize("maximize", list(itertools.product((True, False), repeat=2)))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pareto_front_equals_the_all_pairs_twin(maximize, seed):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, 12, 400).astype(float)  # a coarse grid: many ties
    ys = rng.integers(0, 12, 400).astype(float)
    xs[rng.integers(0, 400, 5)] = np.nan
    front = pareto_front(xs, ys, maximize)
    assert set(front.tolist()) == set(np.flatnonzero(~dominated(xs, ys, maximize)).tolist())
    assert np.all(np.diff(xs[front]) >= 0)


def test_group_quantiles_match_numpy_per_group():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 7, 500)
    values = rng.lognormal(size=500)
    got = group_quantiles(codes, values, 7, (0.0, 0.25, 0.5, 0.75, 1.0))
    for g in range(7):
        np.testing.assert_allclose(got[:, g], np.quantile(values[codes == g],
                                                          [0, 0.25, 0.5, 0.75, 1]))


def test_helpers_read_units_from_names():
    assert value_text("tpu.ddr_bytes_per_s", 34e9) == "34 GB/s"
    assert value_text("tpu.clock_hz", 7e8) == "700 MHz"
    assert value_text("tpu.array_rows", 256) == "256"
    assert value_text("precision", "int8") == "int8"
    assert si(2.5e-6, "J") == "2.5 µJ"
    assert slug("tpu.array_rows") == "tpu_array_rows"
    assert spread(10, 4) == [0, 3, 6, 9]
    assert spread(2, 4) == [0, 1]


# ---- figures ----

def test_sweep_figures_names_titles_and_sizes():
    drawn = figures(sweep())
    assert list(drawn) == ["pareto_energy", "pareto_latency",
                           *(f"sensitivity_{slug(a)}" for a in AXES)]
    for title, fig in drawn.values():
        assert title == fig.get_suptitle()
        width, height = fig.get_size_inches()
        assert width >= WIDTH_IN and height >= HEIGHT_IN
        fig.savefig(io.BytesIO(), format="png")  # draws without error


@pytest.mark.parametrize(("name", "x", "y", "maximize"), [
    ("pareto_energy", "joules_per_inference", "throughput_per_s", (False, True)),
    ("pareto_latency", "throughput_per_s", "latency_s", (True, False))])
def test_each_panel_draws_every_point_and_its_front(name, x, y, maximize):
    result = sweep()
    _, fig = figures(result)[name]
    found = artists(fig)
    for net in ("lenet5", "lstm-char"):
        rows = [r for r in result.rows if r["network"] == net]
        xs = np.array([r[x] for r in rows])
        ys = np.array([r[y] for r in rows])
        (cloud,) = found[f"{net}|points"]
        assert isinstance(cloud, PathCollection)
        np.testing.assert_allclose(sorted(cloud.get_offsets()[:, 0]), sorted(xs))
        expected = np.flatnonzero(~dominated(xs, ys, maximize))
        expected = expected[np.lexsort((ys[expected], xs[expected]))]
        (line,) = found[f"{net}|front"]
        np.testing.assert_allclose(line.get_xdata(), xs[expected])
        np.testing.assert_allclose(line.get_ydata(), ys[expected])
        assert found[f"{net}|front label"]
        assert "front points:" in found[f"{net}|front key"][0].get_text()
    units = [ax.get_xlabel() + ax.get_ylabel() for ax in fig.axes]
    assert all("(J)" in u or "(s)" in u for u in units)


def test_failed_points_are_left_out_of_the_plots():
    result = sweep(fail_every=5)
    ok = [r for r in result.rows if r["status"] == "ok" and r["network"] == "lenet5"]
    _, fig = figures(result)["pareto_latency"]
    (cloud,) = artists(fig)["lenet5|points"]
    assert len(cloud.get_offsets()) == len(ok) < len(SIZES) * len(DDR) * len(BATCHES)


def test_sensitivity_draws_the_median_and_bands_over_the_other_axes():
    result = sweep()
    _, fig = figures(result)["sensitivity_tpu_array_rows"]
    found = artists(fig)
    for net in ("lenet5", "lstm-char"):
        (line,) = found[f"tpu.array_rows|{net}|throughput_per_s|median"]
        assert line.get_xdata().tolist() == list(SIZES)
        for size, median in zip(SIZES, line.get_ydata(), strict=True):
            values = [r["throughput_per_s"] for r in result.rows
                      if r["network"] == net and r["tpu.array_rows"] == size]
            assert median == pytest.approx(np.median(values))
        (band,) = found[f"tpu.array_rows|{net}|throughput_per_s|range"]
        low, high = band.get_paths()[0].vertices[:, 1].min(), \
            band.get_paths()[0].vertices[:, 1].max()
        values = [r["throughput_per_s"] for r in result.rows if r["network"] == net]
        assert (low, high) == pytest.approx((min(values), max(values)))
    assert fig.axes[0].get_xscale() == "linear"  # 64..256 spans less than a decade
    assert fig.axes[0].get_yscale() == "log"  # throughput spans several


def test_a_network_whose_every_point_failed_gets_an_empty_panel():
    result = sweep()
    for row in result.rows:
        if row["network"] == "lstm-char":
            row.update(status="error", error="boom", throughput_per_s=None, latency_s=None,
                       joules_per_inference=None, ops_per_joule=None)
    lenet = [r for r in result.rows if r["network"] == "lenet5"]
    front = np.count_nonzero(~dominated([r["throughput_per_s"] for r in lenet],
                                        [r["latency_s"] for r in lenet], (True, False)))
    _, fig = figures(result)["pareto_latency"]
    assert [ax.get_title() for ax in fig.axes] == [
        f"lenet5: {front} of 27 points on the front", "lstm-char: no point ran"]
    fig.savefig(io.BytesIO(), format="png")


def test_text_axis_values_and_missing_energy():
    result = sweep(energy=False)
    result.axes = (*AXES, "precision")
    for i, row in enumerate(result.rows):
        row["precision"] = ("int8", "fp16")[i % 2]
    drawn = figures(result)
    assert "pareto_energy" not in drawn  # no energy column to draw
    _, fig = drawn["sensitivity_precision"]
    assert len(fig.axes) == 1  # throughput only
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["fp16", "int8"]


def test_an_empty_or_failed_sweep_draws_nothing():
    assert sweep_figures(StandInSweep(AXES, [])) == []
    failed = sweep(fail_every=1)
    assert sweep_figures(failed) == []
    assert [t.title for t in sweep_tables(failed)] == ["Sweep points"]


def test_a_hundred_thousand_points_are_drawn_as_a_hexbin():
    rng = np.random.default_rng(0)
    n = 100_000
    throughput = rng.lognormal(10, 2, n)
    rows = [{"point": str(i), "status": "ok", "machine": "tpu-v1", "network": "lenet5",
             "tpu.array_rows": s, "throughput_per_s": t, "latency_s": 1 / t * e,
             "joules_per_inference": e / t, "ops_per_joule": t / e}
            for i, (s, t, e) in enumerate(zip(rng.choice([8, 64, 512], n).tolist(),
                                              throughput.tolist(),
                                              rng.lognormal(0, 1, n).tolist(), strict=True))]
    result = StandInSweep(("tpu.array_rows",), rows)
    drawn = figures(result)
    _, fig = drawn["pareto_latency"]
    found = artists(fig)
    (cloud,) = found["lenet5|points"]
    assert isinstance(cloud, PolyCollection) and n > CLOUD_SCATTER_MAX
    assert cloud.get_array().sum() == n  # every point counted in some hexagon
    view = sweep_view(result)
    front = pareto_front(view.metrics["throughput_per_s"], view.metrics["latency_s"])
    (line,) = found["lenet5|front"]
    np.testing.assert_allclose(line.get_xdata(), view.metrics["throughput_per_s"][front])
    _, sensitivity = drawn["sensitivity_tpu_array_rows"]
    assert sensitivity.axes[0].get_xscale() == "log"  # 8..512 spans decades


# ---- tables ----

def test_best_points_per_objective():
    result = sweep(fail_every=7)
    best, = [t for t in sweep_tables(result) if t.title == "Best design points per objective"]
    ok = [r for r in result.rows if r["status"] == "ok"]
    for row in best.rows:
        net, goal = row[0], row[1]
        metric = {"highest throughput": "throughput_per_s", "lowest latency": "latency_s",
                  "lowest energy per inference": "joules_per_inference",
                  "highest ops per joule": "ops_per_joule"}[goal]
        mine = [r for r in ok if r["network"] == net]
        pick = max if goal.startswith("highest") else min
        expected = pick(mine, key=lambda r, m=metric: r[m])
        assert row[2] == expected["point"]
        assert row[3:6] == (str(expected["tpu.array_rows"]),
                            value_text("tpu.ddr_bytes_per_s", expected["tpu.ddr_bytes_per_s"]),
                            str(expected["batch"]))
    assert len(best.rows) == 2 * 4
    assert "| lenet5 | highest throughput |" in best.markdown()


def test_points_table_counts_each_networks_points_and_failures():
    result = sweep(fail_every=5)
    points, _ = sweep_tables(result)
    failed = {net: sum(r["status"] == "error" for r in result.rows if r["network"] == net)
              for net in ("lenet5", "lstm-char")}
    assert [(row[0], row[1], row[3]) for row in points.rows] == [
        ("lenet5", "27", str(failed["lenet5"])), ("lstm-char", "27", str(failed["lstm-char"]))]
    ok = [r["throughput_per_s"] for r in result.rows
          if r["status"] == "ok" and r["network"] == "lstm-char"]
    assert points.rows[1][4] == f"{min(ok):,.0f} – {max(ok):,.0f}"
