"""The energy model: Horowitz's 45 nm table, the node and supply scaling, closed forms worked
by hand, every run carrying its energy, and the three machines of the TPU paper against its
measured power.

The TPU paper (Jouppi et al., ISCA 2017, Table 2, per die) measured a TPU at 28 W idle and
40 W busy, a K80 die at 25 W idle and 98 W busy, a Haswell at 41 W idle and 145 W busy, and
the TPU at 10% load still at 88% of its full-load power (section 6). The model prices CNN0
(compute-bound on the TPU, ~92% of peak) at about 47 W on the TPU (+17%), 96 W on a K80
die (−2%) and 114 W on the Haswell (−21%).
The tolerance, 25%, is what the inputs allow: Horowitz calls his figures rough, no supply
voltage is published (each node's nominal is assumed, entering squared), and the CPU's and
GPU's active power rests on two assumptions (the part draws its TDP at its peak; half of
that active power is its clock network, drawn whatever it issues). The memory-bound MLP0
(~15% of peak) lands at about 35 W on the TPU, the paper's 88% of 40 W.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

import accelsim as ax
from accelsim.book import book_figures
from accelsim.comparison import run_record
from accelsim.energy import (
    CLOCK_NETWORK_SHARE,
    ActiveSpec,
    EnergyPart,
    active_watts_at,
    clock_power_ratio,
    energy_from_counts,
    energy_of,
    mac_pj,
    technology_factor,
    vector_ops_of,
    volts_ratio,
)
from accelsim.errors import AccelsimError, SpecError
from accelsim.ir import Pool, Vector
from accelsim.machines.cpu import power as cpu_power
from accelsim.machines.gpu import power as gpu_power
from accelsim.machines.results import OpResult
from accelsim.metrics import ENERGY_METRICS as ENERGY_KEYS
from accelsim.nn.loader import load_network
from accelsim.precision import Precision
from accelsim.report.pareto import pareto_front

PJ = 1e-12
TPU_BUSY_WATTS, TPU_IDLE_WATTS, TPU_LOW_LOAD_SHARE = 40.0, 28.0, 0.88  # Jouppi et al. 2017
BUSY_TOLERANCE = 0.25  # see the module docstring
K80_BUSY_WATTS, HASWELL_BUSY_WATTS = 98.0, 145.0  # Table 2, per die


@dataclass(frozen=True)
class HandSpec:
    """A spec with only the power figures: what energy_from_counts reads."""

    name: str = "hand"
    process_nm: float = 45.0
    idle_watts: float = 10.0
    tdp_watts: float = 50.0


def test_a_mac_is_the_multiply_and_the_accumulators_add():
    assert mac_pj(Precision.INT8) == pytest.approx(0.2 + 0.1)  # int8 × int8 → int32 add
    assert mac_pj(Precision.FP16) == pytest.approx(1.1 + 0.9)  # fp32 accumulation
    assert mac_pj(Precision.BF16) == mac_pj(Precision.FP16)
    assert mac_pj(Precision.FP32) == pytest.approx(3.7 + 0.9)


@pytest.mark.parametrize("nm,volts", [(45, 0.9), (28, 0.9), (22, 0.8), (14, 0.8), (5, 0.75),
                                      (90, 1.2), (65, 1.1)])
def test_technology_factor_is_c_v_squared(nm, volts):
    assert technology_factor(nm) == pytest.approx(nm / 45 * (volts / 0.9) ** 2)


def test_technology_factor_interpolates_the_voltage_and_grows_with_the_node():
    # 36 nm: halfway between 28 nm and 45 nm, both 0.9 V
    assert technology_factor(36.5) == pytest.approx(36.5 / 45)
    nodes = [3, 5, 7, 12, 14, 16, 22, 28, 40, 45, 65, 90, 130]
    factors = [technology_factor(nm) for nm in nodes]
    assert factors == sorted(factors)
    with pytest.raises(AccelsimError, match="process_nm = 0 must be a finite positive"):
        technology_factor(0)


def test_energy_from_counts_is_the_sum_worked_by_hand():
    e = energy_from_counts(HandSpec(), macs={Precision.INT8: 1_000_000}, vector_ops=10_000,
                           sram_bytes=1e6, dram_bytes=1e5, seconds=1e-3, batch=4)
    by_hand = {EnergyPart.ARITHMETIC: 1e6 * (0.2 + 0.1) * PJ,  # 0.3 µJ
               EnergyPart.VECTOR: 1e4 * 0.1 * PJ,  # int32 adds: 1 nJ
               EnergyPart.SRAM: 1e6 * 12.5 * PJ,  # 12.5 µJ
               EnergyPart.DRAM: 1e5 * 162.5 * PJ,  # 16.25 µJ
               EnergyPart.STATIC: 10.0 * 1e-3}  # 10 mJ
    for part, joules in by_hand.items():
        assert e[part] == pytest.approx(joules, rel=1e-12)
    total = sum(by_hand.values())
    assert e.joules == pytest.approx(total) and e.static_joules == pytest.approx(0.01)
    assert e.joules_per_inference == pytest.approx(total / 4)
    assert e.ops_per_joule == pytest.approx(2e6 / total)
    assert e.average_watts == pytest.approx(total / 1e-3)
    assert e.tdp_fraction == pytest.approx(total / 1e-3 / 50)


def test_the_node_scales_arithmetic_and_sram_but_not_dram_or_static_power():
    counts = dict(macs={Precision.FP32: 1000}, vector_ops=100, sram_bytes=1e4, dram_bytes=1e4,
                  seconds=1e-6, batch=1)
    at_45 = energy_from_counts(HandSpec(), **counts)
    at_28 = energy_from_counts(HandSpec(process_nm=28), **counts)
    for part in (EnergyPart.ARITHMETIC, EnergyPart.VECTOR, EnergyPart.SRAM):
        assert at_28[part] == pytest.approx(at_45[part] * 28 / 45)
    for part in (EnergyPart.DRAM, EnergyPart.STATIC):
        assert at_28[part] == at_45[part]
    assert at_45[EnergyPart.VECTOR] == pytest.approx(100 * 0.9 * PJ)  # fp32 adds


def test_no_idle_power_leaves_the_dynamic_energy_alone():
    e = energy_from_counts(HandSpec(idle_watts=0.0), macs={Precision.FP16: 10}, vector_ops=0,
                           sram_bytes=0, dram_bytes=0, seconds=1.0, batch=1)
    assert e.parts == ((EnergyPart.ARITHMETIC, pytest.approx(10 * 2.0 * PJ)),)
    assert e.static_joules == 0


def test_vector_ops_count_elements_and_pooling_comparisons():
    wl = ax.lower(ax.network("lenet5", weights="none"), batch=2)
    by_hand = sum(op.elements * op.count if isinstance(op, Vector) else
                  op.batch * op.channels * op.out_hw[0] * op.out_hw[1] *
                  (op.window[0] * op.window[1] - 1)
                  for op in wl.ops if isinstance(op, Vector | Pool))
    assert vector_ops_of(wl) == by_hand > 0


@pytest.mark.parametrize("preset", ["tpu-v1", "gpu-h200", "cpu-haswell-e5-2699v3"])
def test_a_run_carries_the_energy_of_its_counts(preset):
    """Machine.run's energy equals energy_from_counts on counts taken from the lowered
    workload and the run's ops (the fast sweep path's inputs)."""
    machine, net = ax.machine(preset), ax.network("lenet5", weights="none")
    r = machine.run(net, batch=16)
    wl = ax.lower(net, 16)
    spec = machine.spec
    expected = energy_from_counts(
        spec, macs={r.precision: wl.macs}, vector_ops=vector_ops_of(wl),
        sram_bytes=sum(op.onchip_bytes for op in r.layers),
        dram_bytes=sum(op.dram_bytes for op in r.layers), seconds=r.seconds, batch=16,
        activity=spec.activity(r) if isinstance(spec, ActiveSpec) else None)
    assert r.energy == expected == energy_of(r, machine)
    assert r.joules_per_inference == expected.joules_per_inference
    assert r.ops_per_joule == pytest.approx(r.ops / expected.joules)
    assert r.average_watts == pytest.approx(expected.joules / r.seconds)
    record = run_record(r)
    assert {k: record[k] for k in ENERGY_KEYS} == {
        "joules_per_inference": r.joules_per_inference, "ops_per_joule": r.ops_per_joule,
        "average_watts": r.average_watts}
    assert "µJ per inference" in r.summary()


@pytest.mark.parametrize("preset", ax.presets())
def test_every_preset_prices_lenet5_between_idle_and_tdp(preset):
    machine = ax.machine(preset)
    r = machine.run(ax.network("lenet5", weights="none"), batch=1)
    spec = machine.spec
    assert r.energy is not None and r.energy.process_nm == spec.process_nm
    assert r.energy.static_joules == pytest.approx(spec.idle_watts * r.seconds)
    assert spec.idle_watts < r.average_watts < spec.tdp_watts
    assert r.joules_per_inference == pytest.approx(r.average_watts * r.seconds)


def test_tpu_v1_on_a_compute_bound_app_draws_near_the_papers_busy_power():
    r = ax.machine("tpu-v1").run(load_network("tpu-cnn0", weights="none"), batch=8)
    assert r.utilization > 0.9  # compute-bound, as the paper's 100%-load point
    assert r.average_watts == pytest.approx(TPU_BUSY_WATTS, rel=BUSY_TOLERANCE), \
        f"{r.average_watts:.1f} W"
    assert r.energy.static_joules / r.seconds == pytest.approx(TPU_IDLE_WATTS)


def test_tpu_v1_at_low_load_draws_most_of_its_busy_power():
    r = ax.machine("tpu-v1").run(load_network("tpu-mlp0", weights="none"), batch=200)
    assert r.utilization < 0.2  # memory-bound on the DDR3 weights
    assert TPU_IDLE_WATTS < r.average_watts < TPU_BUSY_WATTS
    assert r.average_watts == pytest.approx(TPU_LOW_LOAD_SHARE * TPU_BUSY_WATTS, rel=0.15)


def test_a_k80_die_on_cnn0_draws_near_the_papers_busy_power():
    r = ax.machine("gpu-k80").run(load_network("tpu-cnn0", weights="none"), batch=8)
    assert r.utilization > 0.25
    assert r.average_watts == pytest.approx(K80_BUSY_WATTS, rel=BUSY_TOLERANCE), \
        f"{r.average_watts:.1f} W"  # 96 W
    e = r.energy
    assert e.static_joules / r.seconds == pytest.approx(25.0)
    # most of it is the SMs running un-gated, not the arithmetic
    assert e[EnergyPart.ACTIVE] > 10 * e[EnergyPart.ARITHMETIC]


def test_a_haswell_on_cnn0_draws_near_its_busy_power():
    machine = ax.machine("cpu-haswell-e5-2699v3")
    r = machine.run(load_network("tpu-cnn0", weights="none"), batch=8)
    assert r.utilization > 0.4
    assert r.average_watts == pytest.approx(HASWELL_BUSY_WATTS, rel=BUSY_TOLERANCE), \
        f"{r.average_watts:.1f} W"  # 114 W
    assert r.energy.activity == cpu_power.activity_of(machine.spec, r)
    assert r.energy.tdp_fraction < 1


def test_cpu_events_per_mac_follow_the_micro_kernel_by_hand():
    # Haswell: 16 x 4 micro-kernel, 8 lanes: per k step 2 vector loads of A, 4 broadcasts
    # of B and 8 vector FMAs for 64 MACs
    spec = ax.machine("cpu-haswell-e5-2699v3").spec
    inst, regs, l1, l2 = cpu_power.events_per_mac(spec, Precision.FP32)
    assert inst == pytest.approx((2 + 4 + 8) / 64)
    assert regs == pytest.approx(8 * (8 * 16 + 6 * 4) / 64)  # 19 B
    assert l1 == pytest.approx((16 + 4) * 4 / 64) and l2 == pytest.approx(4 / 4)
    # at its peak the Haswell's TDP is idle + events + active: the anchor
    watts = active_watts_at(cpu_power.nominal_active_watts(spec), 1.0, 1.0)
    assert spec.idle_watts + cpu_power.peak_event_watts(spec) + watts == pytest.approx(145)


def test_a_gpu_gemm_costs_its_instructions_registers_and_caches_by_hand():
    """A 1024³ fp32 GEMM on a K80 runs simt_64x64x8 (4 warps of 8 x 4 outputs a thread). A
    warp's main-loop iteration: 2 LDGSTS, 4 loop ops, and per k step (8 of them) 3 LDS.128
    and 32 FFMA: 286 instructions for 64·64·8 MACs over 4 warps."""
    machine = ax.machine("gpu-k80")
    op = machine.gemm(1024, 1024, 1024)
    assert op.kernel == "simt_64x64x8_stage3"
    macs = 1024**3
    per_mac = gpu_power.events_per_mac(gpu_power.tile_of(op.kernel), Precision.FP32, 32)
    by_hand = (4 * 286 / 32768, 4 * 286 * 32 * 16 / 32768,  # instructions, register bytes
               (4 * 8 * 3 * 512 + 2 * 512 * 4) / 32768,  # LDS bytes and the copied slice
               2 * 512 * 4 / 32768)  # the slice from L2
    assert per_mac == pytest.approx(by_hand)
    run = HandRun((op,), 0, op.seconds, op.utilization)
    activity = machine.spec.activity(run)
    assert activity.instructions == pytest.approx(macs * by_hand[0])
    e = energy_from_counts(machine.spec, macs={Precision.FP32: macs}, vector_ops=0,
                           sram_bytes=0, dram_bytes=op.dram_bytes, seconds=op.seconds,
                           batch=1, activity=activity)
    tech = technology_factor(28)
    events = {EnergyPart.ARITHMETIC: macs * 4.6, EnergyPart.INSTRUCTIONS: macs * by_hand[0]
              * 63.9, EnergyPart.REGISTERS: macs * by_hand[1] * 1.25,
              EnergyPart.SRAM: macs * (by_hand[2] * 2.5 + by_hand[3] * 12.5)}
    for part, pj in events.items():
        assert e[part] == pytest.approx(tech * pj * PJ)
    # instructions, registers and caches: 6.6x the arithmetic, before the active power
    assert sum(e[p] for p in events) / e[EnergyPart.ARITHMETIC] == pytest.approx(
        1 + (by_hand[0] * 63.9 + by_hand[1] * 1.25 + by_hand[2] * 2.5 + by_hand[3] * 12.5)
        / 4.6)
    share = CLOCK_NETWORK_SHARE + (1 - CLOCK_NETWORK_SHARE) * op.utilization
    assert e[EnergyPart.ACTIVE] == pytest.approx(
        gpu_power.nominal_active_watts(machine.spec) * share * op.seconds)
    assert e.dynamic_joules > e[EnergyPart.ARITHMETIC] + e[EnergyPart.DRAM] + sum(
        e[p] for p in (EnergyPart.INSTRUCTIONS, EnergyPart.REGISTERS, EnergyPart.SRAM)) * 0.999


@dataclass(frozen=True)
class HandRun:
    """What a machine's activity reads of a run, for one op timed alone."""

    layers: tuple[OpResult, ...]
    vector_ops: int
    device_seconds: float
    utilization: float


