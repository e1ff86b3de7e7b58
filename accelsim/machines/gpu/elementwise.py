"""Element-wise, pooling and fill kernels as PyTorch and the libraries launch them, and the
host copies around them.

Every streaming kernel belongs to a family (`StreamKernel`, one row of data each): the CUDA
kernel PyTorch 2.11 / cuBLASLt / cuDNN launch for that kind of work. One launch takes

    kernel_launch_s + floor + max(bytes / bandwidth, elements × instructions / issue rate)

- floor: the family's dependent chain for a first element: index arithmetic, then memory
  round trips (a load, the stores' drain) at L2 latency, or DRAM latency beyond L2;
- bandwidth: L2 when the bytes moved fit in L2 (the producing kernel left them there), else
  DRAM at its achievable rate (`dram_achievable_fraction`);
- issue rate: one thread instruction per FP32 lane per cycle; exp-based functions (sigmoid,
  tanh) add their special-function-unit work at 16 per SM per cycle (Jia et al. 2018).

Families and where their numbers come from (kernel lists of the H200 network file,
accelsim/measure/data/gpu-h200-network-2026-11-27.json; a kernel's device time in a CUDA
graph is its profiled duration plus about 0.3 µs, the gap the b64 list's 20 kernels leave in
the measured graph time): the floors from the smallest kernels of the batch-64 list, the
instruction counts from the batch-4096 list, where each family's rate is the same whether its
data sits in L2 (batch 64) or DRAM (4096), so issue, not memory, bounds it.

A host copy is synchronous from pageable memory: `host_copy_latency_s` plus the staging
memcpy's traffic at the host's memory bandwidth; a float32 array sent to the device in a
narrower format is converted on the CPU first (runtime.py: `host_*`).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.ir import Pool, PoolKind, Transfer, Vector, VectorKind
from accelsim.machines.gpu.launches import Kernel
from accelsim.machines.gpu.runtime import GPURuntime
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

SFU_PER_SM_PER_CYCLE = 16
SFU_OPS = {VectorKind.SIGMOID: 2, VectorKind.TANH: 2, VectorKind.SOFTMAX: 2}
ALU_OPS = {VectorKind.RELU: 1, VectorKind.ADD: 1, VectorKind.MUL: 1, VectorKind.SIGMOID: 3,
           VectorKind.TANH: 4, VectorKind.SOFTMAX: 4, VectorKind.CLIP: 2, VectorKind.SCALE: 1,
           VectorKind.COPY: 0}  # clip: max and min; a batch norm's scale: one FMA
INDEX_BYTES = 8  # max_pool2d also writes each window's argmax as an int64 index
FLOAT_BYTES = 4  # the host's arrays are float32


@dataclass(frozen=True)
class StreamKernel:
    """A family of streaming kernels: its name, the dependent chain of a first element —
    `chain_cycles` of arithmetic and `round_trips` memory round trips (a load, the stores'
    drain) — and the thread instructions it issues per element."""

    name: str
    chain_cycles: float
    round_trips: int
    instructions_per_element: float

    def floor_cycles(self, latency_cycles: float) -> float:
        return self.chain_cycles + self.round_trips * latency_cycles


# PyTorch's vectorized TensorIterator kernel (contiguous operands, 16-byte accesses):
# torch.relu's clamp, .float() casts. Floor: the b64 clamps of 5,120 to 301,056 elements run
# 1.02-1.31 µs, 0.39 µs (780 cycles: two L2 round trips of 260 and 260 of arithmetic) above
# a trivial kernel once their L2 traffic is taken out; bandwidth-bound at size (b4096: 154
# MB in 37.6 µs, the copy peak).
VECTORIZED = StreamKernel("vectorized_elementwise_kernel", 260.0, 2, 4.0)
# PyTorch's generic TensorIterator kernel (elementwise_kernel<128, 2>): an operand that
# broadcasts (a bias over N, H, W) or is strided (a transpose) is addressed through an
# OffsetCalculator, one element per thread per load. b4096: the bias add of 19.3 M elements
# takes 61.9 µs from DRAM, b64's of 0.3 M 2.37 µs from L2: the same 3.2e11 elements/s, ~100
# instructions an element at full issue. Floor: b64's add of 7,680 elements, 1.47 µs
# profiled, 1,620 cycles above a trivial kernel (two L2 round trips and 1,100 of index
# arithmetic).
BROADCAST = StreamKernel("elementwise_kernel", 1100.0, 2, 100.0)
# PyTorch's max_pool_forward_nchw: one thread per output, 64-bit index arithmetic (software
# division), the window's loads, the value and its int64 index stored. b4096: 4.8 M outputs in
# 61.0 µs, 1.6 M in 21.0 µs; b64: 75 k in 2.72 µs: ~410 instructions an output. Floor: b64's
# pool of 25,600 outputs, 2.08 µs profiled: 2,250 cycles (two L2 round trips, 1,730 more).
POOL = StreamKernel("max_pool_forward_nchw", 1730.0, 2, 410.0)
# Fills and memsets (FillFunctor, Memset, cuBLAS's scal_kernel with beta = 0): stores only,
# one round trip. b64 lists: 0.70-0.86 µs profiled, 0.07-0.23 µs above a trivial kernel.
FILL = StreamKernel("fill", 0.0, 1, 2.0)
# cuBLASLt's bias epilogue after a split-K GEMM (cublasLt::epilogue::impl::globalKernel) and
# cuDNN's layout transforms (nchwToNhwcKernel): contiguous streaming like VECTORIZED (b64:
# 0.99-1.31 µs).
EPILOGUE = StreamKernel("cublasLt::epilogue", 260.0, 2, 4.0)
TRANSPOSE = StreamKernel("nchwToNhwcKernel", 260.0, 2, 4.0)


# PyTorch's depthwise convolution (aten/src/ATen/native/cuda/DepthwiseConv2d.cu,
# conv_depthwise2d_forward_kernel: cuDNN is not called for groups = channels in NCHW): one
# thread per output, its (n, c, h, w) recovered by integer divisions, then per filter tap a
# bounds test, two loads (input through the read-only cache, the tap's weight) and an FMA
# (DEPTHWISE_TAP_INSTRUCTIONS). Counted from the kernel's source, not fitted: no depthwise
# layer was measured. Neighbouring threads share their windows' inputs, so each input comes
# from DRAM or L2 about once.
DEPTHWISE = StreamKernel("conv_depthwise2d_forward_kernel", 1100.0, 2, 40.0)
DEPTHWISE_TAP_INSTRUCTIONS = 5


@dataclass(frozen=True)
class StreamCost:
    seconds: float
    bytes_moved: int
    bound: str


def stream_seconds(bytes_moved: int, alu_ops: float, sfu_ops: float, spec: GPUSpec,
                   family: StreamKernel = VECTORIZED) -> StreamCost:
    """One launch of a `family` kernel that moves `bytes_moved` and issues `alu_ops` thread
    instructions beyond its own per-element ones (which the caller counts into alu_ops) and
    `sfu_ops` special-function operations."""
    resident = bytes_moved <= spec.l2_bytes
    bandwidth = spec.l2_bytes_per_s if resident else spec.dram_achievable_bytes_per_s
    latency = spec.l2_latency_cycles if resident else spec.dram_latency_cycles
    memory = bytes_moved / bandwidth
    lanes = spec.fp32_lanes_per_sm * spec.sm_count * spec.clock_hz
    compute = alu_ops / lanes + sfu_ops / (SFU_PER_SM_PER_CYCLE * spec.sm_count * spec.clock_hz)
    floor = family.floor_cycles(latency) / spec.clock_hz
    return StreamCost(spec.kernel_launch_s + floor + max(memory, compute), bytes_moved,
                      "memory" if memory >= compute else "compute")


def stream_kernel(family: StreamKernel, elements: int, bytes_moved: int, spec: GPUSpec,
                  sfu_ops: float = 0.0, extra_alu_ops: float = 0.0) -> StreamCost:
    """One launch of `family` over `elements` outputs."""
    alu = elements * family.instructions_per_element + extra_alu_ops
    return stream_seconds(bytes_moved, alu, sfu_ops, spec, family)


def stream_launch(name: str, family: StreamKernel, elements: int, bytes_moved: int,
                  spec: GPUSpec, sfu_ops: float = 0.0, extra_alu_ops: float = 0.0) -> Kernel:
    """One launch of `family` over `elements` outputs, as the kernel `name` a profiler shows."""
    cost = stream_kernel(family, elements, bytes_moved, spec, sfu_ops, extra_alu_ops)
    return Kernel(name, cost.seconds, Category.ELEMENTWISE, cost.bytes_moved, cost.bound)


def bias_add(elements: int, n: int, precision: Precision, spec: GPUSpec) -> Kernel:
    """PyTorch's broadcast add of an N-element bias over `elements` outputs (after a
    convolution, or a GEMM without a bias epilogue): reads and writes every output once and
    reads the bias."""
    moved = (2 * elements + n) * precision.bytes
    return stream_launch(f"{BROADCAST.name} (bias add)", BROADCAST, elements, moved, spec)


def vector_cost(op: Vector, precision: Precision, spec: GPUSpec) -> StreamCost:
    """The op as PyTorch's vectorized element-wise kernel, one launch per repetition."""
    moved = (op.input_bytes(precision) + op.output_bytes(precision)) // op.count
    once = stream_kernel(VECTORIZED, op.elements, moved, spec,
                         sfu_ops=SFU_OPS.get(op.kind, 0) * op.elements,
                         extra_alu_ops=ALU_OPS[op.kind] * op.elements)
    return StreamCost(once.seconds * op.count, moved * op.count, once.bound)


