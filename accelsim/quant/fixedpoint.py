"""Integer-only arithmetic: fixed-point multipliers, requantization, rounding division.

A real rescaling factor 0 < M < 1 (e.g. s_in·s_w / s_out) becomes M0 · 2^-shift with M0 a
31-bit integer (Jacob et al., "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", CVPR 2018). Requantizing an int32 accumulator is then one
64-bit multiply, a rounding right shift and a clamp: no floating point at inference time.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MAX = 127
MULTIPLIER_BITS = 31


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(M0, shift) with real ≈ M0 · 2^-shift and 2^30 ≤ M0 < 2^31."""
    if not real > 0 or not math.isfinite(real):
        raise ValueError(f"a requantization multiplier must be positive and finite, got {real}")
    mantissa, exponent = math.frexp(real)  # real = mantissa · 2^exponent, mantissa in [0.5, 1)
    m0 = round(mantissa * (1 << MULTIPLIER_BITS))
    if m0 == 1 << MULTIPLIER_BITS:
        m0, exponent = m0 // 2, exponent + 1
    return m0, MULTIPLIER_BITS - exponent


def rounding_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """values / 2^shift rounded half up, on int64."""
    values = np.asarray(values, dtype=np.int64)
    if shift <= 0:
        return values << -shift
    return (values + (np.int64(1) << (shift - 1))) >> shift


def requantize(acc: np.ndarray, multiplier: tuple[int, int], low: int = -INT8_MAX,
               high: int = INT8_MAX) -> np.ndarray:
    """int32 accumulators × M0 · 2^-shift, rounded and clamped to [low, high], as int8."""
    m0, shift = multiplier
    scaled = rounding_shift(np.asarray(acc, dtype=np.int64) * m0, shift)
    return np.clip(scaled, low, high).astype(np.int8)


def div_round(values: np.ndarray, divisor: int) -> np.ndarray:
    """Integer division rounding half away from zero."""
    values = np.asarray(values, dtype=np.int64)
    half = divisor // 2
    return np.sign(values) * ((np.abs(values) + half) // divisor)


def symmetric_scale(max_abs: float) -> float:
    """Scale mapping [-max_abs, max_abs] onto [-127, 127] (a tiny floor keeps it positive)."""
    return max(float(max_abs), 1e-8) / INT8_MAX


def quantize_tensor(x: np.ndarray, scale: float) -> np.ndarray:
    """Float → int8 at `scale`, rounding to nearest (ties to even), clamped to ±127."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) / scale), -INT8_MAX,
                   INT8_MAX).astype(np.int8)
