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
from typing import Protocol

import numpy as np

from accelsim.energy import PoweredSpec, energy_of, vector_ops_of
from accelsim.errors import AccelsimError
from accelsim.ir import Workload
from accelsim.lower import lower
from accelsim.machines.results import RunResult, WorkloadTiming
from accelsim.machines.specs import MachineSpec
from accelsim.nn.runnable import Runnable
from accelsim.nn.scoring import Data, score, split_data
from accelsim.precision import Precision


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
    p = machine.check_precision(machine.default_precision if precision is None else precision)
    machine.check_runnable(net)
    x, y, seq_len = _inputs(net, data, seq_len)
    workload = lower(net, batch, seq_len)
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
    if not isinstance(machine.spec, PoweredSpec):
        return result
    return dataclasses.replace(result, energy=energy_of(result, machine))
