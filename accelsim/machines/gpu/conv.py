"""Convolutions as PyTorch runs nn.Conv2d through cuDNN (NCHW tensors, cudnn.benchmark off):
the kernel cuDNN's heuristic picks, timed by the SM-level GEMM model, then the bias add.

cuDNN's heuristic does not pick the fastest kernel (with benchmark off it does not time
any); `CONV_RULES` writes down what it picked, as data: the first rule that matches a
convolution names its kernel and CTA tile. Source: the kernels PyTorch 2.11 / cuDNN 9.19
launched for LeNet-5 fp32 at batch 64 and 4,096 on an H200 (kernel lists of
accelsim/measure/data/gpu-h200-network-2026-11-27.json):

- one input channel (conv1, both batches): the legacy `implicit_convolve_sgemm<float, float,
  1024, 5, 5, 3, 3, 3, 1, ...>`, a pre-Ampere kernel: the 32×32 CTA tile and slices of 8 its
  template's log2 sizes (5, 5, 3) name, with the register-staged two-stage main loop of a GPU
  without asynchronous copies (gemm.py, `has_async_copy`);
- otherwise `sm80_xmma_fprop_implicit_gemm` kernels: tile 32×32×8 at batch 64 (conv2 and
  conv3), 128×32×8 (16 output channels, conv2) and 256×64×8 (120, conv3) at batch 4,096 —
  a 256-row tile for a GEMM of 4,096 rows leaves 100 of 132 SMs idle, and cuDNN takes it.
  Between the two listed batches the switch is put at `LARGE_BATCH`. Below 32 images
  (`SMALL_BATCH`, no list) the legacy kernel is assumed for every convolution: the network
  file's fp32 LeNet-5 at batch 1-16 (37.8-44.7 µs) leaves conv2 and conv3 about 18 µs
  together, what the legacy kernel takes and 4 µs less than the xmma 32×32 kernel.

The implicit GEMM reads its A operand (im2col rows) as an element-by-element gather, and its
main loop interleaves one integer instruction (the filter walk's address and predicate
updates) with each FFMA: `math_issue_slots` = 2. That single parameter was fitted on the four
xmma fprop kernels of the lists (7.3, 15.3, 159 and 85 µs profiled), which the plain-GEMM
model with one slot puts 1.2-1.8x too fast and with two within 7%.

Tensor-core precisions (fp16, bf16, int8) have no kernel list; the rules assume what cuDNN
does for NCHW tensors: the input and filter transformed to NHWC (`nchwToNhwcKernel`), an
NHWC kernel, the output transformed back — three streaming kernels around each convolution
with more than one input channel, which the network file's fp16 LeNet-5 shows at batch 1-16
(device time ~9 µs, eager host time ~40 µs more than fp32's). The NHWC kernel is a
tensor-core implicit GEMM from batch 32, and below it as slow as the legacy SIMT kernel
(fp16 = fp32 + the transforms there). One input channel keeps the legacy kernel (fp16
LeNet-5 at batch 16,384 is only 14% faster than fp32: conv1 stays slow).

Every GPU preset uses this table (the kernel names are the H200's; an older GPU runs the same
tiles with its own main loop, gemm.py); one whose SMs cannot hold the rule's tile runs the
fastest menu kernel that fits.
PyTorch adds the bias in a separate broadcast kernel (`at::native::elementwise_kernel` with
`CUDAFunctor_add`, elementwise.py `BROADCAST`).

A grouped convolution runs the rule's kernel over every group's rows at once (cuDNN's
grouped implicit GEMM: the groups' tiles side by side in one grid); a depthwise one
(groups = input channels) is not a GEMM at all: PyTorch runs its own direct kernel, one
thread per output looping over the filter taps (elementwise.py `DEPTHWISE`), bound by memory
or by its integer work, never by FMAs — with K = 9 a tensor-core GEMM would leave its MMAs
almost empty.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from accelsim.ir import Gemm
from accelsim.machines.gpu.elementwise import (
    DEPTHWISE,
    DEPTHWISE_TAP_INSTRUCTIONS,
    TRANSPOSE,
    bias_add,
    stream_launch,
)
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel, tiled_kernel
from accelsim.machines.gpu.kernels import TileConfig
from accelsim.machines.gpu.launches import Kernel
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

# Batch (images) from which cuDNN switches to its large tiles: between the lists' 64 and
# 4,096, and between 256 and 1,024 by the network file's fp32 LeNet-5 device times (large
# tiles at 256 put it 77% too slow, small tiles at 1,024 27% too fast).
LARGE_BATCH = 512
# Below this batch the legacy kernel runs every convolution (inferred, no list: see above).
SMALL_BATCH = 32
IMPLICIT_GEMM_ISSUE_SLOTS = 2


@dataclass(frozen=True)
class ConvRule:
    """One row of the heuristic: the kernel for convolutions with at most `max_in_channels`
    input channels (0: any), from `min_batch` to `max_batch` images (0: any) and at most
    `max_out_channels` output channels (0: any), on tensor cores or not (`tensor`)."""

    kernel: str
    tile: TileConfig
    tensor: bool
    max_in_channels: int = 0
    min_batch: int = 1
    max_batch: int = 0
    max_out_channels: int = 0
    legacy: bool = False  # the register-staged main loop, whatever the GPU has
    nhwc: bool = False  # NCHW → NHWC transforms around a tensor-core kernel

    def matches(self, in_channels: int, batch: int, out_channels: int, tensor: bool) -> bool:
        return (self.tensor == tensor and batch >= self.min_batch
                and (not self.max_batch or batch <= self.max_batch)
                and (not self.max_in_channels or in_channels <= self.max_in_channels)
                and (not self.max_out_channels or out_channels <= self.max_out_channels))


# Registers a thread: the Nsight records' for the sm80_xmma_gemm kernels of the same tile
# (80 for 32x32, 118 for 128x32; accelsim/measure/data/gpu-h200-2026-11.json); 232 for
# 256x64 and 80 for the legacy kernel are assumed (no record), as are the tensor-core
# tiles', taken from gemm's TENSOR_MENU.
def _fprop(bm: int, bn: int, warps_m: int, warps_n: int, registers: int) -> TileConfig:
    return TileConfig(f"sm80_xmma_fprop_implicit_gemm_f32 tilesize{bm}x{bn}x8", bm, bn, 8,
                      warps_m, warps_n, 3, registers,
                      math_issue_slots=IMPLICIT_GEMM_ISSUE_SLOTS)


def _tensor_fprop(bm: int, bn: int, warps_m: int, warps_n: int, stages: int,
                  registers: int) -> TileConfig:
    return TileConfig(f"xmma_fprop_implicit_gemm tensorcore tilesize{bm}x{bn}x32", bm, bn, 32,
                      warps_m, warps_n, stages, registers, tensor=True)


LEGACY_TILE = TileConfig("implicit_convolve_sgemm 32x32x8", 32, 32, 8, 1, 2, 2, 80)
CONV_RULES = (
    ConvRule("implicit_convolve_sgemm", LEGACY_TILE, False, max_in_channels=1, legacy=True),
    ConvRule("implicit_convolve_sgemm", LEGACY_TILE, False, max_batch=SMALL_BATCH - 1,
             legacy=True),
    ConvRule("xmma_fprop 128x32x8", _fprop(128, 32, 2, 2, 118), False, min_batch=LARGE_BATCH,
             max_out_channels=32),
    ConvRule("xmma_fprop 256x64x8", _fprop(256, 64, 2, 2, 232), False, min_batch=LARGE_BATCH),
    ConvRule("xmma_fprop 32x32x8", _fprop(32, 32, 1, 2, 80), False),
    # Tensor-core precisions: assumed, see the module docstring.
    ConvRule("implicit_convolve_hgemm", LEGACY_TILE, True, max_in_channels=1, legacy=True),
    ConvRule("SIMT NHWC 32x32x8", LEGACY_TILE, True, max_batch=SMALL_BATCH - 1, legacy=True,
             nhwc=True),
    ConvRule("xmma_fprop tensorcore 128x64x32", _tensor_fprop(128, 64, 2, 2, 4, 128), True,
             min_batch=LARGE_BATCH, nhwc=True),
    ConvRule("xmma_fprop tensorcore 64x32x32", _tensor_fprop(64, 32, 2, 1, 6, 96), True,
             nhwc=True),
)


def conv_rule(op: Gemm, batch: int, precision: Precision) -> ConvRule:
    """The heuristic's row for a convolution (an im2col GEMM with its geometry)."""
    assert op.conv is not None, "conv_rule needs a convolution's GEMM"
    tensor = precision is not Precision.FP32
    return next(rule for rule in CONV_RULES
                if rule.matches(op.conv.in_channels, batch, op.n, tensor))


