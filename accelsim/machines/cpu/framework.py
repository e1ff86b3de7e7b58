"""A lowered network as PyTorch's eager CPU runtime runs it (fp32, inference mode, NCHW).

Timing model, layer by layer, one after another on `spec.cores` threads (torch.set_num_threads):

- Framework (Category.FRAMEWORK, host work that is not the computation): every layer is an
  nn.Module call dispatching an ATen op (`MODULE_CALL_CYCLES + ATEN_OP_CYCLES`); Linear adds
  its transpose/bias/addmm plumbing, a convolution nn.Conv2d's own Python and ideep's per-call
  setup by the reorders it makes (the primitive descriptor made again each call, a reorder
  primitive per layout change: `conv_host_cycles`), an LSTM nn.LSTM's Python forward and the
  oneDNN RNN setup. All are the reference host's cycles at `clock_hz` times the host's
  `framework_cycles_scale` (`host_s`).
- Convolution, by PyTorch's backend rule (ConvParams::use_mkldnn, `uses_onednn`): a 1×1,
  unstrided, undilated convolution at batch < 16 on one thread, or an ungrouped one at batch
  1 whose filter is ≤ 3 on a side and whose input holds ≤ 20,480 values, runs ATen's
  slow_conv2d: per image (threads split the batch) im2col into a columns buffer (none for an
  unpadded, unstrided 1×1) and one BLAS GEMM out_channels × (in·kh·kw) × pixels, at
  `SLOW_CONV_MKL_SHARE` of MKL's Linear rate (the other operand order). Otherwise
  aten::mkldnn_convolution → oneDNN's jit direct convolution (PyTorch passes
  plain NCHW, which rules out oneDNN's brgemm/NHWC kernels). Per call it reorders the weights
  into the blocked layout (CONV_WEIGHTS_REORDER_CYCLES, twice an activation's), the input too
  unless in_channels < vector lanes (the 'flat' first convolution reads NCHW), and the blocked
  output back to NCHW, each reorder and the kernel a oneDNN parallel region
  (CONV_REGION_CYCLES). The kernel keeps `ur_w` output
  pixels × `oc_blocks` output-channel vectors in registers (CONV_KERNELS, from oneDNN's
  init_conf), so output channels are padded to whole vectors (6 channels use 6 of 8 or 16
  lanes) and a kernel with fewer accumulators than fma_latency_cycles × fma_pipes waits on the
  FMA latency; no kernel outruns the core's peak (`vector_fmas_per_cycle`: on AMD Zen 4, one
  512-bit FMA a cycle). Threads split batch × output rows × channel chunks.
- Max pooling: ATen's NCHW loop (cpu_max_pool): scalar code, a data-dependent compare per
  window element (POOL_CYCLES_PER_WINDOW_ELEMENT; average pooling is assumed to cost the
  same); threads split the N·C planes (grain 0), argmax indices are written as int64.
- Element-wise (ReLU, sigmoid, ...): a SIMD loop over the tensor, streamed from where it
  lives; threaded above ATen's grain of 32,768 elements. A batch norm (eval) adds its module's
  Python and dispatch chain (`BATCH_NORM_EXTRA_CYCLES`) and loops at its measured cost per
  vector (`BATCH_NORM_CYCLES_PER_VECTOR`, about half a ReLU's speed).
- Linear: aten::addmm → PyTorch's x86 BLAS, MKL (mkl.py): up to 3 rows stream the weights
  through MKL's GEMV once per row; more rows pack the weights on every call, then run the
  packed kernel at the host's MKL rate (`mkl_fma_efficiency`; MKL takes its AVX2 path on AMD
  CPUs), 4 rows a thread, the numpy call overhead replaced by the framework's.
- LSTM: aten::lstm → mkldnn_rnn_layer → oneDNN's brgemm RNN (ONEDNN_VERBOSE on PyTorch 2.13:
  `rnn,brgemm:avx512_core`): weights reordered per call, at batch 1 the input's GEMM once over
  every step, then per time step the gate GEMM (batch × (input + hidden) × 4·hidden, or only
  the hidden part at batch 1) cut into oneDNN's work items and split over the threads as its
  source does it (brgemm.py: row and column blocks, the cell fused into each item or run
  after), each item's brgemm kernels at BRGEMM_EFFICIENCY of their FMA issue bound, no faster
  than the step's weights stream in; a step's loop and one oneDNN parallel region a step
  (two where the cell runs unfused), lighter than ATen's.
- GRU and vanilla RNN: ATen's native loop (aten/src/ATen/native/RNN.cpp; ONEDNN_VERBOSE shows
  no oneDNN primitive for them): the input's linear over every step as one addmm, then per
  step an addmm of the hidden state and the cell's ATen ops dispatched from C++ (counted with
  torch.profiler: `ATEN_CELLS`).
- Threads: every threaded op is an OpenMP parallel region costing `fork_join_cycles` plus
  `fork_join_cycles_per_thread` per team member (Category.LATENCY); the slowest thread's share
  of the work sets the time, its reorders and element-wise loops slowed by the host's
  all-core derating (`derate`). Outputs above `fresh_output_bytes` (glibc maps them fresh each
  call) take a page fault per 4 KiB page on first touch; heap pages glibc trims and a forward
  touches again are charged per forward by core.CPU.time_workload (buffers.py, heap.py).
- Cold outputs: PyTorch's allocator recycles buffers freed earlier; a network whose forward
  writes more activations than the share of L3 a working set keeps (`outputs_cold`) finds
  each recycled buffer gone from the caches, so element-wise, pooling and convolution outputs
  cost a read for ownership and a write-back from DRAM (`traffic_s`).

`device_seconds` is everything but Category.FRAMEWORK. int8 (VNNI) divides the FMA work by 4
and keeps the rest (an assumption: PyTorch's quantized kernels are not modelled separately).
Sources: PyTorch 2.13 / oneDNN 3.12 (ONEDNN_VERBOSE: implementations, formats, reorders),
ATen's MaxPoolKernel.cpp and Parallel-inl.h, oneDNN's jit_avx2_conv_kernel_f32.cpp and
jit_avx512_common_conv_kernel.cpp. Each constant names its fit and the rows it was fitted
on: the host's framework code on small calls timed on the reference host (a 2-vCPU AMD EPYC
Zen 4 VM, measure/data/cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json), scaled on other hosts
by `CPUSpec.framework_cycles_scale`; the kernels' and layers' on the even rows of that VM's
recorded files (pooling and the ATen region: the Zen 3 host's networks.micro).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.ir import (
    CellKind,
    ConvGeometry,
    Gemm,
    LayerOps,
    Op,
    Pool,
    PoolKind,
    Recurrence,
    Transfer,
    Vector,
    VectorKind,
    Workload,
)
from accelsim.machines.cpu import brgemm, mkl
from accelsim.machines.cpu.blis import FLOAT, RESIDENT_SHARE
from accelsim.machines.cpu.heap import PAGE_BYTES
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.machines.results import Bound, Breakdown, Category, OpResult
from accelsim.precision import Precision

# Host cycles of the framework on the reference host (CPUSpec.framework_cycles_scale: other
# hosts scale them), fitted on small calls timed there (`micro.dispatch_us` of
# measure/data/cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json; validation/cpu_layers.py
# `fit_dispatch`): a Sequential of 10 identity modules, 8.8 µs; torch.relu on 16 elements,
# 0.89 µs; nn.Linear(120, 80) at batch 1, 5.4 µs; nn.LSTM(8, 8) at batch 1 over one step,
# 71 µs, and over 64, 94 µs (the Zen 3 host's same calls, at its framework scale, give
# 3,810, 3,180, 8,780, 251,000 and 971 in these cycles).
MODULE_CALL_CYCLES = 3_210.0  # Sequential's loop, Module.__call__, the forward's Python
ATEN_OP_CYCLES = 3_260.0  # Python → dispatcher → kernel entry, output tensor allocation
LINEAR_EXTRA_CYCLES = 11_000  # aten::linear: t(), bias expand and copy, addmm → BLAS entry
# ideep's per-call setup of a oneDNN convolution (the convolution's primitive descriptor made
# again on every call, the weights' and output's reorder primitives looked up, buffers
# allocated: ONEDNN_VERBOSE shows ~8 µs of a ~45 µs call inside oneDNN's own create and exec)
# and the extra where the input is reordered to blocked channels too (a third reorder), and,
# on several threads, each of its 3-4 oneDNN parallel regions (the reorders' and the
# kernel's: cheaper than ATen's, dearer than a brgemm LSTM step's). Fitted
# together by non-negative least squares of the relative error on the even rows of
# measure/data/cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json (9 small convolutions at 1 and 2
# threads; validation/cpu_layers.py `fit_conv_setup`), held out on its odd rows. Was one
# 250,000-cycle constant fitted on LeNet-5's three convolutions at batch 1 on the Zen 3 host.
CONV_SETUP_CYCLES = 132_000
CONV_BLOCKED_INPUT_SETUP_CYCLES = 20_000
CONV_REGION_CYCLES = 3_850  # each of the call's oneDNN parallel regions, besides its members
# nn.Conv2d's forward beyond a module call (its parameters fetched through Module.__getattr__,
# _conv_forward, the full F.conv2d argument list) and ideep's bias (its memory descriptor and
# argument); fit: the median of nn.Conv2d less F.conv2d with the bias, and of F.conv2d with
# the bias less without, over 6 convolutions × 3 processes (`micro.conv_modules` of the same
# file; `fit_conv_module`): 6.6 µs and 1.3 µs at 3.65 GHz
CONV_MODULE_CYCLES = 20_800
CONV_BIAS_CYCLES = 4_600
RNN_SETUP_CYCLES = 244_300.0  # nn.LSTM.forward + mkldnn_rnn_layer setup (`fit_dispatch`)
RNN_STEP_CYCLES = 1_064  # oneDNN's loop a step: cell position, address batches, state copies
# ATen's native GRU/RNN loop (aten_rnn). RNN_FORWARD_CYCLES and ATEN_CPP_OP_CYCLES are fitted
# together by non-negative least squares of the relative error over the even gru and rnn rows
# of cpu-epyc-zen4-2vcpu-2026-12-07.json (6 shapes × 1 and 2 threads;
# validation/cpu_layers.py `fit_aten_rnn`), ATEN_VIEW_OP_CYCLES held at its earlier fit: the
# rows cannot tell a view from a kernel op apart (both come once a step; a free fit moves
# all of it onto the kernels); held out on the odd rows.
RNN_FORWARD_CYCLES = 143_000  # nn.GRU/nn.RNN.forward's Python before ATen's native loop
ATEN_CPP_OP_CYCLES = 1_650  # an ATen op dispatched from C++: dispatcher, TensorIterator,
#                             output allocation where out of place
ATEN_VIEW_OP_CYCLES = 400  # a view op dispatched from C++ (no loop, no allocation)
# oneDNN's brgemm LSTM (onednn_rnn, brgemm.py), fitted together on the even lstm rows of
# cpu-epyc-zen4-2vcpu-2026-12-07.json (3 shapes × 1 and 2 threads; validation/cpu_layers.py
# `fit_onednn_lstm` with the step held at RNN_STEP_CYCLES gives 0.76 and 4,357): fitted
# rows 11.2% median, the held-out (odd) lstm rows of that file 17.4%, the LSTM file (26 rows,
# no constant fitted on it) 6.1%. That session's VM ran nn.LSTM's host-bound calls 1.4×
# slower than the reference's, beyond its framework scale of 1.18; fitting the step on its
# rows too gives 5,410 cycles against the 1,064 timed, and the reference's own LSTM(8, 8)
# over 64 steps +80%.
BRGEMM_EFFICIENCY = 0.76  # sustained fraction of the brgemm kernels' issue bound
ONEDNN_REGION_CYCLES = 4_360  # a oneDNN parallel region, besides each member's wake-up
REORDER_CYCLES_PER_ELEMENT = 0.33  # oneDNN's plain <-> blocked (nChw16c) reorder of a plane
#                                   in cache (fit: the slope of Tensor.to_mkldnn / to_dense over
#                                   25k-1.2M elements, one thread, `micro.reorders` of
#                                   measure/data/cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json;
#                                   validation/cpu_layers.py `fit_reorder`)
# nn.LSTM's two weight matrices, reordered (transposed) into oneDNN's RNN layout on every call
# (fit: oneDNN's verbose times of nn.LSTM(h, h), h = 64-1024, `micro.rnn_reorders` of the same
# file; `fit_rnn_weights_reorder`): per element while a matrix fits L2, and beyond (its
# strided reads miss)
RNN_WEIGHTS_REORDER_CYCLES = 1.04
RNN_WEIGHTS_REORDER_BEYOND_L2_CYCLES = 3.37
# oneDNN's per-call reorder of a convolution's weights (oihw → its blocked layout), about
# twice an activation's per element (fit: the slope of a straight line through oneDNN's own
# exec times of F.conv2d's weight reorders, the 8 of 2,400-1.2M elements whose copies fit
# the L3 share, one thread, `micro.conv_weight_reorders` of
# measure/data/cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json; `fit_conv_weights_reorder`)
CONV_WEIGHTS_REORDER_CYCLES = 0.66
POOL_CYCLES_PER_WINDOW_ELEMENT = 18.0  # cpu_max_pool's scalar loop, branch mispredictions
#                                        on ReLU'd data included (fit: 5.5-6.5 ns/element)
# oneDNN's jit direct kernels: sustained FMAs per pipe and cycle of their register-blocked
# loop, by kernel, on every thread alike (no all-core derating: its blocks stay in each core's
# L1/L2); oneDNN's depthwise kernel of the same ISA is taken to run at the same. Fits (least
# median error over 0.30-1.00 on even conv rows at 1 and 2 threads, validation/cpu_layers.py
# `fit_direct_conv`): avx512_core on the 70 of cpu-epyc-zen4-2vcpu-2026-12-07.json (4.2%;
# held out 6.1%); avx2 on the same host with oneDNN held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2;
# `conv_avx2` of cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json; held out 11.4%). The AVX-512
# kernel's lower share of its pipes is, on that host, the half-width datapath: both ISAs
# reach ~15 lanes a cycle.
DIRECT_CONV_EFFICIENCY = {"jit:avx2": 0.87, "jit:avx512_core": 0.46}
SLOW_CONV_MAX_INPUT_VALUES = 20_480  # ConvParams::use_mkldnn: "for some case, native is faster"
SLOW_CONV_CYCLES = 12_000  # slow_conv2d's checks, output and columns allocation, the BLAS
#                            entry (fit: the 1×1 16→16 convolution over 32×32 at batch 1, an
#                            even conv row of cpu-epyc-zen4-2vcpu-2026-12-07.json, 13.3 µs,
#                            with nn.Conv2d's module cost (CONV_MODULE_CYCLES) apart)
SLOW_CONV_MKL_SHARE = 0.81  # slow_conv2d's GEMM, weights × columns (SGEMM N,N with the pixels
#                             as the long dimension), runs at this share of the MKL rate
#                             measured on nn.Linear (SGEMM T,N, the weights' outputs long):
#                             torch.mm in that orientation ran 72-93 GFLOPS on the Zen 4 host,
#                             against ~104 for Linear shapes (fit: `fit_slow_conv_mkl_share`,
#                             the even slow_conv2d rows of cpu-epyc-zen4-2vcpu-2026-12-07.json,
#                             4.3% median; held out on the odd ones, 7.6%; at the full Linear
#                             rate 21.6% and 24.1%)
IM2COL_CYCLES_PER_VECTOR = 1.0  # im2col copies a vector of the columns buffer per cycle
# nn.BatchNorm2d in eval mode (VectorKind.SCALE): _BatchNorm.forward's Python (mode and
# running-statistics checks) and F.batch_norm → aten::batch_norm → _batch_norm_impl_index →
# native_batch_norm (its checks, the per-channel scale and shift), then a TensorIterator loop
# broadcasting them over each plane. Both fitted together by least squares of the relative
# error on nn.BatchNorm2d(c) eval at one thread over 1×16×8² to 1×64×224² (`micro.batch_norm` of
# measure/data/cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json; validation/cpu_layers.py
# `fit_batch_norm`): the loop runs at about half a ReLU's speed on the same planes.
BATCH_NORM_EXTRA_CYCLES = 22_000.0
BATCH_NORM_CYCLES_PER_VECTOR = 10.1
ATEN_GRAIN_ELEMENTS = 32_768  # at::internal::GRAIN_SIZE: smaller element-wise ops stay serial
INT8_PER_LANE = 4  # VNNI: 4 int8 MACs per 32-bit lane
# oneDNN's depthwise kernel (jit_uni_dw_conv_fwd_kernel_f32::init_conf): `ur_w` output pixels
# × `nb_ch_blocking` channel vectors in registers, by ISA (avx512: 6 × 4, avx2: 4 × 3); each
# FMA reads its input vector from memory, so two load ports cap it at two FMAs a cycle too.
DW_BLOCKING = {16: (6, 4), 8: (4, 3)}


@dataclass(frozen=True)
class ConvKernel:
    """oneDNN's jit direct-convolution register blocking for one vector width: `ur_w` output
    pixels (0: as many as the registers hold, 31 // (oc_blocks + 1)) × up to `max_oc_blocks`
    channel vectors; `divides`: the block count must divide the channel vectors (else the last
    chunk is a tail)."""

    name: str
    ur_w: int
    max_oc_blocks: int
    divides: bool

    def blocks(self, oc_vectors: int) -> float:
        """Channel vectors per kernel call (the mean over chunks when the last is a tail)."""
        if self.divides:
            return max(b for b in range(1, self.max_oc_blocks + 1) if oc_vectors % b == 0)
        return oc_vectors / math.ceil(oc_vectors / self.max_oc_blocks)

    def pixels(self, out_w: int, blocks: float) -> int:
        ur = self.ur_w or 31 // (math.ceil(blocks) + 1)
        return min(out_w, ur)


CONV_KERNELS = (ConvKernel("jit:avx2", 3, 4, False),  # 16 ymm: ur_w = 3, nb_oc_blocking 4
                ConvKernel("jit:avx512_core", 0, 2, True))  # 32 zmm: nb_oc_blocking ≤ 2


def conv_kernel(spec: CPUSpec) -> ConvKernel:
    """oneDNN's direct kernel for the vector width: avx512_core on 16 lanes, else avx2 (also
    standing in for jit:sse41 on older 4- and 2-lane CPUs, whose blocking is not modelled)."""
    return CONV_KERNELS[1] if spec.simd_lanes >= 16 else CONV_KERNELS[0]


@dataclass(frozen=True)
class TorchOpDetail:
    """How PyTorch ran one op: threads on its work, OpenMP parallel regions, ATen ops
    dispatched from Python or C++, and the framework's host seconds."""

    threads: int
    parallel_regions: int
    dispatches: int
    framework_s: float


