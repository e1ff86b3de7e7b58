"""Convolutions through cuDNN: the algorithm the software stack picks, its kernels, and
PyTorch's bias add.

Which algorithm runs (spec.py's software-stack settings):
- `conv_algorithm` forced (not "auto"): that algorithm (conv_algorithms.py), as
  cudnnConvolutionForward given it; an error where it cannot run the layer;
- `cudnn_benchmark` True: the fastest of every algorithm that can run it (cudnnFind,
  `conv_algorithms.fastest`);
- otherwise cuDNN's heuristic, `conv_rule` below: a rule on shape features that names an
  implicit-GEMM kernel and its CTA tile.

The heuristic rule (cuDNN 9's choices on an H200, from the kernels PyTorch 2.11 launched for
LeNet-5 fp32 at batch 64 and 4,096: the kernel lists of accelsim/measure/data/
gpu-h200-network-2026-11-27.json), in order:
1. one input channel per group, or fewer output pixels over the batch (the GEMM's rows) than
   the 32 rows of the smallest tile: the legacy `implicit_convolve_sgemm<float, float, 1024,
   5, 5, 3, 3, 3, 1, ...>`, a pre-Ampere kernel (32×32 tile, slices of 8, the register-staged
   two-stage main loop of a GPU without asynchronous copies, gemm.py `has_async_copy`). The
   lists show it for conv1 (one channel) at both batches; the few-rows case (conv3 below
   batch 32, its output one pixel) is inferred from the network file's device times;
2. a layer of more than `LARGE_TILE_MACS` multiply-accumulates whose large-tile grid still
   occupies `LARGE_TILE_MIN_SM_SHARE` of the SMs (not ResNet-18's 3×3 layers at batch 1): a
   large tile, 4·BN rows by
   BN = 32 columns for at most 32 output channels, else 64 (the lists' 128×32 for conv2 and
   256×64 for conv3 at batch 4,096 — a 256-row tile on 4,096 rows leaves 100 of 132 SMs idle,
   and cuDNN takes it);
3. otherwise `sm80_xmma_fprop_implicit_gemm` with a 32×32×8 tile (conv2, conv3 at batch 64).
Tensor-core precisions (fp16, bf16, int8; no kernel list) follow the same rule with the
tensor-core tiles (64×32×32 small, 128×64×32 large) and the legacy kernel's NHWC twin; their
kernels run on NHWC tensors: with NCHW tensors (`channels_last` False) cuDNN transforms the
input and filter (`nchwToNhwcKernel`) and the output back — three streaming kernels, which
the network file's fp16 LeNet-5 shows at batch 1-16 (device time ~9 µs, eager host time
~40 µs more than fp32's). One input channel keeps the legacy kernel (fp16 LeNet-5 at batch
16,384 is only 14% faster than fp32: conv1 stays slow). With `channels_last` no transforms.
Every GPU preset uses this rule (the kernel names are the H200's; an older GPU runs the same
tiles with its own main loop, gemm.py); one whose SMs cannot hold the rule's tile runs the
fastest menu kernel that fits.

The implicit GEMM reads its A operand (im2col rows) as an element-by-element gather, and its
main loop interleaves one integer instruction (the filter walk's address and predicate
updates) with each FFMA: `math_issue_slots` = 2. That single parameter was fitted on the four
xmma fprop kernels of the lists (7.3, 15.3, 159 and 85 µs profiled), which the plain-GEMM
model with one slot puts 1.2-1.8x too fast and with two within 7%.

PyTorch adds the bias in a separate broadcast kernel (`at::native::elementwise_kernel` with
`CUDAFunctor_add`, elementwise.py `BROADCAST`); a library called directly (`framework` =
"library", as DeepBench) adds none.

A grouped convolution runs its kernel over every group's rows at once (cuDNN's grouped
implicit GEMM: the groups' tiles side by side in one grid); a depthwise one (groups = input
channels) is not a GEMM at all: PyTorch runs its own direct kernel, one thread per output
looping over the filter taps (elementwise.py `DEPTHWISE`), bound by memory or by its integer
work, never by FMAs — with K = 9 a tensor-core GEMM would leave its MMAs almost empty.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.errors import AccelsimError
from accelsim.ir import Gemm
from accelsim.machines.gpu.conv_algorithms import (
    IMPLICIT_GEMM_ISSUE_SLOTS,
    ConvShape,
    Plan,
    fastest,
    gemm_kernel,
    plan,
)
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
from accelsim.machines.gpu.runtime import PYTORCH_EAGER, GPURuntime
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

# Multiply-accumulates from which the heuristic takes a large tile. Fitted (the one fitted
# constant of the rule) on the H200's LeNet-5 fp32: the kernel lists (conv2 at batch 4,096:
# 983 M, conv3: 197 M, large; conv2 at 64: 15 M, small) and the network file's device times
# (conv2 at batch 256, 61 M, small: large tiles there put the network 77% too slow).
LARGE_TILE_MACS = 100_000_000
# ... and only where its CTAs still occupy this share of the SMs. Assumed, not fitted: the
# lists show cuDNN accepting 32 CTAs on 132 SMs (LeNet-5's conv3 at batch 4,096, 24%);
# ResNet-18's 3×3 layers at batch 1 would launch 8 (6%), each walking K = 1,152 to 4,608.
LARGE_TILE_MIN_SM_SHARE = 1 / 8


@dataclass(frozen=True)
class ConvRule:
    """A kernel the heuristic can name: its CTA tile, on tensor cores or not (`tensor`), the
    register-staged main loop whatever the GPU has (`legacy`), an NHWC kernel (`nhwc`: layout
    transforms around it with NCHW tensors), and its place in the rule (`size`: "legacy",
    "small" or "large")."""

    kernel: str
    tile: TileConfig
    tensor: bool
    size: str
    legacy: bool = False
    nhwc: bool = False


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
LEGACY_ROWS = 32  # the smallest tile's rows (module docstring, rule 1)
SMALL_BN_CHANNELS = 32  # rule 2: BN = 32 for at most 32 output channels, else 64
CONV_RULES = (
    ConvRule("implicit_convolve_sgemm", LEGACY_TILE, False, "legacy", legacy=True),
    ConvRule("xmma_fprop 128x32x8", _fprop(128, 32, 2, 2, 118), False, "large"),
    ConvRule("xmma_fprop 256x64x8", _fprop(256, 64, 2, 2, 232), False, "large"),
    ConvRule("xmma_fprop 32x32x8", _fprop(32, 32, 1, 2, 80), False, "small"),
    # Tensor-core precisions: assumed, see the module docstring.
    ConvRule("implicit_convolve_hgemm", LEGACY_TILE, True, "legacy", legacy=True),
    ConvRule("SIMT NHWC 32x32x8", LEGACY_TILE, True, "legacy", legacy=True, nhwc=True),
    ConvRule("xmma_fprop tensorcore 128x64x32", _tensor_fprop(128, 64, 2, 2, 4, 128), True,
             "large", nhwc=True),
    ConvRule("xmma_fprop tensorcore 64x32x32", _tensor_fprop(64, 32, 2, 1, 6, 96), True,
             "small", nhwc=True),
)


def conv_rule(op: Gemm, batch: int, precision: Precision, spec: GPUSpec) -> ConvRule:
    """The heuristic's kernel for a convolution (an im2col GEMM with its geometry), by the
    module docstring's rule: input channels, output pixels (the GEMM's rows), its work
    (multiply-accumulates), output channels and precision; never the network or a batch."""
    assert op.conv is not None, "conv_rule needs a convolution's GEMM"
    tensor = precision is not Precision.FP32
    menu = [rule for rule in CONV_RULES if rule.tensor == tensor]
    rows = op.m * op.groups
    if op.conv.in_channels_per_group == 1:
        return menu[0]  # the legacy NCHW kernel
    if rows < LEGACY_ROWS:
        return next(r for r in menu if r.size == "legacy" and r.nhwc == tensor)
    if op.macs > LARGE_TILE_MACS:
        large = [r for r in menu if r.size == "large"]
        wide = op.n > SMALL_BN_CHANNELS
        rule = next((r for r in large if (r.tile.bn > SMALL_BN_CHANNELS) == wide), large[-1])
        ctas = math.ceil(rows / rule.tile.bm) * math.ceil(op.n / rule.tile.bn)
        if ctas >= spec.sm_count * LARGE_TILE_MIN_SM_SHARE:
            return rule
    return next(r for r in menu if r.size == "small")


@lru_cache(maxsize=32)
def staged_spec(spec: GPUSpec) -> GPUSpec:
    """The GPU running a pre-Ampere kernel: its register-staged main loop (no LDGSTS)."""
    return dataclasses.replace(spec, has_async_copy=False)


def conv_choice(op: Gemm, batch: int, precision: Precision, spec: GPUSpec) -> KernelChoice:
    """The heuristic's convolution kernel, timed on the SM model."""
    rule = conv_rule(op, batch, precision, spec)
    rows = op.m * op.groups  # the groups' GEMMs side by side in one grid
    choice = tiled_kernel(rule.tile, 1, rows, op.k, op.n,
                          staged_spec(spec) if rule.legacy else spec, precision, gathered=True)
    if choice is None:
        return choose_kernel(rows, op.k, op.n, spec, precision)
    return dataclasses.replace(choice, name=rule.kernel)


