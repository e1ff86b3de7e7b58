"""What every machine spec shares: checked overrides and one validator for its fields.

Every spec's `__post_init__` calls `check_spec`, which reads each field's type annotation:

- `int` (counts and sizes): a whole number ≥ 1. numpy integers and floats without a fraction
  (3.0, 141e9) are accepted and stored as `int`; 2.5, nan, inf, True and "3" are errors.
- `float` (rates, times, ratios): finite and > 0; ints and numpy floats are stored as `float`.
  Fields a spec lists in its `may_be_zero` class attribute (overheads whose absence is a
  meaningful what-if, such as `kernel_launch_s`) may also be 0.
- `bool` must be True or False; `str` must be a string (`name` a non-empty one).
- `tuple[tuple[str, float], ...]`: a table of named rates (a dict is accepted); names unique,
  each rate a finite positive number; stored as a tuple of pairs. A
  `tuple[tuple[Precision, float], ...]` is the same with precisions for names ('fp16' or
  Precision.FP16, stored as the enum),
  each rate a finite positive number; stored as a tuple of pairs.

Numbers must also lie in a physically sane range (`SANE_RANGES`, read from the unit in the
field's name; `FIELD_RANGES` for fields with a tighter bound): a model fed
`l2_bytes_per_s = 1e-299` or `clock_hz = 1e308` would hang or give infinite times, so such
values are refused with the range to use.

Numbers are checked by `accelsim.checks`, which also checks arguments outside specs (batch,
GEMM dimensions, array sizes), so every message has one shape, naming the owner, the field,
the value, the rule and the fix:
`gpu-h200: sm_count = 2.5 must be a positive integer (a count of SMs); use 2 or 3`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, ClassVar, Protocol, TypeVar, get_args, get_origin, get_type_hints

import numpy as np

from accelsim.checks import check_number
from accelsim.errors import PrecisionError, SpecError
from accelsim.precision import Precision
from accelsim.units import unit_of


class _NamedDataclass(Protocol):
    """A dataclass instance with a `name` field: what `replace_spec` needs of a spec."""
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def name(self) -> str: ...


class MachineSpec(Protocol):
    """What every machine spec gives beyond its own fields: a frozen dataclass with a name,
    where its numbers come from, its clock and its main memory's bandwidth (a GPU's HBM, a
    CPU's DRAM, the TPU's weight DDR3: the slope of the roofline)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def clock_hz(self) -> float: ...

    @property
    def memory_bytes_per_s(self) -> float: ...


class RatedSpec(MachineSpec, Protocol):
    """A spec that states its precisions and peak rates itself (CPUs and GPUs)."""

    @property
    def precisions(self) -> frozenset[Precision]: ...

    def peak_ops_per_s(self, precision: Precision) -> float: ...


Spec = TypeVar("Spec", bound=_NamedDataclass)
SpecValue = bool | int | float | str | tuple[tuple[str, float], ...] | Mapping[str, float]
"""What a spec field may be given as (a table of rates as pairs or a mapping)."""


def replace_spec(spec: Spec, overrides: Mapping[str, Any],
                 also: Iterable[str] = ()) -> Spec:
    """`dataclasses.replace`, naming any field the spec does not have (`also`: fields of the
    machine's other settings, offered as suggestions and listed)."""
    names = {f.name for f in dataclasses.fields(spec)} | set(also)
    unknown = sorted(set(overrides) - names)
    if unknown:
        hints = [m for u in unknown for m in difflib.get_close_matches(u, names, n=1)]
        advice = f"did you mean {', '.join(hints)}? " if hints else ""
        raise SpecError(f"{spec.name} has no spec field(s) {', '.join(unknown)}; {advice}"
                        f"fields: {', '.join(sorted(names))}")
    return dataclasses.replace(spec, **overrides) if overrides else spec


def _rate_name(name: object, keys: str, field: str, owner: str) -> str:
    """A rates table's name: any distinct string, or a `Precision` for a precision table."""
    if keys != "precision":
        return name if isinstance(name, str) else ""
    try:
        return Precision.parse(name) if isinstance(name, str) else ""
    except PrecisionError as err:
        raise SpecError(f"{owner}: {field}: {err}") from None


