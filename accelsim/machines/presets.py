"""Named machines. Each preset is data: a factory and the spec values it is built from.

Machine families register their presets here as they are implemented; `accelsim.presets()`
lists exactly what can be built, nothing more. `cpu-host` is the one preset whose spec is
measured rather than written down: `build` takes that spec as data (`host_spec`), which
`accelsim.measure` produces (calibrated once, saved, reused), so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import CPUSpec

Factory = Callable[..., Machine]


def _tpu_v1(**overrides: Any) -> Machine:
    from accelsim.machines.tpu.core import tpu_v1

    return tpu_v1(**overrides)


def _gpu(name: str) -> Factory:
    def build_gpu(**overrides: Any) -> Machine:
        from accelsim.machines.gpu.core import gpu_preset

        return gpu_preset(name, **overrides)

    return build_gpu


def _cpu(name: str) -> Factory:
    def build_cpu(**overrides: Any) -> Machine:
        from accelsim.machines.cpu.core import cpu_preset

        return cpu_preset(name, **overrides)

    return build_cpu


PRESETS: dict[str, Factory] = {
    "tpu-v1": _tpu_v1,
    **{name: _gpu(name) for name in ("gpu-h200", "gpu-h100", "gpu-v100", "gpu-k80",
                                     "gpu-8800gtx")},
    **{name: _cpu(name) for name in ("cpu-haswell-e5-2699v3", "cpu-skylake-8180",
                                     "cpu-book-2006", "cpu-book-2017")},
}
HOST = "cpu-host"


def preset_names() -> list[str]:
    return sorted([*PRESETS, HOST])


def build(name: str, /, host_spec: CPUSpec | None = None, **overrides: Any) -> Machine:
    """Build a preset, replacing spec fields by keyword (e.g. array_rows=32); `cpu-host`
    needs its measured spec (`accelsim.machine("cpu-host")` measures or loads it)."""
    if name == HOST:
        if host_spec is None:
            raise AccelsimError("cpu-host is measured, not written down: build it with "
                                "accelsim.machine('cpu-host'), which loads the host's saved "
                                "calibration (or measures it once)")
        return CPU(host_spec.replace(**overrides))
    if name not in PRESETS:
        known = ", ".join(preset_names())
        hint = get_close_matches(str(name), preset_names(), n=1)
        advice = f"did you mean {hint[0]!r}? " if hint else ""
        raise AccelsimError(f"unknown machine {name!r}; {advice}presets: {known}")
    return PRESETS[name](**overrides)
