"""Sweep definitions: axis names (did-you-mean), ranges, grid sizes and constraint filtering
in closed form, the points' order, and ids that are the same in every process."""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import sys

import pytest

from accelsim.errors import AccelsimError
from accelsim.scenario.axes import axis_choices, axis_value, check_axis
from accelsim.scenario.constraints import NUMBER, TEXT, compile_constraint
from accelsim.scenario.space import LABELS, MAX_POINTS, METRICS, point_id
from accelsim.sweep import Range, Sweep, run_sweep

SIZES = [8, 16, 32, 64, 128, 256, 512]


def grid(constraints=(), networks=("lenet5", "lstm-char"), **more) -> Sweep:
    axes = {"tpu.array_rows": SIZES, "tpu.array_cols": SIZES, "batch": [1, 4, 16, 64, 256],
            **more}
    return Sweep.of("tpu-v1", networks, axes, constraints=constraints)


# ---- ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "values"), [
    (Range(8, 512, step=2, scale="log", integer=True), (8, 16, 32, 64, 128, 256, 512)),
    (Range(8, 600, step=2, scale="log", integer=True), (8, 16, 32, 64, 128, 256, 512)),
    (Range(0, 1, num=5), (0.0, 0.25, 0.5, 0.75, 1.0)),
    (Range(1, 10, step=3), (1.0, 4.0, 7.0, 10.0)),
    (Range(1, 4, num=7, integer=True), (1, 2, 3, 4)),  # 1, 1.5→2, 2, 2.5→2, 3, 3.5→4, 4
    (Range(5, 5, num=1), (5.0,)),
    (Range(34e9 / 4, 34e9 * 4, num=5, scale="log"), (8.5e9, 17e9, 34e9, 68e9, 136e9)),
])
def test_ranges_give_their_closed_forms(given, values):
    assert given.values() == pytest.approx(values, rel=1e-12)
    assert given.values()[0] == values[0] and given.values()[-1] == values[-1]  # exact ends


@pytest.mark.parametrize(("given", "message"), [
    (Range(1, 10, num=3, step=2), "or step (the spacing), one of the two"),
    (Range(1, 10), "or step (the spacing), one of the two"),
    (Range(0, 10, num=3, scale="log"), "0 < start ≤ stop"),
    (Range(10, 1, num=3), "start ≤ stop"),
    (Range(1, 10, step=0), "step = 0 must be a finite number above 0"),
    (Range(1, 10, step=1, scale="log"), "above 1 (a factor)"),
    (Range(1, 10, num=0), "num = 0 must be a positive integer"),
    (Range(1, 10, num=3, scale="cubic"), "scale = 'cubic' must be 'linear' or 'log'"),
    (Range(1, 2e7, step=1), "gives more than 1,000,000 values; at most 1,000,000"),
    (Range(1, 10, num=20_000_000), "the range gives 20,000,000 values; at most 1,000,000"),
])
def test_bad_ranges_say_what_to_change(given, message):
    with pytest.raises(AccelsimError, match=re.escape(message)):
        given.values()


def test_an_integer_field_rounds_a_range_and_a_rate_keeps_floats():
    s = Sweep.of("tpu-v1", "lenet5", {"tpu.array_rows": {"start": 8, "stop": 64, "num": 4},
                                      "tpu.clock_hz": Range(7e8, 1.4e9, num=3)})
    assert dict(s.axes) == {"tpu.array_rows": (8, 27, 45, 64),
                            "tpu.clock_hz": (7e8, 1.05e9, 1.4e9)}
    assert all(type(v) is int for v in dict(s.axes)["tpu.array_rows"])


# ---- axis names and values ---------------------------------------------------------------


