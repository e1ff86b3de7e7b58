"""Named machines. Each preset is data: a factory and the spec values it is built from.

Machine families register their presets here as they are implemented; `accelsim.presets()`
lists exactly what can be built, nothing more. `cpu-host` is the one preset whose spec is
measured rather than written down: `build` takes that spec as data (`host_spec`), which
`accelsim.measure` produces (calibrated once, saved, reused), so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from difflib import get_close_matches

from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.machines.specs import SpecValue

Factory = Callable[..., Machine]


def _tpu_v1(**overrides: SpecValue) -> Machine:
    from accelsim.machines.tpu.core import tpu_v1

    return tpu_v1(**overrides)


def _gpu(name: str) -> Factory:
    def build_gpu(**overrides: SpecValue) -> Machine:
        from accelsim.machines.gpu.core import gpu_preset

        return gpu_preset(name, **overrides)

    return build_gpu


def _cpu(name: str) -> Factory:
    def build_cpu(**overrides: SpecValue) -> Machine:
        from accelsim.machines.cpu.core import cpu_preset

        return cpu_preset(name, **overrides)

    return build_cpu


PRESETS: dict[str, Factory] = {
    "tpu-v1": _tpu_v1,
    **{name: _gpu(name) for name in ("gpu-h200", "gpu-h100", "gpu-a100", "gpu-v100",
                                     "gpu-t4", "gpu-p100", "gpu-k80", "gpu-8800gtx")},
    **{name: _cpu(name) for name in ("cpu-haswell-e5-2699v3", "cpu-skylake-8180",
                                     "cpu-book-2006", "cpu-book-2017")},
}
HOST = "cpu-host"


def preset_names() -> list[str]:
    return sorted([*PRESETS, HOST])


def build(name: str, /, **overrides: SpecValue) -> Machine:
    """Build a preset, replacing spec fields by keyword (e.g. array_rows=32). `cpu-host`
    is measured, not written down: `build_host` takes its spec."""
    if name == HOST:
        raise AccelsimError("cpu-host is measured, not written down: build it with "
                            "accelsim.machine('cpu-host'), which loads the host's saved "
                            "calibration (or measures it once)")
    if name not in PRESETS:
        known = ", ".join(preset_names())
        hint = get_close_matches(str(name), preset_names(), n=1)
        advice = f"did you mean {hint[0]!r}? " if hint else ""
        raise AccelsimError(f"unknown machine {name!r}; {advice}presets: {known}")
    return PRESETS[name](**overrides)


def build_host(host_spec: CPUSpec, overrides: Mapping[str, SpecValue]) -> Machine:
    """`cpu-host` from its measured spec (`accelsim.measure`), with spec fields replaced."""
    return CPU(host_spec.replace(**overrides))
