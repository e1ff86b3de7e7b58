"""Calibration: run the fp32 reference over sample inputs and keep each tensor's range.

`max` keeps the extremes seen (a running min and max, nothing else stored). `percentile`
and `mse` keep the calibration activations of every layer (a few MB for LeNet-5 on 256
images) and choose a clipping range from them:

- percentile p: symmetric ±percentile(|x|, p); asymmetric [percentile(x, 100 − p),
  percentile(x, p)] (numpy's linear interpolation between order statistics).
- mse: among the MSE_GRID candidates t_k = (k / 100)·max|x|, k = 1..100 (asymmetric:
  (k / 100)·[min x, max x]), the one whose int8 quantize-dequantize of the activations has
  the smallest mean squared error; ties go to the widest range. At most MSE_SAMPLES values
  (a fixed-seed random subset) are scored, so the search costs the same on any data set.

An LSTM's cell state is always ranged by its extremes (`LayerRange.cells`): it is a
power-of-two fixed-point integer whose integer bits must cover what the cell holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.errors import QuantizationError
from accelsim.nn.layers import INPUT, Layer
from accelsim.nn.network import Network
from accelsim.nn.numerics import EXACT
from accelsim.nn.recurrent import GRU, LSTM, CellRecurrent
from accelsim.quant.fixedpoint import INT8_MAX, INT8_MIN, affine_params
from accelsim.quant.scheme import DEFAULT_SCHEME, Calibration, Scheme

CALIBRATION_CHUNK = 256
MSE_GRID = np.arange(1, 101) / 100.0  # fractions of the largest range seen
MSE_SAMPLES = 1 << 17


@dataclass(frozen=True)
class Range:
    """The real interval [low, high] a tensor is quantized over."""

    low: float = 0.0
    high: float = 0.0

    @property
    def magnitude(self) -> float:
        """The half-width a symmetric scale covers."""
        return max(-self.low, self.high)


@dataclass(frozen=True)
class LayerRange:
    """Ranges of a layer's input and output (and gate pre-activations and, for an LSTM, the
    cell state, if recurrent)."""

    inputs: Range
    outputs: Range
    gates: Range = Range()
    cells: Range = Range()


@dataclass
class _Observer:
    """Extremes of a tensor, and its values when the calibration method needs them."""

    keep: bool
    low: float = 0.0
    high: float = 0.0
    parts: list[np.ndarray] = field(default_factory=list)

    def see(self, x: np.ndarray) -> None:
        if x.size:
            self.low, self.high = min(self.low, float(x.min())), max(self.high, float(x.max()))
        if self.keep:
            self.parts.append(np.asarray(x, np.float32).ravel())

    def range(self, scheme: Scheme) -> Range:
        if scheme.calibrate is Calibration.MAX or not self.parts:
            return Range(self.low, self.high)
        values = np.concatenate(self.parts)
        if scheme.calibrate is Calibration.PERCENTILE:
            return percentile_range(values, scheme.percentile, scheme.zero_points)
        return mse_range(values, scheme.zero_points)


def percentile_range(values: np.ndarray, percentile: float, asymmetric: bool) -> Range:
    """The clipping range at `percentile` (see the module docstring)."""
    if asymmetric:
        low, high = np.percentile(values, [100.0 - percentile, percentile])
        return Range(min(float(low), 0.0), max(float(high), 0.0))
    t = float(np.percentile(np.abs(values), percentile))
    return Range(-t, t)


def quantization_mse(values: np.ndarray, span: Range, asymmetric: bool) -> float:
    """Mean squared error of quantizing `values` to int8 over `span` and back."""
    x = np.asarray(values, np.float64)
    if asymmetric:
        scale, zero = affine_params(span.low, span.high)
        q = np.clip(np.rint(x / scale) + zero, INT8_MIN, INT8_MAX)
        return float(np.mean(((q - zero) * scale - x) ** 2))
    scale = span.magnitude / INT8_MAX
    if scale == 0:
        return float(np.mean(x**2))
    q = np.clip(np.rint(x / scale), -INT8_MAX, INT8_MAX)
    return float(np.mean((q * scale - x) ** 2))


def mse_range(values: np.ndarray, asymmetric: bool) -> Range:
    """The MSE_GRID candidate with the smallest quantization error (see the module docstring)."""
    if values.size > MSE_SAMPLES:
        values = np.random.default_rng(0).choice(values, MSE_SAMPLES, replace=False)
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    widest = Range(low, high) if asymmetric else Range(-max(-low, high), max(-low, high))
    candidates = [Range(float(f * widest.low), float(f * widest.high)) for f in MSE_GRID[::-1]]
    errors = [quantization_mse(values, span, asymmetric) for span in candidates]
    return candidates[int(np.argmin(errors))]


def calibrate(net: Network, x: np.ndarray,
              scheme: Scheme = DEFAULT_SCHEME) -> dict[str, LayerRange]:
    """Run the fp32 reference over `x` in graph order and record the range of every layer's
    tensors (a layer's `inputs` range is that of the first tensor it reads)."""
    keep = scheme.calibrate is not Calibration.MAX
    first = _Observer(keep)
    outputs = {layer.name: _Observer(keep) for layer in net.layers}
    gates = {layer.name: _Observer(keep) for layer in net.layers
             if isinstance(layer, CellRecurrent | GRU)}
    cells = {layer.name: _Observer(False) for layer in net.layers if isinstance(layer, LSTM)}
    last_use = {name: i for i, names in enumerate(net.sources) for name in names}
    for start in range(0, len(x), CALIBRATION_CHUNK):
        values = {INPUT: np.asarray(x[start : start + CALIBRATION_CHUNK], np.float32)}
        first.see(values[INPUT])
        for i, (layer, names) in enumerate(zip(net.layers, net.sources, strict=True)):
            params = net.params.get(layer.name, {})
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below
                out, cache = layer.forward_of(params, tuple(values[n] for n in names), EXACT)
            _check_calibrated(layer, out, x)
            outputs[layer.name].see(out)
            if isinstance(layer, CellRecurrent):
                gates[layer.name].see(_gate_values(layer, params, cache))
            if isinstance(layer, GRU):
                gates[layer.name].see(gru_gate_values(layer, params, cache))
            if isinstance(layer, LSTM):
                cells[layer.name].see(_cell_values(cache))
            values = {n: v for n, v in values.items() if last_use.get(n, -1) > i}
            values[layer.name] = out
    return _layer_ranges(net, first.range(scheme),
                         {name: obs.range(scheme) for name, obs in outputs.items()},
                         {name: obs.range(scheme) for name, obs in gates.items()},
                         {name: obs.range(scheme) for name, obs in cells.items()})


def _layer_ranges(net: Network, first: Range, outputs: dict[str, Range],
                  gates: dict[str, Range], cells: dict[str, Range]) -> dict[str, LayerRange]:
    tensors = {INPUT: first, **outputs}
    return {layer.name: LayerRange(tensors[names[0]], outputs[layer.name],
                                   gates.get(layer.name, Range()), cells.get(layer.name, Range()))
            for layer, names in zip(net.layers, net.sources, strict=True)}


def _check_calibrated(layer: Layer, out: np.ndarray, x: np.ndarray) -> None:
    """float32 overflow in the reference forward would make every later range infinite."""
    if not np.all(np.isfinite(out)):
        count = int(np.count_nonzero(~np.isfinite(out)))
        raise QuantizationError(
            f"calibration: layer {layer.name!r} produced {count:,} non-finite values "
            f"(float32 overflow); the calibration inputs reach |x| = "
            f"{float(np.abs(x).max()):.3g}: scale them to the range the network was trained on")


def _gate_values(layer: CellRecurrent, params: dict, cache: tuple) -> np.ndarray:
    """Every step's gate pre-activations, of each direction."""
    _, directions = cache
    return np.concatenate([np.concatenate([xh for xh, _ in steps]) @ params[f"weight{d}"]
                           + params[f"bias{d}"]
                           for d, steps in zip(layer.directions, directions, strict=True)])


def _cell_values(cache: tuple) -> np.ndarray:
    """Every step's new cell state c_t = f ⊙ c_(t−1) + i ⊙ g, from the LSTM's step caches."""
    _, directions = cache
    values = [(f * c_prev + i * g).ravel() for steps in directions
              for _, (i, f, _o, g, c_prev, _t) in steps]
    return np.concatenate(values) if values else np.zeros(0, np.float32)


def gru_gate_values(layer: GRU, params: dict, cache: tuple) -> np.ndarray:
    """Every step's GRU pre-activations, of each direction: the r and z sums, the input and
    hidden projections of the candidate and its tanh argument (one gate scale covers them
    all)."""
    _, directions = cache
    hidden = layer.hidden_size
    parts = []
    for d, steps in zip(layer.directions, directions, strict=True):
        if not steps:
            continue
        x = np.concatenate([step[0] for step in steps])
        h = np.concatenate([step[1] for step in steps])
        r = np.concatenate([step[2] for step in steps])
        gi = x @ params[f"weight_ih{d}"] + params[f"bias_ih{d}"]
        w_hh, b_hh = params[f"weight_hh{d}"], params[f"bias_hh{d}"]
        if layer.linear_before_reset:
            hn = h @ w_hh[:, 2 * hidden :] + b_hh[2 * hidden :]
            candidate = gi[:, 2 * hidden :] + r * hn
        else:
            hn = (r * h) @ w_hh[:, 2 * hidden :] + b_hh[2 * hidden :]
            candidate = gi[:, 2 * hidden :] + hn
        rz = gi[:, : 2 * hidden] + h @ w_hh[:, : 2 * hidden] + b_hh[: 2 * hidden]
        parts += [rz.ravel(), gi[:, 2 * hidden :].ravel(), hn.ravel(), candidate.ravel()]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)
