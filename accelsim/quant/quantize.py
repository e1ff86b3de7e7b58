"""Post-training int8 quantization: the integer op of each layer from calibrated ranges
(`graph.build_ops` walks the network graph and wires them).

The default scheme (`Scheme()`) is symmetric per tensor, from the largest magnitude seen in
the calibration data (weights from their own largest magnitude); `scheme.py` lists the
others: weight scales per output channel, activations with zero points, percentile and MSE
calibration. A GEMM whose only reader is a ReLU (or a clip) absorbs it: its accumulators
are requantized straight to the activation output's scale with a clamp at its zero point (or
at the codes of the clip's bounds). Recurrent layers quantize [x, h] with
one symmetric scale (at least 1/127, so h in [−1, 1] fits exactly) under every scheme: an
asymmetric input is rescaled to it first; per-channel weights give one scale per gate column.

Activation widths (`Scheme.activation_bits`, per layer `layer_bits`) are the widths each
conv2d/linear/recurrent layer reads: the op before a layer writes its outputs at that layer's
width (pooling, ReLU and flatten pass codes through), a recurrent layer's [x, h] grid and gate
pre-activations take its own width, and a rescale op is inserted where a recurrent layer's h
meets a reader of another width. 16-bit tensors are symmetric int16 (zero point 0) under every
scheme. A layer whose int32 accumulators could overflow (Σ_k |w_q[k, n]| · the largest input
code + |bias|, reachable with 16-bit inputs and very long rows) is refused; the TPU v1's
accumulators are 32 bits.

Degenerate ranges are guarded, never divided by: a tensor seen only as zeros (all-zero
calibration data, a dead layer) gets the unit scale 1/127, no scale is below float32
epsilon, a weight scale widens when the bias would not fit int32, and float32 overflow
during calibration is an error naming the layer.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from accelsim.errors import AccelsimError, QuantizationError
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Tanh, sigmoid
from accelsim.nn.layers import Layer
from accelsim.nn.network import Network
from accelsim.nn.recurrent import Recurrent
from accelsim.quant.calibration import LayerRange, Range
from accelsim.quant.fixedpoint import (
    Multiplier,
    affine_params,
    code_max,
    quantize_multiplier,
    quantize_multipliers,
    quantize_tensor,
    symmetric_scale,
    symmetric_scales,
)
from accelsim.quant.kernels import (
    CellFormat,
    QElementwise,
    QGemm,
    QRecurrent,
    QRescale,
    gate_tables,
    hidden_multiplier,
    make_table,
)
from accelsim.quant.scheme import DEFAULT_SCHEME, Scheme, Weights

BIAS_LIMIT = 2**30  # largest |int32 bias|: half the accumulator, the rest for the products
ACCUMULATOR_LIMIT = 2**31  # a 32-bit accumulator holds |acc| < 2^31
GEMM_LAYERS = (Conv2d, Linear, Recurrent)


@dataclass(frozen=True)
class QParams:
    """How a tensor of activations is stored: real = (q − zero) · scale, `bits` wide."""

    scale: float
    zero: int = 0
    bits: int = 8
    nonnegative: bool = False  # codes ≥ zero: the tensor went through a ReLU


def activation_params(span: Range, scheme: Scheme, floor: float = 0.0,
                      bits: int = 8) -> QParams:
    """Scale and zero point for a calibrated range (symmetric ones cover at least ±floor);
    zero points only for 8-bit tensors of asymmetric schemes."""
    if scheme.zero_points and floor == 0.0 and bits == 8:
        return QParams(*affine_params(span.low, span.high))
    return QParams(symmetric_scale(max(span.magnitude, floor), bits), 0, bits)


def weight_and_bias(weight: np.ndarray, bias: np.ndarray, in_scale: float,
                     scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weight scales (one per output column), int8 weights (K, N) and int32 bias (at
    in_scale · weight scale).

    A weight scale grows when a tiny input scale would push its bias past BIAS_LIMIT, so
    the bias always fits its int32 accumulator with headroom for the products.
    """
    for name, values in (("weights", weight), ("biases", bias)):
        if not np.all(np.isfinite(values)):
            raise QuantizationError(f"its {name} hold NaN or ±inf; retrain or reload the "
                                    "network")
    if scheme.weights is Weights.PER_CHANNEL:
        w_scales = np.maximum(symmetric_scales(np.abs(weight).max(axis=0, initial=0.0)),
                              np.abs(bias) / (BIAS_LIMIT * in_scale))
    else:
        largest_bias = float(np.abs(bias).max()) if bias.size else 0.0
        w_scales = np.full(weight.shape[1], max(symmetric_scale(float(np.abs(weight).max())),
                                                largest_bias / (BIAS_LIMIT * in_scale)))
    bias_q = np.rint(np.asarray(bias, np.float64) / (in_scale * w_scales)).astype(np.int32)
    return w_scales, quantize_tensor(weight, w_scales), bias_q


