"""QuantizedNetwork: a float network's int8 twin, runnable wherever a Network is.

Both satisfy `accelsim.nn.runnable.Runnable`: the shape information (name, layers, input
shape, sequence length) is the float network's, so lowering and the machines treat both
alike; its numerics are integer-only from the quantized input to the int8 output, which is
dequantized for the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError, QuantizationError
from accelsim.nn.layers import INPUT, Layer, Shape
from accelsim.nn.network import Network, check_labels
from accelsim.nn.runnable import Runnable
from accelsim.precision import Precision
from accelsim.quant.calibration import LayerRange
from accelsim.quant.calibration import calibrate as calibrate_ranges
from accelsim.quant.fixedpoint import quantize_affine, quantize_tensor
from accelsim.quant.graph import build_ops
from accelsim.quant.kernels import IntGemm, QSoftmax, int_matmul
from accelsim.quant.quantize import GEMM_LAYERS, input_bits
from accelsim.quant.scheme import DEFAULT_CELL_BITS, DEFAULT_PERCENTILE, DEFAULT_SCHEME, Scheme

FORWARD_CHUNK = 512


@dataclass(frozen=True, eq=False)
class QuantizedNetwork:
    network: Network
    ops: tuple
    input_scale: float
    calibration_size: int
    scheme: Scheme = DEFAULT_SCHEME
    input_zero: int = 0  # real = (q − input_zero) · input_scale
    input_bits: int = 8  # int8 or int16 codes in

    @property
    def name(self) -> str:
        return self.network.name

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.network.layers

    @property
    def input_shape(self) -> Shape:
        return self.network.input_shape

    @property
    def sequence(self) -> bool:
        return self.network.sequence

    @property
    def seq_len(self) -> int | None:
        return self.network.seq_len

    @property
    def description(self) -> str:
        return self.network.description

    @property
    def training(self) -> Mapping[str, Any]:
        return self.network.training

    @property
    def num_params(self) -> int:
        return self.network.num_params

    def sample_shape(self, seq_len: int | None = None) -> Shape:
        return self.network.sample_shape(seq_len)

    @property
    def sources(self) -> tuple[tuple[str, ...], ...]:
        return self.network.sources

    def layer_shapes(self, seq_len: int | None = None) -> Iterator[tuple[Layer, Shape, Shape]]:
        return self.network.layer_shapes(seq_len)

    def layer_io(self, seq_len: int | None = None
                 ) -> Iterator[tuple[Layer, tuple[Shape, ...], Shape]]:
        return self.network.layer_io(seq_len)

    def check_input(self, x: np.ndarray) -> np.ndarray:
        return self.network.check_input(x)

    def summary(self, seq_len: int | None = None) -> str:
        return self.network.summary(seq_len)

    @property
    def has_zero_points(self) -> bool:
        """True when some tensor carries a zero point (hardware must support them): 8-bit
        tensors of an asymmetric scheme; 16-bit ones are always symmetric."""
        return bool(self.input_zero) or any(getattr(op, "in_zero", 0) or
                                            getattr(op, "out_zero", 0) for op in self.ops)

    @property
    def gemm_input_bits(self) -> dict[str, int]:
        """The width of the activations (8 or 16) each conv2d, linear and recurrent layer
        reads: the A operand of its GEMM (16: the TPU v1's 8b×16b mode)."""
        widths = input_bits(self.network, self.scheme)
        return {layer.name: bits for layer, bits in zip(self.layers, widths, strict=True)
                if isinstance(layer, GEMM_LAYERS)}

    @property
    def output_scale(self) -> float | None:
        """Scale of the int8 output; None when a final softmax returns probabilities."""
        return None if isinstance(self.ops[-1], QSoftmax) else self.ops[-1].out_scale

    @property
    def output_zero(self) -> int:
        """Zero point of the int8 output (0 for symmetric schemes and after a softmax)."""
        return self.ops[-1].out_zero

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float inputs → int8 (or int16) at the input scale (the host's job before
        Read_Host_Memory)."""
        x = self.network.check_input(x)
        if self.input_zero or (self.scheme.zero_points and self.input_bits == 8):
            return quantize_affine(x, self.input_scale, self.input_zero)
        return quantize_tensor(x, self.input_scale, self.input_bits)

    @cached_property
    def wiring(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """(the tensors it reads, the tensor it writes) per op; an op without wiring reads the
        op before it (the first: the input) and writes its name."""
        out, previous = [], INPUT
        for op in self.ops:
            output = getattr(op, "output", "") or op.name
            out.append((getattr(op, "inputs", ()) or (previous,), output))
            previous = output
        return tuple(out)

    def forward_int(self, xq: np.ndarray, gemm: IntGemm = int_matmul) -> np.ndarray:
        """Integer inference over the graph: int8 (or int16) in, int8 (or int16) out (floats
        after a final softmax); each tensor is freed after its last reader."""
        last_use = {name: i for i, (names, _) in enumerate(self.wiring) for name in names}
        values = {INPUT: xq}
        for i, (op, (names, output)) in enumerate(zip(self.ops, self.wiring, strict=True)):
            xs = tuple(values[name] for name in names)
            y = op.run(xs if op.merges else xs[0], gemm)
            for name in names:
                if last_use[name] == i:
                    values.pop(name, None)
            values[output] = y
        return values[self.wiring[-1][1]]

    def forward(self, x: np.ndarray, precision: Precision | str | None = None,
                gemm: IntGemm = int_matmul,
                chunk: int = FORWARD_CHUNK) -> np.ndarray:
        """Dequantized outputs of integer inference on float inputs."""
        if precision is not None and Precision.parse(precision) is not Precision.INT8:
            raise AccelsimError(f"a quantized network runs int8, not {precision}")
        xq = self.quantize_input(x)
        parts = [self.forward_int(xq[i : i + chunk], gemm) for i in range(0, len(xq), chunk)]
        out = np.concatenate(parts)
        scale = self.output_scale
        if not scale:
            return out.astype(np.float32)
        return (out.astype(np.float32) - np.float32(self.output_zero)) * np.float32(scale)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x).argmax(axis=-1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        outputs = self.forward(x)
        return float(np.mean(outputs.argmax(axis=-1) == check_labels(y, outputs.shape)))

    def __repr__(self) -> str:
        return (f"QuantizedNetwork({self.network.name!r}, int8, {self.scheme!r}, "
                f"{len(self.ops)} ops, calibrated on {self.calibration_size} samples)")


def ensure_quantized(net: Runnable, x: np.ndarray, samples: int = 256) -> QuantizedNetwork:
    """`net` itself if already quantized, else quantized with its first `samples` inputs as
    calibration (what an int8 machine does when handed a float network)."""
    if isinstance(net, QuantizedNetwork):
        return net
    if not isinstance(net, Network):
        raise QuantizationError(f"cannot quantize a {type(net).__name__}: give a Network "
                                "(accelsim.network) or a QuantizedNetwork (accelsim.quantize)")
    return quantize(net, calibration=x[:samples])


def quantize(net: Network, calibration: np.ndarray, *, weights: str = "per_tensor",
             activations: str = "symmetric", calibrate: str = "max",
             percentile: float = DEFAULT_PERCENTILE,
             activation_bits: int | Mapping[str, int] = 8,
             cell_bits: int = DEFAULT_CELL_BITS, lut_size: int | None = None,
             lut_range: float | None = None) -> QuantizedNetwork:
    """int8 weights with int32 accumulation, calibrated on sample inputs (see `quant.scheme`).

    weights: "per_tensor" or "per_channel" (one scale per output channel).
    activations: "symmetric" (zero point 0) or "asymmetric" (a zero point per 8-bit tensor).
    calibrate: "max", "percentile" (at `percentile`, default 99.99) or "mse".
    activation_bits: 8 or 16, the width of the activations every conv2d/linear/recurrent
        layer reads, or {layer name: 16, ...} for some layers (the others 8).
    cell_bits: the LSTM cell state's width, 8, 16 or 32.
    lut_size, lut_range: entries (a power of two) and input half-width of the recurrent
        layers' sigmoid/tanh tables (default: one entry per gate code over its calibrated
        range).
    The defaults are symmetric per-tensor max calibration, 8-bit activations, a 16-bit cell.
    A network already quantized is returned as it is.
    """
    _check_layer_bits(activation_bits, net)
    scheme = Scheme.parse(weights, activations, calibrate, percentile, activation_bits,
                          cell_bits, lut_size, lut_range)
    if isinstance(net, QuantizedNetwork):
        return net
    if not isinstance(net, Network):
        raise AccelsimError(f"quantize needs a Network, e.g. ax.network('lenet5'), got "
                            f"{type(net).__name__} {net!r:.60}")
    x = net.check_input(calibration)  # shape, finite values, weights loaded
    return quantize_calibrated(net, len(x), scheme, calibrate_ranges(net, x, scheme))


def _check_layer_bits(activation_bits: object, net: object) -> None:
    """activation_bits as a {layer name: bits} dict: each key a layer's name (a string)."""
    if not isinstance(activation_bits, Mapping):
        return
    names = [layer.name for layer in net.layers] if isinstance(net, Network) else None
    for key in activation_bits:
        if not isinstance(key, str):
            raise QuantizationError(
                f"activation_bits has the key {key!r}; its keys are layer names (strings)"
                + (f", one of {', '.join(names)}" if names else "")
                + ", e.g. activation_bits={'fc1': 16}")


def quantize_calibrated(net: Network, samples: int, scheme: Scheme,
                        ranges: Mapping[str, LayerRange]) -> QuantizedNetwork:
    """`quantize` from ranges already calibrated (on `samples` inputs) by a scheme with the
    same calibration (calibrate, percentile, zero points): schemes that differ only in
    weights, widths or tables share one calibration pass."""
    ops, inp = build_ops(net, dict(ranges), scheme)
    return QuantizedNetwork(net, tuple(ops), inp.scale, samples, scheme, inp.zero, inp.bits)

