"""What the unit tests share: constants, a fake clock, request inspection, spec payloads.

The payloads below are the response examples of the specification
(/work/shared/api/msgflash-api.md, §2 and §3), written once and reused by every test file.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from msgflash_async import (
    BulkJob,
    Contact,
    ContactGroup,
    GroupMember,
    JobOperation,
    JobStatus,
    MsgFlash,
)

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
"""The personal key of the ``client`` fixture of tests/conftest.py."""
BASE_URL = "https://api.msgflash.test"
"""The base URL of the ``client`` fixture of tests/conftest.py."""
TEAM_KEY = "msgf_team_" + "7a1c" * 8
TEAM_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"

CONTACT_ID = "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47"
OTHER_CONTACT_ID = "0e9d8c7b-6a5f-4e3d-b2c1-a0f9e8d7c6b5"
EXISTING_ID = "b7e4d2c1-0f3a-4b5c-8d6e-7f8091a2b3c4"
GROUP_ID = "8a6e0f3b-52c1-4d7e-a1f9-6c2b3d4e5f60"
JOB_ID = "c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e"
REQUEST_ID = "5e8a4f1c-2b3d-4c5e-9f6a-7b8c9d0e1f2a"

CONTACTS = "/api/v1/contacts"
GROUPS = "/api/v1/contacts/groups"
JOBS = "/api/v1/contacts/bulk-jobs"


Invoke = Callable[[MsgFlash], Awaitable[Any]]
"""A call of the SDK, given a client."""


def loose(value: object) -> Any:
    """A value of the wrong type, let past the type checker to reach the SDK's own checks."""
    return value


def create(**fields: Any) -> Invoke:
    """``contacts.create`` with a valid contact, some fields changed."""
    arguments = {"name": "Awa Doe", "phone": "+33612345000", **fields}
    return lambda sdk: sdk.contacts.create(**arguments)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware UTC datetime: ``utc(2026, 4, 1, 10)``."""
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def http_date(delta: timedelta) -> str:
    """An HTTP-date (as in ``Retry-After``) ``delta`` from now."""
    return format_datetime(datetime.now(timezone.utc) + delta, usegmt=True)


# --- requests as aioresponses recorded them ------------------------------------------------


def api_url(path: str, **query: str | int) -> URL:
    """The URL aioresponses files a request under: the base URL, the path, the sorted query."""
    return URL(BASE_URL + path).with_query(sorted(query.items()))


def sent(mock: Any) -> list[tuple[str, str]]:
    """Every request made, as (method, path and query), grouped by URL in first-seen order."""
    return [
        (method, url.raw_path_qs) for (method, url), calls in mock.requests.items() for _ in calls
    ]


def calls_to(mock: Any, method: str, path: str, **query: str | int) -> list[Any]:
    """The recorded calls (``args``, ``kwargs``) to one method and URL."""
    return list(mock.requests.get((method, api_url(path, **query)), []))


def only_call(mock: Any) -> tuple[str, URL, Any]:
    """The single request made: (method, URL, call); fails if there were more or none."""
    assert len(sent(mock)) == 1, sent(mock)
    [((method, url), [call])] = mock.requests.items()
    return method, url, call


def sent_headers(call: Any) -> CIMultiDict[str]:
    """The headers of a recorded call, looked up case-insensitively."""
    return CIMultiDict(call.kwargs["headers"])


def sent_json(call: Any) -> Any:
    """The JSON body of a recorded call (the SDK sends compact JSON bytes as ``data``)."""
    data = call.kwargs["data"]
    assert isinstance(data, bytes), data
    return json.loads(data)


def compact(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the specification (§1.9) defines it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# --- bodies --------------------------------------------------------------------------------


def data(payload: Any) -> dict[str, Any]:
    """The success envelope."""
    return {"data": payload}


def error(code: str, message: str = "failed", details: Any = None) -> dict[str, Any]:
    """The error envelope; ``details`` only when given."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def page(key: str, items: list[Any], cursor: str | None = None, **extra: Any) -> dict[str, Any]:
    """A list page whose ``hasMore`` follows ``nextCursor``."""
    return data({key: items, "nextCursor": cursor, "hasMore": cursor is not None, **extra})


def contact(contact_id: str, **changes: Any) -> dict[str, Any]:
    """The spec's contact with another id (and any field changed)."""
    return {**CONTACT, "id": contact_id, **changes}


def job(status: str, processed: int, summary: Mapping[str, int], **changes: Any) -> dict[str, Any]:
    """The spec's J1 job in another state."""
    return {
        **JOB_PROCESSING,
        "status": status,
        "processedCount": processed,
        "summary": dict(summary),
        **changes,
    }


# --- the specification's examples (wire format) ---------------------------------------------

