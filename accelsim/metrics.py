"""One vocabulary of what a run measures: each metric's name (its unit in the name, DESIGN's
convention), its unit, which way is better, and how to read it from a `RunResult` (or an
`OpResult`). Comparison records (`accelsim.comparison`), a scenario's [[reference]] metrics,
a sweep's rows and objectives and the report's columns all read these tables; nothing else
spells a metric's name.

- `RUN_METRICS`: a run's numbers, in the order records and results.json list them;
- `OP_METRICS`: an op's numbers (results.csv, one row per op);
- `SWEEP_METRICS`: the columns a design-space sweep records per point (timing only);
- `OBJECTIVES`: the sweep metrics a design is ranked by, with the better direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from accelsim.machines.results import Category, OpResult, RunResult

Value = float | int | None


class Better(StrEnum):
    """Which way a metric improves."""

    MAX = "max"
    MIN = "min"


@dataclass(frozen=True)
class Metric:
    """A number read from a result: `name` carries its unit (`seconds`, `throughput_per_s`),
    `unit` is the symbol a label shows ('' for a fraction or a count)."""

    name: str
    unit: str
    read: Callable[[RunResult], Value]
    better: Better | None = None


@dataclass(frozen=True)
class OpMetric:
    """A value read from one op's result (a number, or a label such as what bound it)."""

    name: str
    unit: str
    read: Callable[[OpResult], Value | str]


def _dram_bytes(r: RunResult) -> int:
    """DRAM bytes of every op of the run."""
    return sum(op.dram_bytes for op in r.layers)


def _energy(field: str) -> Callable[[RunResult], float | None]:
    def read(r: RunResult) -> float | None:
        return None if r.energy is None else float(getattr(r.energy, field))

    return read


def _run_time(category: Category) -> Callable[[RunResult], float]:
    return lambda r: r.time[category]


def _op_time(category: Category) -> Callable[[OpResult], float]:
    return lambda op: op.time[category]


RUN_METRICS: tuple[Metric, ...] = (
    Metric("seconds", "s", lambda r: r.seconds, Better.MIN),
    Metric("device_seconds", "s", lambda r: r.device_seconds, Better.MIN),
    Metric("latency_ms", "ms", lambda r: r.seconds * 1e3, Better.MIN),
    Metric("throughput_per_s", "/s", lambda r: r.throughput, Better.MAX),
    Metric("device_throughput_per_s", "/s", lambda r: r.device_throughput, Better.MAX),
    Metric("cycles", "cycles", lambda r: r.cycles, Better.MIN),
    Metric("clock_hz", "Hz", lambda r: r.clock_hz),
    Metric("ops", "OP", lambda r: r.ops),
    Metric("achieved_ops_per_s", "OP/s", lambda r: r.achieved_ops_per_s, Better.MAX),
    Metric("peak_ops_per_s", "OP/s", lambda r: r.peak_ops_per_s),
    Metric("utilization_fraction", "", lambda r: r.utilization, Better.MAX),
    Metric("accuracy_fraction", "", lambda r: r.accuracy, Better.MAX),
    Metric("dram_bytes", "B", _dram_bytes, Better.MIN),
    Metric("joules_per_inference", "J", _energy("joules_per_inference"), Better.MIN),
    Metric("ops_per_joule", "OP/J", _energy("ops_per_joule"), Better.MAX),
    Metric("average_watts", "W", _energy("average_watts"), Better.MIN),
    *(Metric(f"time_seconds.{c.value}", "s", _run_time(c), Better.MIN) for c in Category),
)
"""A run's numbers, in record order (`comparison.run_record`)."""

METRICS: Mapping[str, Metric] = MappingProxyType({m.name: m for m in (
    *RUN_METRICS, Metric("latency_s", "s", lambda r: r.seconds, Better.MIN))})
"""Every run metric by name (`latency_s` is the sweep's end-to-end latency in seconds)."""

ENERGY_METRICS = ("joules_per_inference", "ops_per_joule", "average_watts")
SWEEP_METRICS = ("cycles", "seconds", "device_seconds", "latency_s", "throughput_per_s",
                 "ops", "utilization_fraction", "dram_bytes", *ENERGY_METRICS)
"""A sweep row's metric columns, in order."""

OBJECTIVES: Mapping[str, Better] = MappingProxyType({
    name: METRICS[name].better or Better.MAX
    for name in ("throughput_per_s", "latency_s", "joules_per_inference", "ops_per_joule")})
"""The sweep metrics a design point is ranked by, and the better direction of each."""

OP_METRICS: tuple[OpMetric, ...] = (
    OpMetric("seconds", "s", lambda op: op.seconds),
    OpMetric("cycles", "cycles", lambda op: op.cycles),
    OpMetric("ops", "OP", lambda op: op.ops),
    OpMetric("ops_unit", "", lambda op: op.precision.ops_unit),
    OpMetric("achieved_ops_per_s", "OP/s", lambda op: op.achieved_ops_per_s),
    OpMetric("utilization_fraction", "", lambda op: op.utilization),
    OpMetric("bound", "", lambda op: op.bound.value),
    OpMetric("dram_bytes", "B", lambda op: op.dram_bytes),
    OpMetric("onchip_bytes", "B", lambda op: op.onchip_bytes),
    *(OpMetric(f"time_seconds.{c.value}", "s", _op_time(c)) for c in Category),
)
"""What results.csv records of an op, in column order (its unit of ops and what bound it
beside the numbers)."""


def run_values(r: RunResult, names: tuple[str, ...]) -> tuple[Value, ...]:
    """The named metrics of one run, in order."""
    return tuple(METRICS[name].read(r) for name in names)


def better(name: str) -> Better:
    """The direction a metric improves in (higher for a metric without one)."""
    metric = METRICS.get(name)
    return Better.MAX if metric is None or metric.better is None else metric.better