@dataclass(frozen=True)
class Cost:
    """One op's seconds by category, with how it ran."""

    seconds: dict[Category, float]
    threads: int = 1
    regions: int = 0
    dispatches: int = 1

    def result(self, spec: CPUSpec, op: Op, precision: Precision, kernel: str,
               moved: int = 0) -> OpResult:
        time = Breakdown.of(self.seconds)
        total = time.seconds
        ops = op.ops if isinstance(op, Gemm) else 0
        util = ops / (total * spec.peak_ops_per_s(precision)) if total > 0 and ops else 0.0
        device = total - time[Category.FRAMEWORK]
        bound = Bound.LATENCY if device < time[Category.FRAMEWORK] + time[Category.LATENCY] \
            else (Bound.COMPUTE if time[Category.COMPUTE] >= device / 2 else Bound.MEMORY)
        detail = TorchOpDetail(self.threads, self.regions, self.dispatches,
                               time[Category.FRAMEWORK])
        return OpResult(op.name, type(op).__name__.lower(), total * spec.clock_hz, total, ops,
                        precision, moved, 0, util, bound, time, detail, kernel,
                        getattr(op, "layer", ""))


def seconds(spec: CPUSpec, cycles: float) -> float:
    return cycles / spec.clock_hz


def region_s(spec: CPUSpec, threads: int) -> float:
    """One OpenMP parallel region of `threads` (nothing on one thread)."""
    if threads <= 1:
        return 0.0
    return seconds(spec, spec.fork_join_cycles + spec.fork_join_cycles_per_thread * threads)


