"""The SM simulation against hand-worked timelines and the pipes' rates. (Its agreement with
the separately written twin is in test_sm_sim_reference.py.)"""

from __future__ import annotations

from accelsim.machines.gpu.sm_sim import SmProgram, SmTiming, TieredKernel, simulate_sm, sm_kernel

# 256x128 CTA, 8 warps, 16x8 outputs per thread; 64x32 CTA, 2 warps.
BIG_TILE = SmProgram(setup=120, global_loads=3, shared_stores=0, shared_loads=6, math=128,
                     inner_steps=8, loop_overhead=4, stores=32, epilogue=148, k_iters=1,
                     stages=3, async_copy=True)
SMALL_TILE = BIG_TILE._replace(global_loads=12, shared_loads=3, math=32, epilogue=52)
TIMING = SmTiming(alu_latency_cycles=4.0, shared_latency_cycles=30.0,
                  memory_latency_cycles=820.0, barrier_latency_cycles=20.0, math_cycles=1.0,
                  shared_load_cycles=4.0, shared_store_cycles=4.0, load_cycles=8.0,
                  store_cycles=8.0, queue_cycles=64.0, copy_queue_cycles=256.0,
                  math_issue_gap_cycles=1.5)


def run(ctas: int, warps: int, program: SmProgram, k_iters: int,
        timing: SmTiming = TIMING) -> tuple[float, float]:
    return simulate_sm(ctas, warps, 4, program._replace(k_iters=k_iters), timing)


# One warp on one scheduler, one instruction of each kind, one K slice.
TINY = SmProgram(setup=1, global_loads=1, shared_stores=1, shared_loads=1, math=1,
                 inner_steps=1, loop_overhead=1, stores=1, epilogue=1, k_iters=1, stages=3,
                 async_copy=True)
TINY_TIMING = SmTiming(alu_latency_cycles=1.0, shared_latency_cycles=10.0,
                       memory_latency_cycles=100.0, barrier_latency_cycles=5.0,
                       math_cycles=1.0, shared_load_cycles=2.0, shared_store_cycles=2.0,
                       load_cycles=4.0, store_cycles=4.0, queue_cycles=64.0,
                       copy_queue_cycles=256.0, math_issue_gap_cycles=1.0)


def test_hand_worked_timeline_with_async_copies():
    # setup issues at 0, its chain is ready at 1; the copy issues at 1, leaves the L2 port at
    # 5 and lands at 105; barrier releases at 110; LDS issues at 110, port done 112, data at
    # 122; FFMA at 122; loop op 123; epilogue 124; the store issues at 125 and leaves the
    # port at 129 (finish), completing at 229.
    assert simulate_sm(1, 1, 1, TINY, TINY_TIMING) == (129.0, 229.0)


def test_hand_worked_timeline_through_registers():
    # The same until the data lands at 105 in registers; then the STS issues at 105, the
    # shared port moves it by 107, visible at 117: barrier at 122, everything after it 12
    # cycles later than with an async copy.
    staged = TINY._replace(async_copy=False)
    assert simulate_sm(1, 1, 1, staged, TINY_TIMING) == (141.0, 241.0)


def test_two_warps_per_scheduler_keep_the_math_pipe_busy():
    # 8 warps on 4 schedulers, 1,024 FFMA per warp per iteration: 2,048 pipe cycles, plus
    # the issue slots of 55 other instructions per warp and the barrier's wait. (The H200's
    # 4096³ SGEMM, this tile, measured 5.30M cycles for 512 iterations × 4 waves: 2,589.)
    per_iter = run(1, 8, BIG_TILE, 8)[0] - run(1, 8, BIG_TILE, 7)[0]
    assert 2048 + 2 * 55 <= per_iter < 2589


def test_a_lone_warp_is_paced_by_its_issue_gap():
    # 4 warps, one per scheduler: 512 FFMA per iteration at 1.5 cycles each.
    program = BIG_TILE._replace(shared_loads=4, math=64, stores=16, epilogue=84)
    per_iter = run(1, 4, program, 8)[0] - run(1, 4, program, 7)[0]
    assert 512 * 1.5 <= per_iter < 512 * 1.5 * 1.2


def test_more_iterations_and_slower_memory_cost_more():
    times = [run(2, 2, SMALL_TILE, k)[0] for k in (1, 2, 4, 8)]
    assert times == sorted(times) and len(set(times)) == 4
    slow = TIMING._replace(memory_latency_cycles=2000)
    assert run(1, 2, SMALL_TILE, 1, slow)[0] > run(1, 2, SMALL_TILE, 1)[0] + 1000
    finish, last_store = run(1, 2, SMALL_TILE, 2)
    assert last_store >= finish + 820 - 64


def test_the_interpreted_and_compiled_tiers_give_the_same_floats():
    """`simulate_sm` runs `sm_kernel` interpreted first, then compiled by numba: the same
    code on the same doubles, every program of the hand-worked and tiled cases alike."""
    cases = [(1, 1, 1, TINY, TINY_TIMING), (1, 1, 1, TINY._replace(async_copy=False),
                                             TINY_TIMING)]
    cases += [(ctas, warps, 4, program._replace(k_iters=k), TIMING)
              for ctas, warps, program in ((1, 8, BIG_TILE), (4, 2, SMALL_TILE))
              for k in (1, 2, 7)]
    compiled = simulate_sm.compile()
    for case in cases:
        assert sm_kernel(*case) == compiled(*case), case


def test_the_kernel_compiles_only_after_many_calls():
    tiered = TieredKernel(sm_kernel, after=2)
    for _ in range(2):
        tiered(1, 1, 1, TINY, TINY_TIMING)
    assert tiered.compiled is None
    assert tiered(1, 1, 1, TINY, TINY_TIMING) == (129.0, 229.0) and tiered.compiled is not None
