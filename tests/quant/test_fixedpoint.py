"""Fixed-point requantization against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.quant.fixedpoint import (
    div_round,
    quantize_multiplier,
    quantize_tensor,
    requantize,
    rounding_shift,
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
