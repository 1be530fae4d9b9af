"""Issue #5, part 1: what the retry policy re-sends, how long it waits, and what it logs.

Every test runs against the local fake server (or a closed loopback port) with a fake clock:
the recorded sleeps count the retries and show the waits without any real waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import pytest

from msgflash_async import (
    APIStatusError,
    ConnectError,
    InternalServerError,
    MonthlyQuotaExceededError,
    RateLimitError,
    ReadTimeoutError,
    RetryPolicy,
    ServerDisconnectedError,
    Timeout,
)
from msgflash_async.testing import LocalMsgFlash

from ._support import (
    BULK_DELETE,
    BULK_OPERATIONS,
    EVERY_OPERATION,
    GET_CONTACT,
    NOWHERE,
    REMOVE_MEMBERS,
    SAFE_OPERATIONS,
    FakeClock,
    Operation,
    Seeded,
    closed_port,
    idle_connections,
    logged,
    only_faults,
    statuses,
)
from .conftest import ClientFactory, Harness, ServerFactory

AMBIGUOUS_STATUSES = (408, 500, 502, 503, 504)


def rate_limit(server: LocalMsgFlash, route: str, retry_after: str) -> None:
    """Answer the next request to ``route`` with the API's 429, with this ``Retry-After``."""
    server.inject_response(
        status=429,
        code="API_RATE_LIMIT_EXCEEDED",
        message="Too many API requests",
        headers={"Retry-After": retry_after},
        route=route,
    )


def http_date(delta: timedelta) -> str:
    """An HTTP-date ``delta`` from now, as a ``Retry-After`` value."""
    return format_datetime(datetime.now(timezone.utc) + delta, usegmt=True)


def assert_backoffs(sleeps: list[float], policy: RetryPolicy) -> None:
    """Each wait is full jitter under the exponential ceiling, and never below 100 ms."""
    for number, wait in enumerate(sleeps):
        ceiling = min(policy.max_backoff, policy.initial_backoff * 2**number)
        assert 0.1 <= wait <= max(0.1, ceiling), (number, wait)


# --- failures before sending: every method -------------------------------------------------


@pytest.mark.parametrize("operation", EVERY_OPERATION, ids=str)
async def test_refused_connection_is_retried_for_every_method(
    operation: Operation, make_client: ClientFactory, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=4)
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}", retry=policy)

    with pytest.raises(ConnectError, match="could not connect"):
        await operation.invoke(client, NOWHERE, False)

    assert len(clock.sleeps) == policy.max_retries  # 5 attempts, 4 waits between them
    assert_backoffs(clock.sleeps, policy)


# --- 429: every method, honouring Retry-After -----------------------------------------------


@pytest.mark.parametrize("operation", EVERY_OPERATION, ids=str)
async def test_rate_limited_call_is_retried_for_every_method_after_retry_after(
    operation: Operation, api: Harness
) -> None:
    rate_limit(api.server, operation.route, "3")

    await api.call(operation)

    assert api.clock.sleeps == [3.0]
    [first, second] = statuses(api.server, operation.route)
    assert first == 429
    assert second is not None
    assert 200 <= second < 300


@pytest.mark.parametrize("operation", [GET_CONTACT, BULK_DELETE], ids=str)
async def test_retry_after_may_be_an_http_date(operation: Operation, api: Harness) -> None:
    when = http_date(timedelta(seconds=30))
    rate_limit(api.server, operation.route, when)

    await api.call(operation)

    [wait] = api.clock.sleeps
    assert 27.0 <= wait <= 30.0


async def test_rate_limited_without_retry_after_waits_out_the_window(api: Harness) -> None:
    api.server.faults = only_faults("contacts.get", rate_limited_no_retry_after=1.0)
    policy = RetryPolicy(max_retries=1, max_rate_limit_retries=5)

    with pytest.raises(RateLimitError) as caught:
        await api.call(GET_CONTACT, retry=policy)

    assert caught.value.retry_after is None
    assert statuses(api.server) == [429] * 6
    retry_sleeps = [wait for wait in api.clock.sleeps if wait >= 1.0]
    assert len(retry_sleeps) >= 5
    assert all(wait <= 1.25 for wait in retry_sleeps)


@pytest.mark.parametrize("operation", [GET_CONTACT, BULK_DELETE], ids=str)
async def test_retry_after_above_the_maximum_is_raised_at_once(
    operation: Operation, api: Harness
) -> None:
    rate_limit(api.server, operation.route, "120")
    client = api.client(retry=RetryPolicy(max_retries=3, max_retry_after=60))

    with pytest.raises(RateLimitError) as caught:
        await api.call(operation, client=client)

    assert caught.value.retry_after == 120.0
    assert api.clock.sleeps == []
    assert statuses(api.server) == [429]


async def test_monthly_quota_is_never_retried(
    serve: ServerFactory, make_client: ClientFactory, clock: FakeClock
) -> None:
    server = await serve(monthly_quota=1)
    client = make_client(server)
    await client.contacts.create(name="First", phone="+15550000001")

    with pytest.raises(MonthlyQuotaExceededError) as caught:
        await client.contacts.list().first_page()

    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 1
    assert clock.sleeps == []
    assert statuses(server) == [201, 429]


