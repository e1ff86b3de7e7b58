"""The twin of cachesim.simulate_hierarchy, written separately in plain Python: each cache
level is a dict of sets, each set an OrderedDict kept in recency order (least recently used
first), so a hit moves its line to the end and a fill into a full set evicts the first.

An access walks down the levels until one hits: every level that missed fills the line (and
counts one fill), the level that hit refreshes it, and the levels below it are not touched.
It is slow and exists for the tests (DESIGN.md, convention 11).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


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
