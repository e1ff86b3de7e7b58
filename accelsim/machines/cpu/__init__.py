"""The multi-core SIMD CPU model: specs and presets, host detection, the BLIS GEMM model."""

from accelsim.machines.cpu.core import CPU, cpu_preset
from accelsim.machines.cpu.spec import CPU_SPECS, CPUSpec

__all__ = ["CPU", "CPU_SPECS", "CPUSpec", "cpu_preset"]
