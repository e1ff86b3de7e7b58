"""The multi-core SIMD CPU machine.

Timing model: GEMMs through the BLIS-style blocked algorithm of blis.py (packing, mr × nr
micro-kernel with edge tiles, cache-resident bandwidths, threads with imbalance, the BLAS call
overhead); a convolution first builds its im2col matrix (read the input, write M × K values);
element-wise ops stream their data through the SIMD units, with exp-based nonlinearities
costing `transcendental_cycles` per vector; pooling reads each window; host ↔ device
transfers cost nothing (the CPU's memory is the host's). Ops run one after another.

Numerics: fp32; int8 (int32 accumulation, a quantized network) where the CPU has VNNI
dot-product instructions. fp16 and bf16 are errors.
"""

from __future__ import annotations

from accelsim.ir import Gemm, Op, Pool, PoolKind, Transfer, Vector
from accelsim.machines.base import SpecMachine, WorkloadTiming
from accelsim.machines.cpu.blis import FLOAT, bandwidth_for, predict
from accelsim.machines.cpu.spec import CPU_SPECS, CPUSpec
from accelsim.machines.results import OpResult
from accelsim.precision import Precision

VECTOR_OPS = {"relu": 1.0, "add": 1.0, "mul": 1.0}
IM2COL_CYCLES_PER_VECTOR = 1.0


class CPU(SpecMachine):
    """A CPU built from a `CPUSpec`."""

    spec: CPUSpec

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        precision = self.check_precision(precision)
        if isinstance(op, Gemm):
            return self._gemm(op, precision)
        if isinstance(op, Transfer):
            return OpResult(op.name, "transfer", 0.0, 0.0, 0, precision, 0, 0, 0.0, "latency",
                            {}, "none: host memory")
        cycles, moved = self._stream(op, precision)
        seconds = cycles / self.clock_hz
        return OpResult(op.name, type(op).__name__.lower(), cycles, seconds, 0, precision,
                        moved, 0, 0.0, "memory", {}, "simd loop")

    def _gemm(self, op: Gemm, precision: Precision) -> OpResult:
        gemm = predict(self.spec, op.m, op.k, op.n)
        im2col = self._im2col_seconds(op)
        scale = 4.0 if precision is Precision.INT8 else 1.0  # VNNI: 4 int8 MACs per lane
        seconds = (gemm.overhead_seconds + (gemm.seconds - gemm.overhead_seconds) / scale
                   + im2col) * op.count
        details = {"threads": float(gemm.threads), "pack_s": gemm.pack_seconds * op.count,
                   "kernel_s": gemm.kernel_seconds * op.count, "im2col_s": im2col * op.count,
                   "overhead_s": gemm.overhead_seconds * op.count,
                   "edge_waste": gemm.edge_waste}
        if gemm.blocking is not None:
            details.update(mc=float(gemm.blocking.mc), kc=float(gemm.blocking.kc),
                           nc=float(gemm.blocking.nc))
        util = op.ops / (seconds * self.peak_ops_per_s(precision))
        moved = sum(gemm.traffic.values()) * op.count
        return OpResult(op.name, "gemm", seconds * self.clock_hz, seconds, op.ops, precision,
                        moved, 0, util, gemm.bound, details,
                        f"{gemm.kernel} ×{gemm.threads} threads")

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
            per_vector = spec.transcendental_cycles if op.kind.transcendental else \
                VECTOR_OPS[op.kind.value]
            work = vectors * per_vector
        memory = moved / bandwidth_for(spec, moved)
        threads = spec.cores if moved > spec.l2_bytes else 1
        return max(work, memory) / threads + spec.l2_latency_cycles, moved

    def time_workload(self, workload, precision: Precision) -> WorkloadTiming:
        layers = tuple(self.time_op(op, precision) for op in workload.ops)
        cycles = sum(r.cycles for r in layers)
        gemm = sum(r.cycles for r, op in zip(layers, workload.ops, strict=True)
                   if isinstance(op, Gemm))
        details = {"gemm_cycles": gemm, "elementwise_cycles": cycles - gemm}
        return WorkloadTiming(layers, cycles, cycles / self.clock_hz, None, details)

    def __repr__(self) -> str:
        return f"CPU({self.spec.name!r}, {self.spec.cores} cores × {self.spec.simd_lanes} lanes)"


def cpu_preset(name: str, **overrides: object) -> CPU:
    if name == "cpu-host":
        from accelsim.machines.cpu.host import detect_host

        return CPU(detect_host().replace(**overrides))
    return CPU(CPU_SPECS[name].replace(**overrides))


def book_speedup(old: CPUSpec, new: CPUSpec) -> tuple[float, float, float]:
    """(cores ratio, vector width ratio, their product): the book's 7 × 8 ≈ 56."""
    cores = new.cores / old.cores
    width = new.simd_lanes / old.simd_lanes
    return cores, width, cores * width
