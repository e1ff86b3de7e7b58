"""`cpu-host`: the CPU this process runs on, detected and calibrated (the edge of the world:
this module reads /proc and sysfs and times the host; the CPU model itself stays pure).

Detected: cores available to this process, vector extensions (/proc/cpuinfo flags), cache
sizes (/sys/devices/system/cpu/cpu0/cache), the BLAS library's kernel family and thread count
(threadpoolctl). Calibrated with short measurements (about a second, once per process): the
core clock (`clock.measure_clock_hz`), memory
bandwidth from a dot product over a 128 MiB array, the cost of one small BLAS call from
Python, the cost of first-touching fresh pages, the micro-kernel's sustained FMA rate
from one in-cache 384³ GEMM on one and on all threads (the host's measured peak, like the
GPU's measured peaks), and the cost of each BLAS worker thread (waking and joining it) from a
GEMM that OpenBLAS spreads over every core with little work each.
"""

from __future__ import annotations

import importlib.util
import math
import mmap
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from accelsim.ir import Gemm
from accelsim.machines.cpu import framework, mkl
from accelsim.machines.cpu.blis import predict
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")
# BLAS kernel families → (fp32 lanes the kernels use, mr, nr)
KERNELS = {"haswell": (8, 16, 4), "zen": (8, 16, 4), "skylakex": (16, 16, 4),
           "cooperlake": (16, 16, 4), "sapphirerapids": (16, 16, 4),
           "sandybridge": (8, 16, 4), "nehalem": (4, 8, 4), "core2": (4, 8, 4)}


def measure_bandwidth(size_bytes: int = 128 * 2**20) -> float:
    """Bytes per second streaming a large array through a BLAS dot product (best of three)."""
    data = np.ones(size_bytes // 8, np.float32)
    best = np.inf
    for _ in range(3):
        started = time.perf_counter()
        np.dot(data, data)
        best = min(best, time.perf_counter() - started)
    return size_bytes / 2 / best


def measure_call_overhead(repeats: int = 2000) -> float:
    """Seconds of one tiny BLAS call from Python (median over rounds)."""
    a = np.ones((1, 1), np.float32)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeats):
            a @ a
        rounds.append((time.perf_counter() - started) / repeats)
    return float(np.median(rounds))


Shape = tuple[int, int, int]  # m, k, n
CALIBRATION_GEMM: Shape = (384, 384, 384)


def gemm_seconds(m: int, k: int, n: int, rounds: int = 5, threads: int | None = None) -> float:
    """Median seconds of numpy's float32 `a @ b` (rounds of ~3 ms after a warm-up), with
    the BLAS limited to `threads` when given."""
    rng = np.random.default_rng(1)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        started = time.perf_counter()
        a @ b
        calls = int(min(5000, max(1, 3e-3 / max(time.perf_counter() - started, 1e-7))))
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                a @ b
            times.append((time.perf_counter() - started) / calls)
    return float(np.median(times))


def fma_efficiency(spec: CPUSpec, measured_s: float, threads: int,
                   shape: tuple[int, int, int] = CALIBRATION_GEMM) -> float:
    """The sustained FMA rate of the BLAS micro-kernel as a fraction of the spec's peak: the
    efficiency at which the model reproduces the in-cache square GEMM (384³: 113 MFLOP, all
    operands in L2/L3, compute-bound on every x86 core) run on `threads` threads. On a shared
    host this also absorbs what busy sibling hyperthreads take from the FMA units. The GEMM
    model runs a threaded call at the all-thread figure (blis.py), and what it falls short of
    the one-thread figure by slows PyTorch's threaded loops (framework.py's `derate`)."""
    ideal = predict(spec.replace(fma_efficiency=1.0, fma_efficiency_all_cores=1.0, cores=threads),
                    *shape)
    rest = ideal.seconds - ideal.kernel_seconds
    return float(np.clip(ideal.kernel_seconds / max(measured_s - rest, 1e-9), 0.2, 1.0))


def calibrate_blas(spec: CPUSpec, one: float | None = None, everyone: float | None = None,
                   threaded: float | None = None) -> CPUSpec:
    """The spec with the BLAS's rates measured (or computed from given timings), each after
    what it depends on: the one-thread FMA efficiency, then the cost of each worker thread
    (`thread_sync`) and the all-thread efficiency (`settle_threads`: each threaded GEMM of the
    model runs at the all-thread rate and pays for its workers, so each depends on the
    other)."""
    one = one if one is not None else gemm_seconds(*CALIBRATION_GEMM, threads=1)
    spec = spec.replace(fma_efficiency=fma_efficiency(spec, one, 1))
    threaded = threaded if threaded is not None or spec.cores < 2 else \
        gemm_seconds(*thread_sync_shape(spec.cores))
    everyone = everyone if everyone is not None else gemm_seconds(*CALIBRATION_GEMM)
    sync = (thread_sync_shape(spec.cores), threaded) if threaded is not None else None
    return settle_threads(spec, sync, (CALIBRATION_GEMM, everyone))


