"""PyTorch's eager CPU runtime as the CPU model runs a network (framework.py): closed forms for
the framework's per-op costs, the convolution kernel, pooling, element-wise threading, the
LSTM's time steps and the two times."""

from __future__ import annotations

import dataclasses
import math

import pytest

import accelsim as ax
from accelsim.ir import (
    CellKind,
    ConvGeometry,
    Gemm,
    Pool,
    PoolKind,
    Recurrence,
    Vector,
    VectorKind,
)
from accelsim.lower import lower
from accelsim.machines.cpu import framework as fw
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE
from accelsim.machines.results import Category
from accelsim.precision import Precision

FP32 = Precision.FP32
ONE = HASWELL.replace(cores=1)  # 8 lanes, 2 FMA pipes, FMA latency 5, efficiency 0.9
TWO = HASWELL.replace(cores=2)
EFF = fw.DIRECT_CONV_EFFICIENCY["jit:avx2"]  # oneDNN's direct kernels' issue rates: 8 lanes
EFF512 = fw.DIRECT_CONV_EFFICIENCY["jit:avx512_core"]  # 16 lanes


def seconds(spec, cycles):
    return cycles / spec.clock_hz


def conv_op(in_channels, out_channels, size=32, batch=1):
    out = size - 4
    geometry = ConvGeometry(in_channels, (size, size), (5, 5), (1, 1), 0, (out, out))
    return Gemm("conv", m=batch * out * out, k=in_channels * 25, n=out_channels,
                conv=geometry)


def test_every_layer_pays_its_module_call_and_op_dispatch():
    net = ax.network("lenet5")
    r = CPU(ONE).run(net, batch=1)
    layer = seconds(ONE, fw.MODULE_CALL_CYCLES + fw.ATEN_OP_CYCLES)
    # 3 convolutions (with biases; the third reads 16 channels, a blocked copy of its input
    # on 8 lanes), 4 ReLUs, 2 max-pools, 2 linears (flatten is a view: no op)
    convs = 3 * (fw.CONV_MODULE_CYCLES + fw.CONV_SETUP_CYCLES + fw.CONV_BIAS_CYCLES) \
        + fw.CONV_BLOCKED_INPUT_SETUP_CYCLES
    expected = 11 * layer + seconds(ONE, convs + 2 * fw.LINEAR_EXTRA_CYCLES)
    assert r.time[Category.FRAMEWORK] == pytest.approx(expected)
    by_name = {op.name: op for op in r.layers}
    assert by_name["relu1"].time[Category.FRAMEWORK] == pytest.approx(layer)
    assert by_name["relu1"].detail.dispatches == 1
    # the framework's cycles run at the host's clock
    slow = CPU(ONE.replace(clock_hz=ONE.clock_hz / 2)).run(net, batch=1)
    assert slow.time[Category.FRAMEWORK] == pytest.approx(2 * expected)
    # a host whose framework code takes 1.5× the reference's cycles: the host work only
    heavy = CPU(ONE.replace(framework_cycles_scale=1.5)).run(net, batch=1)
    assert heavy.time[Category.FRAMEWORK] == pytest.approx(1.5 * expected)
    assert heavy.device_seconds == pytest.approx(r.device_seconds)


def test_device_time_is_end_to_end_less_the_framework():
    for name, batch in (("lenet5", 16), ("lstm-char", 4)):
        r = CPU(TWO).run(ax.network(name), batch=batch)
        assert 0 < r.device_seconds < r.seconds
        assert r.seconds - r.device_seconds == pytest.approx(r.time[Category.FRAMEWORK])
        assert r.time.seconds == pytest.approx(r.seconds)


