"""Single layers and graph networks on a CPU: the CPU model (machines/cpu/framework.py,
PyTorch's eager runtime) against PyTorch timed on a real host, per layer, at 1 thread and at
every core (`torch_layers`' rows: `F.conv2d` without bias, nn.LSTM / nn.GRU / nn.RNN,
nn.Linear, bundled networks).

Rows are replayed from a recorded host (`recorded_report`: its `layers.rows`, with the spec
calibrated there) or taken live (`live_report`). Fitted constants are fitted on the rows
`in_fit` selects (the even rows of each kind, in the file's order) and reported on the rest:
`LayerReport.held_out()`.

A convolution or Linear row is predicted with the heap pages its calls fault in again in the
process that timed it: every row carrying that thread count's timing, one after another in the
file's order (`harness_refaults_us`, machines/cpu/buffers.py). A case after a bigger one
inherits the glibc thresholds the bigger one raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.ir import ConvGeometry, Gemm, LayerOps, Recurrence, Vector, VectorKind
from accelsim.lower import lower
from accelsim.machines.cpu import buffers, framework
from accelsim.machines.cpu.blis import FLOAT, RESIDENT_SHARE
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure import recorded, torch_layers, torch_networks
from accelsim.nn.loader import build_network
from accelsim.precision import Precision
from accelsim.validation.comparison import Compared, fraction_over_2x, median_ape

FAMILIES = ("conv", "rnn", "linear", "net")
LIVE_FAMILIES = ("conv", "rnn", "linear")  # the bundled graph networks take minutes more


@dataclass(frozen=True)
class LayerRow(Compared):
    family: str
    case: str
    threads: int
    measured_us: float
    predicted_us: float
    fitted: bool  # a row some constant was fitted on


@dataclass(frozen=True)
class LayerReport:
    machine: str
    rows: tuple[LayerRow, ...]

    def of(self, family: str | None = None, fitted: bool | None = None,
           threads: int | None = None) -> tuple[LayerRow, ...]:
        return tuple(r for r in self.rows if (family is None or r.family == family)
                     and (fitted is None or r.fitted == fitted)
                     and (threads is None or r.threads == threads))

    def held_out(self, family: str | None = None) -> tuple[LayerRow, ...]:
        return self.of(family, fitted=False)

    def text(self) -> str:
        lines = [f"{self.machine}: PyTorch CPU layers, predicted vs measured (µs)"]
        lines += [f"  {r.family:<6}{r.case:<44}{r.threads:>3}t{r.measured_us:>11.1f}"
                  f"{r.predicted_us:>11.1f}{r.error:>+8.1%}{' >2x' if r.off_by_2x else ''}"
                  f"{'' if not r.fitted else '  (fit)'}" for r in self.rows]
        for family in FAMILIES:
            for fitted in (True, False):
                rows = self.of(family, fitted)
                if rows:
                    lines.append(f"{family:<6} {'fitted' if fitted else 'held-out':<8} "
                                 f"{len(rows):>3} rows: median {median_ape(rows):.1%}, "
                                 f"{sum(r.off_by_2x for r in rows)} off by > 2x")
        return "\n".join(lines)


def family_of(row: Mapping[str, Any]) -> str:
    return torch_layers.family(row)


def in_fit(rows: Sequence[Mapping[str, Any]]) -> list[bool]:
    """The rows fitted constants may be fitted on: the even rows of each family."""
    return recorded.fitted_flags(rows, family_of)


def case_name(row: Mapping[str, Any]) -> str:
    kind = row["kind"]
    if kind == "conv":
        return (f"{row['app'][:8]} n{row['n']} c{row['c']} {row['h']}x{row['w']} k{row['k']} "
                f"{row['r']}x{row['s']}/{row['stride']}")
    if kind == "linear":
        return f"linear {row['batch']}x{row['in']}->{row['out']}"
    if kind == "net":
        return f"{row['net']} batch {row['batch']}"
    return f"{kind} {row['input']}->{row['hidden']} b{row['batch']} t{row['steps']}"


def conv_gemm(row: Mapping[str, Any]) -> Gemm:
    """The lowered GEMM of one recorded convolution (no bias)."""
    pad, stride = row["pad"], row["stride"]
    oh = (row["h"] + 2 * pad - row["r"]) // stride + 1
    ow = (row["w"] + 2 * pad - row["s"]) // stride + 1
    geo = ConvGeometry(row["c"], (row["h"], row["w"]), (row["r"], row["s"]), (stride, stride),
                       (pad, pad, pad, pad), (oh, ow))
    return Gemm("conv", row["n"] * oh * ow, row["c"] * row["r"] * row["s"], row["k"],
                bias=False, conv=geo)


def predicted_us(spec: CPUSpec, row: Mapping[str, Any], threads: int) -> float:
    """The model's microseconds of one recorded case at `threads` PyTorch threads."""
    spec = spec.replace(cores=threads)
    kind = row["kind"]
    if kind == "net":
        from accelsim.validation.cpu_networks import predicted_us as network_us

        return network_us(spec, row["net"], row["batch"], threads)
    if kind == "conv":  # F.conv2d is called without an nn.Module
        op = conv_gemm(row)
        cold = framework.outputs_cold(spec, op.m * op.n * framework.FLOAT)
        seconds = framework.convolution(spec, op, op.conv,  # type: ignore[arg-type]
                                        Precision.FP32, cold).seconds
        module = framework.MODULE_CALL_CYCLES + framework.CONV_MODULE_CYCLES
        return (seconds - framework.host_s(spec, module)) * 1e6
    if kind == "linear":
        op = Gemm("linear", row["batch"], row["in"], row["out"])
        return framework.linear(spec, op, Precision.FP32).seconds * 1e6
    timed = framework.time_layer(spec, recurrent_layer(row), Precision.FP32)
    return sum(r.seconds for r in timed) * 1e6


