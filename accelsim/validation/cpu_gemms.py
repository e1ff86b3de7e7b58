"""The CPU model's GEMMs against measured ones: live on this host (`validate`, timed by
`accelsim.measure.gemm_timing`: the model runs with the calibration taken in the same
interleaved rounds, each the fastest round as the GEMMs are) or a recorded host replayed
with the spec recorded beside its timings (`replay`, deterministic: it runs anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.machines.cpu.blis import predict
from accelsim.machines.cpu.core import CPU
from accelsim.measure.gemm_timing import SHAPES, Shape, measure_all
from accelsim.measure.host import calibrate_blas
from accelsim.measure.recorded import read, replay_spec_of
from accelsim.validation.comparison import Compared, fraction_over_2x, median_ape


@dataclass(frozen=True)
class CpuRow(Compared):
    m: int
    k: int
    n: int
    measured_us: float
    predicted_us: float
    kernel: str

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


@dataclass(frozen=True)
class CpuReport:
    machine: str
    rows: tuple[CpuRow, ...]

    def median_ape(self) -> float:
        return median_ape(self.rows)

    def fraction_over_2x(self) -> float:
        return fraction_over_2x(self.rows)

    def text(self) -> str:
        lines = [f"{self.machine}: numpy/BLAS fp32 GEMMs, predicted vs measured (µs)"]
        lines += [f"  {r.m:>7}×{r.k:<5}×{r.n:<5}{r.flops:>14,} flop{r.measured_us:>11.2f}"
                  f"{r.predicted_us:>11.2f}{r.error:>+9.1%}{' >2x' if r.off_by_2x else ''}"
                  f"  {r.kernel}" for r in self.rows]
        lines.append(f"median absolute error {self.median_ape():.1%}, "
                     f"{self.fraction_over_2x():.0%} of shapes off by more than 2x")
        return "\n".join(lines)


def validate(cpu: CPU, shapes: tuple[Shape, ...] = SHAPES) -> CpuReport:
    """Measure every shape on this host and set the model's prediction beside it."""
    spec = cpu.spec
    measured, (clock, one, everyone, call, threaded) = measure_all(shapes, spec.cores)
    if spec.name == "cpu-host":
        spec = calibrate_blas(spec.replace(clock_hz=clock, call_overhead_s=call), one,
                              everyone, threaded)
    rows = []
    for (m, k, n), seconds in zip(shapes, measured, strict=True):
        gemm = predict(spec, m, k, n)
        rows.append(CpuRow(m, k, n, seconds * 1e6, gemm.seconds * 1e6,
                           f"{gemm.kernel} ×{gemm.threads}"))
    return CpuReport(cpu.name, tuple(rows))


def replay(name: str) -> CpuReport:
    """The model with the recorded spec (re-derived: `replay_spec_of`) against the
    recorded GEMM timings."""
    doc = read(name)
    spec = replay_spec_of(doc)
    if spec is None:
        raise ValueError(f"{name} carries no spec to replay")
    rows = []
    for row in doc["gemm"]["rows"]:
        gemm = predict(spec, row["m"], row["k"], row["n"])
        rows.append(CpuRow(row["m"], row["k"], row["n"], row["measured_us"],
                           gemm.seconds * 1e6, f"{gemm.kernel} ×{gemm.threads}"))
    return CpuReport(f"{name.removesuffix('.json')} (recorded, {spec.cores} cores)",
                     tuple(rows))
