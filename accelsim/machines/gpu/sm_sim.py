"""One SM: resident warps issuing a GEMM kernel's instruction mix through the warp schedulers
(numba). Its twin, written separately as one Python generator per warp on a heap of events,
is `simulate_sm_reference` in tests/machines/gpu/test_sm_sim_reference.py; the tests assert
the two agree.

Each warp runs: `setup` dependent integer ops; the prologue's global→shared copies of the
first stages−1 K slices; then per K slice i: a wait for slice i's data, a CTA barrier,
`inner_steps` rounds of shared-memory fragment loads (the next round's loads issued before
this round's math, as register double buffering does) and math instructions (FFMA or MMA),
the loop's integer ops, and the copies of the next slice not yet in flight; finally the
epilogue's arithmetic and its stores.

Two ways to copy a K slice from global to shared memory (`SmProgram.async_copy`):
- Asynchronous copies (LDGSTS, `cp.async`, Ampere and later): the data goes straight to
  shared memory, `stages` slices in flight, as CUTLASS's sm80 `MmaMultistage` mainloop.
- Without them (Volta and older): CUTLASS's SIMT sm50/sm70 `MmaPipelined` two-stage
  mainloop. A slice is loaded into registers (LDG); at the wait for slice i the warp waits
  for its registers, stores them to shared memory (`shared_stores` STS through the
  shared-memory port, visible a shared-memory latency later) and only then reaches the
  barrier. Two stages live in shared memory and one more slice is in flight in registers
  (`stages` = 3 here): one slice of math hides the loads' latency, however deep the tile's
  multistage pipeline was, and the STS cost issue slots, port time and their latency before
  every barrier. The copies are issued where this model issues async copies (after the
  loop's integer ops), so a warp briefly holds two slices in registers where MmaPipelined,
  issuing its LDG after the barrier, holds one; that keeps the two paths' only differences
  the physical ones (STS, depth, shared-memory footprint).

Timing is event-driven at the granularity of instruction groups (a round's loads, a round's
math), processed in time order. Resources are fluid: each scheduler issues one instruction
per cycle, shared among its warps; its math pipe accepts one instruction per `math_cycles`;
a single warp issues math at most once per `math_issue_gap_cycles` (so one warp cannot fill
the pipe alone, two can); the SM's shared-memory port moves each LDS and STS at its bytes per
cycle, and its L2 port moves a copy's bytes at the SM's bandwidth share. A group ends when
both its own issue pace and the resources it shares allow. Latencies: ALU (setup chain),
shared memory (an access, load or store, completes this long after the port moved it),
global memory, barrier. A warp may run ahead of a busy shared-memory port or of its stores
by at most `queue_cycles` (the MIO/LSU queues), of its copies at the L2 port by at most
`copy_queue_cycles`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

SETUP, PROLOGUE, LOAD, WAIT, STAGE, BARRIER, SHARED, MATH, LOOP, EPILOGUE, STORE, DONE = \
    range(12)


class SmProgram(NamedTuple):
    """What every warp of the kernel issues, in warp instructions (per K slice where noted).
    Valid for k_iters ≥ 1 and stages ≥ 1."""

    setup: int  # dependent address and predicate arithmetic before the main loop
    global_loads: int  # per slice: LDGSTS (async_copy) or LDG into registers
    shared_stores: int  # per slice: STS of the registers loaded by LDG (0 with async_copy)
    shared_loads: int  # LDS per inner round
    math: int  # FFMA or MMA per inner round
    inner_steps: int  # inner rounds per slice
    loop_overhead: int  # integer ops and the branch per slice
    stores: int  # STG in the epilogue
    epilogue: int  # epilogue arithmetic before the stores
    k_iters: int  # K slices
    stages: int  # K slices between the issue of their copies and their last use
    async_copy: bool  # global→shared copies bypass registers (LDGSTS)


class SmTiming(NamedTuple):
    """Latencies and per-instruction resource costs on one SM, in cycles."""

    alu_latency_cycles: float
    shared_latency_cycles: float
    memory_latency_cycles: float
    barrier_latency_cycles: float
    math_cycles: float  # math-pipe cycles per math instruction on its scheduler
    shared_load_cycles: float  # shared-memory port cycles per LDS
    shared_store_cycles: float  # shared-memory port cycles per STS
    load_cycles: float  # L2 port cycles per global load
    store_cycles: float  # L2 port cycles per global store
    queue_cycles: float  # how far a warp runs ahead of the shared port or its stores
    copy_queue_cycles: float  # how far a warp runs ahead of its copies at the L2 port
    math_issue_gap_cycles: float  # a lone warp issues math at most this often


def sm_kernel(n_ctas: int, warps_per_cta: int, schedulers: int, program: SmProgram,
              timing: SmTiming) -> tuple[float, float]:
    """Cycles until every warp of `n_ctas` resident CTAs has issued its last store, and the
    cycle the last store completes. Plain Python that numba also compiles (`simulate_sm`)."""
    k_iters, stages, steps = program.k_iters, program.stages, program.inner_steps
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

    def _issue(issue_free: np.ndarray, s: int, t: float, count: int) -> tuple[float, float]:
        """Start time on scheduler s's issue port for `count` instructions ready at t; the
        port is then busy until the returned end."""
        start = max(t, issue_free[s])
        issue_free[s] = start + count
        return start, start + count

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
            start, end = _issue(issue_free, s, t, program.setup)
            ready[w] = start + program.setup * timing.alu_latency_cycles
            phase[w] = PROLOGUE if prologue > 0 else LOAD
        elif p in (PROLOGUE, LOAD):
            slices = prologue if p == PROLOGUE else 1
            for _ in range(slices):
                if loaded[w] >= k_iters:
                    break
                start, end = _issue(issue_free, s, t, program.global_loads)
                lsu_free = max(lsu_free, start) + program.global_loads * timing.load_cycles
                stage_done[w, loaded[w] % stages] = lsu_free + timing.memory_latency_cycles
                loaded[w] += 1
                t = max(end, lsu_free - timing.copy_queue_cycles)
            ready[w] = t
            phase[w] = WAIT
        elif p == WAIT and not program.async_copy:
            ready[w] = max(t, stage_done[w, k[w] % stages])  # the LDG registers are filled
            phase[w] = STAGE
        elif p in (WAIT, STAGE):
            if p == WAIT:
                arrive = max(t, stage_done[w, k[w] % stages])
            else:  # STS of the staged registers, visible once the port has moved them
                start, end = _issue(issue_free, s, t, program.shared_stores)
                shared_free = max(shared_free, start) + \
                    program.shared_stores * timing.shared_store_cycles
                arrive = max(end, shared_free + timing.shared_latency_cycles)
            cta = w // warps_per_cta
            phase[w] = BARRIER
            bar_count[cta] += 1
            bar_time[cta] = max(bar_time[cta], arrive)
            if bar_count[cta] == warps_per_cta:
                release = bar_time[cta] + timing.barrier_latency_cycles
                for v in range(cta * warps_per_cta, (cta + 1) * warps_per_cta):
                    phase[v], ready[v], kk[v], lds_j[v] = SHARED, release, 0, 0
                bar_count[cta], bar_time[cta] = 0, 0.0
        elif p == SHARED:
            start, end = _issue(issue_free, s, t, program.shared_loads)
            shared_free = max(shared_free, start) + \
                program.shared_loads * timing.shared_load_cycles
            lds_done[w, lds_j[w] % 2] = shared_free + timing.shared_latency_cycles
            ready[w] = max(end, shared_free - timing.queue_cycles)
            if lds_j[w] == 0 and steps > 1:
                lds_j[w] = 1
            else:
                phase[w] = MATH
        elif p == MATH:
            t = max(t, lds_done[w, kk[w] % 2])
            start, end = _issue(issue_free, s, t, program.math)
            math_free[s] = max(math_free[s], start) + program.math * timing.math_cycles
            ready[w] = max(start + program.math * timing.math_issue_gap_cycles, math_free[s],
                           end)
            kk[w] += 1
            if kk[w] >= steps:
                phase[w] = LOOP
            elif kk[w] + 1 < steps:
                phase[w], lds_j[w] = SHARED, kk[w] + 1
        elif p == LOOP:
            start, end = _issue(issue_free, s, t, program.loop_overhead)
            ready[w] = end
            k[w] += 1
            if k[w] >= k_iters:
                phase[w] = EPILOGUE
            elif loaded[w] < k_iters:
                phase[w] = LOAD
            else:
                phase[w] = WAIT
        elif p == EPILOGUE:
            start, end = _issue(issue_free, s, t, program.epilogue)
            ready[w] = end
            phase[w] = STORE
        elif p == STORE:
            start, end = _issue(issue_free, s, t, program.stores)
            lsu_free = max(lsu_free, start) + program.stores * timing.store_cycles
            last_store = max(last_store, lsu_free + timing.memory_latency_cycles)
            finish = max(finish, end, lsu_free - timing.queue_cycles)
            phase[w] = DONE
            done += 1
    return max(finish, lsu_free), last_store


COMPILE_AFTER_CALLS = 64
"""Kernel calls a process makes interpreted before it compiles the kernel with numba.

