"""The TPU executor on a hand-written program whose timeline is worked out by hand."""

from __future__ import annotations

import pytest

from accelsim.machines.tpu.executor import execute
from accelsim.machines.tpu.isa import (
    Activate,
    Halt,
    MatrixMultiply,
    Program,
    ReadHostMemory,
    ReadWeights,
    Sync,
    WriteHostMemory,
)
from accelsim.machines.tpu.spec import TPUSpec

# 4×4 array at 1 GHz; a 16-byte tile takes 10 cycles from DDR3, PCIe moves 1 B per cycle.
SPEC = TPUSpec(name="toy", array_rows=4, array_cols=4, clock_hz=1e9, ddr_bytes_per_s=1.6e9,
               pcie_bytes_per_s=1e9, weight_fifo_tiles=1)
PROGRAM = Program((
    ReadHostMemory(0, 8),  # PCIe [0, 8)
    Sync(0),  # later instructions wait for cycle 8
    ReadWeights(1, 0, 16, 4, 4),  # DDR3 [0, 10)
    MatrixMultiply(1, 0, 3, 0, False),  # shift [10, 14), stream [14, 17), results at 23
    ReadWeights(1, 1, 16, 4, 4),  # FIFO of 1: waits for tile 0 to start shifting; [10, 20)
    MatrixMultiply(1, 1, 3, 0, True),  # shift [20, 24), stream [24, 27), results at 33
    Activate(2, "relu", 0, 3, 3),  # [33, 36)
    Sync(3),
    WriteHostMemory(3, 2),  # [36, 38)
    Halt(3),
), ("input", "gemm", "relu", "output"), 2)


def test_hand_worked_timeline():
    run = execute(PROGRAM, SPEC)
    assert run.cycles == pytest.approx(38)
    assert run.op_cycles == pytest.approx((8, 19, 9, 2))
    gemm = run.op_breakdown[1]
    assert gemm["array_active"] == pytest.approx(6)
    assert gemm["weight_stall"] == pytest.approx(2 + 3)  # [8, 10) and [17, 20)
    assert gemm["weight_shift"] == pytest.approx(8)  # [10, 14) and [20, 24)
    assert run.op_breakdown[0]["weight_stall"] == pytest.approx(8)
    assert run.op_breakdown[2]["activation"] == pytest.approx(9)  # drain [27, 33) + Activate
    assert run.op_breakdown[3]["host_io_stall"] == pytest.approx(2)
    assert run.totals == pytest.approx({"array_active": 6, "weight_stall": 13,
                                        "weight_shift": 8, "dependency_stall": 0,
                                        "host_io_stall": 2, "activation": 9})
    assert run.op_traffic[1][0] == 32 and run.op_traffic[0][0] == 8


def three_tiles_behind_a_long_host_read(depth: int) -> float:
    program = Program((
        ReadHostMemory(0, 100), Sync(0),  # the array cannot start before cycle 100
        ReadWeights(1, 0, 16, 4, 4), MatrixMultiply(1, 0, 3, 0, False),
        ReadWeights(1, 1, 16, 4, 4), MatrixMultiply(1, 1, 3, 0, True),
        ReadWeights(1, 2, 16, 4, 4), MatrixMultiply(1, 2, 3, 0, True),
        Halt(1),
    ), ("input", "gemm"), 3)
    return execute(program, TPUSpec(**{**SPEC.__dict__, "weight_fifo_tiles": depth})).cycles


def test_a_deeper_fifo_fetches_ahead():
    # Depth 1: tile 2 may only be fetched once tile 1 starts shifting (cycle 100): fetched at
    # 110, shifted by 114, streamed [114, 117). Depth 2: fetched [20, 30) behind tile 1,
    # shifted [104, 108) right after tile 1, streamed [108, 111).
    assert three_tiles_behind_a_long_host_read(1) == pytest.approx(117)
    assert three_tiles_behind_a_long_host_read(2) == pytest.approx(111)


def test_disassembly_lists_every_instruction():
    text = str(PROGRAM)
    assert text.count("\n") == len(PROGRAM) - 1
    assert "MatrixMultiply     tile 1         3 rows → acc buffer 0 (accumulate)" in text
    assert PROGRAM.count(MatrixMultiply) == 2


def test_sixteen_bit_activations_stream_every_row_twice():
    # The same program with both MatrixMultiplies in two passes (8-bit × 16-bit mode):
    # shift [10, 14), stream [14, 20); tile 1 fetched [10, 20), shift [20, 24), stream
    # [24, 30), results at 36; Activate [36, 39); write [39, 41).
    wide = Program(tuple(MatrixMultiply(i.op, i.tile, i.rows, i.buffer, i.accumulate, 2)
                         if isinstance(i, MatrixMultiply) else i
                         for i in PROGRAM.instructions), PROGRAM.op_names, PROGRAM.tiles)
    run, base = execute(wide, SPEC), execute(PROGRAM, SPEC)
    assert run.cycles == pytest.approx(41)
    gemm = run.op_breakdown[1]
    assert gemm["array_active"] == pytest.approx(2 * 6)
    assert gemm["weight_stall"] == pytest.approx(2)  # [8, 10); tile 1 arrives as the array frees
    assert gemm["weight_shift"] == pytest.approx(8)
    assert run.op_traffic[1][0] == base.op_traffic[1][0] == 32  # weights stay 8-bit
    # Unified Buffer reads: 3 rows × 4 deep × 2 bytes, plus 4-byte accumulators, per tile.
    assert run.op_traffic[1][1] == 2 * (3 * 4 * 2 + 4 * 3 * 4)
    assert "2 passes (16-bit)" in str(wide)
