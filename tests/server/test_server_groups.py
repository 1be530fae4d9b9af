"""Contact groups (G1 to G8), the group limit, and the inline bulk results (C6, G6, G7)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from server_support import FAST, ManualClock, call, seed_group

from msgflash_async.testing import LocalMsgFlash


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return {**FAST, "clock": ManualClock()}


async def test_create_returns_the_full_group(msgflash_http: aiohttp.ClientSession) -> None:
    body = {"name": "VIP clients", "description": "High-value customers", "color": "#F59E0B"}

    reply = await call(msgflash_http, "POST", "/contacts/groups", json=body)
    bare = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "Bare"})

    assert reply.status == 201
    assert reply.data == {
        **body,
        "id": reply.data["id"],
        "contactCount": 0,
        "createdAt": "2026-04-01T10:00:00.000Z",
        "updatedAt": "2026-04-01T10:00:00.000Z",
    }
    assert (bare.data["description"], bare.data["color"]) == (None, None)


async def test_list_get_update_delete(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    first, second = ws.add_group("First"), ws.add_group("Second", color="#000000")
    expected = [first.to_json(), second.to_json()]

    listed = await call(msgflash_http, "GET", "/contacts/groups")
    got = await call(msgflash_http, "GET", f"/contacts/groups/{second.id}")
    updated = await call(
        msgflash_http, "PUT", f"/contacts/groups/{second.id}", json={"description": "d"}
    )
    deleted = await call(msgflash_http, "DELETE", f"/contacts/groups/{first.id}")
    again = await call(msgflash_http, "GET", f"/contacts/groups/{first.id}")

    assert listed.data == {
        "groups": expected,
        "nextCursor": None,
        "hasMore": False,
        "total": 2,
        "limit": 50,
    }
    assert got.data["color"] == "#000000"
    assert updated.data["description"] == "d"
    assert updated.data["color"] == "#000000"
    assert updated.data["updatedAt"] > updated.data["createdAt"]
    assert deleted.body == {"data": {"id": first.id, "deleted": True}}
    assert again.body == {"error": {"code": "NOT_FOUND", "message": "Group not found"}}


@pytest.mark.parametrize(("taken", "name"), [("VIP", "vip"), ("Straße", "STRASSE"), ("a", "a")])
async def test_group_names_are_unique_case_insensitively(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession, taken: str, name: str
) -> None:
    existing = msgflash_server.workspace().add_group(taken)

    reply = await call(msgflash_http, "POST", "/contacts/groups", json={"name": name})

    assert reply.status == 409
    assert reply.body == {
        "error": {
            "code": "CONFLICT",
            "message": "A group with the same name already exists",
            "details": [{"field": "name", "existingId": existing.id}],
        }
    }


async def test_renaming_checks_other_groups_only(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    vip, other = ws.add_group("VIP"), ws.add_group("Other")

    recased = await call(msgflash_http, "PUT", f"/contacts/groups/{vip.id}", json={"name": "Vip"})
    clash = await call(msgflash_http, "PUT", f"/contacts/groups/{other.id}", json={"name": "VIP"})
    freed = await call(msgflash_http, "PUT", f"/contacts/groups/{vip.id}", json={"name": "Gold"})
    reused = await call(msgflash_http, "PUT", f"/contacts/groups/{other.id}", json={"name": "vip"})

    assert recased.data["name"] == "Vip"
    assert clash.status == 409
    assert clash.error["details"] == [{"field": "name", "existingId": vip.id}]
    assert freed.status == 200
    assert reused.data["name"] == "vip"


async def test_the_default_group_limit_is_ten(msgflash_http: aiohttp.ClientSession) -> None:
    for number in range(10):
        created = await call(msgflash_http, "POST", "/contacts/groups", json={"name": f"G{number}"})
        assert created.status == 201

    reply = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "Eleventh"})

    assert reply.status == 403
    assert reply.body == {
        "error": {
            "code": "MAX_CONTACT_GROUPS_REACHED",
            "message": "Your plan allows a maximum of 10 contact groups",
        }
    }


@pytest.mark.parametrize("msgflash_server_options", [{**FAST, "max_contact_groups": 2}])
async def test_the_group_limit_is_configurable_and_deleting_frees_a_slot(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    first, _ = ws.add_group("A"), ws.add_group("B")

    refused = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "C"})
    await call(msgflash_http, "DELETE", f"/contacts/groups/{first.id}")
    accepted = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "A"})

    assert refused.error["message"] == "Your plan allows a maximum of 2 contact groups"
    assert accepted.status == 201


async def test_minus_one_means_unlimited_and_lowering_removes_nothing(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    ws.max_contact_groups = -1
    for number in range(15):
        assert (
            await call(msgflash_http, "POST", "/contacts/groups", json={"name": f"G{number}"})
        ).status == 201

    ws.max_contact_groups = 3
    refused = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "More"})
    listed = await call(msgflash_http, "GET", "/contacts/groups")

    assert refused.status == 403
    assert listed.data["total"] == 15


async def test_deleting_a_group_keeps_its_contacts(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 3)

    await call(msgflash_http, "DELETE", f"/contacts/groups/{group.id}")
    groups_of = await call(msgflash_http, "GET", f"/contacts/{contacts[0].id}/groups")

    assert len(ws.contacts) == 3
    assert groups_of.data == []


async def test_add_members_inline(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    (a, b, c), group = seed_group(ws, 3, members=1)

    reply = await call(
        msgflash_http,
        "POST",
        f"/contacts/groups/{group.id}/members",
        json={"contactIds": [a.id, b.id, "nope", c.id, b.id, "nope"]},
    )

    assert reply.status == 200
    assert reply.body == {"data": {"added": 2, "alreadyInGroup": 1, "notFound": 1, "total": 4}}
    assert ws.members(group.id) == [a.id, b.id, c.id]
    assert ws.groups[group.id].contact_count == 3
    assert ws.groups[group.id].updated_at == group.created_at
    assert b.updated_at == b.created_at


async def test_remove_members_inline(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    (a, b, c), group = seed_group(ws, 3, members=2)

    reply = await call(
        msgflash_http,
        "DELETE",
        f"/contacts/groups/{group.id}/members",
        json={"contactIds": [b.id, c.id, "nope", b.id]},
    )
    count = await call(msgflash_http, "GET", f"/contacts/groups/{group.id}")

    assert reply.body == {"data": {"removed": 1, "notInGroup": 2}}
    assert ws.members(group.id) == [a.id]
    assert count.data["contactCount"] == 1
    assert len(ws.contacts) == 3


async def test_bulk_delete_inline(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    (a, b, c), group = seed_group(ws, 3, members=2)

    reply = await call(
        msgflash_http,
        "POST",
        "/contacts/bulk-delete",
        json={"contactIds": ["z", a.id, "y", a.id, "z", c.id]},
    )

    assert reply.body == {"data": {"requested": 4, "deleted": 2, "notFound": ["z", "y"]}}
    assert list(ws.contacts) == [b.id]
    assert ws.members(group.id) == [b.id]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/members"), ("DELETE", "/members"), ("GET", "/members")],
)
async def test_member_routes_of_an_unknown_group_get_404(
    msgflash_http: aiohttp.ClientSession, method: str, path: str
) -> None:
    body = None if method == "GET" else {"contactIds": ["a"]}

    reply = await call(msgflash_http, method, f"/contacts/groups/unknown{path}", json=body)

    assert reply.body == {"error": {"code": "NOT_FOUND", "message": "Group not found"}}


async def test_member_items_are_contacts_with_added_at_in_added_order(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    first, second = ws.seed_contacts(2)
    group = ws.add_group("G")
    ws.add_members(group.id, [second.id])
    ws.add_members(group.id, [first.id])

    reply = await call(msgflash_http, "GET", f"/contacts/groups/{group.id}/members")

    members = reply.data["members"]
    assert [member["id"] for member in members] == [second.id, first.id]
    assert members[0] == {**second.to_json(), "addedAt": group.members[second.id]}
    assert members[0]["addedAt"] < members[1]["addedAt"]
    assert reply.data["total"] == 2
    assert reply.data["limit"] == 50
    assert "sort" not in reply.data
