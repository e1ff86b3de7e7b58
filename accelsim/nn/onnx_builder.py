"""The state of one ONNX import: every ONNX tensor's value (see `onnx_values`), the accelsim
layers made so far with their parameters, and the checks every operator's conversion shares
(constants as weights, views read by layers, unused outputs, errors naming the node).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.errors import ModelFileError
from accelsim.nn.dense import Flatten
from accelsim.nn.layers import INPUT, Layer, LayerSpecError, Params, Shape
from accelsim.nn.onnx_values import (
    BATCH,
    TIME,
    Atom,
    Const,
    Fill,
    Groups,
    ShapeVec,
    Size,
    Tensor,
    Value,
    View,
    count,
    dims_of,
    is_flattened,
    matches,
)

MAX_ELEMENTS = 2**48  # as the TOML loader: values per sample or parameters per layer
MAX_CONST_ELEMENTS = 2**28  # a constant materialised while importing (1 GiB of float32)


def sanitize(text: str, fallback: str) -> str:
    """A name made of letters, digits, '_' and '-' (ONNX names hold '/', ':', '.')."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")[:60]
    return name or fallback


@dataclass
class Node:
    """The node being converted: its op, name, inputs, outputs and attributes."""

    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]

    def input(self, index: int) -> str:
        """The name of input `index`, '' when absent (optional inputs)."""
        return self.inputs[index] if index < len(self.inputs) else ""