def aten_rnn_terms(spec: CPUSpec, row: Mapping[str, Any],
                   threads: int) -> tuple[float, float, float, float]:
    """One gru/rnn row's predicted seconds at `threads` as (the part that is not ATen's host
    constants, then the seconds per cycle of RNN_FORWARD_CYCLES, ATEN_CPP_OP_CYCLES and
    ATEN_VIEW_OP_CYCLES): the time is linear in the three (framework.aten_rnn)."""
    cell = framework.ATEN_CELLS[framework.CellKind(row["kind"])]
    steps, clock = row["steps"], spec.clock_hz / spec.framework_cycles_scale
    per_cycle = (1 / clock, (4 + steps * (cell.kernels + 1)) / clock,
                 (framework.ATEN_RNN_FIXED_VIEWS + steps * cell.views) / clock)
    constants = (framework.RNN_FORWARD_CYCLES, framework.ATEN_CPP_OP_CYCLES,
                 framework.ATEN_VIEW_OP_CYCLES)
    total = predicted_us(spec, row, threads) * 1e-6
    return (total - sum(c * t for c, t in zip(constants, per_cycle, strict=True)), *per_cycle)


def fit_aten_rnn(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
                 view_cycles: float | None = None) -> tuple[float, ...]:
    """RNN_FORWARD_CYCLES, ATEN_CPP_OP_CYCLES and ATEN_VIEW_OP_CYCLES fitted together on timed
    nn.GRU / nn.RNN rows (every thread count each carries): non-negative least squares of
    the relative error, the time being linear in the three; with `view_cycles` the third is
    held there and the first two fitted."""
    design, targets = [], []
    for row in rows:
        if row["kind"] not in ("gru", "rnn"):
            continue
        for threads, measured_us in measured_threads(row):
            base, *per_cycle = aten_rnn_terms(spec, row, threads)
            measured = measured_us * 1e-6
            if view_cycles is not None:
                base += view_cycles * per_cycle.pop()
            design.append([t / measured for t in per_cycle])
            targets.append(1 - base / measured)
    fitted = nonnegative_least_squares(np.array(design), np.array(targets))
    return tuple(float(c) for c in fitted) + (() if view_cycles is None else (view_cycles,))


