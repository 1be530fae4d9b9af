"""Bulk job handles (spec §1.7, §3.4): polling, outcomes, cancel, watch, and split requests."""

from __future__ import annotations

from typing import Any

import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJobHandle,
    ConflictError,
    JobCancelledError,
    JobFailedError,
    JobProgress,
    JobStatus,
    JobTimeoutError,
    MsgFlash,
    MsgFlashError,
    RemoveMembersResult,
    RetryPolicy,
)
from msgflash_async.testing import FakeClock

from ._helpers import (
    ACCEPTED_ADD,
    ACCEPTED_DELETE,
    CONTACT_ID,
    CONTACTS,
    GROUP_ID,
    GROUPS,
    JOB_CANCELLED,
    JOB_ID,
    JOBS,
    MEMBERS_ADDED,
    api_url,
    calls_to,
    data,
    error,
    job,
    sent,
    sent_json,
)
from .conftest import ClientFactory

BULK_DELETE = f"{CONTACTS}/bulk-delete"
MEMBERS = f"{GROUPS}/{GROUP_ID}/members"
OTHER_JOB_ID = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"


@pytest.fixture
def sdk(make_client: ClientFactory) -> MsgFlash:
    """A client on the fake clock that polls every 2 s and never retries."""
    return make_client(retry=RetryPolicy.none())


def deletion(status: str, processed: int, deleted: int, not_found: int) -> dict[str, Any]:
    """A bulk-delete job of 900 ids."""
    return job(
        status,
        processed,
        {"deleted": deleted, "notFound": not_found},
        operation="bulk_delete_contacts",
        requestedCount=900,
        groupId=None,
    )


def answer_progress(mock_api: Any, *jobs: dict[str, Any], job_id: str = JOB_ID) -> None:
    """The progress endpoint answers with ``jobs``, one poll each, in order."""
    for state in jobs:
        mock_api.get(api_url(f"{JOBS}/{job_id}/progress"), payload=data({**state, "id": job_id}))


def polls(mock_api: Any, job_id: str = JOB_ID) -> int:
    return len(calls_to(mock_api, "GET", f"{JOBS}/{job_id}/progress"))


