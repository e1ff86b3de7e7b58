"""Predicted against measured: the error measures every validation report uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Compared:
    """Mixin for a row with `measured_us` and `predicted_us`."""

    measured_us: float
    predicted_us: float

    @property
    def error(self) -> float:
        """(predicted − measured) / measured."""
        return (self.predicted_us - self.measured_us) / self.measured_us

    @property
    def off_by_2x(self) -> bool:
        return not 0.5 <= self.predicted_us / self.measured_us <= 2.0


def median_ape(rows: Sequence[Compared]) -> float:
    """Median absolute percentage error (as a fraction)."""
    return float(np.median([abs(r.error) for r in rows]))


def fraction_over_2x(rows: Sequence[Compared]) -> float:
    return sum(r.off_by_2x for r in rows) / len(rows)


@dataclass(frozen=True)
class NetworkRow(Compared):
    """One whole network at one batch and precision: `time` is "device" (the machine busy,
    data resident: `RunResult.device_seconds`) or "end to end" (`RunResult.seconds`)."""

    network: str
    batch: int
    precision: str
    time: str
    measured_us: float
    predicted_us: float
    note: str = ""  # what the measurement was (threads, implementation), if not plain


@dataclass(frozen=True)
class NetworkReport:
    """Predicted against measured whole networks on one machine."""

    machine: str
    source: str  # where the measurements come from (a file, or live on this host)
    rows: tuple[NetworkRow, ...]

    def of(self, time: str) -> tuple[NetworkRow, ...]:
        return tuple(r for r in self.rows if r.time == time)

    def summary(self, time: str) -> str:
        rows = self.of(time)
        if not rows:
            return f"{time}: no measurements"
        return (f"{time}: median absolute error {median_ape(rows):.1%} over {len(rows)} "
                f"points, {sum(r.off_by_2x for r in rows)} off by more than 2x")

    def text(self) -> str:
        lines = [f"{self.machine}: whole networks, predicted vs measured (µs); {self.source}",
                 f"  {'network':<12}{'batch':>7} {'prec':<5} {'time':<11}{'measured':>11}"
                 f"{'predicted':>11}{'error':>9}"]
        lines += [f"  {r.network:<12}{r.batch:>7} {r.precision:<5} {r.time:<11}"
                  f"{r.measured_us:>11.1f}{r.predicted_us:>11.1f}{r.error:>+9.1%}"
                  f"{' >2x' if r.off_by_2x else ''}{'  ' + r.note if r.note else ''}"
                  for r in self.rows]
        times = dict.fromkeys(r.time for r in self.rows)
        lines += [self.summary(t) for t in times]
        return "\n".join(lines)
