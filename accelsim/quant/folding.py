"""Batch norm folded into the convolution before it, ahead of quantization.

The rule is the lowering's (`nn.norm.batchnorm_folds`): a batchnorm2d whose only input is a
conv2d read by nothing else. Inference y = conv(x)·scale + shift per output channel becomes one
convolution with filters W'[o] = W[o]·scale[o] and bias b'[o] = b[o]·scale[o] + shift[o], so
the quantized network never sees the batch norm. The folded network names every layer's inputs
explicitly (a reader of the batch norm reads the convolution), and its convolution's output
takes the batch norm's calibrated range (`fold_ranges`): calibration runs on the float network
as written, and the two agree up to float rounding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from accelsim.nn.conv import Conv2d
from accelsim.nn.layers import Layer, Params
from accelsim.nn.network import Network
from accelsim.nn.norm import BatchNorm2d, batchnorm_folds
from accelsim.quant.calibration import LayerRange


def fold_batchnorms(net: Network, folds: Mapping[str, str] | None = None) -> Network:
    """`net` with every foldable batch norm merged into its convolution (see the module);
    `net` itself when there is none."""
    folds = batchnorm_folds(net.layers) if folds is None else folds
    if not folds:
        return net
    by_name = {layer.name: layer for layer in net.layers}
    params = dict(net.params)
    renamed = dict(folds)  # a folded batch norm's readers read its convolution
    layers: list[Layer] = []
    for layer, names in zip(net.layers, net.sources, strict=True):
        if layer.name in folds:
            continue
        wired = tuple(renamed.get(name, name) for name in names)
        if isinstance(layer, Conv2d) and layer.name in folds.values():
            bn = next(b for b, c in folds.items() if c == layer.name)
            norm = by_name[bn]
            assert isinstance(norm, BatchNorm2d)
            params[layer.name] = folded_params(norm, params.get(bn, {}),
                                               params.get(layer.name, {}), layer.out_channels)
            layer = dataclasses.replace(layer, bias=True)
        layers.append(dataclasses.replace(layer, inputs=wired))
    return net.with_params(params, layers=tuple(layers))


def folded_params(norm: BatchNorm2d, norm_params: Params, conv_params: Params,
                  channels: int) -> Params:
    """The convolution's weight and bias with the batch norm's scale and shift folded in."""
    scale, shift = (np.asarray(v, np.float64) for v in norm.fold_scale_shift(norm_params))
    weight = np.asarray(conv_params["weight"], np.float64)
    bias = np.asarray(conv_params.get("bias", np.zeros(channels)), np.float64)
    return {"weight": (weight * scale[:, None, None, None]).astype(np.float32),
            "bias": (bias * scale + shift).astype(np.float32)}


def fold_ranges(ranges: Mapping[str, LayerRange],
                folds: Mapping[str, str]) -> dict[str, LayerRange]:
    """Calibrated ranges of the folded network: a folded convolution's output is its batch
    norm's."""
    out = dict(ranges)
    for bn, conv in folds.items():
        if bn in ranges and conv in ranges:
            out[conv] = dataclasses.replace(ranges[conv], outputs=ranges[bn].outputs)
    return out
