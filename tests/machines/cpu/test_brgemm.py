"""oneDNN's brgemm RNN as brgemm.py follows its source: the blocking of an LSTM step's gate
GEMM (rnn_brgemm_utils.cpp), the work items and their split over threads
(brgemm_cell_common_fwd.cpp), the kernel's register blocking (brgemm_utils.cpp) and its issue
bound; and what they mean for whole networks."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.machines.cpu import brgemm
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE
from accelsim.measure import recorded
from accelsim.validation import cpu_layers

ZEN4 = SKYLAKE.replace(fma_bits=256)  # 16 lanes, one 512-bit FMA a cycle (two 256-bit pipes)


@pytest.mark.parametrize("batch, hidden, threads, rows", [
    (64, 128, 1, 64),  # 4 column blocks outnumber 1 thread: rows stay whole
    (64, 128, 2, 64),  # 4 / 2 = 2 > 1 (fp32): still whole
    (64, 128, 16, 4),  # 16 threads: ⌊64 / (4·⌈16/4⌉)⌋ = 4
    (256, 128, 16, 16),  # ⌊256 / 16⌋ = 16
    (256, 128, 64, 4),  # ⌊256 / (4·⌈64/4⌉)⌋ = 4
    (64, 128, 28, 64),  # ⌊64 / 28⌋ = 2 < 4: no block divides, rows stay whole
    (48, 512, 8, 48),  # 16 column blocks for 8 threads
    (100, 64, 16, 100),  # ⌊100 / 32⌋ = 3 < 4
    (96, 64, 2, 24),  # 2 column blocks, 2 threads: ⌊96 / 4⌋ = 24, at most 24
    (1, 128, 16, 1),
])
def test_row_blocks_follow_onednns_lstm_heuristic(batch, hidden, threads, rows):
    assert brgemm.blocking(SKYLAKE, batch, hidden, 16, threads).row_block == rows


def test_work_items_are_row_blocks_by_column_blocks_the_cell_fused_or_by_gate():
    step = brgemm.blocking(SKYLAKE, 64, 128, 16, 16)  # 16 row blocks × 4 column blocks
    assert (step.fused, step.items, step.gates_per_item) == (True, 64, 4)
    assert (step.busiest_items, step.threads_used) == (4, 16)
    whole = brgemm.blocking(SKYLAKE, 64, 128, 16, 28)  # one row block: each gate an item
    assert (whole.fused, whole.items, whole.gates_per_item, whole.threads_used) == \
        (False, 16, 1, 16)
    avx2 = brgemm.blocking(HASWELL, 64, 128, 16, 1)  # 16-float column blocks
    assert (avx2.column_block, avx2.column_blocks, avx2.items) == (16, 8, 32)
    odd = brgemm.blocking(SKYLAKE, 4, 100, 16, 3)  # 4 blocks, the last 4 columns wide
    assert (odd.column_blocks, odd.items, odd.busiest_items) == (4, 16, 6)


def test_batch_one_merges_the_input_gemm_over_every_step():
    assert brgemm.blocking(SKYLAKE, 1, 128, 64, 4).merged_layer
    assert not brgemm.blocking(SKYLAKE, 1, 128, 1, 4).merged_layer  # one step: nothing to merge
    assert not brgemm.blocking(SKYLAKE, 2, 128, 64, 4).merged_layer
    merged = brgemm.merged_layer(SKYLAKE, 64, 128, 16)  # 64 steps as rows, blocked as a step's
    assert (merged.rows, merged.row_block, merged.items) == (64, 4, 16 * 4 * 4)


@pytest.mark.parametrize("spec, rows, bd", [
    (SKYLAKE, 1, 1), (SKYLAKE, 4, 4), (SKYLAKE, 16, 8), (SKYLAKE, 64, 13), (SKYLAKE, 14, 14),
    (HASWELL, 64, 6), (HASWELL, 16, 6), (HASWELL, 3, 3)])
def test_register_rows_waste_least_and_load_least(spec, rows, bd):
    """(registers − 2 B vectors − 1 broadcast) / 2: 14 rows on AVX-512, 6 on AVX2; among
    those the most rows used × FMAs per load (16 rows: 2 blocks of 8 beat 14 + 2; on AVX2 6
    ties 4 and oneDNN keeps the first, the larger)."""
    assert brgemm.register_rows_limit(spec) == (14 if spec.simd_lanes == 16 else 6)
    assert brgemm.register_rows(spec, rows) == bd


def test_kernel_cycles_are_the_fma_issue_or_its_latency():
    depth = 128
    # one row: 2 accumulators wait on the FMA latency (4 cycles) whatever the pipes
    assert brgemm.kernel_cycles(SKYLAKE, 1, depth) == depth * 4
    assert brgemm.kernel_cycles(ZEN4, 1, depth) == depth * 4
    # two rows: 4 FMAs a k step, 2 a cycle on Skylake (latency-bound), 1 on Zen 4
    assert brgemm.kernel_cycles(SKYLAKE, 2, depth) == depth * 4
    assert brgemm.kernel_cycles(ZEN4, 2, depth) == depth * 4
    # 64 rows in 4 blocks of 13 and one of 12: 2 FMAs per row a k step
    assert brgemm.kernel_cycles(ZEN4, 64, depth) == depth * (4 * 26 + 24)
    assert brgemm.kernel_cycles(SKYLAKE, 64, depth) == depth * (4 * 13 + 12)
    # Haswell: 10 blocks of 6 rows (12 FMAs, 6 cycles), 4 rows left wait on its 5-cycle latency
    assert brgemm.kernel_cycles(HASWELL, 64, depth) == depth * (10 * 6 + 5)


def recorded_specs():
    zen4 = cpu_layers.replay_spec(recorded.read("cpu-epyc-zen4-2vcpu-2026-12-07.json"))
    sixteen = recorded.replay_spec_of(recorded.read("cpu-intel-16core-2026-11-27.json"))
    return [HASWELL, SKYLAKE, zen4, sixteen]


@pytest.mark.parametrize("spec", recorded_specs(), ids=lambda s: s.name)
def test_an_lstm_on_one_thread_never_gets_faster_with_more_samples(spec):
    """On one thread oneDNN keeps the rows whole, so a bigger batch only adds rows: a step at
    batch 1 (merged input GEMM, one latency-bound row) is no slower than at batch 2. (OpenBLAS's
    GEMV, which timed the gate GEMM before, made batch 1 slower than batch 2.) On many threads
    oneDNN's row blocking has cliffs of its own (`test_row_blocks_...`: 64 rows on 28 threads
    stay whole and use 16 of them), so no such rule holds there."""
    one = CPU(spec.replace(cores=1))
    net = ax.network("lstm-char")
    times = [one.run(net, batch=b).seconds for b in (1, 2, 3, 4, 8, 16, 64, 256)]
    assert times == sorted(times)