def stream_s(spec: CPUSpec, size_bytes: float, threads: int) -> float:
    """Streaming `size_bytes` with `threads` cores from the level that holds them; beyond L3
    the cores share the DRAM bandwidth."""
    if size_bytes <= spec.l2_bytes:
        per_cycle = spec.l2_bytes_per_cycle * threads
    else:
        per_cycle = spec.l3_bytes_per_cycle * threads
        if size_bytes > spec.l3_bytes:
            per_cycle = min(per_cycle, spec.dram_bytes_per_s / spec.clock_hz)
    return seconds(spec, size_bytes / per_cycle)


def activation_bytes(workload: Workload) -> int:
    """Bytes of every op output one forward of `workload` writes (convolutions and linears,
    element-wise ops, pooling): the activations that pass through the caches per forward."""
    total = 0
    for layer in workload.layers:
        for op in layer.ops:
            if isinstance(op, Gemm):
                total += op.m * op.n * op.groups * FLOAT * op.count
            elif isinstance(op, Vector):
                total += op.elements * FLOAT * op.count
            elif isinstance(op, Pool):
                total += op.elements * FLOAT
    return total


def outputs_cold(spec: CPUSpec, activations: int) -> bool:
    """Whether a forward writes its outputs into memory no cache still holds: PyTorch's
    allocator hands each op a buffer an earlier op freed, last touched a whole forward's
    activations ago; beyond the share of L3 a working set keeps (`RESIDENT_SHARE`) it has
    left the caches."""
    return activations > spec.l3_bytes * RESIDENT_SHARE


