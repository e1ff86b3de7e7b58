"""The TPU's compiler and executor fused into one numba loop: program totals without a program.

`compiler.compile_workload` emits one instruction per tile and row chunk, and
`executor.execute` walks them; an 8×8 array turns one batch of the char LSTM into 234,000
instructions (half a second to compile in Python, more to execute). A sweep needs only the
totals (end-to-end and device-only cycles, off-chip and on-chip bytes), so `program_cycles`
walks the compiler's loop nest (item → time step → N block → row chunk → K block) and applies
the executor's rule to each instruction as it would be emitted, never building it. The model
is the TPU machine's own, not an approximation: the same rules with the same floating-point
operations in the same order, so every total equals, bit for bit, what
`execute(compile_workload(workload, spec), spec)` gives (tests/machines/tpu/
test_fused_timing.py checks it on random workloads and specs: that pair is this kernel's
independent twin, ARCHITECTURE.md, "A slow twin beside every fast path").

Lanes: the emitted program depends only on the workload and the array's shape (array_rows,
array_cols, accumulator_rows); the DDR3 and PCIe bytes per cycle, the weight FIFO's depth and
whether the host transfers run only change times. So one walk of the loop nest times many
lanes at once, each lane its own machine state — at least the end-to-end and device-only runs
of one spec, and in a sweep every spec that shares the shape. The lanes' dependency chains are
independent, so the CPU overlaps them.

What the encoding keeps of a workload (`encode_items`, built from the compiler's own
`group_ops` and `input_widths`): per item its kind (host read, host write, GEMM group,
element-wise group), transfer bytes, the GEMM's m, k, n, passes and time steps, and the
element counts that set the Activate cycles. Op indices are dropped: they only attribute time
to ops, and totals need none.

Three facts of the emitted order let state shrink without changing a result:
- a MatrixMultiply on a tile other than the active one always directly follows that tile's
  Read_Weights, and Read_Weights of tile t reads the shift start of tile t − depth: a ring of
  at least depth + 1 slots holds every fetch end and shift start the executor still reads
  (the executor's 0.0 placeholder for a fetched tile's shift start is never read before that
  MatrixMultiply overwrites it, so it is not written);
- a Sync is idempotent (barrier = produced) and the compiler adds one before each group unless
  the last instruction was one, so the kernel always syncs there;
- the executor's end, max(array, activation unit, PCIe, every op's end), is
  max(array, activation unit, PCIe): every op ends with an instruction on one of the three,
  and each of the three only moves forward.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from accelsim.ir import Direction, Pool, Vector, Workload
from accelsim.machines.tpu.compiler import Group, group_ops, input_widths, packing

READ_HOST, WRITE_HOST, GEMM_GROUP, ELEMENTWISE_GROUP = range(4)

ITEM = np.dtype([
    ("kind", np.int64),  # READ_HOST, WRITE_HOST, GEMM_GROUP or ELEMENTWISE_GROUP
    ("nbytes", np.int64),  # a host transfer's bytes
    ("m", np.int64), ("k", np.int64), ("n", np.int64),  # a group's GEMM
    ("passes", np.int64),  # 2 for 16-bit activations
    ("steps", np.int64),  # time steps of a recurrent group
    ("vector_elements", np.int64),  # a GEMM group's fused element-wise results
    ("elements", np.int64),  # an element-wise group's results
    ("groups", np.int64),  # a grouped GEMM's groups (k and n per group)
])

# The emitter's and the executor's lane-independent state: the array's shape, tiles read,
# row chunks (alternating accumulator buffers), the active tile, the tile a lone GEMM left in
# the array (and its item), and the end-to-end run's traffic.
CONTROL = np.dtype([
    ("array_rows", np.int64), ("array_cols", np.int64), ("buffer_rows", np.int64),
    ("tiles", np.int64), ("chunks", np.int64), ("active_tile", np.int64),
    ("lone_item", np.int64), ("lone_tile", np.int64),
    ("offchip_bytes", np.int64), ("onchip_bytes", np.int64),
])


# What each lane times: the spec values that change times but not the program.
LANE = np.dtype([
    ("ddr_bytes_per_cycle", np.float64), ("pcie_bytes_per_cycle", np.float64),
    ("fifo_tiles", np.int64),  # the weight FIFO's depth
    ("host_io", np.bool_),  # False: the device alone, no PCIe transfers (host_io=False)
])


class Lanes(NamedTuple):
    """Per lane: the spec values that only change times, then the executor's state."""

    ddr_bytes_per_cycle: np.ndarray
    pcie_bytes_per_cycle: np.ndarray
    fifo_tiles: np.ndarray  # int64
    host_io: np.ndarray  # bool: False times the device alone (no PCIe transfers)
    ddr: np.ndarray
    pcie: np.ndarray
    shifter: np.ndarray
    shadow: np.ndarray
    array: np.ndarray
    act: np.ndarray
    barrier: np.ndarray
    produced: np.ndarray
    fetch_end: np.ndarray  # (ring slots, lanes), tile t in slot t & (slots − 1)
    shift_start: np.ndarray  # (ring slots, lanes)
    acc_ready: np.ndarray  # (2 accumulator buffers, lanes)
    acc_free: np.ndarray  # (2, lanes)