def test_supply_follows_the_clock_between_a_floor_and_a_ceiling():
    assert volts_ratio(700e6, 700e6) == 1.0
    assert volts_ratio(770e6, 700e6) == pytest.approx(1.1)  # V ∝ f near nominal
    assert volts_ratio(1400e6, 700e6) == pytest.approx(1.2)  # the ceiling
    assert volts_ratio(560e6, 700e6) == pytest.approx(0.8)
    assert volts_ratio(175e6, 700e6) == pytest.approx(0.7)  # the floor
    assert clock_power_ratio(1400e6, 700e6) == pytest.approx(2 * 1.2**2)


@pytest.mark.parametrize("clock_hz,factor", [(1400e6, 1.2**2), (770e6, 1.1**2),
                                             (350e6, 0.7**2)])
def test_energy_per_op_follows_the_square_of_the_supply(clock_hz, factor):
    net = load_network("tpu-cnn0", weights="none")
    base = ax.machine("tpu-v1").run(net, batch=8).energy
    what_if = ax.machine("tpu-v1", clock_hz=clock_hz).run(net, batch=8).energy
    for part in (EnergyPart.ARITHMETIC, EnergyPart.VECTOR, EnergyPart.SRAM):
        assert what_if[part] == pytest.approx(base[part] * factor)
    assert what_if[EnergyPart.DRAM] == base[EnergyPart.DRAM]  # the memory's own supply
    # a design built for the faster clock (a deeper pipeline) runs at its nominal supply
    rebuilt = ax.machine("tpu-v1", clock_hz=clock_hz, nominal_clock_hz=clock_hz).run(
        net, batch=8).energy
    assert rebuilt[EnergyPart.ARITHMETIC] == pytest.approx(base[EnergyPart.ARITHMETIC])


