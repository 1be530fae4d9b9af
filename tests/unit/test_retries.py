"""The retry policy (spec §1.5, §5.3), on a fake clock: what is re-sent, when, and how often."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp.client_reqrep import ConnectionKey
from yarl import URL

from msgflash_async import (
    APIStatusError,
    ConflictError,
    ConnectError,
    InternalServerError,
    MonthlyQuotaExceededError,
    MsgFlash,
    MsgFlashError,
    NotFoundError,
    RateLimitExceededError,
    ReadTimeoutError,
    ResponseDecodeError,
    RetryPolicy,
    ServerDisconnectedError,
    Timeout,
)
from msgflash_async.testing import FakeClock

from ._helpers import (
    BULK_DELETED,
    CONFLICT_NAME,
    CONFLICT_PHONE,
    CONTACT,
    CONTACT_ID,
    CONTACT_MODEL,
    CONTACTS,
    EXISTING_ID,
    GROUP,
    GROUP_ID,
    GROUP_MODEL,
    GROUPS,
    JOB_DONE,
    JOB_ID,
    JOBS,
    MEMBERS_ADDED,
    MEMBERS_REMOVED,
    api_url,
    calls_to,
    data,
    error,
    http_date,
    page,
    sent,
    sent_json,
)
from .conftest import ClientFactory


@dataclass(frozen=True)
class Operation:
    """One SDK call and the answer that ends it well."""

    id: str
    method: str
    url: URL
    invoke: Callable[[MsgFlash], Awaitable[Any]]
    answer: Any
    status: int = 200

    def succeed(self, mock_api: Any) -> None:
        if isinstance(self.answer, bytes):
            mock_api.add(self.url, method=self.method, status=self.status, body=self.answer)
        else:
            mock_api.add(self.url, method=self.method, status=self.status, payload=self.answer)

    def fail(self, mock_api: Any, **failure: Any) -> None:
        mock_api.add(self.url, method=self.method, **failure)


async def run_bulk(start: Awaitable[Any]) -> Any:
    return await (await start)


IDS = [CONTACT_ID]
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"
GET = Operation(
    "get",
    "GET",
    api_url(f"{CONTACTS}/{CONTACT_ID}"),
    lambda s: s.contacts.get(CONTACT_ID),
    data(CONTACT),
)
LIST = Operation(
    "list",
    "GET",
    api_url(CONTACTS, limit=100),
    lambda s: s.contacts.list().first_page(),
    page("contacts", []),
)
UPDATE = Operation(
    "update",
    "PUT",
    api_url(f"{CONTACTS}/{CONTACT_ID}"),
    lambda s: s.contacts.update(CONTACT_ID, name="Awa"),
    data(CONTACT),
)
DELETE = Operation(
    "delete",
    "DELETE",
    api_url(f"{CONTACTS}/{CONTACT_ID}"),
    lambda s: s.contacts.delete(CONTACT_ID),
    b"",
    204,
)
DELETE_GROUP = Operation(
    "delete-group",
    "DELETE",
    api_url(f"{GROUPS}/{GROUP_ID}"),
    lambda s: s.groups.delete(GROUP_ID),
    b"",
    204,
)
CREATE = Operation(
    "create",
    "POST",
    api_url(CONTACTS),
    lambda s: s.contacts.create(name="Awa Doe", phone="+33612345000"),
    data(CONTACT),
    201,
)
CREATE_GROUP = Operation(
    "create-group",
    "POST",
    api_url(GROUPS),
    lambda s: s.groups.create(name="VIP clients"),
    data(GROUP),
    201,
)
CANCEL = Operation(
    "cancel",
    "POST",
    api_url(f"{JOBS}/{JOB_ID}/cancel"),
    lambda s: s.jobs.cancel(JOB_ID),
    data(JOB_DONE),
)
BULK_DELETE = Operation(
    "bulk-delete",
    "POST",
    api_url(f"{CONTACTS}/bulk-delete"),
    lambda s: run_bulk(s.contacts.bulk_delete(IDS)),
    data(BULK_DELETED),
)
ADD_MEMBERS = Operation(
    "add-members",
    "POST",
    api_url(MEMBERS),
    lambda s: run_bulk(s.groups.add_members(GROUP_ID, IDS)),
    data(MEMBERS_ADDED),
)
REMOVE_MEMBERS = Operation(
    "remove-members",
    "DELETE",
    api_url(MEMBERS),
    lambda s: run_bulk(s.groups.remove_members(GROUP_ID, IDS)),
    data(MEMBERS_REMOVED),
)
BULK = [BULK_DELETE, ADD_MEMBERS, REMOVE_MEMBERS]
RESENDABLE = [GET, LIST, UPDATE, DELETE, DELETE_GROUP, CREATE, CREATE_GROUP, CANCEL]
EVERY = RESENDABLE + BULK
RESEND_BULK = [
    replace(
        BULK_DELETE,
        id="bulk-delete-resend-if-unknown",
        invoke=lambda s: run_bulk(s.contacts.bulk_delete(IDS, resend_if_unknown=True)),
    ),
    replace(
        ADD_MEMBERS,
        id="add-members-resend-if-unknown",
        invoke=lambda s: run_bulk(s.groups.add_members(GROUP_ID, IDS, resend_if_unknown=True)),
    ),
    replace(
        REMOVE_MEMBERS,
        id="remove-members-resend-if-unknown",
        invoke=lambda s: run_bulk(s.groups.remove_members(GROUP_ID, IDS, resend_if_unknown=True)),
    ),
]
SERVER_ERRORS = [408, 500, 502, 503, 504]
Failure = Callable[[], dict[str, Any]]
UNKNOWN_OUTCOMES: list[tuple[str, Failure, type[MsgFlashError]]] = [
    # Failures after sending: the request may have been processed.
    ("dropped", lambda: {"exception": aiohttp.ServerDisconnectedError()}, ServerDisconnectedError),
    ("read-timeout", lambda: {"exception": asyncio.TimeoutError()}, ReadTimeoutError),
    (
        "bad-gateway",
        lambda: {"status": 502, "payload": error("PROVIDER_UNAVAILABLE")},
        InternalServerError,
    ),
    ("garbled-2xx", lambda: {"status": 200, "body": b"<html>hiccup</html>"}, ResponseDecodeError),
]
CONNECTION_KEY = ConnectionKey("api.msgflash.test", 443, True, True, None, None, None)


def refused() -> Exception:
    return aiohttp.ClientConnectorError(CONNECTION_KEY, OSError(111, "Connection refused"))


def by_id(operation: Operation) -> str:
    return operation.id


def attempts(mock_api: Any, operation: Operation) -> list[Any]:
    return list(mock_api.requests.get((operation.method, operation.url), []))


def rate_limited(retry_after: str | None = None) -> dict[str, Any]:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    body = error("API_RATE_LIMIT_EXCEEDED", "Too many API requests")
    return {"status": 429, "payload": body, "headers": headers}


# --- 429 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", EVERY, ids=by_id)
async def test_rate_limit_is_retried_after_retry_after_for_every_method(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock, operation: Operation
) -> None:
    operation.fail(mock_api, **rate_limited("2"))
    operation.succeed(mock_api)

    await operation.invoke(make_client())

    tries = attempts(mock_api, operation)
    assert len(tries) == 2
    assert tries[0].kwargs.get("data") == tries[1].kwargs.get("data")
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [("0.5", 0.5, 0.5), ("1.25", 1.25, 1.25), (None, 1.0, 1.25), ("soon", 1.0, 1.25)],
    ids=["decimal", "seconds", "no-header", "unusable-header"],
)
async def test_rate_limit_wait_follows_the_header_or_waits_out_the_window(
    make_client: ClientFactory,
    mock_api: Any,
    clock: FakeClock,
    header: str | None,
    low: float,
    high: float,
) -> None:
    GET.fail(mock_api, **rate_limited(header))
    GET.succeed(mock_api)

    await GET.invoke(make_client(retry=RetryPolicy(initial_backoff=0.001)))

    [wait] = clock.sleeps
    assert low <= wait <= high


async def test_rate_limit_wait_follows_an_http_date(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    CREATE.fail(mock_api, **rate_limited(http_date(timedelta(seconds=30))))
    CREATE.succeed(mock_api)

    await CREATE.invoke(make_client())

    [wait] = clock.sleeps
    assert 25.0 <= wait <= 30.0


async def test_429s_without_header_wait_out_the_window_on_a_budget_of_their_own(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    # More 429s than max_retries allows for other failures: they have their own budget.
    for _ in range(6):
        GET.fail(mock_api, **rate_limited())
    GET.succeed(mock_api)

    await GET.invoke(make_client(retry=RetryPolicy(max_retries=2)))

    assert len(clock.sleeps) == 6
    assert all(1.0 <= wait <= 1.25 for wait in clock.sleeps)
    assert len(set(clock.sleeps)) > 1  # jittered


async def test_the_rate_limit_budget_is_bounded(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    for _ in range(4):
        GET.fail(mock_api, **rate_limited())
    GET.succeed(mock_api)

    with pytest.raises(RateLimitExceededError) as caught:
        await GET.invoke(make_client(retry=RetryPolicy(max_rate_limit_retries=3)))

    assert len(attempts(mock_api, GET)) == 4
    assert caught.value.may_have_been_processed is False


@pytest.mark.parametrize("retry_number", range(10))
def test_backoff_is_never_below_100ms_nor_above_max_backoff(retry_number: int) -> None:
    policy = RetryPolicy()
    rng = random.Random(retry_number)

    for _ in range(200):
        assert 0.1 <= policy.backoff(retry_number, rng) <= policy.max_backoff


@pytest.mark.parametrize(
    ("policy", "header"),
    [(RetryPolicy(), "61"), (RetryPolicy(max_retry_after=5), "10")],
    ids=["default-60s", "custom-5s"],
)
async def test_retry_after_beyond_the_policy_maximum_is_raised_at_once(
    make_client: ClientFactory,
    mock_api: Any,
    clock: FakeClock,
    policy: RetryPolicy,
    header: str,
) -> None:
    GET.fail(mock_api, **rate_limited(header))
    GET.succeed(mock_api)

    with pytest.raises(RateLimitExceededError) as caught:
        await GET.invoke(make_client(retry=policy))

    assert caught.value.retry_after == float(header)
    assert len(attempts(mock_api, GET)) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("operation", [GET, CREATE], ids=by_id)
async def test_monthly_quota_is_never_retried(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock, operation: Operation
) -> None:
    body = error("MONTHLY_API_REQUEST_QUOTA_EXCEEDED", "Monthly API request quota exceeded")
    operation.fail(mock_api, status=429, payload=body, headers={"Retry-After": "86400"})
    operation.succeed(mock_api)

    with pytest.raises(MonthlyQuotaExceededError) as caught:
        await operation.invoke(make_client())

    assert caught.value.retry_after == 86400.0
    assert len(attempts(mock_api, operation)) == 1
    assert clock.sleeps == []


async def test_retries_stop_at_the_total_timeout(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    for _ in range(3):
        GET.fail(mock_api, **rate_limited("2"))

    with pytest.raises(RateLimitExceededError):
        await GET.invoke(make_client(timeout=Timeout(total=3)))

    assert clock.sleeps == [2.0]
    assert len(attempts(mock_api, GET)) == 2


# --- 5xx and failures after sending --------------------------------------------------------


@pytest.mark.parametrize("status", SERVER_ERRORS)
@pytest.mark.parametrize("operation", RESENDABLE + RESEND_BULK, ids=by_id)
async def test_server_errors_are_retried_when_resending_is_safe(
    make_client: ClientFactory,
    mock_api: Any,
    clock: FakeClock,
    operation: Operation,
    status: int,
) -> None:
    operation.fail(mock_api, status=status, payload=error("INTERNAL_ERROR"))
    operation.succeed(mock_api)

    await operation.invoke(make_client())

    assert len(attempts(mock_api, operation)) == 2
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] >= 0.1


@pytest.mark.parametrize("status", SERVER_ERRORS)
@pytest.mark.parametrize("operation", BULK, ids=by_id)
async def test_server_errors_are_not_retried_for_bulk_operations(
    make_client: ClientFactory,
    mock_api: Any,
    clock: FakeClock,
    operation: Operation,
    status: int,
) -> None:
    operation.fail(mock_api, status=status, payload=error("INTERNAL_ERROR"))
    operation.succeed(mock_api)

    with pytest.raises(APIStatusError) as caught:
        await operation.invoke(make_client())

    assert caught.value.status == status
    assert len(attempts(mock_api, operation)) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [case[1:] for case in UNKNOWN_OUTCOMES],
    ids=[case[0] for case in UNKNOWN_OUTCOMES],
)
@pytest.mark.parametrize("operation", EVERY, ids=by_id)
async def test_unknown_outcomes_are_retried_only_when_safe(
    make_client: ClientFactory,
    mock_api: Any,
    clock: FakeClock,
    operation: Operation,
    failure: Failure,
    error_class: type[MsgFlashError],
) -> None:
    operation.fail(mock_api, **failure())
    operation.succeed(mock_api)

    if operation in BULK:
        with pytest.raises(error_class):
            await operation.invoke(make_client())
        assert len(attempts(mock_api, operation)) == 1
    else:
        await operation.invoke(make_client())
        assert len(attempts(mock_api, operation)) == 2


@pytest.mark.parametrize("operation", EVERY, ids=by_id)
async def test_connect_errors_are_retried_for_every_method(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock, operation: Operation
) -> None:
    operation.fail(mock_api, exception=refused())
    operation.fail(mock_api, exception=aiohttp.ConnectionTimeoutError())
    operation.succeed(mock_api)

    await operation.invoke(make_client())

    assert len(attempts(mock_api, operation)) == 3
    assert len(clock.sleeps) == 2


async def test_after_max_retries_the_last_error_is_raised(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    for attempt in range(1, 5):
        GET.fail(mock_api, status=503, payload=error("UNAVAILABLE", f"attempt {attempt}"))
    GET.succeed(mock_api)

    with pytest.raises(InternalServerError) as caught:
        await GET.invoke(make_client())

    assert caught.value.message == "attempt 4"
    assert caught.value.is_replay is True
    assert len(attempts(mock_api, GET)) == 4
    assert len(clock.sleeps) == 3


async def test_after_max_retries_a_connect_error_is_raised(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    for _ in range(3):
        CREATE.fail(mock_api, exception=refused())

    with pytest.raises(ConnectError):
        await CREATE.invoke(make_client(retry=RetryPolicy(max_retries=2)))

    assert len(attempts(mock_api, CREATE)) == 3
    assert len(clock.sleeps) == 2


async def test_no_retries_with_the_none_policy(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    GET.fail(mock_api, exception=refused())

    with pytest.raises(ConnectError):
        await GET.invoke(make_client(retry=RetryPolicy.none()))

    assert clock.sleeps == []


async def test_client_errors_are_not_retried(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    GET.fail(mock_api, status=404, payload=error("NOT_FOUND", "Contact not found"))

    with pytest.raises(NotFoundError) as caught:
        await GET.invoke(make_client())

    assert caught.value.is_replay is False
    assert clock.sleeps == []


# --- resolving an unknown outcome ----------------------------------------------------------


CREATIONS = [
    (
        CREATE,
        CONFLICT_PHONE,
        f"{CONTACTS}/{EXISTING_ID}",
        attrs.evolve(CONTACT_MODEL, id=EXISTING_ID),
    ),
    (CREATE_GROUP, CONFLICT_NAME, f"{GROUPS}/{GROUP_ID}", GROUP_MODEL),
]


@pytest.mark.parametrize(
    "failure", [case[1] for case in UNKNOWN_OUTCOMES], ids=[case[0] for case in UNKNOWN_OUTCOMES]
)
@pytest.mark.parametrize(
    ("operation", "conflict", "existing_path", "existing"),
    CREATIONS,
    ids=["contact", "group"],
)
async def test_create_after_an_unknown_outcome_returns_what_the_first_attempt_made(
    make_client: ClientFactory,
    mock_api: Any,
    operation: Operation,
    conflict: dict[str, Any],
    existing_path: str,
    existing: Any,
    failure: Failure,
) -> None:
    operation.fail(mock_api, **failure())
    operation.fail(mock_api, status=409, payload=conflict)
    wire = CONTACT if operation is CREATE else GROUP
    created_at = datetime.now(timezone.utc).replace(microsecond=0)  # made by this call
    holder = {**wire, "id": existing.id, "createdAt": created_at.isoformat()}
    mock_api.get(api_url(existing_path), payload=data(holder))

    assert await operation.invoke(make_client()) == attrs.evolve(existing, created_at=created_at)

    first, second = attempts(mock_api, operation)
    assert sent_json(first) == sent_json(second)
    assert len(calls_to(mock_api, "GET", existing_path)) == 1
    assert len(sent(mock_api)) == 3


@pytest.mark.parametrize("operation", [CREATE, CREATE_GROUP], ids=by_id)
async def test_create_answered_409_at_first_raises_the_conflict(
    make_client: ClientFactory, mock_api: Any, operation: Operation
) -> None:
    operation.fail(mock_api, status=409, payload=CONFLICT_PHONE)

    with pytest.raises(ConflictError) as caught:
        await operation.invoke(make_client())

    assert caught.value.existing_id == EXISTING_ID
    assert caught.value.is_replay is False
    assert len(sent(mock_api)) == 1


async def test_create_409_after_a_rate_limit_is_a_real_conflict(
    make_client: ClientFactory, mock_api: Any
) -> None:
    CREATE.fail(mock_api, **rate_limited("1"))  # a 429 was not processed
    CREATE.fail(mock_api, status=409, payload=CONFLICT_PHONE)

    with pytest.raises(ConflictError) as caught:
        await CREATE.invoke(make_client())

    assert caught.value.is_replay is False
    assert len(sent(mock_api)) == 2


@pytest.mark.parametrize("operation", [DELETE, DELETE_GROUP], ids=by_id)
async def test_delete_answered_404_on_a_resend_returns_normally(
    make_client: ClientFactory, mock_api: Any, operation: Operation
) -> None:
    operation.fail(mock_api, status=500, payload=error("INTERNAL_ERROR"))
    operation.fail(mock_api, status=404, payload=error("NOT_FOUND", "Contact not found"))

    assert await operation.invoke(make_client()) is None
    assert len(attempts(mock_api, operation)) == 2


@pytest.mark.parametrize("operation", [DELETE, DELETE_GROUP], ids=by_id)
async def test_delete_answered_404_after_a_rate_limit_raises(
    make_client: ClientFactory, mock_api: Any, operation: Operation
) -> None:
    operation.fail(mock_api, **rate_limited("1"))
    operation.fail(mock_api, status=404, payload=error("NOT_FOUND", "Contact not found"))

    with pytest.raises(NotFoundError):
        await operation.invoke(make_client())


@pytest.mark.parametrize(
    ("operation", "answer", "error_class"),
    [
        (CREATE, error("CONFLICT", "Conflict"), ConflictError),  # no existingId, no match
        (GET, error("NOT_FOUND", "Contact not found"), NotFoundError),
    ],
    ids=["conflict-without-existing-id", "not-found"],
)
async def test_errors_answering_a_resend_are_marked_as_replays(
    make_client: ClientFactory,
    mock_api: Any,
    operation: Operation,
    answer: dict[str, Any],
    error_class: type[APIStatusError],
) -> None:
    status = 409 if error_class is ConflictError else 404
    operation.fail(mock_api, exception=aiohttp.ServerDisconnectedError())
    operation.fail(mock_api, status=status, payload=answer)
    if error_class is ConflictError:  # naming no id, it sends the SDK looking for the phone
        mock_api.get(
            api_url(CONTACTS, limit=100, search="+33612345000"), payload=page("contacts", [])
        )

    with pytest.raises(error_class) as caught:
        await operation.invoke(make_client())

    assert caught.value.is_replay is True
    assert len(attempts(mock_api, operation)) == 2


async def test_cancel_answered_409_on_a_resend_reads_the_job(
    make_client: ClientFactory, mock_api: Any
) -> None:
    CANCEL.fail(mock_api, exception=aiohttp.ServerDisconnectedError())
    CANCEL.fail(mock_api, status=409, payload=error("CONFLICT", "Job is already cancelled"))
    mock_api.get(api_url(f"{JOBS}/{JOB_ID}"), payload=data({**JOB_DONE, "status": "cancelled"}))

    job = await CANCEL.invoke(make_client())

    assert (job.id, job.status) == (JOB_ID, "cancelled")
    assert len(calls_to(mock_api, "GET", f"{JOBS}/{JOB_ID}")) == 1


async def test_cancel_answered_409_at_first_raises(
    make_client: ClientFactory, mock_api: Any
) -> None:
    CANCEL.fail(mock_api, status=409, payload=error("CONFLICT", "Job is already done"))

    with pytest.raises(ConflictError, match="Job is already done"):
        await CANCEL.invoke(make_client())

    assert len(sent(mock_api)) == 1
