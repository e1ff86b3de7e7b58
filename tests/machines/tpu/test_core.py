"""The TPU v1 machine: the paper's arithmetic, closed-form timings, roofline behaviour,
int8 numerics, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import accelsim as ax
from accelsim.errors import AccelsimError, PrecisionError, QuantizationError
from accelsim.ir import Gemm, Workload
from accelsim.machines.results import Bound, Category
from accelsim.machines.tpu import SystolicArray
from accelsim.machines.tpu.core import ops_per_weight_byte, two_pass_gemm
from accelsim.machines.tpu.executor import CATEGORIES
from accelsim.nn.datasets import network_data
from accelsim.quant.kernels import int_matmul

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


def single_gemm_cycles(tpu, m: int, k: int, n: int, bits: int = 8) -> float:
    """The program's cycles: end to end less the host's part (one driver call here)."""
    workload = Workload.of_ops("one", 1, (Gemm("g", m, k, n, bias=False, activation_bits=bits),))
    timing = tpu.time_workload(workload, ax.Precision.INT8)
    assert timing.detail.host_cycles == tpu.runtime.driver_call_s * 700e6
    return timing.cycles - timing.detail.host_cycles


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
    program = r.cycles - r.detail.host_cycles  # the ops' spans cover the program
    assert sum(layer.cycles for layer in r.layers) == pytest.approx(program)
    for layer in r.layers:
        counters = layer.detail.counters
        assert sum(getattr(counters, c) for c in CATEGORIES) == pytest.approx(layer.cycles)
        assert layer.time.seconds == pytest.approx(layer.seconds)
        assert isinstance(layer.bound, Bound)
    totals = r.detail.counters
    assert sum(getattr(totals, c) for c in CATEGORIES) == pytest.approx(program)
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
    program = (device.cycles - device.detail.host_cycles) / 700e6  # no transfers, no host
    assert r.device_seconds == pytest.approx(program, rel=1e-12)
    assert r.device_seconds < r.seconds
    host = r.time[Category.HOST_TRANSFER] + r.time[Category.FRAMEWORK]
    assert r.device_seconds > r.seconds - host - 1e-12


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


def test_a_batch_beyond_the_unified_buffer_runs_in_sub_batches(tpu):
    net = ax.network("lenet5", weights="none")
    # 24 MiB / (input 1,024 B + pool1's 1,176 B, fused into conv1) = 11,439 images a pass
    whole = tpu.run(net, batch=11439)
    assert whole.detail.strategy == "whole batch"
    split = tpu.run(net, batch=20000)
    assert (split.detail.sub_batch, split.detail.strategy) == (11439, "sub-batches of 11439")
    rest = tpu.run(net, batch=20000 - 11439)
    assert split.cycles == whole.cycles + rest.cycles  # two passes, the weights read twice
    assert split.device_seconds == pytest.approx(whole.device_seconds + rest.device_seconds)
    assert sum(r.dram_bytes for r in split.layers) == sum(
        r.dram_bytes for r in whole.layers) + sum(r.dram_bytes for r in rest.layers)


def test_only_a_sample_that_cannot_fit_is_refused():
    small = ax.machine("tpu-v1", unified_buffer_bytes=2048)
    with pytest.raises(AccelsimError, match=r"lenet5: one sample needs 2.1 KiB of Unified "
                                            r"Buffer at conv1 .* has 2 KiB: use a larger "
                                            r"unified_buffer_bytes"):
        small.run(ax.network("lenet5", weights="none"), batch=1)


def test_spilling_over_pcie_wins_when_pcie_is_fast_and_weights_are_many():
    net = ax.network("resnet18", weights="none")
    fast_pcie = ax.machine("tpu-v1", unified_buffer_bytes=2**21, pcie_bytes_per_s=1e12)
    spilled = fast_pcie.run(net, batch=8)
    assert spilled.detail.spilled_bytes > 0 and spilled.detail.sub_batch == 0
    assert spilled.detail.strategy.startswith("activations spilled over PCIe")
    slow_pcie = ax.machine("tpu-v1", unified_buffer_bytes=2**21)
    assert slow_pcie.run(net, batch=8).detail.sub_batch >= 1


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


def test_the_sub_batch_fits_every_layer(tpu, write_model):
    net = ax.network(write_model(TWO_CONVS))
    fits = tpu.run(net, batch=100_000).detail.sub_batch
    assert fits == 24 * 2**20 // (32 * 32 * (8 + 64))  # the wide layer's input and output
    assert tpu.run(net, batch=fits).detail.strategy == "whole batch"
    assert tpu.run(net, batch=fits + 1).detail.sub_batch == fits
    with pytest.raises(AccelsimError, match=r"one sample needs 97.7 MiB of Unified Buffer"):
        tpu.gemm(200_000, 256, 256)  # a GEMM's rows are one sample


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


# 16-bit activations: the 8-bit × 16-bit mode at half speed (Jouppi et al. 2017, section 2)


@pytest.mark.parametrize("m,k,n", [(784, 25, 6), (100, 150, 16), (2048, 256, 1)])
def test_a_sixteen_bit_tile_streams_its_rows_twice(tpu, m, k, n):
    # fetch + shift 256 + 2m rows + 255 + 255 of drain, then m accumulator rows to Activate.
    fetch = k * n / (34e9 / 700e6)
    fold = SystolicArray(256, 256, "ws").cycles(m, k, n) + 1
    assert single_gemm_cycles(tpu, m, k, n, bits=16) == pytest.approx(fetch + fold + m + m)


def test_every_matrix_multiply_of_a_sixteen_bit_gemm_takes_twice_its_rows(tpu):
    # 2 N blocks × 3 row chunks × 3 K blocks: array active = passes · m · K blocks · N blocks.
    timings = {bits: tpu.time_workload(Workload.of_ops("w", 1, (
        Gemm("g", m=5000, k=600, n=300, bias=False, activation_bits=bits),)), ax.Precision.INT8)
        for bits in (8, 16)}
    assert timings[8].detail.counters.array_active == 5000 * 3 * 2
    assert timings[16].detail.counters.array_active == 2 * 5000 * 3 * 2
    assert timings[16].detail.weight_tiles == timings[8].detail.weight_tiles == 18
    assert timings[16].cycles - timings[8].cycles == pytest.approx(5000 * 3 * 2)
    assert timings[16].layers[0].dram_bytes == timings[8].layers[0].dram_bytes  # weights: int8


def test_one_sixteen_bit_layer_of_lenet5_costs_its_extra_array_cycles(tpu, wide_inputs):
    net = ax.network("lenet5")
    base = tpu.run(net, batch=64)
    wide = tpu.run(wide_inputs(net, {"conv2": 16}), batch=64)
    group = {"conv2", "relu2", "pool2"}  # conv2 and what its Activate absorbs
    for old, new in zip(base.layers, wide.layers, strict=True):
        if old.name not in group:
            assert new.cycles == pytest.approx(old.cycles), old.name
    extra = sum(new.cycles - old.cycles for old, new in zip(base.layers, wide.layers,
                                                            strict=True))
    assert wide.cycles - base.cycles == pytest.approx(extra)
    conv2_old, conv2_new = base.layers[4], wide.layers[4]
    assert conv2_old.detail.counters.array_active == 64 * 100  # rows of conv2's one tile
    assert conv2_new.detail.counters.array_active == 2 * 64 * 100
    # The array-active time doubles; the slower stream hides part of the accumulator
    # drain the 8-bit run waited for (its dependency stalls).
    stalls = base.detail.counters.dependency_stall - wide.detail.counters.dependency_stall
    assert wide.cycles - base.cycles == pytest.approx(64 * 100 - stalls)
    assert 0 < stalls < 64 * 100 / 4
    assert conv2_new.utilization == pytest.approx(64 * 240_000 / (conv2_new.cycles * 65_536))
    assert wide.ops == base.ops


def test_a_sixteen_bit_cnn_reaches_at_most_half_the_8_bit_peak(tpu, write_model, wide_inputs):
    net = ax.network(write_model(CNN))
    r = tpu.run(wide_inputs(net, {f"conv{i}": 16 for i in range(1, 5)}), batch=16)
    array = SystolicArray(256, 256, "ws")
    convs = [layer for layer in r.layers if layer.kind == "gemm"]
    for conv, k in zip(convs, (576, 2304, 2304, 2304), strict=True):
        half = array.mapping_efficiency(1, k, 256) / 2
        assert conv.bound == "compute"
        assert 0.9 * half < conv.utilization <= half
    assert 0.35 * tpu.peak_ops_per_s("int8") < r.achieved_ops_per_s \
        <= 0.5 * tpu.peak_ops_per_s("int8")


def test_sixteen_bit_activations_take_two_bytes_on_pcie_and_in_the_buffer(tpu, wide_inputs):
    net = ax.network("lenet5")
    base = tpu.run(net, batch=1)
    wide = tpu.run(wide_inputs(net, {"conv1": 16}), batch=1)
    assert base.layers[0].dram_bytes == 32 * 32 and wide.layers[0].dram_bytes == 2 * 32 * 32
    # 24 MiB / (input + pool1 outputs): 1 byte each (11,439), 2 bytes each before 16-bit GEMMs.
    everything = wide_inputs(net, {f"{name}": 16 for name in ("conv1", "conv2")})
    assert tpu.run(everything, batch=6000).detail.sub_batch == 5719
    assert 24 * 2**20 // (2 * 1024 + 2 * 1176) == 5719
    assert tpu.run(everything, batch=5719).detail.strategy == "whole batch"


# Cycle-level numerics of int16 activations: two passes of the int8 engine


@pytest.fixture(scope="module")
def small_tpu():
    """A 4×4 array: GEMMs fold over it, and the numba engine runs in microseconds."""
    return ax.machine("tpu-v1", array_rows=4, array_cols=4, numerics="cycle")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_two_passes_of_the_engine_match_the_integer_kernel(small_tpu, data):
    m, k, n = (data.draw(st.integers(1, 7)) for _ in range(3))
    a = data.draw(hnp.arrays(np.int16, (m, k), elements=st.integers(-32768, 32767)))
    b = data.draw(hnp.arrays(np.int8, (k, n), elements=st.integers(-128, 127)))
    np.testing.assert_array_equal(small_tpu._systolic_gemm(a, b), int_matmul(a, b))


@pytest.mark.parametrize("value", [-32768, 32767, -129, 128, 255, 256, -256])
def test_extreme_sixteen_bit_values_are_exact(small_tpu, value):
    rng = np.random.default_rng(abs(value))
    a = np.full((3, 9), value, np.int16)
    a[0, ::2] = ~value  # −1 − value: the other end of the range (−32768 ↔ 32767)
    b = rng.integers(-128, 128, (9, 5)).astype(np.int8)
    b[:, 0], b[:, 1] = -128, 127
    out = small_tpu._systolic_gemm(a, b)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, int_matmul(a, b))


def test_two_passes_wrap_to_int32_like_the_integer_kernel():
    # 5,000 products of −32768 × −128 = 2^22 sum to 5,000 · 2^22 > 2^31: both wrap alike.
    a = np.full((2, 5000), -32768, np.int16)
    b = np.full((5000, 3), -128, np.int8)
    expected = int_matmul(a, b)
    assert expected[0, 0] == np.int64(5000 * 2**22).astype(np.int32)
    np.testing.assert_array_equal(two_pass_gemm(int_matmul, a, b), expected)
    engine = ax.machine("tpu-v1", array_rows=4, array_cols=4)._systolic_gemm(a[:1, :800],
                                                                             b[:800, :1])
    np.testing.assert_array_equal(engine, int_matmul(a[:1, :800], b[:800, :1]))


class CountingArray:
    """Records the operands the engine is handed."""

    def __init__(self, array):
        self.array, self.calls = array, []

    def simulate(self, a, b):
        self.calls.append(a)
        return self.array.simulate(a, b)


def test_int8_activations_take_one_unchanged_pass_and_int16_two():
    tpu = ax.machine("tpu-v1", array_rows=4, array_cols=4, numerics="cycle")
    tpu.array = counting = CountingArray(tpu.array)
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (5, 6)).astype(np.int8)
    b = rng.integers(-128, 128, (6, 3)).astype(np.int8)
    np.testing.assert_array_equal(tpu._systolic_gemm(a, b), int_matmul(a, b))
    assert len(counting.calls) == 1 and counting.calls[0] is a
    wide = a.astype(np.int16) * 200
    np.testing.assert_array_equal(tpu._systolic_gemm(wide, b), int_matmul(wide, b))
    assert [c.dtype for c in counting.calls[1:]] == [np.int8, np.int8]
    np.testing.assert_array_equal(counting.calls[1], wide >> 8)
    np.testing.assert_array_equal(counting.calls[2], (wide & 0xFF) - 128)
    with pytest.raises(AccelsimError, match=r"A holds values in \[-40000, 5\]; .* int8 or int16"):
        tpu._systolic_gemm(np.array([[-40000, 5]]), b[:2])
    with pytest.raises(AccelsimError, match="A must hold integers"):
        tpu._systolic_gemm(a.astype(np.float32), b)


def test_zero_points_are_refused_before_any_timing(monkeypatch):
    net = ax.network("lenet5")
    x, _ = network_data(net, "train")
    q = ax.quantize(net, x[:256], activations="asymmetric")
    tpu = ax.machine("tpu-v1")

    def never(*_):
        raise AssertionError("timed a network it should refuse")

    monkeypatch.setattr(tpu, "time_workload", never)
    with pytest.raises(QuantizationError, match="tpu-v1 cannot run 'lenet5' quantized as "
                                                "per_tensor/asymmetric/max: the TPU v1 matrix "
                                                "unit has no zero-point support"):
        tpu.run(q, batch=8)
    assert ax.machine("gpu-h100").run(q, batch=8, precision="int8").cycles > 0
    assert ax.machine("cpu-skylake-8180").run(q, batch=8).cycles > 0
    symmetric = ax.quantize(net, x[:256])
    assert ax.machine("tpu-v1").run(symmetric, batch=8).cycles > 0


def test_a_network_quantized_with_a_sixteen_bit_layer_runs_end_to_end():
    net = ax.network("lenet5")
    x, _ = network_data(net, "train")
    xt, yt = ax.datasets.load("digits", split="test")
    q = ax.quantize(net, x[:256], activation_bits={"conv2": 16})
    assert q.gemm_input_bits["conv2"] == 16
    fast = ax.machine("tpu-v1").run(q, batch=8, data=(xt[:12], yt[:12]))
    cycle = ax.machine("tpu-v1", numerics="cycle").run(q, batch=8, data=(xt[:12], yt[:12]))
    np.testing.assert_array_equal(cycle.outputs, fast.outputs)
    np.testing.assert_array_equal(cycle.outputs, q.forward(xt[:12]))
    assert fast.layers[4].name == "conv2"
    assert fast.layers[4].detail.counters.array_active == 2 * 8 * 100
    assert fast.layers[1].detail.counters.array_active == 8 * 784
