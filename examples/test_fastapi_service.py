"""Testing ``examples/fastapi_service.py`` with the msgflash pytest plugin, no network but
127.0.0.1::

    pip install "msgflash-async[testing]" fastapi httpx
    pytest examples/test_fastapi_service.py

The plugin's ``msgflash_server`` fixture serves MsgFlash from memory; ``msgflash_client`` is a
client of it, which the service's routes get in place of their own (a dependency override).
The app's lifespan runs as under uvicorn, its own client configured from the environment.
httpx calls the app in process, through its ASGI interface.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from examples.fastapi_service import app, msgflash
from msgflash_async import AddMembersResult, Contact, MsgFlash
from msgflash_async.testing import LocalMsgFlash


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    """No rate limit, so the plugin's client does not pace itself either; jobs move only when
    a test says (``finish_jobs``)."""
    return {"rate_limit": None, "manual_jobs": True}


@pytest.fixture
async def service(
    msgflash_server: LocalMsgFlash, msgflash_client: MsgFlash, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the service, whose routes use the plugin's client."""
    monkeypatch.setenv("MSGFLASH_API_KEY", msgflash_server.api_key)
    monkeypatch.setenv("MSGFLASH_BASE_URL", msgflash_server.base_url)
    monkeypatch.delenv("MSGFLASH_RATE_LIMITER", raising=False)
    app.dependency_overrides[msgflash] = lambda: msgflash_client
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://service"
            ) as http,
        ):
            yield http
    finally:
        app.dependency_overrides.clear()


def add_group(server: LocalMsgFlash, members: int) -> tuple[str, list[str]]:
    """A new group, and the ids of ``members`` new contacts that are not in it yet."""
    workspace = server.workspace()
    contacts = workspace.seed_contacts(members)
    return workspace.add_group("Customers").id, [contact.id for contact in contacts]


async def test_contacts_are_created_and_read_back_as_json(
    service: httpx.AsyncClient, msgflash_server: LocalMsgFlash
) -> None:
    created = await service.post("/contacts", json={"name": "Awa", "phone": "+33612345000"})
    assert created.status_code == 201
    contact = Contact.from_dict(created.json())
    assert contact.phone == "+33612345000"
    assert contact.id in msgflash_server.workspace().contacts

    read = await service.get(f"/contacts/{contact.id}")
    assert read.status_code == 200
    assert read.json() == created.json()
    listed = await service.get("/contacts", params={"limit": 5})
    assert listed.json() == {"items": [created.json()], "next_cursor": None}


async def test_sdk_errors_are_answered_with_http_statuses(service: httpx.AsyncClient) -> None:
    missing = await service.get("/contacts/no-such-contact")
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "NotFoundError", "detail": "Not Found"},
    )
    bad_phone = await service.post("/contacts", json={"name": "Awa", "phone": "0612"})
    assert bad_phone.status_code == 422
    assert bad_phone.json()["detail"].startswith("phone: ")
    bad_token = await service.get("/jobs/not-a-token")
    assert bad_token.status_code == 422
    assert bad_token.json()["detail"].startswith("token: ")


async def test_a_small_add_is_answered_with_its_result(
    service: httpx.AsyncClient, msgflash_server: LocalMsgFlash
) -> None:
    group_id, contact_ids = add_group(msgflash_server, 3)

    response = await service.post(f"/groups/{group_id}/members", json={"contact_ids": contact_ids})

    assert response.status_code == 200
    assert AddMembersResult.from_dict(response.json()) == AddMembersResult(added=3, total=3)
    assert msgflash_server.workspace().members(group_id) == contact_ids


async def test_a_job_running_past_the_wait_is_answered_202_then_resumed(
    service: httpx.AsyncClient, msgflash_server: LocalMsgFlash
) -> None:
    group_id, contact_ids = add_group(msgflash_server, 150)  # 100 ids or more: a job

    started = await service.post(
        f"/groups/{group_id}/members", params={"wait": 0}, json={"contact_ids": contact_ids}
    )
    assert started.status_code == 202
    token = started.json()["token"]
    pending = {"token": token, "status": "pending", "processed": 0, "requested": 150}
    assert started.json() == pending
    assert started.headers["Location"] == f"http://service/jobs/{token}"

    still_running = await service.get(f"/jobs/{token}", params={"wait": 0})
    assert (still_running.status_code, still_running.json()) == (202, pending)

    msgflash_server.finish_jobs()
    finished = await service.get(f"/jobs/{token}", params={"wait": 0})
    assert finished.status_code == 200
    assert AddMembersResult.from_dict(finished.json()) == AddMembersResult(added=150, total=150)
    assert sorted(msgflash_server.workspace().members(group_id)) == sorted(contact_ids)


# Jobs run on their own here. The route's first poll comes after the client's poll interval
# (the 2 s the API documents), so this test takes about 2 s.
@pytest.mark.parametrize("msgflash_server_options", [{"rate_limit": None}])
async def test_a_job_ending_within_the_wait_is_answered_with_its_result(
    service: httpx.AsyncClient, msgflash_server: LocalMsgFlash
) -> None:
    group_id, contact_ids = add_group(msgflash_server, 150)

    response = await service.post(
        f"/groups/{group_id}/members", params={"wait": 30}, json={"contact_ids": contact_ids}
    )

    assert response.status_code == 200
    assert AddMembersResult.from_dict(response.json()) == AddMembersResult(added=150, total=150)
