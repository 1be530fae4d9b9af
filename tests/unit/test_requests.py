"""Each of the 19 endpoints as the SDK reaches it: the exact request, and the parsed answer.

One table drives three tests: the request line, headers and body sent with a personal key;
the headers sent with a team key; and the typed value the SDK makes of the specification's
response example.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import attrs
import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    BulkJobHandle,
    Contact,
    ContactGroup,
    GroupMember,
    JobOperation,
    JobProgress,
    JobStatus,
    MsgFlash,
    Page,
    RemoveMembersResult,
    RetryPolicy,
    __version__,
)

from ._helpers import (
    ACCEPTED_ADD,
    ACCEPTED_DELETE,
    ACCEPTED_REMOVE,
    API_KEY,
    BULK_DELETED,
    CONTACT,
    CONTACT_ID,
    CONTACT_MODEL,
    CONTACTS,
    CONTACTS_CURSOR,
    CONTACTS_PAGE,
    EXISTING_ID,
    GROUP,
    GROUP_ID,
    GROUP_MODEL,
    GROUPS,
    GROUPS_PAGE,
    JOB_CANCELLED,
    JOB_DONE,
    JOB_ID,
    JOB_PROCESSING,
    JOB_PROCESSING_MODEL,
    JOBS,
    JOBS_PAGE,
    MEMBER,
    MEMBER_MODEL,
    MEMBERS_ADDED,
    MEMBERS_PAGE,
    MEMBERS_REMOVED,
    OTHER_CONTACT_ID,
    REQUEST_ID,
    TEAM_ID,
    TEAM_KEY,
    api_url,
    compact,
    data,
    only_call,
    page,
    sent_headers,
    sent_json,
    utc,
)
from .conftest import ClientFactory

Invoke = Callable[[MsgFlash], Awaitable[Any]]
StartBulk = Callable[[MsgFlash], Awaitable[BulkJobHandle[Any]]]


@dataclass(frozen=True)
class Endpoint:
    """One SDK call, the request it must send, a documented answer and its parsed value."""

    id: str
    method: str
    path: str
    invoke: Invoke
    response: Any
    expected: Any
    query: Mapping[str, str | int] = field(default_factory=dict)
    body: Any = None
    """The JSON body that must be sent; ``None`` when no body may be sent."""
    status: int = 200


def inline(start: StartBulk) -> Invoke:
    """Start a bulk operation and await its handle (an inline answer needs no request)."""

    async def run(sdk: MsgFlash) -> Any:
        return await (await start(sdk))

    return run


def accepted(start: StartBulk) -> Invoke:
    """Start a bulk operation answered with a job: the handle's job id and progress."""

    async def run(sdk: MsgFlash) -> tuple[str | None, JobProgress]:
        handle = await start(sdk)
        return handle.id, handle.progress()

    return run


def bulk_endpoints(
    name: str,
    method: str,
    path: str,
    start: StartBulk,
    inline_answer: dict[str, Any],
    inline_result: Any,
    accepted_answer: dict[str, Any],
) -> list[Endpoint]:
    """A bulk endpoint answered inline (200), as a job (202), and as a job with a 200."""
    job = BulkJob(
        id=JOB_ID,
        status=JobStatus.PENDING,
        operation=JobOperation(accepted_answer["operation"]),
        requested_count=accepted_answer["requestedCount"],
        group_id=accepted_answer.get("groupId"),
    )
    progress = JobProgress(
        status=JobStatus.PENDING, processed=0, requested=job.requested_count, jobs=(job,)
    )
    as_job = (JOB_ID, progress)
    queued = data(accepted_answer)
    return [
        Endpoint(
            f"{name}-inline",
            method,
            path,
            inline(start),
            data(inline_answer),
            inline_result,
            body=IDS_BODY,
        ),
        Endpoint(
            f"{name}-202", method, path, accepted(start), queued, as_job, body=IDS_BODY, status=202
        ),
        Endpoint(
            f"{name}-200-mode-async", method, path, accepted(start), queued, as_job, body=IDS_BODY
        ),
    ]


IDS = [CONTACT_ID, OTHER_CONTACT_ID]
IDS_BODY = {"contactIds": IDS}
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"
DELETED_GROUP = data({"id": GROUP_ID, "deleted": True})
CANCELLED_MODEL = attrs.evolve(
    JOB_PROCESSING_MODEL,
    status=JobStatus.CANCELLED,
    processed_count=2550,
    progress=52,
    summary={"added": 2431, "alreadyInGroup": 91, "notFound": 28},
    created_at=None,
    updated_at=None,
    completed_at=utc(2026, 5, 8, 10, 0, 9),
)
DONE_MODEL = attrs.evolve(
    JOB_PROCESSING_MODEL,
    status=JobStatus.DONE,
    processed_count=4900,
    progress=100,
    summary={"added": 4721, "alreadyInGroup": 131, "notFound": 48},
    updated_at=utc(2026, 5, 8, 10, 0, 12),
    completed_at=utc(2026, 5, 8, 10, 0, 12),
)