def test_gpu_and_cpu_clocks_move_the_supply_too():
    k80 = ax.machine("gpu-k80").spec
    assert k80.nominal_clock_hz == k80.clock_hz and k80.volts_ratio == 1.0
    fast = ax.machine("gpu-k80", clock_hz=2 * k80.clock_hz).spec
    assert fast.nominal_clock_hz == k80.clock_hz and fast.volts_ratio == pytest.approx(1.2)
    net = load_network("tpu-cnn0", weights="none")
    base = ax.machine("gpu-k80").run(net, batch=8).energy
    faster = ax.machine("gpu-k80", clock_hz=2 * k80.clock_hz).run(net, batch=8).energy
    assert faster[EnergyPart.REGISTERS] == pytest.approx(base[EnergyPart.REGISTERS] * 1.44)


def test_tdp_follows_what_the_tpu_builds_not_a_clock_above_its_nominal():
    v1 = ax.machine("tpu-v1").spec
    assert v1.tdp_watts == pytest.approx(75.0)
    assert ax.machine("tpu-v1", clock_hz=1400e6).spec.tdp_watts == pytest.approx(75.0)
    big = ax.machine("tpu-v1", array_rows=512, array_cols=512).spec
    assert big.tdp_watts == pytest.approx(75.0 * big.idle_watts / TPU_IDLE_WATTS)
    # TPU' at 1050 MHz in tpu-v1's package: over its TDP on CNN0, so it would throttle
    net = load_network("tpu-cnn0", weights="none")
    assert ax.machine("tpu-v1").run(net, batch=8).energy.tdp_fraction < 1
    assert ax.machine("tpu-v1", clock_hz=1050e6).run(net, batch=8).energy.tdp_fraction > 1


