"""The TPU compiler: op fusion, tiling, per-step LSTM programs."""

from __future__ import annotations

import math

import accelsim as ax
from accelsim.machines.tpu.compiler import Group, compile_workload, group_ops
from accelsim.machines.tpu.isa import Activate, MatrixMultiply, ReadWeights, Sync
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