def recurrent_layer(row: Mapping[str, Any]) -> LayerOps:
    """The lowered layer of one recorded nn.LSTM / nn.GRU / nn.RNN row."""
    doc = {"name": "one-layer", "input_shape": [row["input"]], "sequence": True,
           "seq_len": row["steps"],
           "layers": [{"name": "r", "type": row["kind"], "hidden_size": row["hidden"]}]}
    workload = lower(build_network(doc, Path("one-layer.toml")), batch=row["batch"])
    return next(layer for layer in workload.layers if layer.recurrence is not None)


def recurrence_of(row: Mapping[str, Any]) -> Recurrence:
    rec = recurrent_layer(row).recurrence
    assert rec is not None
    return rec


def onednn_lstm_us(spec: CPUSpec, row: Mapping[str, Any], threads: int,
                   constants: tuple[float, float, float]) -> float:
    """One lstm row's microseconds at `threads` with (BRGEMM_EFFICIENCY, RNN_STEP_CYCLES,
    ONEDNN_REGION_CYCLES) set to `constants` (framework.onednn_rnn)."""
    results = framework.onednn_rnn(spec.replace(cores=threads), recurrence_of(row),
                                   Precision.FP32, *constants)
    return sum(r.seconds for r in results) * 1e6


LSTM_ISA_FILE = "cpu-epyc-zen4-2vcpu-lstm-isa-2026-12-07.json"


def lstm_isa_rows(doc: Mapping[str, Any]) -> list[tuple[CPUSpec, list[dict[str, Any]]]]:
    """The ISA file's rows with the spec each replays with: its spec as recorded for the
    avx512_core rows, with 8 lanes for the avx2 rows (oneDNN held to AVX2: an AVX2 host whose
    two 256-bit pipes run at full rate)."""
    spec = replay_spec(dict(doc))
    assert spec is not None
    avx2 = spec.replace(simd_lanes=8, fma_bits=0)
    return [(avx2, doc["lstm_isa"]["avx2"]), (spec, doc["lstm_isa"]["avx512_core"])]


def fit_onednn_lstm(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
                    step_cycles: float | None = None) -> tuple[float, ...]:
    """(BRGEMM_EFFICIENCY, RNN_STEP_CYCLES, ONEDNN_REGION_CYCLES) fitted on timed nn.LSTM rows
    (every thread count each carries): for each efficiency from 0.30 to 1.00 in steps of
    0.01, the non-negative least squares of the relative error in the other two (the time is
    linear in them: the call's steps and parallel regions); the efficiency of least residual.
    With `step_cycles` the step's cost is held there (its own fit, `fit_dispatch`) and the
    other two fitted. RNN_SETUP_CYCLES stays at its own fit (one step of LSTM(8, 8))."""
    timed = [(spec.replace(cores=threads), recurrence_of(row), measured_us)
             for row in rows if row["kind"] == "lstm"
             for threads, measured_us in measured_threads(row)]  # lowered once, not per fit
    host = spec.framework_cycles_scale / spec.clock_hz * 1e6  # µs a reference host cycle
    per_cycle = np.array([[rec.steps * host, framework.lstm_call(one, rec).regions
                           / spec.clock_hz * 1e6] for one, rec, _ in timed])
    measured = np.array([us for _, _, us in timed])
    a = per_cycle / measured[:, None]
    fixed = 0.0 if step_cycles is None else step_cycles

    def fit(efficiency: float) -> tuple[float, np.ndarray]:
        base = np.array([sum(r.seconds for r in framework.onednn_rnn(
            one, rec, Precision.FP32, efficiency, fixed, 0.0)) * 1e6 for one, rec, _ in timed])
        b = 1 - base / measured
        if step_cycles is None:
            x = nonnegative_least_squares(a, b)
            return float(np.sum((a @ x - b) ** 2)), x
        region = nonnegative_least_squares(a[:, 1:], b)
        return float(np.sum((a[:, 1:] @ region - b) ** 2)), np.array([fixed, *region])

    efficiencies = np.round(np.arange(0.30, 1.0001, 0.01), 2)
    fits = [(fit(float(e)), float(e)) for e in efficiencies]
    (_, cycles), best = min(fits, key=lambda f: f[0][0])
    return (best, *(float(c) for c in cycles))


