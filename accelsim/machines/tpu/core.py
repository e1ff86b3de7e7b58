"""The TPU v1 machine: compile a workload to a TPU program, time it, run int8 numerics.

Timing model: `compiler.compile_workload` maps every GEMM weight-stationary onto the array
(tiles of array_rows × array_cols, row chunks of one accumulator buffer) and fuses the
element-wise ops after it into Activates; `executor.execute` times the program with
decoupled access/execute overlap (weights streaming from DDR3 through the FIFO, shifted in
behind the running tile, accumulator double buffering, PCIe to the host). Sources: Jouppi et
al., ISCA 2017, for the machine; SCALE-Sim's fold model (`SystolicArray`) for the array's
fill and drain. Assumptions: layers run one after another (a Sync between them); a layer's
weights are read from DDR3 once per row chunk unless a single tile serves all chunks; the
weights of an RNN/LSTM step are read again every time step unless they are one tile (the
array holds one tile and its shadow); a grouped or depthwise convolution packs its groups
block-diagonally into tiles (compiler `packing`: a depthwise 3×3 fills 28 columns and 252 rows
of each tile, 0.38% of the array's MACs useful); a batch whose live activations overflow the
Unified Buffer runs in sub-batches or spills to host memory, whichever is faster (`passes`);
instruction issue is overlapped (no CPI cost); pooling is free inside Activate; end to end
adds the host's part after the program (runtime.py: a driver call per program run and each
host transfer's DMA setup and latency, from the machine's `TPURuntime`; device time leaves it
out); a final softmax runs on the host (not timed); a GEMM with 16-bit activations
(`Gemm.activation_bits`) runs at half speed, each MatrixMultiply streaming its rows twice
(the paper's "half-speed for 8-bit × 16-bit", section 2), with its weight reads unchanged and
its activations counted at 2 bytes in the Unified Buffer and on PCIe (compiler.py). Peak
and utilization stay those of the 8-bit array (92 TOPS), so a 16-bit GEMM reaches at most 50%.

Numerics: int8 weights, int8 or int16 activations, 32-bit accumulators; fp32, fp16 and bf16
are errors, and so are networks quantized with activation zero points (asymmetric schemes),
refused by `run` before any timing (`check_runnable`). A float network is quantized on the
fly, calibrated on the first 256 inputs given; pass `accelsim.quantize(net, calibration=...)`
to choose the calibration data. The cycle-level engine moves int8 values only: an int16
operand runs as two 8-bit passes (`two_pass_gemm`), bit-identical to the integer kernel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from accelsim.errors import AccelsimError, QuantizationError
from accelsim.ir import Direction, Gemm, Op, Transfer, Workload
from accelsim.machines.base import Machine, WorkloadTiming
from accelsim.machines.results import Bound, Breakdown, Category, OpResult
from accelsim.machines.specs import SpecValue, replace_spec
from accelsim.machines.tpu.compiler import (
    check_weights,
    compile_workload,
    fitting_batch,
    packing,
    spill_bytes,
)
from accelsim.machines.tpu.executor import CATEGORIES, Execution, execute
from accelsim.machines.tpu.isa import Program
from accelsim.machines.tpu.runtime import RUNTIME_FIELDS, TPU_DRIVER, TPURuntime
from accelsim.machines.tpu.spec import TPU_V1, TPUSpec
from accelsim.machines.tpu.systolic import Dataflow, SystolicArray
from accelsim.nn.runnable import Runnable
from accelsim.precision import Precision
from accelsim.quant import QuantizedNetwork, ensure_quantized
from accelsim.quant.kernels import IntGemm

CALIBRATION_SAMPLES = 256
INT8_MIN, INT8_MAX, INT16_MIN, INT16_MAX = -128, 127, -32768, 32767


@dataclass(frozen=True)
class TpuCounters:
    """Matrix-unit cycles classified like the paper's performance counters."""

    array_active: float = 0.0
    weight_stall: float = 0.0  # waiting for DDR3
    weight_shift: float = 0.0  # waiting for a tile to shift in
    dependency_stall: float = 0.0  # waiting for earlier results or a free accumulator buffer
    host_io_stall: float = 0.0  # waiting for PCIe
    activation: float = 0.0  # the drain and activation tail after the last MatrixMultiply

    @classmethod
    def of(cls, cycles: dict[str, float]) -> TpuCounters:
        return cls(**{name: cycles.get(name, 0.0) for name in CATEGORIES})

    def time(self, clock_hz: float) -> Breakdown:
        """The counters as seconds per shared category."""
        return Breakdown.of({
            Category.COMPUTE: self.array_active / clock_hz,
            Category.MEMORY_STALL: self.weight_stall / clock_hz,
            Category.LATENCY: (self.weight_shift + self.dependency_stall) / clock_hz,
            Category.HOST_TRANSFER: self.host_io_stall / clock_hz,
            Category.ELEMENTWISE: self.activation / clock_hz})

    def bound(self) -> Bound:
        """compute (array active), memory (waiting for weights or host I/O) or latency."""
        memory = self.weight_stall + self.host_io_stall
        latency = self.weight_shift + self.dependency_stall + self.activation
        if self.array_active >= max(memory, latency):
            return Bound.COMPUTE
        return Bound.MEMORY if memory >= latency else Bound.LATENCY


