"""The TPU v1 machine: the paper's arithmetic, closed-form timings, roofline behaviour,
int8 numerics, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError, PrecisionError
from accelsim.ir import Gemm, Workload
from accelsim.machines.results import Bound, Category
from accelsim.machines.tpu import SystolicArray
from accelsim.machines.tpu.core import ops_per_weight_byte
from accelsim.machines.tpu.executor import CATEGORIES

MLP = """
name = "mlp-big"
input_shape = [2048]
[[layers]]
name = "fc1"
type = "linear"
out_features = 2048
[[layers]]
type = "relu"
[[layers]]
name = "fc2"
type = "linear"
out_features = 2048
[[layers]]
type = "relu"
[[layers]]
name = "fc3"
type = "linear"
out_features = 2048
"""

CNN = """
name = "cnn-wide"
input_shape = [64, 16, 16]
""" + "".join(f"""
[[layers]]
name = "conv{i}"
type = "conv2d"
out_channels = 256
kernel_size = 3
padding = 1
[[layers]]
type = "relu"
""" for i in range(1, 5)) + """
[[layers]]
type = "maxpool2d"
kernel_size = 2
"""


@pytest.fixture(scope="module")
def tpu():
    return ax.machine("tpu-v1")


def test_the_books_arithmetic(tpu):
    assert tpu.spec.macs_per_cycle == 65_536
    assert tpu.peak_ops_per_s("int8") == 256 * 256 * 700e6 * 2
    assert tpu.peak_ops_per_s("int8") == pytest.approx(92e12, rel=3e-3)
    assert round(tpu.peak_ops_per_s("int8") / 20e12, 1) == 4.6  # the book: 4.6× Xavier
    assert tpu.spec.ridge_macs_per_weight_byte == pytest.approx(1349.3, abs=0.1)
    assert tpu.weight_bytes_per_s == 34e9
    assert tpu.spec.accumulator_rows * tpu.spec.array_cols * 4 == 4 * 2**20


def test_only_int8_runs(tpu):
    for precision in ("fp32", "fp16", "bf16"):
        with pytest.raises(PrecisionError, match=f"tpu-v1 does not support {precision}; it "
                                                 "runs int8"):
            tpu.run(ax.network("lenet5"), precision=precision)


def single_gemm_cycles(tpu, m: int, k: int, n: int) -> float:
    workload = Workload.of_ops("one", 1, (Gemm("g", m, k, n, bias=False),))
    return tpu.time_workload(workload, ax.Precision.INT8).cycles


@pytest.mark.parametrize("m,k,n", [(784, 25, 6), (100, 150, 16), (1, 256, 256), (2048, 256, 1)])
def test_one_tile_is_fetch_plus_scalesim_fold_plus_drain(tpu, m, k, n):
    fetch = k * n / (34e9 / 700e6)
    # fold = shift 256 + m rows + 255 + 255 (SCALE-Sim's Total Cycles + 1), then the activation
    # unit drains m accumulator rows.
    fold = SystolicArray(256, 256, "ws").cycles(m, k, n) + 1
    assert single_gemm_cycles(tpu, m, k, n) == pytest.approx(fetch + fold + m)


def test_a_resident_tile_serves_every_row_chunk(tpu):
    wl = ax.lower(ax.network("lenet5"), batch=64)
    program = tpu.compile(wl)
    conv1 = [i for i in program.instructions if i.op == 1]
    assert sum(type(i).__name__ == "MatrixMultiply" for i in conv1) == 25  # 50,176 / 2,048
    assert sum(type(i).__name__ == "ReadWeights" for i in conv1) == 1
    assert program.tiles == 6  # conv3 needs two K blocks
    text = str(program)
    for name in ("Read_Host_Memory", "Read_Weights", "MatrixMultiply", "Activate", "Sync",
                 "Write_Host_Memory", "Halt"):
        assert name in text


def test_breakdowns_add_up(tpu):
    r = tpu.run(ax.network("lenet5"), batch=64, precision="int8")
    assert sum(layer.cycles for layer in r.layers) == pytest.approx(r.cycles)
    for layer in r.layers:
        counters = layer.detail.counters
        assert sum(getattr(counters, c) for c in CATEGORIES) == pytest.approx(layer.cycles)
        assert layer.time.seconds == pytest.approx(layer.seconds)
        assert isinstance(layer.bound, Bound)
    totals = r.detail.counters
    assert sum(getattr(totals, c) for c in CATEGORIES) == pytest.approx(r.cycles)
    assert sum(r.breakdown().values()) == pytest.approx(1.0)
    assert r.breakdown()[Category.COMPUTE] == pytest.approx(totals.array_active / r.cycles)
    conv1 = r.layers[1]
    assert conv1.detail.counters.array_active == 64 * 784  # one row per cycle
    assert conv1.bound is Bound.COMPUTE
    assert conv1.utilization == pytest.approx(64 * 117_600 / (conv1.cycles * 65_536))
    assert conv1.detail.mapping_efficiency == pytest.approx(25 * 6 / 65_536)


def test_device_time_leaves_out_the_pcie_transfers(tpu):
    r = tpu.run(ax.network("lenet5"), batch=64, precision="int8")
    device = tpu.time_workload(ax.lower(ax.network("lenet5"), 64).without_transfers(),
                               ax.Precision.INT8)
    assert r.device_seconds == device.seconds < r.seconds
    assert r.device_seconds > r.seconds - r.time[Category.HOST_TRANSFER] - 1e-12


def test_memory_bound_mlp_runs_at_the_weight_bandwidth(tpu, write_model):
    net = ax.network(write_model(MLP))
    r = tpu.run(net, batch=200, precision="int8")
    weight_bound = 2 * 200 * 34e9
    assert 0.85 * weight_bound < r.achieved_ops_per_s <= weight_bound
    # Each tile arrives every 1,349 cycles; its 256-cycle shift cannot start before it does.
    waiting = r.detail.counters.weight_stall + r.detail.counters.weight_shift
    assert waiting > 0.7 * r.cycles
    assert all(layer.bound is Bound.MEMORY for layer in r.layers if layer.kind == "gemm")
    assert ops_per_weight_byte(ax.lower(net, 200)) == pytest.approx(200, rel=1e-3)
    for batch in (1, 16, 64, 200, 800):
        achieved = tpu.run(net, batch=batch, precision="int8").achieved_ops_per_s
        assert achieved <= tpu.roofline(batch) * 1.0001


def test_doubling_the_ddr_bandwidth_nearly_doubles_a_memory_bound_mlp(tpu, write_model):
    net = ax.network(write_model(MLP))
    base = tpu.run(net, batch=64, precision="int8").seconds
    fast = ax.machine("tpu-v1", ddr_bytes_per_s=68e9).run(net, batch=64, precision="int8")
    assert 1.7 < base / fast.seconds <= 2.0


def test_compute_bound_cnn_reaches_peak_times_array_utilization(tpu, write_model):
    net = ax.network(write_model(CNN))
    r = tpu.run(net, batch=16, precision="int8")
    array = SystolicArray(256, 256, "ws")
    convs = [layer for layer in r.layers if layer.kind == "gemm"]
    assert array.mapping_efficiency(1, 64 * 9, 256) == 0.75  # K = 576: 2.25 of 3 row blocks
    assert array.mapping_efficiency(1, 256 * 9, 256) == 1.0
    for conv, k in zip(convs, (576, 2304, 2304, 2304), strict=True):
        mapping = array.mapping_efficiency(1, k, 256)
        assert conv.bound == "compute"
        assert 0.9 * mapping < conv.utilization <= mapping
    # PCIe transfers and the drain between layers take the rest.
    assert r.achieved_ops_per_s > 0.7 * tpu.peak_ops_per_s("int8")


def test_a_deeper_weight_fifo_never_hurts(write_model):
    net = ax.network(write_model(MLP))
    times = [ax.machine("tpu-v1", weight_fifo_tiles=d).run(net, batch=256,
                                                           precision="int8").seconds
             for d in (1, 2, 4)]
    assert times[0] >= times[1] >= times[2]


def test_lenet5_batch64_int8_run(tpu):
    x, y = ax.datasets.load("digits", split="test")
    r = tpu.run(ax.network("lenet5"), batch=64, precision="int8", data=(x, y))
    assert r.accuracy >= 0.97 and r.ops_unit == "OP"
    assert r.outputs.shape == (len(x), 10)
    assert "MatrixMultiply" in str(r.program)
    assert r.utilization < 0.01  # LeNet's small layers leave the big array idle


def test_cycle_engine_and_fast_kernel_give_identical_outputs(tpu):
    x, y = ax.datasets.load("digits", split="test")
    q = ax.quantize(ax.network("lenet5"), calibration=x[:64])
    fast = tpu.run(q, batch=8, precision="int8", data=(x[:12], y[:12]))
    cycle = ax.machine("tpu-v1", numerics="cycle").run(q, batch=8, precision="int8",
                                                       data=(x[:12], y[:12]))
    np.testing.assert_array_equal(fast.outputs, cycle.outputs)


def test_lstm_is_weight_bandwidth_bound_on_the_tpu(tpu):
    r = tpu.run(ax.network("lstm-char"), batch=64, precision="int8")
    gates = r.layers[1]
    assert gates.name == "lstm.gates" and gates.bound == "memory"
    assert gates.dram_bytes == 64 * 2 * (96 + 128) * 256  # both tiles, every step


def test_gemm_on_its_own_includes_host_io_and_weight_streaming(tpu):
    r = tpu.gemm(2048, 256, 256, precision="int8")
    assert r.ops == 2 * 2048 * 256 * 256
    assert r.dram_bytes == 256 * 256 + 2048 * 256 + 2048 * 256
    assert r.detail.counters.host_io_stall > 0 and r.detail.counters.array_active == 2048
    assert r.cycles > single_gemm_cycles(tpu, 2048, 256, 256)


def test_overrides_and_bad_specs():
    small = ax.machine("tpu-v1", array_rows=32, array_cols=32)
    assert small.peak_ops_per_s("int8") == 32 * 32 * 700e6 * 2
    assert small.run(ax.network("lenet5"), batch=4, precision="int8").cycles > 0
    with pytest.raises(AccelsimError, match="array_rows = 0 must be a positive integer"):
        ax.machine("tpu-v1", array_rows=0)
    with pytest.raises(AccelsimError, match="no spec field"):
        ax.machine("tpu-v1", rows=3)
    with pytest.raises(AccelsimError, match="numerics = 'exact'"):
        ax.machine("tpu-v1", numerics="exact")
    with pytest.raises(AccelsimError, match="ddr_bytes_per_s = -1"):
        ax.machine("tpu-v1", ddr_bytes_per_s=-1)


def test_activations_beyond_the_unified_buffer_are_rejected(tpu):
    with pytest.raises(AccelsimError, match=r"batch 20000 needs .* MiB of Unified Buffer at "
                                            r"conv1 .* use batch ≤ 11439"):
        tpu.run(ax.network("lenet5"), batch=20000, precision="int8")
    assert tpu.run(ax.network("lenet5"), batch=11439, precision="int8").cycles > 0


TWO_CONVS = """
name = "two-convs"
input_shape = [1, 32, 32]
[[layers]]
name = "small"
type = "conv2d"
out_channels = 8
kernel_size = 3
padding = 1
[[layers]]
name = "wide"
type = "conv2d"
out_channels = 64
kernel_size = 3
padding = 1
"""


def test_the_suggested_batch_fits_every_layer(tpu, write_model):
    net = ax.network(write_model(TWO_CONVS))
    with pytest.raises(AccelsimError, match=r"at wide .* use batch ≤ (\d+)") as err:
        tpu.run(net, batch=100_000)
    fits = int(err.value.args[0].split("use batch ≤ ")[1].split()[0])
    assert tpu.run(net, batch=fits).cycles > 0
    with pytest.raises(AccelsimError):
        tpu.run(net, batch=fits + 1)
    with pytest.raises(AccelsimError, match="even one sample does not fit"):
        tpu.gemm(200_000, 256, 256)


def test_defaults_and_renaming(tpu):
    assert tpu.default_precision is ax.Precision.INT8
    assert tpu.gemm(64, 25, 6).precision is ax.Precision.INT8
    assert ax.machine("tpu-v1", name="my-tpu").name == "my-tpu"


def test_softmax_runs_on_the_host(tpu, write_model):
    net = ax.network(write_model("""
        name = "probabilities"
        input_shape = [1, 8, 8]
        [[layers]]
        type = "flatten"
        [[layers]]
        type = "linear"
        out_features = 5
        [[layers]]
        type = "softmax"
    """))
    x = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    r = tpu.run(net, batch=6, data=x)
    np.testing.assert_allclose(r.outputs.sum(axis=1), 1.0, rtol=1e-5)
    assert "softmax" not in str(r.program)
    assert r.layers[-2].cycles == 0  # nothing of the softmax runs on the TPU


def test_weights_beyond_the_weight_memory_are_rejected(write_model):
    small = ax.machine("tpu-v1", weight_memory_bytes=1000)
    with pytest.raises(AccelsimError, match="weight memory holds 1,000 B"):
        small.run(ax.network("lenet5"), precision="int8")
