"""Bulk-job handles against a local server answering in the job shapes §5.7 leaves open.

Job objects keyed ``id`` or ``jobId``, and a progress endpoint answering the whole job, only
``status``, ``progress`` and ``processedCount``, or only ``status``: every public way to
follow a job gives the same outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    JobCancelledError,
    JobStatus,
    MsgFlash,
    RemoveMembersResult,
)
from msgflash_async.testing import FakeClock, LocalMsgFlash

SHAPES = [
    ("jobId", "full"),
    ("id", "counts"),
    ("jobId", "counts"),
    ("id", "status"),
    ("jobId", "status"),
]


@pytest.fixture(params=SHAPES, ids=[f"{key}-{body}" for key, body in SHAPES])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[LocalMsgFlash]:
    """A local server with jobs moved by hand, answering jobs in one of the open shapes."""
    id_key, progress_body = request.param
    async with LocalMsgFlash(
        manual_jobs=True,
        rate_limit=None,
        job_batch_size=1000,
        job_id_key=id_key,
        job_progress_body=progress_body,
    ) as local:
        yield local


def seed(server: LocalMsgFlash, count: int) -> list[str]:
    return [contact.id for contact in server.workspace().seed_contacts(count)]


def job_reads(server: LocalMsgFlash) -> int:
    """How many times the job endpoint (J2) was read."""
    return sum(request.route == "jobs.get" for request in server.requests)


def reads_expected(server: LocalMsgFlash, jobs: int = 1) -> int:
    """J2 is read once per job, only when the progress answers lack the summary."""
    return 0 if server.state.job_format.progress_body == "full" else jobs


async def test_await_gives_the_typed_result(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 1_500))
    server.clear_requests()

    assert await handle == BulkDeleteResult(requested=1_500, deleted=1_500, not_found=0)
    assert await handle == BulkDeleteResult(requested=1_500, deleted=1_500, not_found=0)
    assert clock.sleeps == [2.0, 2.0]
    assert job_reads(server) == reads_expected(server)


async def test_wait_reports_progress_and_gives_the_result(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group = server.workspace().add_group("G")
    handle = await sdk.groups.add_members(group.id, seed(server, 3_000))
    seen: list[tuple[JobStatus | str, int, int]] = []

    result = await handle.wait(
        timeout=60, on_progress=lambda p: seen.append((p.status, p.processed, p.requested))
    )

    assert result == AddMembersResult(added=3_000, already_in_group=0, not_found=0, total=3_000)
    assert seen[0] == (JobStatus.PENDING, 0, 3_000)
    assert seen[-1] == (JobStatus.DONE, 3_000, 3_000)
    assert [status for status, _, _ in seen[1:-1]] == [JobStatus.PROCESSING] * 2
    if server.state.job_format.progress_body != "status":  # counts come with each poll
        assert [processed for _, processed, _ in seen] == [0, 1_000, 2_000, 3_000]


async def test_watch_yields_until_the_job_ends(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    group = server.workspace().add_group("G")
    ws = server.workspace()
    ws.add_members(group.id, seed(server, 2_000))
    handle = await sdk.groups.remove_members(group.id, ws.members(group.id))

    snapshots = [snapshot async for snapshot in handle.watch()]

    assert [snapshot.status for snapshot in snapshots] == [
        JobStatus.PENDING,
        JobStatus.PROCESSING,
        JobStatus.DONE,
    ]
    assert snapshots[-1].percent == 100
    assert await handle == RemoveMembersResult(removed=2_000, not_in_group=0)


async def test_cancel_resolves_to_the_work_done(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    group = server.workspace().add_group("G")
    handle = await sdk.groups.add_members(group.id, seed(server, 2_500))
    server.advance_jobs(1)
    partial = AddMembersResult(added=1_000, already_in_group=0, not_found=0, total=2_500)

    assert await handle.cancel() == partial
    with pytest.raises(JobCancelledError) as caught:
        await handle

    assert caught.value.partial == partial
    assert job_reads(server) == 0  # the cancel answer is a whole job in every shape


async def test_a_handle_by_id_learns_its_operation(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    started = await sdk.contacts.bulk_delete([*seed(server, 1_200), "missing"])
    assert started.id is not None
    server.clear_requests()

    resumed = sdk.jobs.handle(started.id)

    assert await resumed == BulkDeleteResult(requested=1_201, deleted=1_200, not_found=1)
    assert job_reads(server) == reads_expected(server)


async def test_a_multi_job_handle_sums_every_part(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    group = server.workspace().add_group("Big")
    ids = seed(server, 12_000)
    handle = await sdk.groups.add_members(group.id, [*ids, "missing"])
    assert len(handle.job_ids) == 2
    server.clear_requests()

    result = await handle

    assert result == AddMembersResult(added=12_000, already_in_group=0, not_found=1, total=12_001)
    assert job_reads(server) == reads_expected(server, jobs=2)


async def test_the_job_endpoints_decode_every_shape(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 1_500))
    assert handle.id is not None
    server.advance_jobs(1)

    [listed] = [job async for job in sdk.jobs.list()]
    fetched = await sdk.jobs.get(handle.id)
    polled = await sdk.jobs.progress(handle.id)
    cancelled = await sdk.jobs.cancel(handle.id)

    assert listed == fetched
    assert (fetched.id, fetched.status, fetched.processed_count) == (handle.id, "processing", 1_000)
    assert (fetched.operation, fetched.summary) == ("bulk_delete_contacts", cancelled.summary)
    assert (polled.id, polled.status) == (handle.id, JobStatus.PROCESSING)
    assert (cancelled.id, cancelled.status) == (handle.id, JobStatus.CANCELLED)
    assert cancelled.summary == {"deleted": 1_000, "notFound": 0}