def heuristic_plan(op: Gemm, batch: int, precision: Precision, spec: GPUSpec,
                   runtime: GPURuntime = PYTORCH_EAGER) -> Plan:
    """cuDNN's heuristic (benchmark off): the rule's kernel, NHWC transforms around it where
    the kernel is NHWC and the tensors are not."""
    rule = conv_rule(op, batch, precision, spec)
    main = gemm_kernel(conv_choice(op, batch, precision, spec))
    return Plan("heuristic", (main,)) if not rule.nhwc else \
        _layout_transforms(Plan("heuristic", (main,)), op, batch, precision, spec, runtime)


def algorithm_plan(op: Gemm, batch: int, precision: Precision, spec: GPUSpec,
                   runtime: GPURuntime = PYTORCH_EAGER) -> Plan:
    """The plan the software stack runs: forced, fastest (benchmark) or the heuristic's."""
    if runtime.conv_algorithm == "auto" and not runtime.cudnn_benchmark:
        return heuristic_plan(op, batch, precision, spec, runtime)
    shape = ConvShape.of(op, batch)
    tensor = precision is not Precision.FP32
    nhwc = runtime.channels_last or tensor  # tensor-core kernels run on NHWC data
    if runtime.conv_algorithm == "auto":
        chosen = fastest(shape, precision, spec, nhwc)
    else:
        found = plan(runtime.conv_algorithm, shape, precision, spec, nhwc)
        if found is None:
            raise AccelsimError(
                f"{spec.name}: conv_algorithm = {runtime.conv_algorithm!r} cannot run "
                f"{op.name!r} "
                f"({shape.kernel[0]}x{shape.kernel[1]} filter, stride {shape.stride}): winograd "
                "needs 3x3 stride 1, fft stride 1 and fp32, direct a depthwise layer; use "
                "conv_algorithm = 'auto' or 'implicit_precomp_gemm'")
        chosen = found
    return _layout_transforms(chosen, op, batch, precision, spec, runtime) if tensor \
        else chosen


