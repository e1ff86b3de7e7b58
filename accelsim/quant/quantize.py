"""Post-training int8 quantization: calibrate ranges on sample inputs, build integer ops.

Scales are symmetric per tensor, from the largest magnitude seen in the calibration data
(weights from their own largest magnitude). A GEMM followed by ReLU is fused: its accumulators
are requantized straight to the ReLU output's scale with a clamp at zero. Recurrent layers
quantize [x, h] with one scale (at least 1/127, so h in [−1, 1] fits exactly).

Degenerate ranges are guarded, never divided by: a tensor seen only as zeros (all-zero
calibration data, a dead layer) gets the unit scale 1/127, no scale is below float32
epsilon, a weight scale widens when the bias would not fit int32, and float32 overflow
during calibration is an error naming the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.errors import AccelsimError, QuantizationError
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Softmax, Tanh, sigmoid
from accelsim.nn.layers import Layer
from accelsim.nn.network import Network
from accelsim.nn.numerics import EXACT
from accelsim.nn.recurrent import Recurrent
from accelsim.quant.fixedpoint import (
    quantize_multiplier,
    quantize_tensor,
    symmetric_scale,
)
from accelsim.quant.kernels import (
    UNIT_SCALE,
    QElementwise,
    QGemm,
    QRecurrent,
    QRescale,
    QSoftmax,
    gate_tables,
    hidden_multiplier,
    lut,
)

CALIBRATION_CHUNK = 256
BIAS_LIMIT = 2**30  # largest |int32 bias|: half the accumulator, the rest for the products


@dataclass(frozen=True)
class LayerRange:
    """Largest magnitudes seen at a layer's input and output (and gate inputs, if recurrent)."""

    inputs: float
    outputs: float
    gates: float = 0.0


def calibrate(net: Network, x: np.ndarray) -> dict[str, LayerRange]:
    """Run the fp32 reference over `x` and record the ranges of every layer."""
    ranges: dict[str, LayerRange] = {}
    for start in range(0, len(x), CALIBRATION_CHUNK):
        y = np.asarray(x[start : start + CALIBRATION_CHUNK], np.float32)
        for layer in net.layers:
            params = net.params.get(layer.name, {})
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below
                out, cache = layer.forward(params, y, EXACT)
            _check_calibrated(layer, out, x)
            gates = _gate_range(params, cache) if isinstance(layer, Recurrent) else 0.0
            old = ranges.get(layer.name, LayerRange(0.0, 0.0, 0.0))
            ranges[layer.name] = LayerRange(max(old.inputs, float(np.abs(y).max())),
                                            max(old.outputs, float(np.abs(out).max())),
                                            max(old.gates, gates))
            y = out
    return ranges


def _check_calibrated(layer: Layer, out: np.ndarray, x: np.ndarray) -> None:
    """float32 overflow in the reference forward would make every later range infinite."""
    if not np.all(np.isfinite(out)):
        count = int(np.count_nonzero(~np.isfinite(out)))
        raise QuantizationError(
            f"calibration: layer {layer.name!r} produced {count:,} non-finite values "
            f"(float32 overflow); the calibration inputs reach |x| = "
            f"{float(np.abs(x).max()):.3g}: scale them to the range the network was trained on")


def _gate_range(params: dict, cache: tuple) -> float:
    _, steps = cache
    xh = np.concatenate([xh for xh, _ in steps])
    return float(np.abs(xh @ params["weight"] + params["bias"]).max())


