"""Integer-only kernels for quantized layers: int8 in, int8 out, int32 accumulation.

Each op mirrors one float layer (a GEMM layer may absorb the ReLU after it, as the TPU's
Activate does on its way from the accumulators to the Unified Buffer). Activations are int8
with a scale and a zero point: real = (q − zero) · scale; the zero point is 0 for symmetric
schemes. Weights are symmetric (zero point 0), with one scale per tensor or per output
channel, so the GEMM is a plain int8 × int8 → int32 matmul of the stored codes: an input zero
point z_in is corrected by −z_in·Σ_k w[k, n], folded into the int32 bias (Jacob et al. 2018,
eq. 7 with a zero weight offset), and per-channel scales only change the fixed-point
multiplier applied to each accumulator column afterwards. Nonlinearities are 256-entry
lookup tables on int8 inputs with outputs at scale 1/127 (zero point 0); the LSTM cell state
is int16 at scale 2^-11 (range ±16).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.errors import QuantizationError
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d, im2col, windows
from accelsim.nn.dense import Linear, sigmoid, softmax
from accelsim.nn.layers import Layer
from accelsim.nn.recurrent import LSTM, Recurrent
from accelsim.quant.fixedpoint import (
    INT8_MAX,
    Multiplier,
    div_round,
    quantize_multiplier,
    requantize,
)

IntGemm = Callable[[np.ndarray, np.ndarray], np.ndarray]
CELL_BITS = 11
UNIT_SCALE = 1.0 / INT8_MAX  # outputs of sigmoid and tanh


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int8 × int8 → int32 accumulators. Exact: float64 holds every partial sum (< 2^53)."""
    exact = np.asarray(a, np.float64) @ np.asarray(b, np.float64)
    return exact.astype(np.int64).astype(np.int32)


def lut(function: Callable[[np.ndarray], np.ndarray], in_scale: float,
        in_zero: int = 0) -> np.ndarray:
    """table[q + 128] = round(127 · f((q − in_zero) · in_scale)) for q in −128..127."""
    q = np.arange(-128, 128, dtype=np.float64) - in_zero
    return np.rint(INT8_MAX * function(q * in_scale)).astype(np.int8)


def apply_lut(table: np.ndarray, q: np.ndarray) -> np.ndarray:
    return table[q.astype(np.int16) + 128]


CELL_TANH = np.rint(INT8_MAX * np.tanh(np.arange(-32768, 32768) / 2.0**CELL_BITS)).astype(np.int8)


@dataclass(frozen=True, eq=False)
class QGemm:
    """conv2d or linear: int8 GEMM + int32 bias, requantized to int8 (ReLU fused: clamp at 0)."""

    name: str
    layer: Conv2d | Linear
    weight: np.ndarray  # int8 (K, N)
    bias: np.ndarray  # int32 (N,) at in_scale · weight_scale, plus −in_zero · Σ_k weight[k]
    multiplier: Multiplier  # one (M0, shift), or arrays of one per output channel
    relu: bool
    in_scale: float
    out_scale: float
    in_zero: int = 0
    out_zero: int = 0
    out_low: int = -INT8_MAX  # smallest output code: −127 symmetric, −128 with zero points

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if isinstance(self.layer, Conv2d):
            return self._conv(self.layer, x, gemm)
        acc = gemm(x.reshape(-1, x.shape[-1]), self.weight) + self.bias
        return self._requant(acc).reshape(*x.shape[:-1], -1)

    def _conv(self, layer: Conv2d, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        n = x.shape[0]
        _, oh, ow = layer.output_shape(x.shape[1:])
        pad = layer.padding
        if pad and self.in_zero:  # padding holds real 0, the zero point's code
            x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=self.in_zero)
            pad = 0
        cols = im2col(x, layer.kernel_size, layer.stride, pad)
        out = self._requant(gemm(cols, self.weight) + self.bias)
        return np.ascontiguousarray(out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2))

    def _requant(self, acc: np.ndarray) -> np.ndarray:
        return requantize(acc, self.multiplier, low=self.out_zero if self.relu else self.out_low,
                          offset=self.out_zero)


