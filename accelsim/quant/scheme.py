"""Quantization schemes: how weights are scaled, how activations are mapped, how ranges are
calibrated. The strings a user passes to `quantize` become these enums once, here.

- weights: `per_tensor` (one scale per layer) or `per_channel` (one scale per output
  channel of a conv2d/linear layer and per gate column of a recurrent layer); weights are
  always symmetric int8 in [−127, 127], scaled from their own largest magnitude.
- activations: `symmetric` (int8 in [−127, 127], zero point 0: real = q·s) or
  `asymmetric` (int8 in [−128, 127] with a zero point z: real = (q − z)·s, Jacob et al.,
  CVPR 2018, with int8 storage as in TFLite rather than their uint8; real 0 is exact).
- calibrate: the activation range kept from the calibration data: `max` (the extremes
  seen), `percentile` (the `percentile`-th percentile of |x|, or the (100 − p)-th and p-th
  percentiles of x when asymmetric), or `mse` (the candidate of `calibration.MSE_GRID` that
  minimises the mean squared quantization error of the calibration activations).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from accelsim.errors import QuantizationError


class Weights(StrEnum):
    PER_TENSOR = "per_tensor"
    PER_CHANNEL = "per_channel"


class Activations(StrEnum):
    SYMMETRIC = "symmetric"
    ASYMMETRIC = "asymmetric"


class Calibration(StrEnum):
    MAX = "max"
    PERCENTILE = "percentile"
    MSE = "mse"


DEFAULT_PERCENTILE = 99.99
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Scheme:
    """One int8 quantization scheme; `Scheme()` is the default (per tensor, symmetric, max)."""

    weights: Weights = Weights.PER_TENSOR
    activations: Activations = Activations.SYMMETRIC
    calibrate: Calibration = Calibration.MAX
    percentile: float = DEFAULT_PERCENTILE

    def __post_init__(self) -> None:
        """Plain strings become the enums (`Scheme(weights="per_channel")` means what it
        says); a bad value is a QuantizationError."""
        for name, enum in (("weights", Weights), ("activations", Activations),
                           ("calibrate", Calibration)):
            value = getattr(self, name)
            if not isinstance(value, enum):
                object.__setattr__(self, name, _choice(enum, name, value))

    @classmethod
    def parse(cls, weights: str = "per_tensor", activations: str = "symmetric",
              calibrate: str = "max", percentile: float = DEFAULT_PERCENTILE) -> Scheme:
        """The scheme named by `quantize`'s keywords; a bad value is a QuantizationError."""
        p = percentile
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 100 \
                or math.isnan(p):
            raise QuantizationError(f"percentile = {p!r} must be a number in (0, 100], e.g. "
                                    f"{DEFAULT_PERCENTILE} (100 is the same as calibrate='max')")
        return cls(_choice(Weights, "weights", weights),
                   _choice(Activations, "activations", activations),
                   _choice(Calibration, "calibrate", calibrate), float(p))

    @property
    def zero_points(self) -> bool:
        """True when activations carry zero points (hardware must support them)."""
        return self.activations is Activations.ASYMMETRIC

    @property
    def label(self) -> str:
        """Short name for tables: 'per_channel/asymmetric/percentile(99.9)'."""
        cal = str(self.calibrate)
        if self.calibrate is Calibration.PERCENTILE:
            cal += f"({self.percentile:g})"
        return f"{self.weights}/{self.activations}/{cal}"

    def __repr__(self) -> str:
        extra = f", percentile={self.percentile:g}" \
            if self.calibrate is Calibration.PERCENTILE else ""
        return (f"Scheme(weights={str(self.weights)!r}, activations={str(self.activations)!r}, "
                f"calibrate={str(self.calibrate)!r}{extra})")


def _choice(enum: type[E], field: str, value: object) -> E:
    options = [str(member) for member in enum]
    if isinstance(value, str) and value in options:
        return enum(value)
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower().replace("-", "_"), options, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise QuantizationError(f"{field} = {value!r} must be one of "
                            f"{', '.join(repr(o) for o in options)}{hint}")


DEFAULT_SCHEME = Scheme()
