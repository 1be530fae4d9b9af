"""Issue #9, item 3: a bulk call split into several requests that fails part-way keeps what
the server accepted.

More than 10,000 ids go out in requests of 10,000. When request ``k`` fails, its error holds
``accepted`` (a handle over requests 0..k-1, ``None`` if k is 0), ``accepted_job_ids`` (their
jobs) and ``unsent_ids`` (the ids of requests k and after, distinct and in order), so the jobs
already running can be followed and the rest sent again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from msgflash_async import (
    BadRequestError,
    BulkJobHandle,
    InternalServerError,
    MsgFlash,
    MsgFlashError,
    ReadTimeoutError,
)
from msgflash_async.testing import Workspace

from ._support import CONTACT_ID, GROUP_ID, JOB_ID, MOCK_BASE_URL, phone
from .conftest import ClientFactory, ServerFactory

PART = 10_000
"""Ids per request."""


class FailPart:
    """An ``aiohttp.web`` middleware answering the ``part``-th bulk request (1 for the first)
    with an error of ``status``, without processing it."""

    def __init__(self, part: int, status: int) -> None:
        self.part = part
        self.status = status
        self.seen = 0

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.method != "GET" and request.path.endswith(("/bulk-delete", "/members")):
            self.seen += 1
            if self.seen == self.part:
                code = "VALIDATION_ERROR" if self.status == 400 else "INTERNAL_ERROR"
                error = {"code": code, "message": "Injected failure"}
                return web.json_response({"error": error}, status=self.status)
        return await handler(request)


@dataclass(frozen=True)
class Bulk:
    """A bulk method, with what it does to one contact and the counter of its result."""

    name: str
    start: Callable[[MsgFlash, str, list[str]], Awaitable[BulkJobHandle[Any]]]
    prepare: Callable[[Workspace, str, list[str]], object]
    """Readies the real contacts (e.g. makes them members before a removal)."""
    done_to: Callable[[Workspace, str, str], bool]
    """Whether the call acted on a contact (gone, in the group, out of the group)."""
    count: Callable[[Any], int]
    """The counter of the result that counts the contacts acted on."""

    def __str__(self) -> str:
        return self.name


BULKS = [
    Bulk(
        "bulk_delete",
        lambda client, group_id, ids: client.contacts.bulk_delete(ids),
        lambda ws, group_id, ids: None,
        lambda ws, group_id, contact_id: contact_id not in ws.contacts,
        lambda result: int(result.deleted),
    ),
    Bulk(
        "add_members",
        lambda client, group_id, ids: client.groups.add_members(group_id, ids),
        lambda ws, group_id, ids: None,
        lambda ws, group_id, contact_id: contact_id in ws.groups[group_id].members,
        lambda result: int(result.added),
    ),
    Bulk(
        "remove_members",
        lambda client, group_id, ids: client.groups.remove_members(group_id, ids),
        lambda ws, group_id, ids: ws.add_members(group_id, ids),
        lambda ws, group_id, contact_id: contact_id not in ws.groups[group_id].members,
        lambda result: int(result.removed),
    ),
]


def _unknown_ids(count: int) -> list[str]:
    """``count`` fresh ids that match no contact."""
    prefix = uuid.uuid4().hex[:8]
    return [f"{prefix}-0000-4000-8000-{n:012d}" for n in range(count)]


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("bulk", BULKS, ids=str)
async def test_a_failed_second_part_keeps_the_first_and_names_the_rest(
    bulk: Bulk, status: int, serve: ServerFactory, make_client: ClientFactory
) -> None:
    failure = FailPart(2, status)
    server = await serve(middlewares=[failure.middleware])
    workspace = server.workspace()
    group_id = workspace.add_group("Team").id
    first = [workspace.add_contact(f"First {n}", phone(n)).id for n in range(3)]
    last = [workspace.add_contact(f"Last {n}", phone(10 + n)).id for n in range(2)]
    bulk.prepare(workspace, group_id, first + last)
    ids = [*first, *_unknown_ids(2 * PART - 3), *last, *_unknown_ids(3)]  # 3 parts

    with pytest.raises(MsgFlashError) as caught:
        await bulk.start(make_client(server), group_id, [*ids, last[0], first[0]])

    error = caught.value
    assert isinstance(error, BadRequestError if status == 400 else InternalServerError)
    assert error.may_have_been_processed is (status == 500)
    assert error.unsent_ids == tuple(ids[PART:])
    assert error.accepted is not None
    assert error.accepted_job_ids == error.accepted.job_ids
    assert list(error.accepted_job_ids) == list(workspace.jobs)  # the one job of part 1
    server.finish_jobs()
    assert bulk.count(await error.accepted) == len(first)
    assert all(bulk.done_to(workspace, group_id, contact_id) for contact_id in first)
    assert not any(bulk.done_to(workspace, group_id, contact_id) for contact_id in last)
    assert failure.seen == 2  # part 3 was never sent


# --- exact exchanges (aioresponses) --------------------------------------------------------

BULK_DELETE = URL(f"{MOCK_BASE_URL}/api/v1/contacts/bulk-delete")
PROGRESS = URL(f"{MOCK_BASE_URL}/api/v1/contacts/bulk-jobs/{JOB_ID}/progress")
ACCEPTED = {
    "mode": "async",
    "jobId": JOB_ID,
    "status": "pending",
    "operation": "bulk_delete_contacts",
    "requestedCount": PART,
    "progress": 0,
}
DONE = {
    "id": JOB_ID,
    "status": "done",
    "operation": "bulk_delete_contacts",
    "requestedCount": PART,
    "processedCount": PART,
    "progress": 100,
    "summary": {"deleted": 7, "notFound": PART - 7},
}


async def test_a_second_part_that_times_out_keeps_the_first_and_may_have_run(
    mock_api: Any, make_client: ClientFactory
) -> None:
    ids = _unknown_ids(2 * PART + 5)
    mock_api.post(BULK_DELETE, status=202, payload={"data": ACCEPTED})
    mock_api.post(BULK_DELETE, exception=asyncio.TimeoutError())
    mock_api.get(PROGRESS, payload={"data": DONE})

    with pytest.raises(ReadTimeoutError) as caught:
        await make_client(base_url=MOCK_BASE_URL).contacts.bulk_delete(ids)

    error = caught.value
    assert error.may_have_been_processed is True  # the second part may have started a job
    assert error.unsent_ids == tuple(ids[PART:])
    assert error.accepted_job_ids == (JOB_ID,)
    assert error.accepted is not None
    result = await error.accepted
    assert (result.deleted, result.not_found) == (7, PART - 7)
    assert len(mock_api.requests[("POST", BULK_DELETE)]) == 2  # not re-sent, third never sent


async def test_a_failed_first_part_has_nothing_accepted_and_every_id_unsent(
    mock_api: Any, make_client: ClientFactory
) -> None:
    mock_api.post(BULK_DELETE, status=500, payload={"error": {"code": "INTERNAL_ERROR"}})

    with pytest.raises(InternalServerError) as caught:
        await make_client(base_url=MOCK_BASE_URL).contacts.bulk_delete(
            [CONTACT_ID, GROUP_ID, CONTACT_ID]
        )

    assert caught.value.accepted is None
    assert caught.value.accepted_job_ids == ()
    assert caught.value.unsent_ids == (CONTACT_ID, GROUP_ID)
