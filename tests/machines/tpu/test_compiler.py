"""The TPU compiler: op fusion, tiling, per-step LSTM programs."""

from __future__ import annotations

import math

import accelsim as ax
from accelsim.machines.tpu.compiler import (
    Group,
    compile_workload,
    group_ops,
    input_widths,
    packing,
    unified_buffer_needs,
)
from accelsim.machines.tpu.isa import (
    Activate,
    MatrixMultiply,
    ReadHostMemory,
    ReadWeights,
    Sync,
    WriteHostMemory,
)
from accelsim.machines.tpu.spec import TPU_V1


def test_gemms_absorb_the_elementwise_ops_after_them():
    items = group_ops(ax.lower(ax.network("lenet5"), 1))
    groups = [item for item in items if isinstance(item, Group)]
    assert [g.gemm.name for g in groups] == ["conv1", "conv2", "conv3", "fc1", "fc2"]
    assert [op.name for _, op in groups[0].fused] == ["relu1", "pool1"]
    assert groups[-1].fused == ()


def test_lstm_program_has_one_block_per_time_step():
    net = ax.network("lstm-char")
    program = compile_workload(ax.lower(net, batch=32, seq_len=10), TPU_V1)
    gates = [i for i in program.instructions if i.op == 1]
    # N = 4·128 = 512 → 2 tiles per step, re-read every step; K = 96 + 128 fits one block.
    assert sum(isinstance(i, ReadWeights) for i in gates) == 20
    assert sum(isinstance(i, MatrixMultiply) for i in gates) == 20
    assert sum(isinstance(i, Sync) for i in gates) == 9  # between steps
    cell = [i for i in program.instructions if isinstance(i, Activate) and i.op == 2]
    assert len(cell) == 20
    extra = math.ceil(5 * 32 * 128 / 256)  # tanh(c), three products and a sum per cell
    assert [a.cycles for a in cell[:2]] == [32, 32 + extra]
    assert cell[0].function == "sigmoid+tanh+mul+add"


def test_a_single_tile_recurrent_layer_keeps_its_weights_in_the_array():
    r = ax.machine("tpu-v1").run(ax.network("rnn-recall"), batch=8)
    program = r.program
    gates = [i for i in program.instructions if i.op == 1]
    assert sum(isinstance(i, ReadWeights) for i in gates) == 1
    assert sum(isinstance(i, MatrixMultiply) for i in gates) == 52
    assert r.layers[1].dram_bytes == (22 + 32) * 32


def test_long_k_accumulates_and_rows_alternate_buffers():
    dense = ax.Workload.of_ops("w", 1, (ax.Gemm("g", m=5000, k=600, n=300),))
    program = compile_workload(dense, TPU_V1)
    mms = [i for i in program.instructions if isinstance(i, MatrixMultiply)]
    # 2 N blocks × 3 row chunks (2048, 2048, 904) × 3 K blocks
    assert len(mms) == 18 and program.tiles == 18
    assert [m.accumulate for m in mms[:3]] == [False, True, True]
    assert [m.buffer for m in mms[::3]] == [0, 1, 0, 1, 0, 1]
    assert [m.rows for m in mms[::3]][:3] == [2048, 2048, 904]


def test_sixteen_bit_gemms_get_two_passes_and_the_same_weight_reads(wide_inputs):
    net = ax.network("lenet5")
    base = compile_workload(ax.lower(net, 64), TPU_V1)
    wide = compile_workload(ax.lower(wide_inputs(net, {"conv2": 16}), 64), TPU_V1)
    conv2 = 4  # op index: input, conv1, relu1, pool1, conv2
    mms = [i for i in wide.instructions if isinstance(i, MatrixMultiply)]
    assert {i.passes for i in mms if i.op == conv2} == {2}
    assert {i.passes for i in mms if i.op != conv2} == {1}
    assert [i.cycles for i in mms if i.op == conv2] == [2 * 2048] * 3 + [2 * 256]
    assert [i for i in wide.instructions if isinstance(i, ReadWeights)] == \
        [i for i in base.instructions if isinstance(i, ReadWeights)]
    assert len(wide) == len(base)
    assert "2 passes (16-bit)" in str(wide) and "passes" not in str(base)