def encode_items(workload: Workload) -> np.ndarray:
    """The compiler's items (`group_ops`) as an `ITEM` record array."""
    items = group_ops(workload)
    out = np.zeros(len(items), ITEM)
    for row, item, width in zip(out, items, input_widths(items), strict=True):
        if not isinstance(item, Group):
            op = item[1]
            to_device = op.direction is Direction.TO_DEVICE
            row["kind"] = READ_HOST if to_device else WRITE_HOST
            row["nbytes"] = op.elements * width if to_device else op.elements
        elif item.gemm is None:
            row["kind"] = ELEMENTWISE_GROUP
            row["elements"] = sum(op.elements for _, op in item.fused
                                  if isinstance(op, Vector | Pool))
        else:
            gemm = item.gemm
            row["kind"] = GEMM_GROUP
            row["m"], row["k"], row["n"], row["groups"] = gemm.m, gemm.k, gemm.n, gemm.groups
            row["passes"], row["steps"] = gemm.activation_bits // 8, item.steps
            row["vector_elements"] = sum(op.elements for _, op in item.fused
                                         if isinstance(op, Vector))
    return out


@numba.njit(cache=True, inline="always")
def _read_weights(lanes, tile, nbytes):
    """Read_Weights: wait for the DDR channel and a FIFO slot (tile − depth shifting in)."""
    mask = lanes.fetch_end.shape[0] - 1
    for lane in range(len(lanes.ddr)):
        depth = lanes.fifo_tiles[lane]
        slot = lanes.shift_start[(tile - depth) & mask, lane] if tile >= depth else 0.0
        end = max(lanes.ddr[lane], slot) + nbytes / lanes.ddr_bytes_per_cycle[lane]
        lanes.ddr[lane] = end
        lanes.fetch_end[tile & mask, lane] = end


@numba.njit(cache=True, inline="always")
def _matrix_multiply(lanes, new_tile, tile, cycles, buffer, accumulate, array_rows,
                     array_cols):
    """MatrixMultiply: shift a new tile in behind the running one, then stream the rows;
    the results are complete R + C − 2 cycles after the last row enters."""
    slot = tile & (lanes.fetch_end.shape[0] - 1)
    for lane in range(len(lanes.ddr)):
        weights_ready = 0.0
        if new_tile:
            shift = max(lanes.fetch_end[slot, lane], lanes.shifter[lane], lanes.shadow[lane])
            lanes.shift_start[slot, lane] = shift
            weights_ready = shift + array_rows
            lanes.shifter[lane] = weights_ready
        buffer_free = 0.0 if accumulate else lanes.acc_free[buffer, lane]
        start = max(lanes.array[lane], weights_ready, lanes.barrier[lane], buffer_free)
        end = start + cycles
        lanes.array[lane] = end
        if new_tile:
            lanes.shadow[lane] = start
        lanes.acc_ready[buffer, lane] = end + array_rows + array_cols - 2


