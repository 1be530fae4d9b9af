"""Inputs as callers send them: an empty web-form field, and literal sort orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

import pytest
from aioresponses import aioresponses

from msgflash_async import ContactSort, InvalidInputError, MsgFlash

from ._helpers import CONTACTS, GROUP_ID, GROUPS, api_url, page


async def test_an_empty_search_filters_nothing(mock_api: aioresponses, client: MsgFlash) -> None:
    mock_api.get(api_url(CONTACTS, limit=100), payload=page("contacts", []))
    mock_api.get(api_url(GROUPS, limit=100), payload=page("groups", []))
    mock_api.get(api_url(f"{GROUPS}/{GROUP_ID}/members", limit=100), payload=page("members", []))
    assert [item async for item in client.contacts.list(search="")] == []
    assert [item async for item in client.groups.list(search="")] == []
    assert [item async for item in client.groups.members(GROUP_ID, search="")] == []
    # aioresponses matched each URL exactly: no ``search`` was sent


@pytest.mark.parametrize("search", [" " * 101, 5, b"awa"])
def test_a_bad_search_is_still_refused(client: MsgFlash, search: object) -> None:
    with pytest.raises(InvalidInputError, match="search"):
        client.contacts.list(search=search)  # type: ignore[arg-type]


def test_contact_sorts_are_literal_types(client: MsgFlash) -> None:
    assert get_args(ContactSort) == ("createdAt_desc", "name_asc")
    if TYPE_CHECKING:
        # mypy --strict flags an unneeded ignore: this line proves mypy refuses the sort.
        client.contacts.list(sort="bogus")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="sort"):
        client.contacts.list(sort="bogus")  # type: ignore[arg-type]


async def test_an_empty_cursor_starts_the_walk(mock_api: aioresponses, client: MsgFlash) -> None:
    mock_api.get(api_url(CONTACTS, limit=100), payload=page("contacts", []))
    mock_api.get(api_url("/api/v1/contacts/bulk-jobs", limit=100), payload=page("jobs", []))
    assert [item async for item in client.contacts.list(cursor="")] == []
    assert [item async for item in client.jobs.list(cursor="")] == []
