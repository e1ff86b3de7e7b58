"""Integer kernels where a graph branches and merges: add, concat, and a batch norm that could
not fold into a convolution (a per-channel affine map).

Add follows TFLite's int8 ADD: each input's codes, less their zero point, are shifted left by
`left_shift` bits (20 for 8-bit tensors, 15 for 16-bit: a 31-bit budget), brought to a shared
grid by a fixed-point multiplier s_i / (2·max_j s_j) ≤ 1/2, summed in int32 and requantized
once to the output scale by 2·max_j s_j / (2^left_shift · s_out). The left shift keeps the
inputs' fractional bits through the rescale, so the result is within one code of
round(Σ_i s_i·(q_i − z_i) / s_out). A ReLU that reads only the add is absorbed as a clamp at
the output zero point (ResNet's add → relu).

Concat requantizes each input to the output's scale and zero point (one fixed-point multiply);
an input already on that grid passes through unchanged.

A batch norm that does not fold is y = x·scale_c + shift_c per channel: an int8 weight per
channel (per-channel weight scale: ±127) times the input codes plus an int32 bias, requantized
with one multiplier per channel, like a depthwise 1×1 convolution run on the vector unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from accelsim.nn.layers import Layer
from accelsim.quant.fixedpoint import (
    INT8_MAX,
    Multiplier,
    code_dtype,
    quantize_multiplier,
    requantize,
    rounding_shift,
)
from accelsim.quant.kernels import IntGemm, Wired

ADD_LEFT_SHIFT = {8: 20, 16: 15}  # bits of headroom below int32 for each input width


@dataclass(frozen=True, eq=False)
class QAdd(Wired):
    """The sum of two or more tensors, each requantized to a shared grid (see the module)."""

    name: str
    in_multipliers: tuple[tuple[int, int], ...]  # shifted input codes → the shared grid
    in_scales: tuple[float, ...]
    in_zeros: tuple[int, ...]
    out_multiplier: tuple[int, int]  # the shared grid → the output scale
    left_shift: int
    out_scale: float
    out_zero: int = 0
    out_low: int = -INT8_MAX  # the output zero point when a ReLU is absorbed
    out_high: int = INT8_MAX
    merges: ClassVar[bool] = True

    @classmethod
    def of(cls, name: str, in_scales: tuple[float, ...], in_zeros: tuple[int, ...],
           bits: int, out_scale: float, out_zero: int, low: int, high: int) -> QAdd:
        """The multipliers for inputs at `in_scales` and an output at `out_scale`."""
        left_shift = ADD_LEFT_SHIFT[max(bits, 8)]
        twice = 2.0 * max(in_scales)
        return cls(name, tuple(quantize_multiplier(s / twice) for s in in_scales),
                   tuple(in_scales), tuple(in_zeros),
                   quantize_multiplier(twice / ((1 << left_shift) * out_scale)), left_shift,
                   out_scale, out_zero, low, high)

    def run(self, xs: tuple[np.ndarray, ...], gemm: IntGemm) -> np.ndarray:
        total = np.zeros(np.broadcast_shapes(*(x.shape for x in xs)), np.int64)
        for x, (m0, shift), zero in zip(xs, self.in_multipliers, self.in_zeros, strict=True):
            shifted = (x.astype(np.int64) - zero) << self.left_shift
            total += rounding_shift(shifted * m0, shift)
        m0, shift = self.out_multiplier
        out = rounding_shift(total.astype(np.int32).astype(np.int64) * m0, shift) + self.out_zero
        return np.clip(out, self.out_low, self.out_high).astype(
            code_dtype(self.out_low, self.out_high))


@dataclass(frozen=True, eq=False)
class QConcat(Wired):
    """Tensors joined along `axis` (of the batched array), each requantized to the output's
    grid; `multipliers[i]` None: input i is on it already."""

    name: str
    axis: int
    multipliers: tuple[tuple[int, int] | None, ...]
    in_zeros: tuple[int, ...]
    out_scale: float
    out_zero: int = 0
    out_low: int = -INT8_MAX
    out_high: int = INT8_MAX
    merges: ClassVar[bool] = True

    def run(self, xs: tuple[np.ndarray, ...], gemm: IntGemm) -> np.ndarray:
        dtype = code_dtype(self.out_low, self.out_high)
        parts = [x.astype(dtype) if m is None else
                 requantize(x.astype(np.int32) - zero, m, self.out_low, self.out_high,
                            self.out_zero).astype(dtype)
                 for x, m, zero in zip(xs, self.multipliers, self.in_zeros, strict=True)]
        return np.concatenate(parts, axis=self.axis)


@dataclass(frozen=True, eq=False)
class QAffine(Wired):
    """y = x·scale_c + shift_c per channel of (N, C, H, W) codes: int8 weights, int32 bias, one
    fixed-point multiplier per channel (see the module)."""

    name: str
    layer: Layer
    weight: np.ndarray  # int8 (C,)
    bias: np.ndarray  # int32 (C,) at in_scale · weight scale, less in_zero · weight
    multiplier: Multiplier  # per channel
    in_scale: float
    out_scale: float
    in_zero: int = 0
    out_zero: int = 0
    out_low: int = -INT8_MAX
    out_high: int = INT8_MAX

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        acc = np.moveaxis(x, 1, -1).astype(np.int64) * self.weight.astype(np.int64) + self.bias
        out = requantize(acc, self.multiplier, self.out_low, self.out_high, self.out_zero)
        return np.ascontiguousarray(np.moveaxis(out, -1, 1))
