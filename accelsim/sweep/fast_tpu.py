"""Timing-only TPU design points, fast enough for sweeps of 100,000 points.

`tpu_point(network, batch, overrides)` gives the columns of
`accelsim.machine("tpu-v1", **overrides).run(accelsim.network(network), batch=batch)` that a
sweep records — cycles, seconds and device_seconds equal to the run's, bit for bit, and the
rest computed from them as `RunResult` computes its properties — without building a
`Program` or a `RunResult`. `tpu_points(points)` does the same for many points at once and is
the faster form: points that share a network, batch and array shape share one walk of the
timing kernel.

The model is the TPU machine's own (accelsim/machines/tpu: the compiler's mapping and the
executor's decoupled access/execute timing), not a surrogate: `fused_timing.program_cycles`
walks the compiler's loop nest and applies the executor's rule to each instruction as it
would be emitted, with the same floating-point operations in the same order; end to end then
adds the host's part (`TPURuntime.host_cycles`: driver calls and transfer latencies) as the
machine adds it.

What is cached (per process, bounded `lru_cache`s, as `systolic._mapping` caches), and why
reusing it is exact:
- networks by name, loaded with weights="none": lowering reads only layer shapes;
- per (network, batch, seq_len): the lowered workload, its encoding for the kernel, its op
  counts and the Unified Buffer and weight memory it needs — all functions of those three
  alone (a spec never changes the workload);
- specs and runtimes by their overrides: a `TPUSpec` and a `TPURuntime` are frozen values
  of their fields.
Nothing is cached across spec values: each point's lanes carry its own DDR3 and PCIe bytes
per cycle (computed by `TPUSpec` as the reference computes them) and FIFO depth, and its
seconds divide its own cycles by its own clock.

Errors are the reference's, in its order: a bad override (`SpecError`, building the spec),
an unknown network, a precision the TPU lacks, a bad batch or seq_len (`lower`), then weights
or a single sample's activations that do not fit (`CapacityError`, raised by the compiler's
own `check_capacity` when the cached needs say it may fail). A batch whose activations
overflow the Unified Buffer runs in passes (`TPU.passes`): such points are timed by the TPU
machine itself, not the fused kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from accelsim.energy import (
    Energy,
    EnergyPart,
    PoweredSpec,
    energy_from_counts,
    vector_ops_of,
)
from accelsim.errors import AccelsimError
from accelsim.ir import Transfer, Workload
from accelsim.lower import lower
from accelsim.machines.tpu.compiler import (
    check_capacity,
    fitting_batch,
    spill_bytes,
    unified_buffer_needs,
)
from accelsim.machines.tpu.core import TPU, tpu_settings
from accelsim.machines.tpu.fused_timing import LANE, encode_items, program_cycles
from accelsim.machines.tpu.runtime import TPURuntime
from accelsim.machines.tpu.spec import TPU_V1, TPUSpec
from accelsim.metrics import ENERGY_METRICS
from accelsim.nn.loader import load_network
from accelsim.nn.runnable import Runnable
from accelsim.precision import Precision

COLUMNS = ("cycles", "seconds", "device_seconds", "throughput_per_s", "latency_s", "ops",
           "dram_bytes", "sram_bytes", "utilization_fraction")
ENERGY_COLUMNS = ENERGY_METRICS
# Every spec here is a TPUSpec (`TPU_V1.replace`), so one check answers for all of them (a
# runtime protocol check costs tens of µs per call).
POWERED = isinstance(TPU_V1, PoweredSpec)


class TpuPoint(NamedTuple):
    """One design point: a network (bundled name or TOML path), a batch, overrides of
    TPUSpec or TPURuntime fields, and optionally a sequence length and a precision (the TPU
    runs int8 only)."""

    network: str | Path
    batch: int
    overrides: Mapping[str, Any] = {}
    seq_len: int | None = None
    precision: Precision | str | None = None


@dataclass(frozen=True, eq=False)
class WorkloadShape:
    """What a point needs of its lowered workload, whatever the spec."""

    workload: Workload
    items: np.ndarray  # fused_timing.ITEM records
    ops: int  # 2 per MAC
    vector_ops: int  # energy.vector_ops_of
    weight_bytes: int  # int8 weights, as check_capacity counts them
    unified_buffer_bytes: int  # the largest need of one group, as check_unified_buffer
    transfers: int  # host transfers (Transfer ops), as TPU.time_workload counts them


@lru_cache(maxsize=64)
def _network(name: str | Path) -> Runnable:
    return load_network(name, weights="none")


def _shape_of(workload: Workload) -> WorkloadShape:
    needs = [need for _, need in unified_buffer_needs(workload)]
    return WorkloadShape(workload, encode_items(workload), workload.total_ops,
                         vector_ops_of(workload), sum(g.k * g.n * g.groups for g in workload.gemms),
                         max(needs, default=0),
                         sum(isinstance(op, Transfer) for op in workload.ops))


@lru_cache(maxsize=4096)
def _cached_shape(network: str | Path, batch: int, seq_len: int | None) -> WorkloadShape:
    return _shape_of(lower(_network(network), batch, seq_len))


def _workload_shape(network: str | Path, batch: Any, seq_len: Any) -> WorkloadShape:
    """The cached shape for plain int arguments; anything else goes through `lower`
    uncached, so its checks (bools, fractions, strings) answer exactly as the reference's."""
    if type(batch) is int and (seq_len is None or type(seq_len) is int):
        return _cached_shape(network, batch, seq_len)
    return _shape_of(lower(_network(network), batch, seq_len))


