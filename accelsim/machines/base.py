"""The machine protocol and the results every machine returns.

A machine is a frozen spec plus a timing model per op kind. `time_op` times one op as a kernel
of its own; `time_workload` times a whole lowered network (machines that overlap ops or fuse
layers, like the TPU's decoupled access/execute, override it) and returns both times
(DESIGN.md "Two times"); `execute` computes outputs at a precision. `run` is the one
run path (the CLI and `accelsim.run` call it); it asks `check_runnable` first, so a machine
refuses a network it cannot run (the TPU v1 a quantization with zero points) before any timing,
with or without data, and attaches the run's energy (`energy.energy_of`) when the spec gives
power figures (every preset's does).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelsim.checks import check_count
from accelsim.energy import PoweredSpec, energy_of, vector_ops_of
from accelsim.errors import AccelsimError, PrecisionError
from accelsim.ir import Gemm, Op, Transfer, Workload
from accelsim.lower import lower
from accelsim.machines.results import Breakdown, MachineProgram, OpResult, RunResult
from accelsim.nn.runnable import Runnable
from accelsim.nn.scoring import score, split_data
from accelsim.precision import Precision

__all__ = ["Machine", "OpResult", "Precision", "RunResult", "SpecMachine", "WorkloadTiming"]


@dataclass(frozen=True)
class WorkloadTiming:
    """A timed workload: per-op results, both times, where the time went, and the machine's
    program (a TPU `Program`) and run-level detail dataclass if it has them."""

    layers: tuple[OpResult, ...]
    cycles: float
    seconds: float
    device_seconds: float
    time: Breakdown
    program: MachineProgram | None = None
    detail: Any = None

    @classmethod
    def serial(cls, layers: tuple[OpResult, ...], workload: Workload,
               detail: Any = None) -> WorkloadTiming:
        """Ops one after another: end to end is every op, device time all but the host
        transfers."""
        seconds = sum(r.seconds for r in layers)
        device = sum(r.seconds for r, op in zip(layers, workload.ops, strict=True)
                     if not isinstance(op, Transfer))
        return cls(layers, sum(r.cycles for r in layers), seconds, device,
                   Breakdown.total_of(r.time for r in layers), None, detail)


class Machine(ABC):
    """Base class: subclasses give the spec, precisions, peak rates and per-op timing."""

    name: str
    spec: Any

    @property
    @abstractmethod
    def clock_hz(self) -> float:
        """Clock of the cycles this machine reports."""

    @property
    @abstractmethod
    def precisions(self) -> frozenset[Precision]:
        """Precisions the hardware executes natively."""

    @abstractmethod
    def peak_ops_per_s(self, precision: Precision | str) -> float:
        """Peak arithmetic rate (2 ops per MAC) at a precision."""

    @abstractmethod
    def time_op(self, op: Op, precision: Precision) -> OpResult:
        """Time one op as a kernel of its own (operands start and end in main memory)."""

    @property
    def default_precision(self) -> Precision:
        """fp32 where the machine has it, else its narrowest format (int8 on the TPU)."""
        if Precision.FP32 in self.precisions:
            return Precision.FP32
        return min(self.precisions, key=lambda p: p.bytes)

    def check_precision(self, precision: Precision | str) -> Precision:
        p = Precision.parse(precision)
        if p not in self.precisions:
            have = ", ".join(sorted(q.value for q in self.precisions))
            raise PrecisionError(f"{self.name} does not support {p.value}; it runs {have}")
        return p

    def check_runnable(self, net: Runnable) -> None:
        """Raise if this machine cannot run `net` at all (every machine here can, unless it
        overrides this); `run` calls it before lowering and timing."""
        return None

    def gemm(self, m: int, k: int, n: int, precision: Precision | str | None = None) -> OpResult:
        """Time C[m, n] = A[m, k] @ B[k, n] launched on its own (default: own precision)."""
        m, k, n = (check_count(value, f"gemm {label}", owner=self.name, meaning=meaning)
                   for label, value, meaning in (("m", m, "rows of A and C"),
                                                 ("k", k, "columns of A, rows of B"),
                                                 ("n", n, "columns of B and C")))
        op = Gemm(f"gemm{m}x{k}x{n}", m=m, k=k, n=n, bias=False)
        chosen = self.default_precision if precision is None else precision
        return self.time_op(op, self.check_precision(chosen))

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """Ops one after another (no overlap between kernels)."""
        layers = tuple(self.time_op(op, precision) for op in workload.ops)
        return WorkloadTiming.serial(layers, workload)

    def execute(self, net: Runnable, x: np.ndarray, precision: Precision) -> np.ndarray:
        """Outputs at `precision`: float formats by emulated rounding (see nn.numerics)."""
        return net.forward(x, precision)

    def run(self, net: Runnable, batch: int = 1, precision: Precision | str | None = None,
            data: Any = None, seq_len: int | None = None) -> RunResult:
        """Time one batch of `net` and, given data, compute outputs and accuracy
        (precision None: the machine's default). The one run path: lower, time, execute,
        score, price the energy."""
        p = self.check_precision(self.default_precision if precision is None else precision)
        self.check_runnable(net)
        x, y = split_data(data)
        if x is not None:
            x = net.check_input(x)
            if net.sequence and seq_len not in (None, x.shape[1]):
                raise AccelsimError(f"seq_len = {seq_len} but the data has {x.shape[1]} time "
                                    "steps; leave seq_len out to time the data's length")
            if net.sequence:
                seq_len = x.shape[1]
        workload = lower(net, batch, seq_len)
        timing = self.time_workload(workload, p)
        outputs = self.execute(net, x, p) if x is not None else None
        accuracy = score(outputs, y) if y is not None and outputs is not None else None
        result = RunResult(machine=self.name, network=net.name, batch=workload.batch,
                           precision=p, layers=timing.layers, cycles=timing.cycles,
                           seconds=timing.seconds, device_seconds=timing.device_seconds,
                           ops=workload.total_ops, peak_ops_per_s=self.peak_ops_per_s(p),
                           clock_hz=self.clock_hz, seq_len=workload.seq_len,
                           accuracy=accuracy, outputs=outputs, program=timing.program,
                           detail=timing.detail, time=timing.time,
                           vector_ops=vector_ops_of(workload))
        if not isinstance(self.spec, PoweredSpec):
            return result
        return dataclasses.replace(result, energy=energy_of(result, self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SpecMachine(Machine):
    """A machine whose spec gives its clock, precisions and peak rates (CPUs and GPUs), with
    float numerics by emulated rounding and int8 through a quantized network."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.name = spec.name

    @property
    def clock_hz(self) -> float:
        return self.spec.clock_hz

    @property
    def precisions(self) -> frozenset[Precision]:
        return self.spec.precisions

    def peak_ops_per_s(self, precision: Precision | str = Precision.FP32) -> float:
        return self.spec.peak_ops_per_s(self.check_precision(precision))

    def execute(self, net: Any, x: np.ndarray, precision: Precision) -> np.ndarray:
        if precision is Precision.INT8:
            from accelsim.quant import ensure_quantized

            return ensure_quantized(net, x).forward(x)
        return net.forward(x, precision)