@dataclass(frozen=True, eq=False)
class QElementwise:
    """relu (max with 0), flatten, max/avg pooling, or a sigmoid/tanh table."""

    name: str
    layer: Layer
    kind: str
    in_scale: float
    out_scale: float
    table: np.ndarray | None = None
    in_zero: int = 0
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if self.kind == "relu":
            return np.maximum(x, np.int8(self.in_zero))
        if self.kind == "flatten":
            return x.reshape(x.shape[0], -1)
        if self.kind == "lut":
            if self.table is None:
                raise QuantizationError(f"{self.name}: a 'lut' op needs its table")
            return apply_lut(self.table, x)
        layer = self.layer
        if not isinstance(layer, MaxPool2d | AvgPool2d):
            raise QuantizationError(f"{self.name}: a {self.kind!r} op needs a pooling layer, "
                                    f"not {type(layer).__name__}")
        win = windows(x, layer.kernel_size, layer.step)
        if self.kind == "maxpool":
            return win.max(axis=(-2, -1))
        total = win.astype(np.int32).sum(axis=(-2, -1))
        return div_round(total, win.shape[-1] * win.shape[-2]).astype(np.int8)


@dataclass(frozen=True, eq=False)
class QRescale:
    """int8 at one scale (and zero point) → symmetric int8 at another (a fixed-point multiply)."""

    name: str
    multiplier: tuple[int, int]
    in_scale: float
    out_scale: float
    in_zero: int = 0
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        return requantize(x.astype(np.int32) - self.in_zero, self.multiplier)


@dataclass(frozen=True, eq=False)
class QSoftmax:
    """Dequantize and take the softmax in float on the host (the last op only)."""

    name: str
    in_scale: float
    out_scale: float = 0.0
    in_zero: int = 0
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        return softmax((x.astype(np.float64) - self.in_zero) * self.in_scale)


@dataclass(frozen=True, eq=False)
class QRecurrent:
    """RNN or LSTM on int8: gate GEMM on [x, h] (one shared scale), gate tables, int16 cell."""

    name: str
    layer: Recurrent
    weight: np.ndarray  # int8 (F + H, gates·H)
    bias: np.ndarray  # int32
    gate_multiplier: Multiplier  # accumulators → gate pre-activations (int8), per column
    sigmoid_table: np.ndarray
    tanh_table: np.ndarray
    hidden_multiplier: tuple[int, int]  # products at 1/127² (LSTM) or 1/127 (RNN) → in_scale
    in_scale: float
    out_scale: float
    in_zero: int = 0  # [x, h] share one symmetric scale
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        n, steps, _ = x.shape
        hidden = self.layer.hidden_size
        h = np.zeros((n, hidden), np.int8)
        c = np.zeros((n, hidden), np.int16)
        outputs = []
        for t in range(steps):
            acc = gemm(np.concatenate([x[:, t], h], axis=1), self.weight) + self.bias
            z = requantize(acc, self.gate_multiplier)
            h, c = self._cell(z, c, hidden)
            outputs.append(h)
        return np.stack(outputs, axis=1) if self.layer.return_sequences else outputs[-1]

    def _cell(self, z: np.ndarray, c: np.ndarray, hidden: int) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(self.layer, LSTM):
            return requantize(apply_lut(self.tanh_table, z).astype(np.int32),
                              self.hidden_multiplier), c
        gates = apply_lut(self.sigmoid_table, z[:, : 3 * hidden]).astype(np.int64)
        i, f, o = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
        g = apply_lut(self.tanh_table, z[:, 3 * hidden :]).astype(np.int64)
        forget = div_round(f * c, INT8_MAX)
        write = div_round(i * g * (1 << CELL_BITS), INT8_MAX * INT8_MAX)
        c = np.clip(forget + write, -32768, 32767).astype(np.int16)
        tanh_c = CELL_TANH[c.astype(np.int32) + 32768].astype(np.int64)
        return requantize(o * tanh_c, self.hidden_multiplier), c


def gate_tables(gate_scale: float) -> tuple[np.ndarray, np.ndarray]:
    return lut(sigmoid, gate_scale), lut(np.tanh, gate_scale)


def hidden_multiplier(layer: Recurrent, in_scale: float) -> tuple[int, int]:
    """h's fixed-point rescale: LSTM o·tanh(c) is at 1/127², an RNN's tanh at 1/127."""
    product_scale = UNIT_SCALE * UNIT_SCALE if isinstance(layer, LSTM) else UNIT_SCALE
    return quantize_multiplier(product_scale / in_scale)
