"""A sweep's design space: one machine preset, networks, axes (`accelsim.scenario.axes`),
explicit points and constraints; its points enumerated lazily, in a fixed order, each with a
stable id.

Points are the grid (every combination of the axes' values, the last axis varying fastest),
or explicit points (each a mapping of axes to values; the preset's value stands in for an axis
a point leaves out) crossed with the grid of any axes given as well; networks outermost.
Constraints (`accelsim.scenario.constraints`) drop points. A sweep without a batch axis runs
batch 1; without a precision axis, the machine's own precision.

A point's id is the first 16 hex digits of the BLAKE2b hash of its parameters (machine,
network name, batch, precision and every axis value, sorted by name; `repr` of each value)
and of the content of the network's files (`network_digest`: the TOML or ONNX file and the
weights npz it names), so it is the same in every process, on every machine and whatever
order the axes are written in, and a resumed sweep recognizes a finished point by it, but
not once a network file was edited. The scenario file reaches a point only through these
values (a sweep runs a preset with its axes' values, nothing else of the file), so an edit
that changes a point changes its id.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from accelsim.errors import AccelsimError
from accelsim.metrics import SWEEP_METRICS
from accelsim.scenario.axes import (
    AxisValue,
    AxisValues,
    axis_choices,
    axis_value,
    axis_values,
    base_machine,
    check_axis,
    setting_holding,
    value_kind,
)
from accelsim.scenario.constraints import NUMBER, TEXT, compile_constraint

LABELS = ("point", "status", "error", "machine", "network", "batch", "precision")
METRICS = SWEEP_METRICS  # each row's metric columns (`accelsim.metrics`)
Setting = AxisValue | None  # a parameter's value where a point does not set it (seq_len: None)
MAX_POINTS = 10**7  # every row stays in memory (~1 KB each with its CSV line): narrow the axes
ID_DIGITS = 16


class Point(NamedTuple):
    """One design point: its id, its network (an index into `Sweep.networks`) and a value for
    each of `Sweep.parameters`."""

    id: str
    network: int
    values: tuple[Setting, ...]


def point_id(machine: str, network: str, items: Sequence[tuple[str, Setting]]) -> str:
    """The stable id of a point with these (name, value) parameters (see the module doc)."""
    key = repr((machine, network, tuple(sorted(items))))
    return hashlib.blake2b(key.encode("utf-8"), digest_size=ID_DIGITS // 2).hexdigest()


class _IdMaker:
    """`point_id` for many points of one sweep, a few times faster: each (name, value) pair's
    repr is made once and the sorted order of the names fixed once, so each point only joins
    strings and hashes them (tests check it equals `point_id`)."""

    def __init__(self, machine: str, names: Sequence[str],
                 fixed: Sequence[tuple[str, Setting]]) -> None:
        self.machine, self.names = machine, tuple(names)
        every = [*names, *(name for name, _ in fixed)]
        self.order = sorted(range(len(every)), key=every.__getitem__)
        self.fixed = {len(names) + i: repr(pair) for i, pair in enumerate(fixed)}
        self.memo: list[dict[Setting, str]] = [{} for _ in names]

    def _pair(self, i: int, value: Setting) -> str:
        """repr((name, value)), made once per value (an axis's values share one type)."""
        text = self.memo[i][value] = repr((self.names[i], value))
        return text

    def __call__(self, network: str, values: tuple[Setting, ...]) -> str:
        memo, fixed = self.memo, self.fixed
        parts = [fixed[i] if i in fixed else memo[i].get(values[i]) or self._pair(i, values[i])
                 for i in self.order]
        key = f"({self.machine!r}, {network!r}, ({', '.join(parts)}))"
        return hashlib.blake2b(key.encode("utf-8"), digest_size=ID_DIGITS // 2).hexdigest()


def network_digest(network: str) -> str:
    """16 hex digits of the BLAKE2b hash of a network's files, as `load_network` reads them:
    its TOML (or ONNX) file and, where the TOML names one that exists, its weights npz."""
    from accelsim.nn.loader import read_toml, resolve_model_path

    path = resolve_model_path(network)
    files = [path]
    if path.suffix.lower() == ".toml":
        weights = read_toml(path).get("weights")
        if isinstance(weights, str) and (path.parent / weights).is_file():
            files.append(path.parent / weights)
    digest = hashlib.blake2b(digest_size=ID_DIGITS // 2)
    for file in files:
        try:
            with file.open("rb") as data:
                digest.update(hashlib.file_digest(data, "blake2b").digest())
        except OSError as err:
            raise AccelsimError(f"cannot read {file}: {err.strerror or err}") from None
    return digest.hexdigest()


def constraint_names(machine: str, parameters: Sequence[str]) -> dict[str, str]:
    """What a constraint of a `machine` sweep varying `parameters` may name, each "number"
    or "text": every axis of the machine (seq_len only when swept) and "network"."""
    names = [a for a in axis_choices(machine) if a != "seq_len" or a in parameters]
    kinds = {a: TEXT if value_kind(machine, a) in ("str", "precision") else NUMBER
             for a in names}
    return {**kinds, "network": TEXT}


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _pairs(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2
                                            and isinstance(p[0], str) for p in value)


def _check_kinds(sweep: Sweep) -> None:
    """The constructor's fields of the kinds it stores; `Sweep.of` takes lists and dicts."""
    fix = ("; build a sweep with Sweep.of(machine, networks, axes={'batch': [1, 2]}, ...), "
           "which takes lists and dicts")
    if not isinstance(sweep.machine, str):
        raise AccelsimError(f"Sweep: machine = {sweep.machine!r} must be a preset name{fix}")
    for field in ("networks", "constraints"):
        value = getattr(sweep, field)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise AccelsimError(f"Sweep: {field} = {value!r:.80} must be a tuple of "
                                f"strings{fix}")
    if not _pairs(sweep.axes) or not all(isinstance(v, tuple) for _, v in sweep.axes):
        raise AccelsimError(f"Sweep: axes = {sweep.axes!r:.80} must be a tuple of (axis, "
                            f"values) pairs{fix}")
    if not isinstance(sweep.points, tuple) or not all(_pairs(p) for p in sweep.points):
        raise AccelsimError(f"Sweep: points = {sweep.points!r:.80} must be a tuple of "
                            f"points, each a tuple of (axis, value) pairs{fix}")
    for field in ("name", "description"):
        if not isinstance(getattr(sweep, field), str):
            raise AccelsimError(f"Sweep: {field} = {getattr(sweep, field)!r:.60} must be a "
                                "string")


@dataclass(frozen=True)
class Sweep:
    """What to sweep (see the module docstring). Build one with `Sweep.of`, which takes
    lists, ranges and mappings; every name is checked on construction."""

    machine: str
    networks: tuple[str, ...]  # bundled names, or TOML paths as `load_network` takes them
    axes: tuple[tuple[str, tuple[AxisValue, ...]], ...] = ()
    points: tuple[tuple[tuple[str, AxisValue], ...], ...] = ()  # explicit; () for the grid
    constraints: tuple[str, ...] = ()
    name: str = "sweep"
    description: str = ""

    @classmethod
    def of(cls, machine: str, networks: str | Sequence[str],
           axes: Mapping[str, AxisValues] | None = None,
           points: Sequence[Mapping[str, object]] = (), constraints: str | Sequence[str] = (),
           name: str = "sweep", description: str = "") -> Sweep:
        """A checked sweep: `axes` maps each axis to a list or a `Range` (or its keywords),
        `points` are explicit points (mappings of axes to values), `constraints` keep the
        points that meet them, e.g. "tpu.array_rows == tpu.array_cols"."""
        base_machine(machine)  # an unknown preset fails first, with its did-you-mean
        named = [(check_axis(machine, a), v) for a, v in (axes or {}).items()]
        explicit = [[(check_axis(machine, k), v) for k, v in p.items()] for p in points]
        return cls(machine, _as_tuple(networks),
                   tuple((a, axis_values(machine, a, v)) for a, v in named),
                   tuple(tuple((k, axis_value(machine, k, v)) for k, v in p)
                         for p in explicit),
                   _as_tuple(constraints), name, description)

    def __post_init__(self) -> None:
        _check_kinds(self)
        base_machine(self.machine)
        if not self.networks:
            raise AccelsimError("a sweep needs at least one network, e.g. ['lenet5']")
        names = [a for a, _ in self.axes]
        for axis, values in self.axes:
            check_axis(self.machine, axis)
            if names.count(axis) > 1 or not values:
                raise AccelsimError(f"the axis {axis} is given twice or without values")
        seen: set[frozenset[tuple[str, AxisValue]]] = set()
        for point in self.points:
            key = frozenset(point)
            if key in seen:
                raise AccelsimError(f"the explicit point {dict(point)} is given twice; remove "
                                    "the repeat")
            seen.add(key)
            both = [k for k, _ in point if k in names]
            if both or not point:
                raise AccelsimError(f"the explicit point {dict(point)} is empty or names the "
                                    f"axis {both[0] if both else ''} as well; give an axis "
                                    "in the points or as an axis, not both")
        if self.grid_size > MAX_POINTS:
            raise AccelsimError(f"the sweep has {self.grid_size:,} points before constraints;"
                                f" at most {MAX_POINTS:,}: use fewer values or fewer axes")
        self.network_names  # noqa: B018 (loads each network's shapes: unknown ones fail)
        self._checks  # noqa: B018 (compiles the constraints)

    @cached_property
    def network_names(self) -> tuple[str, ...]:
        """Each network's name, as rows show it."""
        from accelsim.nn.loader import load_network

        names = tuple(load_network(n, weights="none").name for n in self.networks)
        repeated = [n for i, n in enumerate(names) if n in names[:i]]
        if repeated:
            raise AccelsimError(f"the network {repeated[0]!r} is listed twice")
        return names

    @cached_property
    def network_keys(self) -> tuple[str, ...]:
        """Each network as its points' ids name it: its name and its files' digest."""
        return tuple(f"{name}@{network_digest(spec)}"
                     for name, spec in zip(self.network_names, self.networks, strict=True))

    @cached_property
    def point_axes(self) -> tuple[str, ...]:
        """The axes the explicit points name, in order of first appearance."""
        return tuple(dict.fromkeys(k for p in self.points for k, _ in p))

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """What varies from point to point: the explicit points' axes, then the grid's."""
        return (*self.point_axes, *(a for a, _ in self.axes))

    @property
    def axis_names(self) -> tuple[str, ...]:
        """The axes, as columns name them."""
        return self.parameters

    @cached_property
    def default_precision(self) -> str:
        return str(base_machine(self.machine).default_precision.value)

    def default(self, axis: str) -> Setting:
        """An axis's value where the sweep does not vary it: the preset's spec value, batch
        1, the machine's precision, the network's own sequence length (None)."""
        run: dict[str, Setting] = {"batch": 1, "precision": self.default_precision,
                                   "seq_len": None}
        if axis in run:
            return run[axis]
        field = axis.partition(".")[2]
        value: Setting = getattr(setting_holding(self.machine, field), field)
        return value

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The result's columns: labels, the axes beyond batch and precision, metrics."""
        return (*LABELS, *(p for p in self.parameters if p not in LABELS), *METRICS)

    @cached_property
    def grid_size(self) -> int:
        """Points before constraints."""
        return (len(self.networks) * max(len(self.points), 1)
                * math.prod(len(v) for _, v in self.axes))

    @cached_property
    def _checks(self) -> tuple[Callable[[Mapping[str, object]], bool], ...]:
        kinds = constraint_names(self.machine, self.parameters)
        return tuple(compile_constraint(c, kinds) for c in self.constraints)

    @cached_property
    def _constants(self) -> dict[str, Setting]:
        """What constraints read of a point beyond its parameters: the preset's values."""
        return {a: self.default(a) for a in axis_choices(self.machine)
                if a != "seq_len" and a not in self.parameters}

    def iter_points(self) -> Iterator[Point]:
        """Every point that meets the constraints, lazily, in the sweep's order."""
        names, checks, constants = self.parameters, self._checks, self._constants
        fixed = tuple((a, self.default(a)) for a in ("batch", "precision") if a not in names)
        explicit = list(dict.fromkeys(  # points that fill in to the same values run once
            tuple(dict(p).get(a, self.default(a)) for a in self.point_axes)
            for p in self.points)) or [()]
        ids, keys = _IdMaker(self.machine, names, fixed), self.network_keys
        for index, network in enumerate(self.network_names):
            for head in explicit:
                for tail in itertools.product(*(values for _, values in self.axes)):
                    values = head + tail
                    if checks:
                        env = {**constants, "network": network,
                               **dict(zip(names, values, strict=True))}
                        if not all(check(env) for check in checks):
                            continue
                    yield Point(ids(keys[index], values), index, values)

    def count(self) -> int:
        """How many points the sweep has (after constraints)."""
        if not self.constraints and not self.points:
            return self.grid_size
        return sum(1 for _ in self.iter_points())

    @cached_property
    def _label_plan(self) -> tuple[int | None, int | None, tuple[int, ...]]:
        where = {p: i for i, p in enumerate(self.parameters)}
        extra = tuple(i for i, p in enumerate(self.parameters) if p not in LABELS)
        return where.get("batch"), where.get("precision"), extra

    def labels(self, point: Point) -> tuple[Setting, ...]:
        """A point's columns after status and error: machine, network, batch, precision, then
        the other parameters (as `columns` orders them)."""
        batch, precision, extra = self._label_plan
        v = point.values
        return (self.machine, self.network_names[point.network],
                1 if batch is None else v[batch],
                self.default_precision if precision is None else v[precision],
                *(v[i] for i in extra))

    def to_dict(self) -> dict[str, object]:
        """The definition as plain values (a report's sweep.json)."""
        return {"name": self.name, "description": self.description, "machine": self.machine,
                "networks": list(self.networks), "axes": {a: list(v) for a, v in self.axes},
                "points": [dict(p) for p in self.points],
                "constraints": list(self.constraints)}
