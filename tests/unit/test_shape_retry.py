"""Issue #9, item 2: a 2xx of the wrong shape is an unknown outcome, judged in the retry loop.

An empty 200, ``{"data": null}`` or ``{"data": {}}`` to a GET or PUT is sent again like a
garbled answer; an empty or shapeless 201 to a create goes through the create's re-send, whose
409 names the contact the first attempt made, and never makes a second one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from yarl import URL

from msgflash_async import MsgFlash, ResponseDecodeError, RetryPolicy
from msgflash_async.testing import FakeClock

from ._helpers import (
    CONFLICT_NAME,
    CONFLICT_PHONE,
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    EXISTING_ID,
    GROUP,
    GROUP_ID,
    GROUPS,
    JOBS,
    JOBS_PAGE,
    MEMBERS_PAGE,
    api_url,
    data,
    page,
    sent,
    sent_json,
)
from .conftest import ClientFactory

WRONG_SHAPES: dict[str, dict[str, Any]] = {
    "empty-200": {"status": 200, "body": b""},
    "data-null": {"status": 200, "payload": {"data": None}},
    "data-empty-object": {"status": 200, "payload": {"data": {}}},
}


@dataclass(frozen=True)
class Read:
    """A GET or PUT, and the answer that ends it well."""

    id: str
    method: str
    url: URL
    invoke: Callable[[MsgFlash], Awaitable[Any]]
    answer: Any


READS = [
    Read(
        "contacts.get",
        "GET",
        api_url(f"{CONTACTS}/{CONTACT_ID}"),
        lambda sdk: sdk.contacts.get(CONTACT_ID),
        data(CONTACT),
    ),
    Read(
        "contacts.update",
        "PUT",
        api_url(f"{CONTACTS}/{CONTACT_ID}"),
        lambda sdk: sdk.contacts.update(CONTACT_ID, name="Awa Doe"),
        data(CONTACT),
    ),
    Read(
        "contacts.list",
        "GET",
        api_url(CONTACTS, limit=100),
        lambda sdk: sdk.contacts.list().first_page(),
        page("contacts", [CONTACT]),
    ),
    Read(
        "contacts.groups",
        "GET",
        api_url(f"{CONTACTS}/{CONTACT_ID}/groups"),
        lambda sdk: sdk.contacts.groups(CONTACT_ID),
        data({"groups": [GROUP]}),
    ),
    Read(
        "groups.get",
        "GET",
        api_url(f"{GROUPS}/{GROUP_ID}"),
        lambda sdk: sdk.groups.get(GROUP_ID),
        data(GROUP),
    ),
    Read(
        "groups.update",
        "PUT",
        api_url(f"{GROUPS}/{GROUP_ID}"),
        lambda sdk: sdk.groups.update(GROUP_ID, color="#F59E0B"),
        data(GROUP),
    ),
    Read(
        "groups.list",
        "GET",
        api_url(GROUPS, limit=100),
        lambda sdk: sdk.groups.list().first_page(),
        page("groups", [GROUP]),
    ),
    Read(
        "groups.members",
        "GET",
        api_url(f"{GROUPS}/{GROUP_ID}/members", limit=100),
        lambda sdk: sdk.groups.members(GROUP_ID).first_page(),
        MEMBERS_PAGE,
    ),
    Read(
        "jobs.list",
        "GET",
        api_url(JOBS, limit=100),
        lambda sdk: sdk.jobs.list().first_page(),
        JOBS_PAGE,
    ),
]


@pytest.mark.parametrize("shape", WRONG_SHAPES)
@pytest.mark.parametrize("read", READS, ids=lambda read: read.id)
async def test_a_wrong_shaped_answer_to_a_get_or_put_is_sent_again(
    read: Read, shape: str, make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    mock_api.add(read.url, method=read.method, payload=read.answer)  # for the expected value
    mock_api.add(read.url, method=read.method, **WRONG_SHAPES[shape])
    mock_api.add(read.url, method=read.method, payload=read.answer)
    client = make_client()
    expected = await read.invoke(client)

    assert await read.invoke(client) == expected
    assert sent(mock_api) == [(read.method, read.url.raw_path_qs)] * 3
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("shape", WRONG_SHAPES)
async def test_a_wrong_shape_every_time_is_raised_once_the_retries_are_spent(
    shape: str, make_client: ClientFactory, mock_api: Any
) -> None:
    read = READS[0]
    mock_api.add(read.url, method=read.method, repeat=True, **WRONG_SHAPES[shape])

    with pytest.raises(ResponseDecodeError):
        await read.invoke(make_client(retry=RetryPolicy(max_retries=2)))

    assert len(sent(mock_api)) == 3


def _now() -> str:
    """The current time as the API writes it: ``2026-04-01T10:00:00.000Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


@dataclass(frozen=True)
class Create:
    """A create, the 409 a re-send meets, and the record the 409 names."""

    id: str
    url: URL
    invoke: Callable[[MsgFlash], Awaitable[Any]]
    conflict: dict[str, Any]
    holder_url: URL
    holder: dict[str, Any]


CREATES = [
    Create(
        "contact",
        api_url(CONTACTS),
        lambda sdk: sdk.contacts.create(
            name="Awa Doe", phone="+33612345000", tags=["vip"], meta={"city": "Cotonou"}
        ),
        CONFLICT_PHONE,
        api_url(f"{CONTACTS}/{EXISTING_ID}"),
        {**CONTACT, "id": EXISTING_ID},
    ),
    Create(
        "group",
        api_url(GROUPS),
        lambda sdk: sdk.groups.create(
            name="VIP clients", description="High-value customers", color="#F59E0B"
        ),
        CONFLICT_NAME,
        api_url(f"{GROUPS}/{GROUP_ID}"),
        GROUP,
    ),
]
CREATED_SHAPES = {
    "empty-201": {"status": 201, "body": b""},
    "data-null": {"status": 201, "payload": {"data": None}},
    "data-empty-object": {"status": 201, "payload": {"data": {}}},
}


@pytest.mark.parametrize("shape", CREATED_SHAPES)
@pytest.mark.parametrize("create", CREATES, ids=lambda create: create.id)
async def test_a_shapeless_201_to_a_create_is_resolved_by_the_resend_without_a_duplicate(
    create: Create, shape: str, make_client: ClientFactory, mock_api: Any
) -> None:
    holder = {**create.holder, "createdAt": _now()}
    mock_api.post(create.url, **CREATED_SHAPES[shape])  # made, but the answer says nothing
    mock_api.post(create.url, status=409, payload=create.conflict)
    mock_api.get(create.holder_url, payload=data(holder))

    created = await create.invoke(make_client())

    assert created.id == holder["id"]
    posts = mock_api.requests[("POST", create.url)]
    assert len(posts) == 2
    assert sent_json(posts[0]) == sent_json(posts[1])
    assert len(mock_api.requests[("GET", create.holder_url)]) == 1
    assert len(sent(mock_api)) == 3


@pytest.mark.parametrize(
    "shape", [{"payload": {"data": None}}, {"body": b""}], ids=["data-null", "empty-200"]
)
async def test_a_delete_takes_any_2xx_answer(
    shape: dict[str, Any], make_client: ClientFactory, mock_api: Any
) -> None:
    """The specification (C5, G5) accepts any 2xx to a delete: its payload says nothing more."""
    url = api_url(f"{CONTACTS}/{CONTACT_ID}")
    mock_api.delete(url, status=200, **shape)

    await make_client().contacts.delete(CONTACT_ID)

    assert len(sent(mock_api)) == 1