@pytest.mark.parametrize(("preset", "name", "message"), [
    ("tpu-v1", "tpu.array_row", "did you mean 'tpu.array_rows'?"),
    ("tpu-v1", "array_rows", "did you mean 'tpu.array_rows'?"),
    ("tpu-v1", "batches", "did you mean 'batch'?"),
    ("tpu-v1", "gpu.sm_count", "is a gpu field, but tpu-v1 is a tpu: its axes are tpu.<field>"),
    ("gpu-h200", "gpu.sm_cont", "did you mean 'gpu.sm_count'?"),
    ("gpu-h200", "gpu.host_dispatch_s", "is a table of rates, not one value"),
    ("cpu-host", "cpu.core", "did you mean 'cpu.cores'?"),
    ("tpu-v1", "tpu.name", "is not an axis of a tpu-v1 sweep"),
])
def test_a_bad_axis_gets_a_did_you_mean_and_the_list(preset, name, message):
    with pytest.raises(AccelsimError, match=re.escape(message)) as caught:
        check_axis(preset, name)
    assert "axes: " in str(caught.value) and "batch, precision, seq_len" in str(caught.value)


def test_the_axes_are_the_presets_fields_and_the_run_parameters():
    assert {"tpu.array_rows", "tpu.ddr_bytes_per_s", "tpu.numerics"} <= set(
        axis_choices("tpu-v1"))
    assert "gpu.sm_count" in axis_choices("gpu-h100") and "cpu.cores" in axis_choices(
        "cpu-skylake-8180")
    assert not {"tpu.name", "tpu.source"} & set(axis_choices("tpu-v1"))
    assert check_axis("gpu-k80", "gpu.sm_count") == "gpu.sm_count"


@pytest.mark.parametrize(("axis", "value", "expected"), [
    ("tpu.array_rows", 64.0, 64), ("tpu.clock_hz", 700_000_000, 7e8),
    ("precision", "INT8", "int8"), ("batch", 3, 3), ("tpu.numerics", "cycle", "cycle")])
def test_values_are_held_as_their_field_holds_them(axis, value, expected):
    held = axis_value("tpu-v1", axis, value)
    assert held == expected and type(held) is type(expected)


@pytest.mark.parametrize(("axis", "value", "message"), [
    ("tpu.array_rows", 2.5, "must be a whole number"), ("tpu.array_rows", True,
                                                        "must be a number"),
    ("tpu.clock_hz", "7e8", "must be a number"), ("precision", "fp64", "unknown precision"),
    ("tpu.numerics", 3, "must be text")])
def test_values_of_the_wrong_type_are_refused(axis, value, message):
    with pytest.raises(AccelsimError, match=re.escape(message)):
        axis_value("tpu-v1", axis, value)


# ---- points: how many, in what order -----------------------------------------------------


@pytest.mark.parametrize(("constraints", "count"), [
    ((), 2 * 7 * 7 * 5),
    (["tpu.array_rows == tpu.array_cols"], 2 * 7 * 5),
    (["tpu.array_rows <= tpu.array_cols"], 2 * 28 * 5),  # pairs i ≤ j of 7 sizes
    (["tpu.array_rows * tpu.array_cols <= 4096"], 2 * 28 * 5),  # 2^(a+b) ≤ 2^12, a, b in 3..9
    (["tpu.array_rows == tpu.array_cols", "8 <= batch <= 64"], 2 * 7 * 2),
    (["tpu.array_rows == tpu.array_cols", 'network != "lstm-char"'], 7 * 5),
    (["batch * tpu.array_rows / 8 < 2 * (tpu.array_cols - 4)"], None),
])
def test_grid_size_and_constraint_filtering_have_closed_forms(constraints, count):
    s = grid(constraints)
    points = list(s.iter_points())
    assert s.grid_size == 2 * 7 * 7 * 5 and s.count() == len(points)
    if count is None:  # by hand: batch * rows / 8 < 2 (cols - 4)
        count = 2 * sum(b * r / 8 < 2 * (c - 4) for r, c, b in itertools.product(
            SIZES, SIZES, [1, 4, 16, 64, 256]))
    assert len(points) == count


def test_points_come_in_grid_order_the_last_axis_fastest_networks_outermost():
    s = grid()
    points = list(s.iter_points())
    assert [p.values for p in points[:6]] == [(8, 8, 1), (8, 8, 4), (8, 8, 16), (8, 8, 64),
                                             (8, 8, 256), (8, 16, 1)]
    assert [p.network for p in points[::245]] == [0, 1]
    assert len({p.id for p in points}) == len(points)
    assert s.columns == (*LABELS, "tpu.array_rows", "tpu.array_cols", *METRICS)
    assert s.labels(points[-1]) == ("tpu-v1", "lstm-char", 256, "int8", 512, 512)


