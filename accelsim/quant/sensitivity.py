"""Per-layer quantization sensitivity and a greedy 8/16-bit mixed-precision suggestion.

Simulated ("fake") quantization runs the fp32 reference forward with chosen layers rounded:
their weights are quantized and dequantized (symmetric, at `bits`, one scale per tensor or
per output channel from the largest magnitude, as `quantize` does) and their outputs are
quantized and dequantized over the range the scheme's calibration picks (`calibration.py`;
zero points when the scheme is asymmetric). Everything else stays fp32, so one layer's
accuracy cost can be measured alone.

What is modelled, following the integer kernels of `quantize.py`:

- a conv2d/linear followed by a ReLU is one unit (the kernels fuse them): its output is
  quantized after the ReLU, over the ReLU's range; the ReLU is not a unit of its own.
- relu, pooling, flatten, sigmoid and tanh layers: only their outputs, over their own ranges.
- recurrent layers: the weights, and h_t at every step (the output sequence and the h fed
  back) on the symmetric grid of the layer's input, at least ±1, as the kernel keeps [x, h].
- the network input, on the first layer's input range, when the first layer is quantized.
- a trailing softmax is never quantized (the integer path returns float probabilities, and
  top-1 is the argmax of its input).

What is not: biases stay fp32 (int32 in the kernels, a negligible error), the fixed-point
requantization multipliers, the weight-scale widening that keeps a huge bias in int32, the
rescale between a layer and a recurrent layer's input grid, and inside recurrent layers the
quantized gate pre-activations, the lookup-table sigmoid and tanh and the int16 cell state.
Pooling and flatten quantize over their own calibrated range where the kernels keep the
input's scale (the same range under `max` calibration). Percentile and MSE ranges are the
int8 choices, reused at 16 bits. The all-layers 8-bit accuracy is therefore an estimate of
`quantize(...)`'s. Measured on the digits test split (calibration: 256 training images),
LeNet-5 gives 99.16 % both ways under six schemes (max, mse and percentile; per tensor and
per channel; symmetric and asymmetric); lstm-char's next-character accuracy is 54.58 %
against the integer path's 54.62 % (per tensor) and 54.85 % against 54.69 % (per channel).

A unit at 16 bits here has 16-bit weights and outputs; the integer path keeps weights int8
and sets the width of what each layer reads. `MixedPrecision.activation_bits` translates a
suggestion into `quantize`'s `activation_bits`: the layer reading a 16-bit unit's output
reads 16 bits, a 16-bit recurrent unit keeps its own h at 16 bits, and a 16-bit last unit
reads 16 bits (its logits follow). A unit sensitive through its weights alone gains nothing
in the integer path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelsim.errors import QuantizationError
from accelsim.nn.conv import Conv2d
from accelsim.nn.dense import Linear, ReLU
from accelsim.nn.layers import INPUT, Layer
from accelsim.nn.network import FORWARD_CHUNK, Network
from accelsim.nn.numerics import EXACT
from accelsim.nn.recurrent import CellRecurrent, Recurrent
from accelsim.nn.scoring import score
from accelsim.quant.calibration import LayerRange, Range, calibrate
from accelsim.quant.fixedpoint import INT8_MAX, INT8_MIN, affine_params, symmetric_scale
from accelsim.quant.scheme import DEFAULT_SCHEME, Scheme, Weights

WIDE_BITS = 16  # the precision a sensitive layer is moved to


@dataclass(frozen=True)
class Grid:
    """A uniform quantization grid: real = (q − zero) · scale with q in [low, high]."""

    scale: float
    zero: int
    low: int
    high: int


def _check_bits(bits: object) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise QuantizationError(f"bits = {bits!r} must be an integer from 2 to 16, e.g. 8 "
                                "(int8) or 16 (int16)")
    return bits


def symmetric_grid(magnitude: float, bits: int) -> Grid:
    """[−magnitude, magnitude] onto ±(2^(bits−1) − 1); at 8 bits `symmetric_scale` exactly."""
    top = (1 << (_check_bits(bits) - 1)) - 1
    return Grid(symmetric_scale(magnitude) * INT8_MAX / top, 0, -top, top)


def affine_grid(span: Range, bits: int) -> Grid:
    """[low, high] (widened to hold 0) onto [−2^(bits−1), 2^(bits−1) − 1]; at 8 bits
    `affine_params` exactly."""
    top = (1 << (_check_bits(bits) - 1)) - 1
    scale8, zero8 = affine_params(span.low, span.high)
    if bits == 8:
        return Grid(scale8, zero8, INT8_MIN, INT8_MAX)
    scale = scale8 * (INT8_MAX - INT8_MIN) / (2 * top + 1)
    low = min(span.low, 0.0)
    zero = 0 if max(span.high, 0.0) == low else \
        int(np.clip(round(-top - 1 - low / scale), -top - 1, top))
    return Grid(scale, zero, -top - 1, top)


def activation_grid(span: Range, bits: int, scheme: Scheme = DEFAULT_SCHEME) -> Grid:
    """The grid a calibrated activation range gets under `scheme`."""
    return affine_grid(span, bits) if scheme.zero_points else symmetric_grid(span.magnitude,
                                                                             bits)


def fake_quantize(x: np.ndarray, grid: Grid) -> np.ndarray:
    """Quantize to `grid` (round to nearest, ties to even, clamp) and dequantize, float32."""
    q = np.clip(np.rint(np.asarray(x, np.float64) / grid.scale) + grid.zero, grid.low,
                grid.high)
    return ((q - grid.zero) * grid.scale).astype(np.float32)


def fake_quantize_weight(weight: np.ndarray, bits: int, scheme: Scheme = DEFAULT_SCHEME,
                         channel_axis: int = -1) -> np.ndarray:
    """Symmetric weights at `bits`, from the largest magnitude of the tensor or, per channel,
    of each slice along `channel_axis` (a conv's output channels are axis 0)."""
    w = np.asarray(weight, np.float64)
    top = (1 << (_check_bits(bits) - 1)) - 1
    if scheme.weights is Weights.PER_CHANNEL:
        columns = np.moveaxis(w, channel_axis, -1)
        largest = np.abs(columns).reshape(-1, columns.shape[-1]).max(axis=0, initial=0.0)
        scales = np.array([symmetric_scale(float(m)) for m in largest]) * INT8_MAX / top
        q = np.clip(np.rint(columns / scales), -top, top) * scales
        return np.moveaxis(q, -1, channel_axis).astype(np.float32)
    scale = symmetric_scale(float(np.abs(w).max(initial=0.0))) * INT8_MAX / top
    return (np.clip(np.rint(w / scale), -top, top) * scale).astype(np.float32)


@dataclass(frozen=True)
class _Unit:
    """The layers one quantization choice covers: a layer, or a GEMM and its fused ReLU."""

    name: str
    layers: tuple[Layer, ...]


def quantizable_layers(net: Network) -> tuple[str, ...]:
    """The names sensitivity reports on, in network order (fused ReLUs and a trailing
    softmax are not among them)."""
    return tuple(unit.name for unit in _units(net))


def _units(net: Network) -> list[_Unit]:
    _check_sequential(net)
    layers, units, index = list(net.logit_layers()), [], 0
    while index < len(layers):
        layer = layers[index]
        fused = isinstance(layer, Conv2d | Linear) and index + 1 < len(layers) \
            and isinstance(layers[index + 1], ReLU)
        units.append(_Unit(layer.name, tuple(layers[index : index + 1 + fused])))
        index += 1 + fused
    return units


def _check_sequential(net: Network) -> None:
    """Fake quantization walks layers in order: refuse graphs (branches, merges) and the
    recurrent layers it has no time loop for, naming what does work."""
    previous = INPUT
    for layer, names in zip(net.layers, net.sources, strict=True):
        if names != (previous,):
            raise QuantizationError(
                f"sensitivity analysis runs sequential networks; {net.name!r} is a graph "
                f"(layer {layer.name!r} reads {', '.join(names)}): quantize it with "
                "accelsim.quantize and compare int8 with fp32 accuracy instead")
        if isinstance(layer, Recurrent) and (not isinstance(layer, CellRecurrent)
                                             or layer.bidirectional):
            raise QuantizationError(
                f"sensitivity analysis fake-quantizes one-directional RNN and LSTM layers; "
                f"layer {layer.name!r} is a {'bidirectional ' * layer.bidirectional}"
                f"{layer.type_name}: quantize it with accelsim.quantize instead")
        previous = layer.name


def fake_forward(net: Network, ranges: Mapping[str, LayerRange], x: np.ndarray,
                 bits: Mapping[str, int], scheme: Scheme = DEFAULT_SCHEME,
                 chunk: int = FORWARD_CHUNK) -> np.ndarray:
    """Logits of the fp32 reference with the layers named in `bits` fake-quantized at their
    bit widths; `ranges` come from `calibration.calibrate(net, data, scheme)`."""
    units = _units(net)
    unknown = sorted(set(bits) - {unit.name for unit in units})
    if unknown:
        raise QuantizationError(f"no quantizable layer named {', '.join(map(repr, unknown))} "
                                f"in {net.name!r}; choose from "
                                f"{', '.join(quantizable_layers(net))}")
    params = {unit.name: _unit_params(net, unit, bits.get(unit.name), scheme) for unit in units}
    x = net.check_input(x).astype(np.float32, copy=False)
    first = units[0]
    parts = []
    for start in range(0, len(x), chunk):
        y = x[start : start + chunk]
        if first.name in bits:
            y = fake_quantize(y, _input_grid(first, ranges, bits[first.name], scheme))
        for unit in units:
            y = _run_unit(unit, params[unit.name], ranges, y, bits.get(unit.name), scheme)
        parts.append(y)
    return np.concatenate(parts)


def _input_grid(unit: _Unit, ranges: Mapping[str, LayerRange], bits: int,
                scheme: Scheme) -> Grid:
    span = ranges[unit.layers[0].name].inputs
    if isinstance(unit.layers[0], Recurrent):  # [x, h] share one symmetric scale, ≥ 1/127
        return symmetric_grid(max(span.magnitude, 1.0), bits)
    return activation_grid(span, bits, scheme)


def _unit_params(net: Network, unit: _Unit, bits: int | None,
                 scheme: Scheme) -> dict[str, Any]:
    params = dict(net.params.get(unit.layers[0].name, {}))
    if bits is not None and "weight" in params:
        axis = 0 if isinstance(unit.layers[0], Conv2d) else -1
        params["weight"] = fake_quantize_weight(params["weight"], bits, scheme, axis)
    return params


def _run_unit(unit: _Unit, params: dict[str, Any], ranges: Mapping[str, LayerRange],
              y: np.ndarray, bits: int | None, scheme: Scheme) -> np.ndarray:
    head = unit.layers[0]
    if bits is not None and isinstance(head, CellRecurrent):
        return _recurrent(head, params, y, _input_grid(unit, ranges, bits, scheme))
    y, _ = head.forward(params, y, EXACT)
    for layer in unit.layers[1:]:
        y, _ = layer.forward({}, y, EXACT)
    if bits is None:
        return y
    return fake_quantize(y, activation_grid(ranges[unit.layers[-1].name].outputs, bits, scheme))


def _recurrent(layer: CellRecurrent, params: dict[str, Any], x: np.ndarray,
               grid: Grid) -> np.ndarray:
    """The layer's time loop with h_t rounded to `grid` (what is fed back and output)."""
    state = layer.initial_state(len(x), np.dtype(np.float32))
    outputs = []
    for t in range(x.shape[1]):
        z = np.concatenate([x[:, t], state[0]], axis=1) @ params["weight"] + params["bias"]
        state, _ = layer.step(z.astype(np.float32), state, EXACT)
        state = (fake_quantize(state[0], grid), *state[1:])
        outputs.append(state[0])
    return np.stack(outputs, axis=1) if layer.return_sequences else outputs[-1]


@dataclass(frozen=True)
class LayerCost:
    """Accuracy with one layer quantized (the rest fp32), and its drop from fp32 in points."""

    layer: str
    accuracy: float
    drop_points: float


@dataclass(frozen=True)
class Sensitivity:
    """Each quantizable layer's accuracy cost at `bits`, beside fp32 and all layers."""

    network: str
    scheme: Scheme
    bits: int
    fp32_accuracy: float
    all_layers_accuracy: float
    layers: tuple[LayerCost, ...]

    @property
    def all_layers_drop_points(self) -> float:
        return 100.0 * (self.fp32_accuracy - self.all_layers_accuracy)

    def ranked(self) -> tuple[LayerCost, ...]:
        """Most sensitive first; equal drops keep network order."""
        return tuple(sorted(self.layers, key=lambda cost: -cost.drop_points))

    def table(self) -> str:
        rows = [f"{self.network}: {self.bits}-bit fake quantization, {self.scheme.label}",
                f"  {'layer':<12}{'accuracy':>10}{'drop (points)':>15}"]
        rows += [f"  {c.layer:<12}{100 * c.accuracy:>9.2f}%{c.drop_points:>15.2f}"
                 for c in self.layers]
        rows.append(f"  {'all layers':<12}{100 * self.all_layers_accuracy:>9.2f}%"
                    f"{self.all_layers_drop_points:>15.2f}")
        rows.append(f"  {'fp32':<12}{100 * self.fp32_accuracy:>9.2f}%")
        return "\n".join(rows)

    def to_records(self) -> list[dict[str, Any]]:
        """One row per quantizable layer, then 'all layers'."""
        common = {"network": self.network, "scheme": self.scheme.label, "bits": self.bits,
                  "fp32_accuracy": self.fp32_accuracy}
        rows = [{**common, "layer": c.layer, "accuracy": c.accuracy,
                 "drop_points": c.drop_points} for c in self.layers]
        rows.append({**common, "layer": "all layers", "accuracy": self.all_layers_accuracy,
                     "drop_points": self.all_layers_drop_points})
        return rows


@dataclass(frozen=True)
class Step:
    """One greedy move: the layer sent to 16 bits and the accuracy after it."""

    layer: str
    accuracy: float
    drop_points: float


@dataclass(frozen=True)
class MixedPrecision:
    """The layers kept at 16 bits (the rest 8) for a loss within `max_drop_points`."""

    network: str
    scheme: Scheme
    max_drop_points: float
    fp32_accuracy: float
    sixteen_bit: tuple[str, ...]
    accuracy: float
    steps: tuple[Step, ...]
    sensitivity: Sensitivity

    activation_bits: tuple[tuple[str, int], ...] = ()  # for `quantize`, see the module

    @property
    def drop_points(self) -> float:
        return 100.0 * (self.fp32_accuracy - self.accuracy)

    def table(self) -> str:
        rows = [f"{self.network}: 8-bit with 16-bit layers for a loss ≤ "
                f"{self.max_drop_points:g} points ({self.scheme.label})",
                f"  all 8-bit: {100 * self.sensitivity.all_layers_accuracy:.2f}% "
                f"(fp32 {100 * self.fp32_accuracy:.2f}%)"]
        rows += [f"  + {s.layer:<10} 16-bit: {100 * s.accuracy:.2f}% "
                 f"(drop {s.drop_points:.2f})" for s in self.steps]
        kept = ", ".join(self.sixteen_bit) or "none"
        rows.append(f"  16-bit layers: {kept}; accuracy {100 * self.accuracy:.2f}%")
        return "\n".join(rows)


def _accuracy(net: Network, ranges: Mapping[str, LayerRange], x: np.ndarray, y: np.ndarray,
              bits: Mapping[str, int], scheme: Scheme) -> float:
    return score(fake_forward(net, ranges, x, bits, scheme), y)


def layer_sensitivity(net: Network, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
                      scheme: Scheme = DEFAULT_SCHEME, bits: int = 8) -> Sensitivity:
    """Top-1 accuracy on (x, y) with each quantizable layer alone at `bits` (the rest fp32),
    with every layer at `bits`, and in fp32; ranges are calibrated on `calibration`."""
    bits = _check_bits(bits)
    return _sensitivity(net, calibrate(net, net.check_input(calibration), scheme), x, y,
                        scheme, bits)


def _sensitivity(net: Network, ranges: Mapping[str, LayerRange], x: np.ndarray,
                 y: np.ndarray, scheme: Scheme, bits: int) -> Sensitivity:
    names = quantizable_layers(net)
    fp32 = _accuracy(net, ranges, x, y, {}, scheme)
    costs = []
    for name in names:
        accuracy = _accuracy(net, ranges, x, y, {name: bits}, scheme)
        costs.append(LayerCost(name, accuracy, 100.0 * (fp32 - accuracy)))
    every = _accuracy(net, ranges, x, y, dict.fromkeys(names, bits), scheme)
    return Sensitivity(net.name, scheme, bits, fp32, every, tuple(costs))


def suggest_mixed_precision(net: Network, calibration: np.ndarray, x: np.ndarray,
                            y: np.ndarray, max_drop_points: float,
                            scheme: Scheme = DEFAULT_SCHEME) -> MixedPrecision:
    """Greedy: from every layer at 8 bits, move the most sensitive remaining layer (largest
    drop alone at 8 bits; ties in network order) to 16 bits while the drop from fp32 exceeds
    `max_drop_points`, or until every layer is at 16 bits."""
    budget = max_drop_points
    if isinstance(budget, bool) or not isinstance(budget, int | float) or np.isnan(budget):
        raise QuantizationError(f"max_drop_points = {budget!r} must be a number of accuracy "
                                "points, e.g. 0.5")
    ranges = calibrate(net, net.check_input(calibration), scheme)
    sensitivity = _sensitivity(net, ranges, x, y, scheme, 8)
    bits = dict.fromkeys(quantizable_layers(net), 8)
    accuracy, steps = sensitivity.all_layers_accuracy, []
    queue = [cost.layer for cost in sensitivity.ranked()]
    while 100.0 * (sensitivity.fp32_accuracy - accuracy) > budget and queue:
        layer = queue.pop(0)
        bits[layer] = WIDE_BITS
        accuracy = _accuracy(net, ranges, x, y, bits, scheme)
        steps.append(Step(layer, accuracy, 100.0 * (sensitivity.fp32_accuracy - accuracy)))
    sixteen = tuple(step.layer for step in steps)
    return MixedPrecision(net.name, scheme, float(budget), sensitivity.fp32_accuracy, sixteen,
                          accuracy, tuple(steps), sensitivity,
                          tuple(sorted(integer_bits(net, sixteen).items())))


def integer_bits(net: Network, sixteen_bit: tuple[str, ...]) -> dict[str, int]:
    """`quantize`'s activation_bits for units kept at 16 bits: the next conv2d, linear or
    recurrent layer after each reads 16 bits, and a recurrent unit's own h is 16-bit. The
    last unit reads 16 bits itself: the integer path writes the logits at that width."""
    layers = list(net.layers)
    names = [layer.name for layer in layers]
    widths: dict[str, int] = {}
    for unit in _units(net):
        if unit.name not in sixteen_bit:
            continue
        if isinstance(unit.layers[0], Recurrent):
            widths[unit.name] = WIDE_BITS
        after = names.index(unit.layers[-1].name) + 1
        reader = next((layer for layer in layers[after:]
                       if isinstance(layer, Conv2d | Linear | Recurrent)), None)
        widths[(reader or unit.layers[0]).name] = WIDE_BITS  # the last unit: its own
    return widths
