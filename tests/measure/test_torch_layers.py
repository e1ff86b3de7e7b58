"""The PyTorch layer recorder (measure/torch_layers.py): which cases it times, at which thread
counts, and where the rows go, checked without PyTorch (the timing itself is replaced)."""

from __future__ import annotations

import json

import pytest

from accelsim.measure import torch_layers


@pytest.fixture
def timed(monkeypatch):
    asked: dict = {}

    def fake(rows, thread_counts, rounds):
        asked.update(rows=list(rows), threads=list(thread_counts), rounds=rounds)
        return [{**row, **{f"us_t{t}": 1.0 for t in thread_counts}} for row in rows]

    monkeypatch.setattr(torch_layers, "measure_rounds", fake)
    return asked


def test_record_times_the_chosen_families_at_the_chosen_thread_counts(timed, tmp_path):
    out = tmp_path / "rows.json"
    torch_layers._main(["--record", str(out), "--families", "linear", "rnn",
                        "--thread-counts", "16", "1", "16", "--rounds", "1"])
    rows = json.loads(out.read_text())
    assert timed["threads"] == [1, 16] and timed["rounds"] == 1
    assert {torch_layers.family(r) for r in rows} == {"linear", "rnn"}
    assert len(rows) == len(torch_layers.LINEARS) + len(torch_layers.RNNS)
    assert all(r["us_t16"] == 1.0 for r in rows)


def test_record_defaults_to_every_case_at_one_and_two_threads(timed, tmp_path):
    torch_layers._main(["--record", str(tmp_path / "all.json")])
    assert timed["threads"] == [1, 2] and timed["rows"] == torch_layers.cases()


def test_the_mkl_grid_is_every_row_count_over_every_weight_shape(timed, tmp_path):
    torch_layers._main(["--record", str(tmp_path / "grid.json"), "--mkl-grid"])
    grid = timed["rows"]
    assert len(grid) == len(torch_layers.MKL_GRID_ROWS) * len(torch_layers.MKL_GRID_WEIGHTS)
    assert {(r["in"], r["out"]) for r in grid} == set(torch_layers.MKL_GRID_WEIGHTS)
    assert all(r["kind"] == "linear" for r in grid)


def test_families_name_recurrent_kinds_rnn():
    assert [torch_layers.family({"kind": k}) for k in ("lstm", "gru", "rnn", "conv", "net")] \
        == ["rnn", "rnn", "rnn", "conv", "net"]


def test_the_small_convolutions_alternate_pairs_of_flat_and_blocked_inputs(timed, tmp_path):
    """Both kinds of input among the even rows (fitted) and the odd (held out): two reading
    NCHW (fewer than 16 channels), then two a blocked copy, 9 of each; every one goes to
    oneDNN at 1 and 2 threads."""
    from accelsim.machines.cpu.framework import uses_onednn
    from accelsim.validation.cpu_layers import conv_gemm

    torch_layers._main(["--record", str(tmp_path / "small.json"), "--small-convs"])
    rows = timed["rows"]
    assert rows == torch_layers.small_conv_cases() and len(rows) == 18
    flat = [r["c"] < 16 for r in rows]
    assert flat[:16] == [i % 4 < 2 for i in range(16)] and sum(flat) == 9
    assert set(flat[0::2]) == set(flat[1::2]) == {True, False}
    for row in rows:
        op = conv_gemm(row)
        assert uses_onednn(op, op.conv, 1) and uses_onednn(op, op.conv, 2)


@pytest.mark.parametrize(("flag", "timer"), [("--batch-norm", "batch_norm_micro"),
                                             ("--reorders", "reorder_micro"),
                                             ("--rnn-reorders", "rnn_reorder_micro"),
                                             ("--conv-weight-reorders",
                                              "conv_weight_reorder_micro"),
                                             ("--conv-modules", "conv_module_micro"),
                                             ("--dispatch", "dispatch_micro")])
def test_record_writes_the_microbenchmark_a_flag_names(flag, timer, monkeypatch, tmp_path):
    monkeypatch.setattr(torch_layers, timer, lambda: [{"timer": timer}])
    out = tmp_path / "micro.json"
    torch_layers._main(["--record", str(out), flag])
    assert json.loads(out.read_text()) == [{"timer": timer}]