SETTLE_ROUNDS = 4  # alternations of `settle_threads`: its changes shrink 10-30× a round


def settle_threads(spec: CPUSpec, sync: tuple[Shape, float] | None,
                   square: tuple[Shape, float] | None) -> CPUSpec:
    """`thread_sync_s` from the all-thread GEMM `sync` (shape, seconds) and
    `fma_efficiency_all_cores` from the all-thread GEMM `square`, alternately until they
    agree (the first from the one-thread efficiency); either is kept where its GEMM is None."""
    spec = spec.replace(fma_efficiency_all_cores=spec.fma_efficiency) if square else spec
    for _ in range(SETTLE_ROUNDS):
        if sync is not None and spec.cores > 1:
            spec = spec.replace(thread_sync_s=thread_sync(spec, sync[1], sync[0]))
        if square is not None:
            spec = spec.replace(fma_efficiency_all_cores=fma_efficiency(
                spec, square[1], spec.cores, square[0]))
    return spec


def thread_sync_shape(cores: int) -> tuple[int, int, int]:
    """A GEMM (m, k, n) that OpenBLAS runs on all `cores` threads, each a band of 64 rows
    (no packed piece passes between threads: n = 16 is under two `switch_ratio` columns, or
    the grid reshapes to row bands) with about 0.5 M MACs: its time is mostly the threads'
    wake-up and join."""
    return 64 * cores, 512, 16


def thread_sync(spec: CPUSpec, measured_s: float,
                shape: tuple[int, int, int] | None = None) -> float:
    """Seconds per worker thread at which the model reproduces `shape` (by default
    `thread_sync_shape`) timed on all threads (the spec's own value on one core: there is no
    worker to time)."""
    free = predict(spec.replace(thread_sync_s=0.0), *(shape or thread_sync_shape(spec.cores)))
    if free.threads < 2:
        return spec.thread_sync_s
    return float(np.clip((measured_s - free.seconds) / (free.threads - 1), 0.0, 1e-3))


Timed = tuple[int, int, int, float]  # m, k, n, measured seconds


def rederive(spec: CPUSpec, gemms: Sequence[Timed]) -> CPUSpec:
    """A recorded host's spec with today's calibration arithmetic (`calibrate_blas`) re-run on
    its own stored GEMMs, timed on all its cores (a recorded host's GEMM rows): `thread_sync_s`
    from the row the model runs on every core with a share of MACs per thread nearest
    `thread_sync_shape`'s and `fma_efficiency_all_cores` from the square GEMM nearest the
    384³ calibration GEMM (`settle_threads`). The one-thread `fma_efficiency` is kept (no row
    ran on one thread by choice). A value is kept where no row fits its step."""
    def per_thread(m: int, k: int, n: int) -> float:
        return m * k * n / max(predict(spec, m, k, n).threads, 1)

    target = per_thread(*thread_sync_shape(spec.cores)) if spec.cores > 1 else 0.0
    spread = [g for g in gemms if spec.cores > 1 and g[0] > 1
              and predict(spec, *g[:3]).threads == spec.cores]
    sync = min(spread, key=lambda g: abs(math.log(per_thread(*g[:3]) / target))) \
        if spread else None
    squares = [g for g in gemms if g[0] == g[1] == g[2]]
    square = min(squares, key=lambda g: abs(math.log(g[0] / CALIBRATION_GEMM[0]))) \
        if squares else None
    return settle_threads(spec, (sync[:3], sync[3]) if sync else None,
                          (square[:3], square[3]) if square else None)


def mkl_stream_rate(spec: CPUSpec, addmms: Sequence[Timed]) -> CPUSpec:
    """The spec with `mkl_stream_cycles_per_weight` measured from timed one-thread nn.Linear
    calls (m, k, n, seconds): for each batch-1 call whose weights lie beyond L2, the cycles
    per weight its GEMV took over the time the model leaves for it (the measured time less
    the framework's dispatch); the median. Unchanged where no call qualifies."""
    one = spec.replace(cores=1)
    rates = []
    for m, k, n, measured in addmms:
        if m != 1 or k * n * mkl.FLOAT <= spec.l2_bytes:
            continue
        result = framework.linear(one, Gemm("linear", m, k, n), Precision.FP32)
        left = measured - (result.seconds - result.time[Category.MEMORY_STALL])
        if left > 0:
            rates.append(left * spec.clock_hz / (k * n))
    if not rates:
        return spec
    return spec.replace(mkl_stream_cycles_per_weight=float(np.median(rates)))