@numba.njit(cache=True, inline="always")
def _activate(lanes, buffer, cycles):
    """Activate: drain a buffer (buffer −1: element-wise work after the barrier)."""
    for lane in range(len(lanes.ddr)):
        ready = lanes.acc_ready[buffer, lane] if buffer >= 0 else lanes.barrier[lane]
        end = max(lanes.act[lane], ready) + cycles
        lanes.act[lane] = end
        if buffer >= 0:
            lanes.acc_free[buffer, lane] = end
        if end >= lanes.produced[lane]:
            lanes.produced[lane] = end


@numba.njit(cache=True, inline="always")
def _host(lanes, nbytes, write):
    """Read_Host_Memory (a Sync after it) or Write_Host_Memory (a Sync before it) over PCIe,
    one after another; lanes without host I/O only sync."""
    for lane in range(len(lanes.ddr)):
        if write:
            lanes.barrier[lane] = lanes.produced[lane]
        if lanes.host_io[lane]:
            after = lanes.barrier[lane] if write else 0.0
            end = max(lanes.pcie[lane], after) + nbytes / lanes.pcie_bytes_per_cycle[lane]
            lanes.pcie[lane] = end
            if not write and end >= lanes.produced[lane]:
                lanes.produced[lane] = end
        lanes.barrier[lane] = lanes.produced[lane]


@numba.njit(cache=True, inline="always")
def _sync(lanes):
    """Sync: later instructions wait for every result produced so far."""
    for lane in range(len(lanes.ddr)):
        lanes.barrier[lane] = lanes.produced[lane]


@numba.njit(cache=True, inline="always")
def _chunk(lanes, control, item, k, rows, buffer, width, resident, k_blocks):
    """The K blocks of one row chunk (compiler `_Emitter.chunk`); returns the tile left in
    the array."""
    for kb in range(k_blocks):
        depth = min(control.array_rows, k - kb * control.array_rows)
        if k_blocks > 1 or resident < 0:
            resident = control.tiles
            control.tiles += 1
            _read_weights(lanes, resident, depth * width)
            control.offchip_bytes += depth * width
        new_tile = resident != control.active_tile
        control.active_tile = resident
        _matrix_multiply(lanes, new_tile, resident, rows * item.passes, buffer, kb > 0,
                         control.array_rows, control.array_cols)
        control.onchip_bytes += rows * depth * item.passes + 4 * rows * width
    return resident


@numba.njit(cache=True, inline="always")
def _gemm_step(lanes, control, item, index, k, n, last_pack, single):
    """One repetition of a group's GEMM, or of one pack of its groups (compiler
    `_Emitter.gemm_step`): N block → row chunk → K block, an Activate per chunk; a lone tile
    stays in the array across steps."""
    cols, chunk_rows = control.array_cols, control.buffer_rows
    k_blocks = math.ceil(k / control.array_rows)
    n_blocks = math.ceil(n / cols)
    lone = single and k_blocks == 1 and n_blocks == 1
    extra = math.ceil(max(item.vector_elements - item.m * item.n * item.groups, 0) / cols)
    resident = -1
    for nb in range(n_blocks):
        width = min(cols, n - nb * cols)
        resident = control.lone_tile if lone and control.lone_item == index else -1
        for start in range(0, item.m, chunk_rows):
            rows = min(chunk_rows, item.m - start)
            buffer = control.chunks % 2
            control.chunks += 1
            resident = _chunk(lanes, control, item, k, rows, buffer, width, resident, k_blocks)
            last = last_pack and nb == n_blocks - 1 and start + rows >= item.m
            _activate(lanes, buffer, rows + (extra if last else 0))
            control.onchip_bytes += rows * cols
    control.lone_item = index if lone else -1
    control.lone_tile = resident if lone else -1


_packing = numba.njit(cache=True)(packing)