def test_convolution_setup_is_per_call_and_by_the_reorders_it_makes():
    """The same host cycles at every batch; a third reorder (the input's, from 8 channels
    on 8 lanes) costs CONV_BLOCKED_INPUT_SETUP_CYCLES more; a bias CONV_BIAS_CYCLES."""
    call = fw.MODULE_CALL_CYCLES + fw.ATEN_OP_CYCLES + fw.CONV_MODULE_CYCLES \
        + fw.CONV_SETUP_CYCLES + fw.CONV_BIAS_CYCLES
    for op, blocked in ((conv_op(1, 6), False), (conv_op(7, 6, batch=64), False),
                        (conv_op(8, 6), True), (conv_op(16, 120, size=5, batch=64), True)):
        r = fw.time_op(ONE, op, FP32)
        assert r.time[Category.FRAMEWORK] == pytest.approx(seconds(
            ONE, call + blocked * fw.CONV_BLOCKED_INPUT_SETUP_CYCLES))
    no_bias = dataclasses.replace(conv_op(1, 6), bias=False)
    assert fw.time_op(ONE, no_bias, FP32).time[Category.FRAMEWORK] == pytest.approx(
        seconds(ONE, call - fw.CONV_BIAS_CYCLES))


def test_convolution_pads_channels_to_vectors_and_waits_on_fma_latency():
    six, eight = fw.time_op(ONE, conv_op(1, 6), FP32), fw.time_op(ONE, conv_op(1, 8), FP32)
    assert six.time[Category.COMPUTE] == pytest.approx(eight.time[Category.COMPUTE])
    # AVX2 kernel: 3 output pixels × 1 channel vector = 3 accumulators against Haswell's FMA
    # latency of 5 cycles: 0.6 vector FMAs per cycle, at the sustained efficiency
    fmas = 28 * 28 * 25 * 1
    assert six.time[Category.COMPUTE] == pytest.approx(
        seconds(ONE, fmas / (3 / 5 * EFF)))
    # a Zen 3 or Skylake core (latency 4): 0.75 per cycle
    zen = fw.time_op(ONE.replace(fma_latency_cycles=4), conv_op(1, 6), FP32)
    assert zen.time[Category.COMPUTE] == pytest.approx(
        seconds(ONE, fmas / (3 / 4 * EFF)))
    # 32 channels: 4 vectors, 12 accumulators (≥ 5 × 2 in flight), issue-bound at 2 FMA pipes
    wide = fw.time_op(ONE, conv_op(1, 32), FP32)
    assert wide.time[Category.COMPUTE] == pytest.approx(
        seconds(ONE, 4 * fmas / (2 * EFF)))
    # a shorter FMA latency lifts the narrow kernel to the issue bound too
    quick = fw.time_op(ONE.replace(fma_latency_cycles=1), conv_op(1, 6), FP32)
    assert quick.time[Category.COMPUTE] == pytest.approx(
        seconds(ONE, fmas / (2 * EFF)))


def test_avx512_kernel_fills_its_registers_with_output_pixels():
    wide = HASWELL.replace(cores=1, simd_lanes=16)
    assert fw.conv_kernel(wide).name == "jit:avx512_core"
    r = fw.time_op(wide, conv_op(1, 6), FP32)  # ur_w = min(28, 31 // 2) = 15: issue-bound
    assert r.time[Category.COMPUTE] == pytest.approx(
        seconds(wide, 28 * 28 * 25 / (2 * EFF512)))


def test_pooling_costs_cycles_per_window_element_and_splits_planes():
    op = Pool("pool", PoolKind.MAX, (2, 2), (2, 2), batch=4, channels=6, in_hw=(28, 28),
              out_hw=(14, 14))
    one = fw.time_op(ONE, op, FP32)
    per_plane = 14 * 14 * 4 * fw.POOL_CYCLES_PER_WINDOW_ELEMENT
    assert one.time[Category.ELEMENTWISE] == pytest.approx(seconds(ONE, 24 * per_plane))
    assert one.time[Category.LATENCY] == 0
    two = fw.time_op(TWO, op, FP32)
    assert two.time[Category.ELEMENTWISE] == pytest.approx(seconds(TWO, 12 * per_plane))
    # one OpenMP parallel region of two threads
    assert two.time[Category.LATENCY] == pytest.approx(seconds(
        TWO, TWO.fork_join_cycles + 2 * TWO.fork_join_cycles_per_thread))
    assert two.detail.parallel_regions == 1


