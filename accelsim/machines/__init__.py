"""Machine models: the protocol (base), results, and the named presets."""

from accelsim.machines.base import Machine, OpResult, Precision, RunResult, WorkloadTiming
from accelsim.machines.presets import build, preset_names

__all__ = ["Machine", "OpResult", "Precision", "RunResult", "WorkloadTiming", "build",
           "preset_names"]
