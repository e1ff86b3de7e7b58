"""The machine base class: a frozen spec and a timing model per op kind.

`time_op` times one op as a kernel of its own; `time_workload` times a whole lowered network
(machines that overlap ops or fuse layers, like the TPU's decoupled access/execute, override
it) and returns both times (ARCHITECTURE.md, "Two times"); `execute` computes outputs at a
precision; `check_runnable` refuses a network the machine cannot run at all (the TPU v1 a
quantization with zero points). That is all a machine does. `run` hands it to the one run
path (`accelsim.machines.run.run_network`), which lowers, checks the data, scores accuracy and
prices the energy around it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from accelsim.checks import check_count
from accelsim.errors import PrecisionError
from accelsim.ir import Gemm, Op, Workload
from accelsim.machines.results import OpResult, RunResult, WorkloadTiming
from accelsim.machines.run import run_network
from accelsim.machines.specs import MachineSpec, RatedSpec
from accelsim.nn.runnable import Runnable
from accelsim.nn.scoring import Data
from accelsim.precision import Precision

__all__ = ["Machine", "OpResult", "Precision", "RunResult", "SpecMachine", "WorkloadTiming"]


class Machine(ABC):
    """Base class: subclasses give the spec, precisions, peak rates and per-op timing."""

    name: str
    spec: MachineSpec

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

    def settings(self) -> tuple[Any, ...]:
        """The frozen dataclasses whose fields `accelsim.machine(name, **overrides)` sets:
        the spec, and for a GPU its runtime too."""
        return (self.spec,)

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
            data: Data = None, seq_len: int | None = None) -> RunResult:
        """Time one batch of `net` and, given data, compute outputs and accuracy
        (precision None: the machine's default); see `accelsim.machines.run`."""
        return run_network(self, net, batch, precision, data, seq_len)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SpecMachine(Machine):
    """A machine whose spec gives its clock, precisions and peak rates (CPUs and GPUs), with
    float numerics by emulated rounding and int8 through a quantized network."""

    spec: RatedSpec

    def __init__(self, spec: RatedSpec) -> None:
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

    def execute(self, net: Runnable, x: np.ndarray, precision: Precision) -> np.ndarray:
        if precision is Precision.INT8:
            from accelsim.quant import ensure_quantized

            return ensure_quantized(net, x).forward(x)
        return net.forward(x, precision)

