"""int8 quantization: schemes, calibration, integer-only kernels, fixed-point requantization."""

from accelsim.quant.network import QuantizedNetwork, ensure_quantized, quantize
from accelsim.quant.scheme import Scheme

__all__ = ["QuantizedNetwork", "Scheme", "ensure_quantized", "quantize"]
