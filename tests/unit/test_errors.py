"""Error answers, undecodable answers and connection failures, mapped to the SDK's exceptions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from msgflash_async import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectError,
    ConnectTimeoutError,
    InternalServerError,
    JobFailedError,
    MaxContactGroupsReachedError,
    MonthlyQuotaExceededError,
    MsgFlash,
    MsgFlashError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RateLimitExceededError,
    ReadTimeoutError,
    RedirectError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerDisconnectedError,
    UnprocessableEntityError,
    ValidationError,
)
from msgflash_async import _errors as msgflash_errors

from ._helpers import (
    API_KEY,
    CONFLICT_PHONE,
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    EXISTING_ID,
    GROUP_ID,
    GROUPS,
    JOB_ID,
    JOBS,
    OTHER_CONTACT_ID,
    REQUEST_ID,
    api_url,
    data,
    error,
    http_date,
    sent,
)

CONTACT_URL = api_url(f"{CONTACTS}/{CONTACT_ID}")
Invoke = Callable[[MsgFlash], Awaitable[Any]]


async def get_contact(client: MsgFlash) -> Any:
    return await client.contacts.get(CONTACT_ID)


# --- status and code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (400, "VALIDATION_ERROR", ValidationError),
        (400, "BAD_REQUEST", ValidationError),
        (401, "UNAUTHORIZED", AuthenticationError),
        (403, "FORBIDDEN", PermissionDeniedError),
        (403, "SUBSCRIPTION_INACTIVE", PermissionDeniedError),
        (403, "TEAM_KEY_REQUIRED", PermissionDeniedError),
        (403, "FEATURE_NOT_AVAILABLE_ON_PLAN", PermissionDeniedError),
        (403, "TEAM_KEY_NOT_ALLOWED", PermissionDeniedError),
        (403, "MAX_CONTACT_GROUPS_REACHED", MaxContactGroupsReachedError),
        (404, "NOT_FOUND", NotFoundError),
        (404, "TEAM_NOT_FOUND", NotFoundError),
        (409, "CONFLICT", ConflictError),
        (422, "INVALID_DESTINATION", UnprocessableEntityError),
        (429, "API_RATE_LIMIT_EXCEEDED", RateLimitExceededError),
        (429, "MONTHLY_API_REQUEST_QUOTA_EXCEEDED", MonthlyQuotaExceededError),
        (429, "MONTHLY_OUTBOUND_QUOTA_EXCEEDED", RateLimitError),
        (500, "INTERNAL_ERROR", InternalServerError),
        (502, "PROVIDER_TIMEOUT", InternalServerError),
        (502, "PROVIDER_UNAVAILABLE", InternalServerError),
        (503, "SERVICE_UNAVAILABLE", InternalServerError),
        (418, "I_AM_A_TEAPOT", APIStatusError),
        # A known code that disagrees with the status: the status decides.
        (400, "MAX_CONTACT_GROUPS_REACHED", BadRequestError),
        (403, "API_RATE_LIMIT_EXCEEDED", PermissionDeniedError),
    ],
)
async def test_error_maps_to_its_class_with_every_attribute(
    client: MsgFlash, mock_api: Any, status: int, code: str, error_class: type[APIStatusError]
) -> None:
    mock_api.get(
        CONTACT_URL,
        status=status,
        payload=error(code, "Something went wrong"),
        headers={"x-request-id": REQUEST_ID},
    )

    with pytest.raises(APIStatusError) as caught:
        await get_contact(client)

    exc = caught.value
    assert type(exc) is error_class
    assert isinstance(exc, MsgFlashError)
    assert (exc.status, exc.code, exc.message) == (status, code, "Something went wrong")
    assert exc.details is None
    assert exc.request_id == REQUEST_ID
    assert (exc.method, exc.url) == ("GET", str(CONTACT_URL))
    assert exc.is_replay is False
    assert f"{status} {code}: Something went wrong" in str(exc)
    assert API_KEY not in str(exc)


def test_validation_error_is_a_bad_request_and_quota_errors_are_rate_limit_errors() -> None:
    assert issubclass(ValidationError, BadRequestError)
    assert issubclass(MaxContactGroupsReachedError, PermissionDeniedError)
    assert issubclass(RateLimitExceededError, RateLimitError)
    assert issubclass(MonthlyQuotaExceededError, RateLimitError)


@pytest.mark.parametrize(
    "details",
    [
        [],
        [{"field": "phone", "message": "Invalid phone"}, {"field": "contactIds.3", "message": "x"}],
        {"phone": ["bad"]},
        "free text",
    ],
    ids=["empty", "fields", "object", "string"],
)
async def test_validation_details_are_kept_raw(
    client: MsgFlash, mock_api: Any, details: Any
) -> None:
    mock_api.get(CONTACT_URL, status=400, payload=error("VALIDATION_ERROR", "Invalid", details))

    with pytest.raises(ValidationError) as caught:
        await get_contact(client)

    assert caught.value.details == details


async def test_request_id_is_none_without_the_header(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(CONTACT_URL, status=404, payload=error("NOT_FOUND", "Contact not found"))

    with pytest.raises(NotFoundError) as caught:
        await get_contact(client)

    assert caught.value.request_id is None


async def test_error_headers_are_case_insensitive(client: MsgFlash, mock_api: Any) -> None:
    # HTTP header names are case-insensitive; servers and proxies may send any case.
    headers = {"retry-after": "5", "X-Request-Id": REQUEST_ID}
    mock_api.get(CONTACT_URL, status=429, payload=error("X"), headers=headers)

    with pytest.raises(RateLimitError) as caught:
        await get_contact(client)

    assert caught.value.retry_after == 5.0
    assert caught.value.headers.get("Retry-After") == "5"
    assert caught.value.headers.get("x-request-id") == REQUEST_ID


LONG = 200_000  # under any response size cap, far over what a message may show


async def test_a_huge_error_message_is_cut_in_the_text_and_kept_whole(
    client: MsgFlash, mock_api: Any
) -> None:
    message = "A" * LONG
    mock_api.get(CONTACT_URL, status=400, payload=error("VALIDATION_ERROR", message))

    with pytest.raises(ValidationError) as caught:
        await get_contact(client)

    exc = caught.value
    assert exc.message == message
    assert len(str(exc)) < 700
    assert str(exc) == exc.args[0]
    assert f"{'A' * 500}… ({LONG} characters in all) (GET {CONTACT_URL})" in str(exc)


async def test_a_huge_server_value_in_a_decode_error_is_cut(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_api.get(CONTACT_URL, payload=data({**CONTACT, "createdAt": "x" * LONG}))

    with pytest.raises(ResponseDecodeError) as caught:
        await get_contact(client)

    assert len(str(caught.value)) < 1000
    assert "characters in all" in str(caught.value)


def test_a_huge_job_error_is_cut_in_the_text_and_kept_whole() -> None:
    reason = "database unavailable " * 50_000

    exc = JobFailedError(job_id=JOB_ID, error=reason, job=None)

    assert exc.error == reason
    assert len(str(exc)) < 700
    assert str(exc).endswith(f"… ({len(reason)} characters in all)")


def test_a_short_message_is_shown_whole() -> None:
    message = "B" * 500

    exc = ConflictError(message, status=409, code=None, method="POST", url=CONTACTS)

    assert str(exc) == f"409: {message} (POST {CONTACTS})"


def test_response_too_large_error_names_the_limit_and_keeps_no_excerpt() -> None:
    told = ResponseTooLargeError(limit=1000, size=5000, status=200, method="GET", url=CONTACTS)
    cut = ResponseTooLargeError(limit=1000, size=None, status=502, method="GET", url=CONTACTS)

    assert isinstance(told, ResponseDecodeError)
    assert str(told) == (
        f"the answer is larger than the 1000-byte limit (5000 bytes) (HTTP 200 from GET {CONTACTS})"
    )
    assert (told.limit, told.size, told.status, told.body_excerpt) == (1000, 5000, 200, "")
    assert (cut.size, cut.status) == (None, 502)
    assert cut.reason == "the answer is larger than the 1000-byte limit"


def drawn_tree() -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """The module docstring's drawing: class name -> (drawn parent, builtin bases drawn)."""
    tree: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    parents: list[str] = []
    for line in (msgflash_errors.__doc__ or "").splitlines():
        found = re.match(r"^ {4}([│ ]*(?:[├└]── )?)(\w+Error)(?: \((\w+)\))?", line)
        if found is None:
            continue
        depth = len(found[1]) // 4
        del parents[depth:]
        tree[found[2]] = (parents[-1] if parents else None, (found[3],) if found[3] else ())
        parents.append(found[2])
    return tree