def test_elementwise_ops_thread_above_atens_grain():
    small = Vector("relu", VectorKind.RELU, fw.ATEN_GRAIN_ELEMENTS)
    large = Vector("relu", VectorKind.RELU, fw.ATEN_GRAIN_ELEMENTS * 4)
    assert fw.time_op(TWO, small, FP32).detail.threads == 1
    assert fw.time_op(TWO, small, FP32).time[Category.LATENCY] == 0
    assert fw.time_op(TWO, large, FP32).detail.threads == 2


def test_outputs_above_the_mmap_threshold_fault_every_page():
    n = ONE.fresh_output_bytes // 4 + 1024  # one fresh 4-byte output over the threshold
    relu = fw.time_op(ONE, Vector("relu", VectorKind.RELU, n), FP32)
    below = fw.time_op(ONE, Vector("relu", VectorKind.RELU, n - 2048), FP32)
    faults = relu.time[Category.MEMORY_STALL] - below.time[Category.MEMORY_STALL]
    assert faults == pytest.approx(n * 4 / 4096 * ONE.page_fault_s, rel=0.01)


@pytest.mark.parametrize("threads", [1, 2, 16])
def test_threads_fault_pages_with_the_universal_scalability_laws_contention(threads):
    """t threads fault t / (1 + σ(t − 1)) times as fast as one: 2 threads 1.5× at σ = 1/3,
    16 at most 1/σ; no contention, t×."""
    pages = 1000
    one = fw.pages_s(ONE, pages * 4096, 1)
    assert one == pytest.approx(pages * ONE.page_fault_s)
    sigma = ONE.page_fault_contention
    assert fw.pages_s(ONE, pages * 4096, threads) == pytest.approx(
        one * (1 + sigma * (threads - 1)) / threads)
    assert one / fw.pages_s(ONE, pages * 4096, threads) < min(threads, 1 / sigma) + 1e-9
    free = ONE.replace(page_fault_contention=0.0)
    assert fw.pages_s(free, pages * 4096, threads) == pytest.approx(one / threads)


def lstm_run(spec, steps):
    return CPU(spec).run(ax.network("lstm-char"), batch=4, seq_len=steps)


@pytest.mark.parametrize("spec", [ONE, TWO])
def test_lstm_pays_its_setup_once_and_its_loop_per_step(spec):
    short, long = lstm_run(spec, 8), lstm_run(spec, 16)
    gates = [next(op for op in r.layers if op.name == "lstm.gates") for r in (short, long)]
    # setup and weight reorders once per call, whatever the sequence length
    assert gates[0].time[Category.FRAMEWORK] == pytest.approx(
        gates[1].time[Category.FRAMEWORK])
    assert gates[0].time[Category.FRAMEWORK] == pytest.approx(
        seconds(spec, fw.MODULE_CALL_CYCLES + fw.ATEN_OP_CYCLES + fw.RNN_SETUP_CYCLES))
    # each step: its loop and (threaded) oneDNN's parallel regions: on 2 threads the 8 column
    # blocks of 16 hidden units keep the 4 rows whole, so the cell runs unfused, a region of
    # its own; two more regions a call for the weight reorders
    region = fw.onednn_region_s(spec, spec.cores)
    assert region == (0.0 if spec.cores == 1 else pytest.approx(
        seconds(spec, fw.ONEDNN_REGION_CYCLES + 2 * spec.fork_join_cycles_per_thread)))
    per_step = seconds(spec, fw.RNN_STEP_CYCLES) + 2 * region
    latency = [g.time[Category.LATENCY] for g in gates]
    assert latency[1] - latency[0] == pytest.approx(8 * per_step)
    assert latency[0] == pytest.approx(8 * per_step + 2 * region)
    assert gates[0].detail.parallel_regions == (0 if spec.cores == 1 else 8 * 2 + 2)
    assert gates[1].time[Category.COMPUTE] == pytest.approx(2 * gates[0].time[Category.COMPUTE])
    # the fused cell: sigmoid on 3, tanh on 2 of the 4 × 128 gate values of each sample
    sigmoid = next(op for op in short.layers if op.name == "lstm.sigmoid")
    threads = gates[0].detail.threads
    vectors = math.ceil(3 * 4 * 128 / threads) / spec.simd_lanes
    derate = fw.derate(spec, threads)
    assert sigmoid.time[Category.ELEMENTWISE] == pytest.approx(
        8 * seconds(spec, vectors * spec.transcendental_cycles) * derate)