MKL_FIT_MIN_ROWS = 64  # addmm rows above which the packed kernel's FMAs dominate a call


def mkl_efficiency(spec: CPUSpec, addmms: Sequence[Timed]) -> CPUSpec:
    """The spec with `mkl_fma_efficiency` measured from timed one-thread nn.Linear calls
    (m, k, n, seconds; batch × in → out, bias included): for each call of at least
    `MKL_FIT_MIN_ROWS` rows and a vector of outputs, the share of peak its FMAs reach over the
    time the model leaves for the kernel (the measured time less the framework's dispatch,
    the weights' packing and the output's pages: framework.linear's other parts); the median.
    The spec is returned unchanged where no call qualifies."""
    one = spec.replace(cores=1)
    shares = []
    for m, k, n, measured in addmms:
        if m < MKL_FIT_MIN_ROWS or n < spec.simd_lanes:
            continue
        result = framework.linear(one, Gemm("linear", m, k, n), Precision.FP32)
        kernel = result.time[Category.COMPUTE]
        left = measured - (result.seconds - kernel)
        if left > 0:
            shares.append(one.mkl_efficiency * kernel / left)
    if not shares:
        return spec
    return spec.replace(mkl_fma_efficiency=min(1.0, float(np.median(shares))))


@dataclass(frozen=True)
class MklPackingFit:
    """PyTorch BLAS constants fitted on timed one-thread nn.Linear calls (`fit_mkl_packing`)."""

    bytes_per_weight: float
    fma_efficiency: float
    calls: int


def fit_mkl_packing(spec: CPUSpec, addmms: Sequence[Timed]) -> MklPackingFit:
    """mkl.py's packing traffic and the host's MKL FMA rate, fitted together on timed
    one-thread nn.Linear calls (m, k, n, seconds) of more than `mkl.GEMV_ROWS` rows: each
    call's time is the model's fixed part (dispatch, output pages, rows and outputs streamed)
    plus two terms linear in
    the unknowns (packing bytes per weight streamed as `mkl.stream_cycles_per_weight` streams
    them, FMAs at the efficiency's inverse); least squares of the relative error. The spec
    should carry the host's streaming rate."""
    one = spec.replace(cores=1)
    lanes = spec.simd_lanes
    rows, targets = [], []
    for m, k, n, measured in addmms:
        if m <= mkl.GEMV_ROWS:
            continue
        result = framework.linear(one, Gemm("linear", m, k, n), Precision.FP32)
        call = mkl.addmm(one, m, k, n)
        fixed = result.seconds - call.kernel_s - mkl.pack_cycles(one, k, n) / spec.clock_hz
        streamed = mkl.stream_cycles_per_weight(one, 2 * k * n * mkl.FLOAT, 1) / mkl.FLOAT
        fmas = m * k * math.ceil(n / lanes) * lanes / (lanes * spec.fma_pipes)
        terms = np.array([k * n * streamed, fmas]) / spec.clock_hz
        rows.append(terms / measured)
        targets.append(1.0 - fixed / measured)
    if len(rows) < 2:
        raise ValueError("fitting MKL's packing needs at least 2 calls of more than "
                         f"{mkl.GEMV_ROWS} rows")
    (nbytes, inverse), *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)
    return MklPackingFit(float(nbytes), float(1.0 / inverse), len(rows))


def measure_page_fault(size_bytes: int = 64 * 2**20) -> float:
    """Seconds per fresh 4 KiB page touched for the first time, in a private anonymous mapping
    as malloc's mmap gives PyTorch's tensors (best of five). A numpy array of this size would
    not do: numpy asks for transparent huge pages on large arrays, one fault per 2 MiB (0.4 µs
    per 4 KiB on the 2-vCPU EPYC Zen 4 host against 1.7 µs for 4 KiB pages)."""
    best = np.inf
    for _ in range(5):
        with mmap.mmap(-1, size_bytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS) as region:
            pages = np.frombuffer(region, np.uint8)
            started = time.perf_counter()
            pages[::4096] = 1
            best = min(best, time.perf_counter() - started)
            del pages
    return best / (size_bytes / 4096)


MKL_CALIBRATION_SHAPES = ((1, 4096, 1024), (64, 784, 256), (256, 512, 512), (512, 1024, 1024))


def measure_mkl(spec: CPUSpec) -> CPUSpec:
    """The spec with PyTorch's BLAS rates (`mkl_stream_cycles_per_weight`,
    `mkl_fma_efficiency`) measured where PyTorch is installed: nn.Linear (bias, inference mode)
    at one thread on `MKL_CALIBRATION_SHAPES`, the best of five calls each, fitted as
    `mkl_stream_rate` and `mkl_efficiency` do; unchanged without PyTorch."""
    if importlib.util.find_spec("torch") is None:
        return spec
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    timed = []
    try:
        with torch.inference_mode():
            for m, k, n in MKL_CALIBRATION_SHAPES:
                layer, x = torch.nn.Linear(k, n), torch.randn(m, k)
                layer(x)
                best = np.inf
                for _ in range(5):
                    started = time.perf_counter()
                    layer(x)
                    best = min(best, time.perf_counter() - started)
                timed.append((m, k, n, best))
    finally:
        torch.set_num_threads(threads)
    return mkl_efficiency(mkl_stream_rate(spec, timed), timed)


