"""`accelsim validate MACHINE [--networks | --layers | --deepbench]`: a machine model against
real measurements of that machine (a GPU's recorded files, this host live, or a recorded CPU
host replayed with its spec): kernels (GEMMs) by default, whole networks with
`networks=True`, single PyTorch layers with `layers=True` (cpu_layers.py: a recorded host's
layer rows, or this host's held-out cases timed live), and for the GPU DeepBench was measured
on (`gpu-v100`) every DeepBench family with `deepbench=True` (deepbench.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from accelsim.build import machine
from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.machines.cpu.core import CPU
from accelsim.machines.gpu.core import GPU
from accelsim.measure import recorded
from accelsim.validation import cpu_gemms, cpu_layers, cpu_networks, deepbench, gpu_recorded

M = TypeVar("M", bound=Machine)


class Report(Protocol):
    """What every validation report gives: its comparison as text."""

    def text(self) -> str: ...


def _checked(model: type[M], check: Callable[[M], Report]) -> Callable[[Machine], Report]:
    """`check` of a machine that must be of the `model` its measurements are for."""
    def run(built: Machine) -> Report:
        if not isinstance(built, model):
            raise AccelsimError(f"{built.name!r} builds a {type(built).__name__}, not the "
                                f"{model.__name__} model its measurements are for")
        return check(built)

    return run


LIVE: dict[str, Callable[[Machine], Report]] = {
    **{gpu: _checked(GPU, gpu_recorded.validate) for gpu in gpu_recorded.recorded_gpus()},
    "cpu-host": _checked(CPU, cpu_gemms.validate)}
NETWORKS: dict[str, Callable[[Machine], Report]] = {
    **{gpu: _checked(GPU, gpu_recorded.network_report) for gpu in gpu_recorded.recorded_gpus()},
    "cpu-host": _checked(CPU, cpu_networks.live_report)}


def names() -> list[str]:
    """What can be validated: the machines with measurements, and the recorded CPU hosts."""
    files = dict.fromkeys([*recorded.recorded_hosts(), *recorded.layer_hosts()])
    return [*LIVE, *(n.removesuffix(".json") for n in files)]


def validate_machine(name: str, networks: bool = False, deepbench: bool = False,
                     layers: bool = False) -> Report:
    """The validation report of a machine that has reference measurements: its kernels, or
    with `networks` its whole networks (device and end-to-end times where measured), with
    `layers` its single PyTorch layers (CPUs), or with `deepbench` (gpu-v100 only) every
    DeepBench family. For `cpu-host` networks and layers are timed live through PyTorch,
    which must be installed."""
    if networks + deepbench + layers > 1:
        raise AccelsimError("choose one of --networks, --layers and --deepbench")
    if deepbench:
        return _deepbench(name)
    if layers:
        return _layers(name)
    if f"{name}.json" in recorded.recorded_hosts():
        if networks:
            return cpu_networks.recorded_report(f"{name}.json")
        return cpu_gemms.replay(f"{name}.json")
    if f"{name}.json" in recorded.layer_hosts():
        raise AccelsimError(f"{name!r} holds single-layer timings only; use `accelsim "
                            f"validate {name} --layers`")
    if name not in LIVE:
        also = f" (and {DEEPBENCH_PRESET} --deepbench)" if name == DEEPBENCH_PRESET else ""
        raise AccelsimError(f"no reference measurements for {name!r}; validate one of "
                            f"{', '.join(names())}{also}")
    return (NETWORKS if networks else LIVE)[name](machine(name))


DEEPBENCH_PRESET = deepbench.PRESET


def _layers(name: str) -> Report:
    """Single PyTorch layers: a recorded host's layer rows, or this host's timed live."""
    if f"{name}.json" in recorded.layer_hosts():
        return cpu_layers.recorded_report(f"{name}.json")
    if name != "cpu-host":
        have = [n.removesuffix(".json") for n in recorded.layer_hosts()]
        raise AccelsimError(f"no single-layer measurements for {name!r}; validate --layers "
                            f"one of cpu-host (live), {', '.join(have)}")
    return _checked(CPU, cpu_layers.live_report)(machine(name))


def _deepbench(name: str) -> Report:
    """DeepBench's V100 measurements against `name`, which must be the V100's preset."""
    if name != DEEPBENCH_PRESET:
        raise AccelsimError(f"DeepBench's measurements are of a V100, not {name!r}; use "
                            f"`accelsim validate {DEEPBENCH_PRESET} --deepbench`")
    return _checked(GPU, deepbench.deepbench_report)(machine(name))
