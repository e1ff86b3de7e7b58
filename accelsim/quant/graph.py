"""The integer ops of a whole network graph, in layer order, each naming the tensors it reads.

Batch norms that fold are folded first (`folding`); then every layer becomes its ops and every
tensor gets its QParams (scale, zero point, width) from the calibrated range of the layer that
writes it. A GEMM, an unfolded batch norm or an add whose only reader is a ReLU or a clip
absorbs it: its outputs are requantized straight to the activation's grid and clamped at the
codes of its bounds. Merging layers requantize their inputs to the output's grid
(`graph_kernels`); pooling, flatten, clip and global pooling pass codes through at their
input's scale. A bidirectional recurrent layer runs as two ops (one per direction, each with
its own weights, both writing h at the layer's input scale) joined by a concat that passes
both through.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from accelsim.errors import AccelsimError, QuantizationError
from accelsim.nn.conv import Conv2d
from accelsim.nn.dense import Linear, ReLU, Softmax
from accelsim.nn.layers import INPUT, Layer
from accelsim.nn.merge import Add, Concat
from accelsim.nn.network import Network
from accelsim.nn.norm import BatchNorm2d, Clip, GlobalAvgPool2d, batchnorm_folds
from accelsim.nn.recurrent import GRU, REVERSE, Recurrent
from accelsim.quant.calibration import LayerRange, Range
from accelsim.quant.fixedpoint import code_dtype, quantize_multiplier, quantize_multipliers
from accelsim.quant.folding import fold_batchnorms, fold_ranges
from accelsim.quant.graph_kernels import QAdd, QAffine, QConcat
from accelsim.quant.gru import QGRU, gru_op
from accelsim.quant.kernels import QElementwise, QRecurrent, QSoftmax, clip_codes
from accelsim.quant.quantize import (
    QParams,
    activation_params,
    code_range,
    gemm_op,
    input_bits,
    recurrent_op,
    rescaled,
    simple_op,
    weight_and_bias,
    zero_corrected,
)
from accelsim.quant.scheme import DEFAULT_SCHEME, Scheme, Weights

Ops = list  # kernels, each wired (`kernels.Wired`)


@dataclass
class Walk:
    """A folded network, its calibrated ranges, and the QParams of every tensor written so
    far."""

    net: Network
    ranges: dict[str, LayerRange]
    scheme: Scheme
    widths: list[int]
    tensors: dict[str, QParams]

    @cached_property
    def readers(self) -> dict[str, list[int]]:
        """The indices of the layers that read each tensor (the network's output: one more,
        len(layers))."""
        out: dict[str, list[int]] = {}
        for index, names in enumerate(self.net.sources):
            for name in names:
                out.setdefault(name, []).append(index)
        out.setdefault(self.net.layers[-1].name, []).append(len(self.net.layers))
        return out

    def range_of(self, name: str) -> Range:
        """The calibrated range of a tensor (the network's input's: any reader's inputs)."""
        if name == INPUT:
            return self.ranges[self.net.layers[self.readers[INPUT][0]].name].inputs
        return self.ranges[name].outputs

    def out_bits(self, name: str, index: int) -> int:
        """The width a tensor is written at: its first reader's (the writer's, if none)."""
        first = self.readers.get(name, [len(self.widths)])[0]
        return self.widths[first] if first < len(self.widths) else self.widths[index]

    def absorbed(self, index: int) -> Layer | None:
        """The ReLU or clip that is the only reader of layers[index], if any."""
        readers = self.readers.get(self.net.layers[index].name, [])
        if len(readers) != 1 or readers[0] >= len(self.net.layers):
            return None
        after = self.net.layers[readers[0]]
        return after if isinstance(after, ReLU | Clip) else None

    def output_params(self, name: str, index: int) -> QParams:
        """QParams of a tensor from its calibrated range, at its width."""
        return activation_params(self.range_of(name), self.scheme,
                                 bits=self.out_bits(name, index))


def build_ops(net: Network, ranges: dict[str, LayerRange],
              scheme: Scheme = DEFAULT_SCHEME) -> tuple[Ops, QParams]:
    """Integer ops for every layer of `net` (batch norms folded where they can be), wired by
    tensor name, and how the input must be quantized."""
    folds = batchnorm_folds(net.layers)
    folded = fold_batchnorms(net, folds)
    walk = Walk(folded, fold_ranges(ranges, folds), scheme, input_bits(folded, scheme), {})
    first = walk.readers[INPUT][0]
    floor = 1.0 if isinstance(folded.layers[first], Recurrent) else 0.0
    walk.tensors[INPUT] = activation_params(walk.range_of(INPUT), scheme, floor,
                                            walk.widths[first])
    ops: Ops = []
    done: set[str] = set()
    for index, layer in enumerate(folded.layers):
        if layer.name in done:
            continue
        try:
            new_ops, params = layer_ops(walk, index)
        except QuantizationError as err:
            raise QuantizationError(f"layer {layer.name!r}: {err}") from None
        ops.extend(new_ops)
        walk.tensors[new_ops[-1].output] = params
        done.add(new_ops[-1].output)
    return ops, walk.tensors[INPUT]


def chain(ops: Ops, inputs: tuple[str, ...], output: str) -> Ops:
    """Wire ops one after another: the first reads `inputs`, the last writes `output`, the
    others write tensors named after themselves."""
    wired = []
    for k, op in enumerate(ops):
        name = output if k == len(ops) - 1 else op.name
        wired.append(replace(op, inputs=inputs, output=name))
        inputs = (name,)
    return wired


def layer_ops(walk: Walk, index: int) -> tuple[Ops, QParams]:
    """The wired ops of layers[index] (and of a ReLU or clip it absorbs), and the QParams of
    the tensor they write."""
    layer = walk.net.layers[index]
    names = walk.net.sources[index]
    inp = walk.tensors[names[0]]
    if isinstance(layer, Conv2d | Linear):
        return _gemm_ops(walk, index, layer, inp)
    if isinstance(layer, BatchNorm2d):
        return _affine_ops(walk, index, layer, inp)
    if isinstance(layer, Add):
        return _add_ops(walk, index, layer)
    if isinstance(layer, Concat):
        return _concat_ops(walk, index, layer)
    if isinstance(layer, Recurrent):
        return _recurrent_ops(walk, index, layer, inp)
    if isinstance(layer, Softmax):
        if index != len(walk.net.layers) - 1:
            raise AccelsimError(f"softmax layer {layer.name!r} must be the last layer "
                                "for int8 inference")
        return chain([QSoftmax(layer.name, inp.scale, 0.0, inp.zero)], names, layer.name), inp
    return chain([_passing_op(layer, inp)], names, layer.name), _passed(layer, inp)


def _passing_op(layer: Layer, inp: QParams) -> QElementwise:
    """An op that keeps its input's grid (a table writes the unit scale)."""
    if isinstance(layer, Clip):
        return QElementwise(layer.name, layer, "clip", inp.scale, inp.scale, None, inp.zero,
                            inp.zero)
    if isinstance(layer, GlobalAvgPool2d):
        return QElementwise(layer.name, layer, "globalavgpool", inp.scale, inp.scale, None,
                            inp.zero, inp.zero)
    return simple_op(layer, inp)


def _passed(layer: Layer, inp: QParams) -> QParams:
    """The QParams of a passing op's output."""
    op = _passing_op(layer, inp)
    if op.kind == "lut":
        return QParams(op.out_scale, 0, inp.bits)
    low = isinstance(layer, ReLU) or (isinstance(layer, Clip) and layer.min >= 0)
    return replace(inp, nonnegative=inp.nonnegative or low)


def _activation(walk: Walk, index: int, layer: Layer) -> tuple[Layer | None, str]:
    """The absorbed activation (if any) and the tensor the layer's ops then write."""
    after = walk.absorbed(index)
    return after, (after.name if after is not None else layer.name)


def _clamp(after: Layer | None, out: QParams,
           scheme: Scheme) -> tuple[tuple[int, int], QParams]:
    """Output codes [low, high] with an absorbed activation, and the output's QParams."""
    low, high = code_range(out, scheme)
    if isinstance(after, ReLU):
        return (out.zero, high), replace(out, nonnegative=True)
    if isinstance(after, Clip):
        clip_low, clip_high = clip_codes(after, out.scale, out.zero, code_dtype(low, high))
        return (max(low, clip_low), min(high, clip_high)), \
            replace(out, nonnegative=after.min >= 0)
    return (low, high), out


def _gemm_ops(walk: Walk, index: int, layer: Conv2d | Linear,
              inp: QParams) -> tuple[Ops, QParams]:
    names = walk.net.sources[index]
    ops: Ops = []
    width = walk.widths[index]
    if inp.bits != width:  # a recurrent layer's h meets a reader of another width
        wanted = activation_params(walk.ranges[layer.name].inputs, walk.scheme, bits=width)
        ops, inp = rescaled(layer.name, inp, wanted), wanted
    after, output = _activation(walk, index, layer)
    out = walk.output_params(output, index)
    clamp, params = _clamp(after, out, walk.scheme)
    relu = isinstance(after, ReLU)
    op = gemm_op(layer, walk.net.params.get(layer.name, {}), inp, out, relu, walk.scheme,
                 None if relu else clamp)
    return chain([*ops, op], names, output), params


def _affine_ops(walk: Walk, index: int, layer: BatchNorm2d,
                inp: QParams) -> tuple[Ops, QParams]:
    """A batch norm that did not fold: per-channel int8 weight, int32 bias, multipliers."""
    scale, shift = layer.fold_scale_shift(walk.net.params.get(layer.name, {}))
    per_channel = replace(walk.scheme, weights=Weights.PER_CHANNEL)
    w_scales, weight_q, bias_q = weight_and_bias(np.asarray(scale, np.float64)[None, :],
                                                 np.asarray(shift, np.float64), inp.scale,
                                                 per_channel)
    bias_q = zero_corrected(bias_q, weight_q, inp.zero)
    after, output = _activation(walk, index, layer)
    out = walk.output_params(output, index)
    (low, high), params = _clamp(after, out, walk.scheme)
    op = QAffine(layer.name, layer, weight_q[0], bias_q,
                 quantize_multipliers(inp.scale * w_scales / out.scale), inp.scale, out.scale,
                 inp.zero, out.zero, low, high)
    return chain([op], walk.net.sources[index], output), params


def _add_ops(walk: Walk, index: int, layer: Add) -> tuple[Ops, QParams]:
    names = walk.net.sources[index]
    ins = [walk.tensors[name] for name in names]
    after, output = _activation(walk, index, layer)
    out = walk.output_params(output, index)
    (low, high), params = _clamp(after, out, walk.scheme)
    op = QAdd.of(layer.name, tuple(p.scale for p in ins), tuple(p.zero for p in ins),
                 max(p.bits for p in ins), out.scale, out.zero, low, high)
    return chain([op], names, output), params


def _concat_ops(walk: Walk, index: int, layer: Concat) -> tuple[Ops, QParams]:
    names = walk.net.sources[index]
    ins = [walk.tensors[name] for name in names]
    shape = dict(((lyr.name, ins_) for lyr, ins_, _ in walk.net.layer_io()))[layer.name]
    axis = 1 + layer._axis(len(shape[0]))  # past the batch axis
    same = all(p == ins[0] for p in ins)
    out = ins[0] if same else walk.output_params(layer.name, index)
    low, high = code_range(out, walk.scheme)
    op = concat_op(layer.name, axis, tuple(ins), out, low, high)
    nonnegative = all(p.nonnegative for p in ins)
    return chain([op], names, layer.name), replace(out, nonnegative=nonnegative)


def concat_op(name: str, axis: int, ins: tuple[QParams, ...], out: QParams, low: int,
              high: int) -> QConcat:
    """A concat requantizing every input not already on the output's grid."""
    multipliers = tuple(None if (p.scale, p.zero, p.bits) == (out.scale, out.zero, out.bits)
                        else quantize_multiplier(p.scale / out.scale) for p in ins)
    return QConcat(name, axis, multipliers, tuple(p.zero for p in ins), out.scale, out.zero,
                   low, high)


def _recurrent_ops(walk: Walk, index: int, layer: Recurrent,
                   inp: QParams) -> tuple[Ops, QParams]:
    """An RNN or LSTM ([x, h] at one symmetric scale) or a GRU (x at its own grid, h at the
    unit scale); a bidirectional layer as one op per direction and a concat."""
    names = walk.net.sources[index]
    width = walk.widths[index]
    floor = 0.0 if isinstance(layer, GRU) else 1.0
    wanted = activation_params(walk.ranges[layer.name].inputs, walk.scheme, floor=floor,
                               bits=width)
    if isinstance(layer, GRU) and inp.bits == width:
        wanted = inp  # the GRU reads x on its own grid, zero point and all
    pre = [] if wanted is inp else chain(rescaled(layer.name, inp, wanted), names,
                                         f"{layer.name}.rescale")
    reads = (pre[-1].output,) if pre else names
    params = walk.net.params.get(layer.name, {})
    directions = []
    for d in layer.directions:
        own = {key[: len(key) - len(d)]: value for key, value in params.items()
               if key.endswith(d) and (d or not key.endswith(REVERSE))}
        op: QRecurrent | QGRU = gru_op(layer, own, wanted, walk.ranges[layer.name],
                                       walk.scheme, width) \
            if isinstance(layer, GRU) else \
            recurrent_op(layer, own, wanted, walk.ranges[layer.name], walk.scheme)
        directions.append(replace(op, name=f"{layer.name}{d}", reverse=d == REVERSE,
                                  inputs=reads, output=f"{layer.name}{d}"))
    out = QParams(directions[0].out_scale, 0, width)
    if len(directions) == 1:
        return [*pre, replace(directions[0], output=layer.name)], out
    low, high = code_range(out, walk.scheme)
    join = replace(concat_op(f"{layer.name}.concat", -1, (out, out), out, low, high),
                   inputs=tuple(op.output for op in directions), output=layer.name)
    return [*pre, *directions, join], out