def test_the_docstring_tree_draws_every_error_class_as_defined() -> None:
    classes = {
        name: cls
        for name, cls in vars(msgflash_errors).items()
        if name in msgflash_errors.__all__ and isinstance(cls, type)
    }
    actual = {}
    for name, cls in classes.items():
        sdk_bases = [base.__name__ for base in cls.__bases__ if base.__name__ in classes]
        builtin_bases = tuple(
            base.__name__ for base in cls.__bases__ if base.__name__ not in classes
        )
        actual[name] = (sdk_bases[0] if sdk_bases else None, builtin_bases)
    actual["MsgFlashError"] = (None, ())  # drawn as the root, Exception implied

    assert drawn_tree() == actual


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("7", 7.0, 7.0),
        ("1.5", 1.5, 1.5),
        (" 2 ", 2.0, 2.0),
        ("0", 0.1, 0.1),
        (timedelta(seconds=60), 55.0, 60.0),
        (timedelta(seconds=-60), 0.1, 0.1),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.1, 0.1),
    ],
    ids=["seconds", "decimal", "spaces", "zero", "date", "past-date", "naive-date"],
)
async def test_rate_limit_error_reads_retry_after(
    client: MsgFlash, mock_api: Any, header: str | timedelta, low: float, high: float
) -> None:
    if isinstance(header, timedelta):  # an HTTP date relative to now, not to collection time
        header = http_date(header)
    mock_api.get(
        CONTACT_URL,
        status=429,
        payload=error("API_RATE_LIMIT_EXCEEDED", "Too many API requests"),
        headers={"Retry-After": header},
    )

    with pytest.raises(RateLimitExceededError) as caught:
        await get_contact(client)

    assert caught.value.retry_after is not None
    assert low <= caught.value.retry_after <= high