Settings = tuple[TPUSpec, TPURuntime]


@lru_cache(maxsize=8192)
def _cached_settings(key: tuple[tuple[str, type, Any], ...]) -> Settings:
    return tpu_settings({name: value for name, _, value in key})


def _settings(overrides: Mapping[str, Any]) -> Settings:
    """The spec and runtime `tpu_v1(**overrides)` builds (`tpu_settings`), cached by the
    overrides and their types (True and 1 differ: the first is a SpecError)."""
    try:
        key = tuple(sorted((name, type(value), value) for name, value in overrides.items()))
        hash(key)
    except TypeError:  # unorderable or unhashable values: the spec's own checks answer
        return tpu_settings(overrides)
    return _cached_settings(key)


def _check_precision(spec: TPUSpec, precision: Precision | str | None) -> None:
    if precision is not None and precision is not Precision.INT8:
        TPU(spec).check_precision(precision)


def _prepare(point: TpuPoint) -> tuple[TPUSpec, TPURuntime, WorkloadShape]:
    """The point's spec, runtime and workload, checked in the reference's order."""
    spec, runtime = _settings(point.overrides)
    _network(point.network)
    _check_precision(spec, point.precision)
    shape = _workload_shape(point.network, point.batch, point.seq_len)
    if shape.weight_bytes > spec.weight_memory_bytes \
            or shape.unified_buffer_bytes > spec.unified_buffer_bytes:
        check_capacity(shape.workload, spec)
    return spec, runtime, shape


def _lane(spec: TPUSpec, host_io: bool) -> tuple[float, float, int, bool]:
    """A `LANE` record's values; a device-only lane never reads its PCIe rate."""
    pcie = spec.pcie_bytes_per_cycle if host_io else 1.0
    return (spec.ddr_bytes_per_cycle, pcie, spec.weight_fifo_tiles, host_io)


def _time_group(shape: WorkloadShape, specs: list[TPUSpec]
                ) -> list[tuple[float, float, int, int]]:
    """(cycles, device cycles, off-chip bytes, on-chip bytes) per spec, all sharing the array
    shape: one kernel walk, one lane per distinct (rates, depth, host I/O)."""
    lanes: dict[tuple[float, float, int, bool], int] = {}
    wanted = [(lanes.setdefault(_lane(s, True), len(lanes)),
               lanes.setdefault(_lane(s, False), len(lanes))) for s in specs]
    first = specs[0]
    cycles, offchip, onchip = program_cycles(shape.items, first.array_rows, first.array_cols,
                                             first.accumulator_buffer_rows,
                                             np.array(list(lanes), LANE))
    return [(float(cycles[e2e]), float(cycles[device]), offchip, onchip)
            for e2e, device in wanted]


def _time_passes(shape: WorkloadShape, spec: TPUSpec) -> tuple[float, float, int, int, int]:
    """A batch that overflows the Unified Buffer, as `TPU.passes` runs it: sub-batches of
    the largest batch that fits (the sub-batch's program `full` times, then the rest's), or
    the whole batch with its overflow spilled over PCIe, whichever is faster — the same
    choice from the same totals, summed in the same order as `Passes.combined`; last, the
    number of program runs (`Passes.count`)."""
    workload = shape.workload
    sub = fitting_batch(workload, spec)
    full, rest = divmod(workload.batch, sub)
    runs = [(*_time_group(_shape_of(workload.with_batch(sub)), [spec])[0], full)]
    if rest:
        runs.append((*_time_group(_shape_of(workload.with_batch(rest)), [spec])[0], 1))
    split = (sum(cycles * count for cycles, _, _, _, count in runs),
             sum(device * count for _, device, _, _, count in runs),
             sum(off * count for _, _, off, _, count in runs),
             sum(on * count for _, _, _, on, count in runs))
    spill_cycles = spill_bytes(workload, spec) / spec.pcie_bytes_per_cycle
    whole = _time_group(shape, [spec])[0]
    if whole[0] + spill_cycles >= split[0]:
        return (*split, full + (1 if rest else 0))
    return (whole[0] + spill_cycles, whole[1] + spill_cycles, whole[2], whole[3], 1)


class PowerFigures(NamedTuple):
    """What `energy_from_counts` reads of a spec (a `PoweredSpec`): a small hashable key."""

    name: str
    process_nm: float
    idle_watts: float
    tdp_watts: float
    volts_ratio: float


