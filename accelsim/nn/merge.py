"""Layers that merge branches of a graph: `add` (a residual connection: the element-wise sum of
two or more tensors of one shape) and `concat` (tensors joined along one axis of the sample:
channels for (C, H, W) feature maps, the default; features, axis -1, for (T, F) sequences).
Neither has parameters; both name their inputs (`inputs = ["branch", "shortcut"]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec
from accelsim.nn.numerics import Numerics


@dataclass(frozen=True)
class Merge(Layer):
    """A layer that reads two or more tensors (`arity` None)."""

    arity: ClassVar[int | None] = None

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        raise LayerSpecError(f"{self.type_name} reads two or more tensors (forward_of)")

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        raise LayerSpecError(f"{self.type_name} reads two or more tensors (backward_of)")


@dataclass(frozen=True)
class Add(Merge):
    """y = x₁ + x₂ + …, every input of the same shape."""

    type_name: ClassVar[str] = "add"

    def output_shape_of(self, shapes: tuple[Shape, ...]) -> Shape:
        if any(shape != shapes[0] for shape in shapes):
            raise LayerSpecError(f"adds tensors of shapes {', '.join(map(str, shapes))}; they "
                                 "must be of one shape (project the shortcut to it, e.g. a "
                                 "1x1 conv2d with stride)")
        return shapes[0]

    def forward_of(self, params: Params, xs: tuple[np.ndarray, ...], num: Numerics,
                   train: bool = False) -> tuple[np.ndarray, Any]:
        y = xs[0]
        for x in xs[1:]:
            y = num.store(y + x)
        return y, len(xs)

    def backward_of(self, params: Params, cache: Any,
                    dy: np.ndarray) -> tuple[tuple[np.ndarray, ...], Params]:
        return (dy,) * cache, {}


@dataclass(frozen=True)
class Concat(Merge):
    """The inputs joined along `axis` of a sample (0: channels of (C, H, W); -1: the last)."""

    axis: int = field_spec("int", 0)
    type_name: ClassVar[str] = "concat"

    def _axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank:
            raise LayerSpecError(f"axis = {self.axis} is outside a sample of rank {rank}; use "
                                 f"0 to {rank - 1} (or -1 for the last)")
        return self.axis % rank

    def output_shape_of(self, shapes: tuple[Shape, ...]) -> Shape:
        axis = self._axis(len(shapes[0]))
        rest = {shape[:axis] + shape[axis + 1:] for shape in shapes}
        if len(rest) > 1 or {len(shape) for shape in shapes} != {len(shapes[0])}:
            raise LayerSpecError(f"joins tensors of shapes {', '.join(map(str, shapes))} on "
                                 f"axis {self.axis}; they must agree on every other axis")
        joined = sum(shape[axis] for shape in shapes)
        return (*shapes[0][:axis], joined, *shapes[0][axis + 1:])

    def forward_of(self, params: Params, xs: tuple[np.ndarray, ...], num: Numerics,
                   train: bool = False) -> tuple[np.ndarray, Any]:
        axis = 1 + self._axis(xs[0].ndim - 1)  # past the batch axis
        return np.concatenate(xs, axis=axis), (axis, [x.shape[axis] for x in xs])

    def backward_of(self, params: Params, cache: Any,
                    dy: np.ndarray) -> tuple[tuple[np.ndarray, ...], Params]:
        axis, sizes = cache
        return tuple(np.split(dy, np.cumsum(sizes)[:-1], axis=axis)), {}