# --- ambiguous failures: only when re-sending is safe ---------------------------------------


@dataclass(frozen=True)
class Resend:
    """Whether a call may be sent again after an unknown outcome."""

    operation: Operation
    resend_if_unknown: bool
    allowed: bool

    def __str__(self) -> str:
        flag = "-resend_if_unknown" if self.resend_if_unknown else ""
        return f"{self.operation}{flag}"


RESEND_CASES = [
    *(Resend(operation, False, True) for operation in SAFE_OPERATIONS),
    *(Resend(operation, False, False) for operation in BULK_OPERATIONS),
    *(Resend(operation, True, True) for operation in BULK_OPERATIONS),
]


@pytest.mark.parametrize("status", AMBIGUOUS_STATUSES)
@pytest.mark.parametrize("case", RESEND_CASES, ids=str)
async def test_ambiguous_status_is_retried_only_when_resending_is_allowed(
    case: Resend, status: int, api: Harness
) -> None:
    api.server.inject_response(status=status, route=case.operation.route)
    call = api.call(case.operation, resend=case.resend_if_unknown)

    if case.allowed:
        await call
        [first, second] = statuses(api.server, case.operation.route)
        assert first == status
        assert second is not None
        assert 200 <= second < 300
        assert len(api.clock.sleeps) == 1
    else:
        with pytest.raises(APIStatusError) as caught:
            await call
        assert caught.value.status == status
        assert statuses(api.server) == [status]
        assert api.clock.sleeps == []


SLOW = {"latency": 1.0, "latency_range": (0.3, 0.3)}
"""Every request to the route waits 0.3 s: longer than the 0.1 s read timeouts below."""


@pytest.mark.parametrize(
    "case", [case for case in RESEND_CASES if case.operation is not REMOVE_MEMBERS], ids=str
)
async def test_read_timeout_is_retried_only_when_resending_is_allowed(
    case: Resend, api: Harness
) -> None:
    api.server.faults = only_faults(case.operation.route, **SLOW)
    client = api.client(retry=RetryPolicy(max_retries=2), timeout=Timeout(read=0.1))

    with pytest.raises(ReadTimeoutError):
        await api.call(case.operation, client=client, resend=case.resend_if_unknown)

    assert len(api.clock.sleeps) == (2 if case.allowed else 0)


async def test_job_polling_is_retried(api: Harness) -> None:
    contacts = api.server.workspace().seed_contacts(150)
    client = api.client(job_poll_interval=2.0)
    handle = await client.contacts.bulk_delete([contact.id for contact in contacts])
    assert handle.id is not None  # 150 ids: a server job
    api.server.finish_jobs()
    api.server.inject_response(status=503, route="jobs.progress")
    api.server.inject_response(status=500, route="jobs.progress")

    result = await handle

    assert result.deleted == 150
    assert statuses(api.server, "jobs.progress") == [503, 500, 200]
    assert len(api.clock.sleeps) == 3  # one poll interval, then two retry backoffs


# --- backoff and the total deadline ----------------------------------------------------------


async def test_backoff_never_waits_less_than_100_ms(api: Harness) -> None:
    policy = RetryPolicy(max_retries=5, initial_backoff=0.01, max_backoff=0.05)
    for _ in range(5):
        api.server.inject_response(status=503, route="contacts.get")

    await api.call(GET_CONTACT, retry=policy)

    assert api.clock.sleeps == [0.1] * 5


async def test_backoff_is_exponential_with_full_jitter(api: Harness) -> None:
    policy = RetryPolicy(max_retries=5, initial_backoff=0.2, max_backoff=1.6)
    client = api.client(retry=policy)
    samples: list[list[float]] = []
    for _ in range(40):
        for _ in range(5):
            api.server.inject_response(status=503, route="contacts.get")
        api.clock.sleeps.clear()
        await api.call(GET_CONTACT, client=client)
        assert_backoffs(api.clock.sleeps, policy)
        samples.append(list(api.clock.sleeps))

    by_retry = list(zip(*samples, strict=True))
    means = [sum(waits) / len(waits) for waits in by_retry]
    assert means[0] < means[2] < means[4]  # the ceiling doubles: 0.2, 0.4, 0.8, 1.6, 1.6
    last = by_retry[4]  # uniform over [0, 1.6], floored at 0.1
    assert min(last) < 0.6
    assert max(last) > 1.0
    assert len(set(last)) > 30


# The last attempt gets only the time left before the deadline; on the fake clock that can be
# a few real milliseconds, and a loaded machine may not answer in them: a read timeout then.
CUT_BY_THE_DEADLINE = (InternalServerError, ReadTimeoutError)


