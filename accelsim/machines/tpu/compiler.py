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
A grouped convolution (depthwise above all) packs several groups' weights block-diagonally
into one tile (`packing`), every pack its own pass over the rows.
Activations live in the Unified Buffer: a group's inputs, its output and every earlier result
a later group still reads (a residual block's shortcut). A batch whose live activations do not
fit runs in sub-batches of the largest batch that does (`fitting_batch`; the weights are read
again for each), or at once with the overflow spilled to host memory over PCIe
(`spill_bytes`; TPU v1 has no path from the Unified Buffer to DDR3), whichever the machine
finds faster (core.py); only a single sample that does not fit is refused.

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
    `steps` repetitions for a recurrent layer; `reads`: the items whose results it reads."""

    gemm_index: int | None  # None exactly when `gemm` is
    gemm: Gemm | None
    fused: tuple[tuple[int, Vector | Pool], ...]
    steps: int = 1
    reads: tuple[int, ...] = ()


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


def _only(layer: LayerOps, kind: VectorKind) -> bool:
    return all(isinstance(op, Vector) and op.kind is kind for op in layer.ops)


def group_ops(workload: Workload) -> list[Item]:
    """Layer by layer: transfers stay alone; a GEMM layer (with a recurrent layer's cell)
    opens a group, and an element-wise layer that reads the group just opened joins its
    Activate (a residual add reads the other branch from the Unified Buffer as the LSTM cell
    reads its state; one that reads only older results runs as an Activate of its own); a
    concat costs nothing (its inputs' producers write their slices of its output in place),
    nor does a batch norm the compiler folds into its convolution (`folds_into`); a final
    softmax goes to the host. Layers without `inputs` (hand-built workloads) read the
    layer before them."""
    items: list[Item] = []
    owner: dict[str, tuple[int, ...]] = {}  # lowered layer → the items holding its result
    first, previous = 0, tuple[int, ...]()
    for layer in workload.layers:
        indexed = tuple((first + i, op) for i, op in enumerate(layer.ops))
        first += len(layer.ops)
        reads = tuple(dict.fromkeys(i for name in layer.inputs for i in owner.get(name, ()))) \
            if layer.inputs else previous
        gemm = layer.gemm
        if layer.transfer:  # every op is a Transfer
            items.extend((i, op) for i, op in indexed if isinstance(op, Transfer))
        elif _only(layer, VectorKind.SOFTMAX) or _only(layer, VectorKind.COPY) \
                or layer.folds_into:
            owner[layer.name] = previous = reads
            continue  # the host takes the softmax; a concat is its inputs side by side; a
            #           batch norm is folded into its convolution's weights and bias
        elif gemm is not None:
            position = layer.ops.index(gemm)
            steps = layer.recurrence.steps if layer.recurrence else 1
            rest = _fusable(layer, indexed[:position] + indexed[position + 1:])
            items.append(Group(indexed[position][0], gemm, rest, steps, reads))
        elif items and isinstance(items[-1], Group) and len(items) - 1 in reads:
            last = items[-1]
            own = len(items) - 1
            items[-1] = Group(last.gemm_index, last.gemm, (*last.fused, *_fusable(layer, indexed)),
                              last.steps, tuple(dict.fromkeys(
                                  i for i in (*last.reads, *reads) if i != own)))
        else:
            items.append(Group(None, None, _fusable(layer, indexed), 1, reads))
        owner[layer.name] = previous = (len(items) - 1,)
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

    def gemm_step(self, group: Group, index: int, gemm: Gemm, k: int, n: int,
                  last_pack: bool = True, single: bool = True) -> None:
        """One repetition of a GEMM (or of one pack of a grouped GEMM's groups, K = k and
        N = n): N block → row chunk → K block, an Activate per chunk; the element-wise work
        beyond one result per output drains after the last pack's last chunk."""
        spec = self.spec
        k_blocks = math.ceil(k / spec.array_rows)
        n_blocks = math.ceil(n / spec.array_cols)
        lone = single and k_blocks == n_blocks == 1
        vector = sum(op.elements for _, op in group.fused if isinstance(op, Vector))
        outputs = gemm.m * gemm.n * gemm.groups
        extra_cycles = math.ceil(max(vector - outputs, 0) / spec.array_cols)
        resident = None
        for nb in range(n_blocks):
            width = min(spec.array_cols, n - nb * spec.array_cols)
            resident = None
            if lone and self.lone_tile and self.lone_tile[0] == index:
                resident = self.lone_tile[1]  # still in the array from the previous step
            for start in range(0, gemm.m, spec.accumulator_buffer_rows):
                rows = min(spec.accumulator_buffer_rows, gemm.m - start)
                buffer = self.chunks % 2
                self.chunks += 1
                resident = self.chunk(index, gemm, k, rows, buffer, width, resident, k_blocks)
                last = last_pack and nb == n_blocks - 1 and start + rows >= gemm.m
                act_op = group.fused[0][0] if group.fused else index
                self.out.append(Activate(act_op, _function_name(group), buffer, rows,
                                         rows + (extra_cycles if last else 0)))
        self.lone_tile = (index, resident) if lone else None

    def chunk(self, op: int, gemm: Gemm, k: int, rows: int, buffer: int, width: int,
              resident: int | None, k_blocks: int) -> int | None:
        """The K blocks of one row chunk; returns the tile left in the array."""
        for kb in range(k_blocks):
            depth = min(self.spec.array_rows, k - kb * self.spec.array_rows)
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
        per_tile, packs = packing(gemm.groups, gemm.k, gemm.n, self.spec.array_rows,
                                  self.spec.array_cols)
        for step in range(group.steps):
            if step:
                self.out.append(Sync(index))
            for pack in range(packs):
                groups = min(per_tile, gemm.groups - pack * per_tile)
                self.gemm_step(group, index, gemm, groups * gemm.k, groups * gemm.n,
                               pack == packs - 1, packs == 1)


def packing(groups: int, k: int, n: int, rows: int, cols: int) -> tuple[int, int]:
    """(groups per tile, tiles' packs) of a grouped GEMM: its groups' weights laid
    block-diagonally, as many to a tile as fit both ways (a depthwise 3×3, K = 9 and N = 1,
    packs min(256 // 9, 256 // 1) = 28 channels into a 256×256 tile: 252 rows and 28 of its
    256 columns hold weights, and each row streamed does 252 useful MACs of 65,536, 0.38%).
    Groups too large to share a tile run one after another. One group: (1, 1)."""
    if groups == 1:
        return 1, 1
    per_tile = max(1, min(groups, rows // k, cols // n))
    return per_tile, -(-groups // per_tile)


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


def _result_bytes(item: Item, width: int) -> int:
    """The Unified Buffer bytes of an item's result (a host input's data as it lands)."""
    if isinstance(item, tuple):
        op = item[1]
        return op.elements * width if op.direction is Direction.TO_DEVICE else 0
    gemm = item.gemm  # a group without fused ops has a GEMM
    out = _elements(item.fused[-1][1]) if item.fused or gemm is None else \
        gemm.m * gemm.n * gemm.groups
    return out * item.steps * width


def _last_readers(items: list[Item]) -> list[int]:
    """For every item, the last item that reads its result (itself when none does): the
    host's output reads the item before it."""
    last = list(range(len(items)))
    for i, item in enumerate(items):
        reads = item.reads if isinstance(item, Group) else \
            ((i - 1,) if item[1].direction is Direction.TO_HOST and i else ())
        for j in reads:
            if j >= 0:
                last[j] = max(last[j], i)
    return last


def unified_buffer_needs(workload: Workload) -> list[tuple[str, int]]:
    """(op name, bytes of live activations) per fused group: its own result and every
    earlier result a later group still reads (its inputs, a residual block's shortcut),
    each tensor at the width its reader takes (`input_widths`)."""
    items = group_ops(workload)
    widths = [*input_widths(items), 1]
    sizes = [_result_bytes(item, widths[i] if isinstance(item, tuple) else widths[i + 1])
             for i, item in enumerate(items)]
    last = _last_readers(items)
    needs = []
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            continue
        live = sum(sizes[j] for j in range(i) if last[j] >= i)
        name = item.gemm.name if item.gemm else item.fused[0][1].name
        needs.append((name, live + sizes[i]))
    return needs


def _bytes(count: float) -> str:
    """Bytes in binary units: 24 MiB, 32.0 KiB, 512 B."""
    for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.1f} {unit}".replace(".0 ", " ")
    return f"{count:.0f} B"


def largest_need(workload: Workload) -> tuple[str, int]:
    """The group whose live activations are largest, and their bytes."""
    return max(unified_buffer_needs(workload), key=lambda item: item[1], default=("", 0))


def fitting_batch(workload: Workload, spec: TPUSpec) -> int:
    """The largest batch, up to the workload's, whose live activations fit the Unified
    Buffer (needs are linear in the batch); a `CapacityError` when not even one sample fits."""
    name, need = largest_need(workload)
    if need <= spec.unified_buffer_bytes:
        return workload.batch
    fits = min(workload.batch, int(spec.unified_buffer_bytes // (need / workload.batch)))
    while fits >= 1 and largest_need(workload.with_batch(fits))[1] > spec.unified_buffer_bytes:
        fits -= 1
    if fits < 1:
        one = largest_need(workload.with_batch(1))[1]
        raise CapacityError(
            f"{workload.network}: one sample needs {_bytes(one)} of Unified Buffer at {name} "
            f"(the activations live there: its inputs, its output and every result a later "
            f"layer still reads, 1 byte each, 2 where a GEMM reads 16-bit ones); {spec.name} "
            f"has {_bytes(spec.unified_buffer_bytes)}: use a larger unified_buffer_bytes or a "
            "smaller input")
    return fits


def spill_bytes(workload: Workload, spec: TPUSpec) -> int:
    """PCIe bytes of running the whole batch at once with what overflows the Unified Buffer
    spilled to host memory: each group's overflow written out and read back."""
    return sum(2 * max(0, need - spec.unified_buffer_bytes)
               for _, need in unified_buffer_needs(workload))


def check_weights(workload: Workload, spec: TPUSpec) -> None:
    """The int8 weights must fit the weight memory."""
    weight_bytes = sum(g.k * g.n * g.groups for g in workload.gemms)
    if weight_bytes > spec.weight_memory_bytes:
        raise CapacityError(f"{workload.network} has {weight_bytes:,} B of int8 weights; "
                            f"{spec.name}'s weight memory holds {spec.weight_memory_bytes:,} B: "
                            "use a smaller network or a larger weight_memory_bytes")


def check_capacity(workload: Workload, spec: TPUSpec) -> None:
    """The int8 weights must fit the weight memory, and at least one sample's activations
    the Unified Buffer (a larger batch runs in sub-batches: `fitting_batch`)."""
    check_weights(workload, spec)
    fitting_batch(workload, spec)


def compile_workload(workload: Workload, spec: TPUSpec, check: bool = True) -> Program:
    """The instruction stream for one batch of a workload (`check`: refuse one whose
    weights or activations do not fit)."""
    if check:
        check_weights(workload, spec)
        name, need = largest_need(workload)
        if need > spec.unified_buffer_bytes:
            raise CapacityError(f"{workload.network} at batch {workload.batch} needs "
                                f"{_bytes(need)} of Unified Buffer at {name}; {spec.name} has "
                                f"{_bytes(spec.unified_buffer_bytes)}: "
                                f"compile batches of at most {fitting_batch(workload, spec)} "
                                "(TPU.time_workload splits the batch itself)")
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
