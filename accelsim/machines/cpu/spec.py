"""Multi-core SIMD CPU specifications, as data. Units are in the field names.

A core retires `fma_pipes` vector FMAs of `simd_lanes` fp32 lanes per cycle (2 flops per lane
per FMA; half as many where each pipe is half a vector wide, `fma_bits`); without FMA hardware
(`fma=False`) a multiply and an add port each take one vector per cycle, the same 2 flops per
lane per cycle. The BLAS library's micro-kernel is mr × nr (OpenBLAS's Haswell SGEMM kernel,
used on AVX2 and on AVX-512 machines under DYNAMIC_ARCH, is 16 × 4). Sources: Intel ARK and the
Xeon E5-2699 v3 / Platinum 8180 datasheets; Jouppi et al. 2017 for the TPU paper's Haswell (18
cores, 2.3 GHz, 1.3 TFLOPS, 51 GB/s); the book for its 2006 and 2017 CPUs, which it counts as 4
cores × 2 and 28 cores × 16 single-precision values per instruction (one vector instruction per
cycle and port).

`memory_bytes` (the DRAM that holds weights, activations and im2col workspaces; see
machines/capacity.py) is the server's configuration, not the chip's, so the presets' values
are assumptions: the Haswell at 256 GiB (the TPU paper's Haswell server), the Skylake 8180 at
384 GiB (12 × 32 GiB DIMMs, a typical two-socket configuration of 2017), the book's 2006 CPU at
4 GiB (a desktop of its day) and its 2017 CPU at 192 GiB (six channels × 32 GiB).

Power (accelsim/energy.py prices runs with it) is given per core, the uncore's share
included, so that `cpu-host` and recorded hosts (any core count) get a sensible default and a
`cores` what-if scales it: `tdp_watts` = cores × `tdp_watts_per_core`, `idle_watts` (the static
power over a run) = cores × `idle_watts_per_core`. The Haswell's figures are measured (Jouppi et
al. 2017, Table 2: 22 nm, 145 W TDP, 41 W idle per die); the other chips' idle is that idle
share of their TDP (41 / 145), an assumption. The defaults (cpu-host, recorded hosts) assume a
current 7 nm-class server core: an AMD EPYC 7763's 280 W over its 64 cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accelsim.energy import Activity, volts_ratio
from accelsim.errors import SpecError
from accelsim.ir import VectorKind
from accelsim.machines.cpu.power import Run, activity_of
from accelsim.machines.specs import SpecValue, check_spec, replace_spec
from accelsim.precision import Precision

ALU_CYCLES_PER_VECTOR = 1.0  # relu, add, mul: one vector ALU op (its latency hidden by the loop)
ALU_OPS_PER_VECTOR = {VectorKind.CLIP: 2.0, VectorKind.SCALE: 1.0}  # clip: max then min;
#                     batch norm's scale and shift: one FMA


@dataclass(frozen=True)
class CPUSpec:
    name: str
    cores: int
    clock_hz: float
    simd_lanes: int  # fp32 values per vector instruction
    fma_pipes: int  # vector FMA (or mul + add) instructions per cycle per core
    l1_bytes: int  # per core
    l2_bytes: int  # per core
    l3_bytes: int  # shared
    dram_bytes_per_s: float
    # Main memory capacity: cpu-host's is the host's MemTotal (measure/ reads it when it
    # calibrates); presets give their configuration (module docstring).
    memory_bytes: int = 16 * 2**30
    l2_bytes_per_cycle: float = 32.0  # sustained streaming per core
    l3_bytes_per_cycle: float = 20.0  # per core
    l2_latency_cycles: int = 14
    mr: int = 16
    nr: int = 4
    vnni: bool = False  # int8 dot products (4 int8 MACs per 32-bit lane)
    call_overhead_s: float = 1.0e-6  # one BLAS call from Python: dispatch, checks, setup
    # Waking each BLAS worker thread and joining it (OpenBLAS's exec_blas, per worker; blis.py).
    # measure/host.py measures it on cpu-host; presets keep this default. Fit: the 16-core Intel
    # VM's threaded GEMMs (measure/data/cpu-intel-16core-2026-11-27.json, gemm.rows), whose
    # median error is least at 2-2.5 µs per worker (a VM: bare metal is likely lower).
    thread_sync_s: float = 2.5e-6
    multithread_min_macs: int = 262_144  # OpenBLAS: below 65,536 × 4 MACs, one thread
    page_fault_s: float = 0.25e-6  # first touch of a fresh 4 KiB page of a big output
    # Page faults taken by several threads at once partly serialize (the kernel's page
    # allocator, LRU and memory-cgroup locks; in a VM, the host's own faults): t threads
    # fault t / (1 + page_fault_contention · (t − 1)) times as fast as one, the contention
    # term of Gunther's Universal Scalability Law. Fit: 64 MiB of fresh pages filled by ATen
    # on 1 and 2 threads on the 2-vCPU EPYC Zen 4 host, 8 fresh processes, 1.62-1.76 against
    # 1.07-1.20 µs a page (`micro.page_faults` of
    # measure/data/cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json; validation/cpu_layers.py
    # `fit_page_fault_contention`). Other hosts keep it unless their recorded file times it
    # (`micro.thread_costs_us`, measure/record_host.py); beyond 2 threads it is extrapolated.
    page_fault_contention: float = 0.33
    # Cycles this host's PyTorch host code (Python, the dispatcher, ideep's setup) takes over
    # the reference host's, where framework.py's host constants are fitted (the 2-vCPU EPYC
    # Zen 4 VM of measure/data/cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json): the same
    # small calls took the 2-vCPU EPYC Zen 3 VM 1.25-2.3× the cycles (median 1.44;
    # measure/recorded.py `framework_cycles_scale_of`). Hosts whose calls were not timed keep 1.
    framework_cycles_scale: float = 1.0
    fresh_output_bytes: int = 32 * 2**20  # glibc maps allocations above this fresh each call
    transcendental_cycles: float = 20.0  # per vector of exp/tanh (a polynomial and a divide)
    # Cycles from an FMA's issue to its result (Zen 2/3/4, Skylake-SP and later cores: 4;
    # Haswell: 5; without FMA the accumulating add's: Core 2's addps, 3; Agner Fog's
    # instruction tables): a kernel with fewer independent accumulators than latency ×
    # fma_pipes waits on it (framework.py: oneDNN's direct convolution on few channels).
    fma_latency_cycles: int = 4
    # One OpenMP parallel region (PyTorch's at::parallel_for, a oneDNN primitive, MKL): the
    # master publishing the work and the join barrier, plus each team member's wake-up and
    # barrier arrival (about one cross-core cache-line transfer, ~100 ns). Fit: ATen
    # max_pool2d on 2 planes of 2×2, 2 threads against 1 interleaved in one process, on a
    # 2-vCPU EPYC Zen 3 VM: +3.5 µs at 3.11 GHz (with the team's threads still spinning).
    fork_join_cycles: float = 11000.0
    fork_join_cycles_per_thread: float = 300.0
    # Width of one FMA pipe's datapath in bits; 0: a whole vector. AMD Zen 4 runs each 512-bit
    # FMA as two halves on its two 256-bit pipes, one 16-lane FMA a cycle (Agner Fog's
    # microarchitecture guide, Zen 4; measured here: OpenBLAS's unpacked small-matrix kernel
    # ran at half the two-pipe rate on the 2-vCPU EPYC Zen 4 host). It sets the peak and the
    # OpenBLAS kernels' issue arithmetic (blis.py); `vector_fmas_per_cycle`.
    fma_bits: int = 0
    fma_efficiency: float = 0.9  # sustained fraction of peak FMA issue in the micro-kernel
    # The same for PyTorch's BLAS (MKL) kernels behind aten::addmm (machines/cpu/mkl.py); 0:
    # as `fma_efficiency` (hosts where no PyTorch GEMM was timed). MKL takes its AVX2 path on
    # AMD CPUs: on the 2-vCPU EPYC Zen 4 host 0.46 of the AVX-512 peak against OpenBLAS's 0.60
    # (measure/host.py `mkl_efficiency`, from that host's timed nn.Linear calls).
    mkl_fma_efficiency: float = 0.0
    # Cycles per 4-byte weight MKL's kernels stream a matrix beyond L2 at, one thread, as the
    # host's timed batch-1 nn.Linear(4096, 1024) gives it (measure/host.py `mkl_stream_rate`:
    # 0.59 on the 2-vCPU EPYC Zen 4 host on one day, 0.35 on another: the L3 a VM shares with
    # its neighbours); 0: 4 B over the bandwidth of the level that holds the weights.
    mkl_stream_cycles_per_weight: float = 0.0
    # The same with every core busy, as the calibration's all-thread GEMM measures it against
    # the GEMM model: blis.py's threaded calls run at it (at most `fma_efficiency`);
    # framework.py's `derate` slows PyTorch's threaded loops by fma_efficiency / this.
    fma_efficiency_all_cores: float = 0.85
    # --- power (module docstring); defaults: a 7 nm-class server core (EPYC 7763) ---
    process_nm: float = 7.0
    tdp_watts_per_core: float = 280 / 64
    idle_watts_per_core: float = 280 / 64 * 41 / 145
    # The clock the supply is nominal at (energy.volts_ratio): 0, the default, is the spec's
    # own clock_hz, filled in when the spec is made, so a clock what-if moves the supply.
    nominal_clock_hz: float = 0.0
    source: str = ""

    # Overheads a what-if may remove entirely; idle power (energy from the work alone).
    may_be_zero: ClassVar[frozenset[str]] = frozenset(
        {"call_overhead_s", "thread_sync_s", "page_fault_s", "page_fault_contention",
         "idle_watts_per_core", "mkl_fma_efficiency", "mkl_stream_cycles_per_weight",
         "nominal_clock_hz", "fma_bits"})

    def __post_init__(self) -> None:
        check_spec(self)
        if not self.nominal_clock_hz:
            object.__setattr__(self, "nominal_clock_hz", self.clock_hz)
        for name in ("fma_efficiency", "fma_efficiency_all_cores", "mkl_fma_efficiency"):
            if getattr(self, name) > 1:
                raise SpecError(f"{self.name}: {name} = {getattr(self, name)!r} must be a "
                                "fraction of peak in (0, 1]; use at most 1")
        if self.page_fault_contention > 1:
            raise SpecError(f"{self.name}: page_fault_contention = "
                            f"{self.page_fault_contention!r} is the serial share of a page "
                            "fault, in [0, 1]; use at most 1")

    @property
    def vector_fmas_per_cycle(self) -> float:
        """Vector FMAs a core retires per cycle: `fma_pipes`, fewer where a pipe is narrower
        than a vector (`fma_bits`)."""
        if not self.fma_bits:
            return float(self.fma_pipes)
        return self.fma_pipes * min(1.0, self.fma_bits / (32 * self.simd_lanes))

    @property
    def mkl_efficiency(self) -> float:
        """PyTorch's BLAS kernels' sustained fraction of `fma_pipes` vector FMAs a cycle
        (`mkl_fma_efficiency`, else OpenBLAS's `fma_efficiency` of the peak rate)."""
        return self.mkl_fma_efficiency or \
            self.fma_efficiency * self.vector_fmas_per_cycle / self.fma_pipes

    @property
    def idle_watts(self) -> float:
        """Static power of the whole chip."""
        return self.cores * self.idle_watts_per_core

    @property
    def tdp_watts(self) -> float:
        return self.cores * self.tdp_watts_per_core

    @property
    def volts_ratio(self) -> float:
        """Supply over nominal at `clock_hz` (`energy.volts_ratio`)."""
        return volts_ratio(self.clock_hz, self.nominal_clock_hz)

    def activity(self, result: Run) -> Activity:
        """A run's instructions, register and cache bytes and active power (power.py)."""
        return activity_of(self, result)

    @property
    def memory_bytes_per_s(self) -> float:
        """Main memory's bandwidth (`dram_bytes_per_s`): the roofline's slope."""
        return self.dram_bytes_per_s

    @property
    def flops_per_cycle_per_core(self) -> float:
        return 2.0 * self.simd_lanes * self.vector_fmas_per_cycle

    @property
    def fp32_peak_flops(self) -> float:
        return self.cores * self.flops_per_cycle_per_core * self.clock_hz

    @property
    def precisions(self) -> frozenset[Precision]:
        return frozenset({Precision.FP32, Precision.INT8} if self.vnni else {Precision.FP32})

    def peak_ops_per_s(self, precision: Precision) -> float:
        if precision is Precision.INT8:
            return 4 * self.fp32_peak_flops  # vpdpbusd: 4 int8 MACs per 32-bit lane
        return self.fp32_peak_flops

    def vector_cycles(self, kind: VectorKind) -> float:
        """Cycles per SIMD vector of one element-wise kind: `transcendental_cycles` for the
        exp-based kinds (sigmoid, tanh, softmax), one ALU op for the others (relu, add, mul,
        copy, a batch norm's FMA), two for clip (max, then min)."""
        if kind.transcendental:
            return self.transcendental_cycles
        return ALU_OPS_PER_VECTOR.get(kind, 1.0) * ALU_CYCLES_PER_VECTOR

    def replace(self, **overrides: SpecValue) -> CPUSpec:
        return replace_spec(self, overrides)


HASWELL_IDLE_SHARE = 41 / 145  # the Haswell die's measured idle over its TDP (Table 2)

HASWELL = CPUSpec(
    name="cpu-haswell-e5-2699v3", cores=18, clock_hz=2.3e9, simd_lanes=8, fma_pipes=2,
    l1_bytes=32 * 1024, l2_bytes=256 * 1024, l3_bytes=45 * 2**20, dram_bytes_per_s=51e9,
    memory_bytes=256 * 2**30, fma_latency_cycles=5,
    process_nm=22.0, tdp_watts_per_core=145 / 18, idle_watts_per_core=41 / 18,  # Table 2
    source="Intel Xeon E5-2699 v3 (2014); Jouppi et al. 2017, Table 2")
SKYLAKE = CPUSpec(
    name="cpu-skylake-8180", cores=28, clock_hz=2.5e9, simd_lanes=16, fma_pipes=2,
    l1_bytes=32 * 1024, l2_bytes=1024 * 1024, l3_bytes=int(38.5 * 2**20),
    dram_bytes_per_s=128e9, memory_bytes=384 * 2**30, mr=32, nr=6,
    # 14 nm, 205 W TDP (Intel ARK); idle assumed HASWELL_IDLE_SHARE of it (58 W)
    process_nm=14.0, tdp_watts_per_core=205 / 28,
    idle_watts_per_core=205 / 28 * HASWELL_IDLE_SHARE,
    source="Intel Xeon Platinum 8180 (2017): 28 cores, AVX-512 with two FMA units")
BOOK_2006 = CPUSpec(
    name="cpu-book-2006", cores=4, clock_hz=2.66e9, simd_lanes=2, fma_pipes=1,
    l1_bytes=32 * 1024, l2_bytes=2 * 2**20, l3_bytes=8 * 2**20, dram_bytes_per_s=8.5e9,
    memory_bytes=4 * 2**30, mr=4, nr=4, fma_latency_cycles=3,
    # Assumed: the first 2.66 GHz quad-core of 2006, the Core 2 Extreme QX6700 (65 nm,
    # 130 W TDP, Intel ARK); idle HASWELL_IDLE_SHARE of it
    process_nm=65.0, tdp_watts_per_core=130 / 4,
    idle_watts_per_core=130 / 4 * HASWELL_IDLE_SHARE,
    source="The book's 2006 CPU: 4 cores × 2 single-precision values per instruction (a "
           "quad-core of 2006 at 2.66 GHz)")
BOOK_2017 = CPUSpec(
    name="cpu-book-2017", cores=28, clock_hz=1.7e9, simd_lanes=16, fma_pipes=1,
    l1_bytes=32 * 1024, l2_bytes=1024 * 1024, l3_bytes=int(38.5 * 2**20),
    dram_bytes_per_s=128e9, memory_bytes=192 * 2**30, mr=32, nr=6,
    # Assumed: the Skylake 8180's power (14 nm, 205 W), the 28-core AVX-512 Xeon of 2017
    process_nm=14.0, tdp_watts_per_core=205 / 28,
    idle_watts_per_core=205 / 28 * HASWELL_IDLE_SHARE,
    source="The book's 2017 CPU: 28 cores × 16 single-precision values per instruction (a "
           "28-core AVX-512 Xeon at its 1.7 GHz AVX-512 clock)")

CPU_SPECS: dict[str, CPUSpec] = {s.name: s for s in (HASWELL, SKYLAKE, BOOK_2006, BOOK_2017)}
