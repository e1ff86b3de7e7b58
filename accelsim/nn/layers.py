"""Layer base class and the generic parameter parsing shared by every layer type.

A layer is an immutable description (its TOML fields) plus pure functions: parameters are
passed in, never stored, so one layer serves fp32 training, reduced-precision inference and
int8 quantization alike. Shapes are per sample (no batch axis). Recurrent layers see
(time, features); everything else as the data arrives (channels, height, width) or (features,).

A network is a graph: a layer reads the layer before it, unless its `inputs` name others
(earlier layers, or "input" for the network's input). Most layers read one tensor
(`arity` 1: `output_shape`, `forward`, `backward`); merging layers (add, concat) read two or
more (`arity` None) and override the `*_of` forms, which every network calls.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.numerics import Numerics

Shape = tuple[int, ...]
Params = dict[str, np.ndarray]


class LayerSpecError(Exception):
    """Raised by layers on a bad field or shape; the loader adds the file and layer."""


FieldValue = int | float | bool | str | tuple[int, ...] | tuple[str, ...]
"""A layer field's value, checked (`parse_field`)."""
INPUT = "input"  # the name a layer's `inputs` give the network's input


def field_spec(kind: str, default: Any = dataclasses.MISSING, doc: str = "") -> Any:
    """A dataclass field with a parse kind: pos_int, nonneg_int, int, pair, pads, float, bool,
    str, names."""
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


def _parse_pads(key: str, value: object) -> tuple[int, int, int, int]:
    """Zero padding as (top, left, bottom, right): one number, [h, w], or all four."""
    if isinstance(value, list | tuple) and len(value) in (2, 4):
        sides = [_parse_int(key, v, 0) for v in value]
        top, left, bottom, right = sides * 2 if len(sides) == 2 else sides
        return (top, left, bottom, right)
    if isinstance(value, list | tuple):
        raise LayerSpecError(f"{key} = {value!r} must be one number, [h, w] or [top, left, "
                             "bottom, right]")
    size = _parse_int(key, value, 0)
    return (size, size, size, size)


def _parse_names(key: str, value: object) -> tuple[str, ...]:
    """Layer names: one string or a non-empty list of them."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or not all(
            isinstance(n, str) and n for n in names):
        raise LayerSpecError(f"{key} = {value!r} must be a layer's name or a list of names, "
                             f'e.g. inputs = ["block1", "{INPUT}"]')
    return tuple(names)


def parse_field(kind: str, key: str, value: object) -> FieldValue:
    """Validate one TOML value for a field of the given kind."""
    if kind == "pos_int":
        return _parse_int(key, value, 1)
    if kind == "nonneg_int":
        return _parse_int(key, value, 0)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise LayerSpecError(f"{key} = {value!r} must be an integer")
        return value
    if kind == "pair":
        return _parse_pair(key, value)
    if kind == "pads":
        return _parse_pads(key, value)
    if kind == "names":
        return _parse_names(key, value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LayerSpecError(f"{key} = {value!r} must be a number")
        if not math.isfinite(float(value)):
            raise LayerSpecError(f"{key} = {value!r} must be a finite number; nan and inf "
                                 "are not values a layer can use")
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
    """Base layer: identity shape, no parameters. Subclasses set `type_name`; `inputs` names
    the layers it reads (empty: the layer before it)."""

    name: str
    inputs: tuple[str, ...] = dataclasses.field(default=(), kw_only=True,
                                                metadata={"kind": "names", "doc": ""})
    type_name: ClassVar[str] = "layer"
    arity: ClassVar[int | None] = 1  # how many tensors it reads; None: two or more

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
            value = getattr(self, f.name)
            if f.name != "name" and not (f.name == "inputs" and not value) and value is not None:
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

    # ---- the forms a network calls, for one input or several ---------------------------

    def output_shape_of(self, shapes: tuple[Shape, ...]) -> Shape:
        """The output shape for the input shapes (one, unless the layer merges)."""
        return self.output_shape(shapes[0])

    def param_shapes_of(self, shapes: tuple[Shape, ...]) -> dict[str, Shape]:
        return self.param_shapes(shapes[0])

    def init_params_of(self, shapes: tuple[Shape, ...], rng: np.random.Generator) -> Params:
        return self.init_params(shapes[0], rng)

    def forward_of(self, params: Params, xs: tuple[np.ndarray, ...], num: Numerics,
                   train: bool = False) -> tuple[np.ndarray, Any]:
        """Forward over the layer's inputs; `train`: as in training (batch statistics)."""
        return self.forward(params, xs[0], num)

    def backward_of(self, params: Params, cache: Any,
                    dy: np.ndarray) -> tuple[tuple[np.ndarray, ...], Params]:
        """Gradients with respect to each input, and to each parameter."""
        dx, grads = self.backward(params, cache, dy)
        return (dx,), grads

    def buffers_after(self, params: Params, cache: Any) -> Params:
        """State a training step updates besides the gradients (batch norm's running
        statistics), from its forward cache; none for most layers."""
        return {}

    def trainable(self, key: str) -> bool:
        """Whether a parameter learns by gradient (running statistics do not)."""
        return True


def layer_sources(layers: tuple[Layer, ...]) -> tuple[tuple[str, ...], ...]:
    """The names each layer reads, in layer order: its `inputs`, else the layer before it
    ("input": the network's input)."""
    out, previous = [], INPUT
    for layer in layers:
        out.append(layer.inputs or (previous,))
        previous = layer.name
    return tuple(out)


def he_normal(rng: np.random.Generator, shape: Shape, fan_in: int) -> np.ndarray:
    """He initialisation for ReLU networks: N(0, 2/fan_in)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def uniform_init(rng: np.random.Generator, shape: Shape, bound: float) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)