@dataclass(frozen=True)
class TpuOpDetail:
    counters: TpuCounters
    mapping_efficiency: float | None = None  # share of the array a GEMM's tiles fill


@dataclass(frozen=True)
class TpuRunDetail:
    """The run's counters and program size; `sub_batch` the batch each program pass runs
    (the whole batch when its activations fit the Unified Buffer), `spilled_bytes` the PCIe
    bytes of activations spilled instead, `device_cycles` the time without host transfers."""

    counters: TpuCounters
    instructions: int
    weight_tiles: int
    sub_batch: int = 0
    spilled_bytes: int = 0
    device_cycles: float = 0.0
    host_cycles: float = 0.0  # the driver calls and transfer latencies (runtime.py)

    @property
    def strategy(self) -> str:
        """How the batch met the Unified Buffer, in words."""
        if self.spilled_bytes:
            return f"activations spilled over PCIe ({self.spilled_bytes / 2**20:.1f} MiB)"
        return f"sub-batches of {self.sub_batch}" if self.sub_batch else "whole batch"


@dataclass(frozen=True)
class Passes:
    """A batch's timing as program passes: each (execution, device-only cycles, count)."""

    runs: tuple[tuple[Execution, float, int], ...]
    program: Program
    sub_batch: int = 0
    spilled_bytes: int = 0

    def combined(self) -> Execution:
        """The passes one after another: cycles, breakdowns and traffic summed."""
        cycles = sum(run.cycles * count for run, _, count in self.runs)
        ops = len(self.runs[0][0].op_cycles)
        op_cycles = tuple(sum(run.op_cycles[i] * count for run, _, count in self.runs)
                          for i in range(ops))
        breakdown = tuple({name: sum(run.op_breakdown[i][name] * count
                                     for run, _, count in self.runs) for name in CATEGORIES}
                          for i in range(ops))
        traffic = tuple((sum(run.op_traffic[i][0] * count for run, _, count in self.runs),
                         sum(run.op_traffic[i][1] * count for run, _, count in self.runs))
                        for i in range(ops))
        totals = {name: sum(run.totals[name] * count for run, _, count in self.runs)
                  for name in CATEGORIES}
        windows = tuple(sum(run.op_windows[i] * count for run, _, count in self.runs)
                        for i in range(ops))
        return Execution(cycles, op_cycles, breakdown, traffic, totals, windows)

    @property
    def device_cycles(self) -> float:
        return sum(device * count for _, device, count in self.runs)

    @property
    def count(self) -> int:
        """Program runs: one per sub-batch, else one."""
        return sum(count for _, _, count in self.runs)