def test_buffered_activations_take_the_width_of_the_gemm_that_reads_them(wide_inputs):
    net = ax.network("lenet5")
    # batch 1: input 32·32, pool1 6·14·14, pool2 16·5·5, conv3 120, fc1 80, fc2 10 elements
    assert unified_buffer_needs(ax.lower(net, 1)) == [
        ("conv1", 1024 + 1176), ("conv2", 1176 + 400), ("conv3", 400 + 120),
        ("fc1", 120 + 80), ("fc2", 80 + 10)]
    wide = ax.lower(wide_inputs(net, {"conv2": 16, "fc2": 16}), 1)
    assert unified_buffer_needs(wide) == [
        ("conv1", 1024 + 2 * 1176), ("conv2", 2 * 1176 + 400), ("conv3", 400 + 120),
        ("fc1", 120 + 2 * 80), ("fc2", 2 * 80 + 10)]
    first = ax.lower(wide_inputs(net, {"conv1": 16}), 3)
    assert unified_buffer_needs(first)[0] == ("conv1", 3 * (2 * 1024 + 1176))
    reads = [i for i in compile_workload(first, TPU_V1).instructions
             if isinstance(i, ReadHostMemory | WriteHostMemory)]
    assert [i.nbytes for i in reads] == [3 * 2 * 1024, 3 * 10]  # int16 in, int8 logits out


def test_element_wise_layers_between_keep_the_readers_width(write_model, wide_inputs):
    net = ax.network(write_model("""
        name = "pool-first"
        input_shape = [1, 8, 8]
        [[layers]]
        type = "maxpool2d"
        kernel_size = 2
        [[layers]]
        type = "flatten"
        [[layers]]
        name = "fc"
        type = "linear"
        out_features = 4
    """))
    items = group_ops(ax.lower(wide_inputs(net, {"fc": 16}), 1))
    assert input_widths(items) == [2, 2, 2, 1]  # input, pool, fc, output
    assert unified_buffer_needs(ax.lower(wide_inputs(net, {"fc": 16}), 1)) == [
        ("maxpool2d0", 2 * 64 + 2 * 16), ("fc", 2 * 16 + 4)]


# ---- grouped convolutions and graphs -------------------------------------------------


def test_depthwise_groups_pack_block_diagonally_into_tiles():
    assert packing(1, 300, 300, 256, 256) == (1, 1)
    assert packing(32, 9, 1, 256, 256) == (28, 2)  # 28 × 9 = 252 rows, 28 columns a tile
    assert packing(960, 9, 1, 256, 256) == (28, 35)
    assert packing(4, 8 * 9, 64, 256, 256) == (3, 2)  # 3 × 72 rows, 3 × 64 columns
    assert packing(2, 128 * 9, 128, 256, 256) == (1, 2)  # a group alone spans K blocks


def test_a_depthwise_layer_runs_one_pass_per_pack(write_model):
    net = ax.network(write_model("""
        name = "dw"
        input_shape = [32, 8, 8]
        [[layers]]
        name = "dw"
        type = "conv2d"
        out_channels = 32
        kernel_size = 3
        padding = 1
        groups = 32
    """), weights="none")
    program = compile_workload(ax.lower(net, 1), TPU_V1)
    reads = [i for i in program.instructions if isinstance(i, ReadWeights)]
    passes = [i for i in program.instructions if isinstance(i, MatrixMultiply)]
    assert [(r.rows, r.cols) for r in reads] == [(252, 28), (36, 4)]  # 28 channels, then 4
    assert [p.rows for p in passes] == [64, 64]  # each pack streams every output pixel
    run = ax.machine("tpu-v1").run(net, batch=1)
    dw = next(r for r in run.layers if r.name == "dw")
    assert dw.detail.mapping_efficiency == 32 * 9 / (2 * 256 * 256)


def test_a_shortcut_stays_live_in_the_unified_buffer_while_its_block_runs(write_model):
    net = ax.network(write_model("""
        name = "residual"
        input_shape = [4, 8, 8]
        [[layers]]
        name = "a"
        type = "conv2d"
        out_channels = 4
        kernel_size = 3
        padding = 1
        [[layers]]
        name = "b"
        type = "conv2d"
        out_channels = 4
        kernel_size = 3
        padding = 1
        [[layers]]
        name = "sum"
        type = "add"
        inputs = ["b", "input"]
    """), weights="none")
    wl = ax.lower(net, 1)
    tensor = 4 * 8 * 8  # one int8 activation tensor
    # a: its input and output; b: a's output, its own, and the input the add still reads
    assert unified_buffer_needs(wl) == [("a", 2 * tensor), ("b", 3 * tensor)]
    groups = [item for item in group_ops(wl) if isinstance(item, Group)]
    assert [op.name for _, op in groups[1].fused] == ["sum"]  # the add rides b's Activate
    assert groups[1].reads == (1, 0)  # b's group reads a's result and the input transfer
