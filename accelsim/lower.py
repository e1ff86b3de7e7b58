"""Lowering: Network × batch (× sequence length) → Workload.

Each layer type has one rule. Convolutions become im2col GEMMs, one per channel group
(M = batch·out_h·out_w, K = in_c/groups·kh·kw, N = out_c/groups, `Gemm.groups` of them; a
depthwise 3×3 is K = 9, N = 1); a linear layer is a GEMM with M = batch (× time steps when it
reads a sequence); an RNN/LSTM/GRU step is one gate GEMM M = batch, K = input + hidden,
N = gates·hidden, counted `seq_len` times, with its cell's element-wise ops (a bidirectional
layer lowers to two such recurrences, the second `<layer>.reverse`). Activations, clip and an
unfolded batch norm (a per-channel scale and shift) are one pass over the output; `add` of n
tensors n − 1 two-operand additions; `concat` a copy of its inputs into place; pooling and
global average pooling (one window of the whole map) as `Pool`. Flatten is free. A batch
norm that can fold into the convolution before it (`nn.norm.batchnorm_folds`) says so in
`folds_into`: the TPU's compiler and int8 quantization fold it (the conv takes its scale and,
as a bias, its shift), while eager PyTorch on a CPU or GPU runs it as its own op. The layers
keep the network's order, which runs every layer after the layers it reads; each lowered
layer names what it reads (`LayerOps.inputs`). The network input travels to the device first
and the output back last. A quantized network's
`gemm_input_bits` ({layer name: 8 or 16}) sets each GEMM's `activation_bits` (its A operand's
width); networks without it (float ones) get 8 throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from accelsim.checks import check_count
from accelsim.errors import AccelsimError
from accelsim.ir import (
    REVERSE_SUFFIX,
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
from accelsim.nn.layers import INPUT, Layer, Shape
from accelsim.nn.merge import Add, Concat
from accelsim.nn.norm import BatchNorm2d, Clip, GlobalAvgPool2d, ReLU6, batchnorm_folds
from accelsim.nn.recurrent import GRU, LSTM, RNN, Recurrent
from accelsim.nn.runnable import Runnable, check_runnable

# (layer, input shapes, out_shape, batch) → ops; each rule takes the layer type it is keyed by
Rule = Callable[..., list[Op]]


def _conv(layer: Conv2d, ins: tuple[Shape, ...], out_shape: Shape, batch: int) -> list[Op]:
    """im2col per group: M = batch·out_h·out_w, K = in_c/groups·kh·kw, N = out_c/groups."""
    in_shape = ins[0]
    geometry = ConvGeometry(in_channels=in_shape[0], in_hw=(in_shape[1], in_shape[2]),
                            kernel=layer.kernel_size, stride=layer.stride,
                            padding=layer.padding, out_hw=(out_shape[1], out_shape[2]),
                            dilation=layer.dilation, groups=layer.groups)
    k = geometry.in_channels_per_group * layer.kernel_size[0] * layer.kernel_size[1]
    m = batch * out_shape[1] * out_shape[2]
    return [Gemm(layer.name, m=m, k=k, n=layer.out_channels // layer.groups, layer=layer.name,
                 bias=layer.bias, conv=geometry, groups=layer.groups)]


def _linear(layer: Linear, ins: tuple[Shape, ...], out_shape: Shape, batch: int) -> list[Op]:
    in_shape = ins[0]
    rows = batch * int(np.prod(in_shape[:-1], dtype=np.int64))
    return [Gemm(layer.name, m=rows, k=in_shape[-1], n=layer.out_features, layer=layer.name,
                 bias=layer.bias)]


_ELEMENTWISE = {ReLU: VectorKind.RELU, Sigmoid: VectorKind.SIGMOID, Tanh: VectorKind.TANH,
                Softmax: VectorKind.SOFTMAX, Clip: VectorKind.CLIP, ReLU6: VectorKind.CLIP,
                BatchNorm2d: VectorKind.SCALE, Concat: VectorKind.COPY}


def _elements(batch: int, shape: Shape) -> int:
    return batch * int(np.prod(shape, dtype=np.int64))


def _elementwise(layer: Layer, ins: tuple[Shape, ...], out_shape: Shape,
                 batch: int) -> list[Op]:
    """One pass over the output: an activation, an unfolded batch norm's scale and shift, a
    concat's copy of its inputs into place."""
    return [Vector(layer.name, _ELEMENTWISE[type(layer)], _elements(batch, out_shape),
                   layer=layer.name)]


