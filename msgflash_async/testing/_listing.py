"""Keyset pages over a sorted index, shared by the four list endpoints (§1.6, §4.5)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

import attrs

from ._cursors import encode_cursor
from ._index import Key, SortedKeyList
from ._json import JSONObject, JSONValue
from ._validation import ListQuery
from ._workspace import Workspace


@attrs.frozen
class ListSpec:
    """The fixed traits of one list endpoint."""

    items_key: str
    default_limit: int
    searchable: bool = True
    with_total: bool = True
    """Whether the page carries ``total`` and ``limit``."""
    sorts: tuple[str, ...] = ()
    """The ``sort`` values, the default first; empty if the list takes no ``sort``."""


@attrs.frozen
class Source:
    """The items of one list as this request sees them."""

    kind: str
    """The cursor kind, e.g. ``contacts.name_asc`` or ``members.<groupId>``."""
    index: SortedKeyList
    descending: bool
    render: Callable[[Key], JSONObject]
    texts: Callable[[Key], tuple[str | None, ...]]
    """The texts ``search`` matches, case-insensitively, as substrings."""

    def keys(self, after: Key | None) -> Iterator[Key]:
        """The keys in list order, strictly after ``after``."""
        return self.index.descending(after) if self.descending else self.index.ascending(after)

    def matches(self, key: Key, needle: str) -> bool:
        """Whether the item holds the casefolded ``needle`` in one of its texts."""
        return any(text is not None and needle in text.casefold() for text in self.texts(key))


def page(workspace: Workspace, spec: ListSpec, query: ListQuery, source: Source) -> JSONObject:
    """The ``data`` of one page: ``limit + 1`` keys are read to tell whether more follow.

    A search scans only until it has ``limit + 1`` matches; its ``total`` is counted once and
    cached until the workspace changes.
    """
    keys = source.keys(query.after)
    needle = None if query.search is None else query.search.casefold()
    if needle is not None:
        keys = (key for key in keys if source.matches(key, needle))
    picked = list(islice(keys, query.limit + 1))
    has_more = len(picked) > query.limit
    del picked[query.limit :]
    items: list[JSONValue] = [source.render(key) for key in picked]
    data: JSONObject = {
        spec.items_key: items,
        "nextCursor": encode_cursor(source.kind, picked[-1]) if has_more else None,
        "hasMore": has_more,
    }
    if spec.with_total:
        data["total"] = _total(workspace, source, needle)
        data["limit"] = query.limit
    if spec.sorts:
        data["sort"] = query.sort
    return data


def _total(workspace: Workspace, source: Source, needle: str | None) -> int:
    if needle is None:
        return len(source.index)
    return workspace.search_total(
        source.kind,
        needle,
        lambda: sum(1 for key in source.index.ascending() if source.matches(key, needle)),
    )