@pytest.mark.parametrize("header", [None, "soon", "", "nan", "inf"])
async def test_unusable_retry_after_is_none(
    client: MsgFlash, mock_api: Any, header: str | None
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    body = error("MONTHLY_API_REQUEST_QUOTA_EXCEEDED", "Monthly quota exceeded")
    mock_api.get(CONTACT_URL, status=429, payload=body, headers=headers)

    with pytest.raises(MonthlyQuotaExceededError) as caught:
        await get_contact(client)

    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("body", "existing_id"),
    [
        (CONFLICT_PHONE, EXISTING_ID),
        (error("CONFLICT", "Job is already done"), None),
        (error("CONFLICT", "x", [{"field": "phone"}, "junk", {"existingId": 7}]), None),
        (error("CONFLICT", "x", {"existingId": EXISTING_ID}), None),
    ],
    ids=["phone", "no-details", "no-usable-id", "details-not-a-list"],
)
async def test_conflict_exposes_the_existing_id(
    client: MsgFlash, mock_api: Any, body: dict[str, Any], existing_id: str | None
) -> None:
    mock_api.post(api_url(CONTACTS), status=409, payload=body)

    with pytest.raises(ConflictError) as caught:
        await client.contacts.create(name="Awa Doe", phone="+33612345000")

    assert caught.value.existing_id == existing_id
    assert caught.value.details == body["error"].get("details")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_is_an_error_and_never_followed(
    client: MsgFlash, mock_api: Any, status: int
) -> None:
    mock_api.get(CONTACT_URL, status=status, headers={"Location": "https://evil.test/steal"})
    mock_api.get("https://evil.test/steal", payload=data(CONTACT))

    with pytest.raises(RedirectError) as caught:
        await get_contact(client)

    assert caught.value.status == status
    assert "https://evil.test/steal" in caught.value.message
    assert sent(mock_api) == [("GET", f"{CONTACTS}/{CONTACT_ID}")]


