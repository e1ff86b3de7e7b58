"""Workload → TPU program.

Each GEMM is mapped weight-stationary: its B operand is cut into array-sized tiles (K blocks ×
N blocks) and its rows into chunks of one accumulator buffer (2,048 rows on TPU v1). The loop
order is N block → row chunk → K block, so partial sums of one chunk accumulate in one buffer;
a tile that serves every chunk of its N block (a single K block) stays in the array instead of
being read again. The element-wise ops that follow a GEMM (activation, pooling, LSTM cell) are
fused into the Activate that drains each chunk; work beyond one element per accumulator value
(the LSTM cell arithmetic) costs extra activation cycles at one array width per cycle. A
final softmax is left to the host, which receives the int8 logits (host time is not modelled).
A recurrent layer's gate GEMM (its `Recurrence`) is emitted once per time step, with a Sync
between steps; a GEMM of a single tile keeps it in the array across steps, larger ones read
their tiles from DDR3 again every step (the array holds one tile and its shadow).
Activations must fit the Unified Buffer: a batch that does not is rejected with the largest
batch that fits (TPU v1 has no path to spill activations to DDR3).

16-bit activations (a GEMM's `activation_bits` = 16, weights still 8-bit): each MatrixMultiply
carries `passes` = 2, the array streaming its rows once per activation byte (the paper's
"half-speed for 8-bit × 16-bit", Jouppi et al., ISCA 2017, section 2); weight tiles and their
reads are unchanged. Assumptions: a tensor in the Unified Buffer is stored at the width of the
GEMM that reads it (2 bytes per element before a 16-bit GEMM, else 1; element-wise layers
between keep that width; network outputs go back as int8), so the capacity check and the host
input transfer (Read_Host_Memory before a 16-bit first layer) count 2 bytes per element there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.errors import AccelsimError, CapacityError
from accelsim.ir import Direction, Gemm, LayerOps, Op, Pool, Transfer, Vector, VectorKind, Workload
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
    """A GEMM (or nothing) and the element-wise ops fused after it, with their op indices;
    `steps` repetitions for a recurrent layer."""

    gemm_index: int | None  # None exactly when `gemm` is
    gemm: Gemm | None
    fused: tuple[tuple[int, Vector | Pool], ...]
    steps: int = 1


Item = tuple[int, Transfer] | Group  # a transfer with its op index, or a fused group


def _fusable(layer: LayerOps, indexed: tuple[tuple[int, Op], ...]
             ) -> tuple[tuple[int, Vector | Pool], ...]:
    """The indexed ops an Activate can absorb: element-wise and pooling ops only."""
    fused = tuple((i, op) for i, op in indexed if isinstance(op, Vector | Pool))
    if len(fused) < len(indexed):
        kinds = ", ".join(sorted({type(op).__name__ for _, op in indexed
                                  if not isinstance(op, Vector | Pool)}))
        raise AccelsimError(f"layer {layer.name!r} mixes {kinds} ops into a GEMM's Activate, "
                            "which fuses only element-wise and pooling ops: give each GEMM and "
                            "each transfer a layer of its own")
    return fused


def group_ops(workload: Workload) -> list[Item]:
    """Layer by layer: transfers stay alone; a GEMM layer (with a recurrent layer's cell)
    opens a group, and the element-wise layers after it join its Activate; a final softmax
    goes to the host."""
    items: list[Item] = []
    first = 0
    for layer in workload.layers:
        indexed = tuple((first + i, op) for i, op in enumerate(layer.ops))
        first += len(layer.ops)
        gemm = layer.gemm
        if layer.transfer:  # every op is a Transfer
            items.extend((i, op) for i, op in indexed if isinstance(op, Transfer))
        elif all(isinstance(op, Vector) and op.kind is VectorKind.SOFTMAX for op in layer.ops):
            continue  # the host takes the softmax of the logits it receives
        elif gemm is not None:
            position = layer.ops.index(gemm)
            steps = layer.recurrence.steps if layer.recurrence else 1
            rest = _fusable(layer, indexed[:position] + indexed[position + 1:])
            items.append(Group(indexed[position][0], gemm, rest, steps))
        elif items and isinstance(items[-1], Group):
            last = items[-1]
            items[-1] = Group(last.gemm_index, last.gemm, (*last.fused, *_fusable(layer, indexed)),
                              last.steps)
        else:
            items.append(Group(None, None, _fusable(layer, indexed)))
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
        self.lone_tile: tuple[int, int | None] | None = None  # (group's GEMM index, tile id)

    def gemm_step(self, group: Group, index: int, gemm: Gemm) -> None:
        """One repetition of a GEMM: N block → row chunk → K block, an Activate per chunk."""
        spec = self.spec
        k_blocks = math.ceil(gemm.k / spec.array_rows)
        n_blocks = math.ceil(gemm.n / spec.array_cols)
        lone = k_blocks == n_blocks == 1
        vector = sum(op.elements for _, op in group.fused if isinstance(op, Vector))
        extra_cycles = math.ceil(max(vector - gemm.m * gemm.n, 0) / spec.array_cols)
        resident = None
        for nb in range(n_blocks):
            width = min(spec.array_cols, gemm.n - nb * spec.array_cols)
            resident = None
            if lone and self.lone_tile and self.lone_tile[0] == index:
                resident = self.lone_tile[1]  # still in the array from the previous step
            for start in range(0, gemm.m, spec.accumulator_buffer_rows):
                rows = min(spec.accumulator_buffer_rows, gemm.m - start)
                buffer = self.chunks % 2
                self.chunks += 1
                resident = self.chunk(index, gemm, rows, buffer, width, resident, k_blocks)
                last = nb == n_blocks - 1 and start + rows >= gemm.m
                act_op = group.fused[0][0] if group.fused else index
                self.out.append(Activate(act_op, _function_name(group), buffer, rows,
                                         rows + (extra_cycles if last else 0)))
        self.lone_tile = (index, resident) if lone else None

    def chunk(self, op: int, gemm: Gemm, rows: int, buffer: int, width: int,
              resident: int | None, k_blocks: int) -> int | None:
        """The K blocks of one row chunk; returns the tile left in the array."""
        for kb in range(k_blocks):
            depth = min(self.spec.array_rows, gemm.k - kb * self.spec.array_rows)
            if k_blocks > 1 or resident is None:
                resident = self.tiles
                self.tiles += 1
                self.out.append(ReadWeights(op, resident, depth * width, depth, width))
            self.out.append(MatrixMultiply(op, resident, rows, buffer, kb > 0,
                                           gemm.activation_bits // 8))
        return resident

    def group(self, group: Group) -> None:
        gemm, index = group.gemm, group.gemm_index
        if gemm is None or index is None:  # both or neither are None
            elements = sum(_elements(op) for _, op in group.fused)
            rows = math.ceil(elements / self.spec.array_cols)
            self.out.append(Activate(group.fused[0][0], _function_name(group), -1, rows, rows))
            return
        for step in range(group.steps):
            if step:
                self.out.append(Sync(index))
            self.gemm_step(group, index, gemm)


def input_widths(items: list[Item]) -> list[int]:
    """Bytes per element of the activations each item reads (a host input: writes) in the
    Unified Buffer: a GEMM's own activation width; anything else the width of the next GEMM
    that reads its results, or 1 (int8) when the next reader is the host."""
    widths, width = [1] * len(items), 1
    for i in reversed(range(len(items))):
        item = items[i]
        if isinstance(item, Group) and item.gemm is not None:
            width = item.gemm.activation_bits // 8
        elif isinstance(item, tuple) and item[1].direction is Direction.TO_HOST:
            width = 1
        widths[i] = width
    return widths


def unified_buffer_needs(workload: Workload) -> list[tuple[str, int]]:
    """(op name, bytes of input plus output activations) per fused group, each tensor at the
    width its reader takes (`input_widths`)."""
    items = group_ops(workload)
    widths = [*input_widths(items), 1]
    needs, live_in = [], 0
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            op = item[1]
            live_in = op.elements * widths[i] if op.direction is Direction.TO_DEVICE else live_in
            continue
        gemm = item.gemm  # a group without fused ops has a GEMM
        out = _elements(item.fused[-1][1]) if item.fused or gemm is None else gemm.m * gemm.n
        out *= item.steps * widths[i + 1]
        needs.append((item.gemm.name if item.gemm else item.fused[0][1].name, live_in + out))
        live_in = out
    return needs


def check_unified_buffer(workload: Workload, spec: TPUSpec) -> None:
    """Every group's input and output activations must fit the Unified Buffer."""
    needs = unified_buffer_needs(workload)
    name, need = max(needs, key=lambda item: item[1], default=("", 0))
    if need <= spec.unified_buffer_bytes:
        return
    per_sample = need / workload.batch
    fits = int(spec.unified_buffer_bytes // per_sample)
    advice = (f"use batch ≤ {fits}" if fits >= 1 else "even one sample does not fit: split "
              "the work")
    raise CapacityError(
        f"{workload.network} at batch {workload.batch} needs {need / 2**20:.1f} MiB of Unified "
        f"Buffer at {name} (input and output activations, 1 byte each, 2 where a GEMM reads "
        f"16-bit ones); {spec.name} has "
        f"{spec.unified_buffer_bytes / 2**20:.0f} MiB: {advice} or a larger "
        "unified_buffer_bytes")


def check_capacity(workload: Workload, spec: TPUSpec) -> None:
    """The int8 weights must fit the weight memory, the activations the Unified Buffer."""
    weight_bytes = sum(g.k * g.n for g in workload.gemms)
    if weight_bytes > spec.weight_memory_bytes:
        raise CapacityError(f"{workload.network} has {weight_bytes:,} B of int8 weights; "
                            f"{spec.name}'s weight memory holds {spec.weight_memory_bytes:,} B: "
                            "use a smaller network or a larger weight_memory_bytes")
    check_unified_buffer(workload, spec)


def compile_workload(workload: Workload, spec: TPUSpec) -> Program:
    """The instruction stream for one batch of a workload."""
    check_capacity(workload, spec)
    emitter = _Emitter(spec)
    items = group_ops(workload)
    for item, width in zip(items, input_widths(items), strict=True):
        if isinstance(item, tuple):
            index, op = item
            if op.direction is Direction.TO_DEVICE:
                emitter.out += [ReadHostMemory(index, op.elements * width), Sync(index)]
            else:
                emitter.out += [Sync(index), WriteHostMemory(index, op.elements)]
        else:
            if emitter.out and not isinstance(emitter.out[-1], Sync):
                first = item.gemm_index if item.gemm_index is not None else item.fused[0][0]
                emitter.out.append(Sync(first))
            emitter.group(item)
    emitter.out.append(Halt(len(workload.ops) - 1))
    names = tuple(op.name for op in workload.ops)
    return Program(tuple(emitter.out), names, emitter.tiles)
