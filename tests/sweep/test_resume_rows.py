"""Resumed sweeps re-validate every row they read back, and tie each point to the content of
its network's files: a corrupted or edited row, or an edited network file, runs its points
again; nothing read back reaches the final CSV unless it is a row the sweep writes."""

from __future__ import annotations

import csv
import io
import math
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.nn.loader import models_dir
from accelsim.scenario.space import METRICS
from accelsim.sweep import Sweep
from accelsim.sweep.runner import run_sweep

AXES = {"batch": [1, 2, 4], "tpu.array_rows": [64, 256]}


def sweep(network: str = "lenet5") -> Sweep:
    return Sweep.of("tpu-v1", [network], AXES)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[bytes, tuple]:
    out = tmp_path_factory.mktemp("clean") / "out"
    result = run_sweep(sweep(), out, workers=1)
    return (out / "sweep.csv").read_bytes(), result.values


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _corrupt(rows: list[list[str]], row: int, how: str) -> list[list[str]]:
    """The CSV rows with data row `row` (1-based) corrupted one way."""
    header, line = rows[0], list(rows[row])
    metric = header.index(METRICS[0])
    if how == "garbage":
        return [*rows[:row], ["garbage \x00 line"], *rows[row + 1:]]
    if how in ("nan", "inf", "-1", "-inf", "abc", ""):
        line[metric + row % len(METRICS)] = how
    elif how == "status":
        line[header.index("status")] = "fine"
    elif how == "error-with-metrics":
        line[header.index("status")] = "error"
    elif how == "axis":
        line[header.index("tpu.array_rows")] = "128"
    elif how == "batch":
        line[header.index("batch")] = str(int(line[header.index("batch")]) * 8)
    elif how == "network":
        line[header.index("network")] = "lstm-char"
    elif how == "id":
        line[0] = "0123456789abcdef"
    elif how == "short":
        line = line[:-1]
    elif how == "long":
        line = [*line, "1"]
    return [*rows[:row], line, *rows[row + 1:]]


HOW = ["garbage", "nan", "inf", "-1", "-inf", "abc", "", "status", "error-with-metrics",
       "axis", "batch", "network", "id", "short", "long"]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.dictionaries(st.integers(1, 6), st.sampled_from(HOW), min_size=1))
def test_corrupted_rows_run_again_and_never_reach_the_result(tmp_path_factory, clean, damage):
    data, values = clean
    rows = _rows(data)
    for row, how in damage.items():
        rows = _corrupt(rows, row, how)
    out = tmp_path_factory.mktemp("c") / "out"
    out.mkdir()
    run_sweep(sweep(), out, workers=1)  # a complete folder, then its rows damaged
    (out / "sweep.csv").write_text(_text(rows))
    result = run_sweep(sweep(), out, workers=1)
    assert result.evaluated == len(damage) and result.resumed == 6 - len(damage)
    assert result.values == values
    assert (out / "sweep.csv").read_bytes() == data
    for row in result.values:
        assert all(math.isfinite(v) and v >= 0 for v in row[-len(METRICS):])


def test_a_resumed_file_is_rewritten_without_its_bad_rows(tmp_path, clean):
    data, _ = clean
    out = tmp_path / "out"
    run_sweep(sweep(), out, workers=1)
    rows = _corrupt(_corrupt(_rows(data), 2, "nan"), 4, "garbage")
    (out / "sweep.csv").write_text(_text(rows))
    from accelsim.sweep.store import SweepStore

    store = SweepStore.open(out, sweep())
    store.close()
    kept = _rows((out / "sweep.csv").read_bytes())
    assert kept == [r for i, r in enumerate(_rows(data)) if i not in (2, 4)]
    assert len(store.done) == 4


def test_editing_the_network_file_runs_its_points_again(tmp_path):
    net = tmp_path / "mynet.toml"
    shutil.copy(models_dir() / "lenet5.toml", net)
    shutil.copy(models_dir() / "lenet5-digits.npz", tmp_path / "lenet5-digits.npz")
    out = tmp_path / "out"
    first = run_sweep(sweep(str(net)), out, workers=1)
    again = run_sweep(sweep(str(net)), out, workers=1)
    assert (again.evaluated, again.resumed) == (0, 6) and again.values == first.values
    net.write_text(net.read_text() + "\n# edited\n")
    edited = run_sweep(sweep(str(net)), out, workers=1)
    assert (edited.evaluated, edited.resumed) == (6, 0)
    (tmp_path / "lenet5-digits.npz").write_bytes(
        (tmp_path / "lenet5-digits.npz").read_bytes() + b"\0")  # the weights file, too
    assert run_sweep(sweep(str(net)), out, workers=1).evaluated == 6
    assert {p.id for p in sweep(str(net)).iter_points()}.isdisjoint(
        {p.id for p in sweep().iter_points()})  # the edited copy is not the bundled one


def test_ids_follow_the_files_content_not_their_path(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        shutil.copy(models_dir() / "lenet5.toml", folder / "mynet.toml")
        shutil.copy(models_dir() / "lenet5-digits.npz", folder / "lenet5-digits.npz")
    ids = [[p.id for p in sweep(str(f / "mynet.toml")).iter_points()] for f in (a, b)]
    assert ids[0] == ids[1]