def traffic_s(spec: CPUSpec, read_bytes: float, written_bytes: float, threads: int,
              cold: bool) -> float:
    """An op streaming `read_bytes` in and `written_bytes` out on `threads`: both from the level
    that holds them (`stream_s`); with cold outputs (`outputs_cold`) the writes go to memory
    no cache holds, each line read for ownership from DRAM and written back, 2 B of DRAM
    traffic per byte at the bandwidth the cores share. Outputs above `fresh_output_bytes` are
    fresh pages the kernel zeroes on their first touch (`fault_s`), into the caches."""
    if not cold or written_bytes > spec.fresh_output_bytes:
        return stream_s(spec, read_bytes + written_bytes, threads)
    dram = spec.dram_bytes_per_s / spec.clock_hz
    return stream_s(spec, read_bytes, threads) + seconds(spec, 2 * written_bytes / dram)


def fault_s(spec: CPUSpec, size_bytes: float, threads: int) -> float:
    """First touch of an allocation glibc maps fresh on every call (above its largest mmap
    threshold), the pages faulted by the threads that write them."""
    if size_bytes <= spec.fresh_output_bytes:
        return 0.0
    return pages_s(spec, size_bytes, threads)


def pages_s(spec: CPUSpec, size_bytes: float, threads: int) -> float:
    """`size_bytes` of fresh pages faulted in by the `threads` that write them, together
    `threads / (1 + page_fault_contention · (threads − 1))` times as fast as one."""
    threads = max(threads, 1)
    slowdown = 1 + spec.page_fault_contention * (threads - 1)
    return size_bytes / PAGE_BYTES * spec.page_fault_s * slowdown / threads


def host_s(spec: CPUSpec, cycles: float) -> float:
    """Seconds of PyTorch's host code that takes `cycles` on the reference host, on this one
    (`framework_cycles_scale`)."""
    return seconds(spec, cycles * spec.framework_cycles_scale)


def dispatch_s(spec: CPUSpec, extra_cycles: float = 0.0) -> float:
    """One layer's module call and ATen op, plus op-specific host work."""
    return host_s(spec, MODULE_CALL_CYCLES + ATEN_OP_CYCLES + extra_cycles)


def share(units: int, threads: int) -> float:
    """Fraction of `units` equal work items the busiest of `threads` gets."""
    return math.ceil(units / threads) / units


@lru_cache(maxsize=256)
def one_core(spec: CPUSpec) -> CPUSpec:
    return spec.replace(cores=1)


def slow_conv_core(spec: CPUSpec) -> CPUSpec:
    """One core running slow_conv2d's GEMM: MKL at `SLOW_CONV_MKL_SHARE` of its Linear rate."""
    return one_core(spec).replace(mkl_fma_efficiency=spec.mkl_efficiency * SLOW_CONV_MKL_SHARE)


def derate(spec: CPUSpec, threads: int) -> float:
    """How much slower a core's vector loops run with every core busy (all-core clocks,
    shared caches and memory, a VM's neighbours), as the host's calibration measured it: the
    ratio of its one-core to its all-core sustained FMA efficiency. Applied to reorders and
    element-wise loops; not to ATen's scalar pooling loop (the all-core clock loss of
    FMA-heavy code, AVX-512's above all, spares scalar code), nor to the kernels measured to
    scale without it: oneDNN's direct convolution, brgemm RNN GEMMs and RNN weight reorders
    (their blocks stay in each core's L1/L2; the Zen 4 host's even nn.LSTM rows ran 2.0-2.1×
    faster on 2 threads than on 1 where this ratio was 1.5) and MKL (mkl.py)."""
    if threads <= 1:
        return 1.0
    return max(1.0, spec.fma_efficiency / spec.fma_efficiency_all_cores)


def int8_scale(precision: Precision) -> float:
    return INT8_PER_LANE if precision is Precision.INT8 else 1.0


def time_layer(spec: CPUSpec, layer: LayerOps, precision: Precision,
               cold: bool = False) -> tuple[OpResult, ...]:
    """One layer's ops as PyTorch runs them (recurrent layers as whole nn.LSTM / nn.RNN);
    `cold`: its outputs go to memory no cache holds (`outputs_cold`)."""
    rec = layer.recurrence
    if rec is not None:
        return onednn_rnn(spec, rec, precision) if rec.kind is CellKind.LSTM \
            else aten_rnn(spec, rec, precision)
    return tuple(time_op(spec, op, precision, cold) for op in layer.ops)


def time_op(spec: CPUSpec, op: Op, precision: Precision, cold: bool = False) -> OpResult:
    """One op of a layer as PyTorch runs it (inputs and outputs cost nothing: host memory;
    `cold` as in `time_layer`)."""
    if isinstance(op, Transfer):
        return OpResult(op.name, "transfer", 0.0, 0.0, 0, precision, 0, 0, 0.0,
                        Bound.LATENCY, kernel="none: host memory")
    if isinstance(op, Gemm):
        if op.conv is not None:
            return convolution(spec, op, op.conv, precision, cold)
        return linear(spec, op, precision)
    if isinstance(op, Pool):
        return pool(spec, op, precision, cold)
    return elementwise(spec, op, precision, cold)


def reorder_s(spec: CPUSpec, elements: int, read_bytes: int, written_bytes: int,
              threads: int, cold: bool = False,
              cycles_per_element: float = REORDER_CYCLES_PER_ELEMENT) -> float:
    """A oneDNN reorder between plain and blocked layouts, split over `threads`, reading and
    writing as `traffic_s` does; `cycles_per_element` an activation's (nchw ↔ nChw16c) unless
    told (a convolution's weights: CONV_WEIGHTS_REORDER_CYCLES)."""
    cycles = elements * cycles_per_element / threads * derate(spec, threads)
    return max(seconds(spec, cycles), traffic_s(spec, read_bytes, written_bytes, threads, cold))


