"""The core clock, measured: a chain of dependent shift/xor steps (2 cycles each: the two shifts
run in parallel, the xor waits for both; one cycle per integer op on every x86 core), timed
compiled (numba, loaded only when the host is measured)."""

from __future__ import annotations

import time

import numba
import numpy as np

CHAIN_CYCLES = 2  # per step of the shift/xor chain


@numba.njit(cache=True)
def shift_xor_chain(n: int, x: np.uint64) -> np.uint64:
    """n dependent steps x ← (x << 1) ^ (x >> 3); its twin is in
    tests/measure/test_clock.py."""
    one, three = np.uint64(1), np.uint64(3)
    for _ in range(n):
        x = (x << one) ^ (x >> three)
    return x


def measure_clock_hz(n: int = 10_000_000, repeats: int = 5) -> float:
    """Cycles per second from the dependent shift/xor chain (2 cycles per step), median of
    `repeats` runs."""
    shift_xor_chain(1000, np.uint64(12345))
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        shift_xor_chain(n, np.uint64(12345))
        runs.append(time.perf_counter() - started)
    return CHAIN_CYCLES * n / float(np.median(runs))
