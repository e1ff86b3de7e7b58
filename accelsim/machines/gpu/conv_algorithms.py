"""cuDNN's forward-convolution algorithms as mechanisms: each one a sequence of kernels (its
workspace passes and its main GEMM), every GEMM timed by the SM-level model (gemm.py
`tiled_kernel`, `choose_kernel`) from the algorithm's own tiling and traffic.

The algorithms (cuDNN's `cudnnConvolutionFwdAlgo_t`; shapes below per group, N images of
C×H×W, K filters of C×R×S, P = N·Ho·Wo output pixels):

- `implicit_gemm` (IMPLICIT_GEMM): the im2col GEMM [P, C·R·S]·[C·R·S, K] without im2col: the
  A operand gathered element by element from the input, its address (the filter walk's
  divisions and bounds) computed inline, one integer instruction per FMA
  (`IMPLICIT_GEMM_ISSUE_SLOTS` = 2, conv.py). No workspace.
- `implicit_precomp_gemm` (IMPLICIT_PRECOMP_GEMM): the same GEMM, the filter walk's offsets
  precomputed once into a table (a small kernel, `OFFSET_BYTES` per K index) and read in the
  main loop: one issue slot per FMA.
- Tensor-core implicit GEMM (fp16, bf16, int8: the kernels run on NHWC tensors): a K slice
  of the tile covers `bk` channels of one filter tap, so K is walked as R·S taps of
  ceil(C / bk)·bk channels — channels are padded to the slice (`padded_depth`). With NHWC and
  C·bytes a multiple of 16, the A slices load as 16-byte vectors; otherwise (NCHW, or few
  channels) element by element. Source of the padding: the V100 fp16 rows of DeepBench with
  C = 1 and 3 (accelsim/measure/data/deepbench-v100.json) take time in proportion to
  P·R·S whatever K is, the signature of one tap per K slice.
- `gemm` (GEMM): an explicit im2col kernel writes the [P, C·R·S] buffer (the workspace: read
  back by a plain GEMM, `choose_kernel`, with contiguous, vectorized operands).
- `winograd` (WINOGRAD_NONFUSED), 3×3 stride 1 only: F(2×2, 3×3) and F(4×4, 3×3) (Lavin &
  Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016): an input transform
  (the input read, α²·T·C elements written, T = N·⌈Ho/m⌉·⌈Wo/m⌉ tiles, α = m + 2), a filter
  transform (α²·C·K written), α² GEMMs [T, C]·[C, K] (a batched GEMM: `batched_gemm`, each
  GEMM's rows padded to the tile), and an output transform (α²·T·K read, N·K·Ho·Wo written). The two
  tilings are two candidates; the faster is the algorithm's.
- `fft` (FFT), stride 1: the input (N·C planes) and filters (K·C planes) transformed to
  Hf×(Wf/2+1) complex bins (Hf, Wf the input padded by the filter: H + R − 1, rounded up to
  even), the bins' products summed over C as a complex GEMM per bin (4 real MACs per complex
  one: a batched GEMM of `bins` [N, C]·[C, 4·K]), the N·K output planes transformed back.
  Each transform streams its planes once (bandwidth and 5·n·log2(n) flops per plane of n
  points, the radix-2 count).
- A 1×1 stride-1 unpadded convolution in NHWC is a plain GEMM for every implicit algorithm
  (its A operand is the input itself, [N·H·W, C] row-major: vector loads, no filter walk);
  in NCHW the implicit kernel gathers A (a pixel's channels lie H·W apart) without a walk.
- `direct`: the depthwise kernel (conv.py `depthwise_kernels`); only for depthwise layers.

`candidates` lists every algorithm that can run the layer, each with its fastest tile;
`fastest` (cudnnFind, `cudnn_benchmark` = True) is their minimum. The heuristic
(`cudnn_benchmark` = False) is conv.py's rule on shape features.

Workspace transforms run as streaming kernels (elementwise.py's model: launch, a dependent
floor, max(bytes / bandwidth, instructions / issue rate)); their instruction counts per
element written are counted from the transforms' arithmetic, not fitted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.ir import Gemm
from accelsim.machines.gpu.elementwise import StreamKernel, stream_launch
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel, tiled_kernel
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU, TileConfig
from accelsim.machines.gpu.launches import Kernel
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

IMPLICIT_GEMM_ISSUE_SLOTS = 2  # see conv.py: fitted on the H200's xmma fprop kernels
OFFSET_BYTES = 4  # one int32 offset per K index in the precomputed table
VECTOR_BYTES = 16
# Streaming transforms: (name, dependent chain cycles, round trips, instructions per element
# written). im2col: an element's (n, p, q, c, r, s) from its index (integer divisions) and a
# bounds test, ~20 instructions. Winograd input transform Bᵀ·d·B: per α×α tile 2·α²·α adds
# over α² elements, 2α each, plus the tile's addressing (~8): F(2,3) 16, F(4,3) 20; output
# transform Aᵀ·M·A: α·m·(α + m) adds over m² outputs; filter transform G·g·Gᵀ small.
IM2COL = StreamKernel("im2col4d_kernel", 1100.0, 2, 20.0)
OFFSETS = StreamKernel("computeOffsetsKernel", 260.0, 2, 8.0)
WINOGRAD_INPUT = StreamKernel("winogradForwardData", 1100.0, 2, 0.0)
WINOGRAD_FILTER = StreamKernel("winogradForwardFilter", 1100.0, 2, 0.0)
WINOGRAD_OUTPUT = StreamKernel("winogradForwardOutput", 1100.0, 2, 0.0)
FFT = StreamKernel("fft2d_r2c", 1100.0, 2, 0.0)
IFFT = StreamKernel("fft2d_c2r", 1100.0, 2, 0.0)
WINOGRAD_TILES = (2, 4)  # F(2×2, 3×3) and F(4×4, 3×3)


@dataclass(frozen=True)
class ConvShape:
    """One convolution per group, as cuDNN sees it: N images of C×H×W, K filters of C×R×S,
    `groups` side by side."""

    batch: int
    channels: int  # per group
    filters: int  # per group
    groups: int
    in_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]

    @classmethod
    def of(cls, op: Gemm, batch: int) -> ConvShape:
        assert op.conv is not None, "ConvShape needs a convolution's GEMM"
        g = op.conv
        return cls(batch, g.in_channels_per_group, op.n, op.groups, g.in_hw, g.kernel,
                   g.stride, g.padding, g.dilation, g.out_hw)

    @property
    def taps(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def pixels(self) -> int:
        """Output pixels over the batch: the im2col GEMM's rows P."""
        return self.batch * self.out_hw[0] * self.out_hw[1]

    @property
    def depth(self) -> int:
        """The im2col GEMM's K: C·R·S."""
        return self.channels * self.taps

    @property
    def input_elements(self) -> int:
        return self.batch * self.channels * self.groups * self.in_hw[0] * self.in_hw[1]

    @property
    def output_elements(self) -> int:
        return self.pixels * self.filters * self.groups

    @property
    def pointwise(self) -> bool:
        """1×1, stride 1, unpadded: the input is the GEMM's A operand as it lies."""
        return self.kernel == (1, 1) and self.stride == (1, 1) and not any(self.padding)

    @property
    def unit_stride_3x3(self) -> bool:
        return self.kernel == (3, 3) and self.stride == (1, 1) and self.dilation == (1, 1)


