"""ONNX rearrangements and shape glue: Flatten, Reshape, Transpose, Squeeze, Unsqueeze and
Cast of tensors become views (no layer; see `onnx_values`); Shape, Gather, Slice, Concat,
ConstantOfShape, Expand, Squeeze, Unsqueeze and Cast on shapes and fills are evaluated while
importing, the batch size (and a sequence's length) kept symbolic.
"""

from __future__ import annotations

import numpy as np

from accelsim.nn.onnx_builder import Builder, Node
from accelsim.nn.onnx_values import (
    ONE,
    Const,
    Fill,
    ShapeVec,
    Size,
    View,
    dims_of,
    regroup,
    resolve_reshape,
    shape_value,
)


def _flatten(b: Builder, node: Node) -> None:
    view = b.view(node.input(0))
    rank = len(view.groups)
    axis = int(b.attr("axis", 1))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis <= rank:
        raise b.fail(f"axis = {axis} is outside a rank-{rank} tensor")
    head = tuple(i for g in view.groups[:axis] for i in g)
    tail = tuple(i for g in view.groups[axis:] for i in g)
    b.set(node.outputs[0], View(view.source, (head, tail)))


def _reshape_target(b: Builder, name: str) -> tuple[Size | int, ...]:
    value = b.value(name)
    if isinstance(value, ShapeVec) and not value.scalar:  # static entries: 0 copies, -1 infers
        return tuple(d if d.symbols else d.static for d in value.dims)
    target = b.const(name, "the target shape")
    if target.ndim != 1 or target.dtype.kind not in "iu":
        raise b.fail(f"the target shape {target!r} must be a 1-D integer vector")
    return tuple(int(t) for t in target)


def _reshape(b: Builder, node: Node) -> None:
    view = b.view(node.input(0))
    tensor = b.tensors[view.source]
    dims = dims_of(tensor, view)
    target = _reshape_target(b, node.input(1))
    sizes = resolve_reshape(dims, target, bool(b.attr("allowzero", 0)))
    if isinstance(sizes, str):
        raise b.fail(f"cannot reshape ({', '.join(map(str, dims))}) to {list(map(str, target))}"
                     f": {sizes}")
    groups = regroup(tensor, view, sizes)
    if groups is None:
        raise b.fail(f"reshapes ({', '.join(map(str, dims))}) to "
                     f"({', '.join(map(str, sizes))}), which splits an axis of "
                     f"{view.source!r}; accelsim can only merge axes (flatten) or move "
                     "size-1 axes")
    b.set(node.outputs[0], View(view.source, groups))


def _transpose(b: Builder, node: Node) -> None:
    view = b.view(node.input(0))
    rank = len(view.groups)
    perm = [int(p) for p in b.attr("perm", list(reversed(range(rank))))]
    if sorted(perm) != list(range(rank)):
        raise b.fail(f"perm = {perm} is not a permutation of 0..{rank - 1}")
    b.set(node.outputs[0], View(view.source, tuple(view.groups[p] for p in perm)))


def _axes(b: Builder, node: Node, rank: int) -> list[int] | None:
    if not node.input(1):
        return None
    axes = [int(a) for a in b.const(node.input(1), "axes").reshape(-1)]
    out = sorted(a + rank if a < 0 else a for a in axes)
    if any(not 0 <= a < rank for a in out) or len(set(out)) != len(out):
        raise b.fail(f"axes = {axes} do not fit a rank-{rank} tensor")
    return out


