"""Layer base class and the generic parameter parsing shared by every layer type.

A layer is an immutable description (its TOML fields) plus pure functions: parameters are
passed in, never stored, so one layer serves fp32 training, reduced-precision inference and
int8 quantization alike. Shapes are per sample (no batch axis). Recurrent layers see
(time, features); everything else as the data arrives (channels, height, width) or (features,).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.numerics import Numerics

Shape = tuple[int, ...]
Params = dict[str, np.ndarray]


class LayerSpecError(Exception):
    """Raised by layers on a bad field or shape; the loader adds the file and layer."""


FieldValue = int | float | bool | str | tuple[int, int]
"""A layer field's value, checked (`parse_field`)."""


def field_spec(kind: str, default: Any = dataclasses.MISSING, doc: str = "") -> Any:
    """A dataclass field with a parse kind: pos_int, nonneg_int, pair, float, bool, str."""
    return dataclasses.field(default=default, metadata={"kind": kind, "doc": doc})


def _parse_int(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayerSpecError(f"{key} = {value!r} must be an integer")
    if value < minimum:
        bound = "positive" if minimum == 1 else "non-negative"
        raise LayerSpecError(f"{key} = {value} must be {bound}")
    return value


def _parse_pair(key: str, value: object) -> tuple[int, int]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise LayerSpecError(f"{key} = {value!r} must be an integer or a pair [h, w]")
        return (_parse_int(key, value[0], 1), _parse_int(key, value[1], 1))
    size = _parse_int(key, value, 1)
    return (size, size)


def parse_field(kind: str, key: str, value: object) -> FieldValue:
    """Validate one TOML value for a field of the given kind."""
    if kind == "pos_int":
        return _parse_int(key, value, 1)
    if kind == "nonneg_int":
        return _parse_int(key, value, 0)
    if kind == "pair":
        return _parse_pair(key, value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LayerSpecError(f"{key} = {value!r} must be a number")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise LayerSpecError(f"{key} = {value!r} must be true or false")
        return value
    if not isinstance(value, str):
        raise LayerSpecError(f"{key} = {value!r} must be a string")
    return value


@dataclass(frozen=True)
class Layer(ABC):
    """Base layer: identity shape, no parameters. Subclasses set `type_name`."""

    name: str
    type_name: ClassVar[str] = "layer"

    @classmethod
    def from_fields(cls, name: str, table: dict[str, Any]) -> Layer:
        """Build from a TOML table (without 'type' and 'name'), rejecting unknown keys."""
        specs = {f.name: f for f in dataclasses.fields(cls) if f.name != "name"}
        unknown = sorted(set(table) - set(specs))
        if unknown:
            allowed = ", ".join(sorted(specs)) or "no fields"
            raise LayerSpecError(f"unknown field(s) {', '.join(unknown)}; {cls.type_name} takes "
                                 f"{allowed}")
        values: dict[str, Any] = {}
        for key, spec in specs.items():
            if key in table:
                values[key] = parse_field(spec.metadata["kind"], key, table[key])
            elif spec.default is dataclasses.MISSING:
                raise LayerSpecError(f"missing required field {key!r}")
        return cls(name=name, **values)

    def to_fields(self) -> dict[str, Any]:
        """The TOML table that rebuilds this layer."""
        out: dict[str, Any] = {"name": self.name, "type": self.type_name}
        for f in dataclasses.fields(self):
            if f.name != "name":
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        return {}

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        return {}

    @abstractmethod
    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        """Batched forward pass: output and the cache its backward pass needs."""

    @abstractmethod
    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        """Gradient with respect to the input, and to each parameter."""


def he_normal(rng: np.random.Generator, shape: Shape, fan_in: int) -> np.ndarray:
    """He initialisation for ReLU networks: N(0, 2/fan_in)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def uniform_init(rng: np.random.Generator, shape: Shape, bound: float) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)