def test_constraints_may_read_fields_the_sweep_does_not_vary():
    s = grid(["tpu.array_rows * tpu.array_cols * tpu.clock_hz <= 700e6 * 64 * 64"])
    assert s.count() == 2 * 5 * sum(r * c <= 4096 for r in SIZES for c in SIZES)
    assert grid(['precision == "int8"']).count() == s.grid_size


def test_explicit_points_take_the_presets_values_and_cross_the_axes():
    s = Sweep.of("tpu-v1", "lenet5", {"batch": [1, 8]},
                 points=[{"tpu.array_rows": 512, "tpu.array_cols": 512},
                         {"tpu.ddr_bytes_per_s": 136e9}])
    assert s.parameters == ("tpu.array_rows", "tpu.array_cols", "tpu.ddr_bytes_per_s",
                            "batch")
    assert [p.values for p in s.iter_points()] == [
        (512, 512, 34e9, 1), (512, 512, 34e9, 8), (256, 256, 136e9, 1), (256, 256, 136e9, 8)]
    with pytest.raises(AccelsimError, match="names the axis batch as well"):
        Sweep.of("tpu-v1", "lenet5", {"batch": [1, 8]}, points=[{"batch": 4}])


def test_repeated_points_are_refused_and_points_that_fill_in_alike_run_once():
    with pytest.raises(AccelsimError, match=r"the explicit point \{'batch': 4\} is given twice"):
        Sweep.of("tpu-v1", "lenet5", {}, points=[{"batch": 4}, {"batch": 4}])
    alike = Sweep.of("tpu-v1", "lenet5", {}, points=[{"tpu.array_rows": 256},
                                                     {"tpu.clock_hz": 700e6}])
    assert [p.values for p in alike.iter_points()] == [(256, 700e6)] and alike.count() == 1


def test_cpu_host_points_start_from_the_hosts_own_spec():
    from accelsim.build import machine

    host = machine("cpu-host").spec  # the recorded host the tests run with (16 cores)
    s = Sweep.of("cpu-host", "lenet5", {}, points=[{"cpu.cores": 1}, {"batch": 2}])
    assert [p.values for p in s.iter_points()] == [(1, 1), (host.cores, 2)]
    assert Sweep.of("cpu-host", "lenet5", {"batch": [1, 2]},
                    constraints=[f"cpu.cores == {host.cores}"]).count() == 2


def test_a_sweep_too_large_to_enumerate_is_refused():
    axes = {"tpu.array_rows": list(range(1, 1001)), "tpu.array_cols": list(range(1, 1001)),
            "batch": list(range(1, 1001))}
    with pytest.raises(AccelsimError, match=f"at most {MAX_POINTS:,}"):
        Sweep.of("tpu-v1", "lenet5", axes)


# ---- constraints -------------------------------------------------------------------------


KINDS = {"a": NUMBER, "b": NUMBER, "tpu.array_rows": NUMBER, "network": TEXT}


@pytest.mark.parametrize(("text", "env", "holds"), [
    ("a == b", {"a": 1, "b": 1}, True),
    ("a + b * 2 == 7", {"a": 1, "b": 3}, True),  # * before +
    ("(a + b) * 2 == 8", {"a": 1, "b": 3}, True),
    ("-a < b - 10", {"a": 1, "b": 10}, True),
    ("a / b > 0", {"a": 1, "b": 0}, False),  # a division by zero is false
    ("1 <= a < b <= 1e3", {"a": 1, "b": 1001}, False),
    ("1 <= a < b <= 1_000", {"a": 1, "b": 999}, True),
    ('network == "lenet5"', {"network": "lenet5"}, True),
    ("network != 'lenet5'", {"network": "lenet5"}, False),
    ("network != 'lenet5' or a <= 64", {"network": "lenet5", "a": 65}, False),
    ("network != 'lenet5' or a <= 64", {"network": "lenet5", "a": 64}, True),
    ("network != 'lenet5' or a <= 64", {"network": "x", "a": 65}, True),
    ("a == 1 or a == 2 and b == 3", {"a": 2, "b": 0}, False),  # and binds tighter
    ("a == 1 or a == 2 and b == 3", {"a": 1, "b": 0}, True),
    ("tpu.array_rows % 2", {}, None),
])
def test_constraints_compute_and_compare_without_eval(text, env, holds):
    if holds is None:
        with pytest.raises(AccelsimError, match="cannot read '% 2'"):
            compile_constraint(text, KINDS)
        return
    assert compile_constraint(text, KINDS)(env) is holds


