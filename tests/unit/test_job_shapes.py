"""Job answers in the shapes spec §5.7 leaves open: slim polls, ``jobId`` keys, no summary."""

from __future__ import annotations

from typing import Any

import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    BulkJobHandle,
    JobAccepted,
    JobCancelledError,
    JobFailedError,
    JobStatus,
    MsgFlash,
    RemoveMembersResult,
    ResponseDecodeError,
    RetryPolicy,
)
from msgflash_async._jobs import JobsBackend, result_of_job
from msgflash_async.testing import FakeClock

from ._helpers import (
    ACCEPTED_ADD,
    ACCEPTED_DELETE,
    ACCEPTED_REMOVE,
    CONTACT_ID,
    CONTACTS,
    GROUP_ID,
    GROUPS,
    JOB_CANCELLED,
    JOB_ID,
    JOBS,
    api_url,
    calls_to,
    data,
    error,
)
from .conftest import ClientFactory

BULK_DELETE = f"{CONTACTS}/bulk-delete"
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"
OTHER_JOB_ID = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"

DELETION_DONE: dict[str, Any] = {  # a full J2 answer, its id keyed as in the 202 body
    "jobId": JOB_ID,
    "operation": "bulk_delete_contacts",
    "status": "done",
    "requestedCount": 900,
    "processedCount": 900,
    "progress": 100,
    "summary": {"deleted": 880, "notFound": 20},
}
DELETED = BulkDeleteResult(requested=900, deleted=880, not_found=20)


@pytest.fixture
def sdk(make_client: ClientFactory) -> MsgFlash:
    """A client on the fake clock that polls every 2 s and never retries."""
    return make_client(retry=RetryPolicy.none())


def answer_progress(mock_api: Any, *bodies: dict[str, Any], job_id: str = JOB_ID) -> None:
    """The progress endpoint (J3) answers ``bodies``, one poll each, in order."""
    for body in bodies:
        mock_api.get(api_url(f"{JOBS}/{job_id}/progress"), payload=data(body))


def answer_job(mock_api: Any, body: dict[str, Any], job_id: str = JOB_ID) -> None:
    """The job endpoint (J2) answers ``body`` once."""
    mock_api.get(api_url(f"{JOBS}/{job_id}"), payload=data(body))


def polls(mock_api: Any, job_id: str = JOB_ID) -> int:
    return len(calls_to(mock_api, "GET", f"{JOBS}/{job_id}/progress"))


def reads(mock_api: Any, job_id: str = JOB_ID) -> int:
    return len(calls_to(mock_api, "GET", f"{JOBS}/{job_id}"))


async def start(sdk: MsgFlash, mock_api: Any, accepted: dict[str, Any]) -> BulkJobHandle[Any]:
    """A bulk call answered 202 with ``accepted``, by the endpoint of its operation."""
    operation = accepted["operation"]
    method, path = (
        ("POST", BULK_DELETE)
        if operation == "bulk_delete_contacts"
        else (
            "DELETE" if operation == "remove_from_group" else "POST",
            MEMBERS,
        )
    )
    mock_api.add(api_url(path), method, status=202, payload=data(accepted))
    if operation == "bulk_delete_contacts":
        return await sdk.contacts.bulk_delete([CONTACT_ID])
    if operation == "add_to_group":
        return await sdk.groups.add_members(GROUP_ID, [CONTACT_ID])
    return await sdk.groups.remove_members(GROUP_ID, [CONTACT_ID])