def _add(layer: Add, ins: tuple[Shape, ...], out_shape: Shape, batch: int) -> list[Op]:
    """n inputs: n − 1 two-operand additions over the output."""
    return [Vector(layer.name, VectorKind.ADD, _elements(batch, out_shape), len(ins) - 1,
                   layer.name)]


def _pool(layer: MaxPool2d | AvgPool2d, ins: tuple[Shape, ...], out_shape: Shape,
          batch: int) -> list[Op]:
    in_shape = ins[0]
    kind = PoolKind.MAX if isinstance(layer, MaxPool2d) else PoolKind.AVG
    return [Pool(layer.name, kind, window=layer.kernel_size, stride=layer.step, batch=batch,
                 channels=in_shape[0], in_hw=(in_shape[1], in_shape[2]),
                 out_hw=(out_shape[1], out_shape[2]), layer=layer.name)]


def _global_pool(layer: GlobalAvgPool2d, ins: tuple[Shape, ...], out_shape: Shape,
                 batch: int) -> list[Op]:
    """Average pooling with one window the size of the map."""
    channels, h, w = ins[0]
    return [Pool(layer.name, PoolKind.AVG, window=(h, w), stride=(h, w), batch=batch,
                 channels=channels, in_hw=(h, w), out_hw=(1, 1), layer=layer.name)]


def _rnn(layer: RNN, features: int, steps: int, batch: int, name: str) -> list[Op]:
    hidden = layer.hidden_size
    return [Gemm(f"{name}.gates", m=batch, k=features + hidden, n=hidden, count=steps,
                 layer=layer.name),
            Vector(f"{name}.tanh", VectorKind.TANH, batch * hidden, steps, layer.name)]


def _lstm(layer: LSTM, features: int, steps: int, batch: int, name: str) -> list[Op]:
    """Per step: 4 gate GEMM columns, σ on i/f/o, tanh on g and c, c = f·c + i·g, h = o·tanh c."""
    hidden = layer.hidden_size
    cells = batch * hidden
    return [Gemm(f"{name}.gates", m=batch, k=features + hidden, n=4 * hidden, count=steps,
                 layer=layer.name),
            Vector(f"{name}.sigmoid", VectorKind.SIGMOID, 3 * cells, steps, layer.name),
            Vector(f"{name}.tanh", VectorKind.TANH, 2 * cells, steps, layer.name),
            Vector(f"{name}.mul", VectorKind.MUL, 3 * cells, steps, layer.name),
            Vector(f"{name}.add", VectorKind.ADD, cells, steps, layer.name)]


def _gru(layer: GRU, features: int, steps: int, batch: int, name: str) -> list[Op]:
    """Per step: the input and hidden projections (3 gate columns each, one GEMM of
    K = F + H), σ on r and z, tanh on n; r·(h W_hn), (1 − z)·n and z·h multiply, the
    projections' sum, 1 − z and the state's sum add."""
    hidden = layer.hidden_size
    cells = batch * hidden
    return [Gemm(f"{name}.gates", m=batch, k=features + hidden, n=3 * hidden, count=steps,
                 layer=layer.name),
            Vector(f"{name}.sigmoid", VectorKind.SIGMOID, 2 * cells, steps, layer.name),
            Vector(f"{name}.tanh", VectorKind.TANH, cells, steps, layer.name),
            Vector(f"{name}.mul", VectorKind.MUL, 3 * cells, steps, layer.name),
            Vector(f"{name}.add", VectorKind.ADD, 3 * cells, steps, layer.name)]


_CELLS: dict[type, tuple[CellKind, Callable[..., list[Op]]]] = {
    RNN: (CellKind.RNN, _rnn), LSTM: (CellKind.LSTM, _lstm), GRU: (CellKind.GRU, _gru)}


