"""The numba SM simulation and its separately written plain-Python twin agree: on random
programs and timings (hypothesis), and on the warp programs the GEMM model really runs for
every kernel of both menus, with and without asynchronous copies."""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.machines.gpu.gemm import l2_share, occupancy, sm_inputs
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU, TileConfig
from accelsim.machines.gpu.sm_sim import SmProgram, SmTiming, simulate_sm
from accelsim.machines.gpu.spec import H200, V100, GPUSpec
from accelsim.precision import Precision

# ---- the twin ----------------------------------------------------------------------------
# The twin of sm_sim.simulate_sm, written separately in plain Python: each warp is a
# generator that walks its kernel as straight-line code (setup, prologue, then per K slice the
# wait, barrier, rounds of LDS and math, loop) and yields the cycle its next instruction group
# is ready; a heap orders the warps by that cycle (ties to the lower warp number), ports and
# schedulers are small objects, and a CTA's barrier collects its warps' arrivals.
#
# It implements the timing rules stated in sm_sim.py's docstring and must give the same
# numbers.
#
# It is slow and lives here, with the tests that hold the fast path to it.

@dataclass
class _Scheduler:
    """One warp scheduler: an issue port (one instruction per cycle) and a math pipe."""

    issue_free: float = 0.0
    math_free: float = 0.0

    def issue(self, ready: float, count: int) -> tuple[float, float]:
        """(first, after last) issue cycle of `count` instructions ready at `ready`."""
        first = max(ready, self.issue_free)
        self.issue_free = first + count
        return first, self.issue_free


@dataclass
class _Port:
    """A fluid port: work queues behind what it already carries."""

    free: float = 0.0

    def carry(self, start: float, cycles: float) -> float:
        """Accept `cycles` of work at `start`; return when the port has finished it."""
        self.free = max(self.free, start) + cycles
        return self.free


@dataclass
class _Barrier:
    """A CTA's __syncthreads: the last arrival releases everyone after the barrier latency."""

    size: int
    arrived: list[int] = field(default_factory=list)
    latest: float = 0.0

    def arrive(self, warp: int, cycle: float, latency: float) -> tuple[list[int], float] | None:
        self.arrived.append(warp)
        self.latest = max(self.latest, cycle)
        if len(self.arrived) < self.size:
            return None
        released, release = self.arrived, self.latest + latency
        self.arrived, self.latest = [], 0.0
        return released, release


@dataclass(frozen=True)
class _Arrive:
    """What a warp yields when it reaches its CTA's barrier."""

    cycle: float


@dataclass
class _Sm:
    program: SmProgram
    timing: SmTiming
    schedulers: list[_Scheduler]
    shared: _Port = field(default_factory=_Port)
    l2: _Port = field(default_factory=_Port)
    finish: float = 0.0
    last_store: float = 0.0


Warp = Generator[float | _Arrive, float, None]


def _copy(sm: _Sm, sched: _Scheduler, ready: float, slices: int,
          arrivals: list[float]) -> float:
    """Issue the global loads of up to `slices` more K slices; record when each lands."""
    prog, tim = sm.program, sm.timing
    for _ in range(slices):
        if len(arrivals) >= prog.k_iters:
            break
        first, last = sched.issue(ready, prog.global_loads)
        port_done = sm.l2.carry(first, prog.global_loads * tim.load_cycles)
        arrivals.append(port_done + tim.memory_latency_cycles)
        ready = max(last, port_done - tim.copy_queue_cycles)
    return ready


def _shared_loads(sm: _Sm, sched: _Scheduler, ready: float, done: list[float]) -> float:
    prog, tim = sm.program, sm.timing
    first, last = sched.issue(ready, prog.shared_loads)
    port_done = sm.shared.carry(first, prog.shared_loads * tim.shared_load_cycles)
    done.append(port_done + tim.shared_latency_cycles)
    return max(last, port_done - tim.queue_cycles)


def _math(sm: _Sm, sched: _Scheduler, ready: float) -> float:
    prog, tim = sm.program, sm.timing
    first, last = sched.issue(ready, prog.math)
    sched.math_free = max(sched.math_free, first) + prog.math * tim.math_cycles
    return max(first + prog.math * tim.math_issue_gap_cycles, sched.math_free, last)


def _slice(sm: _Sm, sched: _Scheduler, t: float, k: int,
           arrivals: list[float]) -> Generator[float | _Arrive, float, float]:
    """K slice k from cycle t: wait for its data (and store it to shared memory when it
    came through registers), barrier, rounds of LDS and math."""
    prog, tim = sm.program, sm.timing
    if prog.async_copy:
        t = yield _Arrive(max(t, arrivals[k]))
    else:
        t = yield max(t, arrivals[k])  # the LDG registers are filled; now the STS
        first, last = sched.issue(t, prog.shared_stores)
        stored = sm.shared.carry(first, prog.shared_stores * tim.shared_store_cycles)
        t = yield _Arrive(max(last, stored + tim.shared_latency_cycles))
    lds: list[float] = []
    t = yield _shared_loads(sm, sched, t, lds)
    if prog.inner_steps > 1:
        t = yield _shared_loads(sm, sched, t, lds)
    for step in range(prog.inner_steps):
        t = yield _math(sm, sched, max(t, lds[step]))
        if step + 2 < prog.inner_steps:
            t = yield _shared_loads(sm, sched, t, lds)
    return t


