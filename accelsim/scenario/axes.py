"""A sweep's axes: which names a sweep of a machine preset may vary, and their values.

Axes are named as a scenario's `[sweep.axes]` names them:

- `"<family>.<field>"`: a spec field of the machine, the family its preset's (`tpu.array_rows`,
  `tpu.ddr_bytes_per_s` on tpu-v1; `gpu.sm_count` on a GPU preset; `cpu.cores` on a CPU one).
  Any field holding one number, flag or text; not `name`, `source` or a table of rates.
- `batch`, `precision`, `seq_len`: the run's parameters (`Machine.run`'s keywords).

Values are a list, or a `Range` (start, stop, and num or step, on a linear or log scale;
rounded to whole numbers for integer fields). Type checks happen here (a whole number for an
integer field, a precision's name); whether a value suits the spec (array_rows = 0) is the
spec's to say, at the point that uses it. A name that is not an axis gets a did-you-mean.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from functools import cache
from typing import Any, get_type_hints

import numpy as np

from accelsim.build import machine as build_machine
from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.precision import Precision

AxisValue = bool | int | float | str
"""One value of an axis: a spec field's number, flag or text, a batch, a precision's name."""
RUN_PARAMETERS = ("batch", "precision", "seq_len")
UNSWEPT = ("name", "source")  # labels, not model inputs
SCALES = ("linear", "log")
MAX_RANGE = 10**6  # values one range may give


@cache
def base_machine(preset: str) -> Machine:
    """The preset as `accelsim.machine(preset)` builds it, with no overrides (cpu-host from
    this host's saved calibration): the spec every point starts from, its fields' values
    (which unswept axes and constraints read) and precisions."""
    return build_machine(preset)


def family_of(preset: str) -> str:
    """'tpu', 'gpu' or 'cpu': the first word of the preset's name."""
    return preset.split("-")[0]


@cache
def field_kinds(preset: str) -> dict[str, str]:
    """Each field of the preset's settings (its spec; a GPU's runtime too): 'int', 'float',
    'bool', 'str' or 'table' (of rates)."""
    kinds: dict[str, str] = {}
    for setting in base_machine(preset).settings():
        hints = get_type_hints(type(setting))
        kinds.update({f.name: hints[f.name].__name__ if hints[f.name] in (int, float, bool, str)
                      else "table" for f in dataclasses.fields(setting)
                      if f.name not in UNSWEPT})
    return kinds


def setting_holding(preset: str, field: str) -> Any:
    """The preset's setting (spec or runtime) that has `field`."""
    return next(s for s in base_machine(preset).settings()
                if field in {f.name for f in dataclasses.fields(s)})


def axis_choices(preset: str) -> list[str]:
    """Every axis a sweep of `preset` may have."""
    family = family_of(preset)
    return [*(f"{family}.{f}" for f, k in field_kinds(preset).items() if k != "table"),
            *RUN_PARAMETERS]


def check_axis(preset: str, name: object) -> str:
    """`name`, if it is an axis of a `preset` sweep; else an error with a did-you-mean."""
    text = str(name)
    if text in RUN_PARAMETERS:
        return text
    family, dot, field = text.partition(".")
    kinds, own = field_kinds(preset), family_of(preset)
    if dot and family == own and kinds.get(field) not in (None, "table"):
        return text
    choices = axis_choices(preset)
    if dot and family in ("tpu", "gpu", "cpu") and family != own:
        problem = f"is a {family} field, but {preset} is a {own}: its axes are {own}.<field>"
    elif dot and family == own and field in kinds:
        problem = "is a table of rates, not one value, and cannot be an axis"
    else:
        problem = f"is not an axis of a {preset} sweep"
    hint = get_close_matches(text, choices, n=1) or get_close_matches(f"{own}.{text}", choices,
                                                                      n=1)
    advice = f"did you mean {hint[0]!r}? " if hint else ""
    raise AccelsimError(f"{text!r} {problem}; {advice}axes: {', '.join(choices)}")


def value_kind(preset: str, axis: str) -> str:
    if axis in ("batch", "seq_len"):
        return "int"
    if axis == "precision":
        return "precision"
    return field_kinds(preset)[axis.partition(".")[2]]


def axis_value(preset: str, axis: str, value: object) -> AxisValue:
    """`value` as the axis holds it (a whole number for an integer field, a float for a rate,
    a precision's name), or an error saying what it must be."""
    kind = value_kind(preset, axis)
    if kind == "precision":
        if not isinstance(value, str | Precision):
            raise AccelsimError(f"{axis} = {value!r} must be a precision's name, e.g. 'int8'")
        return Precision.parse(value).value
    if kind in ("bool", "str"):
        if isinstance(value, bool if kind == "bool" else str):
            return value
        raise AccelsimError(f"{axis} = {value!r} must be "
                            f"{'true or false' if kind == 'bool' else 'text'}")
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise AccelsimError(f"{axis} = {value!r} must be a number")
    if kind == "float":
        return float(value)
    if isinstance(value, float | np.floating) and not float(value).is_integer():
        raise AccelsimError(f"{axis} = {value!r} must be a whole number")
    return int(value)


@dataclass(frozen=True)
class Range:
    """Values from `start` to `stop` (both included when the steps land on it): `num` of them
    evenly spaced, or every `step` from start (an increment on a linear scale, a factor on a
    log scale: step = 2 doubles); `integer` rounds each to a whole number (repeats dropped)."""

    start: float
    stop: float
    num: int | None = None
    step: float | None = None
    scale: str = "linear"
    integer: bool = False

    @classmethod
    def of(cls, table: Mapping[str, object]) -> Range:
        """A range from its keywords as a scenario's table gives them; each value is checked
        by the range itself (`values`), whatever its type."""
        return cls(**table)  # type: ignore[arg-type]  # checked in _check and _count

    def _check(self) -> None:
        for name in ("start", "stop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value):
                raise AccelsimError(f"range {name} = {value!r} must be a finite number")
        if self.scale not in SCALES:
            raise AccelsimError(f"range scale = {self.scale!r} must be 'linear' or 'log'")
        if (self.num is None) == (self.step is None):
            raise AccelsimError("a range takes num (how many values) or step (the spacing), "
                                "one of the two, e.g. { start = 8, stop = 512, num = 7 }")
        if self.stop < self.start or (self.scale == "log" and self.start <= 0):
            low = "0 < start ≤ stop" if self.scale == "log" else "start ≤ stop"
            raise AccelsimError(f"range start = {self.start!r}, stop = {self.stop!r}: a "
                                f"{self.scale} range needs {low}")

    def _count(self) -> int:
        if self.num is not None:
            if isinstance(self.num, bool) or not isinstance(self.num, int) or self.num < 1:
                raise AccelsimError(f"range num = {self.num!r} must be a positive integer")
            return self.num
        step = self.step
        least = 1 if self.scale == "log" else 0
        if isinstance(step, bool) or not isinstance(step, int | float) \
                or not math.isfinite(step) or step <= least:
            raise AccelsimError(f"range step = {step!r} must be a finite number above {least}"
                                f"{' (a factor)' if self.scale == 'log' else ''}")
        span = (math.log(self.stop / self.start) / math.log(step) if self.scale == "log"
                else (self.stop - self.start) / step)
        if not span < MAX_RANGE:  # inf too: its count cannot be taken
            raise AccelsimError(f"range start = {self.start!r}, stop = {self.stop!r}, step = "
                                f"{step!r} gives more than {MAX_RANGE:,} values; at most "
                                f"{MAX_RANGE:,}: use a larger step or num")
        return math.floor(span * (1 + 1e-12) + 1e-9) + 1

    def _spaced(self, count: int) -> list[float]:
        """`count` values from start, evenly spaced (by ratio on a log scale)."""
        log, a, b = self.scale == "log", self.start, self.stop
        if self.step is not None:
            return [a * self.step**i if log else a + i * self.step for i in range(count)]
        if count == 1:
            return [a]
        return [a * (b / a) ** (i / (count - 1)) if log
                else a + (b - a) * i / (count - 1) for i in range(count - 1)] + [b]

    def values(self) -> tuple[float | int, ...]:
        """The range's values, in order."""
        self._check()
        count = self._count()
        if count > MAX_RANGE:
            raise AccelsimError(f"the range gives {count:,} values; at most {MAX_RANGE:,}: "
                                "use a smaller num or a larger step")
        try:
            out = self._spaced(count)
        except OverflowError:
            out = [math.inf]
        if not all(math.isfinite(v) for v in out):
            raise AccelsimError(f"range start = {self.start!r}, stop = {self.stop!r}: its "
                                "values overflow a float; keep start and stop within ±1e307")
        if self.integer:
            return tuple(dict.fromkeys(round(v) for v in out))
        return tuple(float(v) for v in out)


AxisValues = Sequence[object] | Range | Mapping[str, object]


def axis_values(preset: str, axis: str, given: AxisValues) -> tuple[AxisValue, ...]:
    """An axis's values, checked: a list or a Range (or a Range's keywords as a mapping)."""
    if isinstance(given, Mapping):
        unknown = set(given) - {f.name for f in dataclasses.fields(Range)}
        if unknown:
            raise AccelsimError(f"{axis}: a range takes start, stop, num or step, scale and "
                                f"integer, not {', '.join(sorted(map(str, unknown)))}")
        given = Range.of(given)
    if isinstance(given, Range):
        integer = value_kind(preset, axis) == "int"
        given = dataclasses.replace(given, integer=given.integer or integer).values()
    if isinstance(given, str | bytes) or not isinstance(given, Sequence) or not given:
        raise AccelsimError(f"{axis}: give a non-empty list of values or a range, e.g. "
                            "[8, 16, 32] or { start = 8, stop = 512, num = 7, scale = 'log' }")
    values = tuple(axis_value(preset, axis, v) for v in given)
    seen: set[AxisValue] = set()
    for value in values:
        if value in seen:
            raise AccelsimError(f"{axis}: {value!r} is listed twice; remove the repeat")
        seen.add(value)
    return values