def rnn_weights_reorder_s(spec: CPUSpec, elements: int, threads: int) -> float:
    """oneDNN's per-call reorder of one of an LSTM's weight matrices (layer or recurrent)
    into its RNN layout, a transposition split over `threads` (not derated, as oneDNN's
    other RNN work): `RNN_WEIGHTS_REORDER_CYCLES` per element while the matrix fits L2,
    `RNN_WEIGHTS_REORDER_BEYOND_L2_CYCLES` beyond (its strided reads miss)."""
    per_element = RNN_WEIGHTS_REORDER_CYCLES if elements * FLOAT <= spec.l2_bytes \
        else RNN_WEIGHTS_REORDER_BEYOND_L2_CYCLES
    return seconds(spec, elements * per_element / threads)


def uses_onednn(op: Gemm, g: ConvGeometry, threads: int) -> bool:
    """PyTorch's choice between oneDNN and ATen's slow_conv2d for an fp32 NCHW convolution
    (aten/src/ATen/native/Convolution.cpp, ConvParams::use_mkldnn; its comment: for 1×1
    filters oneDNN is faster multi-threaded, THNN single-threaded)."""
    batch = op.m // (g.out_hw[0] * g.out_hw[1])
    plain = g.stride == (1, 1) and g.dilation == (1, 1)
    one_by_one = g.kernel == (1, 1)
    if plain and one_by_one and batch < 16 and threads <= 1:
        return False
    values = batch * g.in_channels * g.in_hw[0] * g.in_hw[1]
    return (op.groups > 1 or (g.kernel[0] > 3 and g.kernel[1] > 3) or batch > 1
            or values > SLOW_CONV_MAX_INPUT_VALUES)


def reads_nchw(spec: CPUSpec, g: ConvGeometry) -> bool:
    """oneDNN's 'flat' convolution: fewer input channels than vector lanes, so its kernel
    reads the NCHW input directly and the input is not reordered."""
    return g.in_channels < spec.simd_lanes


def conv_regions(flat: bool, threads: int) -> int:
    """oneDNN parallel regions of one convolution call on `threads`: the weights' and the
    output's reorders and the kernel, and the input's reorder unless `flat`; none on one."""
    return (3 if flat else 4) if threads > 1 else 0


def conv_setup_cycles(flat: bool) -> float:
    """ideep's per-call setup of a oneDNN convolution: CONV_SETUP_CYCLES, and
    CONV_BLOCKED_INPUT_SETUP_CYCLES more where its input is reordered too (not `flat`)."""
    return CONV_SETUP_CYCLES + (0.0 if flat else CONV_BLOCKED_INPUT_SETUP_CYCLES)


def conv_host_cycles(op: Gemm, flat: bool) -> float:
    """Host cycles of an nn.Conv2d call through oneDNN beyond the module call and ATen op:
    the module's own Python (CONV_MODULE_CYCLES), ideep's setup (`conv_setup_cycles`) and,
    with a bias, ideep's handling of it (CONV_BIAS_CYCLES)."""
    return CONV_MODULE_CYCLES + conv_setup_cycles(flat) + (CONV_BIAS_CYCLES if op.bias else 0.0)


def slow_conv2d(spec: CPUSpec, op: Gemm, g: ConvGeometry, precision: Precision) -> OpResult:
    """ATen's slow_conv2d (module docstring): per image im2col, then one BLAS GEMM
    out_channels × k × pixels on the thread that owns the image."""
    pixels = g.out_hw[0] * g.out_hw[1]
    batch = op.m // pixels
    threads = min(spec.cores, batch)
    per_thread = math.ceil(batch / threads)
    direct = g.kernel == (1, 1) and g.stride == (1, 1) and not any(g.padding)
    columns = 0 if direct else op.k * pixels
    unfold = seconds(spec, columns / spec.simd_lanes * IM2COL_CYCLES_PER_VECTOR) \
        if columns else 0.0
    unfold = max(unfold, stream_s(spec, 2 * columns * FLOAT, 1)) if columns else 0.0
    kernel, other, _ = addmm_s(slow_conv_core(spec), pixels, op.k, op.n, precision)
    out = op.m * op.n * FLOAT
    cost = Cost({Category.COMPUTE: kernel * per_thread * op.count,
                 Category.MEMORY_STALL: ((other + unfold) * per_thread
                                         + fault_s(spec, out, threads)) * op.count,
                 Category.LATENCY: region_s(spec, threads) * op.count,
                 Category.FRAMEWORK: dispatch_s(spec, CONV_MODULE_CYCLES + SLOW_CONV_CYCLES)
                 * op.count},
                threads, int(threads > 1) * op.count, op.count)
    moved = (batch * g.in_channels * g.in_hw[0] * g.in_hw[1]
             + op.k * op.n + op.m * op.n + columns * batch) * FLOAT * op.count
    return cost.result(spec, op, precision, f"slow_conv2d im2col+gemm ×{threads} threads",
                       moved)


def convolution(spec: CPUSpec, op: Gemm, g: ConvGeometry, precision: Precision,
                cold: bool = False) -> OpResult:
    """A convolution as PyTorch runs it: ATen's slow_conv2d where its rule says so
    (`uses_onednn`), else mkldnn_convolution of `op` (geometry `g`): setup, reorders,
    oneDNN's direct kernel (per group for a grouped convolution; oneDNN's depthwise kernel
    for a depthwise one); `cold`: its blocked and plain outputs (and the input's blocked copy)
    are written to memory no cache holds (`traffic_s`)."""
    if not uses_onednn(op, g, spec.cores):
        return slow_conv2d(spec, op, g, precision)
    lanes, team = spec.simd_lanes, spec.cores
    kern = conv_kernel(spec)
    out_c = op.n * op.groups
    out_pixels = g.out_hw[0] * g.out_hw[1]
    batch = op.m // out_pixels
    if g.depthwise:
        oc_vectors = math.ceil(out_c / lanes)
        ur_w, ch_blocks = DW_BLOCKING[16 if lanes >= 16 else 8]
        ch_blocking = min(oc_vectors, ch_blocks)
        units = batch * g.out_hw[0] * math.ceil(oc_vectors / ch_blocking)
        accumulators: float = min(g.out_hw[1], ur_w) * ch_blocking
        fmas = op.m * g.kernel[0] * g.kernel[1] * oc_vectors
    else:
        group_vectors = math.ceil(op.n / lanes)
        blocks = kern.blocks(group_vectors)
        oc_vectors = group_vectors * op.groups
        units = batch * g.out_hw[0] * math.ceil(oc_vectors / math.ceil(blocks))
        accumulators = kern.pixels(g.out_hw[1], blocks) * blocks
        fmas = op.m * op.k * oc_vectors
    threads = min(team, units)
    rate = min(min(spec.fma_pipes, accumulators / spec.fma_latency_cycles)
               * DIRECT_CONV_EFFICIENCY[kern.name], spec.vector_fmas_per_cycle)
    compute = seconds(spec, fmas / int8_scale(precision) / rate) * share(units, threads)
    flat = reads_nchw(spec, g)
    in_c = g.in_channels if flat else math.ceil(g.in_channels / lanes) * lanes
    src = batch * in_c * g.in_hw[0] * g.in_hw[1]
    blocked = op.m * oc_vectors * lanes
    dense = op.m * out_c
    kernel_s = max(compute, traffic_s(spec, src * FLOAT, blocked * FLOAT, threads, cold))
    weights = oc_vectors * lanes * g.in_channels_per_group * g.kernel[0] * g.kernel[1]
    moves = [reorder_s(spec, weights, weights * FLOAT, weights * FLOAT, team,
                       cycles_per_element=CONV_WEIGHTS_REORDER_CYCLES),
             reorder_s(spec, blocked, blocked * FLOAT, dense * FLOAT, team, cold),
             fault_s(spec, blocked * FLOAT, threads), fault_s(spec, dense * FLOAT, team)]
    if not flat:
        moves.append(reorder_s(spec, src, src * FLOAT, src * FLOAT, team, cold))
    regions = conv_regions(flat, team)
    cost = Cost({Category.COMPUTE: compute * op.count,
                 Category.MEMORY_STALL: (kernel_s - compute + sum(moves)) * op.count,
                 Category.LATENCY: regions * onednn_region_s(spec, team, CONV_REGION_CYCLES)
                 * op.count,
                 Category.FRAMEWORK: dispatch_s(spec, conv_host_cycles(op, flat)) * op.count},
                threads, regions * op.count, op.count)
    moved = (src + blocked + dense + weights) * FLOAT * op.count
    name = "jit_uni_dw" if g.depthwise else kern.name
    return cost.result(spec, op, precision, f"{name} direct ×{threads} threads", moved)


