"""Storage-precision emulation: exact rounding rules and fp32 accumulation."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.errors import PrecisionError
from accelsim.nn.numerics import EXACT, Numerics, numerics_for, round_bf16
from accelsim.precision import Precision


def test_bf16_rounds_to_nearest_even():
    one = np.float32(1.0)
    ulp = np.float32(2.0**-7)  # bf16 keeps 7 fraction bits
    values = np.array([one, one + ulp / 2, one + ulp * 1.5, one + ulp * 0.51, 3.14159265],
                      dtype=np.float32)
    expected = np.array([1.0, 1.0, 1.0 + 2 * ulp, 1.0 + ulp, 3.140625], dtype=np.float32)
    np.testing.assert_array_equal(round_bf16(values), expected)


def test_bf16_output_has_zero_low_bits():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert np.all(round_bf16(x).view(np.uint32) & 0xFFFF == 0)


def test_fp16_store_matches_numpy_half():
    x = np.array([1 / 3, 65504.0, 1e-8, 70000.0], dtype=np.float32)
    out = Numerics(Precision.FP16).store(x)
    np.testing.assert_array_equal(out, [np.float16(1 / 3), 65504.0, np.float16(1e-8), np.inf])
    assert out.dtype == np.float32


def test_matmul_rounds_operands_and_result():
    a = np.array([[1 / 3, 2 / 3]], dtype=np.float32)
    b = np.array([[3.0], [3.0]], dtype=np.float32)
    num = Numerics(Precision.FP16)
    h = lambda v: np.float32(np.float16(v))  # noqa: E731
    assert num.matmul(a, b)[0, 0] == h(h(1 / 3) * 3 + h(2 / 3) * 3)


def test_exact_keeps_float64():
    x = np.array([1 / 3])
    assert EXACT.store(x) is x
    assert numerics_for(None) is EXACT


def test_int8_is_not_a_float_emulation():
    with pytest.raises(PrecisionError, match="quantize"):
        numerics_for("int8")