CPUINFO = Path("/proc/cpuinfo")


def cpuinfo(path: Path = CPUINFO) -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (name → value); empty where unreadable."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            break  # the end of the first processor's block
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> set[str]:
    return set(cpuinfo().get("flags", "").split())


def cpu_family(fields: dict[str, str] | None = None) -> tuple[str, int]:
    """(vendor_id, cpu family) of /proc/cpuinfo's fields; ("", 0) where it says nothing."""
    fields = cpuinfo() if fields is None else fields
    family = fields.get("cpu family", "")
    return fields.get("vendor_id", ""), int(family) if family.isdigit() else 0


ZEN4_FAMILY = 25  # AMD family 19h: Zen 3 and Zen 4 (only Zen 4 has AVX-512)


def fma_datapath_bits(flags: set[str], cpu: tuple[str, int] | None = None) -> int:
    """`CPUSpec.fma_bits`: 256 for AMD's family 19h with AVX-512 (Zen 4 splits a 512-bit
    FMA over its two 256-bit pipes), else 0 (each pipe a whole vector). Not detected: the
    mobile Zen 5 parts (family 1Ah) that keep 256-bit pipes, unlike the server ones."""
    vendor, family = cpu if cpu is not None else cpu_family()
    return 256 if vendor == "AuthenticAMD" and family == ZEN4_FAMILY and "avx512f" in flags \
        else 0


def cache_sizes() -> dict[int, int]:
    """Data/unified cache bytes per level for one core (L3: the whole shared cache)."""
    sizes = {}
    for index in sorted(CACHE_DIR.glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            level = int((index / "level").read_text())
            text = (index / "size").read_text().strip()
        except (OSError, ValueError):
            continue
        if kind == "Instruction":
            continue
        units = {"K": 1024, "M": 2**20, "G": 2**30}
        sizes[level] = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    return sizes


def blas_library() -> tuple[str, int]:
    """(kernel family, threads) of the BLAS numpy uses."""
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return str(info.get("architecture") or "haswell").lower(), info["num_threads"]
    return "haswell", 1


def blas_cores() -> int:
    """Cores the BLAS may use: those this process may run on, at most the BLAS's threads."""
    return min(len(os.sched_getaffinity(0)), blas_library()[1])


def memory_bytes() -> int | None:
    """Physical memory (MemTotal of /proc/meminfo), None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cpu_model_name() -> str:
    return cpuinfo().get("model name") or platform.processor() or platform.machine()


def fingerprint() -> dict[str, object]:
    """What identifies this host for a saved calibration: CPU model, cores available, vector
    extensions, the BLAS kernels and threads. A calibration made elsewhere is not reused."""
    flags = cpu_flags()
    family, threads = blas_library()
    return {"cpu": cpu_model_name(), "cores": len(os.sched_getaffinity(0)),
            "flags": sorted(flags & {"avx", "avx2", "fma", "avx512f", "avx512_vnni",
                                     "avx_vnni", "amx_tile"}),
            "blas": family, "blas_threads": threads}


def detect_host() -> CPUSpec:
    """The running machine as a CPUSpec, measured now (about a second)."""
    from accelsim.measure import clock  # numba, loaded only to measure the host

    flags = cpu_flags()
    caches = cache_sizes()
    family, threads = blas_library()
    lanes, mr, nr = KERNELS.get(family, (16 if "avx512f" in flags else 8, 16, 4))
    cores = blas_cores()
    spec = CPUSpec(
        name="cpu-host", cores=cores, clock_hz=clock.measure_clock_hz(), simd_lanes=lanes,
        fma_pipes=2 if "fma" in flags else 1, fma_bits=fma_datapath_bits(flags),
        l1_bytes=caches.get(1, 32 * 1024),
        l2_bytes=caches.get(2, 512 * 1024), l3_bytes=caches.get(3, 8 * 2**20),
        dram_bytes_per_s=measure_bandwidth(), mr=mr, nr=nr,
        vnni="avx512_vnni" in flags or "avx_vnni" in flags,
        call_overhead_s=measure_call_overhead(), page_fault_s=measure_page_fault(),
        source=f"measured on this host: {cpu_model_name()}, BLAS kernels {family}, "
               f"{threads} threads")
    return measure_mkl(calibrate_blas(spec))
