"""Contacts (C1 to C5, C7): shapes, updates, conflicts and cascades."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from server_support import FAST, TIMESTAMP_PATTERN, UUID_PATTERN, ManualClock, call

from msgflash_async.testing import ApiError, LocalMsgFlash


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return {**FAST, "clock": ManualClock()}


async def test_create_returns_the_full_contact(msgflash_http: aiohttp.ClientSession) -> None:
    body = {"name": "Awa Doe", "phone": "+33612345000", "tags": ["vip", "newsletter"]}
    reply = await call(msgflash_http, "POST", "/contacts", json={**body, "meta": {"city": "X"}})

    assert reply.status == 201
    contact = reply.data
    assert set(contact) == {
        "id", "name", "phone", "tags", "meta", "temperature", "createdAt", "updatedAt"
    }  # fmt: skip
    assert re.fullmatch(UUID_PATTERN, contact["id"])
    assert re.fullmatch(TIMESTAMP_PATTERN, contact["createdAt"])
    assert contact["updatedAt"] == contact["createdAt"]
    assert contact == {
        **body,
        "id": contact["id"],
        "meta": {"city": "X"},
        "temperature": None,
        "createdAt": "2026-04-01T10:00:00.000Z",
        "updatedAt": "2026-04-01T10:00:00.000Z",
    }


async def test_create_defaults_tags_and_meta(msgflash_http: aiohttp.ClientSession) -> None:
    reply = await call(msgflash_http, "POST", "/contacts", json={"name": "A", "phone": "+12"})

    assert reply.data["tags"] == []
    assert reply.data["meta"] == {}


async def test_get_returns_the_contact(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact("Awa", "+33612345000", tags=["vip"])

    reply = await call(msgflash_http, "GET", f"/contacts/{contact.id}")

    assert reply.status == 200
    assert reply.data == contact.to_json()
    assert reply.data["tags"] == ["vip"]


@pytest.mark.parametrize("contact_id", ["unknown", "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47", "%20"])
async def test_unknown_contact_ids_get_404_whatever_their_shape(
    msgflash_http: aiohttp.ClientSession, contact_id: str
) -> None:
    for method in ("GET", "PUT", "DELETE"):
        body: dict[str, str] | None = {} if method == "PUT" else None
        reply = await call(msgflash_http, method, f"/contacts/{contact_id}", json=body)
        assert reply.status == 404
        assert reply.body == {"error": {"code": "NOT_FOUND", "message": "Contact not found"}}
    reply = await call(msgflash_http, "GET", f"/contacts/{contact_id}/groups")
    assert reply.error == {"code": "NOT_FOUND", "message": "Contact not found"}


async def test_update_replaces_given_fields_and_refreshes_updated_at(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact(
        "Awa", "+33612345000", tags=["a", "b"], meta={"city": "Cotonou", "x": 1}
    )

    reply = await call(
        msgflash_http, "PUT", f"/contacts/{contact.id}", json={"tags": ["vip"], "meta": {"y": 2}}
    )

    assert reply.status == 200
    updated = reply.data
    assert updated["tags"] == ["vip"]
    assert updated["meta"] == {"y": 2}
    assert (updated["name"], updated["phone"]) == ("Awa", "+33612345000")
    assert updated["createdAt"] == contact.created_at
    assert updated["updatedAt"] > updated["createdAt"]


async def test_update_with_an_empty_object_only_refreshes_updated_at(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact("Awa", "+1234", tags=["t"])
    before = contact.to_json()

    reply = await call(msgflash_http, "PUT", f"/contacts/{contact.id}", json={})

    assert {**reply.data, "updatedAt": None} == {**before, "updatedAt": None}
    assert reply.data["updatedAt"] > before["updatedAt"]


async def test_update_clears_tags_and_meta(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact("Awa", "+1234", tags=["t"], meta={"a": 1})

    reply = await call(
        msgflash_http, "PUT", f"/contacts/{contact.id}", json={"tags": [], "meta": {}}
    )

    assert (reply.data["tags"], reply.data["meta"]) == ([], {})


async def test_duplicate_phone_on_create_is_a_conflict(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    existing = msgflash_server.workspace().add_contact("Awa", "+33612345000")

    reply = await call(
        msgflash_http, "POST", "/contacts", json={"name": "B", "phone": "+33612345000"}
    )

    assert reply.status == 409
    assert reply.body == {
        "error": {
            "code": "CONFLICT",
            "message": "A contact with this phone already exists",
            "details": [{"field": "phone", "existingId": existing.id}],
        }
    }
    assert len(msgflash_server.workspace().contacts) == 1


def test_seeding_helpers_keep_the_invariants(msgflash_server: LocalMsgFlash) -> None:
    ws = msgflash_server.workspace()
    ws.add_contact("Awa", "+111")
    ws.add_group("VIP")

    with pytest.raises(ApiError, match="409 CONFLICT"):
        ws.add_contact("Twin", "+111")
    with pytest.raises(ApiError, match="409 CONFLICT"):
        ws.add_group("vip")
    assert [contact.phone for contact in ws.seed_contacts(2)] == ["+12000000001", "+12000000002"]


async def test_update_to_another_contacts_phone_is_a_conflict(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    first = ws.add_contact("A", "+111")
    second = ws.add_contact("B", "+222")

    conflict = await call(msgflash_http, "PUT", f"/contacts/{second.id}", json={"phone": "+111"})
    same = await call(msgflash_http, "PUT", f"/contacts/{second.id}", json={"phone": "+222"})
    moved = await call(msgflash_http, "PUT", f"/contacts/{second.id}", json={"phone": "+333"})
    reused = await call(msgflash_http, "POST", "/contacts", json={"name": "C", "phone": "+222"})

    assert conflict.status == 409
    assert conflict.error["details"] == [{"field": "phone", "existingId": first.id}]
    assert same.status == 200
    assert moved.data["phone"] == "+333"
    assert reused.status == 201


async def test_phone_is_kept_as_sent_and_compared_exactly(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    first = await call(msgflash_http, "POST", "/contacts", json={"name": "A", "phone": "+4412"})
    second = await call(msgflash_http, "POST", "/contacts", json={"name": "B", "phone": "+44120"})

    assert first.data["phone"] == "+4412"
    assert second.status == 201


async def test_delete_answers_the_id_and_then_404(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact("A", "+111")

    first = await call(msgflash_http, "DELETE", f"/contacts/{contact.id}")
    again = await call(msgflash_http, "DELETE", f"/contacts/{contact.id}")
    recreated = await call(msgflash_http, "POST", "/contacts", json={"name": "A", "phone": "+111"})

    assert first.status == 200
    assert first.body == {"data": {"id": contact.id, "deleted": True}}
    assert again.status == 404
    assert recreated.status == 201


async def test_deleting_a_contact_removes_its_memberships(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    kept, gone = ws.seed_contacts(2)
    groups = [ws.add_group(name) for name in ("One", "Two")]
    for group in groups:
        ws.add_members(group.id, [kept.id, gone.id])

    await call(msgflash_http, "DELETE", f"/contacts/{gone.id}")

    for group in groups:
        reply = await call(msgflash_http, "GET", f"/contacts/groups/{group.id}")
        assert reply.data["contactCount"] == 1
        assert ws.members(group.id) == [kept.id]
        assert reply.data["updatedAt"] == group.created_at


async def test_groups_of_a_contact_are_full_groups_in_group_order(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    (contact,) = ws.seed_contacts(1)
    first, _, third = (ws.add_group(name) for name in ("A", "B", "C"))
    ws.add_members(third.id, [contact.id])
    ws.add_members(first.id, [contact.id])

    reply = await call(msgflash_http, "GET", f"/contacts/{contact.id}/groups")

    assert reply.body == {"data": [first.to_json(), third.to_json()]}
    assert reply.data[0]["contactCount"] == 1


async def test_groups_of_a_contact_in_no_group_is_an_empty_list(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    (contact,) = msgflash_server.workspace().seed_contacts(1)

    reply = await call(msgflash_http, "GET", f"/contacts/{contact.id}/groups")

    assert reply.body == {"data": []}


async def test_list_item_is_the_full_contact_and_echoes_limit_and_sort(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = msgflash_server.workspace().add_contact("Awa", "+33612345000", meta={"c": "d"})

    reply = await call(msgflash_http, "GET", "/contacts")

    assert reply.body == {
        "data": {
            "contacts": [contact.to_json()],
            "nextCursor": None,
            "hasMore": False,
            "total": 1,
            "limit": 50,
            "sort": "createdAt_desc",
        }
    }