@pytest.mark.parametrize("batch, cores, expected", [
    (64, 28, (28, 3 / 64)),  # one row block (64 rows stay whole): oneDNN's loop over 64 rows
    (64, 16, (16, 4 / 64)),  # 64 items of 4 rows: the cell fused into each, 4 items a thread
    (1, 28, (1, 1.0)),  # batch 1: the unfused cell's loop has one row
])
def test_the_lstm_cell_runs_where_onednn_runs_it(batch, cores, expected):
    """Fused into the items, the cell splits as they do; unfused (one row block), oneDNN runs
    it as its own loop over the batch rows (parallel_nd over mb), on every core rows allow."""
    rec = next(layer.recurrence for layer in lower(ax.network("lstm-char"), batch).layers
               if layer.recurrence is not None)
    call = fw.lstm_call(SKYLAKE.replace(cores=cores), rec)
    assert call.cell_split(cores) == (expected[0], pytest.approx(expected[1]))


def test_lstm_gemm_keeps_its_pace_on_every_core():
    """oneDNN's brgemm GEMMs are not slowed by the host's all-core derating (the Zen 4 host's
    LSTMs ran 2.0-2.1× faster on 2 threads where it was 1.5); the fused cell's element-wise
    loop is."""
    busy = TWO.replace(fma_efficiency=0.8, fma_efficiency_all_cores=0.4)
    steady = TWO.replace(fma_efficiency=0.8, fma_efficiency_all_cores=0.8)
    assert fw.derate(busy, 2) == 2.0
    runs = [lstm_run(spec, 8) for spec in (busy, steady)]
    gates = [next(op for op in r.layers if op.name == "lstm.gates") for r in runs]
    assert gates[0].time[Category.COMPUTE] == gates[1].time[Category.COMPUTE]
    cells = [next(op for op in r.layers if op.name == "lstm.sigmoid") for r in runs]
    assert cells[0].seconds == pytest.approx(2 * cells[1].seconds)


