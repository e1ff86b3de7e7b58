"""The SIMT GPU machine: each op as the kernel a library would launch for it.

Timing model: GEMMs (and convolutions, as implicit GEMMs) pick a kernel from a CUTLASS/cuBLAS
style menu by predicted time (gemm.py), which comes from simulating one SM's resident warps
(sm_sim.py) across waves and tails, with split-K reductions and DRAM bounds; element-wise and
pooling ops are streaming kernels (elementwise.py); an RNN/LSTM step is its gate GEMM plus one
fused element-wise kernel for the cell (as cuDNN fuses it); host copies cross the host link.
Kernels run one after another; each pays the device-side launch cost measured for a trivial
kernel in a CUDA graph (`kernel_launch_s`). The host-side cost of launching from an eager
framework is the separate `host_launch_s`, not part of device time. Sources: see spec.py and
the module docstrings; validation: `accelsim validate gpu-h200`.

Numerics: fp32; fp16 and bf16 (rounded storage, fp32 accumulation as tensor cores do); int8
(int32 accumulation, via a quantized network). A precision the GPU lacks is an error.
"""

from __future__ import annotations

from accelsim.ir import Gemm, Op, Pool, Transfer, Vector, Workload
from accelsim.machines.base import SpecMachine, WorkloadTiming
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
from accelsim.machines.results import OpResult
from accelsim.precision import Precision


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
        choice = self.kernel_for(op.m, op.k, op.n, precision)
        seconds = choice.seconds * op.count
        launches = op.count * (2 if choice.split_k > 1 else 1)
        details = {"ctas": float(choice.ctas), "ctas_per_sm": float(choice.ctas_per_sm),
                   "waves": choice.waves, "split_k": float(choice.split_k),
                   "launches": float(launches),
                   "launch_s": choice.launch_seconds * op.count,
                   "reduce_s": choice.reduce_seconds * op.count}
        return OpResult(op.name, "gemm", seconds * self.clock_hz, seconds, op.ops, precision,
                        choice.dram_bytes * op.count, 0,
                        op.ops / (seconds * self.peak_ops_per_s(precision)), choice.bound,
                        details, choice.name)

    def _stream_result(self, op: Op, cost: StreamCost, precision: Precision,
                       kernel: str = "", launches: int = 1) -> OpResult:
        """`cost` covers the whole op (every repetition)."""
        name = kernel or ("memcpy" if isinstance(op, Transfer) else type(op).__name__.lower())
        per_launch = cost.seconds / max(launches, 1)
        bound = "latency" if per_launch < 2 * self.spec.kernel_launch_s else cost.bound
        return OpResult(op.name, type(op).__name__.lower(), cost.seconds * self.clock_hz,
                        cost.seconds, 0, precision, cost.bytes_moved, 0, 0.0, bound,
                        {"launches": 0.0 if isinstance(op, Transfer) else float(launches)}, name)

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """Kernels one after another; the element-wise ops of a repeated (recurrent) GEMM
        fuse into one kernel per step."""
        layers: list[OpResult] = []
        ops = workload.ops
        index = 0
        while index < len(ops):
            op = ops[index]
            group = _recurrent_cell(ops, index)
            if group:
                layers.extend(self._fused_cell(ops[index - 1], group, precision))
                index += len(group)
                continue
            layers.append(self.time_op(op, precision))
            index += 1
        seconds = sum(r.seconds for r in layers)
        details = {"kernels": sum(r.details.get("launches", 0.0) for r in layers),
                   "device_s": sum(r.seconds for r, op in zip(layers, ops, strict=True)
                                   if not isinstance(op, Transfer)),
                   **self._breakdown(layers, ops)}
        return WorkloadTiming(tuple(layers), seconds * self.clock_hz, seconds, None, details)

    def _breakdown(self, layers: list[OpResult], ops: tuple[Op, ...]) -> dict[str, float]:
        """Cycles in GEMM kernels, element-wise kernels, kernel launches and host copies."""
        launch = self.spec.kernel_launch_s * self.clock_hz
        parts = dict.fromkeys(("gemm_cycles", "elementwise_cycles", "launch_cycles",
                               "host_copy_cycles"), 0.0)
        for result, op in zip(layers, ops, strict=True):
            launches = result.details.get("launches", 0.0)
            if isinstance(op, Transfer):
                parts["host_copy_cycles"] += result.cycles
                continue
            key = "gemm_cycles" if isinstance(op, Gemm) else "elementwise_cycles"
            parts[key] += result.cycles - launches * launch
            parts["launch_cycles"] += launches * launch
        return parts

    def _fused_cell(self, gemm: Gemm, group: list[Vector],
                    precision: Precision) -> list[OpResult]:
        """One kernel per time step for the whole cell: it reads the gate pre-activations
        (and the cell state of an LSTM), keeps the intermediates in registers, and writes
        the new state."""
        cells = gemm.m * (gemm.n // 4 if len(group) > 1 else gemm.n)
        state = 2 if len(group) > 1 else 1  # LSTM: c and h; RNN: h
        moved = (gemm.m * gemm.n + (state - 1) * cells + state * cells) * precision.bytes
        alu = sum(ALU_OPS[v.kind] * v.elements for v in group)
        sfu = sum(SFU_OPS.get(v.kind, 0) * v.elements for v in group)
        step = stream_seconds(moved, alu, sfu, self.spec)
        fused = StreamCost(step.seconds * gemm.count, moved * gemm.count, step.bound)
        kernel = "fused_lstm_cell" if len(group) > 1 else "fused_rnn_cell"
        first = self._stream_result(group[0], fused, precision, kernel, gemm.count)
        rest = [OpResult(v.name, "vector", 0.0, 0.0, 0, precision, 0, 0, 0.0, "latency", {},
                         f"fused into {group[0].name}") for v in group[1:]]
        return [first, *rest]

    def __repr__(self) -> str:
        return f"GPU({self.spec.name!r}, {self.spec.sm_count} SMs)"


def _recurrent_cell(ops: tuple[Op, ...], index: int) -> list[Vector]:
    """The Vector ops right after a repeated GEMM, belonging to the same layer."""
    if index == 0 or not isinstance(ops[index], Vector):
        return []
    gemm = ops[index - 1]
    if not isinstance(gemm, Gemm) or gemm.count == 1:
        return []
    group = []
    for op in ops[index:]:
        if not isinstance(op, Vector) or op.layer != gemm.layer:
            break
        group.append(op)
    return group


def gpu_preset(name: str, **overrides: object) -> GPU:
    return GPU(GPU_SPECS[name].replace(**overrides))