def _check_rates(value: object, field: str, owner: str,
                 keys: str = "name") -> tuple[tuple[str, float], ...]:
    items = list(value.items()) if isinstance(value, Mapping) else value
    try:
        if not isinstance(items, Iterable):
            raise TypeError(field)
        pairs = [(name, rate) for name, rate in items]
    except (TypeError, ValueError):
        raise SpecError(f"{owner}: {field} = {value!r} must be (name, rate) pairs or a dict "
                        "of rates, e.g. {'fp16': 4096}") from None
    pairs = [(_rate_name(name, keys, field, owner) or name, rate) for name, rate in pairs]
    names = [name for name, _ in pairs]
    for name in names:
        if not isinstance(name, str) or not name or names.count(name) > 1:
            raise SpecError(f"{owner}: {field} names {name!r}; each name must be a distinct, "
                            "non-empty string")
    checked = tuple((name, float(check_number(rate, f"{field}[{str(name)!r}]", owner=owner,
                                              meaning=unit_of(field).words, error=SpecError)))
                    for name, rate in pairs)
    for _name, rate in checked:
        _check_range(rate, field, "float", owner)
    return checked


@cache
def _field_kinds(cls: type) -> tuple[tuple[str, str], ...]:
    """(field, kind) for each field of a spec class, the kind read from its annotation."""
    hints = get_type_hints(cls)
    kinds = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if hint in (bool, int, float, str):
            kinds.append((f.name, hint.__name__))
        elif get_origin(hint) is tuple and get_args(hint)[:1] == (tuple[str, float],):
            kinds.append((f.name, "rates"))
        elif get_origin(hint) is tuple and get_args(hint)[:1] == (tuple[Precision, float],):
            kinds.append((f.name, "precision rates"))
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: check_spec cannot check {hint!r}")
    return tuple(kinds)


SANE_RANGES: dict[str, tuple[float, float, str]] = {
    # unit symbol read from a field's name → (lowest, highest, the range in words)
    "Hz": (1e3, 1e12, "1 kHz to 1 THz"),
    "B/s": (1e6, 1e16, "1 MB/s to 10 PB/s"),
    "B": (1, 2**50, "1 B to 1 PiB"),
    "s": (1e-15, 1e3, "1 fs to 1000 s"),
    "W": (1e-6, 1e6, "1 µW to 1 MW"),
    "int": (1, 1e6, "1 to 1,000,000"),  # counts without an SI unit (SMs, lanes, rows)
    "float": (1e-6, 1e9, "1e-06 to 1e+09"),  # cycles, ratios, efficiencies
}
FIELD_RANGES: dict[str, tuple[float, float, str]] = {
    # fields whose model cost grows with the value: the CPU model splits work per core
    "cores": (1, 4096, "1 to 4,096"),
    # a FIFO deeper than any program is the unbounded what-if (10**9); its cost is flat
    "weight_fifo_tiles": (1, 2**31, "1 to 2,147,483,648"),
}


def _check_range(value: float, name: str, kind: str, owner: str) -> None:
    """Refuse a number outside the sane range for its unit (0 passed the zero check)."""
    low, high, words = FIELD_RANGES.get(name) or SANE_RANGES.get(unit_of(name).symbol) \
        or SANE_RANGES[kind]
    if value != 0 and not low <= value <= high:
        raise SpecError(f"{owner}: {name} = {value!r} is outside the range the models can "
                        f"compute; use a value from {words}")


def _check_field(spec: object, name: str, kind: str, owner: str) -> object:
    value = getattr(spec, name)
    if kind in ("int", "float"):
        zero_ok = name in getattr(type(spec), "may_be_zero", ())
        number = check_number(value, name, owner=owner, integer=kind == "int",
                              zero_ok=zero_ok, error=SpecError)
        _check_range(number, name, kind, owner)
        return number
    if kind == "bool":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise SpecError(f"{owner}: {name} = {value!r} must be True or False")
    if kind == "str":
        if isinstance(value, str) and (value or name != "name"):
            return value
        raise SpecError(f"{owner}: {name} = {value!r} must be a{' non-empty' * (name == 'name')}"
                        " string")
    return _check_rates(value, name, owner, "precision" if kind == "precision rates" else "name")


def check_spec(spec: object) -> None:
    """Check and normalize every field of a frozen spec dataclass (see the module docstring);
    the first bad field raises `SpecError`."""
    name = getattr(spec, "name", "")
    cls: type = type(spec)  # as `type`: mypy does not see type[object] as Hashable
    owner = name if isinstance(name, str) and name else cls.__name__
    for field, kind in _field_kinds(cls):
        object.__setattr__(spec, field, _check_field(spec, field, kind, owner))
