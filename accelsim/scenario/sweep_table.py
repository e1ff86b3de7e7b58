"""A scenario's [sweep] table: a design-space sweep of one machine preset (`accelsim.sweep`),
run by `accelsim sweep SCENARIO` (or `accelsim.sweep.run_sweep(scenario)`).

    [sweep]          machine (required: one preset), networks (default: run.networks),
                     mode ("grid", the default: every combination of the axes; "points":
                     the [[sweep.points]], each crossed with the grid of any axes),
                     constraints (comparisons a point must meet, `accelsim.scenario.constraints`:
                     ["tpu.array_rows == tpu.array_cols", "batch <= 256"])
    [sweep.axes]     one key per axis: a spec field of the machine as "<family>.<field>"
                     (tpu.array_rows, tpu.ddr_bytes_per_s, gpu.sm_count, cpu.cores; a dotted
                     TOML key, or quoted), or batch, precision, seq_len. Each a list of
                     values, or a range { start, stop, num = N or step = S, scale = "linear"
                     | "log", integer = true }: num values evenly spaced, or every step
                     from start (a factor on a log scale: step = 2 doubles); integer fields
                     are rounded to whole numbers (repeats dropped)
    [[sweep.points]] explicit points, one table each: axis = value (an axis a point leaves
                     out keeps the preset's value)

A scenario with [sweep] may leave out [[machines]] and [run] (both, not one). Every mistake
is a `ScenarioError` naming the key path, before anything runs: an unknown axis with a
did-you-mean (`sweep.axes: 'tpu.array_row' is not an axis of a tpu-v1 sweep; did you mean
'tpu.array_rows'?`), a field of another family, a value the spec refuses on its own
(`sweep.axes.tpu.array_rows[0]`: array_rows = 0 must be a positive integer), a precision the
machine lacks, a constraint naming an unknown axis. Values that fail only together (a batch
too large for the Unified Buffer of a small array) are the sweep's to record, point by point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from accelsim.errors import AccelsimError
from accelsim.machines.presets import preset_names
from accelsim.machines.specs import replace_spec
from accelsim.scenario.axes import (
    AxisValue,
    Range,
    axis_value,
    base_machine,
    check_axis,
    setting_holding,
    value_kind,
)
from accelsim.scenario.checks import Doc
from accelsim.scenario.choices import NetworkChoice
from accelsim.scenario.constraints import compile_constraint
from accelsim.scenario.space import Sweep, constraint_names
from accelsim.scenario.study import NetworkReader

SWEEP_KEYS = ("machine", "networks", "mode", "axes", "points", "constraints")
RANGE_KEYS = ("start", "stop", "num", "step", "scale", "integer")
MODES = ("grid", "points")
FAMILIES = ("tpu", "gpu", "cpu")


def _flat(table: Mapping[str, object], key: str) -> list[tuple[str, str, object]]:
    """(axis, key path, value) for each entry; a dotted TOML key (tpu.array_rows = [...])
    arrives as a family table, which is opened here."""
    out = []
    for name, value in table.items():
        if name in FAMILIES and isinstance(value, dict):
            out += [(f"{name}.{field}", f"{key}.{name}.{field}", v) for field, v in value.items()]
        else:
            out.append((str(name), f"{key}.{name}", value))
    return out


def _axis(machine: str, name: str, key: str, d: Doc) -> str:
    try:
        return check_axis(machine, name)
    except AccelsimError as err:
        raise d.wrap(key, err) from None


def _value(machine: str, axis: str, value: object, key: str, d: Doc) -> AxisValue:
    """One value, as the axis holds it, checked alone: by the spec for a spec field, as a
    count for batch and seq_len, against the machine's precisions."""
    if axis in ("batch", "seq_len"):
        return d.count(value, key)
    try:
        checked = axis_value(machine, axis, value)
    except AccelsimError as err:
        raise d.wrap(key, err) from None
    base = base_machine(machine)
    if axis == "precision":
        runs = sorted(p.value for p in base.precisions)
        if checked not in runs:
            raise d.bad(key, value, f"is not a precision {machine} runs",
                        f"choose from {', '.join(runs)}")
        return checked
    try:
        field = axis.partition(".")[2]
        replace_spec(setting_holding(machine, field), {field: checked})
    except AccelsimError as err:
        raise d.wrap(key, err) from None
    return checked


def _range(machine: str, axis: str, table: dict[str, object], key: str,
           d: Doc) -> list[float | int]:
    d.keys(table, "sweep.range", f"{key}.")
    for field in ("start", "stop"):
        if field not in table:
            raise d.missing(f"{key}.{field}", "a range needs start and stop, and num or step, "
                            "e.g. { start = 8, stop = 512, num = 7, scale = \"log\" }")
    integer = d.flag(table.get("integer", False), f"{key}.integer")
    try:
        values = Range.of({**table, "integer": integer or value_kind(machine, axis) == "int"})
        return list(values.values())
    except AccelsimError as err:
        raise d.wrap(key, err) from None