@lru_cache(maxsize=32)
def staged_spec(spec: GPUSpec) -> GPUSpec:
    """The GPU running a pre-Ampere kernel: its register-staged main loop (no LDGSTS)."""
    return dataclasses.replace(spec, has_async_copy=False)


def conv_choice(op: Gemm, batch: int, precision: Precision, spec: GPUSpec) -> KernelChoice:
    """The convolution kernel cuDNN runs, timed on the SM model."""
    rule = conv_rule(op, batch, precision)
    rows = op.m * op.groups  # the groups' GEMMs side by side in one grid
    choice = tiled_kernel(rule.tile, 1, rows, op.k, op.n,
                          staged_spec(spec) if rule.legacy else spec, precision, gathered=True)
    if choice is None:
        return choose_kernel(rows, op.k, op.n, spec, precision)
    return dataclasses.replace(choice, name=rule.kernel)


def conv_kernels(op: Gemm, batch: int, precision: Precision, spec: GPUSpec
                 ) -> tuple[Kernel, ...]:
    """Every kernel one nn.Conv2d call launches: layout transforms (tensor cores), the
    convolution, the bias add."""
    assert op.conv is not None, "conv_kernels needs a convolution's GEMM"
    if op.conv.depthwise:
        return depthwise_kernels(op, batch, precision, spec)
    rule = conv_rule(op, batch, precision)
    choice = conv_choice(op, batch, precision, spec)
    main = Kernel(choice.name, choice.seconds, Category.COMPUTE, choice.dram_bytes,
                  choice.bound, choice)
    b = precision.bytes
    in_elements = batch * op.conv.in_channels * op.conv.in_hw[0] * op.conv.in_hw[1]
    out_elements = op.m * op.n * op.groups
    before: list[Kernel] = []
    after: list[Kernel] = []
    if rule.nhwc:
        before = [_transform("nchwToNhwc input", in_elements, b, spec),
                  _transform("nchwToNhwc filter", op.k * op.n * op.groups, b, spec)]
        after = [_transform("nhwcToNchw output", out_elements, b, spec)]
    if op.bias:
        after.append(bias_add(out_elements, op.n * op.groups, precision, spec))
    return (*before, main, *after)


