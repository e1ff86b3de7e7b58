"""The GPU machine: runs with numerics, fused recurrent cells, per-op kernels, both times."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.machines.results import Bound, Category


@pytest.fixture(scope="module")
def h200():
    return ax.machine("gpu-h200")


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
    assert conv1.detail.ctas > 0 and conv1.bound in (Bound.COMPUTE, Bound.MEMORY)
    copies = r.layers[0].seconds + r.layers[-1].seconds
    assert r.device_seconds == pytest.approx(sum(x.seconds for x in r.layers[1:-1]))
    assert r.time[Category.HOST_TRANSFER] == pytest.approx(copies)
    assert r.time[Category.LAUNCH] == pytest.approx(r.detail.kernels * h200.spec.kernel_launch_s)
    assert r.time.seconds == pytest.approx(r.seconds)
    framework = r.seconds - r.device_seconds - copies
    assert 0 <= framework <= 11 * h200.spec.host_launch_s
    assert r.time[Category.FRAMEWORK] == pytest.approx(framework)


def test_eager_batch_one_waits_on_the_host(h200):
    """Every LeNet-5 kernel at batch 1 is shorter than one dispatch, so end to end is the
    copies, 11 dispatches (flatten launches nothing) and the last kernel."""
    r = h200.run(ax.network("lenet5"), batch=1)
    kernels = [x for x in r.layers[1:-1] if x.seconds > 0]
    assert len(kernels) == 11 and max(x.seconds for x in kernels) < h200.spec.host_launch_s
    copies = r.layers[0].seconds + r.layers[-1].seconds
    expected = copies + 11 * h200.spec.host_launch_s + kernels[-1].seconds
    assert r.seconds == pytest.approx(expected)
    assert sum(layer.seconds for layer in r.layers) == pytest.approx(r.device_seconds + copies)


def test_lstm_cells_fuse_into_one_kernel_per_step(h200):
    r = h200.run(ax.network("lstm-char"), batch=64, seq_len=10)
    by_name = {layer.name: layer for layer in r.layers}
    assert by_name["lstm.sigmoid"].kernel == "fused_lstm_cell"
    for name in ("lstm.tanh", "lstm.mul", "lstm.add"):
        assert by_name[name].seconds == 0 and "fused" in by_name[name].kernel
    gates = by_name["lstm.gates"]
    steps = 10 * (2 if gates.detail.split_k > 1 else 1)
    readout = by_name["readout"].detail.launches
    assert r.detail.kernels == steps + 10 + readout  # GEMM (+ reduction), cell, readout
    single = h200.gemm(64, 96 + 128, 512, precision="fp32")
    assert gates.seconds == pytest.approx(10 * single.seconds)


def test_gemm_alone_and_bad_precisions(h200):
    r = h200.gemm(4096, 4096, 4096)
    assert r.precision is ax.Precision.FP32 and 0.6 < r.utilization < 0.85
    with pytest.raises(ax.AccelsimError, match="gpu-8800gtx does not support int8"):
        ax.machine("gpu-8800gtx").run(ax.network("lenet5"), precision="int8")


def test_older_gpus_run_lenet(h200):
    times = {name: ax.machine(name).run(ax.network("lenet5"), batch=256).device_seconds
             for name in ("gpu-8800gtx", "gpu-k80", "gpu-v100", "gpu-h200")}
    assert times["gpu-8800gtx"] > times["gpu-k80"] > times["gpu-v100"] > times["gpu-h200"]
    assert np.isfinite(list(times.values())).all()