def batch_norm_us(spec: CPUSpec, row: Mapping[str, Any]) -> float:
    """The model's microseconds of one `micro` row's nn.BatchNorm2d (batch 1, eval)."""
    elements = row["channels"] * row["side"] ** 2
    op = Vector("bn", VectorKind.SCALE, elements)
    return framework.elementwise(spec, op, Precision.FP32).seconds * 1e6


def fit_batch_norm(spec: CPUSpec, rows: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(BATCH_NORM_EXTRA_CYCLES, BATCH_NORM_CYCLES_PER_VECTOR) minimising the squared relative
    error over timed nn.BatchNorm2d calls (`micro.batch_norm`: channels, side, batch_norm_us) on
    one core of `spec`: a grid of 500-cycle and 0.1-cycle steps (the loop is a max of its
    ALU cycles and its streaming, so not linear in the second)."""
    one = spec.replace(cores=1)
    best: tuple[float, float, float] = (math.inf, 0.0, 0.0)
    with trying("BATCH_NORM_EXTRA_CYCLES", "BATCH_NORM_CYCLES_PER_VECTOR"):
        for extra in np.arange(0.0, 40_001.0, 500.0):
            for per_vector in np.arange(1.0, 30.01, 0.1):
                framework.BATCH_NORM_EXTRA_CYCLES = float(extra)
                framework.BATCH_NORM_CYCLES_PER_VECTOR = float(per_vector)
                error = sum((batch_norm_us(one, r) / r["batch_norm_us"] - 1) ** 2 for r in rows)
                best = min(best, (error, float(extra), round(float(per_vector), 1)))
    return best[1], best[2]


def reorder_slope(spec: CPUSpec, points: Iterable[tuple[int, float]]) -> float:
    """Cycles per element: the slope of a straight line (a fixed call cost plus cycles per
    element, least squares) through timed reorders (elements, µs) whose source and destination
    fit the share of L3 a working set keeps."""
    share = spec.l3_bytes * RESIDENT_SHARE
    kept = [(n, us) for n, us in points if 2 * n * FLOAT <= share]
    elements, times = (np.array(v, dtype=float) for v in zip(*kept, strict=True))
    slope, _ = np.polyfit(elements, times, 1)
    return float(slope * 1e-6 * spec.clock_hz)


def fit_reorder(spec: CPUSpec, rows: Sequence[Mapping[str, Any]]) -> float:
    """REORDER_CYCLES_PER_ELEMENT: `reorder_slope` through timed plain ↔ blocked reorders
    (`micro.reorders`: elements, to_blocked_us, to_plain_us, both directions)."""
    return reorder_slope(spec, ((r["elements"], r[key]) for r in rows
                                for key in ("to_blocked_us", "to_plain_us")))


def fit_rnn_weights_reorder(spec: CPUSpec,
                            rows: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(RNN_WEIGHTS_REORDER_CYCLES, RNN_WEIGHTS_REORDER_BEYOND_L2_CYCLES) from oneDNN's timed
    LSTM weight reorders (`micro.rnn_reorders`: elements per matrix, reorder_ms): a straight
    line (fixed cost plus cycles per element) through the matrices that fit L2, then the
    median cycles per element, less that fixed cost, of the larger ones."""
    def cycles(row: Mapping[str, Any]) -> float:
        return float(row["reorder_ms"]) * 1e-3 * spec.clock_hz

    small = [r for r in rows if r["elements"] * FLOAT <= spec.l2_bytes]
    large = [r for r in rows if r["elements"] * FLOAT > spec.l2_bytes]
    slope, fixed = np.polyfit([r["elements"] for r in small], [cycles(r) for r in small], 1)
    beyond = float(np.median([(cycles(r) - fixed) / r["elements"] for r in large]))
    return float(slope), beyond


def fit_conv_weights_reorder(spec: CPUSpec, rows: Sequence[Mapping[str, Any]]) -> float:
    """CONV_WEIGHTS_REORDER_CYCLES: `reorder_slope` through oneDNN's timed weight reorders
    (`micro.conv_weight_reorders`: elements, reorder_ms)."""
    return reorder_slope(spec, ((r["elements"], r["reorder_ms"] * 1e3) for r in rows
                                if r["reorder_ms"] is not None))


def fit_conv_setup(spec: CPUSpec,
                   rows: Sequence[Mapping[str, Any]]) -> tuple[float, float, float]:
    """(CONV_SETUP_CYCLES, CONV_BLOCKED_INPUT_SETUP_CYCLES, CONV_REGION_CYCLES) fitted together
    on timed oneDNN convolutions (every thread count each carries): non-negative least
    squares of the relative error, a call's time being the rest of the model plus the first,
    plus the second where the input is reordered to blocked channels
    (`framework.conv_setup_cycles`), plus the third per oneDNN parallel region on several
    threads."""
    design, targets = [], []
    for row in rows:
        op = conv_gemm(row)
        assert op.conv is not None
        flat = framework.reads_nchw(spec, op.conv)
        for threads, measured_us in measured_threads(row):
            if not framework.uses_onednn(op, op.conv, threads):
                continue
            measured = measured_us * 1e-6
            on = spec.replace(cores=threads)
            regions = framework.conv_regions(flat, threads)
            constants = framework.host_s(on, framework.conv_setup_cycles(flat)) \
                + regions * framework.seconds(on, framework.CONV_REGION_CYCLES)
            rest = predicted_us(spec, row, threads) * 1e-6 - constants
            host, device = framework.host_s(on, 1.0), framework.seconds(on, 1.0)
            design.append([host / measured, (0.0 if flat else host) / measured,
                           regions * device / measured])
            targets.append(1 - rest / measured)
    fitted = nonnegative_least_squares(np.array(design), np.array(targets))
    return float(fitted[0]), float(fitted[1]), float(fitted[2])


def fit_dispatch(spec: CPUSpec, calls: Mapping[str, float]) -> tuple[float, ...]:
    """(MODULE_CALL_CYCLES, ATEN_OP_CYCLES, LINEAR_EXTRA_CYCLES, RNN_SETUP_CYCLES,
    RNN_STEP_CYCLES) from small framework calls timed on one thread (`micro.dispatch_us`,
    µs): a tenth of a Sequential of 10 identity modules; torch.relu on 16 elements less its
    loop; nn.Linear(120, 80) at batch 1 less a module call, an ATen op and its addmm;
    nn.LSTM(8, 8) over one step at batch 1 less a module call, an ATen op and the rest of the
    model's call; a 63rd of its 64 steps less its one, less the model's steps' other work.
    Each call less its device part, in the reference host's cycles (`spec`'s cycles over its
    `framework_cycles_scale`)."""
    one = spec.replace(cores=1)
    scale = one.framework_cycles_scale

    def host_cycles(name: str, device_s: float = 0.0) -> float:
        """A timed call's cycles less its device part, in reference-host cycles."""
        return (calls[name] * 1e-6 - device_s) * one.clock_hz / scale

    module = host_cycles("sequential_of_10_identity_modules_min") / 10
    relu = framework.elementwise(one, Vector("relu", VectorKind.RELU, 16), Precision.FP32)
    aten_op = host_cycles("torch_relu_16_elements_min", relu.seconds - framework.dispatch_s(one))
    kernel, other, _ = framework.addmm_s(one, 1, 120, 80, Precision.FP32)
    linear = host_cycles("nn_linear_120_to_80_batch1_min", kernel + other) - module - aten_op

    def lstm_8_8(steps: int) -> float:
        """The model's LSTM(8, 8) call at batch 1 with no setup and no step loop (s)."""
        row = {"kind": "lstm", "input": 8, "hidden": 8, "batch": 1, "steps": steps}
        with trying("MODULE_CALL_CYCLES", "ATEN_OP_CYCLES", "RNN_SETUP_CYCLES"):
            framework.MODULE_CALL_CYCLES, framework.ATEN_OP_CYCLES = module, aten_op
            framework.RNN_SETUP_CYCLES = 0
            results = framework.onednn_rnn(one, recurrence_of(row), Precision.FP32,
                                           step_cycles=0.0)
            dispatch = framework.dispatch_s(one)
        return sum(r.seconds for r in results)  - dispatch + framework.host_s(
            one, module + aten_op)

    setup = host_cycles("nn_lstm_8_8_batch1_steps1_min", lstm_8_8(1)) - module - aten_op
    step = (host_cycles("nn_lstm_8_8_batch1_steps64_min", lstm_8_8(64))
            - host_cycles("nn_lstm_8_8_batch1_steps1_min", lstm_8_8(1))) / 63
    return float(module), float(aten_op), float(linear), float(setup), float(step)


def fit_conv_module(clock_hz: float, rows: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(CONV_MODULE_CYCLES, CONV_BIAS_CYCLES) from convolutions timed as nn.Conv2d, F.conv2d
    with its bias and without (`micro.conv_modules`): the median of the module less the
    function with the bias, less a module call (MODULE_CALL_CYCLES), and the median of the
    function with the bias less without, in cycles at `clock_hz`."""
    module = np.median([r["module_us"] - r["f_conv2d_bias_us"] for r in rows])
    bias = np.median([r["f_conv2d_bias_us"] - r["f_conv2d_us"] for r in rows])
    return (float(module * 1e-6 * clock_hz - framework.MODULE_CALL_CYCLES),
            float(bias * 1e-6 * clock_hz))


def fit_page_fault_contention(runs: Sequence[Mapping[str, Any]]) -> float:
    """CPUSpec.page_fault_contention: the median over timed runs (`micro.page_faults`: fresh
    pages filled by one thread and by two) of each run's `recorded.page_fault_contention_of`."""
    values = [recorded.page_fault_contention_of(run) for run in runs]
    return float(np.median([v for v in values if v is not None]))


TimedConv = tuple[Mapping[str, Any], int, float, float]  # row, threads, µs, refaults' µs


def timed_convs(spec: CPUSpec, rows: Sequence[Mapping[str, Any]], fitted: Sequence[bool],
                onednn: bool) -> list[TimedConv]:
    """The `fitted` convolution rows at every thread count each carries where oneDNN runs them
    (`onednn`; else ATen's slow_conv2d: `framework.uses_onednn`), each with the heap refaults
    of the process that timed `rows` (`harness_refaults_us`)."""
    refaults = cache(partial(harness_refaults_us, spec, rows))
    timed = []
    for i, (r, fit) in enumerate(zip(rows, fitted, strict=True)):
        if r["kind"] != "conv" or not fit:
            continue
        op = conv_gemm(r)
        timed += [(r, t, us, refaults(t)[i]) for t, us in measured_threads(r)
                  if framework.uses_onednn(op, op.conv, t) == onednn]  # type: ignore[arg-type]
    return timed


def median_error(spec: CPUSpec, timed: Sequence[TimedConv]) -> float:
    return float(np.median([abs((predicted_us(spec, r, t) + extra) / us - 1)
                            for r, t, us, extra in timed]))


def fit_direct_conv(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
                    fitted: Sequence[bool]) -> float:
    """The DIRECT_CONV_EFFICIENCY of `spec`'s direct kernel (framework.conv_kernel): the value
    in 0.30-1.00 (steps of 0.01) of least median absolute error over the `fitted` convolution
    rows oneDNN runs (`timed_convs`)."""
    name = framework.conv_kernel(spec).name
    efficiencies = framework.DIRECT_CONV_EFFICIENCY
    timed = timed_convs(spec, rows, fitted, onednn=True)
    best: tuple[float, float] = (math.inf, 0.0)
    with trying("DIRECT_CONV_EFFICIENCY"):
        for value in np.arange(0.30, 1.001, 0.01):
            efficiency = round(float(value), 2)
            framework.DIRECT_CONV_EFFICIENCY = {**efficiencies, name: efficiency}
            best = min(best, (median_error(spec, timed), efficiency))
    return best[1]


def fit_slow_conv_mkl_share(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
                            fitted: Sequence[bool]) -> float:
    """framework.SLOW_CONV_MKL_SHARE: the value in 0.50-1.00 (steps of 0.01) of least median
    absolute error over the `fitted` convolution rows ATen's slow_conv2d runs (`timed_convs`)."""
    timed = timed_convs(spec, rows, fitted, onednn=False)
    best: tuple[float, float] = (math.inf, 0.0)
    with trying("SLOW_CONV_MKL_SHARE"):
        for value in np.arange(0.50, 1.001, 0.01):
            framework.SLOW_CONV_MKL_SHARE = round(float(value), 2)
            best = min(best, (median_error(spec, timed), framework.SLOW_CONV_MKL_SHARE))
    return best[1]


@contextmanager
def trying(*names: str) -> Iterator[None]:
    """Lets a fit set framework.py's constants `names` to trial values; puts the originals
    back however it ends."""
    saved = {name: getattr(framework, name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(framework, name, value)


def measured_threads(row: Mapping[str, Any]) -> list[tuple[int, float]]:
    """(threads, microseconds) of each `us_tN` a row carries."""
    return [(int(k.removeprefix("us_t")), v) for k, v in row.items()
            if k.startswith("us_t") and not k.endswith("_rounds")]


def nonnegative_least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin |a·x - b|² over x ≥ 0, by trying every set of free unknowns (a handful of
    columns only): the feasible least-squares solution of least residual."""
    columns = a.shape[1]
    best, best_residual = np.zeros(columns), float(np.sum(b ** 2))
    for mask in range(1, 2 ** columns):
        free = [c for c in range(columns) if mask >> c & 1]
        x_free, *_ = np.linalg.lstsq(a[:, free], b, rcond=None)
        if np.any(x_free < 0):
            continue
        x = np.zeros(columns)
        x[free] = x_free
        residual = float(np.sum((a @ x - b) ** 2))
        if residual < best_residual:
            best, best_residual = x, residual
    return best


def harness_case(row: Mapping[str, Any]) -> tuple[tuple[int, ...], Gemm | None]:
    """(bytes of the tensors a timed case holds, its op where the heap model follows its calls:
    a convolution or a Linear) as torch_layers._runner makes them."""
    kind = row["kind"]
    if kind == "conv":
        weights = row["k"] * row["c"] * row["r"] * row["s"] * FLOAT
        return (row["n"] * row["c"] * row["h"] * row["w"] * FLOAT, weights), conv_gemm(row)
    if kind == "linear":
        held = (row["out"] * row["in"] * FLOAT, row["out"] * FLOAT,
                row["batch"] * row["in"] * FLOAT)
        return held, Gemm("linear", row["batch"], row["in"], row["out"])
    return (), None


def harness_refaults_us(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
                        threads: int) -> list[float]:
    """Per row, the microseconds of heap pages its calls fault in again in the process that
    timed every row carrying a `us_t<threads>` timing, in order (buffers.harness_refault_bytes);
    0 for the rest."""
    timed = [i for i, row in enumerate(rows) if f"us_t{threads}" in row]
    team = spec.replace(cores=threads)
    faults = buffers.harness_refault_bytes(team, [harness_case(rows[i]) for i in timed])
    out = [0.0] * len(rows)
    for i, size in zip(timed, faults, strict=True):
        out[i] = buffers.refault_s(team, size, threads) * 1e6
    return out


def compare(spec: CPUSpec, rows: Sequence[Mapping[str, Any]],
            families: Iterable[str] = FAMILIES, held_out: bool = False) -> tuple[LayerRow, ...]:
    """Each row at each thread count it was timed at against the model; `held_out`: no
    constant was fitted on any of them (else the even rows of each family, `in_fit`)."""
    wanted = set(families)
    refaults = cache(partial(harness_refaults_us, spec, rows))
    out = []
    for i, (row, fitted) in enumerate(zip(rows, in_fit(rows), strict=True)):
        if family_of(row) not in wanted:
            continue
        for threads, value in measured_threads(row):
            predicted = predicted_us(spec, row, threads) + refaults(threads)[i]
            if not math.isfinite(predicted):
                raise AccelsimError(f"{case_name(row)}: no finite prediction")
            out.append(LayerRow(family_of(row), case_name(row), threads, value,
                                predicted, fitted and not held_out))
    return tuple(out)


def fit_page_fault(spec: CPUSpec, rows: Sequence[Mapping[str, Any]]) -> float | None:
    """Seconds per page fault from the rows `in_fit` selects whose calls the heap model says
    fault pages in again (`harness_refaults_us`): the least-squares cost per page of what
    they took beyond the model without faults; None where no such row was timed. Specs
    calibrated before 2026-12-07 timed faults on transparent huge pages (0.41 µs a 4 KiB page
    on the Zen 4 VM, where 4 KiB pages cost 1.7-2.1 µs); this re-derives the cost from the
    host's own rows."""
    per_page = spec.replace(page_fault_s=1.0)  # each row's refaults, µs per s a fault costs
    fitted = in_fit(rows)
    lever = fault = 0.0
    for t in sorted({t for row in rows for t, _ in measured_threads(row)}):
        per_second = harness_refaults_us(per_page, rows, t)
        for i, (row, fit) in enumerate(zip(rows, fitted, strict=True)):
            us = dict(measured_threads(row)).get(t)
            if fit and us is not None and per_second[i] > 0:
                lever += per_second[i] ** 2
                fault += per_second[i] * (us - predicted_us(spec, row, t))
    return fault / lever if lever else None


def replay_spec(doc: dict[str, Any]) -> CPUSpec | None:
    """A recorded layer file's spec as `recorded.replay_spec_of` re-derives it, with its page
    fault cost re-derived from its own fitted rows where they fault (`fit_page_fault`; not in
    a file whose rows are all held out, `layers.held_out`)."""
    spec = recorded.replay_spec_of(doc)
    layers = doc.get("layers", {})
    if spec is None or layers.get("held_out", False):
        return spec
    fault = fit_page_fault(spec, layers.get("rows", []))
    return spec if fault is None else spec.replace(page_fault_s=fault)


def recorded_report(name: str, families: Iterable[str] = FAMILIES) -> LayerReport:
    """A recorded host's layer rows (`layers.rows`) against the model of its spec
    (`replay_spec`); a file whose `layers.held_out` is true had no constant fitted on it, and
    all its rows are reported as held out."""
    doc = recorded.read(name)
    spec = replay_spec(doc)
    if spec is None or "rows" not in doc.get("layers", {}):
        raise AccelsimError(f"{name} carries no spec with layers.rows to replay")
    return LayerReport(f"{name.removesuffix('.json')} (recorded, {spec.cores} cores)",
                       compare(spec, doc["layers"]["rows"], families,
                               bool(doc["layers"].get("held_out", False))))


def live_report(cpu: CPU, families: Iterable[str] = LIVE_FAMILIES,
                rounds: int = torch_layers.ROUNDS) -> LayerReport:
    """The held-out cases (`torch_layers.cases()` that `in_fit` leaves out: shapes no constant
    was fitted on) timed live through PyTorch on this host, at 1 thread and at every core
    (`torch_layers.measure_rounds`), against the model of `cpu`'s calibrated spec."""
    if not torch_networks.torch_available():
        raise AccelsimError("timing layers live needs PyTorch, which is not installed; "
                            "install it with `pip install torch==2.13.0` (the CPU build)")
    wanted = set(families)
    cases = torch_layers.cases()
    timed = [not fitted and family_of(case) in wanted
             for case, fitted in zip(cases, in_fit(cases), strict=True)]
    measured = iter(torch_layers.measure_rounds(
        [case for case, live in zip(cases, timed, strict=True) if live],
        sorted({1, cpu.spec.cores}), rounds))
    rows = [next(measured) if live else case for case, live in zip(cases, timed, strict=True)]
    return LayerReport(f"{cpu.name} (live, {cpu.spec.cores} cores)",
                       compare(cpu.spec, rows, wanted))


def summary(report: LayerReport) -> dict[str, float]:
    """Median absolute error and rows off by more than 2× per family, held-out rows."""
    out = {}
    for family in FAMILIES:
        rows = report.held_out(family)
        if rows:
            out[f"{family}_median"] = median_ape(rows)
            out[f"{family}_over_2x"] = fraction_over_2x(rows)
    return out
