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
        from accelsim.machines.gpu.core import GPU
        from accelsim.measure.gpu_h200 import validate

        gpu = machine(name)
        if not isinstance(gpu, GPU):
            raise AccelsimError(f"{name!r} builds a {type(gpu).__name__}, not the GPU model its "
                                "measurements are for")
        return validate(gpu)
    if name == "cpu-host":
        from accelsim.machines.cpu.core import CPU
        from accelsim.measure.cpu_gemms import validate as validate_cpu

        cpu = machine(name)
        if not isinstance(cpu, CPU):
            raise AccelsimError(f"{name!r} builds a {type(cpu).__name__}, not the CPU model its "
                                "measurements are for")
        return validate_cpu(cpu)
    raise AccelsimError(f"no reference measurements for {name!r}; validate one of "
                        f"{', '.join(VALIDATORS)}")