def _recurrent(layer: Recurrent, ins: tuple[Shape, ...], batch: int
               ) -> list[tuple[str, list[Op], Recurrence]]:
    """One (name, ops, recurrence) per direction: a bidirectional layer's reverse direction
    is a second recurrence `<layer>.reverse` over the same input."""
    steps, features = ins[0]
    kind, rule = _CELLS[type(layer)]
    out = []
    for direction in layer.directions:
        name = layer.name + (REVERSE_SUFFIX if direction else "")
        gates, *cell = rule(layer, features, steps, batch, name)
        assert isinstance(gates, Gemm), "a recurrent rule starts with its gate GEMM"
        out.append((name, [gates, *cell],
                    Recurrence(kind, steps, layer.hidden_size, gates,
                               tuple(op for op in cell if isinstance(op, Vector)))))
    return out


def _with_activation_bits(ops: list[Op], bits: Mapping[str, int]) -> list[Op]:
    """The layer's GEMMs (recurrent gate GEMMs included) at their A operand's width."""
    return [dataclasses.replace(op, activation_bits=bits[op.layer])
            if isinstance(op, Gemm) and op.layer in bits else op for op in ops]


RULES: dict[type, Rule] = {
    Conv2d: _conv, Linear: _linear, MaxPool2d: _pool, AvgPool2d: _pool,
    GlobalAvgPool2d: _global_pool, Add: _add, Flatten: lambda *_: [],
    **dict.fromkeys(_ELEMENTWISE, _elementwise),
}


def _layer_ops(layer: Layer, ins: tuple[Shape, ...], out_shape: Shape, batch: int,
               bits: Mapping[str, int]) -> list[tuple[str, list[Op], Recurrence | None]]:
    """The (name, ops, recurrence) groups one layer lowers to; none for a view (flatten)."""
    if isinstance(layer, Recurrent):
        groups = [(name, _with_activation_bits(ops, bits), rec)
                  for name, ops, rec in _recurrent(layer, ins, batch)]
        return [(name, ops, dataclasses.replace(rec, gates=ops[0]))
                for name, ops, rec in groups if isinstance(ops[0], Gemm)]
    ops = _with_activation_bits(RULES[type(layer)](layer, ins, out_shape, batch), bits)
    return [(layer.name, ops, None)] if ops else []


def lower(net: Runnable, batch: int, seq_len: int | None = None) -> Workload:
    """The ops one batch of `net` executes, in an order they can run in; each layer's
    `LayerOps.inputs` names the lowered layers it reads (a view or a folded batch norm passes
    its input's name through; a batch norm a compiler would fold names its convolution in
    `folds_into`). Sequence networks default to their seq_len. GEMMs read
    `net.gemm_input_bits` (quantized networks) for their activation width."""
    net = check_runnable(net, "lower")
    batch = check_count(batch, "batch", owner=net.name, meaning="samples")
    if seq_len is not None:
        seq_len = check_count(seq_len, "seq_len", owner=net.name, meaning="time steps")
        if not net.sequence:
            raise AccelsimError(f"seq_len = {seq_len} given, but {net.name!r} takes no "
                                "sequences; leave it out")
    batch = int(batch)
    steps = (seq_len or net.seq_len or 1) if net.sequence else None
    sample = net.sample_shape(steps)
    layers = [LayerOps(INPUT, "input", (Transfer("input", Direction.TO_DEVICE,
                                                  _elements(batch, sample)),))]
    producers: dict[str, tuple[str, ...]] = {INPUT: (INPUT,)}
    folds = batchnorm_folds(net.layers)
    bits: Mapping[str, int] = getattr(net, "gemm_input_bits", {})
    out_shape, last = sample, INPUT
    for (layer, ins, out_shape), sources in zip(net.layer_io(steps), net.sources, strict=True):
        feeds = tuple(dict.fromkeys(name for s in sources for name in producers[s]))
        groups = _layer_ops(layer, ins, out_shape, batch, bits)
        folds_into = producers[folds[layer.name]][0] if layer.name in folds else ""
        for name, ops, rec in groups:
            layers.append(LayerOps(name, layer.type_name, tuple(ops), rec, feeds, folds_into))
        producers[layer.name] = tuple(name for name, _, _ in groups) or feeds
        last = layer.name
    layers.append(LayerOps("output", "output", (Transfer("output", Direction.TO_HOST,
                                                         _elements(batch, out_shape)),),
                           inputs=producers[last]))
    return Workload(network=net.name, batch=batch, layers=tuple(layers), seq_len=steps)
