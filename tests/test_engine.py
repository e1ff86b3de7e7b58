"""The run path, exercised with the tests-only FixedRateMachine (see conftest)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError, PrecisionError, ShapeError


def test_run_times_every_op_and_totals_them(fixed_machine):
    net = ax.network("lenet5")
    r = fixed_machine.run(net, batch=4)
    wl = ax.lower(net, 4)
    assert [op.name for op in r.layers] == [op.name for op in wl.ops]
    conv1 = r.layers[1]
    assert conv1.cycles == math.ceil(4 * 117_600 / 100)
    assert r.cycles == sum(op.cycles for op in r.layers)
    assert r.seconds == pytest.approx(r.cycles / 1e9)
    assert r.ops == 2 * 4 * 416_000
    assert r.throughput == pytest.approx(4 / r.seconds)
    assert r.utilization == pytest.approx(r.ops / r.device_seconds / r.peak_ops_per_s)
    assert r.accuracy is None and r.outputs is None


def test_run_with_data_scores_accuracy_at_the_precision(fixed_machine):
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    r = fixed_machine.run(net, batch=64, precision="fp16", data=(x, y))
    assert r.precision is ax.Precision.FP16 and r.ops_unit == "FLOP"
    assert r.outputs.shape == (len(x), 10)
    assert r.accuracy == pytest.approx(net.accuracy(x, y, "fp16"))
    np.testing.assert_array_equal(r.outputs, net.forward(x, "fp16"))


def test_sequence_runs_take_their_length_from_the_data(fixed_machine):
    net = ax.network("lstm-recall")
    x, y = ax.datasets.load("recall", split="test", n=32, gap=10)
    r = ax.run(fixed_machine, net, batch=8, data=(x, y))
    assert r.seq_len == 12
    assert r.layers[1].ops == 2 * 8 * (22 + 32) * 128 * 12


def test_seq_len_must_match_the_data(fixed_machine):
    net = ax.network("lstm-recall")
    x, y = ax.datasets.load("recall", split="test", n=4, gap=10)
    with pytest.raises(AccelsimError, match="seq_len = 3 but the data has 12 time steps"):
        fixed_machine.run(net, batch=4, data=(x, y), seq_len=3)
    assert fixed_machine.run(net, batch=4, data=(x, y), seq_len=12).seq_len == 12


def test_default_precision_is_the_machines_own(fixed_machine):
    assert fixed_machine.default_precision is ax.Precision.FP32
    assert fixed_machine.run(ax.network("lenet5")).precision is ax.Precision.FP32


def test_unsupported_precision_is_a_clear_error(fixed_machine):
    with pytest.raises(PrecisionError, match="test-fixed-rate does not support int8; it runs "
                                             "fp16, fp32"):
        fixed_machine.run(ax.network("lenet5"), precision="int8")
    with pytest.raises(PrecisionError, match="unknown precision 'fp8'"):
        fixed_machine.run(ax.network("lenet5"), precision="fp8")


def test_bad_data_is_a_clear_error(fixed_machine):
    net = ax.network("lenet5")
    with pytest.raises(ShapeError, match=r"expects input \(batch, 1, 32, 32\), got array of "
                                         r"shape \(3, 28, 28\)"):
        fixed_machine.run(net, data=np.zeros((3, 28, 28)))
    with pytest.raises(AccelsimError, match="labels of shape"):
        fixed_machine.run(net, data=(np.zeros((3, 1, 32, 32)), np.zeros(4, int)))
    with pytest.raises(ShapeError, match="empty batch"):
        fixed_machine.run(net, data=np.zeros((0, 1, 32, 32)))


def test_gemm_times_one_matrix_multiply(fixed_machine):
    r = fixed_machine.gemm(64, 25, 6)
    assert r.ops == 2 * 64 * 25 * 6 and r.cycles == 96
    with pytest.raises(AccelsimError, match="gemm k = 0"):
        fixed_machine.gemm(1, 0, 1)


def test_results_render_and_serialise(fixed_machine):
    x, y = ax.datasets.load("digits", split="test")
    r = fixed_machine.run(ax.network("lenet5"), batch=2, data=(x[:10], y[:10]))
    row = json.loads(json.dumps(r.to_dict()))
    assert row["machine"] == "test-fixed-rate" and row["precision"] == "fp32"
    assert len(row["layers"]) == len(r.layers)
    html = r._repr_html_()
    assert "<table>" in html and "conv1" in html
    assert "lenet5 on test-fixed-rate" in r.summary()


def test_placeholder_machine_is_not_offered_to_users():
    assert "test-fixed-rate" not in ax.presets()
    with pytest.raises(AccelsimError, match="unknown machine 'test-fixed-rate'"):
        ax.machine("test-fixed-rate")


@pytest.mark.slow  # CI runs it (.ci/run: make test-slow)
def test_compare_scores_each_precision_on_the_test_split_int8_through_quantization():
    # The char LSTM's accuracy differs in every format, so a score given to the wrong
    # precision (or int8 scored without quantizing) shows.
    cmp = ax.compare("lstm-char", ["tpu-v1", "gpu-h200"], batch=[1, 8],
                     precision=[None, "fp16"], accuracy=True)
    net = ax.network("lstm-char")
    x, y = ax.datasets.load("stdlib-docs", split="test", **net.training.get("data", {}))
    train, _ = ax.datasets.load("stdlib-docs", split="train", **net.training.get("data", {}))
    expected = {p: net.accuracy(x, y, p) for p in ("fp32", "fp16")}
    expected["int8"] = ax.quantize(net, calibration=train[:256]).accuracy(x, y)
    assert len(set(expected.values())) == 3
    got = {(r.machine, r.precision.value, r.batch): r.accuracy for r in cmp.results}
    assert sorted(got) == sorted((m, p, b) for m, p in [("tpu-v1", "int8"), ("gpu-h200", "fp32"),
                                                       ("gpu-h200", "fp16")] for b in (1, 8))
    assert [(s.machine, s.precision) for s in cmp.skipped] == [("tpu-v1", "fp16")] * 2
    for (_, precision, _), accuracy in got.items():
        assert accuracy == pytest.approx(expected[precision], abs=1e-12), precision


def test_compare_refuses_accuracy_for_a_network_without_data_before_any_run():
    heard: list[str] = []
    with pytest.raises(AccelsimError, match=r"tpu-mlp0 names no data set"):
        ax.compare(["lenet5", "tpu-mlp0"], "tpu-v1", accuracy=True, on_run=heard.append)
    assert heard == []
