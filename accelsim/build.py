"""Named machines, built for use (`accelsim.machine`): a preset with spec fields overridden by
keyword, and `cpu-host` from this host's saved calibration (`accelsim.measure.calibration`).

This is the one place where the pure presets (`accelsim.machines.presets`) meet the measured
host; scenarios, the engine, sweeps and validation all build machines through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.machines.presets import HOST, build, build_host
from accelsim.machines.specs import SpecValue

__all__ = ["HOST", "machine", "machine_with"]


def machine(name: str, /, calibration: str | Path | None = None,
            **overrides: SpecValue) -> Machine:
    """A machine preset with spec fields overridden by keyword; `cpu-host` comes from the
    host's saved calibration (`calibration=PATH`, else the per-user cache, else measured once
    and saved, with a note on stderr)."""
    return machine_with(name, overrides, calibration)


def machine_with(name: str, overrides: Mapping[str, SpecValue],
                 calibration: str | Path | None = None) -> Machine:
    """`machine` with the overrides as a mapping (a scenario's table, a sweep point's)."""
    if name == HOST:
        from accelsim.measure.calibration import host_spec  # measuring loads numba: on use

        return build_host(host_spec(None if calibration is None else Path(calibration)),
                          overrides)
    if calibration is not None:
        raise AccelsimError(f"calibration= applies to cpu-host only, not {name!r}")
    return build(name, **overrides)
