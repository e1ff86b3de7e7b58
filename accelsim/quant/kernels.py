"""Integer-only kernels for quantized layers: int8 (or int16) in, int8 (or int16) out, int32
accumulation.

Each op mirrors one float layer (a GEMM layer may absorb the ReLU after it, as the TPU's
Activate does on its way from the accumulators to the Unified Buffer). Activations are
integers with a scale and a zero point: real = (q − zero) · scale; the zero point is 0 for
symmetric schemes and for every 16-bit tensor. Weights are symmetric int8 (zero point 0),
with one scale per tensor or per output channel, so the GEMM is a plain integer matmul of the
stored codes (int8 × int8, or int16 × int8 in the TPU's 8b×16b mode): an input zero point
z_in is corrected by −z_in·Σ_k w[k, n], folded into the int32 bias (Jacob et al. 2018, eq. 7
with a zero weight offset), and per-channel scales only change the fixed-point multiplier
applied to each accumulator column afterwards.

Nonlinearities are lookup tables (`Table`) whose outputs are at scale 1/G, G = 127 at 8 bits
and 32,767 at 16. The LSTM cell state is a power-of-two fixed-point integer of 8, 16 or 32
bits (`CellFormat`; int16 at 2^-11, range ±16, for lstm-char's calibrated range); tanh(c) is
a table of 2^bits entries (65,536 entries over ±16 for a 32-bit cell, indexed by the top
bits: tanh is flat to within half a 16-bit code beyond |c| = 5.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from accelsim.errors import QuantizationError
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d, im2col, windows
from accelsim.nn.dense import Linear, sigmoid, softmax
from accelsim.nn.layers import Layer
from accelsim.nn.norm import Clip
from accelsim.nn.recurrent import LSTM, Recurrent
from accelsim.quant.fixedpoint import (
    INT8_MAX,
    Multiplier,
    code_dtype,
    code_max,
    div_round,
    quantize_multiplier,
    requantize,
    rounding_shift,
)

IntGemm = Callable[[np.ndarray, np.ndarray], np.ndarray]
UNIT_SCALE = 1.0 / INT8_MAX  # outputs of 8-bit sigmoid and tanh tables
DEFAULT_LUT_SIZE = 256
CELL_TABLE_SIZE = 1 << 16  # entries of tanh(c) for a 32-bit cell
CELL_TABLE_SPAN = 16.0  # … over ±16


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int8 (or int16) × int8 → int32 accumulators. Exact: float64 holds every partial sum
    (< 2^53); a sum beyond int32 wraps as a 32-bit accumulator would (`quantize` refuses
    layers whose accumulators could reach it)."""
    exact = np.asarray(a, np.float64) @ np.asarray(b, np.float64)
    return exact.astype(np.int64).astype(np.int32)


@dataclass(frozen=True, eq=False)
class Wired:
    """Where an op sits in the graph: the tensors it reads (`inputs`; empty: the previous
    op's output, or the network's input) and the tensor it writes (`output`; empty: its
    name). A merging op (`merges`) reads all its inputs, any other the first."""

    inputs: tuple[str, ...] = field(default=(), kw_only=True)
    output: str = field(default="", kw_only=True)
    merges: ClassVar[bool] = False


@dataclass(frozen=True, eq=False)
class Table:
    """A function on a uniform grid of inputs, as integers at scale 1/G.

    Direct (index None): one entry per input code, values[q + center]. Indexed: `size`
    entries over [−span, span), values[j] = round(G · f((j − center) · step)) with
    step = 2·span/size, looked up at j = clip(round(q · in_scale / step) + center) with the
    ratio as a fixed-point multiplier, so the lookup stays integer-only.
    """

    values: np.ndarray
    center: int
    index: tuple[int, int] | None = None

    def __call__(self, q: np.ndarray) -> np.ndarray:
        if self.index is None:
            return self.values[q.astype(np.int32) + self.center]
        m0, shift = self.index
        j = rounding_shift(q.astype(np.int64) * m0, shift) + self.center
        return self.values[np.clip(j, 0, len(self.values) - 1)]