@dataclass
class Builder:
    """One import in progress; `fail` raises the error naming the file and the node."""

    where: str
    readers: Counter[str]
    values: dict[str, Value] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    params: dict[str, Params] = field(default_factory=dict)
    made_by: dict[str, str] = field(default_factory=dict)  # ONNX tensor → the layer making it
    flattened: dict[str, str] = field(default_factory=dict)
    node: Node | None = None

    # ---- errors and values ---------------------------------------------------------------

    def fail(self, message: str) -> ModelFileError:
        """The error to raise: the file, the node (name and op type) and the message."""
        if self.node is None:
            return ModelFileError(f"{self.where}: {message}")
        return ModelFileError(f"{self.where}: node {self.node.name!r} ({self.node.op}): "
                              f"{message}")

    def value(self, name: str) -> Value:
        if name not in self.values:
            raise self.fail(f"reads {name!r}, which no node, initializer or graph input gives")
        return self.values[name]

    def used(self, name: str) -> bool:
        return bool(name) and self.readers[name] > 0

    def set(self, name: str, value: Value) -> None:
        if name:
            self.values[name] = value

    def attr(self, key: str, default: Any) -> Any:
        assert self.node is not None
        return self.node.attrs.get(key, default)

    def only_first_output(self) -> None:
        """Refuse when a node's outputs past the first are read (e.g. MaxPool's indices)."""
        assert self.node is not None
        extra = [name for name in self.node.outputs[1:] if self.used(name)]
        if extra:
            raise self.fail(f"its output {extra[0]!r} is used; accelsim computes only the "
                            "first output of this operator")

    def const(self, name: str, what: str) -> np.ndarray:
        """A constant input as an array (a fill of static shape is materialised)."""
        value = self.value(name)
        if isinstance(value, Fill):
            size = count(value.dims)
            if size is None or size > MAX_CONST_ELEMENTS:
                raise self.fail(f"{what} ({name!r}) is a constant fill of shape "
                                f"{[str(d) for d in value.dims]}, too large or not static")
            return np.full([d.static for d in value.dims], value.value, np.float32)
        if isinstance(value, Const):
            return value.array
        if isinstance(value, ShapeVec):
            raise self.fail(f"{what} ({name!r}) depends on the batch size; give a constant")
        raise self.fail(f"{what} ({name!r}) must be a constant (an initializer), but the graph "
                        "computes it; accelsim layers hold their weights as constants")

    def weight(self, name: str, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A constant as float32 weights: real numbers, finite, of the expected shape."""
        array = self.const(name, what)
        if array.dtype.kind not in "fiub":
            raise self.fail(f"{what} ({name!r}) has dtype {array.dtype}; weights must be real "
                            "numbers")
        if array.dtype.kind in "iu" and array.size and np.abs(array).max() > 2**24:
            raise self.fail(f"{what} ({name!r}) holds integers beyond 2^24, which float32 "
                            "cannot hold exactly")
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(array, dtype=np.float32)
        bad = ~np.isfinite(out)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise self.fail(f"{what} ({name!r}) holds {int(bad.sum()):,} value(s) that are NaN,"
                            f" ±inf or beyond float32's range (the first at index {first}); "
                            "export the model from trained, finite weights")
        if shape is not None and out.shape != shape:
            raise self.fail(f"{what} ({name!r}) has shape {out.shape}; expected {shape}")
        return out

    def view(self, name: str, what: str = "input") -> View:
        """A graph tensor (not a constant)."""
        value = self.value(name)
        if not isinstance(value, View):
            raise self.fail(f"{what} ({name!r}) is a constant or a shape computation, not a "
                            "tensor computed from the network's input; accelsim has no "
                            "layer for it")
        return value

    # ---- tensors read by layers -----------------------------------------------------------

    def read(self, view: View, perm: tuple[int, ...] | None = None, need: str = "") -> str:
        """The accelsim tensor a layer reads for `view`: the view's source when the view is
        it transposed by `perm` (identity by default), or that source flattened after the
        batch axis (a flatten layer, made once)."""
        tensor = self.tensors[view.source]
        identity = tuple(range(len(tensor.axes)))
        if matches(tensor, view, perm or identity):
            return view.source
        if perm is None and is_flattened(tensor, view) and not tensor.has_time:
            return self.flatten(view.source)
        shown = ", ".join(str(d) for d in dims_of(tensor, view))
        own = ", ".join(str(d) for d in dims_of(tensor, View(view.source, tensor.axes)))
        raise self.fail(f"reads a tensor of shape ({shown}) that is a rearrangement of "
                        f"{view.source!r} ({own}) no accelsim layer reads{need}: layers read "
                        "a tensor as computed (batch first), flattened after the batch axis, "
                        "or (recurrent operators) time-major")

    def flatten(self, source: str) -> str:
        if source not in self.flattened:
            tensor = self.tensors[source]
            rest = tuple(i for axis in tensor.axes[1:] for i in axis)
            name = self.add(Flatten, f"{source}_flat", {}, (source,),
                            tensor=Tensor(tensor.atoms, (tensor.axes[0], rest)))
            self.flattened[source] = name
        return self.flattened[source]

    def unique(self, base: str) -> str:
        taken = {layer.name for layer in self.layers} | {INPUT}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    def add(self, cls: type[Layer], base: str, fields: dict[str, Any], inputs: tuple[str, ...],
            params: Params | None = None, tensor: Tensor | None = None,
            keep_time: bool = False, split_last: tuple[int, ...] | None = None) -> str:
        """Append a layer reading `inputs`; returns its name. Its output tensor is `tensor`
        if given, else built from its output shape (batch atom from its first input, the
        time atom too with `keep_time`, the last axis split into `split_last` atoms)."""
        name = self.unique(sanitize(base, cls.type_name))
        previous = self.layers[-1].name if self.layers else INPUT
        named = () if inputs == (previous,) else inputs
        try:
            layer = cls(name=name, inputs=named, **fields)
            ins = tuple(self.shapes[i] for i in inputs)
            shape = layer.output_shape_of(ins)
            expected = layer.param_shapes_of(ins)
        except (LayerSpecError, TypeError, ValueError) as err:
            raise self.fail(f"cannot become a {cls.type_name} layer: {err}") from None
        params = params or {}
        if expected != {k: v.shape for k, v in params.items()}:
            raise self.fail(f"parameters {({k: v.shape for k, v in params.items()})} do not "
                            f"fit a {cls.type_name} layer needing {expected}")
        for what, size in (("parameters", sum(math.prod(s) for s in expected.values())),
                           ("output values per sample", math.prod(shape))):
            if size > MAX_ELEMENTS:
                raise self.fail(f"{size:,} {what}, over the limit of {MAX_ELEMENTS:,} (2^48)")
        self.layers.append(layer)
        if params:
            self.params[name] = params
        self.shapes[name] = shape
        self.tensors[name] = tensor or self._tensor(inputs[0], shape, keep_time, split_last)
        return name

    def _tensor(self, source: str, shape: Shape, keep_time: bool,
                split_last: tuple[int, ...] | None) -> Tensor:
        before = self.tensors[source]
        lead = [before.atoms[before.axes[0][0]]]
        sizes = list(shape)
        if keep_time:
            lead.append(next(a for a in before.atoms if a.role == TIME))
            sizes = sizes[1:]
        last_size = sizes.pop()
        last = [last_size] if split_last is None else []
        feats = [Atom(Size(s)) for s in [*sizes, *last, *(split_last or ())]]
        atoms = (*lead, *feats)
        axes: list[tuple[int, ...]] = [(i,) for i in range(len(lead) + len(sizes) + 1)]
        if split_last is not None:
            axes[-1] = tuple(range(len(lead) + len(sizes), len(atoms)))
        return Tensor(atoms, tuple(axes))

    def canonical(self, name: str, perm: tuple[int, ...] | None = None) -> View:
        """The view of a layer's output as computed, or transposed by `perm`."""
        axes = self.tensors[name].axes
        return View(name, axes if perm is None else tuple(axes[p] for p in perm))

    def input_tensor(self, dims: list[int | None], sequence: bool) -> Tensor:
        """The network's input: batch, (time), features; None marks an open size."""
        roles = [BATCH, TIME] if sequence else [BATCH]
        atoms = []
        for i, d in enumerate(dims):
            role = roles[i] if i < len(roles) else "feature"
            size = Size(d) if d is not None else Size(1, (role,))
            atoms.append(Atom(size, role))
        return Tensor(tuple(atoms), tuple((i,) for i in range(len(dims))))


def regrouped(view: View, groups: Groups) -> View:
    return View(view.source, groups)
