"""Post-training int8 quantization: calibrate ranges on sample inputs, build integer ops.

Scales are symmetric per tensor, from the largest magnitude seen in the calibration data
(weights from their own largest magnitude). A GEMM followed by ReLU is fused: its accumulators
are requantized straight to the ReLU output's scale with a clamp at zero. Recurrent layers
quantize [x, h] with one scale (at least 1/127, so h in [−1, 1] fits exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.errors import AccelsimError
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
            out, cache = layer.forward(params, y, EXACT)
            gates = _gate_range(params, cache) if isinstance(layer, Recurrent) else 0.0
            old = ranges.get(layer.name, LayerRange(0.0, 0.0, 0.0))
            ranges[layer.name] = LayerRange(max(old.inputs, float(np.abs(y).max())),
                                            max(old.outputs, float(np.abs(out).max())),
                                            max(old.gates, gates))
            y = out
    return ranges


def _gate_range(params: dict, cache: tuple) -> float:
    _, steps = cache
    xh = np.concatenate([xh for xh, _ in steps])
    return float(np.abs(xh @ params["weight"] + params["bias"]).max())


def _weight_scale(weight: np.ndarray) -> float:
    return symmetric_scale(float(np.abs(weight).max()))


def _gemm_op(layer: Layer, params: dict, in_scale: float, out_scale: float,
             relu: bool) -> QGemm:
    weight = params["weight"]
    if isinstance(layer, Conv2d):
        weight = weight.reshape(weight.shape[0], -1).T
    w_scale = _weight_scale(weight)
    bias = params.get("bias", np.zeros(weight.shape[1]))
    bias_q = np.rint(bias / (in_scale * w_scale)).astype(np.int32)
    return QGemm(layer.name, layer, quantize_tensor(weight, w_scale), bias_q,
                 quantize_multiplier(in_scale * w_scale / out_scale), relu, in_scale, out_scale)


def _recurrent_op(layer: Recurrent, params: dict, in_scale: float,
                  gate_range: float) -> QRecurrent:
    w_scale = _weight_scale(params["weight"])
    gate_scale = symmetric_scale(gate_range)
    sigmoid_table, tanh_table = gate_tables(gate_scale)
    return QRecurrent(
        layer.name, layer, quantize_tensor(params["weight"], w_scale),
        np.rint(params["bias"] / (in_scale * w_scale)).astype(np.int32),
        quantize_multiplier(in_scale * w_scale / gate_scale), sigmoid_table, tanh_table,
        hidden_multiplier(layer.type_name, in_scale), in_scale, in_scale)


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
        layer = layers[index]
        params = net.params.get(layer.name, {})
        if isinstance(layer, Conv2d | Linear):
            relu = index + 1 < len(layers) and isinstance(layers[index + 1], ReLU)
            out_range = ranges[layers[index + relu].name].outputs
            ops.append(_gemm_op(layer, params, scale, symmetric_scale(out_range), relu))
            index += 1 + relu
        elif isinstance(layer, Recurrent):
            wanted = symmetric_scale(max(ranges[layer.name].inputs, 1.0))
            if not np.isclose(wanted, scale, rtol=0, atol=0):
                ops.append(QRescale(f"{layer.name}.rescale",
                                    quantize_multiplier(scale / wanted), scale, wanted))
            ops.append(_recurrent_op(layer, params, wanted, ranges[layer.name].gates))
            index += 1
        elif isinstance(layer, Softmax):
            if index != len(layers) - 1:
                raise AccelsimError(f"softmax layer {layer.name!r} must be the last layer "
                                    "for int8 inference")
            ops.append(QSoftmax(layer.name, scale))
            index += 1
        else:
            ops.append(_simple_op(layer, scale))
            index += 1
        scale = ops[-1].out_scale
    return ops, input_scale