def addmm_s(spec: CPUSpec, m: int, k: int, n: int,
            precision: Precision) -> tuple[float, float, int]:
    """(kernel seconds, other seconds, threads) of one aten::addmm through MKL (mkl.py), its
    output's fresh pages included."""
    call = mkl.addmm(spec, m, k, n, int8_scale(precision))
    return call.kernel_s, call.memory_s + fault_s(spec, m * n * FLOAT, call.threads), \
        call.threads


def linear(spec: CPUSpec, op: Gemm, precision: Precision) -> OpResult:
    """nn.Linear: aten::addmm into PyTorch's BLAS (mkl.py)."""
    kernel, other, threads = addmm_s(spec, op.m, op.k, op.n, precision)
    regions = 1 if threads > 1 else 0
    cost = Cost({Category.COMPUTE: kernel * op.count,
                 Category.MEMORY_STALL: other * op.count,
                 Category.LATENCY: regions * region_s(spec, spec.cores) * op.count,
                 Category.FRAMEWORK: dispatch_s(spec, LINEAR_EXTRA_CYCLES) * op.count},
                threads, regions * op.count, op.count)
    moved = (op.m * op.k + op.k * op.n + op.m * op.n) * FLOAT * op.count
    return cost.result(spec, op, precision, f"addmm ×{threads} threads", moved)


def pool(spec: CPUSpec, op: Pool, precision: Precision, cold: bool = False) -> OpResult:
    """ATen's NCHW pooling loop over the N·C planes; a global average (one window over the
    whole map) is adaptive_avg_pool2d's vectorized sum of each plane instead."""
    planes = op.batch * op.channels
    team = spec.cores if planes > 1 else 1
    threads = min(team, planes)
    per_plane = op.out_hw[0] * op.out_hw[1] * op.window[0] * op.window[1]
    if op.out_hw == (1, 1) and op.window == op.in_hw:
        vectors = math.ceil(per_plane / spec.simd_lanes) + 1  # the sum, then its lanes
        cycles = math.ceil(planes / threads) * vectors * spec.vector_cycles(VectorKind.ADD)
    else:
        cycles = math.ceil(planes / threads) * per_plane * POOL_CYCLES_PER_WINDOW_ELEMENT
    loop = seconds(spec, cycles)
    indices = op.elements * 8 if op.kind is PoolKind.MAX else 0  # int64 argmax indices
    moved = op.input_bytes(precision) + op.output_bytes(precision) + indices
    body = max(loop, traffic_s(spec, op.input_bytes(precision),
                               op.output_bytes(precision) + indices, threads, cold))
    faults = fault_s(spec, op.output_bytes(precision), threads) + fault_s(spec, indices, threads)
    cost = Cost({Category.ELEMENTWISE: loop, Category.MEMORY_STALL: body - loop + faults,
                 Category.LATENCY: region_s(spec, team),
                 Category.FRAMEWORK: dispatch_s(spec)}, threads, int(team > 1))
    return cost.result(spec, op, precision, f"{op.kind.value}_pool2d ×{threads} threads", moved)


def vector_cycles(spec: CPUSpec, op: Vector) -> float:
    """Cycles per vector of one element-wise kind as ATen runs it: a batch norm's inference
    loop at `BATCH_NORM_CYCLES_PER_VECTOR`, the others at the core's cost of the kind."""
    if op.kind is VectorKind.SCALE:
        return BATCH_NORM_CYCLES_PER_VECTOR
    return spec.vector_cycles(op.kind)


def elementwise_extra_cycles(op: Vector) -> float:
    """Host cycles an element-wise layer's module adds to its call and ATen op."""
    return BATCH_NORM_EXTRA_CYCLES if op.kind is VectorKind.SCALE else 0.0


def elementwise(spec: CPUSpec, op: Vector, precision: Precision,
                cold: bool = False) -> OpResult:
    """One ATen element-wise op (per call; `count` calls), threaded above ATen's grain;
    `cold`: its output is written to memory no cache holds (`traffic_s`)."""
    n = op.elements
    threads = min(spec.cores, math.ceil(n / ATEN_GRAIN_ELEMENTS)) \
        if n > ATEN_GRAIN_ELEMENTS else 1
    cycles = math.ceil(n / threads) / spec.simd_lanes * vector_cycles(spec, op)
    loop = seconds(spec, cycles) * derate(spec, threads)
    moved = (op.kind.inputs + 1) * n * FLOAT
    body = max(loop, traffic_s(spec, op.kind.inputs * n * FLOAT, n * FLOAT, threads, cold))
    faults = fault_s(spec, n * FLOAT, threads)
    cost = Cost({Category.ELEMENTWISE: loop * op.count,
                 Category.MEMORY_STALL: (body - loop + faults) * op.count,
                 Category.LATENCY: region_s(spec, threads) * op.count,
                 Category.FRAMEWORK: dispatch_s(spec, elementwise_extra_cycles(op)) * op.count},
                threads, int(threads > 1) * op.count, op.count)
    return cost.result(spec, op, precision, f"aten {op.kind.value} ×{threads} threads",
                       moved * op.count)