def _weight_and_bias(layer: Layer, weight: np.ndarray, bias: np.ndarray,
                     in_scale: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Weight scale, int8 weights and int32 bias (at in_scale · weight scale).

    The weight scale grows when a tiny input scale would push the bias past BIAS_LIMIT, so
    the bias always fits its int32 accumulator with headroom for the products.
    """
    for name, values in (("weights", weight), ("biases", bias)):
        if not np.all(np.isfinite(values)):
            raise QuantizationError(f"its {name} hold NaN or ±inf; retrain or reload the "
                                    "network")
    largest_bias = float(np.abs(bias).max()) if bias.size else 0.0
    w_scale = max(symmetric_scale(float(np.abs(weight).max())),
                  largest_bias / (BIAS_LIMIT * in_scale))
    bias_q = np.rint(np.asarray(bias, np.float64) / (in_scale * w_scale)).astype(np.int32)
    return w_scale, quantize_tensor(weight, w_scale), bias_q


def _gemm_op(layer: Conv2d | Linear, params: dict, in_scale: float, out_scale: float,
             relu: bool) -> QGemm:
    weight = params["weight"]
    if isinstance(layer, Conv2d):
        weight = weight.reshape(weight.shape[0], -1).T
    bias = params.get("bias", np.zeros(weight.shape[1]))
    w_scale, weight_q, bias_q = _weight_and_bias(layer, weight, bias, in_scale)
    return QGemm(layer.name, layer, weight_q, bias_q,
                 quantize_multiplier(in_scale * w_scale / out_scale), relu, in_scale, out_scale)


def _recurrent_op(layer: Recurrent, params: dict, in_scale: float,
                  gate_range: float) -> QRecurrent:
    w_scale, weight_q, bias_q = _weight_and_bias(layer, params["weight"], params["bias"],
                                                 in_scale)
    gate_scale = symmetric_scale(gate_range)
    sigmoid_table, tanh_table = gate_tables(gate_scale)
    return QRecurrent(
        layer.name, layer, weight_q, bias_q,
        quantize_multiplier(in_scale * w_scale / gate_scale), sigmoid_table, tanh_table,
        hidden_multiplier(layer, in_scale), in_scale, in_scale)


def _simple_op(layer: Layer, scale: float):
    if isinstance(layer, ReLU):
        return QElementwise(layer.name, layer, "relu", scale, scale)
    if isinstance(layer, Flatten):
        return QElementwise(layer.name, layer, "flatten", scale, scale)
    if isinstance(layer, MaxPool2d | AvgPool2d):
        kind = "maxpool" if isinstance(layer, MaxPool2d) else "avgpool"
        return QElementwise(layer.name, layer, kind, scale, scale)
    if isinstance(layer, Sigmoid | Tanh):
        fn = sigmoid if isinstance(layer, Sigmoid) else np.tanh
        return QElementwise(layer.name, layer, "lut", scale, UNIT_SCALE, lut(fn, scale))
    raise AccelsimError(f"layer {layer.name!r} of type {layer.type_name!r} has no int8 kernel")


def build_ops(net: Network, ranges: dict[str, LayerRange]) -> tuple[list, float]:
    """Integer ops for every layer, and the scale at which the input must be quantized."""
    layers, ops = list(net.layers), []
    first = layers[0]
    in_range = ranges[first.name].inputs
    scale = symmetric_scale(max(in_range, 1.0) if isinstance(first, Recurrent) else in_range)
    input_scale, index = scale, 0
    while index < len(layers):
        try:
            new_ops, used = _layer_ops(net, layers, index, ranges, scale)
        except QuantizationError as err:
            raise QuantizationError(f"layer {layers[index].name!r}: {err}") from None
        ops.extend(new_ops)
        index += used
        scale = ops[-1].out_scale
    return ops, input_scale


def _layer_ops(net: Network, layers: list[Layer], index: int, ranges: dict[str, LayerRange],
               scale: float) -> tuple[list, int]:
    """The ops for layers[index] (and a ReLU it absorbs), and how many layers they cover."""
    layer = layers[index]
    params = net.params.get(layer.name, {})
    if isinstance(layer, Conv2d | Linear):
        relu = index + 1 < len(layers) and isinstance(layers[index + 1], ReLU)
        out_range = ranges[layers[index + relu].name].outputs
        return [_gemm_op(layer, params, scale, symmetric_scale(out_range), relu)], 1 + relu
    if isinstance(layer, Recurrent):
        wanted = symmetric_scale(max(ranges[layer.name].inputs, 1.0))
        ops: list[QRescale | QRecurrent] = []
        if not np.isclose(wanted, scale, rtol=0, atol=0):
            ops.append(QRescale(f"{layer.name}.rescale", quantize_multiplier(scale / wanted),
                                scale, wanted))
        ops.append(_recurrent_op(layer, params, wanted, ranges[layer.name].gates))
        return ops, 1
    if isinstance(layer, Softmax):
        if index != len(layers) - 1:
            raise AccelsimError(f"softmax layer {layer.name!r} must be the last layer "
                                "for int8 inference")
        return [QSoftmax(layer.name, scale)], 1
    return [_simple_op(layer, scale)], 1