async def test_one_total_deadline_covers_every_attempt(api: Harness) -> None:
    api.server.faults = only_faults("contacts.get", service_unavailable=1.0)
    policy = RetryPolicy(max_retries=100, initial_backoff=1.0, max_backoff=1.0)
    client = api.client(retry=policy, timeout=Timeout(total=5.0))

    with pytest.raises(CUT_BY_THE_DEADLINE):
        await api.call(GET_CONTACT, client=client)

    # It stops once the next wait would cross the deadline: every wait is at most 1 s.
    assert 4.0 <= sum(api.clock.sleeps) < 5.0
    assert len(logged(api.server)) == len(api.clock.sleeps) + 1

    api.clock.sleeps.clear()
    with pytest.raises(CUT_BY_THE_DEADLINE):
        await api.call(GET_CONTACT, client=client.with_options(timeout=Timeout(total=2.0)))
    assert 1.0 <= sum(api.clock.sleeps) < 2.0


async def test_retry_after_beyond_the_deadline_is_raised_at_once(api: Harness) -> None:
    rate_limit(api.server, "contacts.get", "10")
    client = api.client(timeout=Timeout(total=5.0))

    with pytest.raises(RateLimitError) as caught:
        await api.call(GET_CONTACT, client=client)

    assert caught.value.retry_after == 10.0
    assert api.clock.sleeps == []


# --- per-call policies ---------------------------------------------------------------------


async def test_with_options_overrides_the_retry_policy_per_call(api: Harness) -> None:
    client = api.client(retry=RetryPolicy.none())
    api.server.inject_response(status=503, route="contacts.get")
    await api.call(GET_CONTACT, client=client.with_options(retry=RetryPolicy(max_retries=1)))
    assert len(api.clock.sleeps) == 1

    api.server.inject_response(status=503, route="contacts.get")
    with pytest.raises(InternalServerError):
        await api.call(GET_CONTACT, client=client)
    assert len(api.clock.sleeps) == 1


async def test_a_handle_polls_with_the_policy_of_the_call_that_started_it(api: Harness) -> None:
    contacts = api.server.workspace().seed_contacts(120)
    client = api.client(retry=RetryPolicy.none())
    patient = client.with_options(retry=RetryPolicy(max_retries=3))
    handle = await patient.contacts.bulk_delete([contact.id for contact in contacts])
    api.server.finish_jobs()
    api.server.inject_response(status=503, route="jobs.progress")

    result = await handle  # polling is part of the call made with the patient policy

    assert result.deleted == 120
    assert statuses(api.server, "jobs.progress") == [503, 200]


# --- logging -------------------------------------------------------------------------------


async def test_each_retry_is_logged_at_debug_with_its_reason(
    api: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="msgflash_async")
    api.server.inject_response(status=503, code="SERVICE_UNAVAILABLE", route="contacts.get")
    rate_limit(api.server, "contacts.get", "2")

    await api.call(GET_CONTACT)

    records = [record for record in caplog.records if record.name == "msgflash_async"]
    attempts = [record for record in records if hasattr(record, "msgflash_attempt")]
    assert [record.msgflash_status for record in attempts] == [503, 429, 200]  # type: ignore[attr-defined]
    retries = [record for record in records if record not in attempts]
    assert [record.levelno for record in retries] == [logging.DEBUG, logging.DEBUG]
    first, second = (record.getMessage() for record in retries)
    path = f"/api/v1/contacts/{api.seeded.contact_id}"
    assert f"retry 1 of GET {path}" in first
    assert "InternalServerError 503 SERVICE_UNAVAILABLE" in first
    assert f"retry 2 of GET {path} in 2.00 s" in second
    assert "RateLimitExceededError 429 API_RATE_LIMIT_EXCEEDED" in second


async def test_refused_connections_are_logged_with_their_reason(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="msgflash_async")
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(ConnectError):
        await GET_CONTACT.invoke(client, NOWHERE, False)

    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name == "msgflash_async" and not hasattr(record, "msgflash_attempt")
    ]
    assert len(messages) == 3
    assert all("could not connect" in message for message in messages)


# --- aiohttp's own re-send of idempotent requests --------------------------------------------


async def test_the_sdk_session_never_resends_silently_on_a_dropped_kept_alive_connection(
    api: Harness,
) -> None:
    client = api.client(retry=RetryPolicy.none())
    await client.contacts.get(api.seeded.contact_id)
    assert idle_connections(client) == 1  # the DELETE below reuses this kept-alive connection
    api.server.faults = only_faults("contacts.delete", drop_after=1.0)

    with pytest.raises(ServerDisconnectedError):
        await client.contacts.delete(api.seeded.contact_id)

    assert [(entry.method, entry.fault) for entry in logged(api.server, "contacts.delete")] == [
        ("DELETE", "drop_after")
    ]


async def test_a_plain_aiohttp_session_resends_the_same_request_silently(
    server: LocalMsgFlash, seeded: Seeded
) -> None:
    url = f"{server.base_url}/api/v1/contacts/{seeded.contact_id}"
    async with aiohttp.ClientSession(headers={"x-api-key": server.api_key}) as session:
        async with session.get(url) as response:
            assert response.status == 200
        server.faults = only_faults("contacts.delete", drop_after=1.0)

        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.delete(url):
                pass

    assert len(logged(server, "contacts.delete")) == 2  # the contrast: sent twice
