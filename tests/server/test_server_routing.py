"""Routing (§4.1): literal segments before ``{id}``, and 404 "Route not found" otherwise."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from server_support import FAST, call

from msgflash_async.testing import ROUTE_NAMES, LocalMsgFlash

ROUTE_NOT_FOUND = {"error": {"code": "NOT_FOUND", "message": "Route not found"}}


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return dict(FAST)


async def test_every_endpoint_has_its_route(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    cid, gid, jid = "c-1", "g-1", "j-1"
    requests = [
        ("GET", "/contacts", "contacts.list"),
        ("POST", "/contacts", "contacts.create"),
        ("GET", f"/contacts/{cid}", "contacts.get"),
        ("PUT", f"/contacts/{cid}", "contacts.update"),
        ("DELETE", f"/contacts/{cid}", "contacts.delete"),
        ("POST", "/contacts/bulk-delete", "contacts.bulk_delete"),
        ("GET", f"/contacts/{cid}/groups", "contacts.groups"),
        ("GET", "/contacts/bulk-jobs", "jobs.list"),
        ("GET", f"/contacts/bulk-jobs/{jid}", "jobs.get"),
        ("GET", f"/contacts/bulk-jobs/{jid}/progress", "jobs.progress"),
        ("POST", f"/contacts/bulk-jobs/{jid}/cancel", "jobs.cancel"),
        ("GET", "/contacts/groups", "groups.list"),
        ("POST", "/contacts/groups", "groups.create"),
        ("GET", f"/contacts/groups/{gid}", "groups.get"),
        ("PUT", f"/contacts/groups/{gid}", "groups.update"),
        ("DELETE", f"/contacts/groups/{gid}", "groups.delete"),
        ("POST", f"/contacts/groups/{gid}/members", "groups.members.add"),
        ("DELETE", f"/contacts/groups/{gid}/members", "groups.members.remove"),
        ("GET", f"/contacts/groups/{gid}/members", "groups.members.list"),
    ]

    for method, path, _ in requests:
        await call(msgflash_http, method, path, json={})

    assert [(entry.method, entry.route) for entry in msgflash_server.requests] == [
        (method, name) for method, _, name in requests
    ]
    assert sorted(name for _, _, name in requests) == sorted(ROUTE_NAMES)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", ""),
        ("GET", "/contacts/"),
        ("GET", "/contacts/c-1/groups/g-1"),
        ("PATCH", "/contacts/c-1"),
        ("POST", "/contacts/c-1"),
        ("PUT", "/contacts"),
        ("DELETE", "/contacts"),
        ("GET", "/contacts/bulk-delete"),
        ("DELETE", "/contacts/bulk-delete"),
        ("PUT", "/contacts/bulk-delete"),
        ("POST", "/contacts/bulk-jobs"),
        ("DELETE", "/contacts/bulk-jobs/j-1"),
        ("POST", "/contacts/bulk-jobs/j-1/progress"),
        ("GET", "/contacts/bulk-jobs/j-1/cancel"),
        ("PUT", "/contacts/groups"),
        ("DELETE", "/contacts/groups"),
        ("POST", "/contacts/groups/g-1"),
        ("PUT", "/contacts/groups/g-1/members"),
        ("POST", "/contacts/c-1/groups"),
    ],
)
async def test_unknown_paths_and_wrong_methods(
    msgflash_http: aiohttp.ClientSession, method: str, path: str
) -> None:
    reply = await call(msgflash_http, method, path, json={"contactIds": ["a"]})

    assert reply.status == 404
    assert reply.body == ROUTE_NOT_FOUND


async def test_paths_outside_the_api_prefix_are_unknown(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    for path in ["/api/v2/contacts", "/contacts", "/api/contacts", "/"]:
        async with msgflash_http.get(path) as response:
            assert response.status == 404
            assert await response.json() == ROUTE_NOT_FOUND


async def test_literal_segments_win_over_contact_ids(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.workspace().add_group("G")

    groups = await call(msgflash_http, "GET", "/contacts/groups")
    jobs = await call(msgflash_http, "GET", "/contacts/bulk-jobs")
    group_named_members = await call(msgflash_http, "GET", "/contacts/groups/members")

    assert [group["name"] for group in groups.data["groups"]] == ["G"]
    assert jobs.data == {"jobs": [], "nextCursor": None, "hasMore": False}
    assert group_named_members.error["message"] == "Group not found"
