"""The Precision enum: parsing at the edge, sizes and units."""

import pytest

from accelsim.errors import PrecisionError
from accelsim.precision import Precision


def test_parse_accepts_names_and_members():
    assert Precision.parse("FP16") is Precision.FP16
    assert Precision.parse(Precision.INT8) is Precision.INT8
    with pytest.raises(PrecisionError, match="unknown precision 'tf32'; choose one of fp32"):
        Precision.parse("tf32")


def test_sizes_and_units():
    assert [p.bytes for p in Precision] == [4, 2, 2, 1]
    assert Precision.INT8.ops_unit == "OP" and Precision.BF16.ops_unit == "FLOP"
    assert all(p.accumulator_bytes == 4 for p in Precision)
