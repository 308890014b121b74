"""IdSet: a set of article ids (ints) at 8 bytes an id, for the spider's per-run bookkeeping.

A crawl remembers every id it settled and every id stored by earlier runs; as a Python set of ints that is
≈ 60–90 bytes an id, 25 MB at 300k articles. Here the ids sit in one sorted int64 array searched by bisection,
with a small set of recent ids merged into it (one O(n) insertion) every `TAIL` additions.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class IdSet:
    TAIL = 4096

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self.sorted = np.unique(np.fromiter(ids, dtype=np.int64))
        self.tail: set[int] = set()

    def __contains__(self, cms_id: int) -> bool:
        if cms_id in self.tail:
            return True
        at = int(np.searchsorted(self.sorted, cms_id))
        return at < len(self.sorted) and int(self.sorted[at]) == cms_id

    def __len__(self) -> int:
        return len(self.sorted) + len(self.tail)

    def add(self, cms_id: int) -> None:
        if cms_id in self:
            return
        self.tail.add(cms_id)
        if len(self.tail) >= self.TAIL:
            new = np.array(sorted(self.tail), dtype=np.int64)
            self.sorted = np.insert(self.sorted, np.searchsorted(self.sorted, new), new)
            self.tail = set()