def check_accumulators(weight_q: np.ndarray, bias_q: np.ndarray, inp: QParams) -> None:
    """Refuse a layer whose int32 accumulators could overflow on some input: the largest
    |Σ_k w·q + bias| over input codes q in [−2^(bits−1), 2^(bits−1)), or in [0, 2^(bits−1))
    after a ReLU (then the positive and the negative weights of a column bound it apart)."""
    w = weight_q.astype(np.int64)
    top = 1 << (inp.bits - 1)
    if inp.nonnegative and not inp.zero:
        reach = np.maximum(np.clip(w, 0, None).sum(axis=0), -np.clip(w, None, 0).sum(axis=0))
    else:
        reach = np.abs(w).sum(axis=0)
    largest = reach * top + np.abs(bias_q.astype(np.int64))
    if largest.size and int(largest.max()) >= ACCUMULATOR_LIMIT:
        hint = "give it 8-bit activations" if inp.bits > 8 else "split the layer"
        raise QuantizationError(f"its int32 accumulators could reach {int(largest.max()):,} "
                                f"with {inp.bits}-bit inputs (limit 2^31); {hint}")


def multiplier(reals: np.ndarray, scheme: Scheme) -> Multiplier:
    """One fixed-point multiplier per tensor, or one per output channel."""
    if scheme.weights is Weights.PER_CHANNEL:
        return quantize_multipliers(reals)
    return quantize_multiplier(float(reals[0]))


def zero_corrected(bias_q: np.ndarray, weight_q: np.ndarray, in_zero: int) -> np.ndarray:
    """bias − in_zero · Σ_k w[k, n]: the accumulators then see the stored input codes."""
    if not in_zero:
        return bias_q
    total = bias_q.astype(np.int64) - in_zero * weight_q.astype(np.int64).sum(axis=0)
    if np.abs(total).max() >= 2**31:
        raise QuantizationError("its bias with the input zero-point correction does not fit "
                                "int32; use activations='symmetric'")
    return total.astype(np.int32)


def gemm_op(layer: Conv2d | Linear, params: dict, inp: QParams, out: QParams, relu: bool,
             scheme: Scheme, clamp: tuple[int, int] | None = None) -> QGemm:
    """The integer GEMM of a conv2d or linear layer; `relu` clamps at the output zero point,
    `clamp` at other codes (an absorbed clip)."""
    weight = params["weight"]
    if isinstance(layer, Conv2d):
        weight = weight.reshape(weight.shape[0], -1).T
    bias = params.get("bias", np.zeros(weight.shape[1]))
    w_scales, weight_q, bias_q = weight_and_bias(weight, bias, inp.scale, scheme)
    bias_q = zero_corrected(bias_q, weight_q, inp.zero)
    check_accumulators(weight_q, bias_q, inp)
    out_low, top = clamp or code_range(out, scheme)
    return QGemm(layer.name, layer, weight_q, bias_q,
                 multiplier(inp.scale * w_scales / out.scale, scheme), relu, inp.scale,
                 out.scale, inp.zero, out.zero, out_low, top)


