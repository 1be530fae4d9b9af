"""Cursor walks (spec §1.6): following nextCursor, pages, resuming, caps and broken servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from msgflash_async import (
    AsyncPaginator,
    InternalServerError,
    MsgFlash,
    Page,
    PaginationError,
    ResponseDecodeError,
)
from msgflash_async._pagination import MAX_EMPTY_PAGES

from ._helpers import (
    CONTACTS,
    GROUP_ID,
    GROUPS,
    JOBS,
    REQUEST_ID,
    api_url,
    contact,
    data,
    error,
    page,
    sent,
)

QUERY: dict[str, str | int] = {"search": "awa", "sort": "name_asc", "limit": 2}


def serve_contacts(
    mock_api: Any, pages: list[tuple[list[str], str | None]], *, start: str | None = None
) -> None:
    """Serve contact pages at their cursors: the first at ``start``, each next at the last's."""
    cursor = start
    for ids, next_cursor in pages:
        query = QUERY if cursor is None else {**QUERY, "cursor": cursor}
        body = page("contacts", [contact(i) for i in ids], next_cursor, total=5)
        mock_api.get(api_url(CONTACTS, **query), payload=body, headers={"x-request-id": REQUEST_ID})
        cursor = next_cursor


def walk(client: MsgFlash, **options: Any) -> AsyncPaginator[Any]:
    return client.contacts.list(search="awa", sort="name_asc", limit=2, **options)


def contact_query(cursor: str | None = None) -> str:
    """The path and query of a contacts page request, as aioresponses records it."""
    query = QUERY if cursor is None else {**QUERY, "cursor": cursor}
    return api_url(CONTACTS, **query).raw_path_qs


async def gather_ids(paginator: AsyncPaginator[Any], seen: list[str]) -> None:
    """Walk ``paginator`` to its end, noting each item's id as it comes."""
    async for item in paginator:
        seen.append(item.id)


THREE_PAGES = [(["a", "b"], "c1"), (["c", "d"], "c2"), (["e"], None)]


async def test_follows_next_cursor_with_the_same_query(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, THREE_PAGES)

    ids = [item.id async for item in walk(client)]

    assert ids == ["a", "b", "c", "d", "e"]
    assert sent(mock_api) == [
        ("GET", contact_query()),
        ("GET", contact_query("c1")),
        ("GET", contact_query("c2")),
    ]