def make_table(function: Callable[[np.ndarray], np.ndarray], in_scale: float, in_bits: int,
               out_bits: int, in_zero: int = 0, size: int | None = None,
               span: float | None = None) -> Table:
    """f of codes at `in_scale` (zero point `in_zero`), outputs at 1/code_max(out_bits):
    direct over every code without size and span; else `size` entries (default 256) over
    ±span (default: the codes' own range, in_scale · code_max(in_bits))."""
    top = code_max(out_bits)
    dtype = code_dtype(-top, top)
    if size is None and span is None:
        half = 1 << (in_bits - 1)
        q = np.arange(-half, half, dtype=np.float64) - in_zero
        return Table(np.rint(top * function(q * in_scale)).astype(dtype), half)
    if in_zero:
        raise QuantizationError("a sized table reads symmetric codes; give in_zero = 0")
    entries = size or DEFAULT_LUT_SIZE
    step = 2.0 * (span or in_scale * code_max(in_bits)) / entries
    grid = (np.arange(entries, dtype=np.float64) - entries // 2) * step
    return Table(np.rint(top * function(grid)).astype(dtype), entries // 2,
                 quantize_multiplier(in_scale / step))


def lut(function: Callable[[np.ndarray], np.ndarray], in_scale: float,
        in_zero: int = 0) -> np.ndarray:
    """The direct 8-bit table: table[q + 128] = round(127 · f((q − in_zero) · in_scale))."""
    return make_table(function, in_scale, 8, 8, in_zero).values


def apply_lut(table: np.ndarray, q: np.ndarray) -> np.ndarray:
    """A direct table (one entry per code, code 0 in the middle) at the codes q."""
    return table[q.astype(np.int32) + len(table) // 2]


@dataclass(frozen=True)
class CellFormat:
    """The LSTM cell state: `bits`-bit integers at scale 2^-frac, codes clipped to
    [−2^(bits−1), 2^(bits−1) − 1]."""

    bits: int
    frac: int

    @classmethod
    def covering(cls, bits: int, magnitude: float) -> CellFormat:
        """The most fractional bits whose range still covers ±magnitude (at least ±1)."""
        integer = max(0, math.ceil(math.log2(magnitude))) if magnitude > 1 else 0
        return cls(bits, max(bits - 1 - integer, 0))

    @property
    def low(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def high(self) -> int:
        return (1 << (self.bits - 1)) - 1

    @property
    def scale(self) -> float:
        return 2.0**-self.frac

    def tanh_table(self, out_bits: int) -> Table:
        if self.bits <= 16:
            return make_table(np.tanh, self.scale, self.bits, out_bits)
        return make_table(np.tanh, self.scale, self.bits, out_bits, size=CELL_TABLE_SIZE,
                          span=CELL_TABLE_SPAN)


@dataclass(frozen=True, eq=False)
class QGemm(Wired):
    """conv2d or linear: int8 GEMM + int32 bias, requantized to int8 (ReLU fused: clamp at 0;
    a clip fused: out_low and out_high). A grouped (or depthwise) convolution runs one GEMM
    per group through `gemm`, each on its channels' columns and its filters."""

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
    out_high: int = INT8_MAX  # largest output code: 127, or 32,767 for 16-bit outputs

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if isinstance(self.layer, Conv2d):
            return self._conv(self.layer, x, gemm)
        acc = gemm(x.reshape(-1, x.shape[-1]), self.weight) + self.bias
        return self._requant(acc).reshape(*x.shape[:-1], -1)

    def _conv(self, layer: Conv2d, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        n = x.shape[0]
        _, oh, ow = layer.output_shape(x.shape[1:])
        pads = layer.padding
        if any(pads) and self.in_zero:  # padding holds real 0, the zero point's code
            top, left, bottom, right = pads
            x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)),
                       constant_values=self.in_zero)
            pads = (0, 0, 0, 0)
        cols = im2col(x, layer.kernel_size, layer.stride, pads, layer.dilation)
        out = self._requant(self._grouped(layer, cols, x.shape[1], gemm) + self.bias)
        return np.ascontiguousarray(out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2))

    def _grouped(self, layer: Conv2d, cols: np.ndarray, channels: int,
                 gemm: IntGemm) -> np.ndarray:
        """One integer GEMM per channel group (depthwise: one per channel), joined."""
        if layer.groups == 1:
            return gemm(cols, self.weight)
        per = layer.out_channels // layer.groups
        parts = [gemm(np.ascontiguousarray(part), self.weight[:, g * per : (g + 1) * per])
                 for g, part in enumerate(layer.group_columns(cols, channels))]
        return np.concatenate(parts, axis=1)

    def _requant(self, acc: np.ndarray) -> np.ndarray:
        return requantize(acc, self.multiplier, low=self.out_zero if self.relu else self.out_low,
                          high=self.out_high, offset=self.out_zero)