@numba.njit(cache=True)
def _walk(items, lanes, control):
    """Every item in order (compiler `compile_workload`) with the executor's rules."""
    for index in range(len(items)):
        item = items[index]
        if item.kind == READ_HOST or item.kind == WRITE_HOST:
            _host(lanes, item.nbytes, item.kind == WRITE_HOST)
            control.offchip_bytes += item.nbytes
            continue
        _sync(lanes)  # the Sync before a group (a no-op after a Sync)
        if item.kind == ELEMENTWISE_GROUP:
            rows = math.ceil(item.elements / control.array_cols)
            _activate(lanes, -1, rows)
            control.onchip_bytes += rows * control.array_cols
            continue
        per_tile, packs = _packing(item.groups, item.k, item.n, control.array_rows,
                                   control.array_cols)
        for step in range(item.steps):
            if step:
                _sync(lanes)
            for pack in range(packs):
                groups = min(per_tile, item.groups - pack * per_tile)
                _gemm_step(lanes, control, item, index, groups * item.k, groups * item.n,
                           pack == packs - 1, packs == 1)


@numba.njit(cache=True)
def _most_tiles(items, array_rows, array_cols, buffer_rows):
    """An upper bound on the tiles the program reads (one per K block, N block, row chunk
    and step)."""
    tiles = 0
    for item in items:
        if item.kind == GEMM_GROUP:
            per_tile, packs = _packing(item.groups, item.k, item.n, array_rows, array_cols)
            tiles += (item.steps * packs * math.ceil(per_tile * item.k / array_rows)
                      * math.ceil(per_tile * item.n / array_cols)
                      * math.ceil(item.m / buffer_rows))
    return tiles


@numba.njit(cache=True)
def _new_lanes(params, most_tiles):
    """Fresh lanes (all times 0) for the `LANE` records given. The ring has a power of two
    of slots above every FIFO depth, or above the tiles read where fewer: a depth beyond the
    tiles read never waits for a slot."""
    count = len(params)
    ddr, pcie = np.empty(count), np.empty(count)
    fifo, host_io = np.empty(count, np.int64), np.empty(count, np.bool_)
    for lane in range(count):
        ddr[lane] = params[lane].ddr_bytes_per_cycle
        pcie[lane] = params[lane].pcie_bytes_per_cycle
        fifo[lane], host_io[lane] = params[lane].fifo_tiles, params[lane].host_io
    slots = 2
    while slots <= min(fifo.max(), most_tiles):
        slots *= 2
    return Lanes(ddr, pcie, fifo, host_io, np.zeros(count), np.zeros(count), np.zeros(count),
                 np.zeros(count), np.zeros(count), np.zeros(count), np.zeros(count),
                 np.zeros(count), np.zeros((slots, count)), np.zeros((slots, count)),
                 np.zeros((2, count)), np.zeros((2, count)))


@numba.njit(cache=True)
def _lane_cycles(items, params, array_rows, array_cols, buffer_rows):
    """See `program_cycles`."""
    lanes = _new_lanes(params, _most_tiles(items, array_rows, array_cols, buffer_rows))
    controls = np.zeros(1, CONTROL)  # kept alive: a record of a freed temporary is garbage
    control = controls[0]
    control.array_rows, control.array_cols = array_rows, array_cols
    control.buffer_rows = buffer_rows
    control.active_tile = control.lone_item = control.lone_tile = -1
    _walk(items, lanes, control)
    cycles = np.empty(len(params))
    for lane in range(len(params)):
        cycles[lane] = max(lanes.array[lane], lanes.act[lane], lanes.pcie[lane])
    return cycles, controls[0].offchip_bytes, controls[0].onchip_bytes


def program_cycles(items: np.ndarray, array_rows: int, array_cols: int,
                   accumulator_buffer_rows: int, lanes: np.ndarray
                   ) -> tuple[np.ndarray, int, int]:
    """Each lane's cycles (`lanes`: `LANE` records) for the program `compile_workload` would
    build from the encoded workload on an array of this shape (`execute(...).cycles`, or
    `execute(..., host_io=False).cycles`), and the end-to-end run's (off-chip, on-chip) bytes:
    DDR3 weight reads plus PCIe transfers, and Unified Buffer and accumulator traffic
    (`Execution.op_traffic` summed)."""
    cycles, offchip, onchip = _lane_cycles(items, lanes, array_rows, array_cols,
                                           accumulator_buffer_rows)
    return cycles, int(offchip), int(onchip)
