"""Convolution (by im2col, as the lowering describes it) and 2-D pooling, NCHW layout.

im2col turns each output pixel's receptive field into one row, so a convolution becomes the
GEMM C[M, N] = A[M, K] @ B[K, N] with M = batch·out_h·out_w, K = in_c·kh·kw, N = out_c.
The column order (c, kh, kw) matches weights stored as (out_c, in_c, kh, kw). A grouped
convolution (`groups` > 1; depthwise when groups = in_c) is one such GEMM per group, each on
its in_c / groups channels and out_c / groups filters (weights (out_c, in_c / groups, kh,
kw), as PyTorch and ONNX store them). `dilation` spaces the kernel's taps; `padding` is zero
padding on each side (top, left, bottom, right; one number or [h, w] pads both sides alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec, he_normal
from accelsim.nn.numerics import Numerics

Pads = tuple[int, int, int, int]  # top, left, bottom, right


def conv_output_size(size: int, kernel: int, stride: int, padding: int,
                     dilation: int = 1, padding_after: int | None = None) -> int:
    """floor((size + pads − dilation·(kernel − 1) − 1) / stride) + 1; `padding` on both sides
    unless `padding_after` gives the far side's."""
    after = padding if padding_after is None else padding_after
    return (size + padding + after - dilation * (kernel - 1) - 1) // stride + 1