def pool_cost(op: Pool, precision: Precision, spec: GPUSpec) -> StreamCost:
    """PyTorch's pooling kernel: it reads the input, writes the outputs (and, for max
    pooling, each output's int64 argmax index)."""
    indices = op.elements * INDEX_BYTES if op.kind is PoolKind.MAX else 0
    moved = op.input_bytes(precision) + op.output_bytes(precision) + indices
    ops = op.window_ops + (op.elements if op.kind is PoolKind.AVG else 0)
    return stream_kernel(POOL, op.elements, moved, spec, extra_alu_ops=ops)


def host_stream_seconds(read_bytes: int, write_bytes: int, runtime: GPURuntime) -> float:
    """One CPU thread reading an array of `read_bytes` (from its caches while the array fits
    them, else from memory) and writing `write_bytes` to fresh memory."""
    read_rate = runtime.host_cached_bytes_per_s if read_bytes <= runtime.host_cache_bytes \
        else runtime.host_memory_bytes_per_s
    return read_bytes / read_rate + write_bytes / runtime.host_memory_bytes_per_s


def copy_seconds(n_bytes: int, runtime: GPURuntime) -> float:
    """A synchronous copy between pageable host memory and the device: the staging memcpy
    reads every byte and writes it to a pinned buffer (the DMA behind it overlaps)."""
    return runtime.host_copy_latency_s + host_stream_seconds(n_bytes, n_bytes, runtime)


def cast_seconds(elements: int, precision: Precision, runtime: GPURuntime) -> float:
    """Converting a float32 host array to `precision` on the CPU, before its copy."""
    return host_stream_seconds(elements * FLOAT_BYTES, elements * precision.bytes, runtime)


def transfer_cost(op: Transfer, precision: Precision, runtime: GPURuntime) -> StreamCost:
    """The copy alone at the precision's element size (no host conversion)."""
    moved = op.bytes(precision)
    return StreamCost(copy_seconds(moved, runtime), moved, "memory")