async def test_stops_when_has_more_is_false_even_with_a_cursor(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_api.get(
        api_url(CONTACTS, **QUERY),
        payload=data({"contacts": [contact("a")], "nextCursor": "c1", "hasMore": False}),
    )

    assert [item.id async for item in walk(client)] == ["a"]
    assert len(sent(mock_api)) == 1


async def test_stops_when_next_cursor_is_null_even_with_has_more(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_api.get(
        api_url(CONTACTS, **QUERY),
        payload=data({"contacts": [contact("a")], "nextCursor": None, "hasMore": True}),
    )

    assert [item.id async for item in walk(client)] == ["a"]
    assert len(sent(mock_api)) == 1


async def test_empty_pages_in_the_middle_are_walked_through(
    client: MsgFlash, mock_api: Any
) -> None:
    serve_contacts(mock_api, [([], "c1"), ([], "c2"), (["a"], None)])

    assert [item.id async for item in walk(client)] == ["a"]


async def test_pages_carry_cursor_total_and_request_id(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, THREE_PAGES)

    pages = [p async for p in walk(client).pages()]

    assert [[item.id for item in p.items] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
    assert [(p.cursor, p.next_cursor, p.has_more) for p in pages] == [
        (None, "c1", True),
        ("c1", "c2", True),
        ("c2", None, False),
    ]
    assert {(p.total, p.request_id) for p in pages} == {(5, REQUEST_ID)}
    assert all(isinstance(p, Page) for p in pages)


async def test_page_iterator_tells_where_to_resume(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, THREE_PAGES[:2])
    pages = walk(client).pages()

    first = await pages.__anext__()
    assert pages.cursor == first.next_cursor == "c1"
    await pages.__anext__()
    saved = pages.cursor

    serve_contacts(mock_api, THREE_PAGES[2:], start=saved)
    assert [item.id async for item in walk(client, cursor=saved)] == ["e"]


async def test_cursor_resumes_a_walk(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, THREE_PAGES[1:], start="c1")

    ids = [item.id async for item in walk(client, cursor="c1")]

    assert ids == ["c", "d", "e"]
    assert sent(mock_api)[0] == ("GET", contact_query("c1"))


@pytest.mark.parametrize(
    ("max_items", "ids", "requests"),
    [(0, [], 0), (1, ["a"], 1), (2, ["a", "b"], 1), (3, ["a", "b", "c"], 2), (9, list("abcde"), 3)],
)
async def test_max_items_caps_the_walk_and_its_requests(
    client: MsgFlash, mock_api: Any, max_items: int, ids: list[str], requests: int
) -> None:
    serve_contacts(mock_api, THREE_PAGES)

    assert [item.id async for item in walk(client, max_items=max_items)] == ids
    assert len(sent(mock_api)) == requests


async def test_first_page_fetches_one_page(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, THREE_PAGES)

    first = await walk(client).first_page()

    assert [item.id for item in first.items] == ["a", "b"]
    assert first.next_cursor == "c1"
    assert len(sent(mock_api)) == 1


@pytest.mark.parametrize(
    ("limit", "max_items", "ids", "requests"),
    [(3, None, ["a", "b", "c"], 2), (10, 4, ["a", "b", "c", "d"], 2), (0, None, [], 0)],
)
async def test_collect_gathers_a_bounded_list(
    client: MsgFlash,
    mock_api: Any,
    limit: int,
    max_items: int | None,
    ids: list[str],
    requests: int,
) -> None:
    serve_contacts(mock_api, THREE_PAGES)

    collected = await walk(client, max_items=max_items).collect(limit=limit)

    assert [item.id for item in collected] == ids
    assert len(sent(mock_api)) == requests


async def test_each_walk_starts_again(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, [(["a"], None)])
    serve_contacts(mock_api, [(["a"], None)])
    paginator = walk(client)

    assert [item.id async for item in paginator] == ["a"]
    assert [item.id async for item in paginator] == ["a"]
    assert len(sent(mock_api)) == 2


Lister = Callable[[MsgFlash], AsyncPaginator[Any]]


@pytest.mark.parametrize(
    ("lister", "path", "key"),
    [
        (lambda sdk: sdk.contacts.list(), CONTACTS, "contacts"),
        (lambda sdk: sdk.groups.list(), GROUPS, "groups"),
        (lambda sdk: sdk.groups.members(GROUP_ID), f"{GROUPS}/{GROUP_ID}/members", "members"),
        (lambda sdk: sdk.jobs.list(), JOBS, "jobs"),
    ],
    ids=["contacts", "groups", "members", "jobs"],
)
async def test_walks_ask_for_pages_of_100(
    client: MsgFlash, mock_api: Any, lister: Lister, path: str, key: str
) -> None:
    mock_api.get(api_url(path, limit=100), payload=page(key, []))

    assert [item async for item in lister(client)] == []
    assert sent(mock_api) == [("GET", api_url(path, limit=100).raw_path_qs)]


async def test_same_cursor_twice_raises_pagination_error(client: MsgFlash, mock_api: Any) -> None:
    serve_contacts(mock_api, [(["a"], "c1"), (["b"], "c1")])
    seen: list[str] = []

    with pytest.raises(PaginationError) as caught:
        await gather_ids(walk(client), seen)

    assert seen == ["a"]
    assert caught.value.cursor == "c1"
    assert len(sent(mock_api)) == 2


async def test_a_cursor_loop_raises_pagination_error(client: MsgFlash, mock_api: Any) -> None:
    # c1 -> c2 -> c1 -> c2 ... would never end: the server sent c1 back a second time.
    serve_contacts(mock_api, [(["a"], "c1"), (["b"], "c2"), (["c"], "c1")])

    with pytest.raises(PaginationError):
        [item async for item in walk(client)]

    assert len(sent(mock_api)) == 3


async def test_pagination_error_ends_the_page_iterator(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(CONTACTS, **QUERY, cursor="c1"), payload=page("contacts", [], "c1"))
    pages = walk(client, cursor="c1").pages()

    with pytest.raises(PaginationError):
        await pages.__anext__()

    assert [p async for p in pages] == []


async def test_error_mid_walk_carries_the_failed_page_cursor(
    client: MsgFlash, mock_api: Any
) -> None:
    serve_contacts(mock_api, THREE_PAGES[:1])
    mock_api.get(api_url(CONTACTS, **QUERY, cursor="c1"), status=500, payload=error("INTERNAL"))
    seen: list[str] = []

    with pytest.raises(InternalServerError) as caught:
        await gather_ids(walk(client), seen)

    assert seen == ["a", "b"]
    assert caught.value.cursor == "c1"

    serve_contacts(mock_api, THREE_PAGES[1:], start=caught.value.cursor)
    resumed = [item.id async for item in walk(client, cursor=caught.value.cursor)]
    assert seen + resumed == ["a", "b", "c", "d", "e"]


async def test_error_on_the_first_page_has_no_cursor(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(CONTACTS, **QUERY), body=b"<html>oops</html>")

    with pytest.raises(ResponseDecodeError) as caught:
        await walk(client).first_page()

    assert caught.value.cursor is None


# --- a server that never ends ----------------------------------------------------------------


class EndlessEmptyServer:
    """Answers every cursor with an empty page, a fresh cursor and ``hasMore: true``.

    Fails the test instead of hanging it when a walk does not stop.
    """

    def __init__(self, items_every: int | None = None) -> None:
        self.cursors: list[str | None] = []
        self._items_every = items_every

    async def __call__(self, cursor: str | None) -> Page[str]:
        self.cursors.append(cursor)
        served = len(self.cursors)
        assert served <= 1_000, "the walk did not stop"
        with_item = self._items_every is not None and served % self._items_every == 0
        return Page(
            items=(f"item-{served}",) if with_item else (),
            next_cursor=f"c{served}",
            has_more=True,
            cursor=cursor,
        )


@pytest.mark.parametrize("max_items", [None, 1])
async def test_endless_empty_pages_raise_pagination_error(max_items: int | None) -> None:
    server = EndlessEmptyServer()

    with pytest.raises(PaginationError, match=f"{MAX_EMPTY_PAGES} empty pages in a row") as caught:
        [item async for item in AsyncPaginator(server, max_items=max_items)]

    assert len(server.cursors) == MAX_EMPTY_PAGES
    assert caught.value.cursor == server.cursors[-1] == f"c{MAX_EMPTY_PAGES - 1}"


async def test_endless_empty_pages_stop_a_page_walk_and_collect() -> None:
    server = EndlessEmptyServer()
    pages = AsyncPaginator(server).pages()

    with pytest.raises(PaginationError):
        [page async for page in pages]
    assert [page async for page in pages] == []
    with pytest.raises(PaginationError):
        await AsyncPaginator(server).collect(limit=1)


async def test_empty_pages_between_items_never_stop_a_walk() -> None:
    # MAX_EMPTY_PAGES - 1 empty pages, then one item, again and again: a slow but live list.
    server = EndlessEmptyServer(items_every=MAX_EMPTY_PAGES)

    items = await AsyncPaginator(server).collect(limit=20)

    assert len(items) == 20
    assert len(server.cursors) == 20 * MAX_EMPTY_PAGES


async def test_a_run_of_empty_pages_from_the_api_raises_pagination_error(
    client: MsgFlash, mock_api: Any
) -> None:
    empties: list[tuple[list[str], str | None]] = [
        ([], f"e{n}") for n in range(1, MAX_EMPTY_PAGES + 1)
    ]
    serve_contacts(mock_api, [(["a"], "c1"), *empties], start=None)
    seen: list[str] = []

    with pytest.raises(PaginationError) as caught:
        await gather_ids(walk(client, max_items=2), seen)

    assert seen == ["a"]
    assert len(sent(mock_api)) == 1 + MAX_EMPTY_PAGES
    assert caught.value.cursor == f"e{MAX_EMPTY_PAGES - 1}"
