"""Keys, teams and workspaces (§1.1, §4.3), the order of checks (§4.2) and ``x-request-id``."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import pytest
from server_support import FAST, UUID_PATTERN, call

from msgflash_async.testing import LocalMsgFlash

UNAUTHORIZED = {"error": {"code": "UNAUTHORIZED", "message": "Invalid or missing API key"}}
TEAM_KEY = "msgf_team_0123456789"
TEAM_ID = "5b1f0c8e-3f4a-4d6b-9e2c-7a8b9c0d1e2f"
OTHER_KEY = "msgf_live_" + "ab" * 32


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return dict(FAST)


@pytest.fixture
async def anonymous(msgflash_server: LocalMsgFlash) -> Any:
    async with aiohttp.ClientSession(base_url=msgflash_server.base_url) as session:
        yield session


def test_the_default_key_is_a_personal_key() -> None:
    server = LocalMsgFlash()

    assert re.fullmatch(r"msgf_live_[0-9a-f]{64}", server.api_key)
    assert LocalMsgFlash(api_key=OTHER_KEY).api_key == OTHER_KEY


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": ""},
        {"x-api-key": OTHER_KEY},
        {"x-api-key": "msgf_live_" + "0" * 64},
        {"Authorization": "Bearer <key>"},
    ],
)
async def test_missing_or_unknown_keys_get_401(
    msgflash_server: LocalMsgFlash, anonymous: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    headers = {k: v.replace("<key>", msgflash_server.api_key) for k, v in headers.items()}

    reply = await call(anonymous, "GET", "/contacts", headers=headers)

    assert reply.status == 401
    assert reply.body == UNAUTHORIZED


async def test_team_key_needs_its_team_id(
    msgflash_server: LocalMsgFlash, anonymous: aiohttp.ClientSession
) -> None:
    team = msgflash_server.add_team_key(TEAM_KEY, TEAM_ID)
    team.seed_contacts(2)

    good = await call(
        anonymous, "GET", "/contacts", headers={"x-api-key": TEAM_KEY, "X-Team-Id": TEAM_ID}
    )
    missing = await call(anonymous, "GET", "/contacts", headers={"x-api-key": TEAM_KEY})
    wrong = await call(
        anonymous,
        "GET",
        "/contacts",
        headers={"x-api-key": TEAM_KEY, "X-Team-Id": str(uuid.uuid4())},
    )

    assert good.data["total"] == 2
    assert missing.body == wrong.body == UNAUTHORIZED
    assert missing.status == wrong.status == 401


async def test_personal_key_with_a_team_id_gets_403(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.add_team_key(TEAM_KEY, TEAM_ID)

    reply = await call(msgflash_http, "GET", "/contacts", headers={"X-Team-Id": TEAM_ID})

    assert reply.status == 403
    assert reply.error["code"] == "TEAM_KEY_REQUIRED"
    assert set(reply.error) == {"code", "message"}


async def test_team_keys_share_the_team_workspace(
    msgflash_server: LocalMsgFlash, anonymous: aiohttp.ClientSession
) -> None:
    workspace = msgflash_server.add_team_key(TEAM_KEY, TEAM_ID)
    assert msgflash_server.add_team_key("msgf_team_second", TEAM_ID) is workspace

    created = await call(
        anonymous,
        "POST",
        "/contacts",
        json={"name": "A", "phone": "+12"},
        headers={"x-api-key": "msgf_team_second", "X-Team-Id": TEAM_ID},
    )

    assert list(workspace.contacts) == [created.data["id"]]
    assert msgflash_server.workspace().contacts == {}


async def test_workspaces_are_isolated(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    other = msgflash_server.add_personal_key(OTHER_KEY)
    foreign = other.add_contact("Theirs", "+4400")
    group = other.add_group("Theirs")
    job = other.start_job("add_to_group", group.id, ["x"] * 100)
    (own,) = msgflash_server.workspace().seed_contacts(1)

    listed = await call(msgflash_http, "GET", "/contacts")
    replies = [
        await call(msgflash_http, "GET", f"/contacts/{foreign.id}"),
        await call(msgflash_http, "DELETE", f"/contacts/{foreign.id}"),
        await call(msgflash_http, "GET", f"/contacts/groups/{group.id}"),
        await call(
            msgflash_http,
            "POST",
            f"/contacts/groups/{group.id}/members",
            json={"contactIds": [own.id]},
        ),
        await call(msgflash_http, "GET", f"/contacts/bulk-jobs/{job.id}"),
        await call(msgflash_http, "POST", f"/contacts/bulk-jobs/{job.id}/cancel"),
    ]
    same_phone = await call(
        msgflash_http, "POST", "/contacts", json={"name": "Twin", "phone": foreign.phone}
    )

    assert [contact["id"] for contact in listed.data["contacts"]] == [own.id]
    assert [reply.status for reply in replies] == [404] * 6
    assert same_phone.status == 201
    assert foreign.id in other.contacts
    assert job.status == "pending"


async def test_revoked_keys_get_401_at_once(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    before = await call(msgflash_http, "GET", "/contacts")
    msgflash_server.revoke_key(msgflash_server.api_key)
    after = await call(msgflash_http, "GET", "/contacts")

    assert (before.status, after.status) == (200, 401)


async def test_a_second_personal_key_may_share_a_workspace(
    msgflash_server: LocalMsgFlash, anonymous: aiohttp.ClientSession
) -> None:
    workspace = msgflash_server.workspace()
    assert msgflash_server.add_personal_key(OTHER_KEY, workspace) is workspace
    with pytest.raises(ValueError, match="already registered"):
        msgflash_server.add_personal_key(OTHER_KEY)

    await call(
        anonymous,
        "POST",
        "/contacts",
        json={"name": "A", "phone": "+12"},
        headers={"x-api-key": OTHER_KEY},
    )

    assert len(workspace.contacts) == 1


# Order of checks


async def test_authentication_comes_before_route_matching(
    msgflash_server: LocalMsgFlash, anonymous: aiohttp.ClientSession
) -> None:
    unknown_key = await call(anonymous, "GET", "/nope", headers={"x-api-key": OTHER_KEY})
    team_rule = await call(
        anonymous,
        "PUT",
        "/contacts",
        headers={"x-api-key": msgflash_server.api_key, "X-Team-Id": TEAM_ID},
    )

    assert unknown_key.status == 401
    assert team_rule.status == 403


async def test_route_matching_comes_before_validation(msgflash_http: aiohttp.ClientSession) -> None:
    reply = await call(msgflash_http, "POST", "/contacts/bulk-jobs", data="{")

    assert reply.status == 404


async def test_validation_comes_before_the_resource_lookup(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    contact = await call(msgflash_http, "PUT", "/contacts/unknown", json={"name": ""})
    members = await call(
        msgflash_http, "GET", "/contacts/groups/unknown/members", params={"limit": "0"}
    )
    cancel = await call(msgflash_http, "POST", "/contacts/bulk-jobs/unknown/cancel", json={"a": 1})

    assert [contact.status, members.status, cancel.status] == [400, 400, 400]


async def test_validation_comes_before_the_plan_limit_which_comes_before_conflicts(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    workspace = msgflash_server.workspace()
    workspace.max_contact_groups = 1
    workspace.add_group("Taken")

    invalid = await call(msgflash_http, "POST", "/contacts/groups", json={"name": ""})
    duplicate = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "taken"})
    workspace.max_contact_groups = 2
    conflict = await call(msgflash_http, "POST", "/contacts/groups", json={"name": "taken"})

    assert invalid.status == 400
    assert duplicate.status == 403
    assert conflict.status == 409


async def test_the_resource_lookup_comes_before_state_conflicts(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    (contact,) = ws.seed_contacts(1)

    phone = await call(msgflash_http, "PUT", "/contacts/unknown", json={"phone": contact.phone})
    cancel = await call(msgflash_http, "POST", "/contacts/bulk-jobs/unknown/cancel")

    assert phone.error["message"] == "Contact not found"
    assert cancel.error == {"code": "NOT_FOUND", "message": "Job not found"}


# x-request-id


async def test_every_response_carries_a_fresh_request_id(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    anonymous: aiohttp.ClientSession,
) -> None:
    existing = msgflash_server.workspace().add_contact("A", "+12")
    msgflash_server.inject_response(status=500, route="contacts.get")
    replies = [
        await call(msgflash_http, "GET", "/contacts"),
        await call(msgflash_http, "POST", "/contacts", json={"name": "B", "phone": "+13"}),
        await call(msgflash_http, "POST", "/contacts", json={}),
        await call(msgflash_http, "POST", "/contacts", json={"name": "C", "phone": "+12"}),
        await call(msgflash_http, "GET", "/nope"),
        await call(msgflash_http, "GET", "/contacts/unknown/groups"),
        await call(msgflash_http, "GET", "/contacts", headers={"X-Team-Id": TEAM_ID}),
        await call(anonymous, "GET", "/nope"),
        await call(msgflash_http, "GET", f"/contacts/{existing.id}"),
    ]

    assert [reply.status for reply in replies] == [200, 201, 400, 409, 404, 404, 403, 401, 500]
    request_ids = [reply.headers["x-request-id"] for reply in replies]
    assert all(re.fullmatch(UUID_PATTERN, request_id) for request_id in request_ids)
    assert len(set(request_ids)) == len(replies)
