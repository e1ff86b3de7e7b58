"""Fully connected, flatten and element-wise layers (ReLU, sigmoid, tanh, softmax).

A linear layer acts on the last axis, so the same layer maps features (N, F) and sequences
(N, T, F). Its weight is stored as (in, out): the B operand of the GEMM C = A @ B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec, he_normal
from accelsim.nn.numerics import Numerics


@dataclass(frozen=True)
class Linear(Layer):
    """y = x @ W + b on the last axis."""

    out_features: int = field_spec("pos_int")
    in_features: int | None = field_spec("pos_int", None, "optional check of the input size")
    bias: bool = field_spec("bool", True)
    type_name: ClassVar[str] = "linear"

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) > 2:
            raise LayerSpecError(f"receives a {in_shape} input; add a flatten layer before it")
        if self.in_features is not None and in_shape[-1] != self.in_features:
            raise LayerSpecError(
                f"in_features = {self.in_features} but the previous layer gives {in_shape[-1]} "
                f"inputs (shape {in_shape}); set in_features = {in_shape[-1]} or fix the layer "
                "before it"
            )
        return (*in_shape[:-1], self.out_features)

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {"weight": (in_shape[-1], self.out_features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        fan_in = in_shape[-1]
        params = {"weight": he_normal(rng, (fan_in, self.out_features), fan_in)}
        if self.bias:
            params["bias"] = np.zeros(self.out_features, np.float32)
        return params

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = num.matmul(x, params["weight"])
        if self.bias:
            y = num.store(y + num.store(params["bias"]))
        return y, x

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        x = cache
        x2 = x.reshape(-1, x.shape[-1])
        dy2 = dy.reshape(-1, dy.shape[-1])
        grads = {"weight": x2.T @ dy2}
        if self.bias:
            grads["bias"] = dy2.sum(axis=0)
        return dy @ params["weight"].T, grads


@dataclass(frozen=True)
class Flatten(Layer):
    """(C, H, W) → (C·H·W,); free on every machine (a view)."""

    type_name: ClassVar[str] = "flatten"

    def output_shape(self, in_shape: Shape) -> Shape:
        return (int(np.prod(in_shape)),)

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        return dy.reshape(cache), {}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function 1 / (1 + e^-x)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def tanh(x: np.ndarray) -> np.ndarray:
    """np.tanh with an array signature (the ufunc's stub types scalars too)."""
    return np.tanh(x)


@dataclass(frozen=True)
class Elementwise(Layer):
    """An activation f applied element by element; backward uses f' written in terms of y."""

    fn: ClassVar[staticmethod[[np.ndarray], np.ndarray]]
    grad_from_output: ClassVar[staticmethod[[np.ndarray], np.ndarray]]

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = num.apply(type(self).fn, x)
        return y, y

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        return dy * type(self).grad_from_output(cache), {}


@dataclass(frozen=True)
class ReLU(Elementwise):
    type_name: ClassVar[str] = "relu"
    fn = staticmethod(relu)
    grad_from_output = staticmethod(lambda y: (y > 0).astype(y.dtype))


@dataclass(frozen=True)
class Sigmoid(Elementwise):
    type_name: ClassVar[str] = "sigmoid"
    fn = staticmethod(sigmoid)
    grad_from_output = staticmethod(lambda y: y * (1 - y))


@dataclass(frozen=True)
class Tanh(Elementwise):
    type_name: ClassVar[str] = "tanh"
    fn = staticmethod(tanh)
    grad_from_output = staticmethod(lambda y: 1 - y * y)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum for stability."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Softmax(Layer):
    """Probabilities over the last axis. Training folds it into the cross-entropy loss."""

    type_name: ClassVar[str] = "softmax"

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = num.apply(softmax, x)
        return y, y

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        y = cache
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True)), {}
