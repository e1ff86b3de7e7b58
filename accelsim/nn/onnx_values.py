"""What an ONNX tensor is while a graph is imported: a constant, a shape being computed, a
constant fill of a (symbolic) shape, or a view of a tensor the accelsim network computes.

A view describes an ONNX tensor as a rearrangement of an accelsim tensor without copying: the
accelsim tensor's axes are split into *atoms* (its batch axis, its time axis, its feature
axes; a recurrent output's last axis is two atoms, directions × hidden), and each axis of the
ONNX tensor is a sequence of atoms read row-major. A Transpose permutes the ONNX axes, a
Squeeze drops an axis of size 1, a Reshape or Flatten regroups the atoms; none of them makes a
layer. When a layer reads the ONNX tensor, the view must be its accelsim tensor in the layout
the layer expects (e.g. (time, batch, features) for an ONNX recurrent op), or that tensor
flattened after the batch axis (a `flatten` layer is inserted); anything else is refused.

Sizes are static, except the batch axis (and a sequence's time axis) when the file leaves
them open: those are symbols ("batch", "time"), so a Reshape to [0, 0, -1] or [-1, 256]
resolves exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BATCH, TIME, FEATURE = "batch", "time", "feature"


@dataclass(frozen=True)
class Size:
    """A dimension: a static factor times symbols (each an open batch or time axis)."""

    static: int
    symbols: tuple[str, ...] = ()

    def __mul__(self, other: Size) -> Size:
        return Size(self.static * other.static, tuple(sorted(self.symbols + other.symbols)))

    def divide(self, other: Size) -> Size | None:
        """self / other when exact, else None."""
        rest = list(self.symbols)
        for symbol in other.symbols:
            if symbol not in rest:
                return None
            rest.remove(symbol)
        if other.static == 0 or self.static % other.static:
            return None
        return Size(self.static // other.static, tuple(rest))

    def __str__(self) -> str:
        return "·".join([*self.symbols, str(self.static)] if self.static != 1 or
                        not self.symbols else list(self.symbols))


ONE = Size(1)


def product(sizes: list[Size] | tuple[Size, ...]) -> Size:
    out = ONE
    for size in sizes:
        out = out * size
    return out


@dataclass(frozen=True)
class Atom:
    """One indivisible axis of an accelsim tensor: its size and role (batch, time, feature)."""

    size: Size
    role: str = FEATURE

    @property
    def droppable(self) -> bool:
        """A feature axis of size 1 may appear or vanish (Squeeze, Unsqueeze, Reshape)."""
        return self.role == FEATURE and self.size == ONE


Groups = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Tensor:
    """An accelsim tensor (the network's input or a layer's output): its atoms and its own
    axes (batch first), each a sequence of atom indices."""

    atoms: tuple[Atom, ...]
    axes: Groups

    @property
    def has_time(self) -> bool:
        return any(atom.role == TIME for atom in self.atoms)


@dataclass(frozen=True)
class View:
    """An ONNX tensor as the accelsim tensor `source` rearranged: `groups` lists, per ONNX
    axis, the atoms it runs over."""

    source: str
    groups: Groups


@dataclass(frozen=True)
class Const:
    """A constant: an initializer, a Constant node or a folded computation on them."""

    array: np.ndarray


@dataclass(frozen=True)
class ShapeVec:
    """An int64 vector (or scalar) computed from tensor shapes, entries possibly symbolic."""

    dims: tuple[Size, ...]
    scalar: bool = False


@dataclass(frozen=True)
class Fill:
    """A tensor of one constant value over a shape that may be symbolic (ConstantOfShape)."""

    value: float
    dims: tuple[Size, ...]


Value = Const | ShapeVec | Fill | View


def shape_value(dims: tuple[Size, ...], scalar: bool = False) -> Const | ShapeVec:
    """A computed shape: a plain constant once every entry is static."""
    if all(not d.symbols for d in dims):
        array = np.array([d.static for d in dims], np.int64)
        return Const(array.reshape(()) if scalar else array)
    return ShapeVec(dims, scalar)


def group_size(tensor: Tensor, group: tuple[int, ...]) -> Size:
    return product([tensor.atoms[i].size for i in group])


def dims_of(tensor: Tensor, view: View) -> tuple[Size, ...]:
    return tuple(group_size(tensor, g) for g in view.groups)


def kept(tensor: Tensor, group: tuple[int, ...]) -> tuple[int, ...]:
    """A group without its droppable atoms (size-1 features)."""
    return tuple(i for i in group if not tensor.atoms[i].droppable)


def matches(tensor: Tensor, view: View, perm: tuple[int, ...]) -> bool:
    """Whether the view is its tensor transposed by `perm` (ONNX axis i = tensor axis
    perm[i]), size-1 feature atoms aside."""
    if len(view.groups) != len(tensor.axes) or len(perm) != len(tensor.axes):
        return False
    return all(kept(tensor, g) == kept(tensor, tensor.axes[p])
               for g, p in zip(view.groups, perm, strict=True))


def is_flattened(tensor: Tensor, view: View) -> bool:
    """Whether the view is its tensor flattened after the batch axis, (N, everything else)."""
    if len(view.groups) != 2 or kept(tensor, view.groups[0]) != kept(tensor, tensor.axes[0]):
        return False
    rest = tuple(i for g in tensor.axes[1:] for i in kept(tensor, g))
    return kept(tensor, view.groups[1]) == rest


def permutation_of(tensor: Tensor, view: View) -> tuple[int, ...] | None:
    """The perm with `matches(tensor, view, perm)`, if the view is a transposition."""
    if len(view.groups) != len(tensor.axes):
        return None
    canon = [kept(tensor, g) for g in tensor.axes]
    perm = []
    for g in view.groups:
        key = kept(tensor, g)
        candidates = [i for i, c in enumerate(canon) if c == key and i not in perm]
        if not candidates:
            return None
        perm.append(candidates[0])
    return tuple(perm)


def regroup(tensor: Tensor, view: View, targets: list[Size]) -> Groups | None:
    """The view's atoms regrouped into axes of the target sizes (a Reshape), or None when a
    target splits an atom. Size-1 features vanish; a static size-1 batch or time axis goes
    with the first target of size 1 that meets it."""
    order = [i for g in view.groups for i in g if not tensor.atoms[i].droppable]
    groups: list[tuple[int, ...]] = []
    pos = 0
    for target in targets:
        taken: list[int] = []
        if target == ONE and pos < len(order) and tensor.atoms[order[pos]].size == ONE:
            taken.append(order[pos])
            pos += 1
        while product([tensor.atoms[i].size for i in taken]) != target:
            if pos >= len(order):
                return None
            taken.append(order[pos])
            pos += 1
            if target.divide(product([tensor.atoms[i].size for i in taken])) is None:
                return None
        groups.append(tuple(taken))
    leftover = order[pos:]
    if any(tensor.atoms[i].size != ONE for i in leftover) or (leftover and not groups):
        return None
    if leftover:
        groups[-1] = groups[-1] + tuple(leftover)
    return tuple(groups)


def resolve_reshape(dims: tuple[Size, ...], target: tuple[Size | int, ...],
                    allow_zero: bool) -> list[Size] | str:
    """ONNX Reshape's target sizes (0: copy the input's, -1: the rest), or why not."""
    out: list[Size | None] = []
    for i, t in enumerate(target):
        if isinstance(t, Size):
            out.append(t)
        elif t == 0 and not allow_zero:
            if i >= len(dims):
                return f"entry {i} is 0 (copy) but the input has only {len(dims)} axes"
            out.append(dims[i])
        elif t == -1:
            out.append(None)
        elif t < 0 or (t == 0 and allow_zero):
            return f"entry {t} is not a size"
        else:
            out.append(Size(int(t)))
    holes = [i for i, t in enumerate(out) if t is None]
    if len(holes) > 1:
        return "it has more than one -1"
    if holes:
        known = product([t for t in out if t is not None])
        rest = product(list(dims)).divide(known)
        if rest is None:
            return f"{product(list(dims))} values do not divide into parts of {known}"
        out[holes[0]] = rest
    sizes = [t for t in out if t is not None]
    if product(sizes) != product(list(dims)):
        return f"{product(list(dims))} values cannot take the shape {[str(s) for s in sizes]}"
    return sizes


def count(dims: tuple[Size, ...]) -> int | None:
    """Values in a shape, if static."""
    if any(d.symbols for d in dims):
        return None
    return math.prod(d.static for d in dims)