def code_range(params: QParams, scheme: Scheme) -> tuple[int, int]:
    """The smallest and largest code of a tensor: ±127 (±32,767) symmetric, [−128, 127]
    with a zero point."""
    top = code_max(params.bits)
    return (-top - 1 if scheme.zero_points and params.bits == 8 else -top), top


def recurrent_op(layer: Recurrent, params: dict, inp: QParams, ranges: LayerRange,
                  scheme: Scheme) -> QRecurrent:
    w_scales, weight_q, bias_q = weight_and_bias(params["weight"], params["bias"], inp.scale,
                                                  scheme)
    check_accumulators(weight_q, bias_q, inp)
    bits = inp.bits
    gate_scale = symmetric_scale(ranges.gates.magnitude, bits)
    sigmoid_table, tanh_table = gate_tables(gate_scale, bits, scheme.lut_size,
                                            scheme.lut_range)
    cell = CellFormat.covering(scheme.cell_bits, ranges.cells.magnitude)
    return QRecurrent(
        layer.name, layer, weight_q, bias_q,
        multiplier(inp.scale * w_scales / gate_scale, scheme), sigmoid_table, tanh_table,
        hidden_multiplier(layer, inp.scale, bits), inp.scale, inp.scale, bits=bits,
        cell=cell, cell_tanh=cell.tanh_table(bits))


def simple_op(layer: Layer, inp: QParams) -> QElementwise:
    scale, zero = inp.scale, inp.zero
    kind = "relu" if isinstance(layer, ReLU) else "flatten" if isinstance(layer, Flatten) \
        else "maxpool" if isinstance(layer, MaxPool2d) \
        else "avgpool" if isinstance(layer, AvgPool2d) else ""
    if kind:  # the zero point passes through: max, pooling and reshapes commute with it
        return QElementwise(layer.name, layer, kind, scale, scale, None, zero, zero)
    if isinstance(layer, Sigmoid | Tanh):
        fn = sigmoid if isinstance(layer, Sigmoid) else np.tanh
        return QElementwise(layer.name, layer, "lut", scale, 1.0 / code_max(inp.bits),
                            make_table(fn, scale, inp.bits, inp.bits, zero), zero, 0)
    raise AccelsimError(f"layer {layer.name!r} of type {layer.type_name!r} has no int8 kernel")


def input_bits(net: Network, scheme: Scheme = DEFAULT_SCHEME) -> list[int]:
    """The width of the activations every layer reads: its own for conv2d, linear and
    recurrent layers; the next such layer's for the layers before it (their codes pass
    through); the last such layer's for the layers after it."""
    layers = list(net.layers)
    _check_layer_names(net, scheme)
    widths: list[int | None] = [scheme.bits_for(layer.name)
                                if isinstance(layer, GEMM_LAYERS) else None for layer in layers]
    following: int | None = None
    for index in reversed(range(len(layers))):
        following = widths[index] = widths[index] or following
    previous = scheme.activation_bits
    for index, width in enumerate(widths):
        previous = widths[index] = width or previous
    return [int(width or 8) for width in widths]


def _check_layer_names(net: Network, scheme: Scheme) -> None:
    names = [layer.name for layer in net.layers if isinstance(layer, GEMM_LAYERS)]
    for name, _ in scheme.layer_bits:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise QuantizationError(f"activation_bits names layer {name!r}, which is not a "
                                    f"conv2d, linear or recurrent layer of {net.name!r}{hint}; "
                                    f"choose from {', '.join(names)}")


def rescaled(name: str, inp: QParams, wanted: QParams) -> list[QRescale]:
    """A rescale op from `inp` to `wanted`, or none when they are the same grid."""
    if wanted.scale == inp.scale and not inp.zero and wanted.bits == inp.bits:
        return []
    return [QRescale(f"{name}.rescale", quantize_multiplier(inp.scale / wanted.scale),
                     inp.scale, wanted.scale, inp.zero, 0, wanted.bits)]