def test_a_faster_clock_is_a_trade_on_the_design_space_front():
    """tpu-design-space's what-ifs: on CNN0 at batch 8, the clocks and arrays of the sweep
    leave more than one design on the throughput-energy front, and the fastest is not the
    most frugal."""
    net = load_network("tpu-cnn0", weights="none")
    runs = [ax.machine("tpu-v1", clock_hz=clock, array_rows=size, array_cols=size).run(
        net, batch=8) for clock in (350e6, 700e6, 2800e6) for size in (256, 512)]
    front = pareto_front([r.throughput for r in runs], [r.joules_per_inference for r in runs])
    assert len(front) > 1
    fastest = max(runs, key=lambda r: r.throughput)
    assert fastest.joules_per_inference > min(r.joules_per_inference for r in runs)


def test_cpu_power_is_per_core_so_hosts_and_core_what_ifs_scale():
    haswell = ax.machine("cpu-haswell-e5-2699v3").spec
    assert haswell.tdp_watts == pytest.approx(145) and haswell.idle_watts == pytest.approx(41)
    half = ax.machine("cpu-haswell-e5-2699v3", cores=9).spec
    assert half.idle_watts == pytest.approx(41 / 2)
    host = ax.machine("cpu-host").spec  # a recorded host (conftest): the defaults
    assert host.process_nm == 7 and host.tdp_watts == pytest.approx(host.cores * 280 / 64)


