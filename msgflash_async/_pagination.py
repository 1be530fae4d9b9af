"""Cursor lists as async iterators that follow ``nextCursor`` to the end.

The iterators are plain classes that fetch one page at a time, each read in full before it
is returned: a walk left early (``break``, an exception, a cancelled task) holds no response,
task or connection, and memory stays at one page however long the list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, NoReturn, TypeVar

from ._errors import MsgFlashError, PaginationError, clip
from ._models import Page
from ._validation import check_count

__all__ = ["MAX_EMPTY_PAGES", "AsyncPaginator", "FetchPage"]

MAX_EMPTY_PAGES = 10
"""How many empty pages in a row that say more follow a walk accepts before it stops.

A real server may send an occasional empty page (items deleted while the walk runs); one
that keeps sending them with fresh cursors would keep a walk going forever.
"""

T = TypeVar("T")

FetchPage = Callable[[str | None], Awaitable[Page[T]]]
"""Fetches the page at a cursor (``None`` for the first page)."""


class AsyncPaginator(Generic[T]):
    """Every item of a cursor list: ``async for item in paginator``.

    Nothing is fetched until you iterate. ``pages()`` walks page by page instead,
    ``first_page()`` fetches one page, ``collect(limit=...)`` gathers a bounded list.
    Each walk starts again from ``cursor`` (the first page when ``None``).
    ``max_items`` must be a non-negative integer or ``None``.
    """

    def __init__(
        self, fetch_page: FetchPage[T], *, cursor: str | None = None, max_items: int | None = None
    ) -> None:
        self._fetch_page = fetch_page
        self.cursor = cursor
        self.max_items = None if max_items is None else check_count("max_items", max_items)

    def __aiter__(self) -> ItemIterator[T]:
        return self._items(self.max_items)

    def _items(self, max_items: int | None) -> ItemIterator[T]:
        return ItemIterator(self.pages(), max_items)

    def pages(self) -> PageIterator[T]:
        """Iterate page by page; each page has ``next_cursor`` to resume from."""
        return PageIterator(self._fetch_page, self.cursor)

    async def first_page(self) -> Page[T]:
        """Fetch only the page at ``cursor``."""
        return await self.pages().__anext__()

    async def collect(self, *, limit: int) -> list[T]:
        """Gather at most ``limit`` items into a list (no unbounded list is ever built)."""
        limit = check_count("limit", limit)
        cap = limit if self.max_items is None else min(limit, self.max_items)
        return [
            item async for item in ItemIterator(PageIterator(self._fetch_page, self.cursor), cap)
        ]


class PageIterator(Generic[T]):
    """Yields pages until the server says there are no more.

    A server that would keep a walk going forever ends it with ``PaginationError``
    (its ``cursor`` is that of the last page fetched): a cursor sent a second time, or
    ``MAX_EMPTY_PAGES`` (10) empty pages in a row that each say more follow.
    """

    def __init__(self, fetch_page: FetchPage[T], cursor: str | None) -> None:
        self._fetch_page = fetch_page
        self._cursor = cursor
        self._finished = False
        # Brent's cycle detection: remember one cursor, moved to the newest at each power of
        # two, so a server cycling through cursors is caught with constant memory.
        self._marker = cursor
        self._steps = 0
        self._span = 1
        self._empty_run = 0

    @property
    def cursor(self) -> str | None:
        """The cursor of the next page to fetch: save it to resume the walk later."""
        return self._cursor

    def __aiter__(self) -> PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        if self._finished:
            raise StopAsyncIteration
        cursor = self._cursor
        try:
            page = await self._fetch_page(cursor)
        except MsgFlashError as exc:
            exc.cursor = cursor
            raise
        self._finished = page.is_last
        self._cursor = page.next_cursor
        if not self._finished:
            self._check_progress(cursor, page)
        return page

    def _check_progress(self, cursor: str | None, page: Page[T]) -> None:
        next_cursor = page.next_cursor
        self._empty_run = 0 if page.items else self._empty_run + 1
        if next_cursor in (cursor, self._marker):
            self._stop(cursor, f"the server sent cursor {clip(repr(next_cursor))} again")
        if self._empty_run >= MAX_EMPTY_PAGES:
            self._stop(cursor, f"the server sent {self._empty_run} empty pages in a row")
        self._steps += 1
        if self._steps == self._span:
            self._marker, self._steps, self._span = next_cursor, 0, self._span * 2

    def _stop(self, cursor: str | None, reason: str) -> NoReturn:
        self._finished = True
        error = PaginationError(reason)
        error.cursor = cursor
        raise error


class ItemIterator(Generic[T]):
    """Yields the items of successive pages, up to ``max_items``."""

    def __init__(self, pages: PageIterator[T], max_items: int | None) -> None:
        self._pages = pages
        self._items: Iterator[T] = iter(())
        self._remaining = max_items
        """Items still to fetch pages for; ``None`` for no limit."""

    def __aiter__(self) -> ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        # Per item: one step of the current page's iterator; the rest is per page.
        for item in self._items:
            return item
        while self._remaining is None or self._remaining > 0:
            items = (await self._pages.__anext__()).items
            if self._remaining is not None:
                items = items[: self._remaining]
                self._remaining -= len(items)
            self._items = iter(items)
            for item in self._items:
                return item
        raise StopAsyncIteration
