"""Named machines. Each preset is data: a factory and the spec values it is built from.

Machine families register their presets here as they are implemented; `accelsim.presets()`
lists exactly what can be built, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine

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
    **{name: _cpu(name) for name in ("cpu-host", "cpu-haswell-e5-2699v3", "cpu-skylake-8180",
                                     "cpu-book-2006", "cpu-book-2017")},
}


def preset_names() -> list[str]:
    return sorted(PRESETS)


def build(name: str, /, **overrides: Any) -> Machine:
    """Build a preset, replacing spec fields by keyword (e.g. array_rows=32)."""
    if name not in PRESETS:
        known = ", ".join(preset_names()) or "none are implemented yet"
        raise AccelsimError(f"unknown machine {name!r}; presets: {known}")
    return PRESETS[name](**overrides)
