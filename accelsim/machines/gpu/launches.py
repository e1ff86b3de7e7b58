"""Kernels and framework calls: what the device runs, and how an eager framework feeds it.

A `Kernel` is one CUDA kernel launch with its device time in a CUDA graph (the device-side
launch, `kernel_launch_s`, plus its body). A `FrameworkCall` is one call the framework makes
on the host (torch.relu, an nn.Conv2d, `.to(cuda)`): the host time to dispatch it, the
kernels it queues, host work that follows it (a CPU conversion) and a synchronous copy.

Two times (ARCHITECTURE.md):
- device time: the kernels back to back (`device_seconds`): what a CUDA-graph replay measures;
- end to end (`eager_seconds`): the host dispatches one call after another and launches its
  kernels, each queued once launched; a kernel starts when it is queued and the device is
  free, so the host's work overlaps the device work queued before it. A synchronous copy
  waits for the queued kernels, then holds host and device until it is done; a CPU
  conversion holds only the host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accelsim.machines.gpu.gemm import KernelChoice
from accelsim.machines.results import Category


@dataclass(frozen=True)
class Kernel:
    """One launch (two for a split-K GEMM and its reduction kernel): its name (as a profiler
    shows it), device time in a CUDA graph, the category of its body, bytes it moves, what
    bound it, and the GEMM choice behind it."""

    name: str
    seconds: float
    category: Category
    dram_bytes: int = 0
    bound: str = "latency"
    gemm: KernelChoice | None = None
    launches: int = 1


@dataclass(frozen=True)
class FrameworkCall:
    """One framework call from the host: `host` is its dispatch kind (a key of
    `GPUSpec.host_dispatch_s`); `host_work_s` host-only work after the dispatch (a CPU
    conversion); `copy_s` a synchronous host ↔ device copy after that."""

    host: str
    kernels: tuple[Kernel, ...] = ()
    host_work_s: float = 0.0
    copy_s: float = 0.0

    @property
    def device_seconds(self) -> float:
        return sum(k.seconds for k in self.kernels)

    @property
    def launches(self) -> int:
        return sum(k.launches for k in self.kernels)


def eager_seconds(calls: Iterable[FrameworkCall], dispatch: dict[str, float],
                  launch_s: float) -> float:
    """Wall-clock seconds from the first dispatch to the end of the last copy or kernel, with
    `dispatch[kind]` host seconds per call and `launch_s` more per kernel it launches."""
    host = device = 0.0
    for call in calls:
        host += dispatch[call.host] + call.host_work_s
        if call.copy_s:
            host = device = max(host, device) + call.copy_s
        for kernel in call.kernels:
            host += launch_s * kernel.launches
            device = max(device, host) + kernel.seconds
    return max(host, device)


def replay_seconds(calls: Iterable[FrameworkCall]) -> float:
    """A CUDA graph replayed (or the library called with no framework around it): the host
    copies and conversions and the kernels one after another, no dispatch or launch on the
    host."""
    return sum(call.host_work_s + call.copy_s + call.device_seconds for call in calls)
