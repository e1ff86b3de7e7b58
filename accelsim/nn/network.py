"""Network: an immutable graph of layers, its parameters, and the fp32 reference numerics.

The layers are listed in an order they can run in: each reads the layer before it, or the
earlier layers its `inputs` name ("input" is the network's input), so a residual block's add
reads both its branch and the block's input. The last layer's output is the network's.
Parameters live beside the layers ({layer name: {param name: array}}) so training, precision
emulation and quantization all reuse the same layer code. Sequence networks take
(N, T, features) and report per-sample shapes as (T, ...).
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from accelsim.errors import AccelsimError, DataError, ShapeError
from accelsim.nn.dense import Softmax
from accelsim.nn.layers import INPUT, Layer, Params, Shape, layer_sources
from accelsim.nn.numerics import EXACT, Numerics, numerics_for
from accelsim.precision import Precision

FORWARD_CHUNK = 512


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward or recurrent network with its parameters."""

    name: str
    layers: tuple[Layer, ...]
    input_shape: Shape
    params: Mapping[str, Params]
    sequence: bool = False
    seq_len: int | None = None
    description: str = ""
    training: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    weights_path: Path | None = None
    trained: bool = False

    def sample_shape(self, seq_len: int | None = None) -> Shape:
        """Per-sample input shape; sequence networks need a length (default: seq_len)."""
        if not self.sequence:
            return self.input_shape
        steps = seq_len or self.seq_len or 1
        return (steps, *self.input_shape)

    @cached_property
    def sources(self) -> tuple[tuple[str, ...], ...]:
        """The names each layer reads, in layer order ("input": the network's input)."""
        return layer_sources(self.layers)

    def layer_io(self, seq_len: int | None = None
                 ) -> Iterator[tuple[Layer, tuple[Shape, ...], Shape]]:
        """(layer, its input shapes, its output shape) per layer, per sample."""
        shapes = {INPUT: self.sample_shape(seq_len)}
        for layer, sources in zip(self.layers, self.sources, strict=True):
            ins = tuple(shapes[s] for s in sources)
            shapes[layer.name] = layer.output_shape_of(ins)
            yield layer, ins, shapes[layer.name]

    def layer_shapes(self, seq_len: int | None = None) -> Iterator[tuple[Layer, Shape, Shape]]:
        """(layer, input shape, output shape) per layer, per sample (a merging layer's
        first input)."""
        for layer, ins, out in self.layer_io(seq_len):
            yield layer, ins[0], out

    @property
    def output_shape(self) -> Shape:
        return list(self.layer_shapes())[-1][2]

    @property
    def num_params(self) -> int:
        """Parameter count from the layer shapes (right even when no weights are loaded)."""
        return sum(_layer_param_count(layer, ins) for layer, ins, _ in self.layer_io())

    def with_params(self, params: Mapping[str, Params], **changes: Any) -> Network:
        """A copy with new parameters (and any other field changed)."""
        return dataclasses.replace(self, params=params, **changes)

    def check_input(self, x: np.ndarray) -> np.ndarray:
        """Validate a batch against the input shape; returns it as a float array.

        Refuses arrays of the wrong shape, empty batches, non-numeric data, NaN or ±inf
        values, and networks loaded without weights (weights='none' is for timing only).
        """
        x = np.asarray(x)
        expected = self.input_shape
        got = x.shape[2:] if self.sequence else x.shape[1:]
        rank_ok = x.ndim == len(expected) + (2 if self.sequence else 1)
        if not rank_ok or got != expected:
            form = "(batch, time, " if self.sequence else "(batch, "
            raise ShapeError(
                f"network {self.name!r} expects input {form}{', '.join(map(str, expected))}), "
                f"got array of shape {x.shape}"
            )
        if len(x) == 0:
            raise ShapeError(f"network {self.name!r} got an empty batch of shape {x.shape}; "
                             "give at least one sample")
        if x.dtype.kind not in "biuf":
            raise DataError(f"network {self.name!r} got input of dtype {x.dtype}; give real "
                            "numbers (a float or integer array)")
        x = x if x.dtype.kind == "f" else x.astype(np.float32)
        check_finite(x, f"the input of network {self.name!r}")
        require_params(self)
        return x

    def forward(self, x: np.ndarray, precision: Precision | str | None = None,
                chunk: int = FORWARD_CHUNK, logits: bool = False) -> np.ndarray:
        """Outputs for a batch: fp32 reference by default, or emulated fp16/bf16 numerics.

        `logits=True` stops before a trailing softmax layer.
        """
        x = self.check_input(x)
        num = numerics_for(precision) if precision is not None else EXACT
        if num is EXACT:
            x = x.astype(np.float32, copy=False)
        count = len(self.logit_layers()) if logits else len(self.layers)
        parts = [self._run(x[start : start + chunk], num, count)[0]
                 for start in range(0, max(len(x), 1), chunk)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _run(self, x: np.ndarray, num: Numerics, count: int, train: bool = False,
             caches: list[Any] | None = None) -> tuple[np.ndarray, list[Any]]:
        """The first `count` layers over `x` in graph order, each tensor freed after its last
        reader; returns the output of the last of them (or, ending before a trailing
        softmax, what it reads) and, with `caches`, every layer's cache."""
        last_use = {name: i for i, names in enumerate(self.sources[:count]) for name in names}
        output = self.output_name(count)
        values = {INPUT: x}
        for i, (layer, names) in enumerate(zip(self.layers[:count], self.sources, strict=False)):
            y, cache = layer.forward_of(self.params.get(layer.name, {}),
                                        tuple(values[n] for n in names), num, train)
            if caches is not None:
                caches.append(cache)
            if not train and not np.isfinite(y).all():
                self._overflowed(layer, y, num)
            for name in names:
                if last_use[name] == i and name != output:
                    values.pop(name, None)
            values[layer.name] = y
        return values[output], caches or []

    def _overflowed(self, layer: Layer, y: np.ndarray, num: Numerics) -> None:
        """Outputs that became non-finite inside the network (finite inputs, an overflow at
        this layer's precision) are an error naming the layer: accuracy is never scored from
        NaN."""
        check_finite(y, f"network {self.name!r}: layer {layer.name!r} output at "
                     f"{num.precision.value if num.precision else 'fp32'}",
                     fix="its inputs overflow this precision; scale the inputs down (e.g. "
                         "normalize them to about -1 to 1) or use a wider precision")

    def output_name(self, count: int | None = None) -> str:
        """The tensor the first `count` layers produce as the network's output: the last
        layer's, or, when they end just before a trailing softmax, the softmax's input."""
        count = len(self.layers) if count is None else count
        if count == len(self.layers) - 1 and isinstance(self.layers[-1], Softmax):
            return self.sources[-1][0]
        return self.layers[count - 1].name if count else INPUT

    def predict(self, x: np.ndarray, precision: Precision | str | None = None) -> np.ndarray:
        """Class indices (argmax over the last axis)."""
        return self.forward(x, precision).argmax(axis=-1)

    def accuracy(self, x: np.ndarray, y: np.ndarray,
                 precision: Precision | str | None = None) -> float:
        """Fraction of correct predictions (every time step counts for sequence targets)."""
        x = self.check_input(x)
        steps = x.shape[1] if self.sequence else None
        labels = check_labels(y, (len(x), *list(self.layer_shapes(steps))[-1][2]))
        return float(np.mean(self.predict(x, precision) == labels))

    def logit_layers(self) -> tuple[Layer, ...]:
        """Layers up to the logits: a trailing softmax is folded into the loss."""
        if self.layers and isinstance(self.layers[-1], Softmax):
            return self.layers[:-1]
        return self.layers

    def forward_train(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Exact forward to the logits as in training (batch statistics), keeping every
        layer's cache for backward."""
        return self._run(x, EXACT, len(self.logit_layers()), train=True, caches=[])

    def backward(self, caches: list[Any], dlogits: np.ndarray) -> dict[str, Params]:
        """Parameter gradients from the gradient of the loss with respect to the logits;
        a tensor read by several layers sums their gradients."""
        count = len(caches)
        grads: dict[str, Params] = {}
        upstream = {self.output_name(count): dlogits}
        for i in reversed(range(count)):
            layer, names = self.layers[i], self.sources[i]
            dy = upstream.pop(layer.name, None)
            if dy is None:  # nothing downstream reads it
                continue
            dxs, layer_grads = layer.backward_of(self.params.get(layer.name, {}), caches[i], dy)
            for name, dx in zip(names, dxs, strict=True):
                upstream[name] = upstream[name] + dx if name in upstream else dx
            if layer_grads:
                grads[layer.name] = layer_grads
        return grads

    def buffer_updates(self, caches: list[Any]) -> dict[str, Params]:
        """The state a training step updates besides the gradients (running statistics),
        per layer, from the caches of `forward_train`."""
        updates = {layer.name: layer.buffers_after(self.params.get(layer.name, {}), cache)
                   for layer, cache in zip(self.layers, caches, strict=False)}
        return {name: update for name, update in updates.items() if update}

    def summary(self, seq_len: int | None = None) -> str:
        """A text table of layers, output shapes and parameter counts."""
        rows = [f"{self.name}: input {self.sample_shape(seq_len)}"
                f"{' (time, features)' if self.sequence else ''}"]
        name_w = max([12, *(len(layer.name) + 2 for layer in self.layers)])
        type_w = max([11, *(len(layer.type_name) + 2 for layer in self.layers)])
        rows.append(f"  {'layer':<{name_w}}{'type':<{type_w}}{'output':<18}{'params':>9}")
        for layer, ins, out in self.layer_io(seq_len):
            count = _layer_param_count(layer, ins)
            rows.append(f"  {layer.name:<{name_w}}{layer.type_name:<{type_w}}{out!s:<18}"
                        f"{count:>9,}")
        state = "" if self.trained else " (untrained)"
        if _layer_without_params(self) is not None:
            state = " (shapes only: no weights loaded)"
        rows.append(f"  total parameters: {self.num_params:,}{state}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        kinds = "→".join(layer.type_name for layer in self.layers)
        return f"Network({self.name!r}, {kinds}, params={self.num_params:,})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(layer.name)}</td><td>{html.escape(layer.type_name)}</td>"
            f"<td>{html.escape(str(out))}</td><td>{self._layer_params(layer):,}</td></tr>"
            for layer, _, out in self.layer_shapes())
        state = "trained" if self.trained else "untrained"
        return (f"<p>{html.escape(self.name)}: input {html.escape(str(self.sample_shape()))}, "
                f"{self.num_params:,} parameters ({state})</p><table><tr><th>layer</th>"
                f"<th>type</th><th>output</th><th>parameters</th></tr>{rows}</table>")

    def _layer_params(self, layer: Layer) -> int:
        return sum(int(a.size) for a in self.params.get(layer.name, {}).values())


def _layer_param_count(layer: Layer, ins: tuple[Shape, ...]) -> int:
    return sum(math.prod(shape) for shape in layer.param_shapes_of(ins).values())


def _layer_without_params(net: Network) -> str | None:
    """The first layer that has parameters by its shape but none loaded, if any."""
    for layer, ins, _ in net.layer_io():
        if layer.name not in net.params and layer.param_shapes_of(ins):
            return layer.name
    return None


def require_params(net: Network) -> None:
    """Refuse numerics on a network loaded with weights='none' (shapes only)."""
    missing = _layer_without_params(net)
    if missing is not None:
        raise DataError(f"network {net.name!r} has no weights for layer {missing!r} (it was "
                        "loaded with weights='none', for timing only); load it with "
                        "weights='trained' or weights='init' to compute outputs")


def _first_index(mask: np.ndarray) -> tuple[int, ...] | int:
    """Index of the first True in `mask`: an int for 1-D arrays, else a tuple."""
    flat = int(np.argmax(mask.reshape(-1)))
    if mask.ndim == 1:
        return flat
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


def check_finite(x: np.ndarray, what: str,
                 fix: str = "remove or replace them (e.g. np.nan_to_num) first",
                 error: type[AccelsimError] = DataError) -> None:
    """Refuse NaN and ±inf, naming how many there are and where the first one is."""
    bad = ~np.isfinite(x)
    count = int(np.count_nonzero(bad))
    if count:
        where = _first_index(bad)
        raise error(f"{what} holds {count:,} non-finite value{'s' * (count > 1)} (NaN or "
                    f"±inf) in an array of shape {x.shape}; the first is {x[where]!s} at "
                    f"index {where}; {fix}")


def check_labels(labels: ArrayLike, output_shape: Shape) -> np.ndarray:
    """Class-index labels for outputs of shape (N, ..., classes), as int64.

    One label per output position (N, or N × time steps): integers (or integral floats) in
    0 ... classes − 1.
    """
    y = np.asarray(labels)
    n, classes = output_shape[0], output_shape[-1]
    if y.ndim == 0 or len(y) != n:
        got = "a single label" if y.ndim == 0 else f"{len(y):,} labels"
        raise DataError(f"labels of shape {y.shape} give {got} for {n:,} samples; give one "
                        "label per sample")
    if y.shape != tuple(output_shape[:-1]):
        raise DataError(f"labels of shape {y.shape} do not match the network's predictions "
                        f"of shape {tuple(output_shape[:-1])}")
    if y.dtype.kind not in "iuf":
        raise DataError(f"labels have dtype {y.dtype}; give integer class indices "
                        f"0 to {classes - 1}")
    if y.dtype.kind == "f":
        check_finite(y, "the label array")
        fractional = y != np.round(y)
        if fractional.any():
            where = _first_index(fractional)
            raise DataError(f"label {y[where]!s} at index {where} is not a whole number; "
                            f"labels are class indices 0 to {classes - 1}")
    outside = (y < 0) | (y >= classes)
    if outside.any():
        where = _first_index(outside)
        raise DataError(f"{int(np.count_nonzero(outside)):,} label(s) outside 0 to "
                        f"{classes - 1} (the network has {classes} classes); the first is "
                        f"{y[where]!s} at index {where}")
    return y.astype(np.int64)
