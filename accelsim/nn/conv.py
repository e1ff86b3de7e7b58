"""Convolution (by im2col, as the lowering describes it) and 2-D pooling, NCHW layout.

im2col turns each output pixel's receptive field into one row, so a convolution becomes the
GEMM C[M, N] = A[M, K] @ B[K, N] with M = batch·out_h·out_w, K = in_c·kh·kw, N = out_c.
The column order (c, kh, kw) matches weights stored as (out_c, in_c, kh, kw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec, he_normal
from accelsim.nn.numerics import Numerics


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2·padding − kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _check_spatial(in_shape: Shape, kernel: tuple[int, int], padding: int, what: str) -> None:
    if len(in_shape) != 3:
        raise LayerSpecError(f"needs a (channels, height, width) input, got shape {in_shape}")
    height, width = in_shape[1] + 2 * padding, in_shape[2] + 2 * padding
    if kernel[0] > height or kernel[1] > width:
        raise LayerSpecError(
            f"{what} {kernel[0]}x{kernel[1]} is larger than its (padded) input "
            f"{height}x{width}; use a smaller kernel or more padding"
        )


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """View (N, C, H, W) as (N, C, out_h, out_w, kh, kw) windows, no copy."""
    view = sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           padding: int) -> np.ndarray:
    """(N, C, H, W) → (N·out_h·out_w, C·kh·kw) rows of receptive fields."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = windows(x, kernel, stride)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


def col2im(cols: np.ndarray, x_shape: Shape, kernel: tuple[int, int],
           stride: tuple[int, int], padding: int, out_hw: tuple[int, int]) -> np.ndarray:
    """Adjoint of im2col: scatter-add rows back onto the (N, C, H, W) input."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    blocks = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dx = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += blocks[:, :, i, j]
    return dx[:, :, padding : padding + h, padding : padding + w]


@dataclass(frozen=True)
class Conv2d(Layer):
    """2-D convolution with square or rectangular kernels, stride and zero padding."""

    out_channels: int = field_spec("pos_int")
    kernel_size: tuple[int, int] = field_spec("pair")
    stride: tuple[int, int] = field_spec("pair", (1, 1))
    padding: int = field_spec("nonneg_int", 0)
    bias: bool = field_spec("bool", True)
    type_name: ClassVar[str] = "conv2d"

    def output_shape(self, in_shape: Shape) -> Shape:
        _check_spatial(in_shape, self.kernel_size, self.padding, "kernel")
        oh = conv_output_size(in_shape[1], self.kernel_size[0], self.stride[0], self.padding)
        ow = conv_output_size(in_shape[2], self.kernel_size[1], self.stride[1], self.padding)
        return (self.out_channels, oh, ow)

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {"weight": (self.out_channels, in_shape[0], *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        shape = self.param_shapes(in_shape)["weight"]
        params = {"weight": he_normal(rng, shape, int(np.prod(shape[1:])))}
        if self.bias:
            params["bias"] = np.zeros(self.out_channels, np.float32)
        return params

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        n = x.shape[0]
        _, oh, ow = self.output_shape(x.shape[1:])
        cols = im2col(x, self.kernel_size, self.stride, self.padding)
        w2 = params["weight"].reshape(self.out_channels, -1)
        y = num.matmul(cols, w2.T)
        if self.bias:
            y = num.store(y + num.store(params["bias"]))
        y = y.reshape(n, oh, ow, self.out_channels).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(y), (cols, x.shape, (oh, ow))

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        cols, x_shape, out_hw = cache
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        w2 = params["weight"].reshape(self.out_channels, -1)
        grads = {"weight": (dy2.T @ cols).reshape(params["weight"].shape)}
        if self.bias:
            grads["bias"] = dy2.sum(axis=0)
        dx = col2im(dy2 @ w2, x_shape, self.kernel_size, self.stride, self.padding, out_hw)
        return dx, grads


@dataclass(frozen=True)
class Pool2d(Layer):
    """Shared geometry of max and average pooling; stride defaults to the window."""

    kernel_size: tuple[int, int] = field_spec("pair")
    stride: tuple[int, int] | None = field_spec("pair", None)

    @property
    def step(self) -> tuple[int, int]:
        return self.stride if self.stride is not None else self.kernel_size

    def output_shape(self, in_shape: Shape) -> Shape:
        _check_spatial(in_shape, self.kernel_size, 0, "pooling window")
        oh = conv_output_size(in_shape[1], self.kernel_size[0], self.step[0], 0)
        ow = conv_output_size(in_shape[2], self.kernel_size[1], self.step[1], 0)
        return (in_shape[0], oh, ow)

    def _scatter(self, x_shape: Shape, parts: np.ndarray) -> np.ndarray:
        """Add parts (N, C, oh, ow, kh, kw) back onto an input-shaped array."""
        dx = np.zeros(x_shape, dtype=parts.dtype)
        (kh, kw), (sh, sw) = self.kernel_size, self.step
        oh, ow = parts.shape[2:4]
        for i in range(kh):
            for j in range(kw):
                dx[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += parts[..., i, j]
        return dx


@dataclass(frozen=True)
class MaxPool2d(Pool2d):
    type_name: ClassVar[str] = "maxpool2d"

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        win = windows(x, self.kernel_size, self.step)
        flat = win.reshape(*win.shape[:4], -1)
        arg = flat.argmax(axis=-1)
        y = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        return num.store(y), (x.shape, arg)

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        x_shape, arg = cache
        kh, kw = self.kernel_size
        onehot = (arg[..., None] == np.arange(kh * kw)).astype(dy.dtype)
        parts = (onehot * dy[..., None]).reshape(*dy.shape, kh, kw)
        return self._scatter(x_shape, parts), {}


@dataclass(frozen=True)
class AvgPool2d(Pool2d):
    type_name: ClassVar[str] = "avgpool2d"

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        y = windows(num.store(x), self.kernel_size, self.step).mean(axis=(-2, -1))
        return num.store(y.astype(x.dtype, copy=False)), x.shape

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        kh, kw = self.kernel_size
        parts = np.broadcast_to((dy / (kh * kw))[..., None, None], (*dy.shape, kh, kw))
        return self._scatter(cache, parts), {}
