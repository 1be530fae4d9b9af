"""Cursor pagination (§1.6, §4.5): defaults, orders, cursors, search and stability."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from server_support import FAST, call, details, ids_of, seed_group

from msgflash_async.testing import LocalMsgFlash, Workspace

FOREIGN = "Cursor was issued for another list, sort or group"


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return dict(FAST)


async def walk(
    http: aiohttp.ClientSession,
    path: str,
    items_key: str,
    params: dict[str, str] | None = None,
    between_pages: Callable[[int], None] | None = None,
) -> list[str]:
    """The ids of every item of a list, page by page; checks each page's cursor fields."""
    ids: list[str] = []
    query = dict(params or {})
    for number in range(10_000):
        page = (await call(http, "GET", path, params=query)).data
        ids += [item["id"] for item in page[items_key]]
        assert (page["nextCursor"] is not None) == page["hasMore"]
        if not page["hasMore"]:
            return ids
        query["cursor"] = page["nextCursor"]
        if between_pages is not None:
            between_pages(number)
    raise AssertionError("the walk did not end")


def cursor_of(*parts: Any) -> str:
    return base64.b64encode(json.dumps(list(parts)).encode()).decode()


async def test_default_and_maximum_page_sizes(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    ws.seed_contacts(120)
    for _ in range(25):
        ws.start_job("bulk_delete_contacts", None, ["x"] * 100)

    contacts = await call(msgflash_http, "GET", "/contacts")
    largest = await call(msgflash_http, "GET", "/contacts", params={"limit": "100"})
    jobs = await call(msgflash_http, "GET", "/contacts/bulk-jobs")
    too_large = await call(msgflash_http, "GET", "/contacts/bulk-jobs", params={"limit": "101"})

    assert len(contacts.data["contacts"]) == 50
    assert contacts.data["limit"] == 50
    assert contacts.data["total"] == 120
    assert len(largest.data["contacts"]) == 100
    assert len(jobs.data["jobs"]) == 20
    assert set(jobs.data) == {"jobs", "nextCursor", "hasMore"}
    assert details(too_large) == [("limit", "Must be an integer from 1 to 100")]


async def test_every_list_walks_in_its_documented_order(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    ws.max_contact_groups = -1
    names = ["bob", "Alice", "alice", "Émile", "zoe", "ALICE", "Bob", "émile"] * 3
    contacts = [ws.add_contact(name, f"+1{index:04d}") for index, name in enumerate(names)]
    groups = [ws.add_group(f"G{index}") for index in range(12)]
    ws.add_members(groups[0].id, [contact.id for contact in reversed(contacts)])
    jobs = [ws.start_job("add_to_group", groups[1].id, ["x"] * 100) for _ in range(9)]
    members_path = f"/contacts/groups/{groups[0].id}/members"
    limit = {"limit": "5"}

    assert await walk(msgflash_http, "/contacts", "contacts", limit) == [
        contact.id for contact in reversed(contacts)
    ]
    assert await walk(msgflash_http, "/contacts", "contacts", {**limit, "sort": "name_asc"}) == [
        contact.id for contact in sorted(contacts, key=lambda c: (c.name.casefold(), c.id))
    ]
    assert await walk(msgflash_http, "/contacts/groups", "groups", limit) == [
        group.id for group in groups
    ]
    assert await walk(msgflash_http, members_path, "members", limit) == [
        contact.id for contact in reversed(contacts)
    ]
    assert await walk(msgflash_http, "/contacts/bulk-jobs", "jobs", {"limit": "2"}) == [
        job.id for job in reversed(jobs)
    ]


async def test_created_at_ties_are_broken_by_id(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts = ws.seed_contacts(6)
    for contact in contacts:
        ws.contacts_by_created.remove(contact.created_key)
        contact.created_at = "2026-01-01T00:00:00.000Z"
        ws.contacts_by_created.add(contact.created_key)

    walked = await walk(msgflash_http, "/contacts", "contacts", {"limit": "4"})

    assert walked == sorted((contact.id for contact in contacts), reverse=True)


async def test_the_cursor_is_base64_json_of_kind_sort_value_and_id(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    ws.add_contact("Zed", "+11")
    awa = ws.add_contact("Awa DOE", "+12")
    newest = ws.add_contact("Bea", "+13")
    group = ws.add_group("G")
    ws.add_members(group.id, [awa.id, newest.id])

    by_date = await call(msgflash_http, "GET", "/contacts", params={"limit": "1"})
    by_name = await call(
        msgflash_http, "GET", "/contacts", params={"limit": "1", "sort": "name_asc"}
    )
    members = await call(
        msgflash_http, "GET", f"/contacts/groups/{group.id}/members", params={"limit": "1"}
    )

    def decoded(reply: Any) -> Any:
        return json.loads(base64.b64decode(reply.data["nextCursor"], validate=True))

    assert decoded(by_date) == ["contacts.createdAt_desc", newest.created_at, newest.id]
    assert decoded(by_name) == ["contacts.name_asc", "awa doe", awa.id]
    assert decoded(members) == [f"members.{group.id}", group.members[awa.id], awa.id]
    assert by_name.data["sort"] == "name_asc"


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "not base64!",
        "YWJj",  # "abc"
        cursor_of("contacts.createdAt_desc", "x")[:-3],
        base64.b64encode(b'{"kind": "contacts.createdAt_desc"}').decode(),
        cursor_of("contacts.createdAt_desc", "2026-01-01T00:00:00.000Z"),
        cursor_of("contacts.createdAt_desc", "2026-01-01T00:00:00.000Z", "id", "extra"),
        cursor_of("contacts.createdAt_desc", 5, "id"),
        cursor_of(None, "a", "b"),
        base64.b64encode("é".encode()).decode(),
        "",
    ],
)
async def test_malformed_cursors(msgflash_http: aiohttp.ClientSession, cursor: str) -> None:
    reply = await call(msgflash_http, "GET", "/contacts", params={"cursor": cursor})

    assert details(reply) == [("cursor", "Malformed cursor")]


async def test_cursors_of_another_list_sort_or_group_are_refused(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    ws.seed_contacts(3)
    first, second = ws.add_group("A"), ws.add_group("B")
    ws.add_members(first.id, list(ws.contacts))
    ws.add_members(second.id, list(ws.contacts))
    for _ in range(2):
        ws.start_job("bulk_delete_contacts", None, ["x"] * 100)
    one = {"limit": "1"}

    async def cursor(path: str, params: dict[str, str] = one) -> str:
        cursor: str = (await call(msgflash_http, "GET", path, params=params)).data["nextCursor"]
        return cursor

    by_date = await cursor("/contacts")
    by_name = await cursor("/contacts", {**one, "sort": "name_asc"})
    groups = await cursor("/contacts/groups")
    members = await cursor(f"/contacts/groups/{first.id}/members")
    jobs = await cursor("/contacts/bulk-jobs")
    misuses = [
        ("/contacts", {"cursor": by_name}),
        ("/contacts", {"cursor": by_date, "sort": "name_asc"}),
        ("/contacts", {"cursor": groups}),
        ("/contacts/groups", {"cursor": by_date}),
        (f"/contacts/groups/{second.id}/members", {"cursor": members}),
        (f"/contacts/groups/{first.id}/members", {"cursor": groups}),
        ("/contacts/bulk-jobs", {"cursor": members}),
        ("/contacts/groups", {"cursor": jobs}),
        ("/contacts/groups", {"cursor": cursor_of("members", "a", "b")}),
    ]

    for path, params in misuses:
        reply = await call(msgflash_http, "GET", path, params=params)
        assert details(reply) == [("cursor", FOREIGN)], (path, params)


async def test_a_foreign_cursor_is_not_judged_under_an_invalid_sort(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    cursor = cursor_of("groups", "a", "b")

    reply = await call(msgflash_http, "GET", "/contacts", params={"cursor": cursor, "sort": "x"})

    assert details(reply) == [("sort", "Must be one of: createdAt_desc, name_asc")]


async def test_a_cursor_survives_the_deletion_of_its_boundary_item(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts = ws.seed_contacts(5)
    first = await call(msgflash_http, "GET", "/contacts", params={"limit": "2"})
    boundary = first.data["contacts"][-1]["id"]

    ws.delete_contact(boundary)
    rest = await call(
        msgflash_http, "GET", "/contacts", params={"limit": "5", "cursor": first.data["nextCursor"]}
    )

    assert [c["id"] for c in rest.data["contacts"]] == [c.id for c in reversed(contacts[:3])]
    assert rest.data["hasMore"] is False
    assert rest.data["nextCursor"] is None


def churn(ws: Workspace, group_id: str, doomed: list[str]) -> Callable[[int], None]:
    """Between pages: add contacts (and members), delete one of ``doomed``."""

    def between_pages(number: int) -> None:
        for contact in ws.seed_contacts(3, name_prefix="Late"):
            ws.add_members(group_id, [contact.id])
        if doomed:
            ws.delete_contact(doomed.pop())

    return between_pages


@pytest.mark.parametrize(
    ("path", "items_key", "params"),
    [
        ("/contacts", "contacts", {}),
        ("/contacts", "contacts", {"sort": "name_asc"}),
        ("/contacts", "contacts", {"search": "contact"}),
        ("members", "members", {}),
    ],
)
async def test_walks_are_stable_under_inserts_and_deletes(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    path: str,
    items_key: str,
    params: dict[str, str],
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 60)
    doomed = ids_of(contacts[::7])
    steady = set(ids_of(contacts)) - set(doomed)
    if path == "members":
        path = f"/contacts/groups/{group.id}/members"

    walked = await walk(
        msgflash_http, path, items_key, {**params, "limit": "7"}, churn(ws, group.id, doomed)
    )

    assert len(walked) == len(set(walked))
    assert steady <= set(walked)


async def test_search_is_a_case_insensitive_substring_of_name_or_phone(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    awa = ws.add_contact("Awa Doe", "+33612345000")
    kwame = ws.add_contact("KWAME", "+22990000000")
    ws.add_contact("Bea", "+4479")
    group = ws.add_group("G")
    ws.add_members(group.id, list(ws.contacts))

    async def found(search: str, path: str = "/contacts", key: str = "contacts") -> list[str]:
        reply = await call(msgflash_http, "GET", path, params={"search": search})
        assert reply.data["total"] == len(reply.data[key])
        return [item["id"] for item in reply.data[key]]

    assert await found("awa") == [awa.id]
    assert await found("WA") == [kwame.id, awa.id]
    assert await found("336") == [awa.id]
    assert await found("+336") == [awa.id]
    assert await found("zzz") == []
    members = f"/contacts/groups/{group.id}/members"
    assert await found("wa", members, "members") == [awa.id, kwame.id]
    assert await found("+229", members, "members") == [kwame.id]


async def test_group_search_matches_name_or_description(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    vip = ws.add_group("VIP clients")
    loyal = ws.add_group("Loyal", description="Our vip regulars")
    ws.add_group("Others")

    reply = await call(msgflash_http, "GET", "/contacts/groups", params={"search": "Vip"})

    assert [group["id"] for group in reply.data["groups"]] == [vip.id, loyal.id]
    assert reply.data["total"] == 2


async def test_search_pages_and_totals_follow_changes(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    matching = ws.seed_contacts(25, name_prefix="Match")
    ws.seed_contacts(40, name_prefix="Other")

    walked = await walk(msgflash_http, "/contacts", "contacts", {"search": "match", "limit": "10"})
    before = await call(msgflash_http, "GET", "/contacts", params={"search": "match"})
    ws.add_contact("Late match", "+99")
    ws.update_contact(matching[0], name="Renamed")
    after = await call(msgflash_http, "GET", "/contacts", params={"search": "match"})

    assert walked == [contact.id for contact in reversed(matching)]
    assert before.data["total"] == 25
    assert after.data["total"] == 25
    assert after.data["contacts"][0]["name"] == "Late match"