async def start_deletion(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[BulkDeleteResult]:
    mock_api.post(api_url(BULK_DELETE), status=202, payload=data(ACCEPTED_DELETE))
    return await sdk.contacts.bulk_delete([CONTACT_ID])


async def start_adding(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[AddMembersResult]:
    mock_api.post(api_url(MEMBERS), status=202, payload=data(ACCEPTED_ADD))
    return await sdk.groups.add_members(GROUP_ID, [CONTACT_ID])


RUNNING = [
    deletion("pending", 0, 0, 0),
    deletion("processing", 400, 390, 10),
    deletion("done", 900, 880, 20),
]
DELETED = BulkDeleteResult(requested=900, deleted=880, not_found=20, not_found_ids=None)


async def test_awaiting_polls_progress_until_the_job_ends(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *RUNNING)

    assert await handle == DELETED
    assert polls(mock_api) == 3
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert calls_to(mock_api, "GET", f"{JOBS}/{JOB_ID}") == []
    assert handle.done


async def test_poll_interval_is_configurable(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(make_client(job_poll_interval=0.5), mock_api)
    answer_progress(mock_api, *RUNNING)

    await handle

    assert clock.sleeps == [0.5, 0.5, 0.5]


async def test_polls_start_at_least_one_interval_apart_even_when_slow(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(sdk, mock_api)
    accepted_at = clock.now
    starts: list[float] = []

    def slow_poll(url: Any, **kwargs: Any) -> None:
        starts.append(clock.now)
        clock.now += 0.7  # each poll takes 0.7 s to answer

    for state in RUNNING:
        mock_api.get(api_url(f"{JOBS}/{JOB_ID}/progress"), payload=data(state), callback=slow_poll)

    await handle

    assert len(starts) == 3
    gaps = [b - a for a, b in zip([accepted_at, *starts[:-1]], starts, strict=True)]
    assert all(gap >= 2.0 for gap in gaps), gaps
    assert all(wait > 0 for wait in clock.sleeps)


async def test_failed_job_raises_with_the_server_error(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_adding(sdk, mock_api)
    answer_progress(
        mock_api, job("failed", 1200, {"added": 1200}, error="Group not found", progress=24)
    )

    with pytest.raises(JobFailedError) as caught:
        await handle

    assert caught.value.error == "Group not found"
    assert caught.value.job_id == JOB_ID
    assert caught.value.job.status is JobStatus.FAILED
    assert "Group not found" in str(caught.value)


async def test_failed_job_without_a_reason(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_adding(sdk, mock_api)
    answer_progress(mock_api, job("failed", 0, {}))
    mock_api.get(api_url(f"{JOBS}/{JOB_ID}"), payload=data(job("failed", 0, {})))

    with pytest.raises(JobFailedError, match="no reason given") as caught:
        await handle

    assert caught.value.error is None
    assert len(calls_to(mock_api, "GET", f"{JOBS}/{JOB_ID}")) == 1  # read once for a summary


async def test_cancelled_job_raises_with_the_partial_result(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_adding(sdk, mock_api)
    answer_progress(mock_api, JOB_CANCELLED)

    with pytest.raises(JobCancelledError) as caught:
        await handle

    assert caught.value.job_id == JOB_ID
    assert caught.value.partial == AddMembersResult(
        added=2431, already_in_group=91, not_found=28, total=4900
    )
    assert caught.value.job.progress == 52


async def test_wait_timeout_raises_and_leaves_the_job_running(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *[deletion("processing", 100, 100, 0)] * 2)
    started = clock.now

    with pytest.raises(JobTimeoutError) as caught:
        await handle.wait(timeout=5)

    assert caught.value.job_id == JOB_ID
    assert isinstance(caught.value, TimeoutError)
    assert clock.now - started == pytest.approx(5.0)
    assert polls(mock_api) == 2
    assert not handle.done
    assert calls_to(mock_api, "POST", f"{JOBS}/{JOB_ID}/cancel") == []


async def test_wait_timeout_shorter_than_the_interval(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(sdk, mock_api)

    with pytest.raises(JobTimeoutError):
        await handle.wait(timeout=0.5)

    assert clock.sleeps == [0.5]
    assert polls(mock_api) == 0


async def test_wait_with_a_timeout_returns_when_the_job_ends_in_time(
    sdk: MsgFlash, mock_api: Any
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *RUNNING)

    assert await handle.wait(timeout=60) == DELETED


async def test_cancel_posts_to_the_cancel_endpoint(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_adding(sdk, mock_api)
    mock_api.post(api_url(f"{JOBS}/{JOB_ID}/cancel"), payload=data(JOB_CANCELLED))

    partial = await handle.cancel()

    [call] = calls_to(mock_api, "POST", f"{JOBS}/{JOB_ID}/cancel")
    assert call.kwargs.get("data") is None
    assert partial == AddMembersResult(added=2431, already_in_group=91, not_found=28, total=4900)
    assert handle.done
    assert handle.progress().status is JobStatus.CANCELLED
    with pytest.raises(JobCancelledError):
        await handle
    assert polls(mock_api) == 0


async def test_cancel_of_a_job_that_just_ended_reads_how_it_ended(
    sdk: MsgFlash, mock_api: Any
) -> None:
    handle = await start_deletion(sdk, mock_api)
    mock_api.post(
        api_url(f"{JOBS}/{JOB_ID}/cancel"),
        status=409,
        payload=error("CONFLICT", "Job is already done"),
    )
    answer_progress(mock_api, RUNNING[-1])

    assert await handle.cancel() == DELETED
    assert await handle == DELETED


async def test_cancel_of_an_unknown_job_raises(sdk: MsgFlash, mock_api: Any) -> None:
    handle = sdk.jobs.handle(JOB_ID)
    mock_api.post(
        api_url(f"{JOBS}/{JOB_ID}/cancel"), status=404, payload=error("NOT_FOUND", "Job not found")
    )

    with pytest.raises(MsgFlashError, match="Job not found"):
        await handle.cancel()


async def test_watch_yields_snapshots_with_percent(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_adding(sdk, mock_api)
    answer_progress(
        mock_api,
        job("processing", 2300, {"added": 2300}),
        job("done", 4900, {"added": 4900}),
    )

    snapshots = [(s.status, s.processed, s.requested, s.percent) async for s in handle.watch()]

    assert snapshots == [
        (JobStatus.PENDING, 0, 4900, 0),
        (JobStatus.PROCESSING, 2300, 4900, 47),
        (JobStatus.DONE, 4900, 4900, 100),
    ]


async def test_on_progress_may_be_a_plain_function(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *RUNNING)
    seen: list[JobProgress] = []

    assert await handle.wait(on_progress=seen.append) == DELETED
    assert [snapshot.status for snapshot in seen] == [
        JobStatus.PENDING,
        JobStatus.PENDING,
        JobStatus.PROCESSING,
        JobStatus.DONE,
    ]


async def test_on_progress_may_be_a_coroutine_function(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, *RUNNING)
    percents: list[int] = []

    async def record(snapshot: JobProgress) -> None:
        percents.append(snapshot.percent)

    await handle.wait(on_progress=record)

    assert percents == [0, 0, 44, 100]


async def test_unknown_status_keeps_the_polling_going(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, deletion("paused", 400, 400, 0), RUNNING[-1])

    statuses = [snapshot.status async for snapshot in handle.watch()]

    assert statuses == [JobStatus.PENDING, "paused", JobStatus.DONE]
    assert clock.sleeps == [2.0, 2.0]


async def test_refresh_polls_at_once(sdk: MsgFlash, mock_api: Any, clock: FakeClock) -> None:
    handle = await start_deletion(sdk, mock_api)
    answer_progress(mock_api, RUNNING[1])

    snapshot = await handle.refresh()

    assert (snapshot.status, snapshot.processed) == (JobStatus.PROCESSING, 400)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("operation", "summary", "expected"),
    [
        (
            "bulk_delete_contacts",
            {"deleted": 8, "notFound": 2},
            BulkDeleteResult(requested=10, deleted=8, not_found=2),
        ),
        (
            "add_to_group",
            {"added": 7, "alreadyInGroup": 2, "notFound": 1},
            AddMembersResult(added=7, already_in_group=2, not_found=1, total=10),
        ),
        (
            "remove_from_group",
            {"removed": 6, "notInGroup": 4, "unknownCounter": 1},
            RemoveMembersResult(removed=6, not_in_group=4),
        ),
    ],
)
async def test_handle_on_an_existing_job_follows_its_operation(
    sdk: MsgFlash,
    mock_api: Any,
    clock: FakeClock,
    operation: str,
    summary: dict[str, Any],
    expected: Any,
) -> None:
    handle = sdk.jobs.handle(JOB_ID)
    assert handle.id == JOB_ID
    assert mock_api.requests == {}
    answer_progress(
        mock_api,
        job("processing", 5, {}, operation=operation, requestedCount=10),
        job("done", 10, summary, operation=operation, requestedCount=10),
    )

    assert await handle == expected
    assert clock.sleeps == [2.0]  # the first poll is immediate


async def test_job_of_an_unknown_operation_cannot_give_a_result(
    sdk: MsgFlash, mock_api: Any
) -> None:
    unknown = job("done", 1, {"merged": 1}, operation="merge_contacts")
    answer_progress(mock_api, unknown)

    with pytest.raises(MsgFlashError, match="merge_contacts"):
        await sdk.jobs.handle(JOB_ID)


async def test_inline_answer_needs_no_polling(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    mock_api.post(api_url(MEMBERS), payload=data(MEMBERS_ADDED))
    handle = await sdk.groups.add_members(GROUP_ID, [CONTACT_ID, CONTACT_ID + "x"])

    assert (handle.id, handle.job_ids, handle.done) == (None, (), True)
    assert handle.progress() == JobProgress(
        status=JobStatus.DONE, processed=2, requested=2, jobs=()
    )
    assert handle.progress().percent == 100
    assert await handle.cancel() == AddMembersResult(2, 0, 0, 2)
    assert [s.status async for s in handle.watch()] == [JobStatus.DONE]
    assert len(sent(mock_api)) == 1
    assert clock.sleeps == []


# --- more than 10,000 ids ------------------------------------------------------------------

MANY = [f"contact-{n:05d}" for n in range(10_001)]


def many_with_duplicates() -> list[str]:
    return MANY[:5] + MANY + MANY[-3:]


async def split_deletion(
    sdk: MsgFlash, mock_api: Any, *answers: tuple[int, dict[str, Any]]
) -> BulkJobHandle[BulkDeleteResult]:
    for status, answer in answers:
        mock_api.post(api_url(BULK_DELETE), status=status, payload=data(answer))
    return await sdk.contacts.bulk_delete(many_with_duplicates())


def accepted_deletion(job_id: str, requested: int) -> dict[str, Any]:
    return {**ACCEPTED_DELETE, "jobId": job_id, "requestedCount": requested}


async def two_jobs(sdk: MsgFlash, mock_api: Any) -> BulkJobHandle[BulkDeleteResult]:
    """A bulk delete of 10,001 ids answered by two jobs, of 10,000 ids and of 1."""
    return await split_deletion(
        sdk,
        mock_api,
        (202, accepted_deletion(JOB_ID, 10_000)),
        (202, accepted_deletion(OTHER_JOB_ID, 1)),
    )


async def test_many_ids_are_deduplicated_and_split_by_10000(sdk: MsgFlash, mock_api: Any) -> None:
    await split_deletion(
        sdk,
        mock_api,
        (202, accepted_deletion(JOB_ID, 10_000)),
        (200, {"requested": 1, "deleted": 1, "notFound": []}),
    )

    first, second = calls_to(mock_api, "POST", BULK_DELETE)
    assert sent_json(first) == {"contactIds": MANY[:10_000]}
    assert sent_json(second) == {"contactIds": MANY[10_000:]}


async def test_one_handle_sums_the_jobs_of_every_part(
    sdk: MsgFlash, mock_api: Any, clock: FakeClock
) -> None:
    handle = await two_jobs(sdk, mock_api)
    assert (handle.id, handle.job_ids) == (None, (JOB_ID, OTHER_JOB_ID))
    assert handle.progress().requested == 10_001
    answer_progress(
        mock_api,
        {**deletion("processing", 5000, 4990, 10), "requestedCount": 10_000},
        {**deletion("done", 10_000, 9980, 20), "requestedCount": 10_000},
    )
    answer_progress(
        mock_api, {**deletion("done", 1, 1, 0), "requestedCount": 1}, job_id=OTHER_JOB_ID
    )

    result = await handle

    assert result == BulkDeleteResult(requested=10_001, deleted=9981, not_found=20)
    assert (polls(mock_api), polls(mock_api, OTHER_JOB_ID)) == (2, 1)
    assert clock.sleeps == [2.0, 2.0]


async def test_inline_parts_combine_with_their_not_found_ids(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await split_deletion(
        sdk,
        mock_api,
        (200, {"requested": 10_000, "deleted": 9_999, "notFound": ["contact-00007"]}),
        (200, {"requested": 1, "deleted": 0, "notFound": ["contact-10000"]}),
    )

    assert await handle == BulkDeleteResult(
        requested=10_001,
        deleted=9_999,
        not_found=2,
        not_found_ids=("contact-00007", "contact-10000"),
    )
    assert handle.progress().percent == 100


async def test_a_job_part_and_an_inline_part_combine(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await split_deletion(
        sdk,
        mock_api,
        (202, accepted_deletion(JOB_ID, 10_000)),
        (200, {"requested": 1, "deleted": 0, "notFound": ["contact-10000"]}),
    )
    assert handle.id == JOB_ID
    assert handle.progress().status is JobStatus.PROCESSING
    answer_progress(mock_api, {**deletion("done", 10_000, 10_000, 0), "requestedCount": 10_000})

    assert await handle == BulkDeleteResult(requested=10_001, deleted=10_000, not_found=1)


async def test_split_add_members_sums_every_counter(sdk: MsgFlash, mock_api: Any) -> None:
    for added in (9_000, 1):
        mock_api.post(
            api_url(MEMBERS),
            payload=data({"added": added, "alreadyInGroup": 1, "notFound": 0, "total": added + 1}),
        )

    handle = await sdk.groups.add_members(GROUP_ID, MANY)

    assert await handle == AddMembersResult(
        added=9_001, already_in_group=2, not_found=0, total=9_003
    )


@pytest.mark.parametrize(
    ("first", "second", "overall"),
    [
        ("pending", "pending", JobStatus.PENDING),
        ("processing", "pending", JobStatus.PROCESSING),
        ("done", "processing", JobStatus.PROCESSING),
        ("done", "done", JobStatus.DONE),
        ("done", "cancelled", JobStatus.CANCELLED),
        ("cancelled", "failed", JobStatus.FAILED),
    ],
)
async def test_overall_status_of_several_jobs(
    sdk: MsgFlash, mock_api: Any, first: str, second: str, overall: JobStatus
) -> None:
    handle = await two_jobs(sdk, mock_api)
    answer_progress(mock_api, deletion(first, 0, 0, 0))
    answer_progress(mock_api, deletion(second, 0, 0, 0), job_id=OTHER_JOB_ID)

    assert (await handle.refresh()).status is overall


async def test_failure_of_one_part_wins_over_a_cancel(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await two_jobs(sdk, mock_api)
    answer_progress(mock_api, deletion("cancelled", 0, 0, 0))
    answer_progress(mock_api, {**deletion("failed", 0, 0, 0), "error": "boom"}, job_id=OTHER_JOB_ID)

    with pytest.raises(JobFailedError) as caught:
        await handle

    assert caught.value.job_id == OTHER_JOB_ID


async def test_cancel_stops_every_unfinished_part(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await two_jobs(sdk, mock_api)
    for job_id, state in ((JOB_ID, "cancelled"), (OTHER_JOB_ID, "done")):
        mock_api.post(
            api_url(f"{JOBS}/{job_id}/cancel"),
            payload=data({**deletion(state, 1, 1, 0), "id": job_id}),
        )

    assert await handle.cancel() == BulkDeleteResult(requested=1_800, deleted=2, not_found=0)
    assert len(calls_to(mock_api, "POST", f"{JOBS}/{JOB_ID}/cancel")) == 1
    assert len(calls_to(mock_api, "POST", f"{JOBS}/{OTHER_JOB_ID}/cancel")) == 1


async def test_cancel_raises_when_reading_the_ended_job_fails(sdk: MsgFlash, mock_api: Any) -> None:
    handle = await start_deletion(sdk, mock_api)
    mock_api.post(api_url(f"{JOBS}/{JOB_ID}/cancel"), status=409, payload=error("CONFLICT", "done"))
    mock_api.get(api_url(f"{JOBS}/{JOB_ID}/progress"), status=409, payload=error("CONFLICT", "odd"))

    with pytest.raises(ConflictError, match="odd"):
        await handle.cancel()
