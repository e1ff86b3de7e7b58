"""The SM simulation: numba and interpreted runs agree, and the timings follow the pipes."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.machines.gpu.sm_sim import simulate_sm

# setup, global_loads, shared_loads, math, inner_steps, loop_overhead, stores, k_iters, stages,
# epilogue
BIG_TILE = [120, 3, 6, 128, 8, 4, 32, 1, 3, 148]  # 256x128 CTA, 8 warps, 16x8 per thread
SMALL_TILE = [120, 12, 3, 32, 8, 4, 32, 1, 3, 52]  # 64x32 CTA, 2 warps
TIMING = [4, 30, 820, 20, 1, 4, 8.0, 8.0, 64.0, 1.5]


def run(ctas, warps, program, k_iters, timing=TIMING, python=False):
    prog = np.array(program, np.int64)
    prog[7] = k_iters
    fn = simulate_sm.py_func if python else simulate_sm
    return fn(ctas, warps, 4, prog, np.array(timing, float))


@pytest.mark.parametrize("ctas,warps,program,k_iters", [
    (1, 8, BIG_TILE, 3), (8, 2, SMALL_TILE, 4), (3, 2, SMALL_TILE, 1), (1, 1, SMALL_TILE, 2),
])
def test_numba_and_interpreted_runs_agree(ctas, warps, program, k_iters):
    assert run(ctas, warps, program, k_iters) == run(ctas, warps, program, k_iters,
                                                     python=True)


def test_two_warps_per_scheduler_keep_the_math_pipe_busy():
    # 8 warps on 4 schedulers, 1,024 FFMA per warp per iteration: 2,048 pipe cycles, plus
    # the issue slots of 55 other instructions per warp and the barrier's wait. (The H200's
    # 4096³ SGEMM, this tile, measured 5.30M cycles for 512 iterations × 4 waves: 2,589.)
    per_iter = run(1, 8, BIG_TILE, 8)[0] - run(1, 8, BIG_TILE, 7)[0]
    assert 2048 + 2 * 55 <= per_iter < 2589


def test_a_lone_warp_is_paced_by_its_issue_gap():
    # 4 warps, one per scheduler: 512 FFMA per iteration at 1.5 cycles each.
    program = [120, 3, 4, 64, 8, 4, 16, 1, 3, 84]
    per_iter = run(1, 4, program, 8)[0] - run(1, 4, program, 7)[0]
    assert 512 * 1.5 <= per_iter < 512 * 1.5 * 1.2


def test_more_iterations_and_slower_memory_cost_more():
    times = [run(2, 2, SMALL_TILE, k)[0] for k in (1, 2, 4, 8)]
    assert times == sorted(times) and len(set(times)) == 4
    slow = list(TIMING)
    slow[2] = 2000  # memory latency
    assert run(1, 2, SMALL_TILE, 1, slow)[0] > run(1, 2, SMALL_TILE, 1)[0] + 1000
    finish, last_store = run(1, 2, SMALL_TILE, 2)
    assert last_store >= finish + 820 - 64