@dataclass(frozen=True)
class Plan:
    """One algorithm's kernels for a convolution, in launch order, and its workspace."""

    algorithm: str
    kernels: tuple[Kernel, ...]
    workspace_bytes: int = 0

    @property
    def seconds(self) -> float:
        return sum(k.seconds for k in self.kernels)

    @property
    def main(self) -> Kernel:
        """The GEMM kernel (the longest if there are several)."""
        gemms = [k for k in self.kernels if k.gemm is not None] or list(self.kernels)
        return max(gemms, key=lambda k: k.seconds)


def gemm_kernel(choice: KernelChoice, name: str | None = None) -> Kernel:
    return Kernel(name or choice.name, choice.seconds, Category.COMPUTE, choice.dram_bytes,
                  choice.bound, choice)


def padded_depth(shape: ConvShape, bk: int) -> int:
    """K as a tensor-core implicit GEMM walks it: R·S taps of ceil(C / bk)·bk channels."""
    return shape.taps * math.ceil(shape.channels / bk) * bk


def vector_loads(shape: ConvShape, precision: Precision, nhwc: bool) -> bool:
    """The A slices load as 16-byte vectors: NHWC with each pixel's channels a whole number
    of vectors. In NCHW the pixels of one channel are contiguous, not a pixel's channels: A
    is gathered (a 1×1 layer too: its tiles walk pixels across images)."""
    return nhwc and (shape.channels * precision.bytes) % VECTOR_BYTES == 0


# cuDNN's implicit-GEMM tiles: 128 rows of output pixels (SIMT: volta_scudnn_128x128,
# 128x64, 128x32) and at least 128 on tensor cores (volta_fp16_s884cudnn_fp16_256x128,
# 128x128, ...), unlike cuBLAS's menu, which goes down to 32×32 (kernels.py).
CUDNN_SIMT_MENU = tuple(t for t in SIMT_MENU if t.bm == 128)
CUDNN_TENSOR_MENU = tuple(t for t in TENSOR_MENU if t.bm >= 128)


