"""The one run path: a network on a machine at a precision, for one batch.

A machine model is narrow (`TimingModel`): it times a lowered workload and computes outputs
at a precision. Everything around that is here, the same for every machine: the precision
and the network checked against the machine, the data split and checked, the network lowered
(`accelsim.lower`), outputs scored against the labels (`nn.scoring`), and the run priced
(`accelsim.energy`, when the spec gives power figures; every preset's does). `Machine.run`
calls `run_network`; so do the CLI and notebooks, through it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

import numpy as np

from accelsim.energy import PoweredSpec, energy_of, vector_ops_of
from accelsim.errors import AccelsimError, SpecError
from accelsim.ir import Workload
from accelsim.lower import lower
from accelsim.machines.results import RunResult, WorkloadTiming
from accelsim.machines.specs import SANE_RANGES, MachineSpec
from accelsim.nn.runnable import Runnable, check_runnable
from accelsim.nn.scoring import Data, score, split_data
from accelsim.precision import Precision
from accelsim.units import unit_of

MAX_BATCH = 1_000_000  # samples per run: the TPU's program grows with the batch


class TimingModel(Protocol):
    """What the run path needs of a machine (`accelsim.machines.base.Machine` gives it)."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> MachineSpec: ...

    @property
    def clock_hz(self) -> float: ...

    @property
    def default_precision(self) -> Precision: ...

    def check_precision(self, precision: Precision | str) -> Precision: ...

    def check_runnable(self, net: Runnable) -> None: ...

    def peak_ops_per_s(self, precision: Precision | str) -> float: ...

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming: ...

    def execute(self, net: Runnable, x: np.ndarray, precision: Precision) -> np.ndarray: ...


def _inputs(net: Runnable, data: Data, seq_len: int | None
            ) -> tuple[np.ndarray | None, np.ndarray | None, int | None]:
    """(inputs checked against the network, labels, the sequence length to time): a
    sequence network times the data's own length."""
    x, y = split_data(data)
    if x is None:
        return None, y, seq_len
    x = net.check_input(x)
    if net.sequence and seq_len not in (None, x.shape[1]):
        raise AccelsimError(f"seq_len = {seq_len} but the data has {x.shape[1]} time steps; "
                            "leave seq_len out to time the data's length")
    return x, y, x.shape[1] if net.sequence else seq_len


def run_network(machine: TimingModel, net: Runnable, batch: int = 1,
                precision: Precision | str | None = None, data: Data = None,
                seq_len: int | None = None) -> RunResult:
    """Time one batch of `net` on `machine` and, given data, compute outputs and accuracy
    (precision None: the machine's default)."""
    net = check_runnable(net, f"{machine.name}.run")
    p = machine.check_precision(machine.default_precision if precision is None else precision)
    machine.check_runnable(net)
    x, y, seq_len = _inputs(net, data, seq_len)
    workload = lower(net, batch, seq_len)
    if workload.batch > MAX_BATCH:  # a lifted capacity limit must not make the work unbounded
        raise AccelsimError(f"{machine.name}: batch = {workload.batch:,} is over the "
                            f"{MAX_BATCH:,} samples one run simulates; use batch ≤ "
                            f"{MAX_BATCH:,}")
    timing = machine.time_workload(workload, p)
    outputs = machine.execute(net, x, p) if x is not None else None
    result = RunResult(
        machine=machine.name, network=net.name, batch=workload.batch, precision=p,
        layers=timing.layers, cycles=timing.cycles, seconds=timing.seconds,
        device_seconds=timing.device_seconds, ops=workload.total_ops,
        peak_ops_per_s=machine.peak_ops_per_s(p), clock_hz=machine.clock_hz,
        seq_len=workload.seq_len,
        accuracy=score(outputs, y) if y is not None and outputs is not None else None,
        outputs=outputs, program=timing.program, detail=timing.detail, time=timing.time,
        vector_ops=vector_ops_of(workload),
        memory_bytes_per_s=machine.spec.memory_bytes_per_s)
    if isinstance(machine.spec, PoweredSpec):
        result = dataclasses.replace(result, energy=energy_of(result, machine))
    check_finite(result, machine.spec)
    return result


def _derived(result: RunResult) -> dict[str, tuple[float, bool]]:
    """Each derived number of a run → (value, whether it must be above 0, not just ≥ 0)."""
    values = {"seconds": (result.seconds, True), "device_seconds": (result.device_seconds, True),
              "cycles": (result.cycles, True), "throughput": (result.throughput, True),
              "peak_ops_per_s": (result.peak_ops_per_s, True),
              "achieved_ops_per_s": (result.achieved_ops_per_s, result.ops > 0),
              "utilization": (result.utilization, result.ops > 0)}
    if result.energy is not None:
        values |= {"joules_per_inference": (result.energy.joules_per_inference, True),
                   "average_watts": (result.energy.average_watts, True)}
    return values


def check_finite(result: RunResult, spec: MachineSpec) -> None:
    """Every derived time, rate, energy and utilization finite (and positive where the run
    did work), or a `SpecError` naming the spec fields that set it and their usable ranges:
    extreme finite spec values (a clock of 1e308 Hz) must not reach a table as inf or 0."""
    for name, (value, positive) in _derived(result).items():
        if math.isfinite(value) and (value > 0 or (not positive and value == 0)):
            continue
        fields = [f.name for f in dataclasses.fields(spec)
                  if f.name.endswith(("_hz", "_bytes_per_s", "_watts", "_nm"))]
        ranges = "; ".join(f"{f} = {getattr(spec, f)!r} (use {_range_of(f)})" for f in fields)
        raise SpecError(f"{spec.name}: {result.network} at batch {result.batch} gives "
                        f"{name} = {value!r}, not a finite positive number: the spec's values "
                        f"are outside what the model can compute; check {ranges}")


def _range_of(field: str) -> str:
    low_high_words = SANE_RANGES.get(unit_of(field).symbol) or SANE_RANGES["float"]
    return low_high_words[2]
