"""Lowering: Network × batch (× sequence length) → Workload.

Each layer type has one rule. Convolutions become im2col GEMMs (M = batch·out_h·out_w,
K = in_c·kh·kw, N = out_c); a linear layer is a GEMM with M = batch (× time steps when it
reads a sequence); an RNN/LSTM step is one gate GEMM M = batch, K = input + hidden,
N = gates·hidden, counted `seq_len` times; activations and the LSTM cell arithmetic are
vector ops; flatten is free. The network input travels to the device first and the output
back last. A quantized network's `gemm_input_bits` ({layer name: 8 or 16}) sets each GEMM's
`activation_bits` (its A operand's width); networks without it (float ones) get 8 throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from accelsim.checks import check_count
from accelsim.errors import AccelsimError
from accelsim.ir import (
    CellKind,
    ConvGeometry,
    Direction,
    Gemm,
    LayerOps,
    Op,
    Pool,
    PoolKind,
    Recurrence,
    Transfer,
    Vector,
    VectorKind,
    Workload,
)
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Softmax, Tanh
from accelsim.nn.layers import Layer, Shape
from accelsim.nn.recurrent import LSTM, RNN
from accelsim.nn.runnable import Runnable

# (layer, in_shape, out_shape, batch) → ops; each rule takes the layer type it is keyed by
Rule = Callable[..., list[Op]]


def _conv(layer: Conv2d, in_shape: Shape, out_shape: Shape, batch: int) -> list[Op]:
    geometry = ConvGeometry(in_channels=in_shape[0], in_hw=(in_shape[1], in_shape[2]),
                            kernel=layer.kernel_size, stride=layer.stride,
                            padding=layer.padding, out_hw=(out_shape[1], out_shape[2]))
    k = in_shape[0] * layer.kernel_size[0] * layer.kernel_size[1]
    m = batch * out_shape[1] * out_shape[2]
    return [Gemm(layer.name, m=m, k=k, n=layer.out_channels, layer=layer.name,
                 bias=layer.bias, conv=geometry)]


def _linear(layer: Linear, in_shape: Shape, out_shape: Shape, batch: int) -> list[Op]:
    rows = batch * int(np.prod(in_shape[:-1], dtype=np.int64))
    return [Gemm(layer.name, m=rows, k=in_shape[-1], n=layer.out_features, layer=layer.name,
                 bias=layer.bias)]


_ACTIVATIONS = {ReLU: VectorKind.RELU, Sigmoid: VectorKind.SIGMOID, Tanh: VectorKind.TANH,
                Softmax: VectorKind.SOFTMAX}


def _activation(layer: Layer, in_shape: Shape, out_shape: Shape, batch: int) -> list[Op]:
    elements = batch * int(np.prod(out_shape, dtype=np.int64))
    return [Vector(layer.name, _ACTIVATIONS[type(layer)], elements, layer=layer.name)]


def _pool(layer: MaxPool2d | AvgPool2d, in_shape: Shape, out_shape: Shape,
          batch: int) -> list[Op]:
    kind = PoolKind.MAX if isinstance(layer, MaxPool2d) else PoolKind.AVG
    return [Pool(layer.name, kind, window=layer.kernel_size, stride=layer.step, batch=batch,
                 channels=in_shape[0], in_hw=(in_shape[1], in_shape[2]),
                 out_hw=(out_shape[1], out_shape[2]), layer=layer.name)]


def _rnn(layer: RNN, in_shape: Shape, out_shape: Shape, batch: int) -> list[Op]:
    steps, features = in_shape
    hidden = layer.hidden_size
    return [Gemm(f"{layer.name}.gates", m=batch, k=features + hidden, n=hidden, count=steps,
                 layer=layer.name),
            Vector(f"{layer.name}.tanh", VectorKind.TANH, batch * hidden, steps, layer.name)]


def _lstm(layer: LSTM, in_shape: Shape, out_shape: Shape, batch: int) -> list[Op]:
    """Per step: 4 gate GEMM columns, σ on i/f/o, tanh on g and c, c = f·c + i·g, h = o·tanh c."""
    steps, features = in_shape
    hidden = layer.hidden_size
    cells = batch * hidden
    return [Gemm(f"{layer.name}.gates", m=batch, k=features + hidden, n=4 * hidden,
                 count=steps, layer=layer.name),
            Vector(f"{layer.name}.sigmoid", VectorKind.SIGMOID, 3 * cells, steps, layer.name),
            Vector(f"{layer.name}.tanh", VectorKind.TANH, 2 * cells, steps, layer.name),
            Vector(f"{layer.name}.mul", VectorKind.MUL, 3 * cells, steps, layer.name),
            Vector(f"{layer.name}.add", VectorKind.ADD, cells, steps, layer.name)]


def _with_activation_bits(ops: list[Op], bits: Mapping[str, int]) -> list[Op]:
    """The layer's GEMMs (recurrent gate GEMMs included) at their A operand's width."""
    return [dataclasses.replace(op, activation_bits=bits[op.layer])
            if isinstance(op, Gemm) and op.layer in bits else op for op in ops]


def _recurrence(layer: Layer, ops: list[Op]) -> Recurrence | None:
    """The explicit time-step structure of an RNN/LSTM layer's ops (gate GEMM, then cell)."""
    gates, *cell = ops
    if not isinstance(layer, RNN | LSTM) or not isinstance(gates, Gemm):
        return None
    kind = CellKind.LSTM if isinstance(layer, LSTM) else CellKind.RNN
    return Recurrence(kind, gates.count, layer.hidden_size, gates,
                      tuple(op for op in cell if isinstance(op, Vector)))


RULES: dict[type, Rule] = {
    Conv2d: _conv, Linear: _linear, MaxPool2d: _pool, AvgPool2d: _pool, RNN: _rnn,
    LSTM: _lstm, Flatten: lambda *_: [], **dict.fromkeys(_ACTIVATIONS, _activation),
}


def lower(net: Runnable, batch: int, seq_len: int | None = None) -> Workload:
    """The ops one batch of `net` executes; sequence networks default to their seq_len.
    GEMMs read `net.gemm_input_bits` (quantized networks) for their activation width."""
    batch = check_count(batch, "batch", owner=net.name, meaning="samples")
    if seq_len is not None:
        seq_len = check_count(seq_len, "seq_len", owner=net.name, meaning="time steps")
        if not net.sequence:
            raise AccelsimError(f"seq_len = {seq_len} given, but {net.name!r} takes no "
                                "sequences; leave it out")
    batch = int(batch)
    steps = (seq_len or net.seq_len or 1) if net.sequence else None
    sample = net.sample_shape(steps)
    layers = [LayerOps("input", "input", (Transfer("input", Direction.TO_DEVICE,
                                                    batch * int(np.prod(sample))),))]
    out_shape = sample
    bits: Mapping[str, int] = getattr(net, "gemm_input_bits", {})
    for layer, in_shape, out_shape in net.layer_shapes(steps):
        ops = _with_activation_bits(RULES[type(layer)](layer, in_shape, out_shape, batch), bits)
        if ops:
            layers.append(LayerOps(layer.name, layer.type_name, tuple(ops),
                                   _recurrence(layer, ops)))
    layers.append(LayerOps("output", "output", (Transfer("output", Direction.TO_HOST,
                                                         batch * int(np.prod(out_shape))),)))
    return Workload(network=net.name, batch=batch, layers=tuple(layers), seq_len=steps)
