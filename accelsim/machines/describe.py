"""A machine as text: its spec field by field, its peak rate per precision, and the source
its numbers come from (`accelsim show PRESET`)."""

from __future__ import annotations

import dataclasses

from accelsim.machines.base import Machine
from accelsim.precision import Precision


def _value(value: object) -> str:
    if isinstance(value, tuple):  # a table of rates: name rate, name rate
        return ", ".join(f"{name} {_value(rate)}" for name, rate in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.6g}"


def describe(machine: Machine) -> str:
    """Spec fields (units are in their names), then any other setting's (a GPU's runtime),
    peaks per precision (FLOPS for floats, OPS for int8: never added together) and the
    spec's source."""
    spec = machine.spec
    settings = [(s, [f for f in dataclasses.fields(s) if f.name not in ("name", "source")])
                for s in machine.settings()]
    width = max(len(f.name) for _, fields in settings for f in fields)
    lines = [f"{machine.name} ({type(machine).__name__})"]
    for setting, fields in settings:
        if setting is not spec:
            lines.append(f"  software ({setting.name}):")
        lines += [f"  {f.name:<{width}}  {_value(getattr(setting, f.name))}" for f in fields]
    lines.append("  peak:")
    for p in Precision:
        if p in machine.precisions:
            lines.append(f"    {p.value:<5} {machine.peak_ops_per_s(p) / 1e12:,.3f} "
                         f"T{p.ops_unit}/s")
    lines.append(f"  source: {spec.source}")
    return "\n".join(lines)