@dataclass(frozen=True, eq=False)
class QElementwise(Wired):
    """relu (max with the zero point), flatten, clip (at the codes of its bounds), max/avg
    pooling (padded), global average pooling (an integer sum, divided with rounding), or a
    sigmoid/tanh table; all but the table keep the input's grid."""

    name: str
    layer: Layer
    kind: str
    in_scale: float
    out_scale: float
    table: Table | None = None
    in_zero: int = 0
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if self.kind == "relu":
            return np.maximum(x, x.dtype.type(self.in_zero))
        if self.kind == "flatten":
            return x.reshape(x.shape[0], -1)
        if self.kind == "lut":
            if self.table is None:
                raise QuantizationError(f"{self.name}: a 'lut' op needs its table")
            return self.table(x)
        if self.kind == "clip":
            return self._clip(x)
        if self.kind == "globalavgpool":
            total = x.astype(np.int64).sum(axis=(2, 3), keepdims=True)
            return div_round(total, x.shape[2] * x.shape[3]).astype(x.dtype)
        return self._pool(x)

    def _clip(self, x: np.ndarray) -> np.ndarray:
        """Clamp at the codes of the clip's bounds on the input's grid."""
        low, high = clip_codes(self.layer, self.in_scale, self.in_zero, x.dtype)
        return np.clip(x, low, high).astype(x.dtype)

    def _pool(self, x: np.ndarray) -> np.ndarray:
        """Max pooling (padding: the most negative code) or average pooling (padding: the
        zero point's code, real 0; the divisor counts it unless count_include_pad is off)."""
        layer = self.layer
        if not isinstance(layer, MaxPool2d | AvgPool2d):
            raise QuantizationError(f"{self.name}: a {self.kind!r} op needs a pooling layer, "
                                    f"not {type(layer).__name__}")
        top, left, bottom, right = layer.padding
        fill = np.iinfo(x.dtype).min if self.kind == "maxpool" else self.in_zero
        padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)),
                        constant_values=fill) if any(layer.padding) else x
        win = windows(padded, layer.kernel_size, layer.step)
        if self.kind == "maxpool":
            return win.max(axis=(-2, -1))
        total = win.astype(np.int64).sum(axis=(-2, -1))
        if isinstance(layer, AvgPool2d) and not layer.count_include_pad and any(layer.padding):
            counts = np.rint(layer.divisors(x.shape[2:])).astype(np.int64)
            return div_round(total - self.in_zero * (win.shape[-1] * win.shape[-2] - counts),
                             counts).astype(x.dtype)
        return div_round(total, win.shape[-1] * win.shape[-2]).astype(x.dtype)


def clip_codes(layer: Layer, scale: float, zero: int,
               dtype: type[np.integer] | np.dtype) -> tuple[int, int]:
    """A clip's bounds as codes at `scale` (zero point `zero`), within the dtype's range."""
    if not isinstance(layer, Clip):
        raise QuantizationError(f"a clip op needs a clip layer, not {type(layer).__name__}")
    info = np.iinfo(dtype)
    low = max(int(np.rint(layer.min / scale)) + zero, int(info.min))
    high = min(int(np.rint(layer.max / scale)) + zero, int(info.max))
    return low, high


@dataclass(frozen=True, eq=False)
class QRescale(Wired):
    """Codes at one scale (and zero point) → symmetric codes at another, 8 or 16 bits wide
    (a fixed-point multiply)."""

    name: str
    multiplier: tuple[int, int]
    in_scale: float
    out_scale: float
    in_zero: int = 0
    out_zero: int = 0
    out_bits: int = 8

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        top = code_max(self.out_bits)
        return requantize(x.astype(np.int32) - self.in_zero, self.multiplier, -top, top)


