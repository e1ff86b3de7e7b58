"""The SIMT GPU machine: each op as the kernel a library would launch for it.

Timing model: GEMMs (and convolutions, as implicit GEMMs) pick a kernel from a CUTLASS/cuBLAS
style menu by predicted time (gemm.py), which comes from simulating one SM's resident warps
(sm_sim.py) across waves and tails, with split-K reductions and DRAM bounds; element-wise and
pooling ops are streaming kernels (elementwise.py); an RNN/LSTM step is its gate GEMM plus one
fused element-wise kernel for the cell (as cuDNN fuses it); host copies cross the host link.
Kernels run one after another; each pays the device-side launch cost measured for a trivial
kernel in a CUDA graph (`kernel_launch_s`): their sum is the device time. End to end adds the
eager framework's host path: `host_launch_s` per framework op dispatched, overlapping the
device work already queued, and the synchronous host copies. Sources: see spec.py and
the module docstrings; validation: `accelsim validate gpu-h200`.

Numerics: fp32; fp16 and bf16 (rounded storage, fp32 accumulation as tensor cores do); int8
(int32 accumulation, via a quantized network). A precision the GPU lacks is an error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from accelsim.ir import Gemm, LayerOps, Op, Pool, Recurrence, Transfer, Vector, Workload
from accelsim.machines.base import SpecMachine, WorkloadTiming
from accelsim.machines.capacity import check_gemm_fits, check_workload_fits
from accelsim.machines.gpu.elementwise import (
    ALU_OPS,
    SFU_OPS,
    StreamCost,
    pool_cost,
    stream_seconds,
    transfer_cost,
    vector_cost,
)
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel
from accelsim.machines.gpu.spec import GPU_SPECS, GPUSpec
from accelsim.machines.results import Bound, Breakdown, Category, OpResult
from accelsim.precision import Precision


@dataclass(frozen=True)
class GpuKernelDetail:
    """The kernels an op launched (over all its repetitions): the chosen GEMM kernel's grid
    (CTAs, resident CTAs per SM, waves, split of K) or a streaming kernel's launches."""

    launches: int
    ctas: int = 0
    ctas_per_sm: int = 0
    waves: float = 0.0
    split_k: int = 1
    launch_s: float = 0.0
    reduce_s: float = 0.0


@dataclass(frozen=True)
class GpuRunDetail:
    kernels: int  # kernel launches of one batch


