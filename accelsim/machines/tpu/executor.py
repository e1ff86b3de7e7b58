"""Timing a TPU program: decoupled access/execute with closed-form instruction times.

Resources and rules (times in cycles of the TPU clock):
- PCIe: Read/Write_Host_Memory take bytes / (PCIe bytes per cycle), one after another.
- DDR3 → weight FIFO: Read_Weights of tile i starts when the DDR channel is free and tile
  i − depth has left the FIFO (started shifting into the array); it takes bytes / (DDR bytes
  per cycle): 64 KiB / (34 GB/s / 700 MHz) = 1,349 cycles for a full tile.
- Weight shift: a tile shifts into the array's shadow buffer over array_rows cycles once it is
  fetched, the shifter is free and the previous tile has become active (double buffering), so
  shifting overlaps the previous tile's compute.
- Matrix unit: a MatrixMultiply of B rows streams for B cycles, starting when the array is
  free, its tile is shifted in, the last Sync's results exist and (when it writes rather than
  accumulates) its accumulator buffer has been drained. Results are complete
  array_rows + array_cols − 2 cycles after the last row enters (the wavefront's drain), as in
  `SystolicArray`: one tile alone takes shift + B + R + C − 2 cycles, SCALE-Sim's fold time.
  With 16-bit activations (`passes` = 2) it streams 2·B cycles: the 8-bit array runs the
  rows once per activation byte against the same stationary tile ("half-speed for 8-bit ×
  16-bit", Jouppi et al. 2017, section 2); the weight traffic is unchanged, the Unified
  Buffer reads 2 bytes per activation.
- Activation unit: drains one accumulator row per cycle (plus any extra element-wise cycles),
  one Activate at a time, after the buffer's results are complete.
- Sync: later instructions wait for every result produced so far.

Every cycle of the matrix unit is classified like the paper's performance counters: array
active, weight stall (waiting for DDR3), weight shift (waiting for the shift), dependency
stall (waiting for earlier results or a free accumulator buffer), host I/O stall (waiting for
PCIe), and activation (the drain and activation tail after the last MatrixMultiply).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.machines.tpu.isa import (
    Activate,
    MatrixMultiply,
    Program,
    ReadHostMemory,
    ReadWeights,
    Sync,
    WriteHostMemory,
)
from accelsim.machines.tpu.spec import TPUSpec

ACTIVE, WEIGHT_STALL, WEIGHT_SHIFT, DEPENDENCY, HOST_IO, ACTIVATION = range(6)
CATEGORIES = ("array_active", "weight_stall", "weight_shift", "dependency_stall",
              "host_io_stall", "activation")


@dataclass(frozen=True)
class Execution:
    """Per-op spans and breakdowns, and program totals."""

    cycles: float
    op_cycles: tuple[float, ...]
    op_breakdown: tuple[dict[str, float], ...]
    op_traffic: tuple[tuple[int, int], ...]  # (off-chip bytes, on-chip bytes) per op
    totals: dict[str, float]
    # per op, its first instruction's start to its last one's end: a GEMM's window reaches
    # back to the DDR3 fetch of its first weight tile, which ran during earlier ops' spans
    op_windows: tuple[float, ...] = ()


class _State:
    """Mutable machine state while a program runs."""

    def __init__(self, spec: TPUSpec, n_ops: int) -> None:
        self.spec = spec
        self.ddr = self.pcie = self.shifter = self.shadow = 0.0
        self.array = self.act = self.barrier = self.produced = 0.0
        self.barrier_kind = self.produced_kind = HOST_IO
        self.active_tile = -1
        self.fetch_end: list[float] = []
        self.shift_start: list[float] = []
        self.tile_shape: list[tuple[int, int]] = []
        self.acc_ready = [0.0, 0.0]
        self.acc_free = [0.0, 0.0]
        self.op_end = [0.0] * n_ops
        self.op_start = [math.inf] * n_ops
        self.offchip = [0] * n_ops
        self.onchip = [0] * n_ops
        self.intervals: list[tuple[float, float, int]] = []

    def produce(self, end: float, kind: int) -> None:
        if end >= self.produced:
            self.produced, self.produced_kind = end, kind

    def read_weights(self, ins: ReadWeights) -> None:
        depth = self.spec.weight_fifo_tiles
        slot = self.shift_start[ins.tile - depth] if ins.tile >= depth else 0.0
        start = max(self.ddr, slot)
        self.ddr = start + ins.nbytes / self.spec.ddr_bytes_per_cycle
        self.op_start[ins.op] = min(self.op_start[ins.op], start)
        self.fetch_end.append(self.ddr)
        self.shift_start.append(0.0)
        self.tile_shape.append((ins.rows, ins.cols))
        self.offchip[ins.op] += ins.nbytes

    def matrix_multiply(self, ins: MatrixMultiply) -> None:
        new_tile = ins.tile != self.active_tile
        fetched = weights_ready = 0.0
        if new_tile:
            fetched = self.fetch_end[ins.tile]
            shift = max(fetched, self.shifter, self.shadow)
            self.shift_start[ins.tile] = shift
            weights_ready = self.shifter = shift + self.spec.array_rows
        buffer_free = 0.0 if ins.accumulate else self.acc_free[ins.buffer]
        start = max(self.array, weights_ready, self.barrier, buffer_free)
        if start > self.array:
            self._gap(start, fetched, weights_ready, buffer_free)
        end = start + ins.cycles
        self.op_start[ins.op] = min(self.op_start[ins.op], start)
        self.intervals.append((start, end, ACTIVE))
        self.array = end
        if new_tile:
            self.shadow, self.active_tile = start, ins.tile
        spec = self.spec
        self.acc_ready[ins.buffer] = end + spec.array_rows + spec.array_cols - 2
        self.op_end[ins.op] = max(self.op_end[ins.op], end)
        depth, width = self.tile_shape[ins.tile]
        self.onchip[ins.op] += ins.rows * depth * ins.passes + 4 * ins.rows * width

    def _gap(self, start: float, fetched: float, weights_ready: float, buffer_free: float):
        gap = self.array
        if weights_ready >= max(self.barrier, buffer_free):
            middle = min(max(fetched, gap), start)
            if middle > gap:
                self.intervals.append((gap, middle, WEIGHT_STALL))
            if start > middle:
                self.intervals.append((middle, start, WEIGHT_SHIFT))
        elif self.barrier >= buffer_free:
            self.intervals.append((gap, start, self.barrier_kind))
        else:
            self.intervals.append((gap, start, DEPENDENCY))

    def activate(self, ins: Activate) -> None:
        ready = self.acc_ready[ins.buffer] if ins.buffer >= 0 else self.barrier
        start = max(self.act, ready)
        self.act = end = start + ins.cycles
        self.op_start[ins.op] = min(self.op_start[ins.op], start)
        if ins.buffer >= 0:
            self.acc_free[ins.buffer] = end
        self.produce(end, DEPENDENCY)
        self.op_end[ins.op] = max(self.op_end[ins.op], end)
        self.onchip[ins.op] += ins.rows * self.spec.array_cols

    def host(self, ins: ReadHostMemory | WriteHostMemory, after: float) -> None:
        start = max(self.pcie, after)
        self.pcie = end = start + ins.nbytes / self.spec.pcie_bytes_per_cycle
        self.op_start[ins.op] = min(self.op_start[ins.op], start)
        if isinstance(ins, ReadHostMemory):
            self.produce(end, HOST_IO)
        self.op_end[ins.op] = max(self.op_end[ins.op], end)
        self.offchip[ins.op] += ins.nbytes


def execute(program: Program, spec: TPUSpec, host_io: bool = True) -> Execution:
    """Run the program's timing; see the module docstring for the rules. `host_io=False`
    skips the PCIe transfers (the device's own time: inputs already in the Unified Buffer,
    outputs left there)."""
    state = _State(spec, len(program.op_names))
    for ins in program.instructions:
        if not host_io and isinstance(ins, ReadHostMemory | WriteHostMemory):
            continue
        if isinstance(ins, MatrixMultiply):
            state.matrix_multiply(ins)
        elif isinstance(ins, ReadWeights):
            state.read_weights(ins)
        elif isinstance(ins, Activate):
            state.activate(ins)
        elif isinstance(ins, Sync):
            state.barrier, state.barrier_kind = state.produced, state.produced_kind
        elif isinstance(ins, ReadHostMemory):
            state.host(ins, 0.0)
        elif isinstance(ins, WriteHostMemory):
            state.host(ins, state.barrier)
    return _summarise(state)


def _summarise(state: _State) -> Execution:
    total = max(state.array, state.act, state.pcie, *state.op_end)
    tail_end = max(state.act, state.array)
    if tail_end > state.array:
        state.intervals.append((state.array, tail_end, ACTIVATION))
    if total > tail_end:
        state.intervals.append((tail_end, total, HOST_IO))
    spans, running = [], 0.0
    for end in state.op_end:
        running = max(running, end)
        spans.append(running)
    spans[-1] = total
    breakdown = _split(state.intervals, spans)
    cycles = tuple(b - a for a, b in zip([0.0, *spans[:-1]], spans, strict=True))
    totals = {name: sum(b[name] for b in breakdown) for name in CATEGORIES}
    traffic = tuple(zip(state.offchip, state.onchip, strict=True))
    windows = tuple(max(0.0, end - start) if start < math.inf else 0.0
                    for start, end in zip(state.op_start, state.op_end, strict=True))
    return Execution(total, cycles, tuple(breakdown), traffic, totals, windows)


def _split(intervals: list[tuple[float, float, int]], spans: list[float]) -> list[dict]:
    """Sum the classified intervals inside each op's span (both lists are in time order)."""
    out = [dict.fromkeys(CATEGORIES, 0.0) for _ in spans]
    index, span_start = 0, 0.0
    for op, span_end in enumerate(spans):
        while index < len(intervals):
            start, end, kind = intervals[index]
            overlap = min(end, span_end) - max(start, span_start)
            if overlap > 0:
                out[op][CATEGORIES[kind]] += overlap
            if end > span_end:
                break
            index += 1
        span_start = span_end
    return out
