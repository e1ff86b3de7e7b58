"""nn.Linear as PyTorch runs it through cuBLAS and cuBLASLt: which kernels, timed how.

PyTorch calls `addmm` (cuBLASLt with the bias in the GEMM's epilogue) for a 2-D input, and
`matmul` then a separate broadcast bias add for a non-contiguous input, such as the output of
a batch-first cuDNN RNN (PyTorch's `linear` takes the fused path only for contiguous input).
cuBLASLt's choice for the fused GEMM depends on the shape (`LINEAR_RULES`, data; source: the
kernel lists of accelsim/measure/data/gpu-h200-network-2026-11-27.json):

- "splitk-atomic": LeNet-5's fc layers (M = 64 rows; N = 80 and 10) ran as four kernels: a
  Memset, `scal_kernel` (C = 0·C), `sgemm_largek_lds64<true, false, 5, 5, 4, 4, 4, 34>` that
  accumulates K slices into C, and `cublasLt::epilogue` adding the bias. The GEMM is a
  pre-Ampere SIMT kernel: a 32×32 CTA tile of 4×4 thread tiles (template: log2 sizes 5, 5;
  4, 4) over slices of 8, register-staged with ONE slice in flight (a single shared-memory
  buffer, `staged_depth` 2): its measured 10.3 and 8.5 µs (K = 120, 80) are what one exposed
  memory round trip per slice gives (the model: 11.2 and 8.2); two in flight would give 5-6.
  A longer K is split across CTAs (that is what the atomics into a zeroed C are for): the
  kernel runs at its fastest split (gemm.py `fastest_split`: partial GEMMs of K / split, the
  partials added into C in L2) with each CTA walking at least `LARGEK_MIN_K`, so a 2048→10
  layer at batch 64 takes ~12 µs, not one CTA column walking 256 slices (155 µs).
- "fused": at 4,096 rows the same layers ran one `sm80_xmma_gemm` with the bias fused; timed
  as the fastest menu kernel (gemm.py), as cuBLAS's tuned heuristic picks for plain GEMMs.

The splitk-atomic rows' range is inferred where no list shows it: LeNet-5's device times need
it at batch 256 and 1,024 (without it they come out 11-21% and 5-9% short) and not at
batch 16 (the network leaves no room for its four kernels there: one GEMM each); the LSTM's
gate GEMMs of a step loop (N = 512) take one fused GEMM at batch 64 (the measured step leaves
no room for two splitk-atomic paths), hence N ≤ 128. Tensor-core precisions have no list:
the same rows are assumed (fp16 LeNet-5 at batch 64 and 256 is ~9 µs, 10%, short without
them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accelsim.ir import Gemm
from accelsim.machines.gpu.conv import staged_spec
from accelsim.machines.gpu.elementwise import EPILOGUE, FILL, bias_add, stream_launch
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel, fastest_split
from accelsim.machines.gpu.kernels import TileConfig
from accelsim.machines.gpu.launches import Kernel
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

# 64 registers a thread: assumed (no Nsight record of this kernel).
LARGEK_TILE = TileConfig("sgemm_largek_lds64", 32, 32, 8, 1, 2, 2, 64, staged_depth=2)
# The K each of its CTAs walks at least (an assumption, the smallest power of two the lists
# allow): LeNet-5's fc1 (K = 120) ran unsplit (10.3 µs, one slice in flight: 15 round trips).
LARGEK_MIN_K = 128


class LinearPath(StrEnum):
    """cuBLASLt's two ways of running addmm (see the module docstring)."""

    SPLITK_ATOMIC = "splitk-atomic"
    FUSED = "fused"


# The splitk-atomic rows' range (see the module docstring): M from 33 to 1,024, N ≤ 128.
SPLITK_MIN_ROWS = 33
SPLITK_MAX_ROWS = 1024
SPLITK_MAX_COLUMNS = 128


@dataclass(frozen=True)
class LinearRule:
    """cuBLASLt's path for addmm with `min_m` ≤ M ≤ `max_m` rows and N ≤ `max_n` columns
    (0: any) on tensor cores or not."""

    path: LinearPath
    tensor: bool
    min_m: int = 1
    max_m: int = 0
    max_n: int = 0

    def matches(self, m: int, n: int, tensor: bool) -> bool:
        return (self.tensor == tensor and self.min_m <= m
                and (not self.max_m or m <= self.max_m) and (not self.max_n or n <= self.max_n))


LINEAR_RULES = (
    LinearRule(LinearPath.SPLITK_ATOMIC, False, min_m=SPLITK_MIN_ROWS, max_m=SPLITK_MAX_ROWS,
               max_n=SPLITK_MAX_COLUMNS),
    LinearRule(LinearPath.FUSED, False),
    LinearRule(LinearPath.SPLITK_ATOMIC, True, min_m=SPLITK_MIN_ROWS, max_m=SPLITK_MAX_ROWS,
               max_n=SPLITK_MAX_COLUMNS),
    LinearRule(LinearPath.FUSED, True),
)


def linear_path(m: int, n: int, precision: Precision) -> LinearPath:
    """The first rule of `LINEAR_RULES` that matches an addmm of M rows and N columns."""
    tensor = precision is not Precision.FP32
    return next(r.path for r in LINEAR_RULES if r.matches(m, n, tensor))


def gemm_kernel(choice: KernelChoice) -> Kernel:
    """A GEMM choice as a launch (two with a split-K reduction kernel, counted in)."""
    launches = 2 if choice.split_k > 1 else 1
    name = choice.name + (" + splitKreduce_kernel" if launches > 1 else "")
    return Kernel(name, choice.seconds, Category.COMPUTE, choice.dram_bytes, choice.bound,
                  choice, launches)


def addmm_kernels(op: Gemm, precision: Precision, spec: GPUSpec) -> tuple[Kernel, ...]:
    """nn.Linear on a contiguous input: cuBLASLt's addmm (or a plain GEMM without bias)."""
    if op.bias and linear_path(op.m, op.n, precision) is LinearPath.SPLITK_ATOMIC:
        return _splitk_atomic(op, precision, spec)
    return (gemm_kernel(choose_kernel(op.m, op.k, op.n, spec, precision)),)


def matmul_add_kernels(op: Gemm, precision: Precision, spec: GPUSpec) -> tuple[Kernel, ...]:
    """nn.Linear on a non-contiguous input: a GEMM, then the bias in a broadcast add."""
    gemm = gemm_kernel(choose_kernel(op.m, op.k, op.n, spec, precision))
    if not op.bias:
        return (gemm,)
    return gemm, bias_add(op.m * op.n, op.n, precision, spec)


def _splitk_atomic(op: Gemm, precision: Precision, spec: GPUSpec) -> tuple[Kernel, ...]:
    """Memset, C = 0·C, the K slices accumulated into C, then the bias epilogue."""
    out = op.m * op.n
    b = precision.bytes
    choice = fastest_split(LARGEK_TILE, op.m, op.k, op.n, staged_spec(spec), precision,
                           atomic=True, min_k=LARGEK_MIN_K) or \
        choose_kernel(op.m, op.k, op.n, spec, precision)
    return (stream_launch("Memset", FILL, 1, 0, spec),
            stream_launch("scal_kernel", FILL, out, out * b, spec),
            Kernel(choice.name, choice.seconds, Category.COMPUTE, choice.dram_bytes,
                   choice.bound, choice),
            stream_launch(EPILOGUE.name, EPILOGUE, out, (2 * out + op.n) * b, spec))
