"""Bulk-job handles against the local server, with time faked so no test waits for real."""

from __future__ import annotations

import asyncio

import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    JobCancelledError,
    JobFailedError,
    JobProgress,
    JobStatus,
    JobTimeoutError,
    MsgFlash,
    MsgFlashError,
    RemoveMembersResult,
)
from msgflash_async.testing import FakeClock, FaultConfig, FaultProfile, LocalMsgFlash


def seed(server: LocalMsgFlash, count: int) -> list[str]:
    return [contact.id for contact in server.workspace().seed_contacts(count)]


async def test_a_10000_id_job_resolves_after_one_poll_per_batch(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock
) -> None:
    ids = seed(server, 10_000)
    handle = await sdk.contacts.bulk_delete(ids)
    assert handle.id is not None
    assert not handle.done
    assert handle.progress().status == JobStatus.PENDING

    result = await handle
    assert result == BulkDeleteResult(requested=10_000, deleted=10_000, not_found=0)
    assert clock.sleeps == [2.0] * 10  # batches of 1,000; never faster than the interval
    assert server.workspace().contacts == {}


async def test_watch_and_on_progress_report_every_poll(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group = server.workspace().add_group("G")
    handle = await sdk.groups.add_members(group.id, seed(server, 3_000))
    watched = [snapshot async for snapshot in handle.watch()]
    assert [s.percent for s in watched] == [0, 33, 67, 100]
    assert [s.processed for s in watched] == [0, 1_000, 2_000, 3_000]
    assert watched[-1].status == JobStatus.DONE
    assert watched[-1].is_terminal

    seen: list[JobProgress] = []

    async def record(snapshot: JobProgress) -> None:
        seen.append(snapshot)

    removing = await sdk.groups.remove_members(group.id, server.workspace().members(group.id))
    assert await removing.wait(on_progress=record) == RemoveMembersResult(removed=3_000)
    assert [s.requested for s in seen] == [3_000] * 4


async def test_cancel_keeps_the_work_done_and_resolves_to_it(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group = server.workspace().add_group("G")
    handle = await sdk.groups.add_members(group.id, seed(server, 2_500))
    server.advance_jobs(1)
    partial = await handle.cancel()
    assert partial == AddMembersResult(added=1_000, already_in_group=0, not_found=0, total=2_500)
    assert (await sdk.groups.get(group.id)).contact_count == 1_000
    with pytest.raises(JobCancelledError) as caught:
        await handle
    assert caught.value.partial == partial
    assert caught.value.job_id == handle.id


async def test_a_failed_job_raises_with_the_servers_message(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group = server.workspace().add_group("G")
    handle = await sdk.groups.add_members(group.id, seed(server, 500))
    assert handle.id is not None
    server.fail_job(handle.id, "Provider exploded")
    with pytest.raises(JobFailedError) as caught:
        await handle
    assert caught.value.error == "Provider exploded"

    doomed = await sdk.groups.add_members(group.id, seed(server, 300))
    server.workspace().delete_group(group.id)
    with pytest.raises(JobFailedError, match="Group not found"):
        await doomed


async def test_wait_timeout_leaves_the_server_job_running(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 8_000))
    with pytest.raises(JobTimeoutError) as caught:
        await handle.wait(timeout=5)
    assert caught.value.job_id == handle.id
    assert handle.id is not None
    assert server.workspace().job(handle.id).status == "processing"
    assert await handle == BulkDeleteResult(requested=8_000, deleted=8_000, not_found=0)


async def test_a_slow_poll_in_flight_is_cut_short_by_the_wait_timeout(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 100))
    assert handle.id is not None
    server.finish_jobs()  # a poll that came back would end the wait with the result
    slow = FaultProfile(latency=1.0, latency_range=(1.5, 1.5))  # real seconds
    server.faults = FaultConfig({"jobs.progress": slow})
    waiting, watching = sdk.jobs.handle(handle.id), sdk.jobs.handle(handle.id)

    with pytest.raises(JobTimeoutError) as waited:
        await waiting.wait(timeout=0.2)  # polls at once, with no sleep first
    with pytest.raises(JobTimeoutError) as watched:
        [snapshot async for snapshot in watching.watch(timeout=0.2)]

    # No sleep took the fake clock past the deadline, and no answer came back: the deadline
    # ended the poll in flight, long before the read timeout (30 s) or the slow answer.
    assert clock.sleeps == []
    assert not waiting.done
    assert not watching.done
    assert (waited.value.job_id, watched.value.job_id) == (handle.id, handle.id)
    server.faults = FaultConfig()
    assert await waiting == BulkDeleteResult(requested=100, deleted=100, not_found=0)


async def test_cancelling_the_waiting_task_never_cancels_the_job(
    server: LocalMsgFlash,
) -> None:
    async with MsgFlash(
        server.api_key, base_url=server.base_url, rate_limit=None, job_poll_interval=0.01
    ) as client:
        handle = await client.contacts.bulk_delete(seed(server, 200))
        waiter = asyncio.create_task(handle.wait())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert handle.id is not None
        assert server.workspace().job(handle.id).status == "pending"
        await asyncio.sleep(0.05)  # a poll the server got before the cancel is logged by then
        server.clear_requests()
        await asyncio.sleep(0.05)
        assert server.requests == []  # polling stopped with the task


async def test_a_fresh_client_resumes_a_job_by_id(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 1_500))
    assert handle.id is not None
    async with MsgFlash(
        server.api_key, base_url=server.base_url, rate_limit=None, clock=clock
    ) as other:
        resumed = other.jobs.handle(handle.id)
        assert resumed.id == handle.id
        assert await resumed == BulkDeleteResult(requested=1_500, deleted=1_500, not_found=0)