def test_rnn_and_gru_run_atens_native_loop_per_step(write_model):
    """PyTorch 2.13 runs nn.RNN and nn.GRU through ATen's native loop (oneDNN's RNN primitive
    for nn.LSTM only): the input's linear once per call, then per step an addmm and the cell's
    ATen ops, each a C++ dispatch."""
    gru = ax.network(write_model("""
        name = "gru"
        input_shape = [8]
        sequence = true
        [[layers]]
        name = "gru"
        type = "gru"
        hidden_size = 8
    """), weights="none")
    for net, kind, hidden in ((ax.network("rnn-hello"), "rnn", None), (gru, "gru", 8)):
        short, long = (CPU(ONE).run(net, batch=2, seq_len=steps) for steps in (4, 8))
        cells = [next(op for op in r.layers if op.kernel.startswith(f"aten {kind} cell, addmm"))
                 for r in (short, long)]
        per_step = fw.ATEN_CELLS[CellKind(kind)]
        step_host = seconds(ONE, fw.ATEN_CPP_OP_CYCLES * (per_step.kernels + 1)
                            + fw.ATEN_VIEW_OP_CYCLES * per_step.views)
        # four more steps: four more steps' dispatches, nothing else of the framework's
        assert cells[1].time[Category.FRAMEWORK] - cells[0].time[Category.FRAMEWORK] == \
            pytest.approx(4 * step_host)
        assert cells[0].time[Category.FRAMEWORK] == pytest.approx(
            seconds(ONE, fw.MODULE_CALL_CYCLES + fw.ATEN_OP_CYCLES + fw.RNN_FORWARD_CYCLES
                    + fw.ATEN_VIEW_OP_CYCLES * fw.ATEN_RNN_FIXED_VIEWS
                    + fw.ATEN_CPP_OP_CYCLES * 4) + 4 * step_host)
        # the per-step addmm: the hidden state's GEMM through MKL, four more of them
        rec = next(layer.recurrence for layer in lower(net, batch=2, seq_len=8).layers
                   if layer.recurrence is not None)
        step = fw.addmm_s(ONE, 2, rec.hidden, rec.gates.n, Precision.FP32)
        pre = [fw.addmm_s(ONE, 2 * steps, rec.gates.k - rec.hidden, rec.gates.n,
                          Precision.FP32) for steps in (4, 8)]
        assert cells[1].time[Category.COMPUTE] - cells[0].time[Category.COMPUTE] == \
            pytest.approx(4 * step[0] + pre[1][0] - pre[0][0])
        assert hidden is None or rec.hidden == hidden


# ---- grouped and depthwise convolutions, global pooling, the GRU ---------------------------


