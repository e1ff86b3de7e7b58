"""The plots draw the results' own numbers: lines, points and bars are checked against the
runs they come from, and every axis names its unit."""

from __future__ import annotations

import dataclasses
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import accelsim.plot
from accelsim.build import machine
from accelsim.comparison import Comparison, Entry
from accelsim.engine import compare
from accelsim.machines.results import Category
from accelsim.report import plots
from accelsim.report.inputs import NothingToPlot
from accelsim.report.time_plots import device_part

UNIT = re.compile(r"\((?:[^()]*/s|ms|µs|%[^()]*|samples|ops per DRAM byte|[^()]*OP/s[^()]*)\)")


def artists(ax, kind=None):
    """Every artist with a gid on the Axes' figure, by gid."""
    found = {}
    for a in ax.get_figure(root=True).findobj(lambda a: a.get_gid() is not None):
        if kind is None or isinstance(a, kind):
            found.setdefault(a.get_gid(), []).append(a)
    return found


def lines(ax):
    return {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}


def bars(ax):
    return {p.get_gid(): p for p in ax.patches if p.get_gid()}


@pytest.mark.parametrize("name", sorted(plots.PLOTS))
def test_every_plot_returns_labelled_axes_with_units(name, comparison, scored):
    ax = plots.PLOTS[name](scored if name == "accuracy" else comparison)
    assert isinstance(ax, plt.Axes)
    assert ax.get_title()
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        assert label
    assert UNIT.search(ax.get_ylabel()) or UNIT.search(ax.get_xlabel()), \
        (ax.get_xlabel(), ax.get_ylabel())
    width, height = ax.get_figure(root=True).get_size_inches()
    assert width >= 8 and height >= 4.5


def test_plots_draw_on_the_axes_given(comparison):
    _, given = plt.subplots()
    assert plots.throughput(comparison, ax=given) is given
    assert plots.roofline(comparison, ax=given) is given


def test_ax_plot_is_the_plots_module():
    for name in plots.PLOTS:
        assert getattr(accelsim.plot, name) is plots.PLOTS[name]


def test_throughput_lines_are_the_runs_throughputs(comparison):
    found = lines(plots.throughput(comparison))
    for m in comparison.machines():
        for net in comparison.networks():
            for p in ("fp32", "fp16", "int8"):
                runs = sorted(comparison.select(machine=m, network=net, precision=p),
                              key=lambda r: r.batch)
                if not runs:
                    continue
                e2e, device = (found[f"{m}|{net}|{p}|end to end"], found[f"{m}|{net}|{p}|device"])
                assert list(e2e.get_xdata()) == [r.batch for r in runs]
                assert list(e2e.get_ydata()) == [r.throughput for r in runs]
                assert list(device.get_ydata()) == [r.device_throughput for r in runs]
                assert e2e.get_linestyle() == "-" and device.get_linestyle() == "--"
    assert len(found) == 2 * 8  # (tpu int8, gpu fp32, gpu fp16, cpu fp32) × 2 networks
    assert plots.throughput(comparison).get_yscale() == "log"


def test_latency_is_end_to_end_in_ms_with_the_scenarios_limit(comparison, scenario_result):
    found = lines(plots.latency(scenario_result))
    runs = sorted(comparison.select(machine="gpu-h200", network="lstm-char", precision="fp16"),
                  key=lambda r: r.batch)
    assert np.allclose(found["gpu-h200|lstm-char|fp16|end to end"].get_ydata(),
                       [r.seconds * 1e3 for r in runs])
    assert list(found["latency limit"].get_ydata()) == [0.5, 0.5]
    assert "latency limit" not in lines(plots.latency(comparison))


def op_points(r):
    """Ops over DRAM bytes and over the time its bytes and ops took, for ops whose bytes
    could have come from DRAM in that time (the rest came from a cache)."""
    ops = [op for op in r.layers if op.ops and op.dram_bytes and op.work_seconds
           and op.dram_bytes / r.memory_bytes_per_s <= op.work_seconds * (1 + 1e-9)]
    return [(op.ops / op.dram_bytes, op.ops / op.work_seconds) for op in ops]