def test_power_fields_are_checked_like_every_spec_field():
    assert ax.machine("tpu-v1", reference_idle_watts=0).spec.idle_watts == 0.0  # a what-if
    with pytest.raises(SpecError, match=r"tpu-v1: process_nm = 0 must be a finite positive "
                                        r"number \(nanometres\)"):
        ax.machine("tpu-v1", process_nm=0)
    with pytest.raises(SpecError, match=r"gpu-k80: tdp_watts = -1 must be a finite positive "
                                        r"number \(watts\)"):
        ax.machine("gpu-k80", tdp_watts=-1)


def test_a_machine_without_power_figures_runs_without_energy(fixed_machine):
    r = fixed_machine.run(ax.network("lenet5", weights="none"))
    assert r.energy is None
    assert all(run_record(r)[k] is None for k in ENERGY_KEYS)
    with pytest.raises(AccelsimError, match="test-fixed-rate gives no power figures"):
        _ = r.average_watts
    with pytest.raises(AccelsimError, match="add process_nm, idle_watts and tdp_watts"):
        energy_of(r, fixed_machine)


def test_a_what_if_prices_with_the_new_spec():
    net = ax.network("lenet5", weights="none")
    base = ax.machine("tpu-v1").run(net, batch=64)
    shrunk = ax.machine("tpu-v1", process_nm=7).run(net, batch=64)
    assert shrunk.seconds == base.seconds
    assert shrunk.energy[EnergyPart.DRAM] == base.energy[EnergyPart.DRAM]
    assert shrunk.energy[EnergyPart.ARITHMETIC] == pytest.approx(
        base.energy[EnergyPart.ARITHMETIC] * technology_factor(7) / technology_factor(28))
    same = dataclasses.replace(base, energy=None)
    assert energy_of(same, ax.machine("tpu-v1")) == base.energy


