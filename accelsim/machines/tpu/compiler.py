"""Workload → TPU program.

Each GEMM is mapped weight-stationary: its B operand is cut into array-sized tiles (K blocks ×
N blocks) and its rows into chunks of one accumulator buffer (2,048 rows on TPU v1). The loop
order is N block → row chunk → K block, so partial sums of one chunk accumulate in one buffer;
a tile that serves every chunk of its N block (a single K block) stays in the array instead of
being read again. The element-wise ops that follow a GEMM (activation, pooling, LSTM cell) are
fused into the Activate that drains each chunk; work beyond one element per accumulator value
(the LSTM cell arithmetic) costs extra activation cycles at one array width per cycle. A
repeated GEMM (an RNN/LSTM time step) is emitted once per step, with a Sync between steps.
Activations must fit the Unified Buffer: a batch that does not is rejected with the largest
batch that fits (TPU v1 has no path to spill activations to DDR3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.errors import AccelsimError
from accelsim.ir import Direction, Gemm, Op, Pool, Transfer, Vector, Workload
from accelsim.machines.tpu.isa import (
    Activate,
    Halt,
    Instruction,
    MatrixMultiply,
    Program,
    ReadHostMemory,
    ReadWeights,
    Sync,
    WriteHostMemory,
)
from accelsim.machines.tpu.spec import TPUSpec


@dataclass(frozen=True)
class Group:
    """A GEMM (or nothing) and the element-wise ops fused after it, with their op indices."""

    gemm_index: int | None
    gemm: Gemm | None
    fused: tuple[tuple[int, Op], ...]


def group_ops(workload: Workload) -> list[tuple[int, Op] | Group]:
    """Transfers stay alone; each GEMM absorbs the Vector/Pool ops up to the next GEMM."""
    items: list[tuple[int, Op] | Group] = []
    for index, op in enumerate(workload.ops):
        if isinstance(op, Transfer):
            items.append((index, op))
        elif isinstance(op, Gemm):
            items.append(Group(index, op, ()))
        elif items and isinstance(items[-1], Group):
            last = items[-1]
            items[-1] = Group(last.gemm_index, last.gemm, (*last.fused, (index, op)))
        else:
            items.append(Group(None, None, ((index, op),)))
    return items


def _elements(op: Op) -> int:
    if isinstance(op, Vector):
        return op.elements
    if isinstance(op, Pool):
        return op.elements
    return 0


def _function_name(group: Group) -> str:
    kinds = []
    for _, op in group.fused:
        kind = op.kind.value + ("pool" if isinstance(op, Pool) else "")
        if kind not in kinds:
            kinds.append(kind)
    return "+".join(kinds) if kinds else "identity"


class _Emitter:
    """Builds the instruction list; numbers tiles and alternates accumulator buffers."""

    def __init__(self, spec: TPUSpec) -> None:
        self.spec = spec
        self.out: list[Instruction] = []
        self.tiles = 0
        self.chunks = 0

    def gemm_step(self, group: Group, gemm: Gemm) -> None:
        spec = self.spec
        act_op = group.fused[0][0] if group.fused else group.gemm_index
        k_blocks = math.ceil(gemm.k / spec.array_rows)
        n_blocks = math.ceil(gemm.n / spec.array_cols)
        chunk = spec.accumulator_buffer_rows
        vector = sum(op.elements for _, op in group.fused if isinstance(op, Vector))
        extra = vector - gemm.m * gemm.n
        extra_cycles = math.ceil(max(extra, 0) / spec.array_cols)
        for nb in range(n_blocks):
            width = min(spec.array_cols, gemm.n - nb * spec.array_cols)
            resident = None
            for start in range(0, gemm.m, chunk):
                rows = min(chunk, gemm.m - start)
                buffer = self.chunks % 2
                self.chunks += 1
                for kb in range(k_blocks):
                    depth = min(spec.array_rows, gemm.k - kb * spec.array_rows)
                    if k_blocks > 1 or resident is None:
                        resident = self.tiles
                        self.tiles += 1
                        self.out.append(ReadWeights(group.gemm_index, resident, depth * width,
                                                    depth, width))
                    self.out.append(MatrixMultiply(group.gemm_index, resident, rows, buffer,
                                                   kb > 0))
                last = nb == n_blocks - 1 and start + rows >= gemm.m
                cycles = rows + (extra_cycles if last else 0)
                self.out.append(Activate(act_op, _function_name(group), buffer, rows, cycles))

    def group(self, group: Group) -> None:
        if group.gemm is None:
            elements = sum(_elements(op) for _, op in group.fused)
            rows = math.ceil(elements / self.spec.array_cols)
            self.out.append(Activate(group.fused[0][0], _function_name(group), -1, rows, rows))
            return
        for step in range(group.gemm.count):
            if step:
                self.out.append(Sync(group.gemm_index))
            self.gemm_step(group, group.gemm)


def check_unified_buffer(workload: Workload, spec: TPUSpec) -> None:
    """Each group's input and output activations (int8) must fit the Unified Buffer."""
    live_in = 0
    for item in group_ops(workload):
        if isinstance(item, tuple):
            op = item[1]
            live_in = op.elements if op.direction is Direction.TO_DEVICE else live_in
            continue
        out = _elements(item.fused[-1][1]) if item.fused else item.gemm.m * item.gemm.n
        if item.gemm is not None and item.gemm.count > 1:
            out *= item.gemm.count
        need = live_in + out
        if need > spec.unified_buffer_bytes:
            name = item.gemm.name if item.gemm else item.fused[0][1].name
            fits = max(1, spec.unified_buffer_bytes * workload.batch // need)
            raise AccelsimError(
                f"batch {workload.batch} needs {need / 2**20:.1f} MiB of Unified Buffer at "
                f"{name} (int8 input and output activations); {spec.name} has "
                f"{spec.unified_buffer_bytes / 2**20:.0f} MiB: use batch ≤ {fits} or a larger "
                "unified_buffer_bytes")
        live_in = out


def compile_workload(workload: Workload, spec: TPUSpec) -> Program:
    """The instruction stream for one batch of a workload."""
    weight_bytes = sum(g.k * g.n for g in workload.gemms)
    if weight_bytes > spec.weight_memory_bytes:
        raise AccelsimError(f"{workload.network} has {weight_bytes:,} B of int8 weights; "
                            f"{spec.name}'s weight memory holds {spec.weight_memory_bytes:,} B")
    check_unified_buffer(workload, spec)
    emitter = _Emitter(spec)
    for item in group_ops(workload):
        if isinstance(item, tuple):
            index, op = item
            if op.direction is Direction.TO_DEVICE:
                emitter.out += [ReadHostMemory(index, op.elements), Sync(index)]
            else:
                emitter.out += [Sync(index), WriteHostMemory(index, op.elements)]
        else:
            if emitter.out and not isinstance(emitter.out[-1], Sync):
                emitter.out.append(Sync(item.gemm_index if item.gemm else item.fused[0][0]))
            emitter.group(item)
    emitter.out.append(Halt(len(workload.ops) - 1))
    names = tuple(op.name for op in workload.ops)
    return Program(tuple(emitter.out), names, emitter.tiles)
