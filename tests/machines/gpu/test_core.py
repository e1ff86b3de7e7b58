"""The GPU machine: runs with numerics, fused recurrent cells, per-op kernels, validation."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.machines.gpu.validate import validate

LIBRARY_MISFIRES = {"lenet5.conv3 16x400x120", "lenet5.fc6 16x120x80"}


@pytest.fixture(scope="module")
def h200():
    return ax.machine("gpu-h200")


@pytest.fixture(scope="module")
def report(h200):
    return validate(h200)


def test_fp32_gemms_match_the_h200_measurements(report):
    rows = report.gemm_rows(ax.Precision.FP32)
    assert len(rows) == 31
    assert report.median_ape(ax.Precision.FP32) <= 0.12
    assert report.fraction_over_2x(ax.Precision.FP32) <= 0.10
    assert {r.label for r in rows if r.off_by_2x} <= LIBRARY_MISFIRES
    big = next(r for r in rows if r.label == "square 4096x4096x4096")
    assert abs(big.error) < 0.1


def test_report_covers_lenet_and_lstm(report):
    assert len(report.lenet) == 8 and len(report.lstm) == 8
    text = report.text()
    assert "median absolute error" in text and "lenet5 batch 4096" in text


def test_lenet5_runs_in_every_float_precision(h200):
    x, y = ax.datasets.load("digits", split="test")
    net = ax.network("lenet5")
    for precision in ("fp32", "fp16", "bf16"):
        r = h200.run(net, batch=64, precision=precision, data=(x, y))
        assert r.accuracy >= 0.97 and r.ops_unit == "FLOP"
    r = h200.run(net, batch=64, precision="int8", data=(x, y))
    assert r.accuracy >= 0.97 and r.ops_unit == "OP"


def test_each_op_names_its_kernel(h200):
    r = h200.run(ax.network("lenet5"), batch=256)
    kernels = {layer.name: layer.kernel for layer in r.layers}
    assert kernels["conv1"].startswith("simt_") and kernels["input"] == "memcpy"
    conv1 = r.layers[1]
    assert conv1.details["ctas"] > 0 and conv1.bound in ("compute", "memory")
    assert r.details["device_s"] < r.seconds  # host copies are the rest
    assert sum(layer.seconds for layer in r.layers) == pytest.approx(r.seconds)


def test_lstm_cells_fuse_into_one_kernel_per_step(h200):
    r = h200.run(ax.network("lstm-char"), batch=64, seq_len=10)
    by_name = {layer.name: layer for layer in r.layers}
    assert by_name["lstm.sigmoid"].kernel == "fused_lstm_cell"
    for name in ("lstm.tanh", "lstm.mul", "lstm.add"):
        assert by_name[name].seconds == 0 and "fused" in by_name[name].kernel
    gates = by_name["lstm.gates"]
    steps = 10 * (2 if gates.details["split_k"] > 1 else 1)
    readout = by_name["readout"].details["launches"]
    assert r.details["kernels"] == steps + 10 + readout  # GEMM (+ reduction), cell, readout
    single = h200.gemm(64, 96 + 128, 512, precision="fp32")
    assert gates.seconds == pytest.approx(10 * single.seconds)


def test_gemm_alone_and_bad_precisions(h200):
    r = h200.gemm(4096, 4096, 4096)
    assert r.precision is ax.Precision.FP32 and 0.6 < r.utilization < 0.85
    with pytest.raises(ax.AccelsimError, match="gpu-8800gtx does not support int8"):
        ax.machine("gpu-8800gtx").run(ax.network("lenet5"), precision="int8")


def test_older_gpus_run_lenet(h200):
    times = {name: ax.machine(name).run(ax.network("lenet5"), batch=256).details["device_s"]
             for name in ("gpu-8800gtx", "gpu-k80", "gpu-v100", "gpu-h200")}
    assert times["gpu-8800gtx"] > times["gpu-k80"] > times["gpu-v100"] > times["gpu-h200"]
    assert np.isfinite(list(times.values())).all()