async def test_redirect_with_an_error_envelope_keeps_it(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(CONTACT_URL, status=307, payload=error("MOVED", "Moved"))

    with pytest.raises(RedirectError) as caught:
        await get_contact(client)

    assert (caught.value.code, caught.value.message) == ("MOVED", "Moved")


# --- answers that are not the documented JSON ----------------------------------------------

HTML = b"<!DOCTYPE html><html><body><h1>Bad gateway</h1>" + b"<p>nginx</p>" * 100 + b"</html>"
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"


async def list_contacts(client: MsgFlash) -> Any:
    return await client.contacts.list().first_page()


async def contact_groups(client: MsgFlash) -> Any:
    return await client.contacts.groups(CONTACT_ID)


async def get_job(client: MsgFlash) -> Any:
    return await client.jobs.get(JOB_ID)


async def bulk_delete(client: MsgFlash) -> Any:
    return await client.contacts.bulk_delete([CONTACT_ID, OTHER_CONTACT_ID])


async def add_members(client: MsgFlash) -> Any:
    return await client.groups.add_members(GROUP_ID, [CONTACT_ID])


async def create_contact(client: MsgFlash) -> Any:
    return await client.contacts.create(name="Awa Doe", phone="+33612345000")


UNDECODABLE: list[tuple[str, str, str, dict[str, str | int], Invoke, int, bytes]] = [
    # id, method, path, query, call, status, body
    ("html-200", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, HTML),
    ("truncated", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b'{"data": {"id": "'),
    ("empty-200", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b""),
    ("not-utf8", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b'{"data":"\xff\xfe"}'),
    ("no-envelope", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b'{"id": "x"}'),
    ("array-envelope", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b"[1, 2]"),
    ("data-null", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b'{"data": null}'),
    ("id-number", "GET", f"{CONTACTS}/{CONTACT_ID}", {}, get_contact, 200, b'{"data":{"id":42}}'),
    (
        "tags-string",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}",
        {},
        get_contact,
        200,
        b'{"data":{"id":"x","tags":"vip"}}',
    ),
    (
        "meta-array",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}",
        {},
        get_contact,
        200,
        b'{"data":{"id":"x","meta":[]}}',
    ),
    (
        "bad-date",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}",
        {},
        get_contact,
        200,
        b'{"data":{"id":"x","createdAt":"yesterday"}}',
    ),
    (
        "date-number",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}",
        {},
        get_contact,
        200,
        b'{"data":{"id":"x","createdAt":1775037600}}',
    ),
    ("create-html", "POST", CONTACTS, {}, create_contact, 201, HTML),
    (
        "page-without-hasMore",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":{"contacts":[],"nextCursor":null}}',
    ),
    (
        "page-hasMore-string",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":{"contacts":[],"nextCursor":null,"hasMore":"false"}}',
    ),
    (
        "page-cursor-number",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":{"contacts":[],"nextCursor":5,"hasMore":true}}',
    ),
    (
        "page-without-items",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":{"groups":[],"nextCursor":null,"hasMore":false}}',
    ),
    (
        "page-is-array",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":[]}',
    ),
    (
        "page-item-id-number",
        "GET",
        CONTACTS,
        {"limit": 100},
        list_contacts,
        200,
        b'{"data":{"contacts":[{"id":1}],"nextCursor":null,"hasMore":false}}',
    ),
    (
        "contact-groups-string",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        {},
        contact_groups,
        200,
        b'{"data":"none"}',
    ),
    (
        "contact-groups-object-without-groups",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        {},
        contact_groups,
        200,
        b'{"data":{"items":[]}}',
    ),
    (
        "contact-groups-item-count-string",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        {},
        contact_groups,
        200,
        b'{"data":[{"id":"g","contactCount":"3"}]}',
    ),
    (
        "job-without-status",
        "GET",
        f"{JOBS}/{JOB_ID}",
        {},
        get_job,
        200,
        b'{"data":{"id":"j"}}',
    ),
    (
        "job-status-number",
        "GET",
        f"{JOBS}/{JOB_ID}",
        {},
        get_job,
        200,
        b'{"data":{"id":"j","status":3}}',
    ),
    (
        "job-progress-bool",
        "GET",
        f"{JOBS}/{JOB_ID}",
        {},
        get_job,
        200,
        b'{"data":{"id":"j","status":"done","progress":true}}',
    ),
    ("bulk-202-empty", "POST", f"{CONTACTS}/bulk-delete", {}, bulk_delete, 202, b""),
    (
        "bulk-202-without-job-id",
        "POST",
        f"{CONTACTS}/bulk-delete",
        {},
        bulk_delete,
        202,
        b'{"data":{"mode":"async","status":"pending"}}',
    ),
    (
        "bulk-inline-not-found-count",
        "POST",
        f"{CONTACTS}/bulk-delete",
        {},
        bulk_delete,
        200,
        b'{"data":{"requested":2,"deleted":1,"notFound":1}}',
    ),
    (
        "bulk-inline-array",
        "POST",
        f"{CONTACTS}/bulk-delete",
        {},
        bulk_delete,
        200,
        b'{"data":[]}',
    ),
    (
        "add-members-string-count",
        "POST",
        MEMBERS,
        {},
        add_members,
        200,
        b'{"data":{"added":"2"}}',
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "invoke", "status", "body"),
    [case[1:] for case in UNDECODABLE],
    ids=[case[0] for case in UNDECODABLE],
)
async def test_undecodable_answer_raises_response_decode_error(
    client: MsgFlash,
    mock_api: Any,
    method: str,
    path: str,
    query: dict[str, str | int],
    invoke: Invoke,
    status: int,
    body: bytes,
) -> None:
    mock_api.add(api_url(path, **query), method=method, status=status, body=body)

    with pytest.raises(ResponseDecodeError) as caught:
        await invoke(client)

    exc = caught.value
    assert exc.status == status
    assert exc.body_excerpt == body[:200].decode("utf-8", "replace")
    assert (exc.method, exc.url) == (method, str(api_url(path)))
    assert f"HTTP {status} from {method}" in str(exc)
    assert exc.reason in str(exc)


