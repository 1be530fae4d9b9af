"""Fault injection: random faults per route, one-off responses, counts and the request log."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from server_support import FAST, call

from msgflash_async.testing import FAULT_KINDS, FaultConfig, FaultProfile, LocalMsgFlash

NEW_CONTACT = {"name": "Awa", "phone": "+33612345000"}


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return dict(FAST)


def only(kind: str, route: str = "contacts.create") -> FaultConfig:
    probabilities: dict[str, Any] = {kind: 1.0}
    return FaultConfig({route: FaultProfile(**probabilities)})


@pytest.mark.parametrize(
    ("kind", "status", "code", "retry_after"),
    [
        ("internal_error", 500, "INTERNAL_ERROR", None),
        ("bad_gateway", 502, "PROVIDER_UNAVAILABLE", None),
        ("service_unavailable", 503, "SERVICE_UNAVAILABLE", None),
        ("rate_limited", 429, "API_RATE_LIMIT_EXCEEDED", "1"),
        ("rate_limited_no_retry_after", 429, "API_RATE_LIMIT_EXCEEDED", None),
    ],
)
async def test_error_faults_answer_an_envelope_without_processing(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    kind: str,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    msgflash_server.faults = only(kind)

    reply = await call(msgflash_http, "POST", "/contacts", json=NEW_CONTACT)

    assert reply.status == status
    assert reply.error["code"] == code
    assert set(reply.error) == {"code", "message"}
    assert reply.headers.get("Retry-After") == retry_after
    assert "x-request-id" in reply.headers
    assert msgflash_server.workspace().contacts == {}
    assert msgflash_server.fault_counts[kind] == 1


@pytest.mark.parametrize(("kind", "processed"), [("drop_before", False), ("drop_after", True)])
async def test_dropped_connections(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession, kind: str, processed: bool
) -> None:
    msgflash_server.faults = only(kind)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(msgflash_http, "POST", "/contacts", json=NEW_CONTACT)
    listed = await call(msgflash_http, "GET", "/contacts")

    assert listed.data["total"] == int(processed)
    assert msgflash_server.requests[0].status is None
    assert msgflash_server.requests[0].fault == kind


@pytest.mark.parametrize(("kind", "status"), [("html_bad_gateway", 502), ("html_ok", 200)])
async def test_html_pages(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession, kind: str, status: int
) -> None:
    msgflash_server.faults = only(kind)

    async with msgflash_http.post("/api/v1/contacts", json=NEW_CONTACT) as response:
        text = await response.text()

    assert response.status == status
    assert response.content_type == "text/html"
    assert text.startswith("<!DOCTYPE html>")
    assert msgflash_server.workspace().contacts == {}


async def test_truncated_bodies_look_like_json_but_are_cut_after_processing(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.faults = only("truncated")

    async with msgflash_http.post("/api/v1/contacts", json=NEW_CONTACT) as response:
        body = await response.read()

    (contact,) = msgflash_server.workspace().contacts.values()
    assert response.status == 201
    assert response.content_type == "application/json"
    assert body.decode().startswith('{"data":{"id":"' + contact.id[:10])
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        await response.json()


async def test_latency_delays_the_normal_answer(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.faults = FaultConfig({"*": FaultProfile(latency=1.0, latency_range=(0.1, 0.1))})

    started = time.perf_counter()
    reply = await call(msgflash_http, "GET", "/contacts")

    assert time.perf_counter() - started >= 0.1
    assert reply.status == 200
    assert msgflash_server.fault_counts["latency"] == 1


async def test_faults_apply_per_route_pattern(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    group = msgflash_server.workspace().add_group("G")
    msgflash_server.faults = FaultConfig(
        {
            "groups.members.add": FaultProfile(),
            "groups.members.*": FaultProfile(bad_gateway=1.0),
            "unknown": FaultProfile(internal_error=1.0),
        }
    )
    path = f"/contacts/groups/{group.id}/members"

    added = await call(msgflash_http, "POST", path, json={"contactIds": ["a"]})
    listed = await call(msgflash_http, "GET", path)
    removed = await call(msgflash_http, "DELETE", path, json={"contactIds": ["a"]})
    contacts = await call(msgflash_http, "GET", "/contacts")
    unknown = await call(msgflash_http, "GET", "/nope")

    assert [added.status, listed.status, removed.status, contacts.status, unknown.status] == [
        200, 502, 502, 200, 500
    ]  # fmt: skip


def test_fault_configs_are_checked() -> None:
    server = LocalMsgFlash()

    with pytest.raises(ValueError, match="matches no route"):
        server.faults = FaultConfig({"contacts.craete": FaultProfile(internal_error=0.1)})
    with pytest.raises(ValueError, match="matches no route"):
        server.inject_response(status=500, route="group.*")
    with pytest.raises(ValueError, match="sum to at most 1"):
        FaultProfile(internal_error=0.6, drop_after=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultProfile(latency=-0.1)
    with pytest.raises(ValueError, match="latency_range"):
        FaultProfile(latency_range=(0.2, 0.1))


async def fault_sequence(seed: int | None, count: int = 60) -> tuple[int, list[str | None]]:
    profile = FaultProfile(internal_error=0.2, html_ok=0.2, rate_limited=0.1, latency=0.2,
                           latency_range=(0.0, 0.001))  # fmt: skip
    async with LocalMsgFlash(
        rate_limit=None, seed=seed, faults=FaultConfig({"*": profile})
    ) as server:
        async with aiohttp.ClientSession(
            base_url=server.base_url, headers={"x-api-key": server.api_key}
        ) as http:
            for _ in range(count):
                await call(http, "GET", "/contacts")
        return server.seed, [entry.fault for entry in server.requests]


async def test_a_seed_reproduces_the_faults() -> None:
    seed, first = await fault_sequence(1234)
    _, again = await fault_sequence(1234)
    _, other = await fault_sequence(4321)
    random_seed, unseeded = await fault_sequence(None)
    _, replayed = await fault_sequence(random_seed)

    assert seed == 1234
    assert first == again != other
    assert unseeded == replayed
    assert {"internal_error", "html_ok", "rate_limited", None} <= set(first)


async def test_fault_counts_count_each_kind(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    assert msgflash_server.fault_counts == dict.fromkeys([*FAULT_KINDS, "latency", "injected"], 0)
    msgflash_server.faults = FaultConfig({"*": FaultProfile(internal_error=0.5, html_ok=0.5)})

    for _ in range(20):
        await call(msgflash_http, "GET", "/contacts")

    counts = msgflash_server.fault_counts
    assert counts["internal_error"] + counts["html_ok"] == 20
    assert counts["internal_error"] == sum(
        entry.fault == "internal_error" for entry in msgflash_server.requests
    )


async def test_injected_responses_answer_the_next_matching_request_once(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.rate_limit = 2
    msgflash_server.inject_response(
        status=429, code="API_RATE_LIMIT_EXCEEDED", message="Slow down", route="contacts.create"
    )
    msgflash_server.inject_response(
        status=503, code="MAINTENANCE", message="Back soon", headers={"Retry-After": "7"}
    )

    listed = await call(msgflash_http, "GET", "/contacts")
    created = await call(msgflash_http, "POST", "/contacts", json=NEW_CONTACT)
    again = await call(msgflash_http, "POST", "/contacts", json=NEW_CONTACT)
    normal = await call(msgflash_http, "GET", "/contacts")

    assert listed.status == 503
    assert listed.body == {"error": {"code": "MAINTENANCE", "message": "Back soon"}}
    assert listed.headers["Retry-After"] == "7"
    assert created.status == 429
    assert "Retry-After" not in created.headers
    assert again.status == 201
    assert normal.data["total"] == 1
    assert msgflash_server.fault_counts["injected"] == 2


async def test_injected_bodies_and_empty_answers(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    (contact,) = msgflash_server.workspace().seed_contacts(1)
    msgflash_server.inject_response(status=204, route="contacts.delete")
    msgflash_server.inject_response(
        status=200, body={"data": {"odd": True}}, headers={"x-request-id": "fixed"}
    )

    deleted = await call(msgflash_http, "DELETE", f"/contacts/{contact.id}")
    odd = await call(msgflash_http, "GET", "/contacts")

    assert (deleted.status, deleted.body) == (204, None)
    assert "x-request-id" in deleted.headers
    assert odd.body == {"data": {"odd": True}}
    assert odd.headers["x-request-id"] == "fixed"
    assert contact.id in msgflash_server.workspace().contacts


async def test_the_request_log_records_each_request(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    await call(msgflash_http, "POST", "/contacts", json=NEW_CONTACT, headers={"X-Extra": "1"})
    await call(msgflash_http, "GET", "/contacts", params={"limit": "5", "search": "aw"})
    await call(msgflash_http, "PUT", "/contacts/x", data="{not json")

    created, listed, broken = msgflash_server.requests
    assert (created.method, created.path, created.route, created.status) == (
        "POST", "/api/v1/contacts", "contacts.create", 201
    )  # fmt: skip
    assert created.body == NEW_CONTACT
    assert created.headers["x-api-key"] == msgflash_server.api_key
    assert created.headers["x-extra"] == "1"
    assert created.fault is None
    assert listed.query == {"limit": "5", "search": "aw"}
    assert listed.body is None
    assert (broken.status, broken.body) == (400, None)

    msgflash_server.clear_requests()
    assert msgflash_server.requests == []


@pytest.mark.parametrize(("size", "kept"), [(3, 3), (0, 0), (None, 8)])
async def test_the_request_log_is_bounded(size: int | None, kept: int) -> None:
    async with LocalMsgFlash(rate_limit=None, request_log_size=size) as server:
        async with aiohttp.ClientSession(
            base_url=server.base_url, headers={"x-api-key": server.api_key}
        ) as http:
            for limit in range(1, 9):
                await call(http, "GET", "/contacts", params={"limit": str(limit)})

        assert [entry.query["limit"] for entry in server.requests] == [
            str(limit) for limit in range(9 - kept, 9)
        ]
