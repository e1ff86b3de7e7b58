"""The twin of sm_sim.simulate_sm, written separately in plain Python: each warp is a
generator that walks its kernel as straight-line code (setup, prologue, then per K slice the
wait, barrier, rounds of LDS and math, loop) and yields the cycle its next instruction group
is ready; a heap orders the warps by that cycle (ties to the lower warp number), ports and
schedulers are small objects, and a CTA's barrier collects its warps' arrivals.

It implements the timing rules stated in sm_sim.py's docstring and must give the same
numbers; it is slow and exists for the tests (DESIGN.md, convention 11).
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import cast

from accelsim.machines.gpu.sm_sim import SmProgram, SmTiming


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