def test_the_books_16x_multiplier_claim_is_the_int32_over_int8_energy():
    figures = {f.name: f for f in book_figures()}
    energy = figures["8-bit vs 32-bit multiplier energy (45 nm)"]
    assert energy.model_value == pytest.approx(3.1 / 0.2) == pytest.approx(15.5)
    assert energy.ratio == pytest.approx(15.5 / 16)  # within 3% of the book
    area = figures["8-bit vs 32-bit multiplier area (45 nm)"]
    assert area.model_value == pytest.approx(3495 / 282)
    # the other comparisons miss the book's 16× by more
    assert abs(3.7 / 0.2 - 16) > abs(3.1 / 0.2 - 16) < abs(1.1 / 0.2 - 16)
    assert abs(7700 / 282 - 16) > abs(3.1 / 0.2 - 16)
    assert "18.5×" in energy.note and "5.5×" in energy.note and "27.3×" in area.note


def test_tpu_idle_power_is_the_papers_28_watts_shared_over_its_floor_plan():
    spec = ax.machine("tpu-v1").spec
    plan = {b.name: b for b in spec.floor_plan()}
    assert sum(b.area_share for b in plan.values()) == pytest.approx(1.0)
    assert (plan["unified buffer"].area_share, plan["matrix multiply unit"].area_share,
            plan["accumulators"].area_share, plan["control"].area_share) == (0.29, 0.24, 0.06,
                                                                             0.02)  # Figure 2
    assert all(b.scale == 1.0 for b in plan.values())
    assert spec.idle_watts == pytest.approx(TPU_IDLE_WATTS)


def _idle(**overrides):
    return ax.machine("tpu-v1", **overrides).spec.idle_watts