async def start_deletion(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[BulkDeleteResult]:
    mock_api.post(api_url(BULK_DELETE), status=202, payload=data(ACCEPTED_DELETE))
    return await sdk.contacts.bulk_delete([CONTACT_ID])


@pytest.mark.parametrize(
    "ending",
    [
        {"status": "done", "progress": 100, "processedCount": 900},
        {"status": "done"},
        {"jobId": JOB_ID, "status": "done", "operation": "bulk_delete_contacts"},
    ],
    ids=["counts", "status only", "jobId without summary"],
)
async def test_a_poll_needs_only_a_status_and_the_job_is_read_once_for_its_summary(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock, ending: dict[str, Any]
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, {"status": "processing", "progress": 44, "processedCount": 400})
    answer_progress(mock_api, ending)
    answer_job(mock_api, DELETION_DONE)

    assert await handle == DELETED
    assert await handle == DELETED
    assert (polls(mock_api), reads(mock_api)) == (2, 1)
    assert clock.sleeps == [2.0, 2.0]
    assert handle.progress().jobs[0].id == JOB_ID


async def test_watch_keeps_what_a_slim_poll_leaves_out(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(
        mock_api,
        {"status": "processing", "progress": 44, "processedCount": 400},
        {"status": "processing"},
        {"status": "done"},
    )
    answer_job(mock_api, DELETION_DONE)

    snapshots = [(s.status, s.processed, s.requested) async for s in handle.watch()]

    assert snapshots == [
        (JobStatus.PENDING, 0, 900),
        (JobStatus.PROCESSING, 400, 900),
        (JobStatus.PROCESSING, 400, 900),
        (JobStatus.DONE, 900, 900),  # read from the job once it ended
    ]
    [last] = handle.progress().jobs
    assert (last.id, last.operation, last.summary) == (
        JOB_ID,
        "bulk_delete_contacts",
        DELETION_DONE["summary"],
    )


async def test_wait_resolves_a_slim_job_with_its_progress_callback(
    sdk: MsgFlash, mock_api: Any
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, {"status": "processing", "processedCount": 450}, {"status": "done"})
    answer_job(mock_api, DELETION_DONE)
    percents: list[int] = []

    assert await handle.wait(timeout=60, on_progress=lambda p: percents.append(p.percent)) == (
        DELETED
    )
    assert percents == [0, 50, 100]


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        (
            ACCEPTED_DELETE,
            BulkDeleteResult(requested=900, deleted=None, not_found=None, processed=700),
        ),
        (
            ACCEPTED_ADD,
            AddMembersResult(
                added=None, already_in_group=None, not_found=None, total=4900, processed=700
            ),
        ),
        (
            ACCEPTED_REMOVE,
            RemoveMembersResult(removed=None, not_in_group=None, requested=280, processed=700),
        ),
    ],
    ids=["bulk_delete_contacts", "add_to_group", "remove_from_group"],
)
async def test_without_a_summary_anywhere_the_result_says_what_is_known(
    sdk: MsgFlash, mock_api: Any, accepted: dict[str, Any], expected: Any
) -> None:
    handle = await start(sdk, mock_api, accepted)
    answer_progress(mock_api, {"status": "done", "processedCount": 700})
    answer_job(mock_api, {"jobId": JOB_ID, "status": "done", "summary": {"skipped": 3}})

    assert await handle == expected
    assert await handle == expected
    assert (polls(mock_api), reads(mock_api)) == (1, 1)


async def test_without_a_job_reader_the_breakdown_stays_unknown() -> None:
    async def progress(job_id: str) -> BulkJob:
        return BulkJob(id=job_id, status=JobStatus.DONE, processed_count=5)

    async def never(job_id: str) -> BulkJob:
        raise AssertionError("not called")

    backend = JobsBackend(progress=progress, cancel=never, clock=FakeClock(), poll_interval=2.0)
    accepted = JobAccepted(
        job_id=JOB_ID, status="pending", operation="bulk_delete_contacts", requested_count=5
    )
    handle = BulkJobHandle([accepted], backend=backend, result_of=result_of_job)

    assert await handle == BulkDeleteResult(requested=5, deleted=None, not_found=None, processed=5)


async def test_counters_missing_or_of_the_wrong_type_are_not_known(
    sdk: MsgFlash, mock_api: Any
) -> None:
    body = {"status": "done", "operation": "remove_from_group", "requestedCount": 10}
    body.update(processedCount=10, summary={"removed": "6", "skipped": 4})
    answer_progress(mock_api, body)

    assert await sdk.jobs.handle(JOB_ID) == RemoveMembersResult(
        removed=None, not_in_group=None, requested=10, processed=10
    )
    assert reads(mock_api) == 0  # the poll carried a summary: nothing more to read


