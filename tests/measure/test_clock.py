"""The clock chain's numba kernel against its twin: the same 64-bit steps in Python integers."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.measure.clock import shift_xor_chain


def shift_xor_reference(n: int, x: int) -> int:
    """The chain in Python integers, masked to 64 bits (the kernel's independent twin)."""
    mask = (1 << 64) - 1
    for _ in range(n):
        x = ((x << 1) & mask) ^ (x >> 3)
    return x


@pytest.mark.parametrize(("n", "x"), [(0, 5), (1, 1), (7, 12345), (1000, 2**64 - 1),
                                      (4096, 0x9E3779B97F4A7C15)])
def test_the_kernel_takes_the_twins_steps(n, x):
    assert int(shift_xor_chain(n, np.uint64(x))) == shift_xor_reference(n, x)
