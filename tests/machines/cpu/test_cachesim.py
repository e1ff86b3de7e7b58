"""The cache simulator against hand-worked traces, and the analytical traffic against it.
(Its agreement with the separately written twin is in test_cachesim_reference.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.machines.cpu.cachesim import (
    analytical_traffic,
    simulate_hierarchy,
    simulated_traffic,
)
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE, CPUSpec


def test_lru_set_associative_by_hand():
    # One level, 1 set, 2 ways: lines 1 2 1 3 2 → miss miss hit miss(evicts 2) miss.
    fills = simulate_hierarchy(np.array([1, 2, 1, 3, 2]), np.array([1]), np.array([2]))
    assert list(fills) == [4]
    # Two levels: L1 1 way, L2 4 ways — a line evicted from L1 is still in L2.
    fills = simulate_hierarchy(np.array([1, 2, 1, 2]), np.array([1, 1]), np.array([1, 4]))
    assert list(fills) == [4, 2]


@pytest.mark.parametrize("spec", [HASWELL, SKYLAKE])
@pytest.mark.parametrize("shape", [(64, 64, 64), (128, 256, 96), (300, 100, 50),
                                   (100, 150, 16), (200, 300, 120), (97, 250, 70),
                                   (784, 25, 6), (120, 400, 100)])
def test_analytical_traffic_matches_the_simulation(spec: CPUSpec,
                                                   shape: tuple[int, int, int]) -> None:
    simulated = simulated_traffic(spec, *shape)
    analytical = analytical_traffic(spec, *shape)
    for level in ("l1", "l2", "l3"):
        assert 0.7 <= analytical[level] / simulated[level] <= 1.5, (level, analytical, simulated)
