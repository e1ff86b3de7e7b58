"""`accelsim validate MACHINE`: a machine model against real measurements of that machine."""

from __future__ import annotations

from typing import Any

from accelsim.errors import AccelsimError
from accelsim.machines.presets import build

VALIDATORS = ("gpu-h200", "cpu-host")


def validate_machine(name: str) -> Any:
    """The validation report of a machine that has reference measurements."""
    if name == "gpu-h200":
        from accelsim.machines.gpu.validate import validate

        return validate(build(name))
    if name == "cpu-host":
        from accelsim.machines.cpu.validate import validate as validate_cpu

        return validate_cpu(build(name))
    raise AccelsimError(f"no reference measurements for {name!r}; validate one of "
                        f"{', '.join(VALIDATORS)}")