async def test_a_handle_by_id_learns_the_operation_from_the_job(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    answer_progress(mock_api, {"status": "processing"}, {"status": "done"})
    job = {key: value for key, value in JOB_CANCELLED.items() if key != "id"}
    answer_job(mock_api, {**job, "status": "done", "jobId": JOB_ID})

    result = await sdk.jobs.handle(JOB_ID)

    assert result == AddMembersResult(added=2431, already_in_group=91, not_found=28, total=4900)
    assert clock.sleeps == [2.0]


async def test_a_failed_job_is_read_for_its_reason(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start(sdk, mock_api, ACCEPTED_ADD)
    answer_progress(mock_api, {"status": "failed", "processedCount": 1200})
    answer_job(mock_api, {"jobId": JOB_ID, "status": "failed", "error": "Group not found"})

    with pytest.raises(JobFailedError) as caught:
        await handle

    assert caught.value.error == "Group not found"
    assert (caught.value.job.id, caught.value.job.processed_count) == (JOB_ID, 1200)
    assert reads(mock_api) == 1


async def test_cancel_with_a_slim_answer_reads_the_work_done(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start(sdk, mock_api, ACCEPTED_ADD)
    mock_api.post(api_url(f"{JOBS}/{JOB_ID}/cancel"), payload=data({"status": "cancelled"}))
    answer_job(mock_api, {"jobId": JOB_ID, **JOB_CANCELLED, "id": "ignored"})
    partial = AddMembersResult(added=2431, already_in_group=91, not_found=28, total=4900)

    assert await handle.cancel() == partial
    with pytest.raises(JobCancelledError) as caught:
        await handle

    assert caught.value.partial == partial
    assert (polls(mock_api), reads(mock_api)) == (0, 1)


async def test_cancel_of_a_job_that_just_ended_reads_a_slim_progress(
    sdk: MsgFlash, mock_api: Any
) -> None:
    handle = await start_deletion(sdk, mock_api)
    mock_api.post(
        api_url(f"{JOBS}/{JOB_ID}/cancel"),
        status=409,
        payload=error("CONFLICT", "Job is already done"),
    )
    answer_progress(mock_api, {"status": "done"})
    answer_job(mock_api, DELETION_DONE)

    assert await handle.cancel() == DELETED


async def test_the_job_endpoints_take_slim_and_job_id_answers(sdk: MsgFlash, mock_api: Any) -> None:
    answer_progress(mock_api, {"status": "processing", "progress": 44, "processedCount": 400})
    mock_api.post(
        api_url(f"{JOBS}/{JOB_ID}/cancel"), payload=data({"jobId": JOB_ID, "status": "cancelled"})
    )
    answer_job(mock_api, {"status": "cancelled"})

    assert await sdk.jobs.progress(JOB_ID) == BulkJob(
        id=JOB_ID, status=JobStatus.PROCESSING, progress=44, processed_count=400
    )
    assert await sdk.jobs.cancel(JOB_ID) == BulkJob(id=JOB_ID, status=JobStatus.CANCELLED)
    assert await sdk.jobs.get(JOB_ID) == BulkJob(id=JOB_ID, status=JobStatus.CANCELLED)


async def test_a_poll_without_a_status_is_retried_then_raised(
    make_client: ClientFactory, mock_api: Any
) -> None:
    sdk = make_client(retry=RetryPolicy(max_retries=2))
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *[{"id": JOB_ID, "progress": 50}] * 3)

    with pytest.raises(ResponseDecodeError, match="missing field 'status'"):
        await handle

    assert (polls(mock_api), reads(mock_api)) == (3, 0)
    assert not handle.done


# --- more than 10,000 ids ------------------------------------------------------------------

MANY = [f"contact-{n:05d}" for n in range(10_001)]


async def two_jobs(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[BulkDeleteResult]:
    """A bulk delete of 10,001 ids answered by two jobs, of 10,000 ids and of 1."""
    for job_id, requested in ((JOB_ID, 10_000), (OTHER_JOB_ID, 1)):
        accepted = {**ACCEPTED_DELETE, "jobId": job_id, "requestedCount": requested}
        mock_api.post(api_url(BULK_DELETE), status=202, payload=data(accepted))
    return await sdk.contacts.bulk_delete(MANY)


@pytest.mark.parametrize(
    ("other_summary", "expected"),
    [
        (
            {"deleted": 1, "notFound": 0},
            BulkDeleteResult(requested=10_001, deleted=9_981, not_found=20),
        ),
        (
            None,
            BulkDeleteResult(requested=10_001, deleted=None, not_found=None, processed=10_001),
        ),
    ],
    ids=["both summaries", "one without"],
)
async def test_a_multi_job_handle_reads_each_slim_job_once(
    sdk: MsgFlash,
    mock_api: Any,
    other_summary: dict[str, int] | None,
    expected: BulkDeleteResult,
) -> None:
    handle = await two_jobs(sdk, mock_api)
    answer_progress(mock_api, {"status": "processing"}, {"status": "done"})
    answer_progress(mock_api, {"status": "done", "processedCount": 1}, job_id=OTHER_JOB_ID)
    full = {"requestedCount": 10_000, "processedCount": 10_000}
    answer_job(mock_api, {**full, "status": "done", "summary": {"deleted": 9_980, "notFound": 20}})
    other = {"status": "done"} if other_summary is None else {"summary": other_summary}
    answer_job(mock_api, {"status": "done", **other}, job_id=OTHER_JOB_ID)

    assert await handle == expected
    assert (polls(mock_api), polls(mock_api, OTHER_JOB_ID)) == (2, 1)
    assert (reads(mock_api), reads(mock_api, OTHER_JOB_ID)) == (1, 1)
    assert handle.progress().requested == 10_001
