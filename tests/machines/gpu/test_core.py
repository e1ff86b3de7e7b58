"""The GPU machine: runs with numerics, the kernels each op launches, both times."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.ir import Transfer
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


def test_each_op_records_its_kernels_and_the_times_add_up(h200):
    r = h200.run(ax.network("lenet5"), batch=256)
    by_name = {layer.name: layer for layer in r.layers}
    conv1 = by_name["conv1"]
    assert conv1.detail.kernels == ("implicit_convolve_sgemm", "elementwise_kernel (bias add)")
    assert conv1.seconds == pytest.approx(sum(conv1.detail.kernel_seconds))
    assert conv1.detail.ctas > 0 and conv1.bound in (Bound.COMPUTE, Bound.MEMORY)
    assert by_name["input"].kernel == "memcpy" and by_name["relu1"].detail.launches == 1
    copies = by_name["input"].seconds + by_name["output"].seconds
    forward = [layer for layer in r.layers if layer.kind != "transfer"]
    assert r.device_seconds == pytest.approx(sum(x.seconds for x in forward))
    assert r.detail.kernels == sum(x.detail.launches for x in forward)
    assert r.time[Category.HOST_TRANSFER] == pytest.approx(copies)
    assert r.time[Category.LAUNCH] == pytest.approx(r.detail.kernels * h200.spec.kernel_launch_s)
    assert r.time.seconds == pytest.approx(r.seconds)
    assert r.time[Category.FRAMEWORK] == pytest.approx(r.seconds - r.device_seconds - copies)


def test_end_to_end_at_batch_one_is_the_host_path(h200):
    """At batch 1 the device finishes each kernel long before the host has dispatched and
    launched the next calls, so end to end is the host's path alone: every dispatch and
    launch, the CPU work and the two synchronous copies."""
    spec = h200.runtime
    wl = ax.lower(ax.network("lenet5"), batch=1)
    calls = [c for item in h200.framework_calls(wl, "fp32") for c in item.calls]
    dispatch = dict(spec.host_dispatch_s)
    host = sum(dispatch[c.host] + c.host_work_s + c.copy_s for c in calls)
    host += spec.host_kernel_launch_s * sum(c.launches for c in calls)
    r = h200.run(ax.network("lenet5"), batch=1)
    assert r.seconds == pytest.approx(host)
    assert r.device_seconds < host / 4


def test_fp16_input_is_converted_on_the_host_and_the_output_cast_on_the_device(h200):
    wl = ax.lower(ax.network("lenet5"), batch=4096)
    fp32 = {i.op.name: i.calls for i in h200.framework_calls(wl, "fp32")}
    fp16 = {i.op.name: i.calls for i in h200.framework_calls(wl, "fp16")}
    cast = fp16["input"][0].host_work_s
    spec = h200.runtime
    elements = 4096 * 32 * 32
    # 16.8 MB of float32 fit the host's cache: read 4 bytes from it, write 2 to memory
    assert cast == pytest.approx(elements * 4 / spec.host_cached_bytes_per_s
                                 + elements * 2 / spec.host_memory_bytes_per_s)
    assert fp32["input"][0].host_work_s == 0
    assert fp16["input"][0].copy_s < fp32["input"][0].copy_s
    assert [c.host for c in fp16["output"]] == ["op", "copy"]  # .float(), then .cpu()
    assert fp16["output"][1].copy_s == fp32["output"][0].copy_s  # float32 comes back


def test_lstm_cells_fuse_into_the_persistent_kernel(h200):
    r = h200.run(ax.network("lstm-char"), batch=64, seq_len=10)
    by_name = {layer.name: layer for layer in r.layers}
    gates = by_name["lstm.gates"]
    assert gates.detail.kernels[-1] == "RNN_blockPersist_fp_LSTM"
    assert [k.split(" ")[0] for k in gates.detail.kernels[:3]] == \
        ["FillFunctor", "FillFunctor", "elementwise_kernel"]
    for name in ("lstm.sigmoid", "lstm.tanh", "lstm.mul", "lstm.add"):
        assert by_name[name].seconds == 0 and by_name[name].kernel == "fused into lstm.gates"
    # the read-out reads a transposed (non-contiguous) view: GEMM, then its bias add
    assert by_name["readout"].detail.kernels[-1] == "elementwise_kernel (bias add)"
    one = h200.run(ax.network("lstm-char"), batch=1, seq_len=10)
    ones = {layer.name: layer for layer in one.layers}
    assert "direct_copy" not in " ".join(ones["lstm.gates"].detail.kernels)
    assert "bias add" not in " ".join(ones["readout"].detail.kernels)


def test_gemm_alone_and_bad_precisions(h200):
    r = h200.gemm(4096, 4096, 4096)
    assert r.precision is ax.Precision.FP32 and 0.6 < r.utilization < 0.85
    with pytest.raises(ax.AccelsimError, match="gpu-8800gtx does not support int8"):
        ax.machine("gpu-8800gtx").run(ax.network("lenet5"), precision="int8")


def test_every_preset_runs_both_networks():
    for name in ("gpu-8800gtx", "gpu-k80", "gpu-v100", "gpu-h100", "gpu-h200"):
        m = ax.machine(name)
        for net in ("lenet5", "lstm-char"):
            for precision in m.precisions:
                r = m.run(ax.network(net), batch=64, precision=precision)
                assert np.isfinite(r.seconds) and r.seconds > r.device_seconds > 0
                assert all(x.seconds >= 0 for x in r.layers)
    times = {name: ax.machine(name).run(ax.network("lenet5"), batch=256).device_seconds
             for name in ("gpu-8800gtx", "gpu-k80", "gpu-v100", "gpu-h200")}
    assert times["gpu-8800gtx"] > times["gpu-k80"] > times["gpu-v100"] > times["gpu-h200"]


def test_dram_fraction_is_a_share():
    with pytest.raises(ax.AccelsimError, match=r"dram_achievable_fraction = 1\.2 must be at "
                                               r"most 1"):
        ax.machine("gpu-h200", dram_achievable_fraction=1.2)


def test_host_table_is_checked():
    with pytest.raises(ax.AccelsimError, match="host_dispatch_s name = 'python' must be one"):
        ax.machine("gpu-h200", host_dispatch_s={**dict(ax.machine("gpu-h200").runtime
                                                      .host_dispatch_s), "python": 1e-6})
    with pytest.raises(ax.AccelsimError, match="host_dispatch_s has no cell, conv"):
        ax.machine("gpu-h200", host_dispatch_s={"op": 1e-6, "linear": 1e-6, "rnn": 1e-6,
                                                "copy": 1e-6})


def test_transfers_are_not_device_time(h200):
    r = h200.run(ax.network("lstm-char"), batch=16, precision="fp16")
    wl = ax.lower(ax.network("lstm-char"), batch=16)
    transfers = [x for x, op in zip(r.layers, wl.ops, strict=True) if isinstance(op, Transfer)]
    assert len(transfers) == 2
    others = sum(x.seconds for x in r.layers) - sum(x.seconds for x in transfers)
    assert r.device_seconds == pytest.approx(others)


def test_the_software_stack_is_chosen_by_keyword(write_model):
    net = ax.network("lenet5", weights="none")
    eager = ax.machine("gpu-h200").run(net, batch=16)
    graph = ax.machine("gpu-h200", framework="graph").run(net, batch=16)
    assert graph.device_seconds == eager.device_seconds < graph.seconds < eager.seconds
    with pytest.raises(ax.AccelsimError, match="framework = 'jit' must be one of"):
        ax.machine("gpu-h200", framework="jit")
    with pytest.raises(ax.AccelsimError, match="rnn_algorithm = 'fast' must be one of"):
        ax.machine("gpu-h200", rnn_algorithm="fast")
    lstm = ax.network("lstm-char", weights="none")
    standard = ax.machine("gpu-h200", rnn_algorithm="standard").run(lstm, batch=4)
    assert "RNN_blockPersist" not in standard.layers[1].kernel
    assert "RNN_blockPersist" in ax.machine("gpu-h200").run(lstm, batch=4).layers[1].kernel
    with pytest.raises(ax.AccelsimError, match="no grid-wide synchronization"):
        ax.machine("gpu-k80", rnn_algorithm="persistent").run(lstm, batch=4)