def test_roofline_points_are_each_ops_intensity_and_achieved_rate(comparison):
    ax = plots.roofline(comparison)
    points = {c.get_gid(): c.get_offsets() for c in ax.collections}
    assert len(points) == len(comparison.results)
    for r in comparison.results:
        got = points[f"{r.machine}|{r.network}|{r.precision.value}|{r.batch}"]
        assert np.allclose(got, op_points(r), rtol=1e-12)
    assert any(len(op_points(r)) for r in comparison.results)


@pytest.mark.parametrize(("name", "field"), [("tpu-v1", "ddr_bytes_per_s"),
                                             ("gpu-h200", "dram_bytes_per_s"),
                                             ("cpu-haswell-e5-2699v3", "dram_bytes_per_s")])
def test_roofs_are_the_specs_peak_and_dram_bandwidth(comparison, name, field):
    spec = machine(name).spec
    assert spec.memory_bytes_per_s == getattr(spec, field)
    assert {r.memory_bytes_per_s for r in comparison.select(machine=name)} == {
        getattr(spec, field)}
    ax = plots.roofline(comparison, machine=name)
    r = comparison.select(machine=name)[0]
    roof = lines(ax)[f"{name}|{r.precision.value}|roof"]
    x, y = np.asarray(roof.get_xdata()), np.asarray(roof.get_ydata())
    assert y.max() == pytest.approx(r.peak_ops_per_s)
    assert y[0] / x[0] == pytest.approx(getattr(spec, field))
    assert {c.get_gid().split("|")[0] for c in ax.collections} == {name}


def test_roofline_of_a_machine_not_run_is_nothing_to_plot(comparison):
    with pytest.raises(NothingToPlot, match=r"gpu-k80.*tpu-v1"):
        plots.roofline(comparison, machine="gpu-k80")


def test_bandwidth_is_the_spec_each_machine_ran_with():
    slow = machine("gpu-h200", dram_bytes_per_s=1e12)  # not relabelled: the preset's name
    cmp = compare(["lenet5"], [slow], batch=1)
    r = cmp.results[0]
    assert r.memory_bytes_per_s == 1e12
    roof = lines(plots.roofline(cmp))["gpu-h200|fp32|roof"]
    x, y = np.asarray(roof.get_xdata()), np.asarray(roof.get_ydata())
    assert y[0] / x[0] == pytest.approx(1e12) and y.max() == pytest.approx(r.peak_ops_per_s)


def test_bandwidth_follows_overrides_and_relabelling():
    slow = machine("tpu-v1", name="tpu-slow", ddr_bytes_per_s=17e9)
    cmp = compare(["lenet5"], [slow], batch=1)
    roof = lines(plots.roofline(cmp))["tpu-slow|int8|roof"]
    x, y = np.asarray(roof.get_xdata()), np.asarray(roof.get_ydata())
    assert y[0] / x[0] == pytest.approx(17e9)


def test_a_run_without_a_bandwidth_draws_a_flat_roof():
    r = compare(["lenet5"], ["tpu-v1"], batch=1).results[0]
    cmp = Comparison((Entry(dataclasses.replace(r, memory_bytes_per_s=None)),))
    roof = lines(plots.roofline(cmp))["tpu-v1|int8|roof"]
    assert np.ptp(roof.get_ydata()) == 0 and "unknown" in roof.get_label()


def test_ops_vs_flops_keeps_int8_and_floats_on_separate_unit_axes(comparison):
    ax = plots.ops_vs_flops(comparison)
    figure_axes = ax.get_figure(root=True).axes
    assert len(figure_axes) == 2
    by_axis = {a: bars(a) for a in figure_axes}
    assert set(by_axis[ax]) and all("|int8|" in g and g.endswith("|TOP/s")
                                    for g in by_axis[ax])
    assert "TOP/s" in ax.get_ylabel() and "FLOP" not in ax.get_ylabel()
    twin = next(a for a in figure_axes if a is not ax)
    assert set(by_axis[twin]) and all("|int8|" not in g and g.endswith("|TFLOP/s")
                                      for g in by_axis[twin])
    assert "TFLOP/s" in twin.get_ylabel() and "TOP/s" not in twin.get_ylabel()
    for tick in ax.get_xticklabels():  # each group names its own unit
        text = tick.get_text()
        assert text.endswith("int8, TOP/s") or (text.endswith("TFLOP/s") and "int8" not in text)
    tpu = comparison.select(machine="tpu-v1")
    assert by_axis[ax]["tpu-v1|int8|peak|TOP/s"].get_height() == pytest.approx(
        tpu[0].peak_ops_per_s / 1e12)
    best = max(r.achieved_ops_per_s for r in tpu if r.network == "lstm-char")
    assert by_axis[ax]["tpu-v1|int8|lstm-char|TOP/s"].get_height() == pytest.approx(best / 1e12)
    gpu16 = comparison.select(machine="gpu-h200", precision="fp16")
    assert by_axis[twin]["gpu-h200|fp16|peak|TFLOP/s"].get_height() == pytest.approx(
        gpu16[0].peak_ops_per_s / 1e12)


