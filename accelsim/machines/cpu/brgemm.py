"""oneDNN's brgemm RNN primitive (x86, forward inference, fp32, no AMX) as it blocks an LSTM's
per-step gate GEMM, splits it over threads and runs each block, as oneDNN 3.x's source does it
(PyTorch 2.13 bundles oneDNN 3.12; ONEDNN_VERBOSE shows `rnn,brgemm:avx512_core` for nn.LSTM):

- Blocking (src/cpu/x64/rnn/rnn_brgemm_utils.cpp, `configure_brgemm`): the gate GEMM's rows are
  the batch (M), its columns the hidden units (N) in blocks of two vectors (`n_block`: 32
  floats with AVX-512, 16 with AVX2), all four gates of a column block computed together.
  Rows stay whole while there are more column blocks than threads (`brgemm_calc_m_block_lstm`);
  otherwise they are cut into blocks of at most 24 rows, the largest divisor of M between 4
  and M / (4 ⌈threads / N_blocks⌉) (`adjust_m_block_lstm`), M itself where none divides.
- Work items (brgemm_cell_common_fwd.cpp): row blocks × column blocks, each running the four
  gates' GEMMs and then the cell on its block (the fused post-GEMM). With one row block the
  post-GEMM is not fused: each gate of a column block is an item and the cell runs after, as
  its own loop over the batch rows. `balance211` hands the items out in equal runs, the first
  threads one more: the busiest thread runs ⌈items / threads⌉. One parallel region per step.
- Batch 1, one layer, two or more steps (`merged_layer_compute_applicable`): the layer input's
  GEMM runs once over every step (M = steps); each step then only multiplies the hidden state.
  Otherwise a step multiplies the input and the hidden state (K = input + hidden).
- The kernel (src/cpu/x64/brgemm/brgemm_utils.cpp, `brgemm_blocking`): rows in register
  blocks of `bd` rows × two vectors of accumulators; `bd` at most (registers − 3) / 2 (14 of
  AVX-512's 32, 6 of AVX2's 16), chosen to waste the fewest rows and keep the most FMAs per
  load. Each k step of a register block issues 2·bd FMAs on 2·bd independent accumulators:
  at one FMA a cycle per pipe it takes 2·bd / `vector_fmas_per_cycle` cycles, and no fewer
  than `fma_latency_cycles`, the time an accumulator's previous FMA takes (one row: 2
  accumulators, a quarter of a two-pipe core's peak).

Not modelled: a last column block narrower than two vectors (hidden sizes that are not a
multiple of 32 or 16) is timed as a whole one; AMX and int8/bf16 blockings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.machines.cpu.spec import CPUSpec

LSTM_GATES = 4  # input, forget, candidate, output
BLOCK_VECTORS = 2  # a column block is two vectors wide (n_block = 2 · simd width)
MAX_ROW_BLOCK = 24  # adjust_m_block_lstm's largest block of rows (non-AMX)
MIN_ROW_BLOCK = 4
ROW_BLOCKS_PER_THREAD = 4  # adjust_m_block_lstm aims at 4 row blocks per thread of a column


@dataclass(frozen=True)
class Blocking:
    """How oneDNN cuts one step's gate GEMM into work items for its threads."""

    rows: int  # M: the batch
    row_block: int
    columns: int  # N: hidden units
    column_block: int
    fused: bool  # the cell runs inside each item (more than one row block)
    merged_layer: bool  # the input's GEMM runs once over every step (batch 1)
    threads: int

    @property
    def row_blocks(self) -> int:
        return self.rows // self.row_block

    @property
    def column_blocks(self) -> int:
        return math.ceil(self.columns / self.column_block)

    @property
    def gates_per_item(self) -> int:
        return LSTM_GATES if self.fused else 1

    @property
    def items(self) -> int:
        return self.row_blocks * self.column_blocks * (LSTM_GATES // self.gates_per_item)

    @property
    def busiest_items(self) -> int:
        """The items `balance211` gives its first (busiest) thread."""
        return math.ceil(self.items / self.threads)

    @property
    def threads_used(self) -> int:
        return min(self.threads, self.items)


def row_block(rows: int, column_blocks: int, threads: int) -> int:
    """`brgemm_calc_m_block_lstm` for fp32: whole rows while column blocks outnumber the
    threads, else `adjust_m_block_lstm`'s largest divisor of `rows` in [4, 24] that leaves
    ROW_BLOCKS_PER_THREAD blocks per thread of a column (`rows` where none does)."""
    if column_blocks / threads > 1:
        return rows
    per_column = ROW_BLOCKS_PER_THREAD * math.ceil(threads / column_blocks)
    largest = min(MAX_ROW_BLOCK, max(1, rows // per_column))
    return next((m for m in range(largest, MIN_ROW_BLOCK - 1, -1) if rows % m == 0), rows)


def blocking(spec: CPUSpec, batch: int, hidden: int, steps: int, threads: int) -> Blocking:
    """The blocking of an LSTM layer's per-step GEMM on `threads` threads (one layer, one
    direction per oneDNN call, as PyTorch's mkldnn_rnn_layer makes it)."""
    column_block = BLOCK_VECTORS * spec.simd_lanes
    column_blocks = math.ceil(hidden / column_block)
    rows = row_block(batch, column_blocks, threads)
    return Blocking(batch, rows, hidden, column_block, fused=batch // rows > 1,
                    merged_layer=batch <= 1 and steps >= 2, threads=threads)


def register_rows_limit(spec: CPUSpec) -> int:
    """Rows of accumulators a brgemm kernel keeps in registers for two vectors of columns
    (`calculate_max_bcast_block`: the registers less the two B vectors and one broadcast,
    over two): 14 of AVX-512's 32 registers, 6 of AVX2's 16."""
    registers = 32 if spec.simd_lanes >= 16 else 16
    return (registers - BLOCK_VECTORS - 1) // BLOCK_VECTORS


def register_rows(spec: CPUSpec, rows: int) -> int:
    """`brgemm_blocking`'s rows per register block: the one with the best product of rows
    used (rows over rows rounded up to whole blocks) and FMAs per load (2·bd / (2 + bd))."""
    limit = register_rows_limit(spec)

    def efficiency(bd: int) -> float:
        return rows / (math.ceil(rows / bd) * bd) * (BLOCK_VECTORS * bd) / (BLOCK_VECTORS + bd)

    return max(range(limit, 0, -1), key=efficiency)


def kernel_cycles(spec: CPUSpec, rows: int, depth: int) -> float:
    """Cycles of one brgemm call: `rows` × `depth` times a two-vector column block, register
    block by register block, each k step the longer of its FMAs' issue and the FMA latency
    (the issue bound; framework.py's BRGEMM_EFFICIENCY is the fraction of it sustained)."""
    bd = register_rows(spec, rows)
    full, tail = divmod(rows, bd)

    def per_k(block_rows: int) -> float:
        return max(BLOCK_VECTORS * block_rows / spec.vector_fmas_per_cycle,
                   spec.fma_latency_cycles)

    return depth * (full * per_k(bd) + (per_k(tail) if tail else 0.0))


def merged_layer(spec: CPUSpec, steps: int, hidden: int, threads: int) -> Blocking:
    """The blocking of the input's GEMM merged over every step at batch 1 (oneDNN's
    `brgemm_merged_layer_t`): `steps` rows, blocked as a step's rows are, each gate of a
    column block its own item (the cell is not fused at batch 1)."""
    column_block = BLOCK_VECTORS * spec.simd_lanes
    rows = row_block(steps, math.ceil(hidden / column_block), threads)
    return Blocking(steps, rows, hidden, column_block, fused=False, merged_layer=False,
                    threads=threads)
