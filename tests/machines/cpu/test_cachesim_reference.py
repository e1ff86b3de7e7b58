"""The numba cache-hierarchy simulation and its separately written OrderedDict twin agree, on
hand-worked traces, on random traces and hierarchies (hypothesis), and on the blocked GEMM's
own traces through the real machines' hierarchies."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.machines.cpu.cachesim import gemm_trace, hierarchy_shape, simulate_hierarchy
from accelsim.machines.cpu.spec import HASWELL, SKYLAKE, CPUSpec

# ---- the twin ----------------------------------------------------------------------------
# The twin of cachesim.simulate_hierarchy, written separately in plain Python: each cache
# level is a dict of sets, each set an OrderedDict kept in recency order (least recently used
# first), so a hit moves its line to the end and a fill into a full set evicts the first.
#
# An access walks down the levels until one hits: every level that missed fills the line (and
# counts one fill), the level that hit refreshes it, and the levels below it are not touched.
#
# It is slow and lives here, with the tests that hold the fast path to it.

class LruLevel:
    """One set-associative level with true LRU replacement within each set."""

    def __init__(self, sets: int, ways: int) -> None:
        self.sets, self.ways = sets, ways
        self._sets: dict[int, OrderedDict[int, None]] = {}
        self.fills = 0

    def access(self, line: int) -> bool:
        """Touch `line`; True on a hit. A miss fills it, evicting the set's LRU line."""
        lines = self._sets.setdefault(line % self.sets, OrderedDict())
        if line in lines:
            lines.move_to_end(line)
            return True
        self.fills += 1
        if len(lines) == self.ways:
            lines.popitem(last=False)
        lines[line] = None
        return False


def simulate_hierarchy_reference(lines: Iterable[int], sets: Iterable[int],
                                 ways: Iterable[int]) -> list[int]:
    """Line fills per level for an access stream of line numbers (L1 first)."""
    levels = [LruLevel(int(s), int(w)) for s, w in zip(sets, ways, strict=True)]
    for line in lines:
        for level in levels:
            if level.access(int(line)):
                break
    return [level.fills for level in levels]


# ---- the tests --------------------------------------------------------------------------

def both(lines: list[int] | np.ndarray, sets: list[int],
         ways: list[int]) -> tuple[list[int], list[int]]:
    fast = simulate_hierarchy(np.asarray(lines, np.int64), np.asarray(sets, np.int64),
                              np.asarray(ways, np.int64))
    return [int(f) for f in fast], simulate_hierarchy_reference(lines, sets, ways)


def test_a_lower_level_eviction_leaves_the_upper_copy():
    # L1: 1 set × 2 ways, L2: 1 set × 1 way. Lines 1 2 1: the second access evicts 1 from
    # L2 only, so the third hits in L1 (no back-invalidation): 2 fills in each level.
    assert both([1, 2, 1], [1, 1], [2, 1]) == ([2, 2], [2, 2])


def test_sets_are_independent():
    # 2 sets × 1 way: even and odd lines never evict each other; 0 2 0 thrash set 0.
    assert both([0, 1, 2, 1, 0, 1], [2], [1]) == ([4], [4])


hierarchies = st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 8), min_size=n, max_size=n),
    st.lists(st.integers(1, 6), min_size=n, max_size=n)))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.integers(0, 40), max_size=300), shape=hierarchies)
def test_twins_agree_on_random_traces(lines: list[int],
                                      shape: tuple[list[int], list[int]]) -> None:
    fast, slow = both(lines, *shape)
    assert fast == slow


@pytest.mark.parametrize("spec", [HASWELL, SKYLAKE], ids=lambda s: s.name)
@pytest.mark.parametrize("shape", [(40, 30, 20), (97, 250, 70), (128, 64, 96)])
def test_twins_agree_on_gemm_traces(spec: CPUSpec, shape: tuple[int, int, int]) -> None:
    trace = gemm_trace(spec, *shape)
    sets, ways = hierarchy_shape(spec)
    small = (np.array([4, 16, 64]), np.array([2, 4, 8]))  # forces evictions at every level
    for hierarchy in ((sets, ways), small):
        fast, slow = both(trace, *(list(map(int, h)) for h in hierarchy))
        assert fast == slow
