"""The multi-core SIMD CPU machine.

Timing model, two levels:

- One op on its own (`time_op`, `m.gemm`): GEMMs through the BLIS-style blocked algorithm of
  blis.py (packing, mr × nr micro-kernel with edge tiles, cache-resident bandwidths, threads
  with imbalance, the BLAS call overhead from Python); a convolution first builds its im2col
  matrix (read the input, write M × K values); element-wise ops stream their data through the
  SIMD units, with exp-based nonlinearities costing `transcendental_cycles` per vector;
  pooling reads each window. This is what numpy/OpenBLAS does, and what the GEMM validation
  (`accelsim validate cpu-host`) holds against measurements.
- A whole network (`time_workload`, `run`): as PyTorch's eager CPU runtime executes it,
  layer after layer (framework.py): per-op framework dispatch, oneDNN's direct convolution
  with its per-call setup and layout reorders, ATen's pooling loop, element-wise ops, Linear
  through the BLAS, the LSTM through oneDNN's RNN, OpenMP parallel regions on `cores`
  threads. `device_seconds` is the computation; `seconds` adds the framework's host work
  (Category.FRAMEWORK). Host ↔ device transfers cost nothing (the CPU's memory is the host's).

Numerics: fp32; int8 (int32 accumulation, a quantized network) where the CPU has VNNI
dot-product instructions. fp16 and bf16 are errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.ir import Gemm, Op, Pool, PoolKind, Transfer, Vector, Workload
from accelsim.machines.base import SpecMachine, WorkloadTiming
from accelsim.machines.capacity import check_gemm_fits, check_workload_fits
from accelsim.machines.cpu.blis import FLOAT, Blocking, bandwidth_for, predict
from accelsim.machines.cpu.buffers import heap_refault_bytes, with_refaults
from accelsim.machines.cpu.framework import activation_bytes, outputs_cold, time_layer
from accelsim.machines.cpu.spec import CPU_SPECS, CPUSpec
from accelsim.machines.results import Bound, Breakdown, Category, OpResult
from accelsim.machines.specs import SpecValue
from accelsim.precision import Precision

IM2COL_CYCLES_PER_VECTOR = 1.0


@dataclass(frozen=True)
class CpuGemmDetail:
    """How a GEMM op's time splits on the CPU (seconds over all repetitions of the op)."""

    threads: int
    pack_s: float
    kernel_s: float
    im2col_s: float
    overhead_s: float
    edge_waste: float  # fraction of micro-kernel work spent on zero padding
    blocking: Blocking | None  # mc, kc, nc (None for a GEMV)