def test_ops_vs_flops_of_floats_alone_has_one_axis(comparison):
    floats = Comparison(tuple(e for e in comparison.entries if e.result.precision.is_float))
    ax = plots.ops_vs_flops(floats)
    assert len(ax.get_figure(root=True).axes) == 1
    assert "TFLOP/s" in ax.get_ylabel()


def test_accuracy_bars_are_the_runs_accuracies(scored):
    found = bars(plots.accuracy(scored))
    assert found["lenet5|int8"].get_height() == pytest.approx(97.0)
    assert found["lstm-char|fp16"].get_height() == pytest.approx(88.5)
    assert set(found) == {f"{n}|{p}" for n in ("lenet5", "lstm-char")
                          for p in ("fp32", "fp16", "int8")}


def test_accuracy_without_scored_runs_is_nothing_to_plot(comparison):
    with pytest.raises(NothingToPlot, match="accuracy=True"):
        plots.accuracy(comparison)


def test_time_bars_are_category_shares_end_to_end_and_on_the_device(comparison):
    ax = plots.time(comparison)
    found = bars(ax)
    for r in comparison.results:
        key = f"{r.machine}|{r.network}|{r.precision.value}|{r.batch}"
        e2e = {g.rsplit("|", 1)[1]: p.get_width() for g, p in found.items()
               if g.startswith(f"{key}|end to end|")}
        assert e2e == pytest.approx({c.value: r.time[c] / r.seconds * 100 for c in r.time})
        assert sum(e2e.values()) == pytest.approx(100)
        device = {g.rsplit("|", 1)[1]: p.get_width() for g, p in found.items()
                  if g.startswith(f"{key}|device|")}
        assert set(device) == {c.value for c in device_part(r.time)}
        assert not {"host transfer", "framework"} & set(device)
    tpu = comparison.select(machine="tpu-v1", network="lstm-char", batch=64)[0]
    stall = found[f"tpu-v1|lstm-char|int8|64|end to end|{Category.MEMORY_STALL.value}"]
    assert stall.get_width() == pytest.approx(tpu.time[Category.MEMORY_STALL] / tpu.seconds * 100)
    assert stall.get_width() > 40  # the weight stalls of the TPU's LSTM are on show


def test_time_of_one_run_is_op_by_op_in_microseconds(comparison):
    r = comparison.select(machine="gpu-h200", network="lenet5", precision="fp32", batch=16)[0]
    ax = plots.time(Comparison((comparison.entries[comparison.results.index(r)],)))
    found = bars(ax)
    assert "µs" in ax.get_xlabel()
    for op in r.layers:
        widths = [p.get_width() for g, p in found.items() if g.split("|")[0] == op.name]
        assert sum(widths) == pytest.approx(op.seconds * 1e6)


def test_utilization_bars_are_each_layers_achieved_over_peak_at_the_largest_batch(comparison):
    found = bars(plots.utilization(comparison))
    for m, p in (("tpu-v1", "int8"), ("gpu-h200", "fp16"), ("cpu-haswell-e5-2699v3", "fp32")):
        r = comparison.select(machine=m, network="lenet5", precision=p, batch=64)[0]
        conv1 = next(op for op in r.layers if op.name == "conv1")
        assert found[f"{m}|lenet5|{p}|conv1"].get_height() == pytest.approx(
            conv1.achieved_ops_per_s / r.peak_ops_per_s * 100)
    assert {g.split("|")[3] for g in found} >= {"conv1", "conv2", "fc1", "lstm", "readout"}