@dataclass(frozen=True, eq=False)
class QSoftmax(Wired):
    """Dequantize and take the softmax in float on the host (the last op only)."""

    name: str
    in_scale: float
    out_scale: float = 0.0
    in_zero: int = 0
    out_zero: int = 0

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        return softmax((x.astype(np.float64) - self.in_zero) * self.in_scale)


@dataclass(frozen=True, eq=False)
class QRecurrent(Wired):
    """RNN or LSTM on integers: gate GEMM on [x, h] (one shared symmetric scale, 8 or 16 bits),
    gate pre-activations at the same width, table sigmoid and tanh, a fixed-point cell."""

    name: str
    layer: Recurrent
    weight: np.ndarray  # int8 (F + H, gates·H)
    bias: np.ndarray  # int32
    gate_multiplier: Multiplier  # accumulators → gate pre-activations, per column
    sigmoid_table: Table
    tanh_table: Table
    hidden_multiplier: tuple[int, int]  # products at 1/G² (LSTM) or 1/G (RNN) → in_scale
    in_scale: float
    out_scale: float
    in_zero: int = 0  # [x, h] share one symmetric scale
    out_zero: int = 0
    bits: int = 8  # x, h and the gate pre-activations and outputs
    cell: CellFormat = CellFormat(16, 11)
    cell_tanh: Table | None = None  # tanh(c) at 1/G; built from `cell` when None
    reverse: bool = False  # the reverse direction of a bidirectional layer: time runs back

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if self.reverse:
            x = x[:, ::-1]
        n, steps, _ = x.shape
        hidden = self.layer.hidden_size
        top = code_max(self.bits)
        h = np.zeros((n, hidden), code_dtype(-top, top))
        c = np.zeros((n, hidden), code_dtype(self.cell.low, self.cell.high))
        cell_tanh = self.cell_tanh or self.cell.tanh_table(self.bits)
        outputs = []
        for t in range(steps):
            acc = gemm(np.concatenate([x[:, t], h], axis=1), self.weight) + self.bias
            z = requantize(acc, self.gate_multiplier, -top, top)
            h, c = self._cell(z, c, hidden, cell_tanh)
            outputs.append(h)
        if not self.layer.return_sequences:
            return outputs[-1]  # the reverse direction's final state is at t = 0
        hs = np.stack(outputs, axis=1)
        return np.ascontiguousarray(hs[:, ::-1]) if self.reverse else hs

    def _cell(self, z: np.ndarray, c: np.ndarray, hidden: int,
              cell_tanh: Table) -> tuple[np.ndarray, np.ndarray]:
        top = code_max(self.bits)
        if not isinstance(self.layer, LSTM):
            return requantize(self.tanh_table(z).astype(np.int64), self.hidden_multiplier,
                              -top, top), c
        gates = self.sigmoid_table(z[:, : 3 * hidden]).astype(np.int64)
        i, f, o = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
        g = self.tanh_table(z[:, 3 * hidden :]).astype(np.int64)
        forget = div_round(f * c, top)
        write = div_round(i * g * (1 << self.cell.frac), top * top)
        cell = self.cell
        c = np.clip(forget + write, cell.low, cell.high).astype(c.dtype)
        tanh_c = cell_tanh(c).astype(np.int64)
        return requantize(o * tanh_c, self.hidden_multiplier, -top, top), c


def gate_tables(gate_scale: float, bits: int = 8, size: int | None = None,
                span: float | None = None) -> tuple[Table, Table]:
    """sigmoid and tanh of the gate pre-activations (codes at gate_scale, `bits` wide)."""
    return (make_table(sigmoid, gate_scale, bits, bits, size=size, span=span),
            make_table(np.tanh, gate_scale, bits, bits, size=size, span=span))


def hidden_multiplier(layer: Recurrent, in_scale: float, bits: int = 8) -> tuple[int, int]:
    """h's fixed-point rescale: LSTM o·tanh(c) is at 1/G², an RNN's tanh at 1/G
    (G = 127 at 8 bits, 32,767 at 16)."""
    unit = 1.0 / code_max(bits)
    product_scale = unit * unit if isinstance(layer, LSTM) else unit
    return quantize_multiplier(product_scale / in_scale)