def _values(machine: str, axis: str, value: object, key: str,
            d: Doc) -> tuple[AxisValue, ...]:
    items: list[tuple[str, object]]
    if isinstance(value, dict):
        items = [(key, v) for v in _range(machine, axis, value, key, d)]
    elif isinstance(value, list):
        items = d.items(value, key, f"{axis} = [...]")
    else:
        raise d.bad(key, value, "must be a list of values or a range table",
                    'e.g. [8, 16, 32] or { start = 8, stop = 512, num = 7, scale = "log" }')
    return d.distinct(items, lambda item, where: _value(machine, axis, item, where, d))


def _axes(table: Mapping[str, object], machine: str,
          d: Doc) -> tuple[tuple[str, tuple[AxisValue, ...]], ...]:
    value = table.get("axes", {})
    if not isinstance(value, dict):
        raise d.bad("sweep.axes", value, "must be a table", "write a [sweep.axes] section "
                    "with one key per axis, e.g. tpu.array_rows = [8, 16, 32]")
    return tuple((axis, _values(machine, axis, v, where, d))
                 for axis, where, v in ((_axis(machine, n, k, d), k, v)
                                        for n, k, v in _flat(value, "sweep.axes")))


def _point(item: object, key: str, machine: str, d: Doc) -> tuple[tuple[str, AxisValue], ...]:
    if not isinstance(item, dict) or not item:
        raise d.bad(key, item, "must be a table of axis = value",
                    "e.g. [[sweep.points]] tpu.array_rows = 512")
    return tuple((axis, _value(machine, axis, v, k, d))
                 for axis, k, v in ((_axis(machine, n, k, d), k, v)
                                    for n, k, v in _flat(item, key)))


def _points(table: Mapping[str, object], machine: str,
            d: Doc) -> tuple[tuple[tuple[str, AxisValue], ...], ...]:
    value = table.get("points", [])
    if not isinstance(value, list):
        raise d.bad("sweep.points", value, "must be a list of tables",
                    "write [[sweep.points]] (double brackets), one table per point")
    return tuple(_point(item, f"sweep.points[{i}]", machine, d)
                 for i, item in enumerate(value))


def _mode(table: Mapping[str, object], axes: Sequence[object], points: Sequence[object],
          d: Doc) -> None:
    mode = d.text(table.get("mode", "points" if points else "grid"), "sweep.mode", '"grid"')
    if mode not in MODES:
        raise d.unknown("sweep.mode", mode, MODES, "sweep mode")
    if mode == "grid" and points:
        raise d.bad("sweep.mode", mode, "but [[sweep.points]] lists points",
                    'set mode = "points" (each point is crossed with the grid of any axes)')
    if mode == "points" and not points:
        raise d.missing("sweep.points", "mode = \"points\" needs [[sweep.points]] tables, "
                        "e.g. tpu.array_rows = 512")
    if not axes and not points:
        raise d.missing("sweep.axes", "add a [sweep.axes] table, e.g. tpu.array_rows = "
                        "[8, 16, 32]")


def _constraints(table: Mapping[str, object], machine: str, parameters: Sequence[str],
                 d: Doc) -> tuple[str, ...]:
    value = table.get("constraints", [])
    if value == []:
        return ()
    kinds = constraint_names(machine, parameters)
    chosen = []
    for key, item in d.items(value, "sweep.constraints", 'constraints = ["batch <= 256"]'):
        try:
            compile_constraint(item, kinds)
        except AccelsimError as err:
            raise d.wrap(key, err) from None
        chosen.append(str(item))  # compiled: a string
    return tuple(chosen)


def _networks(table: Mapping[str, object], d: Doc, run: Sequence[NetworkChoice],
              read: NetworkReader) -> tuple[str, ...]:
    if "networks" not in table:
        if not run:
            raise d.missing("sweep.networks", 'add networks = ["lenet5"] (or a [run] table, '
                            "whose networks it defaults to)")
        return tuple(c.spec for c in run)
    found: list[NetworkChoice] = []
    for key, item in d.items(table["networks"], "sweep.networks", 'networks = ["lenet5"]'):
        choice = read(item, key, "none")
        if choice.loaded().name in [c.loaded().name for c in found]:
            raise d.bad(key, item, f"repeats the network {choice.loaded().name!r}",
                        "remove the repeat")
        found.append(choice)
    return tuple(c.spec for c in found)


def parse_sweep(doc: Mapping[str, object], d: Doc, run: Sequence[NetworkChoice],
                read: NetworkReader, name: str, description: str) -> Sweep | None:
    """The [sweep] table of a scenario document (None without one); `run` holds
    run.networks, `read` turns a network entry into a loaded `NetworkChoice`."""
    if "sweep" not in doc:
        return None
    table = d.table(doc, "sweep")
    if "machine" not in table:
        raise d.missing("sweep.machine", f'add machine = "tpu-v1" (presets: '
                        f"{', '.join(preset_names())})")
    machine = d.text(table["machine"], "sweep.machine", '"tpu-v1"')
    if machine not in preset_names():
        raise d.unknown("sweep.machine", machine, preset_names(), "machine preset")
    networks = _networks(table, d, run, read)
    axes, points = _axes(table, machine, d), _points(table, machine, d)
    _mode(table, axes, points, d)
    parameters = [*dict.fromkeys(k for p in points for k, _ in p), *(a for a, _ in axes)]
    constraints = _constraints(table, machine, parameters, d)
    try:
        return Sweep(machine, networks, axes, points, constraints, name, description)
    except AccelsimError as err:
        raise d.wrap("sweep", err) from None