class GPU(SpecMachine):
    """A GPU built from a `GPUSpec`."""

    spec: GPUSpec

    def kernel_for(self, m: int, k: int, n: int, precision: Precision) -> KernelChoice:
        """The kernel the model picks for a GEMM, with its predicted time."""
        return choose_kernel(int(m), int(k), int(n), self.spec, precision)

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        precision = self.check_precision(precision)
        if isinstance(op, Gemm):
            return self._gemm_result(op, precision)
        if isinstance(op, Vector):
            cost = vector_cost(op, precision, self.spec)
            return self._stream_result(op, cost, precision, launches=op.count)
        if isinstance(op, Pool):
            return self._stream_result(op, pool_cost(op, precision, self.spec), precision)
        return self._stream_result(op, transfer_cost(op, precision, self.spec), precision)

    def _gemm_result(self, op: Gemm, precision: Precision) -> OpResult:
        check_gemm_fits(op.m, op.k, op.n, precision, self.spec.dram_bytes, self.name)
        choice = self.kernel_for(op.m, op.k, op.n, precision)
        seconds = choice.seconds * op.count
        launches = op.count * (2 if choice.split_k > 1 else 1)
        detail = GpuKernelDetail(launches, choice.ctas, choice.ctas_per_sm, choice.waves,
                                 choice.split_k, choice.launch_seconds * op.count,
                                 choice.reduce_seconds * op.count)
        return OpResult(op.name, "gemm", seconds * self.clock_hz, seconds, op.ops, precision,
                        choice.dram_bytes * op.count, 0,
                        op.ops / (seconds * self.peak_ops_per_s(precision)),
                        Bound(choice.bound), self._gemm_time(choice).scaled(op.count), detail,
                        choice.name, op.layer)

    def _gemm_time(self, choice: KernelChoice) -> Breakdown:
        """Launches, the cold start, the math (up to the body's length) and the memory wait
        beyond it, and the split-K reduction's work."""
        spec = self.spec
        launches = spec.kernel_launch_s * (2 if choice.split_k > 1 else 1)
        reduce_work = max(choice.reduce_seconds - spec.kernel_launch_s, 0.0) \
            if choice.split_k > 1 else 0.0
        body = choice.seconds - choice.launch_seconds - spec.cold_start_s - \
            choice.reduce_seconds
        compute = min(choice.compute_seconds, body)
        return Breakdown.of({Category.LAUNCH: launches, Category.LATENCY: spec.cold_start_s,
                             Category.COMPUTE: compute + reduce_work,
                             Category.MEMORY_STALL: body - compute})

    def _stream_result(self, op: Op, cost: StreamCost, precision: Precision,
                       kernel: str = "", launches: int = 1) -> OpResult:
        """`cost` covers the whole op (every repetition)."""
        name = kernel or ("memcpy" if isinstance(op, Transfer) else type(op).__name__.lower())
        per_launch = cost.seconds / max(launches, 1)
        bound = Bound.LATENCY if per_launch < 2 * self.spec.kernel_launch_s else \
            Bound(cost.bound)
        if isinstance(op, Transfer):
            time = Breakdown.of({Category.HOST_TRANSFER: cost.seconds})
            detail = None
        else:
            launch = self.spec.kernel_launch_s * launches
            time = Breakdown.of({Category.LAUNCH: launch,
                                 Category.ELEMENTWISE: cost.seconds - launch})
            detail = GpuKernelDetail(launches)
        return OpResult(op.name, type(op).__name__.lower(), cost.seconds * self.clock_hz,
                        cost.seconds, 0, precision, cost.bytes_moved, 0, 0.0, bound, time,
                        detail, name, getattr(op, "layer", ""))

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """Kernels one after another; a recurrent layer runs per step its gate GEMM and one
        fused kernel for the whole cell. The work must fit the device memory."""
        check_workload_fits(workload, self.spec.dram_bytes, precision, self.name)
        layers: list[OpResult] = []
        for layer in workload.layers:
            layers.extend(self._layer(layer, precision))
        kernels = sum(r.detail.launches for r in layers if isinstance(r.detail, GpuKernelDetail))
        device = WorkloadTiming.serial(tuple(layers), workload, GpuRunDetail(kernels))
        seconds = self._eager_seconds(layers, workload.ops)
        framework = seconds - device.seconds
        time = Breakdown.total_of([device.time, Breakdown.of({Category.FRAMEWORK: framework})])
        return dataclasses.replace(device, seconds=seconds, cycles=seconds * self.clock_hz,
                                   time=time)

    def _eager_seconds(self, layers: list[OpResult], ops: tuple[Op, ...]) -> float:
        """End to end from an eager framework: the host dispatches one framework op after
        another (`host_launch_s` each); an op's kernels start on the device once it is
        dispatched and the device is free, so dispatch overlaps the device work before it;
        host copies are synchronous. Ops fused into another's kernel cost no dispatch."""
        host = device = 0.0
        for result, op in zip(layers, ops, strict=True):
            if isinstance(op, Transfer):
                host = device = max(host, device) + result.seconds
            elif result.seconds > 0:
                host += self.spec.host_launch_s
                device = max(device, host) + result.seconds
        return max(host, device)

    def _layer(self, layer: LayerOps, precision: Precision) -> list[OpResult]:
        if layer.recurrence is None:
            return [self.time_op(op, precision) for op in layer.ops]
        return [self.time_op(layer.recurrence.gates, precision),
                *self._fused_cell(layer.recurrence, precision)]

    def _fused_cell(self, rec: Recurrence, precision: Precision) -> list[OpResult]:
        """One kernel per time step for the whole cell: it reads the gate pre-activations
        (and the cell state of an LSTM), keeps the intermediates in registers, and writes
        the new state."""
        gemm, group = rec.gates, rec.cell
        cells = rec.cells_per_step
        state = 2 if rec.kind == "lstm" else 1  # LSTM: c and h; RNN: h
        moved = (gemm.m * gemm.n + (state - 1) * cells + state * cells) * precision.bytes
        alu = sum(ALU_OPS[v.kind] * v.elements for v in group)
        sfu = sum(SFU_OPS.get(v.kind, 0) * v.elements for v in group)
        step = stream_seconds(moved, alu, sfu, self.spec)
        fused = StreamCost(step.seconds * rec.steps, moved * rec.steps, step.bound)
        kernel = f"fused_{rec.kind.value}_cell"
        first = self._stream_result(group[0], fused, precision, kernel, rec.steps)
        rest = [OpResult(v.name, "vector", 0.0, 0.0, 0, precision, 0, 0, 0.0, Bound.LATENCY,
                         kernel=f"fused into {group[0].name}", layer=v.layer)
                for v in group[1:]]
        return [first, *rest]

    def __repr__(self) -> str:
        return f"GPU({self.spec.name!r}, {self.spec.sm_count} SMs)"


def gpu_preset(name: str, **overrides: object) -> GPU:
    return GPU(GPU_SPECS[name].replace(**overrides))