def test_tpu_idle_power_follows_what_the_spec_builds():
    # each block's share of 28 W times how many times tpu-v1's resources it builds
    twice_the_cells = TPU_IDLE_WATTS * (1 + 0.24 + 0.29 / 96)  # MMU and weight FIFO
    assert _idle(array_rows=512) == pytest.approx(twice_the_cells)
    assert _idle(array_cols=512) == pytest.approx(  # columns: accumulators, activation too
        twice_the_cells + TPU_IDLE_WATTS * (0.06 + 0.06))
    assert _idle(unified_buffer_bytes=48 * 2**20) == pytest.approx(TPU_IDLE_WATTS * 1.29)
    assert _idle(accumulator_rows=8192) == pytest.approx(TPU_IDLE_WATTS * 1.06)
    assert _idle(ddr_bytes_per_s=68e9) == pytest.approx(TPU_IDLE_WATTS * 1.06)
    # the clock moves the clocked blocks only, not the DDR3, PCIe and I/O: leakage with the
    # supply (1.2 at twice the clock: the ceiling), clock power with supply² × clock
    clocked = 1 - 0.06 - 0.03 - 0.01
    assert _idle(clock_hz=1400e6) == pytest.approx(
        TPU_IDLE_WATTS * (1 - clocked + clocked * (0.3 * 1.2 + 0.7 * 2 * 1.2**2)))
    assert _idle(clock_hz=1400e6, nominal_clock_hz=1400e6) == pytest.approx(
        TPU_IDLE_WATTS * (1 + clocked * 0.7))
    assert _idle(process_nm=7) == pytest.approx(
        TPU_IDLE_WATTS * technology_factor(7) / technology_factor(28))
    assert _idle(array_rows=64, array_cols=64) < TPU_IDLE_WATTS < _idle(array_rows=1024,
                                                                          array_cols=1024)


def test_a_bigger_or_faster_tpu_trades_energy_for_throughput():
    """The design-space sweep's Pareto fronts: on CNN0 a 512x512 array is faster than tpu-v1
    but, with twice its idle power, spends more energy per inference."""
    net = load_network("tpu-cnn0", weights="none")
    base = ax.machine("tpu-v1").run(net, batch=8)
    big = ax.machine("tpu-v1", array_rows=512, array_cols=512, accumulator_rows=8192).run(
        net, batch=8)
    assert big.seconds < base.seconds
    assert big.joules_per_inference > base.joules_per_inference


# Each GPU preset's idle figure before its idle power followed its floor plan: the K80 die's
# measured 25 W, the others the K80's idle share of their TDP (gpu/spec.py).
GPU_IDLE_WATTS = {"gpu-h200": 700 / 6, "gpu-h100": 700 / 6, "gpu-a100": 400 / 6,
                  "gpu-v100": 300 / 6, "gpu-p100": 300 / 6, "gpu-t4": 70 / 6, "gpu-k80": 25.0,
                  "gpu-8800gtx": 155 / 6}
# gpu/power.py's floor plan: SM SRAM, SM lanes and control, L2, memory interface; the
# memory, host and misc I/O interfaces (0.12 + 0.06 + 0.04) keep their links' pace.
SM_SRAM, SM_LANES, L2, MEMORY = 0.18, 0.42, 0.10, 0.12
GPU_CLOCKED = 1 - 0.12 - 0.06 - 0.04


def test_gpu_presets_are_all_listed():
    assert set(GPU_IDLE_WATTS) == {p for p in ax.presets() if p.startswith("gpu-")}


@pytest.mark.parametrize("preset", sorted(GPU_IDLE_WATTS))
def test_every_gpu_preset_idles_at_its_reference_watts_at_its_defaults(preset):
    spec = ax.machine(preset).spec
    plan = spec.floor_plan()
    assert sum(b.area_share for b in plan) == pytest.approx(1.0)
    assert all(b.scale == pytest.approx(1.0) for b in plan)
    assert spec.idle_watts == pytest.approx(spec.reference_idle_watts) \
        == pytest.approx(GPU_IDLE_WATTS[preset])


def _gpu_idle(preset="gpu-h100", **overrides):
    return ax.machine(preset, **overrides).spec.idle_watts


