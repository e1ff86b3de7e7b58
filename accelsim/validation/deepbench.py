"""DeepBench's published V100 kernel times (accelsim/measure/data/deepbench-v100.json: Baidu's
DeepBench, results/train/DeepBench_NV_V100.xlsx, one DGX-1 V100, CUDA 10.1, cuDNN 7.6) against
the `gpu-v100` model, which was fitted on none of them: an out-of-sample check.

`accelsim validate gpu-v100 --deepbench` prints `deepbench_report`: for each family (GEMM,
convolution, LSTM, GRU, vanilla RNN) and precision, the rows, the median absolute error, the
rows off by more than 2× and the worst rows. Each family's rows come from its own module:

- GEMMs (`gemm_rows`, here): cuBLAS C[M,N] = A[M,K]·B[K,N] in fp32 and fp16 (tensor cores
  allowed), one call's average time, each against the kernel the model picks for the shape
  (gemm.py `choose_kernel`) with its operands' layouts from the file's transposes (cuBLAS is
  column-major: A is K-major when transposed, B when not).
- Convolutions: `accelsim.validation.deepbench_conv.conv_rows(gpu, precision)`.
- LSTM, GRU, vanilla RNN: `accelsim.validation.deepbench_rnn.rnn_rows(gpu, precision,
  family)` with family "lstm", "gru" or "vanilla".

A family whose module (or function) does not exist is reported as not modelled yet.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from accelsim.machines.gpu.core import GPU
from accelsim.machines.gpu.gemm import choose_kernel
from accelsim.measure.recorded import read
from accelsim.precision import Precision
from accelsim.validation.comparison import Compared, median_ape
from accelsim.validation.gpu_recorded import Report, Row

FILE = "deepbench-v100.json"
PRESET = "gpu-v100"  # the GPU the file was measured on
SHEETS = {"fp32": Precision.FP32, "fp16": Precision.FP16}
WORST = 3  # rows shown per family and precision


def gemm_rows(gpu: GPU, precision: Precision) -> list[Row]:
    """Every DeepBench GEMM of one sheet against the model's kernel for its shape."""
    rows = []
    for g in read(FILE)[precision.value]["gemm"]:
        choice = choose_kernel(g["M"], g["K"], g["N"], gpu.spec, precision,
                               a_k_major=g["ta"] == "T", b_k_major=g["tb"] == "N")
        rows.append(Row(f"{g['app']} {g['M']}x{g['K']}x{g['N']} {g['ta']}{g['tb']}", precision,
                        g["ms"] * 1e3, choice.seconds * 1e6, choice.name))
    return rows


def gemm_report(gpu: GPU) -> Report:
    """DeepBench's fp32 and fp16 GEMMs against `gpu`'s model."""
    return Report(f"{gpu.name} against DeepBench (V100)",
                  tuple(row for p in SHEETS.values() for row in gemm_rows(gpu, p)))


Rows = Callable[[GPU, Precision], Sequence[Compared]]


def _elsewhere(module: str, function: str, *args: str) -> Rows | None:
    """`module.function(gpu, precision, *args)` as a row source, or None while the module or
    the function does not exist (a missing module imported by it is an error, not absence)."""
    name = f"accelsim.validation.{module}"
    try:
        found = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        return None
    rows = getattr(found, function, None)
    if rows is None:
        return None
    return lambda gpu, precision: rows(gpu, precision, *args)


def sources() -> dict[str, Rows | None]:
    """Each family's row source, by the name the report prints (None: not modelled yet)."""
    return {"GEMM": gemm_rows,
            "convolution": _elsewhere("deepbench_conv", "conv_rows"),
            "LSTM": _elsewhere("deepbench_rnn", "rnn_rows", "lstm"),
            "GRU": _elsewhere("deepbench_rnn", "rnn_rows", "gru"),
            "vanilla RNN": _elsewhere("deepbench_rnn", "rnn_rows", "vanilla")}


@dataclass(frozen=True)
class Family:
    """One family at one precision: its rows, or None while it is not modelled yet."""

    name: str
    precision: Precision
    rows: tuple[Compared, ...] | None

    @property
    def over_2x(self) -> int:
        return sum(r.off_by_2x for r in self.rows or ())

    def worst(self, count: int = WORST) -> tuple[Compared, ...]:
        return tuple(sorted(self.rows or (), key=lambda r: -abs(r.error))[:count])

    def summary(self) -> str:
        head = f"{self.name:<13}{self.precision.value:<6}"
        if self.rows is None:
            return f"{head}not modelled yet"
        if not self.rows:
            return f"{head}no rows"
        return (f"{head}{len(self.rows):>5}{median_ape(self.rows):>9.1%}"
                f"{self.over_2x:>6} ({self.over_2x / len(self.rows):.0%})")


def _row_text(row: Compared) -> str:
    label = getattr(row, "label", "")
    kernel = getattr(row, "kernel", "")
    return (f"    {label:<44}{row.measured_us:>11.1f}{row.predicted_us:>11.1f}"
            f"{row.error:>+9.1%}{' >2x' if row.off_by_2x else ''}{'  ' + kernel if kernel else ''}")


@dataclass(frozen=True)
class DeepBenchReport:
    """Every DeepBench family and precision against one GPU model."""

    machine: str
    families: tuple[Family, ...]

    def family(self, name: str, precision: Precision) -> Family:
        return next(f for f in self.families if f.name == name and f.precision is precision)

    def text(self) -> str:
        lines = [f"{self.machine} against DeepBench (V100, accelsim/measure/data/{FILE}): "
                 "predicted vs measured", "",
                 f"{'family':<13}{'prec':<6}{'rows':>5}{'median':>9}{'>2x':>6}"]
        lines += [f.summary() for f in self.families]
        for f in self.families:
            if f.rows:
                lines += ["", f"worst {f.name} {f.precision.value} (µs: measured, predicted, "
                              "error)"]
                lines += [_row_text(r) for r in f.worst()]
        return "\n".join(lines)


def deepbench_report(gpu: GPU) -> DeepBenchReport:
    """Every DeepBench family and precision that is modelled against `gpu`'s model."""
    families = []
    for name, rows in sources().items():
        for precision in SHEETS.values():
            found = None if rows is None else tuple(rows(gpu, precision))
            families.append(Family(name, precision, found))
    return DeepBenchReport(gpu.name, tuple(families))
