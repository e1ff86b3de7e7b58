"""Network: an immutable layer list, its parameters, and the fp32 reference numerics.

Parameters live beside the layers ({layer name: {param name: array}}) so training, precision
emulation and quantization all reuse the same layer code. Sequence networks take
(N, T, features) and report per-sample shapes as (T, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import ShapeError
from accelsim.nn.dense import Softmax
from accelsim.nn.layers import Layer, Params, Shape
from accelsim.nn.numerics import EXACT, numerics_for
from accelsim.precision import Precision

FORWARD_CHUNK = 512


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward or recurrent network with its parameters."""

    name: str
    layers: tuple[Layer, ...]
    input_shape: Shape
    params: Mapping[str, Params]
    sequence: bool = False
    seq_len: int | None = None
    description: str = ""
    training: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    weights_path: Path | None = None
    trained: bool = False

    def sample_shape(self, seq_len: int | None = None) -> Shape:
        """Per-sample input shape; sequence networks need a length (default: seq_len)."""
        if not self.sequence:
            return self.input_shape
        steps = seq_len or self.seq_len or 1
        return (steps, *self.input_shape)

    def layer_shapes(self, seq_len: int | None = None) -> Iterator[tuple[Layer, Shape, Shape]]:
        """(layer, input shape, output shape) per layer, per sample."""
        shape = self.sample_shape(seq_len)
        for layer in self.layers:
            out = layer.output_shape(shape)
            yield layer, shape, out
            shape = out

    @property
    def output_shape(self) -> Shape:
        return list(self.layer_shapes())[-1][2]

    @property
    def num_params(self) -> int:
        return sum(int(a.size) for p in self.params.values() for a in p.values())

    def with_params(self, params: Mapping[str, Params], **changes: Any) -> Network:
        """A copy with new parameters (and any other field changed)."""
        return dataclasses.replace(self, params=params, **changes)

    def check_input(self, x: np.ndarray) -> np.ndarray:
        """Validate a batch against the input shape; returns it as a float array."""
        x = np.asarray(x)
        expected = self.input_shape
        got = x.shape[2:] if self.sequence else x.shape[1:]
        rank_ok = x.ndim == len(expected) + (2 if self.sequence else 1)
        if not rank_ok or got != expected:
            form = "(batch, time, " if self.sequence else "(batch, "
            raise ShapeError(
                f"network {self.name!r} expects input {form}{', '.join(map(str, expected))}), "
                f"got array of shape {x.shape}"
            )
        if len(x) == 0:
            raise ShapeError(f"network {self.name!r} got an empty batch of shape {x.shape}; "
                             "give at least one sample")
        return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)

    def forward(self, x: np.ndarray, precision: Precision | str | None = None,
                chunk: int = FORWARD_CHUNK, logits: bool = False) -> np.ndarray:
        """Outputs for a batch: fp32 reference by default, or emulated fp16/bf16 numerics.

        `logits=True` stops before a trailing softmax layer.
        """
        x = self.check_input(x)
        layers = self.logit_layers() if logits else self.layers
        num = numerics_for(precision) if precision is not None else EXACT
        if num is EXACT:
            x = x.astype(np.float32, copy=False)
        parts = []
        for start in range(0, max(len(x), 1), chunk):
            y = x[start : start + chunk]
            for layer in layers:
                y, _ = layer.forward(self.params.get(layer.name, {}), y, num)
            parts.append(y)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def predict(self, x: np.ndarray, precision: Precision | str | None = None) -> np.ndarray:
        """Class indices (argmax over the last axis)."""
        return self.forward(x, precision).argmax(axis=-1)

    def accuracy(self, x: np.ndarray, y: np.ndarray,
                 precision: Precision | str | None = None) -> float:
        """Fraction of correct predictions (every time step counts for sequence targets)."""
        return float(np.mean(self.predict(x, precision) == y))

    def logit_layers(self) -> tuple[Layer, ...]:
        """Layers up to the logits: a trailing softmax is folded into the loss."""
        if self.layers and isinstance(self.layers[-1], Softmax):
            return self.layers[:-1]
        return self.layers

    def forward_train(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Exact forward to the logits, keeping every layer's cache for backward."""
        caches = []
        for layer in self.logit_layers():
            x, cache = layer.forward(self.params.get(layer.name, {}), x, EXACT)
            caches.append(cache)
        return x, caches

    def backward(self, caches: list[Any], dlogits: np.ndarray) -> dict[str, Params]:
        """Parameter gradients from the gradient of the loss with respect to the logits."""
        grads: dict[str, Params] = {}
        dy = dlogits
        for layer, cache in zip(reversed(self.logit_layers()), reversed(caches), strict=True):
            dy, layer_grads = layer.backward(self.params.get(layer.name, {}), cache, dy)
            if layer_grads:
                grads[layer.name] = layer_grads
        return grads

    def summary(self, seq_len: int | None = None) -> str:
        """A text table of layers, output shapes and parameter counts."""
        rows = [f"{self.name}: input {self.sample_shape(seq_len)}"
                f"{' (time, features)' if self.sequence else ''}"]
        rows.append(f"  {'layer':<12}{'type':<11}{'output':<18}{'params':>9}")
        for layer, _, out in self.layer_shapes(seq_len):
            count = sum(int(a.size) for a in self.params.get(layer.name, {}).values())
            rows.append(f"  {layer.name:<12}{layer.type_name:<11}{out!s:<18}{count:>9,}")
        rows.append(f"  total parameters: {self.num_params:,}"
                    f"{'' if self.trained else ' (untrained)'}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        kinds = "→".join(layer.type_name for layer in self.layers)
        return f"Network({self.name!r}, {kinds}, params={self.num_params:,})"