@pytest.mark.parametrize("preset", ["gpu-h100", "gpu-k80", "gpu-8800gtx"])
def test_gpu_idle_power_follows_its_sms_l2_and_memory_interface(preset):
    watts, spec = GPU_IDLE_WATTS[preset], ax.machine(preset).spec
    # twice the SMs: both SM blocks twice over
    assert _gpu_idle(preset, sm_count=2 * spec.sm_count) == pytest.approx(
        watts * (1 + SM_SRAM + SM_LANES))
    assert _gpu_idle(preset, dram_bytes_per_s=2 * spec.dram_bytes_per_s) == pytest.approx(
        watts * (1 + MEMORY))
    assert _gpu_idle(preset, l2_bytes=2 * spec.l2_bytes) == pytest.approx(watts * (1 + L2))
    assert _gpu_idle(preset, fp32_lanes_per_sm=2 * spec.fp32_lanes_per_sm) == pytest.approx(
        watts * (1 + SM_LANES))
    # the SM SRAM is its 32-bit registers and its L1/shared-memory SRAM
    sram = 4 * spec.registers_per_sm + spec.l1_bytes_per_sm
    assert _gpu_idle(preset, registers_per_sm=2 * spec.registers_per_sm) == pytest.approx(
        watts * (1 + SM_SRAM * 4 * spec.registers_per_sm / sram))


def test_an_h100_with_twice_the_sms_idles_at_187_watts():
    assert _gpu_idle(sm_count=264) == pytest.approx(700 / 6 * 1.6) == pytest.approx(186.7,
                                                                                   abs=0.1)
    # the H100 is built from the H200's spec, but idles at its own design: its 50 MiB of L2
    # and 3.35 TB/s are its reference, not scaled down from the H200's 60 MiB and 4.8 TB/s
    h100 = ax.machine("gpu-h100").spec
    assert (h100.reference_l2_bytes, h100.reference_dram_bytes_per_s) == (50 * 2**20, 3.35e12)


def test_gpu_idle_power_follows_the_clock_and_supply_as_the_tpus():
    clock = ax.machine("gpu-h100").spec.clock_hz
    watts = GPU_IDLE_WATTS["gpu-h100"]
    for ratio, volts in ((1.1, 1.1), (2.0, 1.2), (0.8, 0.8)):  # 1.2: the supply's ceiling
        assert _gpu_idle(clock_hz=ratio * clock) == pytest.approx(watts * (
            1 - GPU_CLOCKED + GPU_CLOCKED * (0.3 * volts + 0.7 * ratio * volts**2)))
    # a design built for the faster clock: nominal supply, clock power × clock
    assert _gpu_idle(clock_hz=1.2 * clock, nominal_clock_hz=1.2 * clock) == pytest.approx(
        watts * (1 + GPU_CLOCKED * 0.7 * 0.2))
    assert _gpu_idle(process_nm=3) == pytest.approx(
        watts * technology_factor(3) / technology_factor(5))


def test_gpu_active_power_is_clamped_where_a_what_if_leaves_the_board_nothing():
    """Active power is what the board's TDP leaves over idle and the peak's events; a T4 with
    twice its SMs idles at 18.7 W and needs 52 W of events at its peak: nothing over of its
    70 W, so no active power rather than a negative one."""
    t4 = ax.machine("gpu-t4").spec
    assert gpu_power.nominal_active_watts(t4) == pytest.approx(
        70 - 70 / 6 - gpu_power.peak_event_watts(t4))
    big = ax.machine("gpu-t4", sm_count=80)
    assert big.spec.idle_watts == pytest.approx(70 / 6 * 1.6)
    assert 70 - big.spec.idle_watts - gpu_power.peak_event_watts(big.spec) < 0
    assert gpu_power.nominal_active_watts(big.spec) == 0.0
    e = big.run(load_network("tpu-cnn0", weights="none"), batch=8).energy
    assert e[EnergyPart.ACTIVE] == 0.0 and e.dynamic_joules > 0
    assert e.static_joules == pytest.approx(big.spec.idle_watts * e.seconds)
    # an H100 with twice the SMs keeps some: 700 − 187 − twice the peak's events
    h100 = ax.machine("gpu-h100", sm_count=264).spec
    assert gpu_power.nominal_active_watts(h100) == pytest.approx(
        700 - 700 / 6 * 1.6 - 2 * gpu_power.peak_event_watts(ax.machine("gpu-h100").spec))
    assert gpu_power.nominal_active_watts(h100) > 0
