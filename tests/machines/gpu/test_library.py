"""The library layer of the GPU model: PyTorch's kernels, cuDNN's and cuBLASLt's choices, the
persistent LSTM and the eager timeline — closed forms and hand-worked cases."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import pytest

import accelsim as ax
from accelsim.ir import Gemm, Pool, PoolKind
from accelsim.machines.gpu.blas import LARGEK_TILE, addmm_kernels, linear_path
from accelsim.machines.gpu.conv import CONV_RULES, conv_rule, staged_spec
from accelsim.machines.gpu.core import GPU
from accelsim.machines.gpu.elementwise import (
    BROADCAST,
    FILL,
    POOL,
    cast_seconds,
    copy_seconds,
    pool_cost,
    stream_kernel,
)
from accelsim.machines.gpu.gemm import tiled_kernel
from accelsim.machines.gpu.kernels import TileConfig, warp_program
from accelsim.machines.gpu.launches import FrameworkCall, Kernel, eager_seconds
from accelsim.machines.gpu.recurrent import (
    persistent_ctas,
    persistent_step_cycles,
    recurrence_kernels,
    recurrent_gemm,
)
from accelsim.machines.gpu.runtime import PYTORCH_EAGER
from accelsim.machines.gpu.spec import GTX8800, H200, K80, V100
from accelsim.machines.results import Category
from accelsim.nn.loader import parse_network
from accelsim.precision import Precision

FP32, FP16 = Precision.FP32, Precision.FP16
LSTM_TOML = """
name = "lstm-bench"
input_shape = [{features}]
sequence = true
seq_len = {steps}
[[layers]]
name = "lstm"
type = "lstm"
hidden_size = {hidden}
"""


def recurrence(batch: int, steps: int, hidden: int = 128, features: int = 96):
    doc = tomllib.loads(LSTM_TOML.format(features=features, steps=steps, hidden=hidden))
    net = parse_network(doc, Path("lstm-bench.toml"))
    layer = next(x for x in ax.lower(net, batch).layers if x.recurrence is not None)
    return layer.recurrence


def test_eager_timeline_by_hand():
    """Host dispatch 10 µs per copy call, 4 per op, 1 per launch; device kernels queue."""
    dispatch = {"copy": 10.0, "op": 4.0}
    k = [Kernel(f"k{s}", s, Category.ELEMENTWISE) for s in (20.0, 2.0, 3.0)]
    calls = [FrameworkCall("copy", copy_s=5.0),  # host 10, copy to 15 (host and device)
             FrameworkCall("op", (k[0],)),  # host 19, launch at 20: device runs 20-40
             FrameworkCall("op", k[1:]),  # host 24, launches at 25, 26: device 40-42, 42-45
             FrameworkCall("copy", copy_s=5.0)]  # host 36, waits for 45, copy to 50
    assert eager_seconds(calls, dispatch, 1.0) == pytest.approx(50.0)
    # CPU work holds the host only: the device idles behind it
    cast = [FrameworkCall("copy", host_work_s=7.0, copy_s=5.0), *calls[1:]]
    assert eager_seconds(cast, dispatch, 1.0) == pytest.approx(57.0)
    # with short kernels the host sets the pace: 10+5 + 4+1 + 4+1+1 + 10+5
    short = [FrameworkCall("copy", copy_s=5.0),
             FrameworkCall("op", (Kernel("a", 1.0, Category.ELEMENTWISE),)),
             FrameworkCall("op", (Kernel("b", 0.5, Category.ELEMENTWISE),) * 2),
             FrameworkCall("copy", copy_s=5.0)]
    assert eager_seconds(short, dispatch, 1.0) == pytest.approx(41.0)


def test_persistent_lstm_step_closed_form():
    clock = H200.clock_hz
    # batch 64, fp32: 16 CTAs of 8 hidden units; after the grid barrier (1,230 cycles) the
    # chain (two DRAM trips of 820, 4 gates × 128 dependent FMAs of 4 cycles: 3,688 cycles)
    # hides the math (64·4·8·128 / 128 = 2,048)
    rec = recurrence(64, 10)
    assert persistent_ctas(rec, FP32, H200) == 16
    assert persistent_step_cycles(rec, FP32, H200) == pytest.approx(1230 + 3688)
    # batch 1,024: the math (32,768 cycles on the SM's 128 FP32 lanes) is the step
    assert persistent_step_cycles(recurrence(1024, 10), FP32, H200) == \
        pytest.approx(1230 + 32768)
    # fp16: 4 gates × 8 MMAs in the chain; 2,048 MACs a cycle
    assert persistent_step_cycles(rec, FP16, H200) == pytest.approx(1230 + 1640 + 4 * 8 * 4)
    # one CTA (3 hidden units): a CTA barrier, the state in shared memory
    tiny = recurrence(1, 4, hidden=3, features=4)
    assert persistent_ctas(tiny, FP32, H200) == 1
    assert persistent_step_cycles(tiny, FP32, H200) == pytest.approx(20 + 2 * 30 + 4 * 3 * 4)
    (kernel,) = recurrence_kernels(rec, FP32, H200)
    assert kernel.seconds == pytest.approx(H200.kernel_launch_s + H200.cold_start_s
                                           + 10 * 4918 / clock)


def test_persistent_lstm_is_linear_in_steps():
    times = [recurrence_kernels(recurrence(64, s), FP32, H200)[0].seconds
             for s in (8, 16, 32, 64)]
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert steps[1] == pytest.approx(2 * steps[0]) and steps[2] == pytest.approx(4 * steps[0])


def test_weights_too_big_for_chip_run_a_gemm_and_a_cell_per_step():
    # hidden 1,056: 132 CTAs, each slice 4 × 8 × 1,056 fp32 = 132 KiB, over half the
    # registers (128 KiB); in fp16 it is half that and fits
    rec = recurrence(64, 5, hidden=1056)
    assert persistent_ctas(rec, FP32, H200) == 0 and persistent_ctas(rec, FP16, H200) == 132
    kernels = recurrence_kernels(rec, FP32, H200)
    assert len(kernels) == 10 and kernels[1].name == "fused_lstm_cell"
    assert kernels[0].gemm == recurrent_gemm(rec, FP32, H200)  # cuDNN's standard step
    # hidden 2,048 needs 256 CTAs: more than the SMs, whatever the precision
    assert persistent_ctas(recurrence(64, 5, hidden=2048), FP16, H200) == 0


def test_gpus_without_grid_sync_run_the_recurrence_per_step():
    """cuDNN's persistent RNN needs compute capability 6.0 (grid-wide sync): a Volta runs the
    char LSTM's 16 CTAs persistently; a Kepler K80 and a G80 run a GEMM and a cell kernel a
    step, though the weight slice (16 KiB) fits their registers."""
    rec = recurrence(64, 10)
    assert persistent_ctas(rec, FP32, V100) == 16
    for spec in (K80, GTX8800, H200.replace(has_grid_sync=False)):
        assert persistent_ctas(rec, FP32, spec) == 0
        kernels = recurrence_kernels(rec, FP32, spec)
        assert [k.name for k in kernels[:2]] * 10 == [k.name for k in kernels]
        assert kernels[1].name == "fused_lstm_cell"
    assert persistent_ctas(rec, FP32, K80.replace(has_grid_sync=True, sm_count=16)) == 16


def test_step_loop_runs_two_addmm_and_a_cell_kernel_per_step():
    loop = GPU(H200, PYTORCH_EAGER.replace(recurrent_step_loop=True))
    net = ax.network("lstm-char")
    wl = ax.lower(net, 64, seq_len=8)
    calls = {i.op.name: i.calls for i in loop.framework_calls(wl, FP32)}["lstm.gates"]
    cells = [c for c in calls if c.host == "cell"]
    assert len(cells) == 8 and [c.host for c in calls].count("op") == 3  # h0, c0, stack
    names = [k.name for k in cells[0].kernels]
    assert names[-1] == "_thnn_fused_lstm_cell" and len(names) == 3  # two fused GEMMs
    r = loop.run(net, batch=64, seq_len=8)
    # its read-out reads the stacked (contiguous) outputs: addmm, no separate bias add
    readout = next(x for x in r.layers if x.name == "readout")
    assert readout.detail.kernels[-1] == "cublasLt::epilogue"


def test_conv_heuristic_table():
    net = ax.network("lenet5")

    def rule(batch: int, layer: str, precision: Precision = FP32) -> str:
        op = next(o for o in ax.lower(net, batch).ops if o.name == layer)
        return conv_rule(op, batch, precision, H200).kernel

    assert rule(64, "conv1") == rule(4096, "conv1") == "implicit_convolve_sgemm"
    assert rule(64, "conv2") == rule(64, "conv3") == "xmma_fprop 32x32x8"
    assert rule(4096, "conv2") == "xmma_fprop 128x32x8"
    assert rule(4096, "conv3") == "xmma_fprop 256x64x8"
    assert rule(16, "conv3") == "implicit_convolve_sgemm"
    assert rule(64, "conv2", FP16) == "xmma_fprop tensorcore 64x32x32"
    assert all(r.tile.math_issue_slots == 2 for r in CONV_RULES if "xmma_fprop 3" in r.kernel)


def test_implicit_gemm_issues_two_slots_per_ffma():
    tile = TileConfig("t", 64, 64, 8, 1, 4, 3, 121)
    twice = TileConfig("t2", 64, 64, 8, 1, 4, 3, 121, math_issue_slots=2)
    one = warp_program(tile, FP32, 32.0, 1.0, True, 32, True)
    two = warp_program(twice, FP32, 32.0, 1.0, True, 32, True)
    assert two.math == 2 * one.math and two.math_cycles == one.math_cycles / 2
    assert two.math * two.math_cycles == one.math * one.math_cycles  # same pipe time
    slow = tiled_kernel(twice, 1, 4096, 400, 128, H200, FP32)
    fast = tiled_kernel(tile, 1, 4096, 400, 128, H200, FP32)
    assert slow is not None and fast is not None and slow.seconds > 1.3 * fast.seconds


def test_largek_kernel_keeps_one_slice_in_flight():
    spec = staged_spec(H200)
    deep = TileConfig("deep", 32, 32, 8, 1, 2, 2, 64)
    one = tiled_kernel(LARGEK_TILE, 1, 64, 120, 80, spec, FP32)
    three = tiled_kernel(deep, 1, 64, 120, 80, spec, FP32)
    assert one is not None and three is not None and one.seconds > 1.5 * three.seconds


def test_cublaslt_paths():
    assert linear_path(64, 80, FP32) == "splitk-atomic"
    assert linear_path(16, 80, FP32) == linear_path(4096, 80, FP32) == "fused"
    assert linear_path(64, 512, FP32) == "fused"
    names = [k.name for k in addmm_kernels(Gemm("fc", m=64, k=120, n=80), FP32, H200)]
    assert names == ["Memset", "scal_kernel", "sgemm_largek_lds64", "cublasLt::epilogue"]


def test_streaming_kernels_closed_forms():
    s = H200
    lanes = s.fp32_lanes_per_sm * s.sm_count * s.clock_hz
    # tiny: the launch and the family's floor
    tiny = stream_kernel(FILL, 1, 4, s)
    assert tiny.seconds == pytest.approx(s.kernel_launch_s + s.l2_latency_cycles / s.clock_hz)
    # a broadcast add of 19.3 M elements issues 100 instructions each (b4096's bias add)
    n = 4096 * 6 * 28 * 28
    add = stream_kernel(BROADCAST, n, 8 * n, s)
    assert add.bound == "compute"
    floor = (BROADCAST.chain_cycles + 2 * s.dram_latency_cycles) / s.clock_hz  # 154 MB: DRAM
    assert add.seconds == pytest.approx(s.kernel_launch_s + floor + n * 100 / lanes)
    # beyond L2 a stream runs at the measured copy bandwidth
    big = stream_kernel(FILL, 1, 10**9, s)
    assert big.seconds - tiny.seconds == pytest.approx(
        1e9 / (s.dram_bytes_per_s * s.dram_achievable_fraction)
        + (s.dram_latency_cycles - s.l2_latency_cycles) / s.clock_hz, rel=1e-6)


def test_max_pool_writes_its_indices():
    pool = Pool("p", PoolKind.MAX, (2, 2), (2, 2), 4096, 6, (28, 28), (14, 14))
    cost = pool_cost(pool, FP32, H200)
    outputs = 4096 * 6 * 14 * 14
    assert cost.bytes_moved == 4 * outputs * 4 + outputs * 4 + outputs * 8
    lanes = H200.fp32_lanes_per_sm * H200.sm_count * H200.clock_hz
    issue = (outputs * POOL.instructions_per_element + pool.window_ops) / lanes
    floor = POOL.floor_cycles(H200.dram_latency_cycles) / H200.clock_hz  # 155 MB: DRAM
    assert cost.seconds == pytest.approx(H200.kernel_launch_s + floor + issue)


def test_host_copies_and_casts():
    s = PYTORCH_EAGER  # the host's rates are the runtime's
    small, large = 2**20, 2**28  # 1 MiB stays in the host's cache, 256 MiB does not
    memory, cached = s.host_memory_bytes_per_s, s.host_cached_bytes_per_s
    assert copy_seconds(small, s) == pytest.approx(s.host_copy_latency_s + small / cached
                                                   + small / memory)
    assert copy_seconds(large, s) == pytest.approx(s.host_copy_latency_s + 2 * large / memory)
    elements = large // 4
    assert cast_seconds(elements, FP16, s) == pytest.approx(6 * elements / memory)


# ---- depthwise and grouped convolutions, bidirectional layers, merges -------------------


def depthwise(channels=64, size=28, batch=8, multiplier=1):
    from accelsim.ir import ConvGeometry

    geometry = ConvGeometry(channels, (size, size), (3, 3), (1, 1), (1, 1, 1, 1),
                            (size, size), groups=channels)
    return Gemm("dw", m=batch * size * size, k=9, n=multiplier, conv=geometry,
                groups=channels)


def test_a_depthwise_convolution_is_pytorchs_direct_kernel_not_a_gemm():
    from accelsim.machines.gpu.conv import conv_kernels
    from accelsim.machines.gpu.elementwise import DEPTHWISE, DEPTHWISE_TAP_INSTRUCTIONS

    op = depthwise()
    (kernel,) = conv_kernels(op, 8, FP32, H200)
    assert kernel.name == DEPTHWISE.name and kernel.gemm is None
    outputs = 8 * 64 * 28 * 28
    moved = (2 * outputs + 64 * (9 + 1)) * 4  # input and output once, filters and biases
    expected = stream_kernel(DEPTHWISE, outputs, moved, H200,
                             extra_alu_ops=outputs * 9 * DEPTHWISE_TAP_INSTRUCTIONS)
    assert (kernel.seconds, kernel.dram_bytes) == (expected.seconds, moved)
    # fp16 halves the bytes; the kernel never touches tensor cores
    (half,) = conv_kernels(op, 8, FP16, H200)
    assert half.name == DEPTHWISE.name and half.dram_bytes < moved


def test_a_grouped_convolution_tiles_every_groups_rows_in_one_grid():
    from accelsim.ir import ConvGeometry
    from accelsim.machines.gpu.conv import conv_choice

    geometry = ConvGeometry(64, (14, 14), (3, 3), (1, 1), (1, 1, 1, 1), (14, 14), groups=4)
    grouped = Gemm("g", m=64 * 196, k=16 * 9, n=16, conv=geometry, groups=4)
    stacked = Gemm("s", m=4 * 64 * 196, k=16 * 9, n=16, conv=geometry)
    assert conv_choice(grouped, 64, FP32, H200).seconds == \
        conv_choice(stacked, 64, FP32, H200).seconds


def test_a_bidirectional_layer_is_one_cudnn_call(write_model):
    from accelsim.machines.gpu.pytorch import framework_calls

    net = ax.network(write_model("""
        name = "bi"
        input_shape = [16]
        sequence = true
        seq_len = 10
        [[layers]]
        name = "gru"
        type = "gru"
        hidden_size = 32
        bidirectional = true
    """), weights="none")
    calls = framework_calls(ax.lower(net, 4), FP32, H200)
    rnn = [call for item in calls for call in item.calls if call.host == "rnn"]
    assert len(rnn) == 1  # one dispatch, both directions' kernels
    persistent = [k for k in rnn[0].kernels if k.name == "RNN_blockPersist_fp_GRU"]
    assert len(persistent) == 2
    reverse = [item for item in calls if item.op.name.startswith("gru.reverse")]
    assert reverse and all(item.fused_into == "gru.gates" for item in reverse)