def _layout_transforms(chosen: Plan, op: Gemm, batch: int, precision: Precision,
                       spec: GPUSpec, runtime: GPURuntime) -> Plan:
    """An NHWC kernel on NCHW tensors: the input and filter transformed before it, the
    output after (none with `channels_last`)."""
    if runtime.channels_last:
        return chosen
    assert op.conv is not None
    b = precision.bytes
    in_elements = batch * op.conv.in_channels * op.conv.in_hw[0] * op.conv.in_hw[1]
    before = (_transform("nchwToNhwc input", in_elements, b, spec),
              _transform("nchwToNhwc filter", op.k * op.n * op.groups, b, spec))
    after = (_transform("nhwcToNchw output", op.m * op.n * op.groups, b, spec),)
    return dataclasses.replace(chosen, kernels=(*before, *chosen.kernels, *after))


def conv_kernels(op: Gemm, batch: int, precision: Precision, spec: GPUSpec,
                 runtime: GPURuntime = PYTORCH_EAGER) -> tuple[Kernel, ...]:
    """Every kernel one convolution launches: the algorithm's (layout transforms, workspace
    passes, the GEMM), then PyTorch's bias add."""
    assert op.conv is not None, "conv_kernels needs a convolution's GEMM"
    if op.conv.depthwise:
        return depthwise_kernels(op, batch, precision, spec)
    kernels = algorithm_plan(op, batch, precision, spec, runtime).kernels
    if op.bias and runtime.framework != "library":
        kernels += (bias_add(op.m * op.n * op.groups, op.n * op.groups, precision, spec),)
    return kernels


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