def _check_spatial(in_shape: Shape, kernel: tuple[int, int], pads: Pads, what: str,
                   dilation: tuple[int, int] = (1, 1)) -> None:
    if len(in_shape) != 3:
        raise LayerSpecError(f"needs a (channels, height, width) input, got shape {in_shape}")
    height, width = in_shape[1] + pads[0] + pads[2], in_shape[2] + pads[1] + pads[3]
    reach = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if reach[0] > height or reach[1] > width:
        raise LayerSpecError(
            f"{what} {kernel[0]}x{kernel[1]} (spanning {reach[0]}x{reach[1]}) is larger than "
            f"its (padded) input {height}x{width}; use a smaller kernel or more padding"
        )


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """View (N, C, H, W) as (N, C, out_h, out_w, kh, kw) windows, no copy."""
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    view = sliding_window_view(x, span, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def sides(pads: Pads | int) -> Pads:
    """(top, left, bottom, right) from four sides, or one number for all."""
    return (pads,) * 4 if isinstance(pads, int) else pads


def pad(x: np.ndarray, pads: Pads | int) -> np.ndarray:
    """Zero-pad (N, C, H, W) by (top, left, bottom, right)."""
    top, left, bottom, right = sides(pads)
    if not (top or left or bottom or right):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           pads: Pads | int, dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """(N, C, H, W) → (N·out_h·out_w, C·kh·kw) rows of receptive fields."""
    win = windows(pad(x, pads), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


def col2im(cols: np.ndarray, x_shape: Shape, kernel: tuple[int, int],
           stride: tuple[int, int], pads: Pads | int, out_hw: tuple[int, int],
           dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Adjoint of im2col: scatter-add rows back onto the (N, C, H, W) input."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (oh, ow), (dh, dw) = kernel, stride, out_hw, dilation
    top, left, bottom, right = sides(pads)
    blocks = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dx = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw] += \
                blocks[:, :, i, j]
    return dx[:, :, top : top + h, left : left + w]


@dataclass(frozen=True)
class Conv2d(Layer):
    """2-D convolution: square or rectangular kernels, stride, dilation, zero padding on each
    side, and channel groups (depthwise: groups = in_channels)."""

    out_channels: int = field_spec("pos_int")
    kernel_size: tuple[int, int] = field_spec("pair")
    stride: tuple[int, int] = field_spec("pair", (1, 1))
    padding: tuple[int, int, int, int] = field_spec("pads", (0, 0, 0, 0))
    dilation: tuple[int, int] = field_spec("pair", (1, 1))
    groups: int = field_spec("pos_int", 1)
    bias: bool = field_spec("bool", True)
    type_name: ClassVar[str] = "conv2d"

    def __post_init__(self) -> None:
        if isinstance(self.padding, int):  # Conv2d(..., padding=1): every side alike
            object.__setattr__(self, "padding", (self.padding,) * 4)

    def output_shape(self, in_shape: Shape) -> Shape:
        _check_spatial(in_shape, self.kernel_size, self.padding, "kernel", self.dilation)
        if in_shape[0] % self.groups or self.out_channels % self.groups:
            raise LayerSpecError(f"groups = {self.groups} must divide its {in_shape[0]} input "
                                 f"and {self.out_channels} output channels")
        (top, left, bottom, right), (dh, dw) = self.padding, self.dilation
        oh = conv_output_size(in_shape[1], self.kernel_size[0], self.stride[0], top, dh, bottom)
        ow = conv_output_size(in_shape[2], self.kernel_size[1], self.stride[1], left, dw, right)
        return (self.out_channels, oh, ow)

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {"weight": (self.out_channels, in_shape[0] // self.groups,
                                               *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        shape = self.param_shapes(in_shape)["weight"]
        params = {"weight": he_normal(rng, shape, int(np.prod(shape[1:])))}
        if self.bias:
            params["bias"] = np.zeros(self.out_channels, np.float32)
        return params

    def group_columns(self, cols: np.ndarray, in_channels: int) -> list[np.ndarray]:
        """im2col rows split into each group's columns (its channels' taps)."""
        width = in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        return [cols[:, g * width : (g + 1) * width] for g in range(self.groups)]

    def group_weights(self, weight: np.ndarray) -> list[np.ndarray]:
        """Each group's weights as the GEMM's B operand (its in·kh·kw × out / groups)."""
        per = self.out_channels // self.groups
        return [weight[g * per : (g + 1) * per].reshape(per, -1).T for g in range(self.groups)]

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        n = x.shape[0]
        _, oh, ow = self.output_shape(x.shape[1:])
        cols = im2col(x, self.kernel_size, self.stride, self.padding, self.dilation)
        parts = [num.matmul(a, b) for a, b in zip(self.group_columns(cols, x.shape[1]),
                                                  self.group_weights(params["weight"]),
                                                  strict=True)]
        y = parts[0] if self.groups == 1 else np.concatenate(parts, axis=1)
        if self.bias:
            y = num.store(y + num.store(params["bias"]))
        y = y.reshape(n, oh, ow, self.out_channels).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(y), (cols, x.shape, (oh, ow))

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        cols, x_shape, out_hw = cache
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        per = self.out_channels // self.groups
        weights = self.group_weights(params["weight"])
        dw, dcols = [], []
        for g, (a, b) in enumerate(zip(self.group_columns(cols, x_shape[1]), weights,
                                       strict=True)):
            d = dy2[:, g * per : (g + 1) * per]
            dw.append((d.T @ a).reshape(per, -1, *self.kernel_size))
            dcols.append(d @ b.T)
        grads = {"weight": np.concatenate(dw).reshape(params["weight"].shape)}
        if self.bias:
            grads["bias"] = dy2.sum(axis=0)
        dx = col2im(np.concatenate(dcols, axis=1), x_shape, self.kernel_size, self.stride,
                    self.padding, out_hw, self.dilation)
        return dx, grads


@dataclass(frozen=True)
class Pool2d(Layer):
    """Shared geometry of max and average pooling; stride defaults to the window. `padding`
    (top, left, bottom, right) pads max pooling with −∞ and average pooling with zeros, which
    count towards the mean unless `count_include_pad` is false (PyTorch counts them; ONNX's
    default does not)."""

    kernel_size: tuple[int, int] = field_spec("pair")
    stride: tuple[int, int] | None = field_spec("pair", None)
    padding: tuple[int, int, int, int] = field_spec("pads", (0, 0, 0, 0))
    pad_value: ClassVar[float] = 0.0

    @property
    def step(self) -> tuple[int, int]:
        return self.stride if self.stride is not None else self.kernel_size

    def output_shape(self, in_shape: Shape) -> Shape:
        _check_spatial(in_shape, self.kernel_size, self.padding, "pooling window")
        (top, left, bottom, right), (kh, kw) = self.padding, self.kernel_size
        if max(top, bottom) >= kh or max(left, right) >= kw:
            raise LayerSpecError(f"padding = {list(self.padding)} must be smaller than the "
                                 f"{kh}x{kw} window on each side")
        oh = conv_output_size(in_shape[1], kh, self.step[0], top, 1, bottom)
        ow = conv_output_size(in_shape[2], kw, self.step[1], left, 1, right)
        return (in_shape[0], oh, ow)

    def padded(self, x: np.ndarray) -> np.ndarray:
        top, left, bottom, right = self.padding
        if not (top or left or bottom or right):
            return x
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)),
                      constant_values=self.pad_value)

    def _scatter(self, x_shape: Shape, parts: np.ndarray) -> np.ndarray:
        """Add parts (N, C, oh, ow, kh, kw) back onto an input-shaped array."""
        top, left, bottom, right = self.padding
        n, c, h, w = x_shape
        dx = np.zeros((n, c, h + top + bottom, w + left + right), dtype=parts.dtype)
        (kh, kw), (sh, sw) = self.kernel_size, self.step
        oh, ow = parts.shape[2:4]
        for i in range(kh):
            for j in range(kw):
                dx[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += parts[..., i, j]
        return dx[:, :, top : top + h, left : left + w]


@dataclass(frozen=True)
class MaxPool2d(Pool2d):
    type_name: ClassVar[str] = "maxpool2d"
    pad_value: ClassVar[float] = -np.inf

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        win = windows(self.padded(x), self.kernel_size, self.step)
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
    count_include_pad: bool = field_spec("bool", True)
    type_name: ClassVar[str] = "avgpool2d"

    def divisors(self, in_hw: tuple[int, int]) -> np.ndarray | float:
        """What each output's sum is divided by: the window size, or with padding left out
        the real inputs it covers (out_h, out_w)."""
        kh, kw = self.kernel_size
        if self.count_include_pad or not any(self.padding):
            return float(kh * kw)
        ones = self.padded(np.ones((1, 1, *in_hw), np.float64))
        return windows(ones, self.kernel_size, self.step).sum(axis=(-2, -1))[0, 0]

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        sums = windows(self.padded(num.store(x)), self.kernel_size, self.step).sum(axis=(-2, -1))
        y = sums / self.divisors(x.shape[2:])
        return num.store(y.astype(x.dtype, copy=False)), x.shape

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        kh, kw = self.kernel_size
        share = (dy / self.divisors(cache[2:])).astype(dy.dtype, copy=False)
        parts = np.broadcast_to(share[..., None, None], (*dy.shape, kh, kw))
        return self._scatter(cache, parts), {}