numba's start in a process (importing it, then loading the first cached kernel) costs ~0.7 s
on a 2-core host, while one interpreted call costs ~3 ms and a compiled one ~0.03 ms: a
single network's timing (LeNet-5 makes 9 distinct calls) is quicker interpreted, a sweep or a
scenario of many runs compiled. Both tiers run `sm_kernel`'s code on IEEE doubles and give the
same floats (tests/machines/gpu/test_sm_sim.py checks it)."""


class TieredKernel:
    """`sm_kernel`, interpreted for the first `COMPILE_AFTER_CALLS` calls, then compiled by
    numba (`cache=True`: compiled once per installation, loaded from disk after)."""

    def __init__(self, kernel: Callable[..., tuple[float, float]], after: int) -> None:
        self.kernel, self.after, self.calls = kernel, after, 0
        self.compiled: Callable[..., tuple[float, float]] | None = None

    def __call__(self, n_ctas: int, warps_per_cta: int, schedulers: int, program: SmProgram,
                 timing: SmTiming) -> tuple[float, float]:
        self.calls += 1
        if self.compiled is None and self.calls <= self.after:
            return self.kernel(n_ctas, warps_per_cta, schedulers, program, timing)
        return self.compile()(n_ctas, warps_per_cta, schedulers, program, timing)

    def compile(self) -> Callable[..., tuple[float, float]]:
        """The numba-compiled kernel (compiled, or loaded from numba's cache, on first use)."""
        if self.compiled is None:
            import numba

            self.compiled = numba.njit(cache=True)(self.kernel)
        return self.compiled


simulate_sm = TieredKernel(sm_kernel, COMPILE_AFTER_CALLS)
"""The SM simulation: `sm_kernel`, tiered (see `COMPILE_AFTER_CALLS`)."""