@dataclass(frozen=True)
class LstmCall:
    """One nn.LSTM layer's call as oneDNN's brgemm RNN runs it (brgemm.py): a step's blocking,
    the parts of K a step multiplies and, at batch 1, the merged input GEMM's blocking."""

    step: brgemm.Blocking
    depths: tuple[int, ...]  # the step's K parts: (input, hidden), or (hidden,) at batch 1
    merged: brgemm.Blocking | None
    inputs: int
    steps: int

    @property
    def unfused_cell(self) -> bool:
        """The cell runs as its own loop over several rows (one row block, batch > 1)."""
        return not self.step.fused and self.step.rows > 1

    def cell_split(self, team: int) -> tuple[int, float]:
        """(threads, the busiest one's share of the cell's values) of a step's cell: fused,
        the items' split; unfused, oneDNN's own loop over the batch rows (parallel_nd over
        mb), on as many of the `team` as there are rows."""
        if self.step.fused:
            return self.step.threads_used, self.step.busiest_items / self.step.items
        rows = self.step.rows
        threads = min(team, rows)
        return threads, math.ceil(rows / threads) / rows

    @property
    def regions(self) -> int:
        """oneDNN parallel regions of the call: each step's items (and its unfused cell), the
        two weight reorders and the merged input GEMM."""
        if self.step.threads <= 1:
            return 0
        return self.steps * (1 + int(self.unfused_cell)) + 2 + int(self.merged is not None)


def lstm_call(spec: CPUSpec, rec: Recurrence) -> LstmCall:
    """How oneDNN runs `rec` on `spec.cores` threads."""
    hidden, inputs = rec.hidden, rec.gates.k - rec.hidden
    step = brgemm.blocking(spec, rec.gates.m, hidden, rec.steps, spec.cores)
    merged = brgemm.merged_layer(spec, rec.steps, hidden, spec.cores) \
        if step.merged_layer else None
    depths = (hidden,) if step.merged_layer else (inputs, hidden)
    return LstmCall(step, depths, merged, inputs, rec.steps)


def lstm_scratchpad_bytes(rec: Recurrence) -> int:
    """The oneDNN RNN scratchpad PyTorch allocates on every nn.LSTM layer call (traced with an
    LD_PRELOAD malloc logger on the Zen 4 host, PyTorch 2.13, 12 shapes within 5%): with one
    layer a call, rnn_utils::set_offsets lays out the hidden and the cell states of every
    step for two layers ((1 + 1) × (steps + 1) × batch × hidden floats each), then one
    step's gates and the cell's scratch (batch × 5·hidden)."""
    batch, hidden = rec.gates.m, rec.hidden
    return (4 * (rec.steps + 1) * batch * hidden + 5 * batch * hidden) * FLOAT


def lstm_scratchpad_touched_bytes(rec: Recurrence) -> int:
    """The pages of the scratchpad a forward-inference call writes (mincore on the freed
    mapping, 5 shapes within 5%): the cell state of every step and one step's gates; the
    states the brgemm cell writes straight into the output are never touched."""
    batch, hidden = rec.gates.m, rec.hidden
    return (rec.steps * batch * hidden + brgemm.LSTM_GATES * batch * hidden) * FLOAT


def lstm_scratchpad_fault_s(spec: CPUSpec, rec: Recurrence, threads: int) -> float:
    """The scratchpad's touched pages faulted on every call when glibc maps it fresh (above
    its largest mmap threshold, `fresh_output_bytes`), by the `threads` writing the cells
    (the char LSTM at batch 256, 64 steps: 34.8 MB mapped, 2,150 faults a call measured,
    2,176 modelled)."""
    if lstm_scratchpad_bytes(rec) <= spec.fresh_output_bytes:
        return 0.0
    return pages_s(spec, lstm_scratchpad_touched_bytes(rec), threads)


def onednn_region_s(spec: CPUSpec, threads: int,
                    region_cycles: float = ONEDNN_REGION_CYCLES) -> float:
    """One oneDNN parallel region of `threads` (OpenMP, its team still spinning from the last
    one): `region_cycles` plus each member's `fork_join_cycles_per_thread`; lighter than an
    ATen region (`region_s`), which also carries PyTorch's thread-local state into each
    thread."""
    if threads <= 1:
        return 0.0
    return seconds(spec, region_cycles + spec.fork_join_cycles_per_thread * threads)


def onednn_rnn(spec: CPUSpec, rec: Recurrence, precision: Precision,
               efficiency: float = BRGEMM_EFFICIENCY, step_cycles: float = RNN_STEP_CYCLES,
               region_cycles: float = ONEDNN_REGION_CYCLES) -> tuple[OpResult, ...]:
    """nn.LSTM through oneDNN's brgemm RNN primitive (aten mkldnn_rnn_layer; ONEDNN_VERBOSE on
    PyTorch 2.13 shows `rnn,brgemm` for nn.LSTM only, nn.GRU and nn.RNN run `aten_rnn`), blocked
    and split over the threads as brgemm.py follows oneDNN's source. Per call: setup
    (RNN_SETUP_CYCLES), the two weight reorders and, at batch 1, the input's GEMM over every
    step at once. Per step: the busiest thread's work items (their brgemm kernels at
    `efficiency` of their issue bound), no faster than the step's weights stream from where
    they live (`weights_stream_s`); the step's loop (`step_cycles`). Each parallel region
    costs `onednn_region_s`. The cell's element-wise arithmetic is its own results, split as
    oneDNN runs it (`LstmCall.cell_split`). The three constants default to their fit
    (BRGEMM_EFFICIENCY, RNN_STEP_CYCLES, ONEDNN_REGION_CYCLES)."""
    gates, steps, team, hidden = rec.gates, rec.steps, spec.cores, rec.hidden
    call = lstm_call(spec, rec)
    threads = call.step.threads_used
    kernel = items_s(spec, call.step, call.depths, precision) / efficiency
    stream = weights_stream_s(spec, sum(call.depths) * gates.n * FLOAT, threads)
    merged = (0.0, 0.0)
    if call.merged is not None:
        merged = (items_s(spec, call.merged, (call.inputs,), precision) / efficiency,
                  weights_stream_s(spec, call.inputs * gates.n * FLOAT,
                                   call.merged.threads_used))
    reorders = sum(rnn_weights_reorder_s(spec, rows * gates.n, team)
                   for rows in (call.inputs, hidden))
    output = steps * gates.m * hidden * FLOAT
    host = host_s(spec, step_cycles * steps)
    cell_threads, cell_share = call.cell_split(team)
    faults = fault_s(spec, output, team) + lstm_scratchpad_fault_s(spec, rec, cell_threads)
    cost = Cost({Category.COMPUTE: kernel * steps + merged[0],
                 Category.MEMORY_STALL: max(0.0, stream - kernel) * steps
                 + max(0.0, merged[1] - merged[0]) + reorders + faults,
                 Category.LATENCY: host
                 + call.regions * onednn_region_s(spec, team, region_cycles),
                 Category.FRAMEWORK: dispatch_s(spec, RNN_SETUP_CYCLES)},
                threads, call.regions)
    kernel_name = (f"onednn brgemm {rec.kind.value}: {call.step.items} items of "
                   f"{call.step.row_block} rows × {call.step.column_block} columns "
                   f"×{threads} threads")
    results = [cost.result(spec, gates, precision, kernel_name,
                           (gates.k * gates.n + gates.m * gates.k * steps) * FLOAT + output)]
    for op in rec.cell:
        cycles = math.ceil(op.elements * cell_share) / spec.simd_lanes * vector_cycles(spec, op)
        cell_s = seconds(spec, cycles) * derate(spec, cell_threads) * steps
        cell = Cost({Category.ELEMENTWISE: cell_s}, cell_threads, 0, 0)
        results.append(cell.result(spec, op, precision, f"fused {rec.kind.value} cell"))
    return tuple(results)