async def test_more_than_10000_ids_are_deduplicated_split_and_summed(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    group = server.workspace().add_group("Big")
    ids = seed(server, 12_000)
    server.clear_requests()
    handle = await sdk.groups.add_members(group.id, ids + ids[:500] + ["missing"])
    sent = [request for request in server.requests if request.method == "POST"]
    assert [len(request.body["contactIds"]) for request in sent] == [10_000, 2_001]  # type: ignore[call-overload,index,arg-type]
    assert len(handle.job_ids) == 2
    assert handle.id is None
    assert handle.progress().requested == 12_001

    result = await handle
    assert result == AddMembersResult(added=12_000, already_in_group=0, not_found=1, total=12_001)
    assert (await sdk.groups.get(group.id)).contact_count == 12_000


async def test_below_100_ids_the_handle_is_finished_at_once(
    sdk: MsgFlash, server: LocalMsgFlash, clock: FakeClock
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 99))
    assert handle.done
    assert handle.job_ids == ()
    assert (await handle).deleted == 99
    assert [s.percent async for s in handle.watch()] == [100]
    assert clock.sleeps == []


async def test_a_body_over_one_mebibyte_is_sent_without_warnings(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    long_ids = [f"{index:0120d}" for index in range(10_000)]  # 1.2 MB of JSON, all unknown
    handle = await sdk.contacts.bulk_delete(long_ids)
    assert await handle == BulkDeleteResult(requested=10_000, deleted=0, not_found=10_000)


async def test_a_job_of_another_operation_is_refused_not_mistyped(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    handle = await sdk.contacts.bulk_delete(seed(server, 100))
    server.inject_response(
        status=200,
        route="jobs.progress",
        body={
            "data": {
                "id": handle.id,
                "status": "done",
                "operation": "add_to_group",
                "summary": {"added": 100, "alreadyInGroup": 0, "notFound": 0},
            }
        },
    )
    with pytest.raises(MsgFlashError, match="add_to_group job; expected a result of BulkDelete"):
        await handle