def first_page(items: tuple[Any, ...], total: int | None, cursor: str | None = None) -> Page[Any]:
    return Page(
        items=items,
        next_cursor=cursor,
        has_more=cursor is not None,
        total=total,
        request_id=REQUEST_ID,
    )


ENDPOINTS = [
    Endpoint(
        "C1-list-contacts",
        "GET",
        CONTACTS,
        lambda sdk: sdk.contacts.list(search="awa", limit=1).first_page(),
        CONTACTS_PAGE,
        first_page((CONTACT_MODEL,), 3, CONTACTS_CURSOR),
        query={"limit": 1, "search": "awa"},
    ),
    Endpoint(
        "C1-list-contacts-by-name-default-page-size",
        "GET",
        CONTACTS,
        lambda sdk: sdk.contacts.list(sort="name_asc").first_page(),
        page("contacts", []),
        first_page((), None),
        query={"limit": 100, "sort": "name_asc"},
    ),
    Endpoint(
        "C2-create-contact",
        "POST",
        CONTACTS,
        lambda sdk: sdk.contacts.create(
            name="Awa Doe", phone="+33612345000", tags=["vip"], meta={"city": "Cotonou"}
        ),
        data(CONTACT),
        CONTACT_MODEL,
        body={
            "name": "Awa Doe",
            "phone": "+33612345000",
            "tags": ["vip"],
            "meta": {"city": "Cotonou"},
        },
        status=201,
    ),
    Endpoint(
        "C2-create-contact-partial-answer",
        "POST",
        CONTACTS,
        lambda sdk: sdk.contacts.create(name="Awa Doe", phone="+33612345000"),
        data({"id": CONTACT_ID, "name": "Awa Doe", "phone": "+33612345000"}),
        Contact(id=CONTACT_ID, name="Awa Doe", phone="+33612345000"),
        body={"name": "Awa Doe", "phone": "+33612345000"},
        status=201,
    ),
    Endpoint(
        "C3-get-contact",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.get(CONTACT_ID),
        data(CONTACT),
        CONTACT_MODEL,
    ),
    Endpoint(
        "C4-update-contact",
        "PUT",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.update(CONTACT_ID, tags=["vip"], meta={"city": "Lomé"}),
        data({**CONTACT, "meta": {"city": "Lomé"}}),
        attrs.evolve(CONTACT_MODEL, meta={"city": "Lomé"}),
        body={"tags": ["vip"], "meta": {"city": "Lomé"}},
    ),
    Endpoint(
        "C4-update-contact-every-field",
        "PUT",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.update(
            CONTACT_ID, name="Awa", phone="+33612345001", tags=[], meta={}
        ),
        data(CONTACT),
        CONTACT_MODEL,
        body={"name": "Awa", "phone": "+33612345001", "tags": [], "meta": {}},
    ),
    Endpoint(
        "C4-update-contact-nothing",
        "PUT",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.update(CONTACT_ID),
        data(CONTACT),
        CONTACT_MODEL,
        body={},
    ),
    Endpoint(
        "C5-delete-contact",
        "DELETE",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.delete(CONTACT_ID),
        data({"id": CONTACT_ID, "deleted": True}),
        None,
    ),
    Endpoint(
        "C5-delete-contact-204",
        "DELETE",
        f"{CONTACTS}/{CONTACT_ID}",
        lambda sdk: sdk.contacts.delete(CONTACT_ID),
        b"",
        None,
        status=204,
    ),
    *bulk_endpoints(
        "C6-bulk-delete",
        "POST",
        f"{CONTACTS}/bulk-delete",
        lambda sdk: sdk.contacts.bulk_delete(IDS),
        BULK_DELETED,
        BulkDeleteResult(requested=2, deleted=1, not_found=1, not_found_ids=(OTHER_CONTACT_ID,)),
        ACCEPTED_DELETE,
    ),
    Endpoint(
        "C7-contact-groups-array",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        lambda sdk: sdk.contacts.groups(CONTACT_ID),
        data([GROUP]),
        [GROUP_MODEL],
    ),
    Endpoint(
        "C7-contact-groups-object",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        lambda sdk: sdk.contacts.groups(CONTACT_ID),
        data({"groups": [GROUP, {**GROUP, "id": EXISTING_ID}]}),
        [GROUP_MODEL, attrs.evolve(GROUP_MODEL, id=EXISTING_ID)],
    ),
    Endpoint(
        "C7-contact-groups-none",
        "GET",
        f"{CONTACTS}/{CONTACT_ID}/groups",
        lambda sdk: sdk.contacts.groups(CONTACT_ID),
        data([]),
        [],
    ),
    Endpoint(
        "J1-list-jobs",
        "GET",
        JOBS,
        lambda sdk: sdk.jobs.list(limit=20).first_page(),
        JOBS_PAGE,
        first_page((JOB_PROCESSING_MODEL,), None),
        query={"limit": 20},
    ),
    Endpoint(
        "J2-get-job",
        "GET",
        f"{JOBS}/{JOB_ID}",
        lambda sdk: sdk.jobs.get(JOB_ID),
        data(JOB_DONE),
        DONE_MODEL,
    ),
    Endpoint(
        "J3-job-progress",
        "GET",
        f"{JOBS}/{JOB_ID}/progress",
        lambda sdk: sdk.jobs.progress(JOB_ID),
        data(JOB_PROCESSING),
        JOB_PROCESSING_MODEL,
    ),
    Endpoint(
        "J4-cancel-job",
        "POST",
        f"{JOBS}/{JOB_ID}/cancel",
        lambda sdk: sdk.jobs.cancel(JOB_ID),
        data(JOB_CANCELLED),
        CANCELLED_MODEL,
    ),
    Endpoint(
        "G1-list-groups",
        "GET",
        GROUPS,
        lambda sdk: sdk.groups.list(search="vip").first_page(),
        GROUPS_PAGE,
        first_page((GROUP_MODEL,), 7),
        query={"limit": 100, "search": "vip"},
    ),
    Endpoint(
        "G2-create-group",
        "POST",
        GROUPS,
        lambda sdk: sdk.groups.create(
            name="VIP clients", description="High-value customers", color="#F59E0B"
        ),
        data({**GROUP, "contactCount": 0}),
        attrs.evolve(GROUP_MODEL, contact_count=0),
        body={"name": "VIP clients", "description": "High-value customers", "color": "#F59E0B"},
        status=201,
    ),
    Endpoint(
        "G2-create-group-name-only-vendor-answer",
        "POST",
        GROUPS,
        lambda sdk: sdk.groups.create(name="VIP clients"),
        data(
            {
                "id": GROUP_ID,
                "name": "VIP clients",
                "description": None,
                "color": None,
                "contactCount": 0,
            }
        ),
        ContactGroup(id=GROUP_ID, name="VIP clients"),
        body={"name": "VIP clients"},
        status=201,
    ),
    Endpoint(
        "G3-get-group",
        "GET",
        f"{GROUPS}/{GROUP_ID}",
        lambda sdk: sdk.groups.get(GROUP_ID),
        data(GROUP),
        GROUP_MODEL,
    ),
    Endpoint(
        "G4-update-group",
        "PUT",
        f"{GROUPS}/{GROUP_ID}",
        lambda sdk: sdk.groups.update(GROUP_ID, color="#25D366", description=None),
        data({**GROUP, "color": "#25D366", "description": None}),
        attrs.evolve(GROUP_MODEL, color="#25D366", description=None),
        body={"color": "#25D366", "description": None},
    ),
    Endpoint(
        "G4-update-group-name",
        "PUT",
        f"{GROUPS}/{GROUP_ID}",
        lambda sdk: sdk.groups.update(GROUP_ID, name="VIP", color=None),
        data(GROUP),
        GROUP_MODEL,
        body={"name": "VIP", "color": None},
    ),
    Endpoint(
        "G5-delete-group",
        "DELETE",
        f"{GROUPS}/{GROUP_ID}",
        lambda sdk: sdk.groups.delete(GROUP_ID),
        DELETED_GROUP,
        None,
    ),
    Endpoint(
        "G5-delete-group-204",
        "DELETE",
        f"{GROUPS}/{GROUP_ID}",
        lambda sdk: sdk.groups.delete(GROUP_ID),
        b"",
        None,
        status=204,
    ),
    *bulk_endpoints(
        "G6-add-members",
        "POST",
        MEMBERS,
        lambda sdk: sdk.groups.add_members(GROUP_ID, IDS),
        MEMBERS_ADDED,
        AddMembersResult(added=2, already_in_group=0, not_found=0, total=2),
        ACCEPTED_ADD,
    ),
    *bulk_endpoints(
        "G7-remove-members",
        "DELETE",
        MEMBERS,
        lambda sdk: sdk.groups.remove_members(GROUP_ID, IDS),
        MEMBERS_REMOVED,
        RemoveMembersResult(removed=1, not_in_group=1),
        ACCEPTED_REMOVE,
    ),
    Endpoint(
        "G8-list-members",
        "GET",
        MEMBERS,
        lambda sdk: sdk.groups.members(GROUP_ID, limit=50).first_page(),
        MEMBERS_PAGE,
        first_page((MEMBER_MODEL,), 1),
        query={"limit": 50},
    ),
    Endpoint(
        "G8-list-members-contacts-key",
        "GET",
        MEMBERS,
        lambda sdk: sdk.groups.members(GROUP_ID, search="awa", limit=20).first_page(),
        data({"contacts": [MEMBER], "nextCursor": None, "hasMore": False}),
        first_page((MEMBER_MODEL,), None),
        query={"limit": 20, "search": "awa"},
    ),
    Endpoint(
        "G8-list-members-vendor-example",
        "GET",
        MEMBERS,
        lambda sdk: sdk.groups.members(GROUP_ID).first_page(),
        data({"members": [], "nextCursor": None, "hasMore": False}),
        first_page((), None),
        query={"limit": 100},
    ),
]


