"""One SM: resident warps issuing a GEMM kernel's instruction mix through the warp schedulers
(numba; `simulate_sm.py_func` runs the same code without numba and is the twin the tests
compare against).

Each warp runs: `setup` dependent integer ops; the prologue's async global→shared copies of
the first stages−1 K slices; then per K slice: the copies for slice i+stages−1, a wait for
slice i's data, a CTA barrier, and `inner_steps` rounds of shared-memory fragment loads (the
next round's loads issued before this round's math, as register double buffering does) and
math instructions (FFMA or MMA); the loop's integer ops; finally the epilogue's arithmetic
and its stores.

Timing is event-driven at the granularity of instruction groups (a round's loads, a round's
math), processed in time order. Resources are fluid: each scheduler issues one instruction
per cycle, shared among its warps; its math pipe accepts one instruction per `math_cycles`;
a single warp issues math at most once per `math_issue_gap` cycles (so one warp cannot fill
the pipe alone, two can); the SM's shared-memory port moves 512 bytes per LDS.128 at its
bytes per cycle, and its L2 port moves a copy's bytes at the SM's bandwidth share. A group
ends when both its own issue pace and the resources it shares allow. Latencies: ALU (setup
chain), shared memory, global memory, barrier. A warp may run ahead of a busy port by at
most `queue_cycles` (the MIO/LSU queues).
"""

from __future__ import annotations

import numba
import numpy as np

COPY_QUEUE = 256.0  # cycles of copies a warp may have queued at the L2 port
SETUP, PROLOGUE, LOAD, WAIT, BARRIER, SHARED, MATH, LOOP, EPILOGUE, STORE, DONE = range(11)
# program vector: setup, global_loads, shared_loads, math, inner_steps, loop_overhead, stores,
#                 k_iters, stages, epilogue
# timing vector: alu_latency, shared_latency, memory_latency, barrier_latency, math_cycles,
#                shared_cycles, load_cycles, store_cycles, queue_cycles, math_issue_gap


@numba.njit(cache=True)
def _issue(issue_free, s, t, count):
    """Start time on scheduler s's issue port for `count` instructions ready at t; the
    port is then busy until the returned end."""
    start = max(t, issue_free[s])
    issue_free[s] = start + count
    return start, start + count


@numba.njit(cache=True)
def simulate_sm(n_ctas, warps_per_cta, schedulers, program, timing):
    """Cycles until every warp of `n_ctas` resident CTAs has issued its last store, and the
    cycle the last store completes."""
    setup, gloads, sloads, maths, steps, loop_ops, stores, k_iters, stages, epilogue = program
    alu_lat, sh_lat, mem_lat, bar_lat, math_cyc, sh_cyc, ld_cyc, st_cyc, queue, gap = timing
    nw = n_ctas * warps_per_cta
    phase = np.zeros(nw, np.int64)
    ready = np.zeros(nw)
    k = np.zeros(nw, np.int64)
    kk = np.zeros(nw, np.int64)
    lds_j = np.zeros(nw, np.int64)
    loaded = np.zeros(nw, np.int64)  # K slices whose copies have been issued
    lds_done = np.zeros((nw, 2))
    stage_done = np.zeros((nw, stages))
    bar_count = np.zeros(n_ctas, np.int64)
    bar_time = np.zeros(n_ctas)
    issue_free = np.zeros(schedulers)
    math_free = np.zeros(schedulers)
    shared_free = 0.0
    lsu_free = 0.0
    last_store = 0.0
    finish = 0.0
    prologue = min(stages - 1, k_iters)
    done = 0
    while done < nw:
        w = -1
        t = np.inf
        for v in range(nw):
            if phase[v] != BARRIER and phase[v] != DONE and ready[v] < t:
                t, w = ready[v], v
        s = w % schedulers
        p = phase[w]
        if p == SETUP:
            start, end = _issue(issue_free, s, t, setup)
            ready[w] = start + setup * alu_lat
            phase[w] = PROLOGUE if prologue > 0 else LOAD
        elif p in (PROLOGUE, LOAD):
            slices = prologue if p == PROLOGUE else 1
            for _ in range(slices):
                if loaded[w] >= k_iters:
                    break
                start, end = _issue(issue_free, s, t, gloads)
                lsu_free = max(lsu_free, start) + gloads * ld_cyc
                stage_done[w, loaded[w] % stages] = lsu_free + mem_lat
                loaded[w] += 1
                t = max(end, lsu_free - COPY_QUEUE)
            ready[w] = t
            phase[w] = WAIT
        elif p == WAIT:
            arrive = max(t, stage_done[w, k[w] % stages])
            cta = w // warps_per_cta
            phase[w] = BARRIER
            bar_count[cta] += 1
            bar_time[cta] = max(bar_time[cta], arrive)
            if bar_count[cta] == warps_per_cta:
                release = bar_time[cta] + bar_lat
                for v in range(cta * warps_per_cta, (cta + 1) * warps_per_cta):
                    phase[v], ready[v], kk[v], lds_j[v] = SHARED, release, 0, 0
                bar_count[cta], bar_time[cta] = 0, 0.0
        elif p == SHARED:
            start, end = _issue(issue_free, s, t, sloads)
            shared_free = max(shared_free, start) + sloads * sh_cyc
            lds_done[w, lds_j[w] % 2] = shared_free + sh_lat
            ready[w] = max(end, shared_free - queue)
            if lds_j[w] == 0 and steps > 1:
                lds_j[w] = 1
            else:
                phase[w] = MATH
        elif p == MATH:
            t = max(t, lds_done[w, kk[w] % 2])
            start, end = _issue(issue_free, s, t, maths)
            math_free[s] = max(math_free[s], start) + maths * math_cyc
            ready[w] = max(start + maths * gap, math_free[s], end)
            kk[w] += 1
            if kk[w] >= steps:
                phase[w] = LOOP
            elif kk[w] + 1 < steps:
                phase[w], lds_j[w] = SHARED, kk[w] + 1
        elif p == LOOP:
            start, end = _issue(issue_free, s, t, loop_ops)
            ready[w] = end
            k[w] += 1
            if k[w] >= k_iters:
                phase[w] = EPILOGUE
            elif loaded[w] < k_iters:
                phase[w] = LOAD
            else:
                phase[w] = WAIT
        elif p == EPILOGUE:
            start, end = _issue(issue_free, s, t, epilogue)
            ready[w] = end
            phase[w] = STORE
        elif p == STORE:
            start, end = _issue(issue_free, s, t, stores)
            lsu_free = max(lsu_free, start) + stores * st_cyc
            last_store = max(last_store, lsu_free + mem_lat)
            finish = max(finish, end, lsu_free - queue)
            phase[w] = DONE
            done += 1
    return max(finish, lsu_free), last_store