def depthwise_kernels(op: Gemm, batch: int, precision: Precision, spec: GPUSpec
                      ) -> tuple[Kernel, ...]:
    """PyTorch's depthwise kernel (bias added inside it): reads the input and the filters
    once, writes the outputs; per output its index arithmetic and per tap a load pair and
    an FMA."""
    assert op.conv is not None, "depthwise_kernels needs a convolution's GEMM"
    g = op.conv
    outputs = op.m * op.n * op.groups
    taps = g.kernel[0] * g.kernel[1]
    inputs = batch * g.in_channels * g.in_hw[0] * g.in_hw[1]
    moved = (inputs + outputs + op.n * op.groups * (taps + int(op.bias))) * precision.bytes
    cost_kernel = stream_launch(DEPTHWISE.name, DEPTHWISE, outputs, moved, spec,
                                extra_alu_ops=outputs * taps * DEPTHWISE_TAP_INSTRUCTIONS)
    return (dataclasses.replace(cost_kernel, category=Category.COMPUTE),)


def _transform(name: str, elements: int, element_bytes: int, spec: GPUSpec) -> Kernel:
    """cuDNN's layout transform of a tensor: reads and writes every element once."""
    return stream_launch(f"{TRANSPOSE.name} ({name})", TRANSPOSE, elements,
                         2 * elements * element_bytes, spec)