@lru_cache(maxsize=16384)
def _dynamic_energy(power: PowerFigures, ops: int, vector_ops: int, sram_bytes: int,
                    dram_bytes: int, batch: int) -> Energy:
    """The run's energy with no time yet (seconds = 0: no static part)."""
    return energy_from_counts(power, macs={Precision.INT8: ops // 2}, vector_ops=vector_ops,
                              sram_bytes=sram_bytes, dram_bytes=dram_bytes, seconds=0.0,
                              batch=batch)


def _energy(spec: TPUSpec, shape: WorkloadShape, batch: int, dram_bytes: int,
            sram_bytes: int, seconds: float) -> Energy:
    """`energy_from_counts` on the run's counts, its dynamic part cached: static energy,
    idle_watts × seconds, is the model's only term that depends on time, and the last of the
    parts it sums, so adding it to the cached parts gives the same floats as pricing the
    point afresh (tests/sweep/test_fast_tpu.py checks both against the reference)."""
    power = PowerFigures(spec.name, spec.process_nm, spec.idle_watts, spec.tdp_watts,
                         spec.volts_ratio)
    dynamic = _dynamic_energy(power, shape.ops, shape.vector_ops, sram_bytes, dram_bytes,
                              batch)
    static = spec.idle_watts * seconds
    parts = (*dynamic.parts, (EnergyPart.STATIC, static)) if static > 0 else dynamic.parts
    return dataclasses.replace(dynamic, seconds=seconds, parts=parts)


def _columns(spec: TPUSpec, runtime: TPURuntime, shape: WorkloadShape, batch: int,
             totals: tuple[float, float, int, int, int]) -> dict[str, float]:
    """The sweep's columns, each computed as `RunResult` (and `energy_of`) compute it; end
    to end adds the host's part as `TPU.time_workload` does (`TPURuntime.host_cycles`)."""
    program_cycles, device_cycles, dram_bytes, sram_bytes, passes = totals
    cycles = program_cycles + runtime.host_cycles(shape.transfers, passes, spec.clock_hz)
    seconds, device_seconds = cycles / spec.clock_hz, device_cycles / spec.clock_hz
    achieved = shape.ops / device_seconds if device_seconds > 0 else 0.0
    peak = spec.peak_ops_per_s
    out: dict[str, float] = {
        "cycles": cycles, "seconds": seconds, "device_seconds": device_seconds,
        "throughput_per_s": batch / seconds if seconds > 0 else 0.0, "latency_s": seconds,
        "ops": shape.ops, "dram_bytes": dram_bytes, "sram_bytes": sram_bytes,
        "utilization_fraction": achieved / peak if peak else 0.0}
    if POWERED:
        energy = _energy(spec, shape, batch, dram_bytes, sram_bytes, seconds)
        out.update(joules_per_inference=energy.joules_per_inference,
                   ops_per_joule=energy.ops_per_joule, average_watts=energy.average_watts)
    return out


def tpu_points(points: Iterable[TpuPoint | tuple[Any, ...]]
               ) -> list[dict[str, float] | AccelsimError]:
    """Each point's columns (see `tpu_point`), or the `AccelsimError` its reference run
    raises, in the points' order. Points sharing a network, batch, seq_len and array shape
    (array_rows, array_cols, accumulator_rows) are timed in one kernel walk."""
    out: list[dict[str, float] | AccelsimError] = []
    groups: dict[tuple[int, int, int, int], list[tuple[int, TPUSpec, TPURuntime]]] = {}
    shapes: dict[int, WorkloadShape] = {}
    for index, point in enumerate(points):
        try:
            spec, runtime, shape = _prepare(TpuPoint(*point))
        except AccelsimError as error:
            out.append(error)
            continue
        out.append({})
        shapes[id(shape)] = shape
        key = (id(shape), spec.array_rows, spec.array_cols, spec.accumulator_buffer_rows)
        groups.setdefault(key, []).append((index, spec, runtime))
    for key, members in groups.items():
        shape = shapes[key[0]]
        specs = [spec for _, spec, _ in members]
        timed = [_time_passes(shape, spec) for spec in specs] \
            if shape.unified_buffer_bytes > min(spec.unified_buffer_bytes for spec in specs) \
            else [(*totals, 1) for totals in _time_group(shape, specs)]
        for (index, spec, runtime), totals in zip(members, timed, strict=True):
            try:
                out[index] = _columns(spec, runtime, shape, shape.workload.batch, totals)
            except AccelsimError as error:
                out[index] = error
    return out


def tpu_point(network: str | Path, batch: int, overrides: Mapping[str, Any] | None = None, *,
              seq_len: int | None = None,
              precision: Precision | str | None = None) -> dict[str, float]:
    """Timing-only columns of one TPU design point: `COLUMNS` (cycles, seconds and
    device_seconds equal to `accelsim.machine("tpu-v1", **overrides).run(net, batch=batch)`'s;
    throughput_per_s and latency_s from seconds; dram_bytes and sram_bytes the run's ops'
    summed `dram_bytes` (DDR3 weights and PCIe transfers) and `onchip_bytes`;
    utilization_fraction as `RunResult.utilization`; names as `accelsim.metrics` spells
    them), and `ENERGY_COLUMNS` as the run's energy gives them. Raises
    what the reference run raises."""
    result = tpu_points([TpuPoint(network, batch, overrides or {}, seq_len, precision)])[0]
    if isinstance(result, AccelsimError):
        raise result
    return result
