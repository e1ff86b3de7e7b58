"""Integer-only arithmetic: fixed-point multipliers, requantization, rounding division.

A real rescaling factor 0 < M < 1 (e.g. s_in·s_w / s_out) becomes M0 · 2^-shift with M0 a
31-bit integer (Jacob et al., "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", CVPR 2018). Requantizing an int32 accumulator is then one
64-bit multiply, a rounding right shift and a clamp: no floating point at inference time.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.errors import QuantizationError

INT8_MAX = 127
INT8_MIN = -128
INT16_MAX = 32767
Multiplier = tuple[int, int] | tuple[np.ndarray, np.ndarray]  # one (M0, shift), or one per channel
MULTIPLIER_BITS = 31
MAX_SHIFT = 62  # |acc · M0| < 2^62 and the rounding term 2^(shift-1) keep int64 exact
MIN_SCALE = float(np.finfo(np.float32).eps)  # smallest scale given to a nonzero range


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(M0, shift) with real ≈ M0 · 2^-shift, 2^30 ≤ M0 < 2^31 and 0 ≤ shift ≤ MAX_SHIFT.

    A multiplier below 2^-(MAX_SHIFT - 30) sends every int32 accumulator to 0 and becomes
    (0, 0); one of 2^31 or more does not fit in int64 arithmetic and is an error.
    """
    if not real > 0 or not math.isfinite(real):
        raise QuantizationError(f"a requantization multiplier must be positive and finite, "
                                f"got {real}; the scales around it are degenerate")
    mantissa, exponent = math.frexp(real)  # real = mantissa · 2^exponent, mantissa in [0.5, 1)
    m0 = round(mantissa * (1 << MULTIPLIER_BITS))
    if m0 == 1 << MULTIPLIER_BITS:
        m0, exponent = m0 // 2, exponent + 1
    shift = MULTIPLIER_BITS - exponent
    if shift < 0:
        raise QuantizationError(f"a requantization multiplier of {real:.3g} is too large for "
                                "int32 fixed point (at most 2^31): the ranges of a layer's "
                                "input and output differ too much; calibrate on typical data")
    if shift > MAX_SHIFT:
        return 0, 0
    return m0, shift


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (M0, shift) per channel, as int64 arrays (see `quantize_multiplier`)."""
    pairs = [quantize_multiplier(float(real)) for real in np.ravel(reals)]
    return (np.array([m0 for m0, _ in pairs], np.int64),
            np.array([shift for _, shift in pairs], np.int64))


def rounding_shift(values: np.ndarray, shift: int | np.ndarray) -> np.ndarray:
    """values / 2^shift rounded half up, on int64; an array of shifts (all ≥ 0) applies one
    per channel along the last axis."""
    values = np.asarray(values, dtype=np.int64)
    if np.ndim(shift):
        shifts = np.asarray(shift, np.int64)
        half = np.where(shifts > 0, np.int64(1) << np.maximum(shifts - 1, 0), 0)
        return (values + half) >> shifts
    shift = int(shift)
    if shift <= 0:
        return values << -shift
    return (values + (np.int64(1) << (shift - 1))) >> shift


def code_max(bits: int) -> int:
    """The largest symmetric code of a signed `bits`-bit integer: 2^(bits−1) − 1."""
    return (1 << (bits - 1)) - 1


def code_dtype(low: int, high: int) -> type[np.signedinteger]:
    """The narrowest of int8, int16, int32 holding [low, high]."""
    for dtype in (np.int8, np.int16):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype
    return np.int32


def requantize(acc: np.ndarray, multiplier: Multiplier, low: int = -INT8_MAX,
               high: int = INT8_MAX, offset: int = 0) -> np.ndarray:
    """int32 accumulators × M0 · 2^-shift, rounded, plus `offset` (an output zero point),
    clamped to [low, high], as int8 (int16 when the range needs it). Per-channel
    multipliers apply along the last axis."""
    m0, shift = multiplier
    scaled = rounding_shift(np.asarray(acc, dtype=np.int64) * m0, shift) + offset
    return np.clip(scaled, low, high).astype(code_dtype(low, high))


def div_round(values: np.ndarray, divisor: int | np.ndarray) -> np.ndarray:
    """Integer division rounding half away from zero (an array of divisors broadcasts)."""
    divisors = np.asarray(divisor, dtype=np.int64)
    if divisors.size == 0 or int(divisors.min()) < 1:
        raise QuantizationError(f"divisor = {divisor} must be a positive integer")
    values = np.asarray(values, dtype=np.int64)
    half = divisors // 2
    return np.sign(values) * ((np.abs(values) + half) // divisors)


def symmetric_scale(max_abs: float, bits: int = 8) -> float:
    """Scale mapping [-max_abs, max_abs] onto [-127, 127] (±32,767 at 16 bits), never 0.

    A tensor seen only as zeros (max_abs = 0) could take any scale; it gets the unit range
    (1/127, or 1/32,767), which keeps the multipliers of the layers around it ordinary. Any
    other range is floored at MIN_SCALE, as PyTorch's observers do (float32 epsilon).
    """
    value = float(max_abs)
    if not math.isfinite(value) or value < 0:
        raise QuantizationError(f"a range of {value} cannot be quantized; ranges must be "
                                "finite and non-negative (NaN or ±inf in the data?)")
    top = code_max(bits)
    if value == 0:
        return 1.0 / top
    return max(value / top, MIN_SCALE)


def symmetric_scales(max_abs: np.ndarray) -> np.ndarray:
    """`symmetric_scale` of every entry (one scale per channel)."""
    return np.array([symmetric_scale(float(v)) for v in np.ravel(max_abs)], np.float64)


def affine_params(low: float, high: float) -> tuple[float, int]:
    """(scale, zero point) mapping [low, high] onto [−128, 127] with real 0 exact.

    The range is widened to hold 0 (Jacob et al. 2018: zero padding and ReLU need an exact
    zero). An empty range (low = high = 0) gets the unit scale 1/127 and zero point 0.
    """
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise QuantizationError(f"a range of [{low}, {high}] cannot be quantized; ranges must "
                                "be finite (NaN or ±inf in the data?)")
    if high == low:
        return 1.0 / INT8_MAX, 0
    scale = max((high - low) / (INT8_MAX - INT8_MIN), MIN_SCALE)
    zero = int(np.clip(round(INT8_MIN - low / scale), INT8_MIN, INT8_MAX))
    return scale, zero


def quantize_affine(x: np.ndarray, scale: float, zero: int) -> np.ndarray:
    """Float → int8 at `scale` with zero point `zero`: round(x / scale) + zero in [−128, 127]
    (NaN maps to the zero point)."""
    if not (math.isfinite(scale) and scale > 0):
        raise QuantizationError(f"scale = {scale} must be positive and finite")
    scaled = np.rint(np.asarray(x, dtype=np.float64) / scale) + zero
    clipped = np.clip(np.nan_to_num(scaled, nan=float(zero)), INT8_MIN, INT8_MAX)
    return clipped.astype(np.int8)


def quantize_tensor(x: np.ndarray, scale: float | np.ndarray, bits: int = 8) -> np.ndarray:
    """Float → int8 at `scale` (or one scale per channel along the last axis), rounding to
    nearest (ties to even), clamped to ±127 (int16 and ±32,767 at 16 bits).

    NaN maps to 0 and ±inf to ±127, so the int8 cast is always defined.
    """
    scales = np.asarray(scale, dtype=np.float64)
    if not np.all(np.isfinite(scales) & (scales > 0)):
        raise QuantizationError(f"scale = {scale} must be positive and finite")
    top = code_max(bits)
    scaled = np.rint(np.asarray(x, dtype=np.float64) / scales)
    return np.nan_to_num(np.clip(scaled, -top, top), nan=0.0).astype(code_dtype(-top, top))
