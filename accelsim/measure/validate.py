"""`accelsim validate MACHINE`: a machine model against real measurements of that machine
(the H200's recorded file, this host live, or a recorded CPU host replayed with its spec)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accelsim.engine import machine
from accelsim.errors import AccelsimError
from accelsim.machines.cpu.core import CPU
from accelsim.machines.gpu.core import GPU
from accelsim.measure import cpu_gemms, gpu_h200, recorded

LIVE: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "gpu-h200": (GPU, gpu_h200.validate), "cpu-host": (CPU, cpu_gemms.validate)}


def names() -> list[str]:
    """What can be validated: the machines with measurements, and the recorded CPU hosts."""
    return [*LIVE, *(n.removesuffix(".json") for n in recorded.recorded_hosts())]


def validate_machine(name: str) -> Any:
    """The validation report of a machine that has reference measurements."""
    if f"{name}.json" in recorded.recorded_hosts():
        return recorded.replay(f"{name}.json")
    if name not in LIVE:
        raise AccelsimError(f"no reference measurements for {name!r}; validate one of "
                            f"{', '.join(names())}")
    model, validate = LIVE[name]
    built = machine(name)
    if not isinstance(built, model):
        raise AccelsimError(f"{name!r} builds a {type(built).__name__}, not the "
                            f"{model.__name__} model its measurements are for")
    return validate(built)