def grouped_op(channels, groups, out_channels=None, size=16, batch=2):
    out_channels = out_channels or channels
    geometry = ConvGeometry(channels, (size, size), (3, 3), (1, 1), (1, 1, 1, 1), (size, size),
                            groups=groups)
    return Gemm("conv", m=batch * size * size, k=channels // groups * 9,
                n=out_channels // groups, conv=geometry, groups=groups)


def test_a_depthwise_convolution_runs_onednns_depthwise_kernel():
    op = grouped_op(32, 32)
    result = fw.convolution(ONE, op, op.conv, FP32)
    assert result.kernel.startswith("jit_uni_dw direct")
    vectors = math.ceil(32 / ONE.simd_lanes)  # 4 channel vectors of 8
    fmas = op.m * 9 * vectors
    # avx2 blocking (jit_uni_dw init_conf): 4 pixels × 3 channel vectors = 12 accumulators,
    # more than the 2 pipes × 5 cycles of FMA latency: both pipes busy
    assert fw.DW_BLOCKING[8] == (4, 3)
    rate = min(ONE.fma_pipes, 4 * 3 / ONE.fma_latency_cycles) * EFF
    assert result.time[Category.COMPUTE] == pytest.approx(seconds(ONE, fmas / rate))
    dense = fw.convolution(ONE, conv_op(32, 32, size=18, batch=2), conv_op(32, 32, 18, 2).conv,
                           FP32)
    assert result.time[Category.COMPUTE] < dense.time[Category.COMPUTE] / 10  # 9 taps, not 800


def test_a_grouped_convolution_runs_the_direct_kernel_per_group():
    op = grouped_op(64, 4)  # 4 groups of 16 channels: 2 vectors each on 8 lanes
    result = fw.convolution(ONE, op, op.conv, FP32)
    # avx2 blocking: 3 pixels × 2 channel vectors = 6 accumulators, under the 2 pipes × 5
    # cycles of FMA latency: 1.2 FMAs a cycle, where the dense layer's 3 × 4 keep both busy
    fmas = op.m * op.k * 2 * 4
    rate = min(ONE.fma_pipes, 6 / ONE.fma_latency_cycles) * EFF
    assert result.time[Category.COMPUTE] == pytest.approx(seconds(ONE, fmas / rate))


def test_global_average_pooling_is_a_vectorized_sum_per_plane():
    op = Pool("gap", PoolKind.AVG, (7, 7), (7, 7), 2, 64, (7, 7), (1, 1))
    result = fw.pool(ONE, op, FP32)
    per_plane = math.ceil(49 / ONE.simd_lanes) + 1
    assert result.time[Category.ELEMENTWISE] == pytest.approx(
        seconds(ONE, 2 * 64 * per_plane * ONE.vector_cycles(VectorKind.ADD)))


# ---- PyTorch's convolution backend rule and ATen's slow_conv2d ------------------------------


def square_conv(channels, out_channels, size, kernel, batch=1, stride=1):
    out = (size - kernel) // stride + 1
    geometry = ConvGeometry(channels, (size, size), (kernel, kernel), (stride, stride),
                            (0, 0, 0, 0), (out, out))
    return Gemm("conv", m=batch * out * out, k=channels * kernel * kernel, n=out_channels,
                bias=False, conv=geometry)


def test_pytorchs_rule_sends_single_threaded_1x1_and_small_batch1_convolutions_to_aten():
    one_by_one = square_conv(64, 64, 56, 1)
    assert not fw.uses_onednn(one_by_one, one_by_one.conv, 1)
    assert fw.uses_onednn(one_by_one, one_by_one.conv, 2)  # multi-threaded: oneDNN
    big_batch = square_conv(64, 64, 56, 1, batch=16)
    assert fw.uses_onednn(big_batch, big_batch.conv, 1)
    strided = square_conv(64, 64, 56, 1, stride=2)
    assert fw.uses_onednn(strided, strided.conv, 1)
    small = square_conv(16, 16, 32, 3)  # 16 × 32 × 32 = 16,384 input values at batch 1
    assert not fw.uses_onednn(small, small.conv, 2)
    large = square_conv(32, 16, 32, 3)  # 32,768 > 20,480
    assert fw.uses_onednn(large, large.conv, 2)
    five = square_conv(1, 6, 32, 5)  # filters larger than 3 on both sides: oneDNN
    assert fw.uses_onednn(five, five.conv, 1)


def test_slow_conv2d_is_one_blas_gemm_per_image_without_onednns_setup():
    op = square_conv(64, 64, 56, 1)
    r = fw.convolution(ONE, op, op.conv, FP32)
    assert r.kernel.startswith("slow_conv2d")
    # ATen's GEMM is MKL's too, in the other operand order: at SLOW_CONV_MKL_SHARE of its rate
    kernel, _, _ = fw.addmm_s(fw.slow_conv_core(ONE), 56 * 56, 64, 64, FP32)
    linear_rate, _, _ = fw.addmm_s(ONE, 56 * 56, 64, 64, FP32)
    assert r.time[Category.COMPUTE] == pytest.approx(kernel)
    assert kernel == pytest.approx(linear_rate / fw.SLOW_CONV_MKL_SHARE)
    assert r.time[Category.FRAMEWORK] == pytest.approx(
        seconds(ONE, fw.MODULE_CALL_CYCLES + fw.ATEN_OP_CYCLES + fw.CONV_MODULE_CYCLES
                + fw.SLOW_CONV_CYCLES))
    two = square_conv(64, 64, 56, 1, batch=2)
    r2 = fw.convolution(TWO, two, two.conv, FP32)  # 2 threads: oneDNN's 1x1 path
    assert not r2.kernel.startswith("slow_conv2d")


def test_a_forward_s_activations_are_every_op_output():
    workload = lower(ax.network("lenet5"), batch=16)
    # conv1 6×28², relu1, pool1 6×14², conv2 16×10², relu2, pool2 16×5², conv3 120, relu3,
    # fc1 80, relu4, fc2 10: floats per sample
    per_sample = 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 \
        + 2 * 120 + 2 * 80 + 10
    assert fw.activation_bytes(workload) == 16 * per_sample * 4


def test_outputs_are_cold_once_a_forward_overflows_the_l3_share():
    share = ONE.l3_bytes * fw.RESIDENT_SHARE
    assert not fw.outputs_cold(ONE, int(share)) and fw.outputs_cold(ONE, int(share) + 1)
    out = 4 * 2**20  # a ReLU over 2**20 floats: 4 MiB read, 4 MiB written
    dram = ONE.dram_bytes_per_s / ONE.clock_hz
    assert fw.traffic_s(ONE, out, out, 1, cold=False) == pytest.approx(
        fw.stream_s(ONE, 2 * out, 1))
    # cold: the read from where it lives, the write a read for ownership and a write-back
    assert fw.traffic_s(ONE, out, out, 1, cold=True) == pytest.approx(
        fw.stream_s(ONE, out, 1) + seconds(ONE, 2 * out / dram))
    relu = Vector("relu", VectorKind.RELU, 2**20)
    assert fw.elementwise(ONE, relu, FP32, cold=True).seconds > \
        fw.elementwise(ONE, relu, FP32).seconds
    # a fresh mapping (above fresh_output_bytes) is zeroed into the caches: no cold write
    huge = 64 * 2**20
    assert fw.traffic_s(ONE, huge, huge, 1, cold=True) == fw.traffic_s(ONE, huge, huge, 1, False)


def test_a_network_too_big_for_the_cache_writes_cold_outputs():
    net = ax.network("lenet5")
    roomy = ONE.replace(l3_bytes=2**34)  # every forward's activations fit
    small = CPU(ONE).run(net, batch=1024)
    assert fw.outputs_cold(ONE, fw.activation_bytes(lower(net, batch=1024)))
    assert small.seconds > CPU(roomy).run(net, batch=1024).seconds
    # at batch 1 the activations fit either way: the same time
    assert CPU(ONE).run(net, batch=1).seconds == pytest.approx(CPU(roomy).run(net, batch=1).seconds)


# nn.LSTM(input, hidden) at (batch, steps): the scratchpad PyTorch 2.13 allocated on the Zen 4
# host and the bytes of it resident when it was freed (an LD_PRELOAD malloc logger, mincore).
TRACED_SCRATCHPADS = {(96, 128, 256, 64): (34_755_336, 8_798_208),
                      (96, 128, 384, 64): (52_130_568, 13_197_312),
                      (64, 256, 128, 64): (35_951_448, 8_790_016),
                      (128, 128, 512, 32): (35_279_624, 9_207_808),
                      (256, 512, 64, 64): (35_820_296, 8_785_920)}


def lstm_recurrence(inputs, hidden, batch, steps):
    gates = Gemm("gates", batch, inputs + hidden, 4 * hidden, count=steps)
    return Recurrence(CellKind.LSTM, steps, hidden, gates, ())


@pytest.mark.parametrize("shape", sorted(TRACED_SCRATCHPADS))
def test_the_lstm_scratchpad_and_its_touched_pages_are_the_traced_ones(shape):
    """Its size within 4% and the pages a call writes within 4% of the traced ones; above 32
    MiB every call maps it fresh and faults those pages."""
    rec = lstm_recurrence(*shape)
    size, touched = TRACED_SCRATCHPADS[shape]
    assert fw.lstm_scratchpad_bytes(rec) == pytest.approx(size, rel=0.04)
    assert fw.lstm_scratchpad_touched_bytes(rec) == pytest.approx(touched, rel=0.04)
    assert fw.lstm_scratchpad_fault_s(ONE, rec, 2) == pytest.approx(
        fw.pages_s(ONE, fw.lstm_scratchpad_touched_bytes(rec), 2))


def test_an_lstm_scratchpad_within_the_mmap_threshold_faults_nothing_per_call():
    """The char LSTM at batch 128 (17 MB) comes from the heap: no fresh pages each call."""
    rec = lstm_recurrence(96, 128, 128, 64)
    assert fw.lstm_scratchpad_bytes(rec) < ONE.fresh_output_bytes
    assert fw.lstm_scratchpad_fault_s(ONE, rec, 1) == 0.0
