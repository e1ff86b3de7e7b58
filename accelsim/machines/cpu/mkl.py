"""fp32 GEMM as PyTorch's x86 BLAS (MKL) runs aten::addmm, `x @ Wᵀ` with the weights W
transposed in place (MKL_VERBOSE: `SGEMM(T,N,out,batch,in,...)`): up to `GEMV_ROWS` rows go
through a GEMV per row, each streaming the weights once; more rows pack the weights, then run
the packed kernel.

Timing model of one call, `m` rows × `k` inputs × `n` outputs, weights k·n floats:

- GEMV (m ≤ `GEMV_ROWS`): m passes of k·n · max(`GEMV_CYCLES_PER_WEIGHT`, the cycles a
  weight takes to stream from where it lives), on one thread while the weights stay in cache
  (no GEMV of the grid, up to 16 MiB of weights, ran faster on 2 threads than on 1); beyond,
  every core streams a band of the outputs from the shared DRAM.
- GEMM (m > `GEMV_ROWS`): packing, k·n · `PACK_BYTES_PER_WEIGHT` streamed from where the
  weights and their packed copy live, on the calling thread; each thread's rows read and its
  outputs written (read for ownership) from where they live (`rows_cycles`); then
  m·k·n FMAs at the host's MKL rate: `fma_pipes × simd_lanes × spec.mkl_efficiency` per cycle
  (at most the core's peak, `vector_fmas_per_cycle` vectors), outputs padded to whole vectors,
  the rows split over the threads `MKL_ROWS_PER_THREAD` at a time (4 rows ran no faster on 2
  threads than on 1, 8 rows 1.15–1.35× faster, at every weight shape of the grid).
- A threaded call costs one OpenMP region (framework.region_s).

Rows and outputs (`rows_cycles`): ATen's slow_conv2d runs a 1×1 convolution as one addmm
whose rows are the pixels. 64 → 64 channels over 112² (12,544 rows, 3 MiB in and 3 MiB out)
ran 1.24 ms into a preallocated output where its FMAs at the MKL rate take 0.96 ms. With the
rows and outputs streamed, the recorded one-thread 1×1 convolutions on that path went from
−50%…+10% to −34%…+22%, and the layer file's fitted Linear rows lost their two beyond 2×
(1,024 rows × 256 → 10).

Streaming (`stream_cycles_per_weight`): at L2's bandwidth up to `l2_bytes`; beyond, at the
host's measured MKL streaming rate (`spec.mkl_stream_cycles_per_weight`, from a timed batch-1
nn.Linear(4096, 1024): on the same kind of 2-vCPU VM 0.59 cycles a weight one day and 0.35
another, a VM's L3 being shared with its neighbours) and never faster than the bandwidth of
the level that holds the weights: L3 up to half of it (`blis.RESIDENT_SHARE`), else DRAM
shared by the threads.

Fits (measure/data/cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json: nn.Linear over 1–128 rows ×
five weight shapes of 256 KiB to 16 MiB, 1 and 2 threads, PyTorch 2.13 / MKL 2024.2 on the
2-vCPU AMD EPYC (Zen 4) development host): 2 and 3 rows cost 2 and 3 one-row calls; the
packing's traffic is the least squares of the relative error over the grid's packed rows at
one thread (`measure.host.fit_mkl_packing`). The slope in m is the FMA rate: 12–14
FMAs per cycle, where OpenBLAS reaches 19 (MKL takes its AVX2 path on AMD CPUs);
`mkl_fma_efficiency` is measured per host from its timed nn.Linear calls (measure/host.py
`mkl_efficiency`: 0.46 of the AVX-512 peak on that host, from the even `linear` rows of
measure/data/cpu-epyc-zen4-2vcpu-2026-12-07.json). Held to the odd `linear` rows and the
GRU/RNN rows (ATen's addmm per step) by validation/cpu_layers.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.machines.cpu.blis import FLOAT, RESIDENT_SHARE, beyond_l3_share
from accelsim.machines.cpu.spec import CPUSpec

GEMV_ROWS = 3  # addmm of up to 3 rows runs a GEMV per row (grid: 2 and 3 rows cost 2 and 3
#               one-row calls at every weight shape; 4 rows already run the packed kernel)
GEMV_CYCLES_PER_WEIGHT = 0.25  # MKL's transposed SGEMV in cache: a dot product per output
#                                (fit: the even row nn.Linear(784, 256) at batch 1, 21.1 µs)
PACK_BYTES_PER_WEIGHT = 6.7  # packing's traffic per 4-byte weight, streamed from where the
#                              weights live (fit: least squares over the grid's packed rows at
#                              one thread, `measure.host.fit_mkl_packing`; a free per-weight
#                              cycle term came out at -0.03, nothing)
MKL_ROWS_PER_THREAD = 4  # the packed kernel's rows per thread (grid: 4 rows on one thread)


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


def stream_cycles_per_weight(spec: CPUSpec, size_bytes: int, threads: int) -> float:
    """Cycles per 4-byte weight `threads` cores stream a matrix of `size_bytes` at from where
    it lives: L2's bandwidth, beyond it the host's measured MKL rate
    (`mkl_stream_cycles_per_weight`, shared by the threads) and never above the bandwidth of
    the level that holds it."""
    bandwidth = FLOAT / weights_bytes_per_cycle(spec, size_bytes, threads)
    if size_bytes <= spec.l2_bytes:
        return bandwidth
    return max(bandwidth, spec.mkl_stream_cycles_per_weight / threads)


def gemv(spec: CPUSpec, m: int, k: int, n: int) -> MklCall:
    """`m` one-row passes over the weights (module docstring)."""
    weights = k * n * FLOAT
    threads = spec.cores if beyond_l3_share(spec, weights) else 1
    per_weight = max(GEMV_CYCLES_PER_WEIGHT / threads,
                     stream_cycles_per_weight(spec, weights, threads))
    return MklCall(0.0, m * k * n * per_weight / spec.clock_hz, threads)


def pack_cycles(spec: CPUSpec, k: int, n: int) -> float:
    """Cycles to pack a k × n weight matrix on one thread (module docstring):
    `PACK_BYTES_PER_WEIGHT` streamed as the weights and their copy are."""
    streamed = stream_cycles_per_weight(spec, 2 * k * n * FLOAT, 1) / FLOAT
    return k * n * PACK_BYTES_PER_WEIGHT * streamed


def addmm(spec: CPUSpec, m: int, k: int, n: int, int8_scale: float = 1.0) -> MklCall:
    """One `m × k × n` addmm on `spec.cores` threads (module docstring); `int8_scale` divides
    the FMAs (VNNI). Threads are not slowed by the host's all-core derating (framework.derate,
    measured with OpenBLAS's AVX-512 kernels): MKL's AVX2 path ran 512 × 2048 × 1000 1.92×
    faster on 2 threads than on 1 on the Zen 4 host."""
    if m <= GEMV_ROWS:
        return gemv(spec, m, k, n)
    threads = max(1, min(spec.cores, m // MKL_ROWS_PER_THREAD))
    vectors = math.ceil(n / spec.simd_lanes)
    fmas = math.ceil(m / threads) * k * vectors * spec.simd_lanes / int8_scale
    memory = pack_cycles(spec, k, n) + rows_cycles(spec, m, k, n, threads)
    return MklCall(fmas / fmas_per_cycle(spec) / spec.clock_hz, memory / spec.clock_hz, threads)


def rows_cycles(spec: CPUSpec, m: int, k: int, n: int, threads: int) -> float:
    """Cycles `threads` cores take to stream the rows in (m·k) and the outputs out (m·n, each
    line read for ownership and written back) from where they live, each core its own rows
    (`stream_cycles_per_weight` of the threads together):
    nothing to speak of for a Linear's few rows, the bulk of a tall GEMM's time beside its
    FMAs (ATen's slow_conv2d: the pixels are the rows)."""
    size = (m * k + m * n) * FLOAT
    return (m * k + 2 * m * n) * stream_cycles_per_weight(spec, size, threads)
