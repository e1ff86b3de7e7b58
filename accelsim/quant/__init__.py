"""int8 quantization: schemes, calibration, integer-only kernels over the network graph (batch
norm folded, adds and concats requantized to a common scale), fixed-point requantization,
and per-layer sensitivity with a mixed-precision suggestion."""

from accelsim.quant.network import QuantizedNetwork, ensure_quantized, quantize
from accelsim.quant.scheme import Scheme
from accelsim.quant.sensitivity import (
    LayerCost,
    MixedPrecision,
    Sensitivity,
    Step,
    fake_forward,
    layer_sensitivity,
    quantizable_layers,
    suggest_mixed_precision,
)
from accelsim.quant.study import QuantStudy, accuracy_study
from accelsim.quant.variants import DEFAULT_VARIANTS, Variant

__all__ = ["DEFAULT_VARIANTS", "LayerCost", "MixedPrecision", "QuantStudy", "QuantizedNetwork",
           "Scheme", "Sensitivity", "Step", "Variant", "accuracy_study", "ensure_quantized",
           "fake_forward", "layer_sensitivity", "quantizable_layers", "quantize",
           "suggest_mixed_precision"]
