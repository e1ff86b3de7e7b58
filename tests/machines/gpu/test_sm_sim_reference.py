"""The numba SM simulation and its separately written plain-Python twin agree: on random
programs and timings (hypothesis), and on the warp programs the GEMM model really runs for
every kernel of both menus, with and without asynchronous copies."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.machines.gpu.gemm import l2_share, occupancy, sm_inputs
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU, TileConfig
from accelsim.machines.gpu.sm_sim import SmProgram, SmTiming, simulate_sm
from accelsim.machines.gpu.sm_sim_reference import simulate_sm_reference
from accelsim.machines.gpu.spec import H200, V100, GPUSpec
from accelsim.precision import Precision


def assert_agree(ctas: int, warps: int, schedulers: int, program: SmProgram,
                 timing: SmTiming) -> None:
    fast = simulate_sm(ctas, warps, schedulers, program, timing)
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
