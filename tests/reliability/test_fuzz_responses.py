"""Issue #5, part 8: hostile responses raise the SDK's documented errors, or parse.

Hypothesis builds answers a broken server, proxy or network could send: random JSON, the
documented shapes with fields missing or of the wrong type, bodies cut short or of a few MB,
wrong content types and any status from 200 to 599. aioresponses serves one such answer to
every request of a call (its retries, lookups and job polls included). The call must return a
valid result or raise a ``MsgFlashError`` subclass: never a ``KeyError``, ``TypeError``, a
bare ``ValueError`` or a cattrs error.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import pytest
from aioresponses_compat import mocked_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    Contact,
    InternalServerError,
    MsgFlash,
    MsgFlashError,
    Page,
    RemoveMembersResult,
    ResponseDecodeError,
    RetryPolicy,
    _json,
)

from ._support import (
    CONTACT_ID,
    GROUP_ID,
    JOB_ID,
    MOCK_BASE_URL,
    MOCK_KEY,
    FakeClock,
)


def _parser_without_orjson() -> Callable[[bytes], Any]:
    """The SDK's JSON parser as a default installation (no ``speedups`` extra) has it: a
    fresh copy of ``msgflash_async._json`` loaded while orjson cannot be imported."""
    spec = importlib.util.spec_from_file_location("_json_without_orjson", _json.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with patch.dict(sys.modules, {"orjson": None}):
        spec.loader.exec_module(module)
    parser: Callable[[bytes], Any] = module.loads
    return parser


EXAMPLES = 17
"""Per kind of call and JSON parser: six kinds and two parsers, about 200 examples in all."""
JSON_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "installed_parser": _json.loads,  # orjson here, as with the speedups extra
    "default_parser": _parser_without_orjson(),
}

CONTACT = {
    "id": CONTACT_ID,
    "name": "Awa Doe",
    "phone": "+33612345000",
    "tags": ["vip"],
    "meta": {"city": "Cotonou"},
    "temperature": None,
    "createdAt": "2026-04-01T10:00:00.000Z",
    "updatedAt": "2026-04-01T10:00:00.000Z",
}
PAGE = {"contacts": [CONTACT], "total": 3, "limit": 1, "hasMore": True, "nextCursor": "WyJj"}
JOB = {
    "id": JOB_ID,
    "operation": "bulk_delete_contacts",
    "status": "done",
    "requestedCount": 900,
    "processedCount": 900,
    "progress": 100,
    "groupId": None,
    "summary": {"deleted": 880, "notFound": 20},
    "error": None,
    "createdAt": "2026-05-08T10:00:00.000Z",
    "updatedAt": "2026-05-08T10:00:12.000Z",
    "completedAt": "2026-05-08T10:00:12.000Z",
}
ACCEPTED = {
    "mode": "async",
    "jobId": JOB_ID,
    "status": "pending",
    "operation": "bulk_delete_contacts",
    "requestedCount": 900,
    "progress": 0,
}
DELETED = {"requested": 2, "deleted": 1, "notFound": [GROUP_ID]}
ERROR = {"code": "CONFLICT", "message": "Conflict", "details": [{"existingId": CONTACT_ID}]}


class Big:
    """A body of a few MB, named in reports instead of printed."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data

    def __repr__(self) -> str:
        return f"<{self.name}: {len(self.data)} bytes>"


HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
BIG_BODIES = [
    Big(
        "a valid page of 12,000 contacts",
        json.dumps({"data": {**PAGE, "contacts": [CONTACT] * 12_000}}).encode(),
    ),
    Big("a 3 MB id", b'{"data": {"id": "' + b"x" * 3_000_000 + b'"}}'),
    Big("3 MB of binary", bytes(range(256)) * 12_000),
    Big("3 MB of nested arrays", b"[" * 1_500_000 + b"]" * 1_500_000),
]
RETRY_AFTER = ["1", "0", "-5", "nan", "inf", "1e400", "soon", "", "Fri, 31 Dec 9999 23:59:59 GMT"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def mutated(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``template`` as is, or with fields replaced by random JSON, or some left out."""
    fields = {key: st.just(value) | st.just(value) | json_values for key, value in template.items()}
    return st.one_of(
        st.just(template), st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields)
    )


def documents(*templates: dict[str, Any]) -> st.SearchStrategy[Any]:
    """JSON documents: mostly the envelope of one of ``templates``, possibly mutated; else an
    error envelope, a random payload or random JSON."""
    page_items = st.builds(
        lambda page, items: {**page, "contacts": items},
        mutated(PAGE),
        st.lists(mutated(CONTACT), max_size=3),
    )
    expected = st.sampled_from(templates).flatmap(
        lambda template: page_items if template is PAGE else mutated(template)
    )
    return st.one_of(
        expected.map(lambda data: {"data": data}),
        expected.map(lambda data: {"data": data}),
        mutated(ERROR).map(lambda error: {"error": error}),
        json_values.map(lambda data: {"data": data}),
        json_values,
    )


def _cut(body: bytes, fraction: float) -> bytes:
    return body[: int(len(body) * fraction)]


def bodies(*templates: dict[str, Any]) -> st.SearchStrategy[bytes | Big]:
    encoded = documents(*templates).map(lambda document: json.dumps(document).encode())
    return st.one_of(
        encoded,
        encoded,
        encoded,
        st.builds(_cut, encoded, st.floats(0, 0.99)),
        st.binary(max_size=64),
        st.sampled_from([b"", HTML, b"null", b"{}", b'{"data": null}', b"[]"]),
        st.sampled_from(BIG_BODIES),
    )


@dataclass(frozen=True)
class HostileResponse:
    status: int
    body: bytes | Big
    content_type: str
    headers: dict[str, str]

    @property
    def data(self) -> bytes:
        return self.body.data if isinstance(self.body, Big) else self.body


def responses(*templates: dict[str, Any]) -> st.SearchStrategy[HostileResponse]:
    """Answers to a call whose success payload looks like one of ``templates``."""
    return st.builds(
        HostileResponse,
        status=st.one_of(
            st.just(200),
            st.just(200),
            st.sampled_from([201, 202, 204]),
            st.sampled_from([400, 404, 408, 409, 429, 500, 503]),
            st.integers(200, 599),
        ),
        body=bodies(*templates),
        content_type=st.sampled_from(
            ["application/json", "text/html", "text/plain", "application/octet-stream", ""]
        ),
        headers=st.fixed_dictionaries(
            {},
            optional={
                "Retry-After": st.sampled_from(RETRY_AFTER),
                "Location": st.just("https://elsewhere.msgflash.test/"),
            },
        ),
    )


@dataclass(frozen=True)
class Call:
    """One kind of SDK call and the results it may return."""

    name: str
    run: Callable[[MsgFlash], Awaitable[Any]]
    results: tuple[type, ...]
    templates: tuple[dict[str, Any], ...]
    """The documented success payloads of the call (job polls included)."""

    def __str__(self) -> str:
        return self.name


async def _bulk_delete(client: MsgFlash) -> Any:
    handle = await client.contacts.bulk_delete([CONTACT_ID, GROUP_ID])  # inline or accepted
    return await handle.wait(timeout=10)


async def _job_progress(client: MsgFlash) -> Any:
    return await client.jobs.handle(JOB_ID).wait(timeout=10)


CALLS = [
    Call("get_contact", lambda client: client.contacts.get(CONTACT_ID), (Contact,), (CONTACT,)),
    Call("list_page", lambda client: client.contacts.list().first_page(), (Page,), (PAGE,)),
    Call(
        "create_contact",
        lambda client: client.contacts.create(name="Awa Doe", phone="+33612345000"),
        (Contact,),
        (CONTACT,),
    ),
    Call("bulk_delete", _bulk_delete, (BulkDeleteResult,), (DELETED, ACCEPTED, JOB)),
    Call(
        "job_progress",
        _job_progress,
        (BulkDeleteResult, AddMembersResult, RemoveMembersResult),
        (JOB,),
    ),
    Call(
        "delete_contact",
        lambda client: client.contacts.delete(CONTACT_ID),
        (type(None),),
        ({"id": CONTACT_ID, "deleted": True},),
    ),
]


async def answer_with(
    response: HostileResponse, call: Call, parser: Callable[[bytes], Any] = _json.loads
) -> Any:
    """Run ``call`` against a mocked API answering every request with ``response``, the SDK
    parsing JSON with ``parser``."""
    with mocked_api() as mock, patch.object(_json, "loads", parser):
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add(
                re.compile(re.escape(MOCK_BASE_URL) + "/.*"),
                method=method,
                status=response.status,
                body=response.data,
                content_type=response.content_type,
                headers=response.headers,
                repeat=True,
            )
        async with MsgFlash(
            MOCK_KEY,
            base_url=MOCK_BASE_URL,
            rate_limit=None,
            retry=RetryPolicy(max_retries=2),
            clock=FakeClock(),
        ) as client:
            return await call.run(client)


@pytest.mark.parametrize("parser", JSON_PARSERS)
@pytest.mark.parametrize("call", CALLS, ids=str)
def test_hostile_responses_raise_only_documented_errors(call: Call, parser: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(response=responses(*call.templates))
    def check(response: HostileResponse) -> None:
        try:
            result = asyncio.run(answer_with(response, call, JSON_PARSERS[parser]))
        except MsgFlashError:
            return
        assert isinstance(result, call.results), result

    check()


@pytest.mark.parametrize("parser", JSON_PARSERS)
@pytest.mark.parametrize("status", [200, 500])
def test_deeply_nested_json_is_a_decode_error(status: int, parser: str) -> None:
    """Nesting deeper than the parser's recursion limit is one more body that is not the
    documented JSON, whichever parser reads it."""
    nested = HostileResponse(status, b"[" * 100_000 + b"]" * 100_000, "application/json", {})
    expected = ResponseDecodeError if status == 200 else InternalServerError

    with pytest.raises(expected):
        asyncio.run(answer_with(nested, CALLS[0], JSON_PARSERS[parser]))
