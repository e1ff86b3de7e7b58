"""What every machine spec shares: checked overrides and positive sizes."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from accelsim.errors import AccelsimError

Spec = TypeVar("Spec")


def replace_spec(spec: Spec, overrides: dict[str, Any]) -> Spec:
    """`dataclasses.replace`, naming any field the spec does not have."""
    names = {f.name for f in dataclasses.fields(spec)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise AccelsimError(f"{spec.name} has no spec field(s) {', '.join(unknown)}; "
                            f"fields: {', '.join(sorted(names))}")
    return dataclasses.replace(spec, **overrides)


def check_positive(spec: Any) -> None:
    """Every int and float field must be a positive number (not a bool)."""
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.type in ("int", "float") and (isinstance(value, bool)
                                           or not isinstance(value, int | float) or value <= 0):
            raise AccelsimError(f"{spec.name}: {f.name} = {value!r} must be positive")