async def test_decode_error_names_the_missing_field(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(f"{JOBS}/{JOB_ID}"), payload=data({"id": JOB_ID}))

    with pytest.raises(ResponseDecodeError, match="missing field 'status'"):
        await get_job(client)


@pytest.mark.parametrize(
    ("status", "body", "error_class", "message"),
    [
        (502, HTML, InternalServerError, "HTTP 502: '<!DOCTYPE html>"),
        (500, b"", InternalServerError, "HTTP 500"),
        (404, b"<html>Not Found</html>", NotFoundError, "HTTP 404: '<html>Not Found</html>'"),
        (400, b'{"error": {"code": "VALID', BadRequestError, "HTTP 400"),
        (429, b"Too Many Requests", RateLimitError, "HTTP 429: 'Too Many Requests'"),
        (403, b'{"error": "forbidden"}', PermissionDeniedError, "HTTP 403"),
        (401, b'{"error": {"code": 401, "message": 7}}', AuthenticationError, "HTTP 401"),
    ],
    ids=[
        "html-502",
        "empty-500",
        "html-404",
        "truncated-400",
        "text-429",
        "string-error",
        "bad-types",
    ],
)
async def test_error_status_without_an_envelope_keeps_its_class(
    client: MsgFlash,
    mock_api: Any,
    status: int,
    body: bytes,
    error_class: type[APIStatusError],
    message: str,
) -> None:
    mock_api.get(CONTACT_URL, status=status, body=body, headers={"Retry-After": "3"})

    with pytest.raises(APIStatusError) as caught:
        await get_contact(client)

    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.code is None
    assert caught.value.message.startswith(message)
    assert len(caught.value.message) < 300


# --- connection failures -------------------------------------------------------------------

CONNECTION_KEY = ConnectionKey("api.msgflash.test", 443, True, True, None, None, None)


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (
            aiohttp.ClientConnectorError(CONNECTION_KEY, OSError(111, "Connection refused")),
            ConnectError,
        ),
        (aiohttp.ConnectionTimeoutError("connect timed out"), ConnectTimeoutError),
        (asyncio.TimeoutError(), ReadTimeoutError),
        (aiohttp.SocketTimeoutError("read timed out"), ReadTimeoutError),
        (aiohttp.ServerDisconnectedError(), ServerDisconnectedError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), ServerDisconnectedError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ServerDisconnectedError),
        (aiohttp.ClientConnectionError("boom"), APIConnectionError),
    ],
    ids=lambda value: type(value).__name__,
)
async def test_connection_failure_maps_to_its_class(
    client: MsgFlash, mock_api: Any, failure: Exception, error_class: type[APIConnectionError]
) -> None:
    mock_api.get(CONTACT_URL, exception=failure)

    with pytest.raises(APIConnectionError) as caught:
        await get_contact(client)

    exc = caught.value
    assert type(exc) is error_class
    assert (exc.method, exc.url) == ("GET", str(CONTACT_URL))
    assert f"(GET {CONTACT_URL})" in str(exc)
    assert API_KEY not in str(exc)


def test_timeouts_are_timeout_errors_and_connect_timeouts_connect_errors() -> None:
    assert issubclass(ConnectTimeoutError, ConnectError)
    assert issubclass(ConnectTimeoutError, TimeoutError)
    assert issubclass(ReadTimeoutError, TimeoutError)
    assert not issubclass(ReadTimeoutError, ConnectError)
    assert not issubclass(ServerDisconnectedError, ConnectError)


async def test_connect_error_names_the_os_error(client: MsgFlash, mock_api: Any) -> None:
    failure = aiohttp.ClientConnectorError(CONNECTION_KEY, OSError(111, "Connection refused"))
    mock_api.get(CONTACT_URL, exception=failure)

    with pytest.raises(ConnectError, match=r"could not connect: .*Connection refused"):
        await get_contact(client)