def _warp(sm: _Sm, w: int) -> Warp:
    """Warp w's kernel as straight-line code: each `yield` hands the driver the cycle its
    next instruction group is ready (or its barrier arrival) and receives the cycle it runs."""
    prog, tim = sm.program, sm.timing
    sched = sm.schedulers[w % len(sm.schedulers)]
    t = yield 0.0
    first, _ = sched.issue(t, prog.setup)
    t = yield first + prog.setup * tim.alu_latency_cycles
    arrivals: list[float] = []  # when each K slice's copy lands
    prologue = min(prog.stages - 1, prog.k_iters)
    if prologue > 0:
        t = yield _copy(sm, sched, t, prologue, arrivals)
    for k in range(prog.k_iters):
        if len(arrivals) < prog.k_iters and (k > 0 or prologue == 0):
            t = yield _copy(sm, sched, t, 1, arrivals)
        t = yield from _slice(sm, sched, t, k, arrivals)
        t = yield sched.issue(t, prog.loop_overhead)[1]
    t = yield sched.issue(t, prog.epilogue)[1]
    first, last = sched.issue(t, prog.stores)
    stored = sm.l2.carry(first, prog.stores * tim.store_cycles)
    sm.last_store = max(sm.last_store, stored + tim.memory_latency_cycles)
    sm.finish = max(sm.finish, last, stored - tim.queue_cycles)


def simulate_sm_reference(n_ctas: int, warps_per_cta: int, schedulers: int,
                          program: SmProgram, timing: SmTiming) -> tuple[float, float]:
    """Same contract as sm_sim.simulate_sm: (cycles until the last store has issued and left
    the SM's ports, cycle the last store completes)."""
    sm = _Sm(program, timing, [_Scheduler() for _ in range(schedulers)])
    warps = [_warp(sm, w) for w in range(n_ctas * warps_per_cta)]
    barriers = [_Barrier(warps_per_cta) for _ in range(n_ctas)]
    # a warp's first yield is always the cycle 0.0, never a barrier arrival
    events = [(cast(float, next(warp)), w) for w, warp in enumerate(warps)]
    heapq.heapify(events)
    while events:
        cycle, w = heapq.heappop(events)
        try:
            request = warps[w].send(cycle)
        except StopIteration:
            continue
        if isinstance(request, _Arrive):
            released = barriers[w // warps_per_cta].arrive(
                w, request.cycle, timing.barrier_latency_cycles)
            if released is not None:
                for v in released[0]:
                    heapq.heappush(events, (released[1], v))
        else:
            heapq.heappush(events, (request, w))
    return max(sm.finish, sm.l2.free), sm.last_store


# ---- the tests --------------------------------------------------------------------------

def assert_agree(ctas: int, warps: int, schedulers: int, program: SmProgram,
                 timing: SmTiming) -> None:
    fast = simulate_sm.compile()(ctas, warps, schedulers, program, timing)  # the numba tier
    slow = simulate_sm_reference(ctas, warps, schedulers, program, timing)
    for a, b in zip(fast, slow, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9), (fast, slow, program, timing)


# Cycle costs: round numbers (ties between warps, exercising the tie-break) or arbitrary
# fractions (exercising the order of floating-point operations).
cycles = st.one_of(st.integers(0, 900).map(float),
                   st.floats(0.05, 900.0, allow_nan=False, allow_infinity=False))
programs = st.builds(
    SmProgram, setup=st.integers(0, 150), global_loads=st.integers(1, 8),
    shared_stores=st.integers(0, 8), shared_loads=st.integers(0, 8), math=st.integers(1, 64),
    inner_steps=st.integers(1, 8), loop_overhead=st.integers(0, 6), stores=st.integers(1, 16),
    epilogue=st.integers(0, 60), k_iters=st.integers(1, 6), stages=st.integers(1, 6),
    async_copy=st.booleans())
timings = st.builds(
    SmTiming, alu_latency_cycles=cycles, shared_latency_cycles=cycles,
    memory_latency_cycles=cycles, barrier_latency_cycles=cycles,
    math_cycles=st.floats(0.05, 32.0), shared_load_cycles=st.floats(0.05, 16.0),
    shared_store_cycles=st.floats(0.05, 16.0), load_cycles=st.floats(0.05, 64.0),
    store_cycles=st.floats(0.05, 64.0), queue_cycles=cycles, copy_queue_cycles=cycles,
    math_issue_gap_cycles=st.floats(0.0, 4.0))


@settings(max_examples=300, deadline=None)
@given(ctas=st.integers(1, 4), warps=st.integers(1, 8), schedulers=st.integers(1, 4),
       program=programs, timing=timings)
def test_twins_agree_on_random_programs(ctas: int, warps: int, schedulers: int,
                                        program: SmProgram, timing: SmTiming) -> None:
    assert_agree(ctas, warps, schedulers, program, timing)


def real_cases() -> list[tuple[GPUSpec, Precision, TileConfig]]:
    cases = []
    for spec in (H200, V100, V100.replace(has_async_copy=True)):
        for precision, menu in ((Precision.FP32, SIMT_MENU), (Precision.FP16, TENSOR_MENU)):
            cases += [(spec, precision, tile) for tile in menu
                      if occupancy(tile, spec, precision) > 0]
    return cases


@pytest.mark.parametrize("spec,precision,tile", real_cases(),
                         ids=lambda v: getattr(v, "name", getattr(v, "value", None)))
def test_twins_agree_on_the_gemm_models_programs(spec: GPUSpec, precision: Precision,
                                                 tile: TileConfig) -> None:
    per_sm = occupancy(tile, spec, precision)
    for ctas in sorted({1, per_sm}):
        for k_iters, aligned in ((1, True), (3, False), (4, True)):
            program, timing = sm_inputs(spec, precision, tile, l2_share(spec, spec.sm_count),
                                        aligned, k_iters)
            assert program.async_copy == spec.has_async_copy
            assert_agree(ctas, tile.warps, spec.schedulers_per_sm, program, timing)
