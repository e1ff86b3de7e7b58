"""fp32 GEMM as PyTorch's x86 BLAS (MKL) runs aten::addmm, `x @ Wᵀ` with the weights W
transposed in place (MKL_VERBOSE: `SGEMM(T,N,out,batch,in,...)`): one row (batch 1) goes to a
GEMV that streams the weights once; more rows pack the whole weight matrix on every call,
then run the packed kernel.

Timing model of one call, `m` rows × `k` inputs × `n` outputs, weights k·n floats:

- GEMV (m = 1): k·n · max(cycles per weight, 4 B / bandwidth of the level that holds the
  weights): a dot product per output, `GEMV_CYCLES_PER_WEIGHT` with the weights in L2 (one
  thread), `GEMV_BEYOND_L2_CYCLES_PER_WEIGHT` beyond (every thread a band of the outputs),
  and no faster than the shared DRAM where the weights live there.
- GEMM (m ≥ 2): packing k·n · `PACK_BYTES_PER_WEIGHT` / bandwidth (read the weights, write the
  packed copy, its write-allocate read, the kernel's read of it), on the calling thread, plus
  m·k·n FMAs at the host's MKL rate: `fma_pipes × simd_lanes × spec.mkl_efficiency` per cycle
  (at most the core's peak, `vector_fmas_per_cycle` vectors), split over every core with a
  vector of outputs: MKL threads even small calls (on the Zen 4 host F.linear of 2–8 rows × 256²
  weights ran no faster on 2 threads than on 1), where OpenBLAS keeps calls under 262,144 MACs
  on one thread.
- A threaded call costs one OpenMP region (framework.region_s).

Where the weights live: L2 up to `l2_bytes`, L3 up to half of it (`blis.RESIDENT_SHARE`: a VM
shares its L3 with neighbours), else DRAM shared by the threads.

Measured on the 2-vCPU AMD EPYC (Zen 4) development host, PyTorch 2.13 / MKL 2024.2, one
thread, F.linear on 1–256 rows of 256² to 2048² weights (best of many calls): time per weight
element is an intercept plus a slope in m. The slope is the FMA rate: 12–13 FMAs per cycle,
where OpenBLAS (the calibration's BLAS) reaches 19 (MKL takes its AVX2 path on AMD CPUs);
`mkl_fma_efficiency` is measured per host from its timed nn.Linear calls
(measure/host.py `mkl_efficiency`: 0.46 of the AVX-512 peak on that host, from the even
`linear` rows of measure/data/cpu-epyc-zen4-2vcpu-2026-12-07.json). The intercept is the
packing: 0.50 cycles per weight in L2 (16 B at 32 B/cycle), 1.0 for 4 MiB, 1.3–1.5 for
12–16 MiB (the model: 0.5, 0.8 and 1.9). Batch 1 costs 0.25–0.45 cycles per weight in cache
and 0.6 for 12–16 MiB. Held to the odd `linear` rows by validation/cpu_layers.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.machines.cpu.blis import FLOAT, RESIDENT_SHARE
from accelsim.machines.cpu.spec import CPUSpec

GEMV_CYCLES_PER_WEIGHT = 0.25  # MKL's transposed SGEMV in cache: a dot product per output
#                                (fit: the even row nn.Linear(784, 256) at batch 1, 21.1 µs)
GEMV_BEYOND_L2_CYCLES_PER_WEIGHT = 0.59  # the same streaming weights from beyond L2, per core
#                                         (fit: the even row nn.Linear(4096, 1024) at batch 1,
#                                         one thread, 688.8 µs; 0.37-0.64 in the F.linear grid)
PACK_BYTES_PER_WEIGHT = 16  # read 4 + write 4 + write-allocate 4 + the kernel's read 4


@dataclass(frozen=True)
class MklCall:
    """One addmm's seconds: the packed kernel's FMAs, the weights' packing or streaming, and
    the threads MKL ran it on."""

    kernel_s: float
    memory_s: float
    threads: int


def weights_bytes_per_cycle(spec: CPUSpec, size_bytes: int, threads: int) -> float:
    """Bytes per cycle the cores stream a weight matrix of `size_bytes` from where it lives."""
    if size_bytes <= spec.l2_bytes:
        return spec.l2_bytes_per_cycle * threads
    if size_bytes <= spec.l3_bytes * RESIDENT_SHARE:
        return spec.l3_bytes_per_cycle * threads
    return min(spec.l3_bytes_per_cycle * threads, spec.dram_bytes_per_s / spec.clock_hz)


def fmas_per_cycle(spec: CPUSpec) -> float:
    """MKL's sustained fp32 FMAs per cycle and core on this host (at most its peak)."""
    return spec.simd_lanes * min(spec.fma_pipes * spec.mkl_efficiency,
                                 spec.vector_fmas_per_cycle)


def addmm(spec: CPUSpec, m: int, k: int, n: int, int8_scale: float = 1.0) -> MklCall:
    """One `m × k × n` addmm on `spec.cores` threads (module docstring); `int8_scale` divides
    the FMAs (VNNI). Threads are not slowed by the host's all-core derating (framework.derate,
    measured with OpenBLAS's AVX-512 kernels): MKL's AVX2 path ran 512 × 2048 × 1000 1.92×
    faster on 2 threads than on 1 on the Zen 4 host."""
    weights = k * n * FLOAT
    if m == 1:
        in_l2 = weights <= spec.l2_bytes
        threads = 1 if in_l2 else spec.cores
        per_core = GEMV_CYCLES_PER_WEIGHT if in_l2 else GEMV_BEYOND_L2_CYCLES_PER_WEIGHT
        per_weight = max(per_core / threads,
                         FLOAT / weights_bytes_per_cycle(spec, weights, threads))
        return MklCall(0.0, k * n * per_weight / spec.clock_hz, threads)
    vectors = math.ceil(n / spec.simd_lanes)
    threads = min(spec.cores, vectors)
    held = weights_bytes_per_cycle(spec, 2 * weights, 1)  # the weights and their packed copy
    pack = weights * PACK_BYTES_PER_WEIGHT / FLOAT / held
    fmas = m * k * vectors * spec.simd_lanes / int8_scale / threads
    return MklCall(fmas / fmas_per_cycle(spec) / spec.clock_hz, pack / spec.clock_hz, threads)