def _tile_menu(precision: Precision, slots: int) -> tuple[TileConfig, ...]:
    if precision is not Precision.FP32:
        return CUDNN_TENSOR_MENU
    return tuple(dataclasses.replace(t, math_issue_slots=slots) for t in CUDNN_SIMT_MENU)


def implicit_choice(shape: ConvShape, tile: TileConfig, precision: Precision, spec: GPUSpec,
                    nhwc: bool) -> KernelChoice | None:
    """One implicit-GEMM kernel of `tile` over the layer (every group's rows in one grid)."""
    rows = shape.pixels * shape.groups
    depth = padded_depth(shape, tile.bk) if tile.tensor and not shape.pointwise \
        else shape.depth
    gathered = not vector_loads(shape, precision, nhwc)
    return tiled_kernel(tile, 1, rows, depth, shape.filters, spec, precision,
                        gathered=gathered)


def _best(choices: list[KernelChoice | None]) -> KernelChoice | None:
    found = [c for c in choices if c is not None]
    return min(found, key=lambda c: c.seconds) if found else None


def implicit_gemm(shape: ConvShape, precision: Precision, spec: GPUSpec, nhwc: bool,
                  precomputed: bool) -> Plan | None:
    """IMPLICIT_GEMM (address walk inline) or IMPLICIT_PRECOMP_GEMM (offsets from a table
    written by a small kernel first); a 1×1 stride-1 layer is a plain GEMM."""
    name = "implicit_precomp_gemm" if precomputed else "implicit_gemm"
    slots = 1 if precomputed or shape.pointwise else IMPLICIT_GEMM_ISSUE_SLOTS
    best = _best([implicit_choice(shape, t, precision, spec, nhwc)
                  for t in _tile_menu(precision, slots)])
    if best is None:
        return None
    main = gemm_kernel(best, f"{name} {best.name}")
    if not precomputed:
        return Plan(name, (main,))
    table = shape.depth * OFFSET_BYTES
    offsets = stream_launch(OFFSETS.name, OFFSETS, shape.depth, table, spec)
    return Plan(name, (offsets, main), table)


def batched_gemm(batch: int, m: int, k: int, n: int, precision: Precision,
                 spec: GPUSpec) -> KernelChoice:
    """`batch` independent GEMMs [m, k]·[k, n] in one grid (cuBLAS's batched GEMM): each
    one's rows padded to the tile, never shared with the next; the faster of the two
    orientations (Cᵀ = Bᵀ·Aᵀ puts n on the rows)."""
    menu = SIMT_MENU if precision is Precision.FP32 else TENSOR_MENU
    choices = [tiled_kernel(t, 1, batch * math.ceil(rows / t.bm) * t.bm, k, cols, spec,
                            precision)
               for t in menu for rows, cols in ((m, n), (n, m))]
    best = _best(choices)
    if best is None:
        return choose_kernel(batch * m, k, n, spec, precision)
    return best


def explicit_gemm(shape: ConvShape, precision: Precision, spec: GPUSpec) -> Plan:
    """GEMM: im2col writes the [P, C·R·S] buffer, a plain GEMM reads it."""
    b = precision.bytes
    rows = shape.pixels * shape.groups
    buffer = rows * shape.depth * b
    im2col = stream_launch(IM2COL.name, IM2COL, rows * shape.depth,
                           shape.input_elements * b + buffer, spec)
    choice = choose_kernel(rows, shape.depth, shape.filters, spec, precision)
    return Plan("gemm", (im2col, gemm_kernel(choice)), buffer)


@dataclass(frozen=True)
class WinogradShape:
    """F(m×m, 3×3): α = m + 2 points per side, T tiles of m×m outputs per image plane."""

    m: int
    tiles: int  # T over the batch

    @property
    def alpha(self) -> int:
        return self.m + 2

    @property
    def points(self) -> int:
        return self.alpha ** 2

    @classmethod
    def of(cls, shape: ConvShape, m: int) -> WinogradShape:
        ho, wo = shape.out_hw
        return cls(m, shape.batch * math.ceil(ho / m) * math.ceil(wo / m))


