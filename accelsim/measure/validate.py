"""`accelsim validate MACHINE`: a machine model against real measurements of that machine
(the H200's recorded file, this host live, or a recorded CPU host replayed with its spec)."""

from __future__ import annotations

from typing import Any

from accelsim.engine import machine
from accelsim.errors import AccelsimError

VALIDATORS = ("gpu-h200", "cpu-host")


def validate_machine(name: str) -> Any:
    """The validation report of a machine that has reference measurements."""
    if name == "gpu-h200":
        from accelsim.measure.gpu_h200 import validate

        return validate(machine(name))
    if name == "cpu-host":
        from accelsim.measure.cpu_gemms import validate as validate_cpu

        return validate_cpu(machine(name))
    raise AccelsimError(f"no reference measurements for {name!r}; validate one of "
                        f"{', '.join(VALIDATORS)}")