class CPU(SpecMachine):
    """A CPU built from a `CPUSpec`."""

    spec: CPUSpec

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        precision = self.check_precision(precision)
        if isinstance(op, Gemm):
            return self._gemm(op, precision)
        if isinstance(op, Transfer):
            return OpResult(op.name, "transfer", 0.0, 0.0, 0, precision, 0, 0, 0.0,
                            Bound.LATENCY, kernel="none: host memory")
        cycles, moved = self._stream(op, precision)
        seconds = cycles / self.clock_hz
        return OpResult(op.name, type(op).__name__.lower(), cycles, seconds, 0, precision,
                        moved, 0, 0.0, Bound.MEMORY,
                        Breakdown.of({Category.ELEMENTWISE: seconds}), kernel="simd loop",
                        layer=op.layer)

    def _gemm(self, op: Gemm, precision: Precision) -> OpResult:
        check_gemm_fits(op.m, op.k, op.n, precision, self.spec.memory_bytes, self.name)
        gemm = predict(self.spec, op.m, op.k, op.n)
        im2col = self._im2col_seconds(op)
        scale = 4.0 if precision is Precision.INT8 else 1.0  # VNNI: 4 int8 MACs per lane
        body = (gemm.seconds - gemm.overhead_seconds) / scale
        seconds = (gemm.overhead_seconds + body + im2col) * op.count
        kernel = gemm.kernel_seconds / scale
        time = Breakdown.of({Category.COMPUTE: kernel * op.count,
                             Category.MEMORY_STALL: (body - kernel + im2col) * op.count,
                             Category.LAUNCH: gemm.overhead_seconds * op.count})
        detail = CpuGemmDetail(gemm.threads, gemm.pack_seconds * op.count,
                               gemm.kernel_seconds * op.count, im2col * op.count,
                               gemm.overhead_seconds * op.count, gemm.edge_waste,
                               gemm.blocking)
        util = op.ops / (seconds * self.peak_ops_per_s(precision))
        moved = sum(gemm.traffic.values()) * op.count
        return OpResult(op.name, "gemm", seconds * self.clock_hz, seconds, op.ops, precision,
                        moved, 0, util, Bound(gemm.bound), time, detail,
                        f"{gemm.kernel} ×{gemm.threads} threads", op.layer)

    def _im2col_seconds(self, op: Gemm) -> float:
        """Copy the input's receptive fields into an M × K matrix (skipped for 1×1 / fc)."""
        if op.conv is None or op.conv.kernel == (1, 1):
            return 0.0
        written = op.m * op.k * FLOAT
        cycles = written / bandwidth_for(self.spec, written) + \
            op.m * op.k / self.spec.simd_lanes * IM2COL_CYCLES_PER_VECTOR
        return cycles / self.spec.cores / self.clock_hz

    def _stream(self, op: Vector | Pool, precision: Precision) -> tuple[float, int]:
        """Cycles of a vectorized loop over the op's elements, split across the cores."""
        spec = self.spec
        if isinstance(op, Pool):
            moved = op.input_bytes(precision) + op.output_bytes(precision)
            ops = op.window_ops + (op.elements if op.kind is PoolKind.AVG else 0)
            work = ops / spec.simd_lanes
        else:
            moved = op.input_bytes(precision) + op.output_bytes(precision)
            vectors = op.total_elements / spec.simd_lanes
            work = vectors * spec.vector_cycles(op.kind)
        memory = moved / bandwidth_for(spec, moved)
        threads = spec.cores if moved > spec.l2_bytes else 1
        return max(work, memory) / threads + spec.l2_latency_cycles, moved

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """Layers one after another as PyTorch runs them (framework.py): end to end is every
        op with the framework's host work, device time the same without Category.FRAMEWORK;
        outputs are cold where the forward's activations overflow the cache (`outputs_cold`);
        the heap pages glibc gives back and each forward faults in again are charged to the
        layers whose buffers touch them (buffers.heap_refault_bytes).
        The work (with each convolution's im2col matrix) must fit the main memory."""
        precision = self.check_precision(precision)
        check_workload_fits(workload, self.spec.memory_bytes, precision, self.name, im2col=True)
        cold = outputs_cold(self.spec, activation_bytes(workload))
        refaults = heap_refault_bytes(self.spec, workload)
        layers = tuple(with_refaults(self.spec, r, refaults.get(layer.name, 0) if i == 0 else 0)
                       for layer in workload.layers
                       for i, r in enumerate(time_layer(self.spec, layer, precision, cold)))
        time = Breakdown.total_of(r.time for r in layers)
        seconds = time.seconds
        return WorkloadTiming(layers, seconds * self.clock_hz, seconds,
                              seconds - time[Category.FRAMEWORK], time)

    def __repr__(self) -> str:
        return f"CPU({self.spec.name!r}, {self.spec.cores} cores × {self.spec.simd_lanes} lanes)"


def cpu_preset(name: str, /, **overrides: SpecValue) -> CPU:
    """A CPU preset (the measured `cpu-host` is built by `accelsim.measure`)."""
    return CPU(CPU_SPECS[name].replace(**overrides))


def book_speedup(old: CPUSpec, new: CPUSpec) -> tuple[float, float, float]:
    """(cores ratio, vector width ratio, their product): the book's 7 × 8 ≈ 56."""
    cores = new.cores / old.cores
    width = new.simd_lanes / old.simd_lanes
    return cores, width, cores * width
