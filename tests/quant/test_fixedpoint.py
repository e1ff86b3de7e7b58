"""Fixed-point requantization against exact rational arithmetic."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import QuantizationError
from accelsim.quant.fixedpoint import (
    MAX_SHIFT,
    MIN_SCALE,
    div_round,
    quantize_multiplier,
    quantize_tensor,
    requantize,
    rounding_shift,
    symmetric_scale,
)


@given(st.floats(min_value=1e-6, max_value=0.999))
def test_multiplier_is_accurate_to_31_bits(real):
    m0, shift = quantize_multiplier(real)
    assert 2**30 <= m0 < 2**31
    assert abs(m0 / 2**shift - real) <= real * 2**-30


def test_multiplier_of_one_and_bad_values():
    assert quantize_multiplier(1.0) == (2**30, 30)
    with pytest.raises(ValueError, match="positive"):
        quantize_multiplier(0.0)


@given(st.integers(-(2**31), 2**31 - 1), st.floats(min_value=1e-4, max_value=0.99))
def test_requantize_is_exact_round_half_up_then_clamp(acc, real):
    m0, shift = quantize_multiplier(real)
    exact = Fraction(acc * m0, 2**shift)
    expected = max(-127, min(127, math.floor(exact + Fraction(1, 2))))
    got = int(requantize(np.array([acc]), (m0, shift))[0])
    assert got == expected
    if abs(expected) < 127:
        assert abs(got - acc * real) <= 0.5 + abs(acc) * real * 2**-29


def test_rounding_helpers():
    np.testing.assert_array_equal(rounding_shift(np.array([5, 6, 7, -5, -6]), 2), [1, 2, 2, -1, -1])
    np.testing.assert_array_equal(div_round(np.array([63, 64, -63, -64, 127]), 127),
                                  [0, 1, 0, -1, 1])
    np.testing.assert_array_equal(quantize_tensor(np.array([0.5, -2.0, 0.004]), 1 / 127),
                                  [64, -127, 1])
    assert requantize(np.array([1000]), (2**30, 30), low=0)[0] == 127
    assert requantize(np.array([-1000]), (2**30, 30), low=0)[0] == 0


def test_scales_are_never_zero_and_refuse_non_finite_ranges():
    assert symmetric_scale(0.0) == 1 / 127  # seen only as zeros: the unit range
    assert symmetric_scale(1e-30) == MIN_SCALE  # a floor, as PyTorch's observers use
    assert symmetric_scale(127.0) == 1.0
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(QuantizationError, match="finite and non-negative"):
            symmetric_scale(bad)
    for bad in (0.0, float("nan"), -1.0):
        with pytest.raises(QuantizationError, match="positive and finite"):
            quantize_tensor(np.ones(2), bad)
    with pytest.raises(QuantizationError, match="divisor = 0"):
        div_round(np.array([3]), 0)


def test_quantize_tensor_casts_every_float_to_a_defined_int8():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast"
        out = quantize_tensor(np.array([np.nan, np.inf, -np.inf, 1e300, 0.5]), 1 / 127)
    np.testing.assert_array_equal(out, [0, 127, -127, 127, 64])


def test_multipliers_out_of_int64_reach_are_zero_or_an_error():
    assert quantize_multiplier(2.0**-40) == (0, 0)  # every int32 accumulator rounds to 0
    assert requantize(np.array([2**31 - 1, -(2**31)]), (0, 0)).tolist() == [0, 0]
    m0, shift = quantize_multiplier(2.0**-31)
    assert 2**30 <= m0 < 2**31 and shift <= MAX_SHIFT
    assert quantize_multiplier(2.0**30)[1] == 0
    with pytest.raises(QuantizationError, match=r"multiplier of 2\.15e\+09 is too large"):
        quantize_multiplier(2.0**31)
