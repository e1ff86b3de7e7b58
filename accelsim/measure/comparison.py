"""Predicted against measured: the error measures every validation report uses."""

from __future__ import annotations

from collections.abc import Sequence

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