def items_s(spec: CPUSpec, plan: brgemm.Blocking, depths: tuple[int, ...],
            precision: Precision) -> float:
    """The issue-bound brgemm kernels of the busiest thread's items (one step, or the merged
    input GEMM): each item's gates, each gate a kernel per part of K (`depths`)."""
    cycles = sum(brgemm.kernel_cycles(spec, plan.row_block, depth) for depth in depths)
    return seconds(spec, plan.busiest_items * plan.gates_per_item * cycles) \
        / int8_scale(precision)


def weights_stream_s(spec: CPUSpec, size_bytes: float, threads: int) -> float:
    """The weights one step multiplies, each of `threads` streaming its own slice (its items
    are the same every step): from its L2 while the slice fits there, else at the host's
    measured rate for weights beyond L2 (`mkl_stream_cycles_per_weight`, where calibrated;
    `stream_s` otherwise). Unlike an MKL call (`mkl.stream_cycles_per_weight`, the whole
    matrix against L2, the threads sharing DRAM's bandwidth), oneDNN's threads keep the same
    slice every step; bounding the slices by DRAM's shared bandwidth as MKL's model does put
    the Zen 4 file's held-out LSTM rows at 12.8% instead of 7.4% when it was tried. Weights
    beyond the share of L3 a working set keeps (`RESIDENT_SHARE`) leave it between steps and
    come from DRAM every step: the host's measured rate is nn.Linear(4096, 1024)'s 16 MiB,
    which stays in a 32 MiB L3 from call to call (measured 0.27-0.59 cycles a weight on the
    same kind of VM), while nn.LSTM(1024)'s 32 MiB cannot."""
    per_thread = size_bytes / threads
    if per_thread <= spec.l2_bytes:
        return seconds(spec, per_thread / spec.l2_bytes_per_cycle)
    if not spec.mkl_stream_cycles_per_weight:
        return stream_s(spec, size_bytes, threads)
    measured = seconds(spec, per_thread / FLOAT * spec.mkl_stream_cycles_per_weight)
    if size_bytes <= spec.l3_bytes * RESIDENT_SHARE:
        return measured
    return max(measured, size_bytes / spec.dram_bytes_per_s)  # beyond L3: every step, DRAM


@dataclass(frozen=True)
class AtenCell:
    """One time step of ATen's native recurrent cell (aten/src/ATen/native/RNN.cpp, CPU, the
    input's linear precomputed for all steps): `kernels` element-wise ATen ops that run a
    TensorIterator loop (addmm's bias copy_ included) and `views` ops that only make views
    (transpose, select, t, expand, unsafe_chunk, narrow, slice, as_strided, ...), besides the
    step's addmm; counted with torch.profiler on PyTorch 2.13 (per-step difference of 3 and 6
    steps)."""

    kernels: int
    views: int


ATEN_CELLS = {CellKind.GRU: AtenCell(kernels=11, views=32),  # GRUCell: 3 add_, 2 sigmoid_,
              #   2 mul_, add, tanh_, sub, the bias copy_; 2 chunks of 3 gates as views
              CellKind.RNN: AtenCell(kernels=3, views=10)}  # SimpleCell: add_, tanh, copy_
ATEN_RNN_FIXED_VIEWS = 31  # aten::gru/rnn_tanh per call: zeros, unbind, stack, cat, the
#                            input's linear, transposes (the same profile)


def aten_rnn(spec: CPUSpec, rec: Recurrence, precision: Precision) -> tuple[OpResult, ...]:
    """nn.GRU and nn.RNN as PyTorch 2.13 runs them on the CPU: ATen's native loop, not oneDNN
    (ONEDNN_VERBOSE shows an rnn primitive for nn.LSTM only). Once per call the input's linear
    over every step (one addmm, steps·batch × input × gates·hidden) and the outputs' stack;
    per step an addmm of the hidden state (batch × hidden × gates·hidden) and the cell's
    ATen ops (`ATEN_CELLS`), each dispatched from C++ (`ATEN_CPP_OP_CYCLES`,
    `ATEN_VIEW_OP_CYCLES`) and too small for ATen to thread below its grain."""
    gates, steps, hidden = rec.gates, rec.steps, rec.hidden
    batch, width = gates.m, gates.n
    cell_ops = ATEN_CELLS[rec.kind]
    pre_k, pre_other, pre_threads = addmm_s(spec, steps * batch, gates.k - hidden, width,
                                            precision)
    step_k, step_other, step_threads = addmm_s(spec, batch, hidden, width, precision)
    output = steps * batch * hidden * FLOAT
    stack = stream_s(spec, 2 * output, 1) + fault_s(spec, output, 1)
    regions = int(pre_threads > 1) + int(step_threads > 1) * steps
    per_step_host = host_s(spec, ATEN_CPP_OP_CYCLES * (cell_ops.kernels + 1)
                           + ATEN_VIEW_OP_CYCLES * cell_ops.views)
    fixed_host = host_s(spec, ATEN_VIEW_OP_CYCLES * ATEN_RNN_FIXED_VIEWS
                        + ATEN_CPP_OP_CYCLES * 4)  # input linear, stack, cat, zeros
    cost = Cost({Category.COMPUTE: pre_k + step_k * steps,
                 Category.MEMORY_STALL: pre_other + step_other * steps + stack,
                 Category.LATENCY: regions * region_s(spec, spec.cores),
                 Category.FRAMEWORK: dispatch_s(spec, RNN_FORWARD_CYCLES) + fixed_host
                 + per_step_host * steps},
                max(pre_threads, step_threads), regions)
    kernel_name = f"aten {rec.kind.value} cell, addmm ×{step_threads} threads"
    moved = (gates.k * width + steps * batch * (gates.k - hidden)) * FLOAT + output
    results = [cost.result(spec, gates, precision, kernel_name, moved)]
    for op in rec.cell:
        cycles = op.elements / spec.simd_lanes * vector_cycles(spec, op)
        cell = Cost({Category.ELEMENTWISE: seconds(spec, cycles) * steps}, 1, 0, 0)
        results.append(cell.result(spec, op, precision, f"aten {rec.kind.value} cell"))
    return tuple(results)
