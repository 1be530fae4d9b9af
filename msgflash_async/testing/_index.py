"""A sorted list of unique ``(sortValue, id)`` keys with cheap inserts, removals and seeks.

Keys live in sublists of bounded length (the layout of ``sortedcontainers.SortedList``), so an
insert or a removal moves at most a few thousand pointers even with millions of keys, and a seek
is two binary searches. Appending keys in increasing order, as seeding does, is O(1).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

Key = tuple[str, str]
"""``(sortValue, id)``: the sort key of one item, unique thanks to the id."""

_LOAD = 1000


class SortedKeyList:
    """Unique keys kept in ascending order."""

    def __init__(self) -> None:
        self._lists: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, key: Key) -> None:
        """Insert ``key``, which must not be present."""
        if not self._maxes:
            self._lists.append([key])
            self._maxes.append(key)
        else:
            pos = bisect_left(self._maxes, key)
            if pos == len(self._maxes):
                pos -= 1
                self._lists[pos].append(key)
                self._maxes[pos] = key
            else:
                insort(self._lists[pos], key)
            self._split(pos)
        self._len += 1

    def remove(self, key: Key) -> None:
        """Remove ``key``; raise ``KeyError`` if it is absent."""
        pos = bisect_left(self._maxes, key)
        if pos == len(self._maxes):
            raise KeyError(key)
        sub = self._lists[pos]
        idx = bisect_left(sub, key)
        if sub[idx] != key:
            raise KeyError(key)
        del sub[idx]
        self._len -= 1
        if sub:
            self._maxes[pos] = sub[-1]
        else:
            del self._lists[pos]
            del self._maxes[pos]

    def ascending(self, after: Key | None = None) -> Iterator[Key]:
        """Keys in ascending order, starting strictly after ``after`` (from the first if None)."""
        lists = self._lists
        pos = idx = 0
        if after is not None:
            pos = bisect_right(self._maxes, after)
            if pos < len(lists):
                idx = bisect_right(lists[pos], after)
        while pos < len(lists):
            yield from lists[pos][idx:] if idx else lists[pos]
            pos, idx = pos + 1, 0

    def descending(self, before: Key | None = None) -> Iterator[Key]:
        """Keys in descending order, starting strictly before ``before`` (from the last if None)."""
        lists = self._lists
        pos = len(lists) - 1
        if before is not None:
            first_not_below = bisect_left(self._maxes, before)
            if first_not_below < len(lists):
                pos = first_not_below
                cut = bisect_left(lists[pos], before)
                yield from reversed(lists[pos][:cut])
                pos -= 1
        while pos >= 0:
            yield from reversed(lists[pos])
            pos -= 1

    def _split(self, pos: int) -> None:
        sub = self._lists[pos]
        if len(sub) > 2 * _LOAD:
            tail = sub[_LOAD:]
            del sub[_LOAD:]
            self._lists.insert(pos + 1, tail)
            self._maxes[pos] = sub[-1]
            self._maxes.insert(pos + 1, tail[-1])
