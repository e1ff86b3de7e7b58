"""int8 quantization: calibration, integer-only kernels, fixed-point requantization."""

from accelsim.quant.network import QuantizedNetwork, ensure_quantized, quantize

__all__ = ["QuantizedNetwork", "ensure_quantized", "quantize"]