CONTACT: dict[str, Any] = {
    "id": CONTACT_ID,
    "name": "Awa Doe",
    "phone": "+33612345000",
    "tags": ["vip"],
    "meta": {"city": "Cotonou"},
    "temperature": None,
    "createdAt": "2026-04-01T10:00:00.000Z",
    "updatedAt": "2026-04-01T10:00:00.000Z",
}
GROUP: dict[str, Any] = {
    "id": GROUP_ID,
    "name": "VIP clients",
    "description": "High-value customers",
    "color": "#F59E0B",
    "contactCount": 42,
    "createdAt": "2026-04-01T10:00:00.000Z",
    "updatedAt": "2026-04-02T09:30:00.000Z",
}
MEMBER: dict[str, Any] = {**CONTACT, "meta": {}, "addedAt": "2026-04-03T08:15:00.000Z"}
CONTACTS_CURSOR = (
    "WyJjb250YWN0cy5jcmVhdGVkQXRfZGVzYyIsIjIwMjYtMDQtMDFUMTA6MDA6MDAuMDAwWiIsIjNmMWMyYTll"
    "LTdiNGQtNGUyMS05YzU1LTBhOGQ2YjFlMmY0NyJd"
)
CONTACTS_PAGE = data(
    {
        "contacts": [CONTACT],
        "total": 3,
        "limit": 1,
        "sort": "createdAt_desc",
        "hasMore": True,
        "nextCursor": CONTACTS_CURSOR,
    }
)
GROUPS_PAGE = page("groups", [GROUP], total=7, limit=50)
MEMBERS_PAGE = page("members", [MEMBER], total=1, limit=50)
JOB_PROCESSING: dict[str, Any] = {
    "id": JOB_ID,
    "operation": "add_to_group",
    "status": "processing",
    "requestedCount": 4900,
    "processedCount": 2300,
    "progress": 47,
    "groupId": GROUP_ID,
    "summary": {"added": 2190, "alreadyInGroup": 80, "notFound": 30},
    "error": None,
    "createdAt": "2026-05-08T10:00:00.000Z",
    "updatedAt": "2026-05-08T10:00:08.000Z",
    "completedAt": None,
}
JOBS_PAGE = page("jobs", [JOB_PROCESSING])
JOB_DONE = job(
    "done",
    4900,
    {"added": 4721, "alreadyInGroup": 131, "notFound": 48},
    progress=100,
    updatedAt="2026-05-08T10:00:12.000Z",
    completedAt="2026-05-08T10:00:12.000Z",
)
JOB_CANCELLED: dict[str, Any] = {  # J4's example: no error, createdAt or updatedAt
    "id": JOB_ID,
    "operation": "add_to_group",
    "status": "cancelled",
    "requestedCount": 4900,
    "processedCount": 2550,
    "progress": 52,
    "groupId": GROUP_ID,
    "summary": {"added": 2431, "alreadyInGroup": 91, "notFound": 28},
    "completedAt": "2026-05-08T10:00:09.000Z",
}
QUEUED = f"Bulk operation queued. Check status via GET /api/contacts/bulk-jobs/{JOB_ID}"
ACCEPTED_DELETE: dict[str, Any] = {
    "mode": "async",
    "jobId": JOB_ID,
    "status": "pending",
    "operation": "bulk_delete_contacts",
    "requestedCount": 900,
    "progress": 0,
    "message": QUEUED,
}
ACCEPTED_ADD: dict[str, Any] = {
    "mode": "async",
    "jobId": JOB_ID,
    "status": "pending",
    "operation": "add_to_group",
    "requestedCount": 4900,
    "groupId": GROUP_ID,
    "progress": 0,
    "message": QUEUED,
}
ACCEPTED_REMOVE: dict[str, Any] = {
    **ACCEPTED_ADD,
    "operation": "remove_from_group",
    "requestedCount": 280,
}
BULK_DELETED: dict[str, Any] = {"requested": 2, "deleted": 1, "notFound": [OTHER_CONTACT_ID]}
MEMBERS_ADDED: dict[str, Any] = {"added": 2, "alreadyInGroup": 0, "notFound": 0, "total": 2}
MEMBERS_REMOVED: dict[str, Any] = {"removed": 1, "notInGroup": 1}
CONFLICT_PHONE = error(
    "CONFLICT",
    "A contact with this phone already exists",
    [{"field": "phone", "existingId": EXISTING_ID}],
)
CONFLICT_NAME = error(
    "CONFLICT",
    "A group with the same name already exists",
    [{"field": "name", "existingId": GROUP_ID}],
)

# --- the same examples as the SDK's models --------------------------------------------------

CONTACT_MODEL = Contact(
    id=CONTACT_ID,
    name="Awa Doe",
    phone="+33612345000",
    tags=("vip",),
    meta={"city": "Cotonou"},
    temperature=None,
    created_at=utc(2026, 4, 1, 10),
    updated_at=utc(2026, 4, 1, 10),
)
GROUP_MODEL = ContactGroup(
    id=GROUP_ID,
    name="VIP clients",
    description="High-value customers",
    color="#F59E0B",
    contact_count=42,
    created_at=utc(2026, 4, 1, 10),
    updated_at=utc(2026, 4, 2, 9, 30),
)
MEMBER_MODEL = GroupMember(
    id=CONTACT_ID,
    name="Awa Doe",
    phone="+33612345000",
    tags=("vip",),
    meta={},
    created_at=utc(2026, 4, 1, 10),
    updated_at=utc(2026, 4, 1, 10),
    added_at=utc(2026, 4, 3, 8, 15),
)
JOB_PROCESSING_MODEL = BulkJob(
    id=JOB_ID,
    status=JobStatus.PROCESSING,
    operation=JobOperation.ADD_TO_GROUP,
    requested_count=4900,
    processed_count=2300,
    progress=47,
    group_id=GROUP_ID,
    summary={"added": 2190, "alreadyInGroup": 80, "notFound": 30},
    error=None,
    created_at=utc(2026, 5, 8, 10),
    updated_at=utc(2026, 5, 8, 10, 0, 8),
    completed_at=None,
)