def winograd_plan(shape: ConvShape, m: int, precision: Precision, spec: GPUSpec) -> Plan:
    """WINOGRAD_NONFUSED with F(m×m, 3×3): three transforms and the α² batched GEMMs."""
    w = WinogradShape.of(shape, m)
    b = precision.bytes
    c, k, g = shape.channels, shape.filters, shape.groups
    a, p = w.alpha, w.points
    data = p * w.tiles * c * g
    filt = p * c * k * g
    out = p * w.tiles * k * g
    input_ops = data * (2 * a + 8)
    output_ops = shape.output_elements * (a * (a + m)) // m
    kernels = (
        stream_launch(f"{WINOGRAD_INPUT.name} F({m}x{m},3x3)", WINOGRAD_INPUT, data,
                      (shape.input_elements + data) * b, spec, extra_alu_ops=input_ops),
        stream_launch(f"{WINOGRAD_FILTER.name} F({m}x{m},3x3)", WINOGRAD_FILTER, filt,
                      (9 * c * k * g + filt) * b, spec, extra_alu_ops=filt * 2 * a),
        gemm_kernel(batched_gemm(p * g, w.tiles, c, k, precision, spec)),
        stream_launch(f"{WINOGRAD_OUTPUT.name} F({m}x{m},3x3)", WINOGRAD_OUTPUT,
                      shape.output_elements, (out + shape.output_elements) * b, spec,
                      extra_alu_ops=output_ops),
    )
    return Plan("winograd", kernels, (data + filt + out) * b)


def winograd(shape: ConvShape, precision: Precision, spec: GPUSpec) -> Plan | None:
    if not shape.unit_stride_3x3:
        return None
    return min((winograd_plan(shape, m, precision, spec) for m in WINOGRAD_TILES),
               key=lambda plan: plan.seconds)


def fft_size(shape: ConvShape) -> tuple[int, int]:
    """The transform's plane: the input padded by the filter, rounded up to even."""
    (h, w), (r, s), pad = shape.in_hw, shape.kernel, shape.padding
    hf = h + pad[0] + pad[2] + r - 1
    wf = w + pad[1] + pad[3] + s - 1
    return hf + hf % 2, wf + wf % 2


def fft(shape: ConvShape, precision: Precision, spec: GPUSpec) -> Plan | None:
    """FFT: forward transforms of the input and filter planes, a complex GEMM per frequency
    bin summing over C, inverse transforms of the output planes. fp32 only (cuDNN 7's FFT
    runs single precision), stride 1, no dilation."""
    if shape.stride != (1, 1) or shape.dilation != (1, 1) or precision is not Precision.FP32:
        return None
    hf, wf = fft_size(shape)
    bins = hf * (wf // 2 + 1)
    points = hf * wf
    flops = 5 * points * math.log2(points)  # one radix-2 transform of a plane
    n, c, k, g = shape.batch, shape.channels, shape.filters, shape.groups
    complex_bytes = 8
    planes_in, planes_filter, planes_out = n * c * g, k * c * g, n * k * g
    kernels = (
        stream_launch(f"{FFT.name} (input)", FFT, planes_in * bins,
                      shape.input_elements * 4 + planes_in * bins * complex_bytes, spec,
                      extra_alu_ops=planes_in * flops),
        stream_launch(f"{FFT.name} (filter)", FFT, planes_filter * bins,
                      (c * k * g * shape.taps * 4 + planes_filter * bins * complex_bytes),
                      spec, extra_alu_ops=planes_filter * flops),
        gemm_kernel(batched_gemm(bins * g, n, c, 4 * k, precision, spec), "fft complex gemm"),
        stream_launch(IFFT.name, IFFT, planes_out * bins,
                      planes_out * bins * complex_bytes + shape.output_elements * 4, spec,
                      extra_alu_ops=planes_out * flops),
    )
    workspace = (planes_in + planes_filter + planes_out) * bins * complex_bytes
    return Plan("fft", kernels, workspace)


def plan(algorithm: str, shape: ConvShape, precision: Precision, spec: GPUSpec,
         nhwc: bool) -> Plan | None:
    """The named algorithm's kernels for the layer, None where it cannot run it."""
    if algorithm == "implicit_gemm":
        return implicit_gemm(shape, precision, spec, nhwc, precomputed=False)
    if algorithm == "implicit_precomp_gemm":
        return implicit_gemm(shape, precision, spec, nhwc, precomputed=True)
    if algorithm == "gemm":
        return explicit_gemm(shape, precision, spec)
    if algorithm == "winograd":
        return winograd(shape, precision, spec)
    if algorithm == "fft":
        return fft(shape, precision, spec)
    return None  # "direct": depthwise layers only (conv.py)


ALGORITHMS = ("implicit_gemm", "implicit_precomp_gemm", "gemm", "winograd", "fft")


@lru_cache(maxsize=4096)
def candidates(shape: ConvShape, precision: Precision, spec: GPUSpec,
               nhwc: bool) -> tuple[Plan, ...]:
    """Every algorithm that can run the layer, each with its fastest tile."""
    plans = (plan(name, shape, precision, spec, nhwc) for name in ALGORITHMS)
    return tuple(p for p in plans if p is not None)


def fastest(shape: ConvShape, precision: Precision, spec: GPUSpec, nhwc: bool) -> Plan:
    """cudnnFind's choice: the minimum over the candidates."""
    return min(candidates(shape, precision, spec, nhwc), key=lambda p: p.seconds)
