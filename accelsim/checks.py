"""Checked numbers: one validator and one message shape for spec fields and arguments alike.

`check_number` accepts an `int` (integer=True) or a `float` and returns it normalized: numpy
integers and floats without a fraction (3.0, 141e9) become `int` where a whole number is asked
for; ints and numpy floats become `float` otherwise. nan, inf, bools, strings ("1e9"), numbers
below 1 (a count) or not above 0 (a quantity; 0 allowed with zero_ok) and fractions where a
count is asked for are errors of one shape:

    {owner}: {field} = {value!r} must be {rule} ({unit}); {fix}
    gpu-h200: sm_count = 2.5 must be a positive integer (a count of SMs); use 2 or 3

The unit is read from the field's name (`accelsim.units.unit_of`: `clock_hz` → Hz). This module sits
below lowering and the machines, so both use it (machines/specs.py walks a spec's fields).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from accelsim.errors import AccelsimError, SpecError
from accelsim.units import unit_of


def _fix(value: object, integer: bool, zero_ok: bool) -> str | None:
    """Why `value` is not an acceptable number, as the fix to make; None when it is."""
    if isinstance(value, bool | np.bool_):
        return "True and False are not numbers; give a number"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return "give a number"
        return f"write it as a number, without quotes: {value}"
    if not isinstance(value, int | float | np.integer | np.floating):
        return f"give a number, not a {type(value).__name__}"
    try:
        number = float(value)
    except OverflowError:
        return "use a finite value"
    if math.isnan(number):
        return "nan is not a number; give a value"
    if math.isinf(number):
        return "use a finite value"
    if number < 0 or (number == 0 and not zero_ok):
        floor = "0 or more" if zero_ok else "1 or more" if integer else "a value above 0"
        return f"use {floor}"
    if integer and not number.is_integer():
        low = math.floor(number)
        return f"use {low} or {low + 1}" if low >= 1 else "use 1"
    return None


def check_number(value: object, field: str, *, owner: str = "", integer: bool = False,
                 zero_ok: bool = False, meaning: str | None = None,
                 error: type[AccelsimError] = AccelsimError) -> int | float:
    """`value` as an `int` (integer=True) or a `float`, or an error in the one message shape;
    `meaning` defaults to the unit read from the field's name."""
    fix = _fix(value, integer, zero_ok)
    # _fix returns None only for these types; the isinstance narrows `value` for int()/float()
    if fix is None and isinstance(value, int | float | np.integer | np.floating):
        return int(value) if integer else float(value)
    if integer:
        rule = "a whole number ≥ 0" if zero_ok else "a positive integer"
    else:
        rule = "a finite number ≥ 0" if zero_ok else "a finite positive number"
    meaning = unit_of(field).words if meaning is None else meaning
    raise error(f"{owner + ': ' if owner else ''}{field} = {value!r} must be {rule}"
                f"{f' ({meaning})' if meaning else ''}; {fix}")


def check_count(value: object, field: str, *, owner: str = "", meaning: str | None = None,
                error: type[AccelsimError] = AccelsimError) -> int:
    """A whole number ≥ 1 (batch, a GEMM dimension, an array size) as an `int`."""
    return int(check_number(value, field, owner=owner, integer=True, meaning=meaning,
                            error=error))


def check_choice(value: object, field: str, choices: Iterable[str], *, owner: str = "",
                 error: type[AccelsimError] = SpecError) -> str:
    """One of `choices`, in the same message shape."""
    options = tuple(choices)
    if isinstance(value, str) and value in options:
        return value
    raise error(f"{owner + ': ' if owner else ''}{field} = {value!r} must be one of "
                f"{', '.join(repr(o) for o in options)}")