@pytest.mark.parametrize(("text", "message"), [
    ("tpu.array_row == 8", "did you mean 'tpu.array_rows'?"),
    ("a", "it compares nothing"),
    ("a ==", "it ends too soon"),
    ("(a == b", "a ( is not closed"),
    ("a == b)", "unexpected ')'"),
    ('network < "x"', "text compares only with == or !=, not <"),
    ('network == 3', "== compares text with a number"),
    ('network * 2 == 4', "* needs numbers, not text"),
    ("__import__('os') == 1", "'__import__' is not an axis or a name of this sweep"),
    ("", "must be a non-empty string"),
    ("a <= 1_", "it is not a number, a name or a comparison this parser reads"),
    ("a or b == 1", "it compares nothing"),
    ("a == 1 and", "it ends too soon"),
    ("a <= " + "9" * 5000, "it is not a number"),  # past int()'s digit limit
    ("(" * 1000 + "a" + ")" * 1000 + " < 3", "brackets nested a few levels"),
    ("-" * 3000 + "1 < a", "it is not a number"),
])
def test_bad_constraints_name_the_problem(text, message):
    with pytest.raises(AccelsimError, match=re.escape(message)):
        compile_constraint(text, KINDS)


# ---- ids -----------------------------------------------------------------------------------


def test_ids_hash_the_parameters_whatever_the_axis_order():
    s = grid()
    for p in itertools.islice(s.iter_points(), 0, None, 97):
        items = [*zip(s.parameters, p.values, strict=True), ("precision", "int8")]
        assert p.id == point_id("tpu-v1", s.network_keys[p.network], items)
    swapped = Sweep.of("tpu-v1", ["lstm-char", "lenet5"], {
        "batch": [256, 64, 16, 4, 1], "tpu.array_cols": SIZES, "tpu.array_rows": SIZES})
    assert {p.id for p in swapped.iter_points()} == {p.id for p in s.iter_points()}
    assert len(p.id) == 16 and int(p.id, 16) >= 0


def test_ids_are_the_same_in_another_process():
    code = ("from accelsim.sweep import Sweep\n"
            "s = Sweep.of('tpu-v1', ['lenet5'], {'tpu.clock_hz': [7e8, 1.4e9], "
            "'batch': [1, 64], 'precision': ['int8']})\n"
            "print(' '.join(p.id for p in s.iter_points()))\n")
    here = Sweep.of("tpu-v1", ["lenet5"], {"tpu.clock_hz": [7e8, 1.4e9], "batch": [1, 64],
                                           "precision": ["int8"]})
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert there.stdout.split() == [p.id for p in here.iter_points()]
    assert math.prod(len(v) for _, v in here.axes) == 4


def test_a_gpus_runtime_settings_are_axes_too():
    axes = axis_choices("gpu-v100")
    assert {"gpu.cudnn_benchmark", "gpu.channels_last", "gpu.rnn_algorithm",
            "gpu.framework", "gpu.host_copy_latency_s"} <= set(axes)
    assert "gpu.name" not in axes
    result = run_sweep(Sweep.of("gpu-v100", "lenet5", {"gpu.cudnn_benchmark": [False, True],
                                                       "gpu.framework": ["eager", "graph"],
                                                       "batch": [64]}), workers=1)
    rows = {(r["gpu.cudnn_benchmark"], r["gpu.framework"]): r for r in result.ok()}
    assert len(rows) == 4
    eager, graph = rows[False, "eager"], rows[False, "graph"]
    assert graph["device_seconds"] == eager["device_seconds"] < graph["seconds"] < \
        eager["seconds"]
