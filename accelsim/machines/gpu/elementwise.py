"""Element-wise, pooling and copy kernels on a GPU: memory streams with a latency floor.

An element-wise kernel reads its inputs and writes its outputs once; activations produced
by the previous kernel are still in L2 when they fit, so they stream at L2 bandwidth, else at
DRAM bandwidth. Arithmetic runs on the FP32 lanes; exp and reciprocal (sigmoid, tanh,
softmax) on the special-function units, 16 per SM per cycle on Volta and later (Jia et al.
2018). Time = launch + one memory round trip + max(streaming, arithmetic). A host ↔ device
copy takes a fixed DMA setup latency plus bytes over the host link.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.ir import Pool, PoolKind, Transfer, Vector, VectorKind
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.precision import Precision

SFU_PER_SM_PER_CYCLE = 16
SFU_OPS = {VectorKind.SIGMOID: 2, VectorKind.TANH: 2, VectorKind.SOFTMAX: 2}
ALU_OPS = {VectorKind.RELU: 1, VectorKind.ADD: 1, VectorKind.MUL: 1, VectorKind.SIGMOID: 3,
           VectorKind.TANH: 4, VectorKind.SOFTMAX: 4}
HOST_COPY_LATENCY_S = 2e-6


@dataclass(frozen=True)
class StreamCost:
    seconds: float
    bytes_moved: int
    bound: str


def stream_seconds(bytes_moved: int, alu_ops: float, sfu_ops: float, spec: GPUSpec) -> StreamCost:
    """A kernel that streams `bytes_moved` and does the given arithmetic."""
    resident = bytes_moved <= spec.l2_bytes
    bandwidth = spec.l2_bytes_per_s if resident else spec.dram_bytes_per_s
    latency = (spec.l2_latency_cycles if resident else spec.dram_latency_cycles) / spec.clock_hz
    memory = bytes_moved / bandwidth
    lanes = spec.fp32_lanes_per_sm * spec.sm_count * spec.clock_hz
    compute = alu_ops / lanes + sfu_ops / (SFU_PER_SM_PER_CYCLE * spec.sm_count * spec.clock_hz)
    body = max(memory, compute)
    return StreamCost(spec.kernel_launch_s + latency + body, bytes_moved,
                      "memory" if memory >= compute else "compute")


def vector_cost(op: Vector, precision: Precision, spec: GPUSpec) -> StreamCost:
    """One kernel per repetition (`count`) of the op."""
    elements = op.elements
    moved = (op.input_bytes(precision) + op.output_bytes(precision)) // op.count
    once = stream_seconds(moved, ALU_OPS[op.kind] * elements,
                          SFU_OPS.get(op.kind, 0) * elements, spec)
    return StreamCost(once.seconds * op.count, moved * op.count, once.bound)


def pool_cost(op: Pool, precision: Precision, spec: GPUSpec) -> StreamCost:
    moved = op.input_bytes(precision) + op.output_bytes(precision)
    ops = op.window_ops + (op.elements if op.kind is PoolKind.AVG else 0)
    return stream_seconds(moved, ops, 0.0, spec)


def transfer_cost(op: Transfer, precision: Precision, spec: GPUSpec) -> StreamCost:
    moved = op.bytes(precision)
    return StreamCost(HOST_COPY_LATENCY_S + moved / spec.host_bytes_per_s, moved, "memory")
