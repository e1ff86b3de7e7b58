"""int8 quantization: calibration, integer-only kernels, fixed-point requantization."""

from accelsim.quant.network import QuantizedNetwork, quantize

__all__ = ["QuantizedNetwork", "quantize"]