def _squeeze(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    if isinstance(value, ShapeVec):
        if value.scalar or len(value.dims) != 1:
            raise b.fail("squeezes a shape computation accelsim does not follow")
        return b.set(node.outputs[0], shape_value(value.dims, scalar=True))
    if isinstance(value, Fill):
        axes = _axes(b, node, len(value.dims))
        keep = [d for i, d in enumerate(value.dims)
                if d != ONE or (axes is not None and i not in axes)]
        return b.set(node.outputs[0], Fill(value.value, tuple(keep)))
    view = b.view(node.input(0))
    tensor = b.tensors[view.source]
    dims = dims_of(tensor, view)
    axes = _axes(b, node, len(dims))
    axes = [i for i, d in enumerate(dims) if d == ONE] if axes is None else axes
    for a in axes:
        if dims[a] != ONE or any(not tensor.atoms[i].droppable for i in view.groups[a]):
            raise b.fail(f"squeezes axis {a} of size {dims[a]} (the batch or time axis, or "
                         "not of size 1)")
    b.set(node.outputs[0], View(view.source, tuple(g for i, g in enumerate(view.groups)
                                                   if i not in axes)))


def _unsqueeze(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    axes = [int(a) for a in b.const(node.input(1), "axes").reshape(-1)]
    if isinstance(value, ShapeVec) and value.scalar and axes in ([0], [-1]):
        return b.set(node.outputs[0], ShapeVec(value.dims))
    items: list = list(value.groups) if isinstance(value, View) else \
        list(value.dims) if isinstance(value, Fill) else None  # type: ignore[assignment]
    if items is None:
        raise b.fail("unsqueezes a shape computation accelsim does not follow")
    rank = len(items) + len(axes)
    norm = sorted(a + rank if a < 0 else a for a in axes)
    if any(not 0 <= a < rank for a in norm) or len(set(norm)) != len(norm):
        raise b.fail(f"axes = {axes} do not fit a rank-{rank} result")
    for a in norm:
        items.insert(a, () if isinstance(value, View) else ONE)
    if isinstance(value, View):
        return b.set(node.outputs[0], View(value.source, tuple(items)))
    assert isinstance(value, Fill)
    b.set(node.outputs[0], Fill(value.value, tuple(items)))


def _cast(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    to = int(b.attr("to", 1))
    floats, ints = {1, 10, 11, 16}, {6, 7}
    if isinstance(value, View) and to in floats:
        return b.set(node.outputs[0], value)
    if isinstance(value, ShapeVec) and to in ints:
        return b.set(node.outputs[0], value)
    if isinstance(value, Fill):
        return b.set(node.outputs[0], value)
    raise b.fail(f"casts a tensor to ONNX type {to}; accelsim computes in float")


def _shape(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    if isinstance(value, View):
        dims = dims_of(b.tensors[value.source], value)
    elif isinstance(value, Fill):
        dims = value.dims
    else:
        raise b.fail("takes the shape of a shape computation accelsim does not follow")
    start, end = int(b.attr("start", 0)), b.attr("end", None)
    b.set(node.outputs[0], shape_value(dims[slice(start, None if end is None else int(end))]))


def _gather(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    if not isinstance(value, ShapeVec) or value.scalar or int(b.attr("axis", 0)) != 0:
        raise b.fail("gathers from a tensor; accelsim follows Gather only on shapes "
                     "(Shape → Gather), not on data")
    index = b.const(node.input(1), "indices")
    picks = [int(i) for i in index.reshape(-1)]
    if any(not -len(value.dims) <= i < len(value.dims) for i in picks):
        raise b.fail(f"indices {picks} are outside a shape of {len(value.dims)} entries")
    b.set(node.outputs[0], shape_value(tuple(value.dims[i] for i in picks),
                                       scalar=index.ndim == 0))


def _slice(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    if not isinstance(value, ShapeVec | Fill) or (isinstance(value, ShapeVec) and value.scalar):
        raise b.fail("slices a tensor; accelsim follows Slice only on shapes and constants")
    dims = list(value.dims)
    starts, ends = (b.const(node.input(i), k).reshape(-1) for i, k in ((1, "starts"),
                                                                       (2, "ends")))
    axes = b.const(node.input(3), "axes").reshape(-1) if node.input(3) else range(len(starts))
    steps = b.const(node.input(4), "steps").reshape(-1) if node.input(4) else [1] * len(starts)
    picked: list = list(dims)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = int(axis) + (len(dims) if axis < 0 else 0)
        if isinstance(value, ShapeVec):
            picked = picked[int(start):int(end):int(step)] if axis == 0 else None  # type: ignore
        elif dims[axis].symbols:
            raise b.fail(f"slices axis {axis} of size {dims[axis]}, which depends on the batch")
        else:
            picked[axis] = Size(len(range(*slice(int(start), int(end), int(step)).indices(
                dims[axis].static))))
        if picked is None or int(step) == 0:
            raise b.fail("slices a shape along an axis it does not have, or with step 0")
    if isinstance(value, Fill):
        return b.set(node.outputs[0], Fill(value.value, tuple(picked)))
    b.set(node.outputs[0], shape_value(tuple(picked)))


def concat_shapes(b: Builder, node: Node, values: list) -> None:
    dims: list[Size] = []
    for value in values:
        if isinstance(value, ShapeVec) and not value.scalar:
            dims.extend(value.dims)
        elif isinstance(value, Const) and value.array.ndim == 1 and value.array.dtype.kind in "iu":
            dims.extend(Size(int(v)) for v in value.array)  # 0 and -1 keep Reshape's meaning
        else:
            raise b.fail("joins shape pieces accelsim does not follow (1-D integer vectors)")
    b.set(node.outputs[0], shape_value(tuple(dims)))


def _constant_of_shape(b: Builder, node: Node) -> None:
    value = b.value(node.input(0))
    fill = b.attr("value", None)
    number = 0.0 if fill is None else float(np.asarray(fill).reshape(-1)[0])
    if isinstance(value, ShapeVec) and not value.scalar:
        return b.set(node.outputs[0], Fill(number, value.dims))
    shape = b.const(node.input(0), "the shape")
    if shape.ndim != 1 or (shape < 0).any():
        raise b.fail(f"the shape {shape.tolist()} must be a 1-D vector of sizes")
    b.set(node.outputs[0], Fill(number, tuple(Size(int(s)) for s in shape)))


def _expand(b: Builder, node: Node) -> None:
    """Expand of a constant of one value (zeros for initial states) → a fill."""
    value = b.value(node.input(0))
    if isinstance(value, View):
        raise b.fail("broadcasts a tensor computed from the input; accelsim has no layer "
                     "for it")
    source: tuple[Size, ...]
    if isinstance(value, Const):
        flat = value.array.reshape(-1)
        if flat.size == 0 or value.array.dtype.kind not in "fiub" or (flat != flat[0]).any():
            raise b.fail("expands a constant holding several values; accelsim follows "
                         "Expand only of one value (a fill)")
        number, source = float(flat[0]), tuple(Size(int(d)) for d in value.array.shape)
    elif isinstance(value, Fill):
        number, source = value.value, value.dims
    else:
        raise b.fail("expands a shape computation accelsim does not follow")
    target = _reshape_target(b, node.input(1))
    dims = [t if isinstance(t, Size) else Size(t) for t in target]
    width = max(len(dims), len(source))
    dims = [ONE] * (width - len(dims)) + dims
    padded = [ONE] * (width - len(source)) + list(source)
    out = []
    for have, want in zip(padded, dims, strict=True):
        if want.static < 0 or (have != ONE and want != ONE and have != want):
            raise b.fail(f"cannot broadcast {[str(d) for d in source]} to "
                         f"{[str(d) for d in dims]}")
        out.append(want if have == ONE else have)
    b.set(node.outputs[0], Fill(number, tuple(out)))


SHAPE_CONVERTERS = {
    "Flatten": _flatten, "Reshape": _reshape, "Transpose": _transpose, "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze, "Cast": _cast, "Shape": _shape, "Gather": _gather,
    "Slice": _slice, "ConstantOfShape": _constant_of_shape, "Expand": _expand,
}
"""Converters of the rearrangements and the shape glue, by op type."""
