"""Batch normalization, clipping (ReLU6) and global average pooling.

`batchnorm2d` normalizes each channel of (C, H, W) maps: y = γ·(x − μ)/√(σ² + ε) + β. In
training it uses the batch's mean and (biased) variance over N, H and W and moves its running
statistics towards them by `momentum` (the unbiased variance, as PyTorch does); in inference
it uses the running statistics. Its parameters: `weight` (γ) and `bias` (β) learn; the
`running_mean` and `running_var` buffers do not (`trainable`). `fold_scale_shift` gives the
per-channel scale and shift inference applies, which lowering and quantization fold into the
convolution before it.

`clip` keeps values in [min, max] (`relu6` is clip to [0, 6], MobileNet's activation);
`globalavgpool2d` averages each channel's whole map: (C, H, W) → (C, 1, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.conv import Conv2d
from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec, layer_sources
from accelsim.nn.numerics import Numerics

BUFFERS = ("running_mean", "running_var")


@dataclass(frozen=True)
class BatchNorm2d(Layer):
    """Batch normalization of (C, H, W) maps (see the module)."""

    eps: float = field_spec("float", 1e-5)
    momentum: float = field_spec("float", 0.1)
    type_name: ClassVar[str] = "batchnorm2d"

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 3:
            raise LayerSpecError(f"needs (channels, height, width) maps, got shape {in_shape}")
        if not 0 < self.eps < 1 or not 0 < self.momentum <= 1:
            raise LayerSpecError(f"eps = {self.eps} must be in (0, 1) and momentum = "
                                 f"{self.momentum} in (0, 1]")
        return in_shape

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        channels = (in_shape[0],)
        return {"weight": channels, "bias": channels, "running_mean": channels,
                "running_var": channels}

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        ones, zeros = np.ones(in_shape[0], np.float32), np.zeros(in_shape[0], np.float32)
        return {"weight": ones, "bias": zeros, "running_mean": zeros.copy(),
                "running_var": ones.copy()}

    def trainable(self, key: str) -> bool:
        return key not in BUFFERS

    def fold_scale_shift(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (scale, shift) of inference: y = x·scale + shift."""
        scale = params["weight"] / np.sqrt(params["running_var"] + self.eps)
        return scale, params["bias"] - params["running_mean"] * scale

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        scale, shift = self.fold_scale_shift(params)
        y = num.store(num.store(x * scale[:, None, None].astype(x.dtype))
                      + shift[:, None, None].astype(x.dtype))
        inv = 1.0 / np.sqrt(params["running_var"] + self.eps)
        return y, ("inference", (x - params["running_mean"][:, None, None]) * inv[:, None, None],
                   scale)

    def forward_of(self, params: Params, xs: tuple[np.ndarray, ...], num: Numerics,
                   train: bool = False) -> tuple[np.ndarray, Any]:
        if not train:
            return self.forward(params, xs[0], num)
        x = xs[0]
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        inv = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean[:, None, None]) * inv[:, None, None]
        y = xhat * params["weight"][:, None, None] + params["bias"][:, None, None]
        count = x.shape[0] * x.shape[2] * x.shape[3]
        return y, ("train", xhat, inv, mean, var, count)

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        if cache[0] == "inference":  # the running statistics held fixed
            _, xhat, scale = cache
            return dy * scale[:, None, None], {"weight": (dy * xhat).sum(axis=(0, 2, 3)),
                                               "bias": dy.sum(axis=(0, 2, 3))}
        _, xhat, inv, _, _, count = cache
        gamma = params["weight"][:, None, None]
        dgamma = (dy * xhat).sum(axis=(0, 2, 3))
        dbeta = dy.sum(axis=(0, 2, 3))
        dxhat = dy * gamma
        dx = inv[:, None, None] / count * (count * dxhat - dxhat.sum(axis=(0, 2, 3))[:, None, None]
                                           - xhat * (dxhat * xhat).sum(axis=(0, 2, 3))[:, None,
                                                                                        None])
        return dx, {"weight": dgamma, "bias": dbeta}

    def buffers_after(self, params: Params, cache: Any) -> Params:
        if cache[0] != "train":
            return {}
        _, _, _, mean, var, count = cache
        unbiased = var * count / max(count - 1, 1)
        keep = 1.0 - self.momentum
        return {"running_mean": (keep * params["running_mean"] + self.momentum * mean)
                .astype(np.float32),
                "running_var": (keep * params["running_var"] + self.momentum * unbiased)
                .astype(np.float32)}


@dataclass(frozen=True)
class Clip(Layer):
    """min(max(x, min), max): ReLU6 is clip to [0, 6]."""

    min: float = field_spec("float", 0.0)
    max: float = field_spec("float", 6.0)
    type_name: ClassVar[str] = "clip"

    def output_shape(self, in_shape: Shape) -> Shape:
        if not self.min < self.max:
            raise LayerSpecError(f"min = {self.min} must be below max = {self.max}")
        return in_shape

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = num.store(np.clip(num.store(x), self.min, self.max).astype(x.dtype, copy=False))
        return y, (x > self.min) & (x < self.max)

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        return dy * cache, {}


@dataclass(frozen=True)
class ReLU6(Clip):
    """clip to [0, 6] (MobileNetV2's activation)."""

    type_name: ClassVar[str] = "relu6"

    def output_shape(self, in_shape: Shape) -> Shape:
        if (self.min, self.max) != (0.0, 6.0):
            raise LayerSpecError(f"relu6 clips to [0, 6], not [{self.min}, {self.max}]; use a "
                                 "clip layer for other bounds")
        return in_shape


@dataclass(frozen=True)
class GlobalAvgPool2d(Layer):
    """The mean of each channel's map: (C, H, W) → (C, 1, 1)."""

    type_name: ClassVar[str] = "globalavgpool2d"

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 3:
            raise LayerSpecError(f"needs (channels, height, width) maps, got shape {in_shape}")
        return (in_shape[0], 1, 1)

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = num.store(num.store(x).mean(axis=(2, 3), keepdims=True).astype(x.dtype))
        return y, x.shape

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        _, _, h, w = cache
        return np.broadcast_to(dy / (h * w), cache).astype(dy.dtype), {}


def batchnorm_folds(layers: tuple[Layer, ...]) -> dict[str, str]:
    """{batch norm: the convolution it folds into}: a batchnorm2d whose only input is a
    conv2d read by nothing else (not the network's output either). Inference then scales the
    convolution's filters and adds the shift to its bias, so the batch norm costs nothing; any
    other batch norm runs as its own per-channel scale and shift."""
    sources = layer_sources(layers)
    readers: dict[str, int] = {}
    for names in sources:
        for name in names:
            readers[name] = readers.get(name, 0) + 1
    by_name = {layer.name: layer for layer in layers}
    folds = {}
    for layer, names in zip(layers[:-1], sources, strict=False):
        conv = by_name.get(names[0])
        if isinstance(layer, BatchNorm2d) and isinstance(conv, Conv2d) \
                and readers[conv.name] == 1:
            folds[layer.name] = conv.name
    return folds