def mock_endpoint(mock_api: Any, endpoint: Endpoint) -> None:
    """Answer the endpoint's request, and only it, with its documented example."""
    answer: dict[str, Any] = {"status": endpoint.status, "headers": {"x-request-id": REQUEST_ID}}
    if isinstance(endpoint.response, bytes):
        answer["body"] = endpoint.response
    else:
        answer["payload"] = endpoint.response
    mock_api.add(api_url(endpoint.path, **endpoint.query), method=endpoint.method, **answer)


def by_id(endpoint: Endpoint) -> str:
    return endpoint.id


def test_the_table_covers_all_19_endpoints() -> None:
    codes = {endpoint.id.split("-")[0] for endpoint in ENDPOINTS}
    assert codes == {f"C{n}" for n in range(1, 8)} | {f"J{n}" for n in range(1, 5)} | {
        f"G{n}" for n in range(1, 9)
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=by_id)
async def test_sends_the_documented_request(
    client: MsgFlash, mock_api: Any, endpoint: Endpoint
) -> None:
    mock_endpoint(mock_api, endpoint)

    await endpoint.invoke(client)

    method, url, call = only_call(mock_api)
    assert (method, url) == (endpoint.method, api_url(endpoint.path, **endpoint.query))
    assert call.kwargs["allow_redirects"] is False
    headers = sent_headers(call)
    assert headers["x-api-key"] == API_KEY
    assert headers["User-Agent"].startswith(f"msgflash-async/{__version__} ")
    assert headers["Accept"] == "application/json"
    assert "X-Team-Id" not in headers
    assert "Authorization" not in headers
    if endpoint.body is None:
        assert call.kwargs.get("data") is None
        assert "Content-Type" not in headers
    else:
        assert headers["Content-Type"] == "application/json"
        assert sent_json(call) == endpoint.body
        assert call.kwargs["data"] == compact(sent_json(call))  # compact, UTF-8


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=by_id)
async def test_team_key_sends_its_team_id(
    make_client: ClientFactory, mock_api: Any, endpoint: Endpoint
) -> None:
    sdk = make_client(TEAM_KEY, team_id=TEAM_ID, retry=RetryPolicy.none())
    mock_endpoint(mock_api, endpoint)

    await endpoint.invoke(sdk)

    headers = sent_headers(only_call(mock_api)[2])
    assert headers["x-api-key"] == TEAM_KEY
    assert headers["X-Team-Id"] == TEAM_ID


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=by_id)
async def test_parses_the_documented_answer(
    client: MsgFlash, mock_api: Any, endpoint: Endpoint
) -> None:
    mock_endpoint(mock_api, endpoint)

    assert await endpoint.invoke(client) == endpoint.expected


async def test_body_is_compact_utf8_json(client: MsgFlash, mock_api: Any) -> None:
    mock_api.put(api_url(f"{CONTACTS}/{CONTACT_ID}"), payload=data(CONTACT))

    await client.contacts.update(CONTACT_ID, name="Zoé N'Diaye", meta={"note": "a b"})

    raw = only_call(mock_api)[2].kwargs["data"]
    assert raw == '{"name":"Zoé N\'Diaye","meta":{"note":"a b"}}'.encode()


async def test_parsed_members_are_group_members(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(MEMBERS, limit=100), payload=MEMBERS_PAGE)

    [member] = [item async for item in client.groups.members(GROUP_ID)]

    assert isinstance(member, GroupMember)
    assert member.added_at == utc(2026, 4, 3, 8, 15)
