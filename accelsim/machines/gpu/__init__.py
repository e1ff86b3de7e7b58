"""The SIMT GPU model: specs and presets, the kernel menu, the SM simulation, the machine."""

from accelsim.machines.gpu.core import GPU, gpu_preset
from accelsim.machines.gpu.spec import GPU_SPECS, GPUSpec

__all__ = ["GPU", "GPU_SPECS", "GPUSpec", "gpu_preset"]