class TPU(Machine):
    """A TPU v1-like accelerator built from a `TPUSpec`."""

    spec: TPUSpec
    runtime: TPURuntime

    def __init__(self, spec: TPUSpec = TPU_V1, runtime: TPURuntime = TPU_DRIVER) -> None:
        self.spec = spec
        self.runtime = runtime
        self.name = spec.name
        self.array = SystolicArray(spec.array_rows, spec.array_cols, Dataflow.WS)

    def settings(self) -> tuple[TPUSpec, TPURuntime]:
        return self.spec, self.runtime

    @property
    def clock_hz(self) -> float:
        return self.spec.clock_hz

    @property
    def precisions(self) -> frozenset[Precision]:
        return frozenset({Precision.INT8})

    def peak_ops_per_s(self, precision: Precision | str = Precision.INT8) -> float:
        self.check_precision(precision)
        return self.spec.peak_ops_per_s

    @property
    def weight_bytes_per_s(self) -> float:
        return self.spec.ddr_bytes_per_s

    def roofline(self, macs_per_weight_byte: float) -> float:
        """Attainable ops/s at an operational intensity (MACs per weight byte read)."""
        return min(self.spec.peak_ops_per_s,
                   2.0 * macs_per_weight_byte * self.spec.ddr_bytes_per_s)

    def compile(self, workload: Workload) -> Program:
        return compile_workload(workload, self.spec)

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """End to end: the whole program with its PCIe transfers, then the host's part
        (`TPURuntime.host_cycles`: a driver call per program run, each host transfer's DMA
        setup and latency); device time is the program without the PCIe transfers (inputs
        already in the Unified Buffer, outputs left there). A batch whose activations
        overflow the Unified Buffer runs as `passes` says."""
        passes = self.passes(workload)
        run = passes.combined()
        layers = tuple(self._op_result(op, index, run) for index, op in enumerate(workload.ops))
        device = passes.device_cycles
        transfers = sum(isinstance(op, Transfer) for op in workload.ops)
        host = self.runtime.host_cycles(transfers, passes.count, self.clock_hz)
        cycles = run.cycles + host
        counters = TpuCounters.of(run.totals)
        detail = TpuRunDetail(counters, len(passes.program), passes.program.tiles,
                              passes.sub_batch, passes.spilled_bytes, device, host)
        time = Breakdown.total_of([counters.time(self.clock_hz),
                                   self.runtime.host_time(transfers, passes.count)])
        return WorkloadTiming(layers, cycles, cycles / self.clock_hz, device / self.clock_hz,
                              time, passes.program, detail)

    def _pass(self, workload: Workload, check: bool = True) -> tuple[Program, Execution, float]:
        program = compile_workload(workload, self.spec, check)
        return (program, execute(program, self.spec),
                execute(program, self.spec, host_io=False).cycles)

    def _whole_cycles(self, workload: Workload) -> float:
        """The whole batch's end-to-end cycles as one program, by the fused kernel (equal,
        bit for bit, to executing the compiled program; fused_timing.py), so that deciding
        against spilling never builds a program of the whole batch."""
        from accelsim.machines.tpu.fused_timing import LANE, encode_items, program_cycles

        spec = self.spec
        lane = np.array([(spec.ddr_bytes_per_cycle, spec.pcie_bytes_per_cycle,
                          spec.weight_fifo_tiles, True)], LANE)
        cycles, _, _ = program_cycles(encode_items(workload), spec.array_rows, spec.array_cols,
                                      spec.accumulator_buffer_rows, lane)
        return float(cycles[0])

    def passes(self, workload: Workload) -> Passes:
        """The program passes that run the batch: one when its live activations fit the
        Unified Buffer; otherwise the faster of (a) sub-batches of the largest batch that fits
        (`fitting_batch`), each pass reading the weights again, and (b) the whole batch at
        once, every group's overflow written to host memory and read back over PCIe
        (`spill_bytes`, at the PCIe rate, not overlapped with the array)."""
        check_weights(workload, self.spec)
        sub = fitting_batch(workload, self.spec)
        if sub == workload.batch:
            program, run, device = self._pass(workload)
            return Passes(((run, device, 1),), program)
        full, rest = divmod(workload.batch, sub)
        program, run, device = self._pass(workload.with_batch(sub))
        runs = [(run, device, full)]
        if rest:
            _, rest_run, rest_device = self._pass(workload.with_batch(rest))
            runs.append((rest_run, rest_device, 1))
        split = Passes(tuple(runs), program, sub_batch=sub)
        spilled = spill_bytes(workload, self.spec)
        spill_cycles = spilled / self.spec.pcie_bytes_per_cycle
        if self._whole_cycles(workload) + spill_cycles >= split.combined().cycles:
            return split
        whole_program, whole, whole_device = self._pass(workload, check=False)
        return Passes(((_with_spill(whole, spill_cycles), whole_device + spill_cycles, 1),),
                      whole_program, spilled_bytes=spilled)

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        """One op as a kernel of its own: inputs from the host, weights from DDR3, results
        back to the host; the result covers the whole program."""
        self.check_precision(precision)
        ops: list[Op] = [op]
        if isinstance(op, Gemm):
            ops = [Transfer("input", Direction.TO_DEVICE, op.m * op.k * op.count), op,
                   Transfer("output", Direction.TO_HOST, op.m * op.n * op.count)]
        timing = self.time_workload(Workload.of_ops(op.name, 1, tuple(ops)), precision)
        main = timing.layers[ops.index(op)]
        run, op_detail = timing.detail, main.detail
        assert isinstance(run, TpuRunDetail) and isinstance(op_detail, TpuOpDetail)  # ours
        counters = run.counters
        return OpResult(op.name, main.kind, timing.cycles, timing.seconds, main.ops,
                        precision, sum(r.dram_bytes for r in timing.layers),
                        sum(r.onchip_bytes for r in timing.layers),
                        self._utilization(main.ops, timing.cycles), counters.bound(),
                        timing.time, TpuOpDetail(counters, op_detail.mapping_efficiency),
                        main.kernel, main.layer)

    def _mapping(self, gemm: Gemm) -> float:
        """Share of the PEs holding a weight: a grouped GEMM's packed tiles hold its groups'
        blocks on the diagonal (`packing`), the zeros around them count as empty."""
        if gemm.groups == 1:
            return self.array.mapping_efficiency(gemm.m, gemm.k, gemm.n)
        spec = self.spec
        per_tile, packs = packing(gemm.groups, gemm.k, gemm.n, spec.array_rows, spec.array_cols)
        tiles = packs * math.ceil(per_tile * gemm.k / spec.array_rows) * \
            math.ceil(per_tile * gemm.n / spec.array_cols)
        return gemm.groups * gemm.k * gemm.n / (tiles * spec.array_rows * spec.array_cols)

    def _utilization(self, ops: int, cycles: float) -> float:
        return ops / (2.0 * self.spec.macs_per_cycle * cycles) if cycles > 0 else 0.0

    def _op_result(self, op: Op, index: int, run: Execution) -> OpResult:
        cycles = run.op_cycles[index]
        ops = op.ops if isinstance(op, Gemm) else 0
        offchip, onchip = run.op_traffic[index]
        counters = TpuCounters.of(run.op_breakdown[index])
        mapping = self._mapping(op) if isinstance(op, Gemm) else None
        kernel = "MatrixMultiply" if isinstance(op, Gemm) else \
            "Read/Write_Host_Memory" if isinstance(op, Transfer) else "Activate"
        return OpResult(op.name, type(op).__name__.lower(), cycles, cycles / self.clock_hz, ops,
                        Precision.INT8, offchip, onchip, self._utilization(ops, cycles),
                        counters.bound(), counters.time(self.clock_hz),
                        TpuOpDetail(counters, mapping), kernel, getattr(op, "layer", ""),
                        run.op_windows[index] / self.clock_hz)

    def check_runnable(self, net: Runnable) -> None:
        """Refuse a network quantized with activation zero points (asymmetric schemes; a
        scheme whose tensors are all 16-bit, and so symmetric, runs)."""
        if isinstance(net, QuantizedNetwork) and net.has_zero_points:
            raise QuantizationError(
                f"{self.name} cannot run {net.name!r} quantized as {net.scheme.label}: the "
                "TPU v1 matrix unit has no zero-point support; quantize with "
                "activations='symmetric', or run it on a CPU or GPU with int8")

    def execute(self, net: Runnable, x: np.ndarray, precision: Precision) -> np.ndarray:
        """int8 outputs (dequantized) through the integer kernels or the cycle-level engine."""
        self.check_precision(precision)
        qnet = ensure_quantized(net, x, CALIBRATION_SAMPLES)
        self.check_runnable(qnet)
        if self.spec.numerics == "cycle":
            return qnet.forward(x, gemm=self._systolic_gemm)
        return qnet.forward(x)

    def _systolic_gemm(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A @ B on the cycle-level engine: one pass for int8 A, two for int16 A."""
        return two_pass_gemm(lambda a8, b8: self.array.simulate(a8, b8).output, a, b)

    def __repr__(self) -> str:
        return f"TPU({self.spec.name!r}, {self.spec.array_rows}×{self.spec.array_cols})"


def _with_spill(run: Execution, cycles: float) -> Execution:
    """A run with `cycles` of spill traffic over PCIe added at its end (host I/O)."""
    breakdown = list(run.op_breakdown)
    last = dict(breakdown[-1])
    last["host_io_stall"] += cycles
    breakdown[-1] = last
    totals = dict(run.totals)
    totals["host_io_stall"] += cycles
    op_cycles = (*run.op_cycles[:-1], run.op_cycles[-1] + cycles)
    return Execution(run.cycles + cycles, op_cycles, tuple(breakdown), run.op_traffic, totals,
                     run.op_windows)


def tpu_v1(**overrides: SpecValue) -> TPU:
    """The paper's TPU with the default driver; keyword overrides replace fields of either
    (e.g. array_rows=32, driver_call_s=0)."""
    return TPU(*tpu_settings(overrides))


def tpu_settings(overrides: Mapping[str, SpecValue]) -> tuple[TPUSpec, TPURuntime]:
    """`TPU_V1` and `TPU_DRIVER` with `overrides` split between them by field name."""
    software = {key: value for key, value in overrides.items() if key in RUNTIME_FIELDS}
    hardware = {key: value for key, value in overrides.items() if key not in RUNTIME_FIELDS}
    return (replace_spec(TPU_V1, hardware, also=RUNTIME_FIELDS),
            TPU_DRIVER.replace(**software) if software else TPU_DRIVER)


def two_pass_gemm(gemm8: IntGemm, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int16 (or int8) A × int8 B → int32 with an int8 × int8 → int32 `gemm8`, as the TPU v1's
    8-bit array runs 8-bit × 16-bit at half speed (Jouppi et al. 2017, section 2): A whose
    values fit int8 takes one pass, unchanged; otherwise a = 256·hi + lo with hi = a >> 8
    (arithmetic, −128..127) and lo = a & 0xFF (0..255), and the array runs hi and lo − 128
    (both int8); then A @ B = 256·(hi @ B) + ((lo − 128) @ B) + 128·Σ_k B[k, n], summed in
    int64 and wrapped to int32 like `quant.kernels.int_matmul` (so the two agree bit for bit;
    the identity holds modulo 2^32 even if a pass's int32 accumulators wrap)."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        raise AccelsimError(f"A must hold integers (int8 or int16 codes), got {a.dtype}")
    low, high = (int(a.min()), int(a.max())) if a.size else (0, 0)
    if low >= INT8_MIN and high <= INT8_MAX:
        return gemm8(a, b)
    if low < INT16_MIN or high > INT16_MAX:
        raise AccelsimError(f"A holds values in [{low}, {high}]; the TPU's matrix unit takes "
                            "int8 or int16 activations (-32768..32767)")
    wide = a.astype(np.int64)
    hi = (wide >> 8).astype(np.int8)
    lo = ((wide & 0xFF) - 128).astype(np.int8)
    column_sums = np.asarray(b, np.int64).sum(axis=0)
    acc = 256 * np.asarray(gemm8(hi, b), np.int64) + np.asarray(gemm8(lo, b), np.int64) \
        + 128 * column_sums
    return acc.astype(np.int32)


def ops_per_weight_byte(workload: Workload) -> float:
    """MACs per byte of int8 weights: the roofline x-axis of the paper (= batch for MLPs)."""
    weights = sum(g.k * g.n * g.groups for g in workload.gemms)
    return workload.macs / weights if weights else math.inf
