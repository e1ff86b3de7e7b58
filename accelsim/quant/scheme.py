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
- activation_bits: the width of the activations each conv2d/linear/recurrent layer reads
  (its GEMM's A operand): 8, or 16 (symmetric int16, zero point 0, as TFLite's 16×8 mode;
  on the TPU v1 the matrix unit's 8b×16b mode at half speed). One width for every layer,
  and `layer_bits` overrides per layer. Weights are always int8.
- cell_bits: the LSTM cell state's width, 8, 16 or 32, as a power-of-two fixed-point
  format whose integer bits cover the calibrated cell range.
- lut_size, lut_range: the sigmoid/tanh gate tables. By default a table has one entry per
  code of the gate pre-activations (256 at 8 bits, 65,536 at 16) over their calibrated
  range; `lut_size` entries (a power of two) over ±`lut_range` (default: the calibrated
  range) are indexed by a fixed-point rescale of the code instead.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from numbers import Integral
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
ACTIVATION_BITS = (8, 16)
CELL_BITS = (8, 16, 32)
DEFAULT_CELL_BITS = 16
LUT_SIZES = tuple(1 << b for b in range(4, 17))  # 16 … 65,536 entries
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Scheme:
    """One int8 quantization scheme; `Scheme()` is the default (per tensor, symmetric, max)."""

    weights: Weights = Weights.PER_TENSOR
    activations: Activations = Activations.SYMMETRIC
    calibrate: Calibration = Calibration.MAX
    percentile: float = DEFAULT_PERCENTILE
    activation_bits: int = 8
    layer_bits: tuple[tuple[str, int], ...] = ()  # (layer, bits) overrides, sorted by name
    cell_bits: int = DEFAULT_CELL_BITS
    lut_size: int | None = None
    lut_range: float | None = None

    def __post_init__(self) -> None:
        """Plain strings become the enums (`Scheme(weights="per_channel")` means what it
        says) and a dict of layer bits a sorted tuple; a bad value is a QuantizationError."""
        for name, enum in (("weights", Weights), ("activations", Activations),
                           ("calibrate", Calibration)):
            value = getattr(self, name)
            if not isinstance(value, enum):
                object.__setattr__(self, name, _choice(enum, name, value))
        object.__setattr__(self, "activation_bits",
                           _check_member("activation_bits", self.activation_bits,
                                         ACTIVATION_BITS))
        layers = {layer: _check_member(f"activation_bits[{layer!r}]", bits, ACTIVATION_BITS)
                  for layer, bits in dict(self.layer_bits).items()}
        object.__setattr__(self, "layer_bits", tuple(sorted(layers.items())))
        object.__setattr__(self, "cell_bits", _check_member("cell_bits", self.cell_bits,
                                                            CELL_BITS))
        if self.lut_size is not None:
            object.__setattr__(self, "lut_size", _check_member("lut_size", self.lut_size,
                                                               LUT_SIZES))
        if self.lut_range is not None:
            r = self.lut_range
            if isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r < math.inf:
                raise QuantizationError(f"lut_range = {r!r} must be a positive number, the "
                                        "half-width of the tables' input range (e.g. 8.0)")
            object.__setattr__(self, "lut_range", float(r))

    def bits_for(self, layer: str) -> int:
        """The width of the activations `layer` reads (8 or 16)."""
        return dict(self.layer_bits).get(layer, self.activation_bits)

    @property
    def default_tables(self) -> bool:
        """True when gate tables index the codes directly (no lut_size or lut_range)."""
        return self.lut_size is None and self.lut_range is None

    @classmethod
    def parse(cls, weights: str = "per_tensor", activations: str = "symmetric",
              calibrate: str = "max", percentile: float = DEFAULT_PERCENTILE,
              activation_bits: int | Mapping[str, int] = 8,
              cell_bits: int = DEFAULT_CELL_BITS, lut_size: int | None = None,
              lut_range: float | None = None) -> Scheme:
        """The scheme named by `quantize`'s keywords; a bad value is a QuantizationError.
        `activation_bits` is one width for every layer or a {layer: bits} dict (others 8)."""
        p = percentile
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 100 \
                or math.isnan(p):
            raise QuantizationError(f"percentile = {p!r} must be a number in (0, 100], e.g. "
                                    f"{DEFAULT_PERCENTILE} (100 is the same as calibrate='max')")
        default: int = 8
        layers: tuple[tuple[str, int], ...] = ()
        if isinstance(activation_bits, Mapping):
            layers = tuple(activation_bits.items())
        else:
            default = activation_bits
        return cls(_choice(Weights, "weights", weights),
                   _choice(Activations, "activations", activations),
                   _choice(Calibration, "calibrate", calibrate), float(p), default, layers,
                   cell_bits, lut_size, lut_range)

    @property
    def zero_points(self) -> bool:
        """True when activations carry zero points (hardware must support them)."""
        return self.activations is Activations.ASYMMETRIC

    @property
    def label(self) -> str:
        """Short name for tables: 'per_channel/asymmetric/percentile(99.9)', then what differs
        from the defaults: ' a16' (16-bit activations; 'a16[fc1]' for some layers), ' c8' or
        ' c32' (cell state), ' lut64' and ' lut±8' (gate tables)."""
        cal = str(self.calibrate)
        if self.calibrate is Calibration.PERCENTILE:
            cal += f"({self.percentile:g})"
        return f"{self.weights}/{self.activations}/{cal}" + "".join(
            f" {part}" for part in self._extras())

    def _extras(self) -> list[str]:
        parts = []
        if self.activation_bits != 8:
            parts.append(f"a{self.activation_bits}")
        for bits in ACTIVATION_BITS:
            names = [name for name, b in self.layer_bits if b == bits != self.activation_bits]
            if names:
                parts.append(f"a{bits}[{','.join(names)}]")
        if self.cell_bits != DEFAULT_CELL_BITS:
            parts.append(f"c{self.cell_bits}")
        if self.lut_size is not None:
            parts.append(f"lut{self.lut_size}")
        if self.lut_range is not None:
            parts.append(f"lut±{self.lut_range:g}")
        return parts

    def __repr__(self) -> str:
        extra = f", percentile={self.percentile:g}" \
            if self.calibrate is Calibration.PERCENTILE else ""
        for name, default in (("activation_bits", 8), ("cell_bits", DEFAULT_CELL_BITS),
                              ("lut_size", None), ("lut_range", None)):
            if getattr(self, name) != default:
                extra += f", {name}={getattr(self, name)!r}"
        if self.layer_bits:
            extra += f", layer_bits={dict(self.layer_bits)!r}"
        return (f"Scheme(weights={str(self.weights)!r}, activations={str(self.activations)!r}, "
                f"calibrate={str(self.calibrate)!r}{extra})")


def _check_member(name: str, value: object, allowed: tuple[int, ...]) -> int:
    """`value` as an int when it is a whole number (not a bool, not 16.0) among `allowed`."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value not in allowed:
        shown = f"{', '.join(map(str, allowed[:-1]))} or {allowed[-1]}" if len(allowed) < 5 \
            else f"a power of two from {allowed[0]} to {allowed[-1]:,}"
        whole = "" if isinstance(value, Integral) or not isinstance(value, int | float) \
            else " (a whole number)"
        raise QuantizationError(f"{name} = {value!r} must be {shown}{whole}")
    return int(value)


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
