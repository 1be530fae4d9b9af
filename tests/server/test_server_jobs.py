"""Bulk jobs (§1.7, §3.4, §3.5, §4.4): the 100-id split, the state machine and its hooks."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import Any

import aiohttp
import pytest
from server_support import FAST, UUID_PATTERN, ManualClock, call, ids_of, seed_group

from msgflash_async.testing import Job, LocalMsgFlash
from msgflash_async.testing._models import JobFormat

BULK = [
    ("POST", "/contacts/bulk-delete", "bulk_delete_contacts"),
    ("POST", "/contacts/groups/{group}/members", "add_to_group"),
    ("DELETE", "/contacts/groups/{group}/members", "remove_from_group"),
]


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return {**FAST, "job_batch_size": 50, "clock": ManualClock()}


def ids(count: int, prefix: str = "id") -> list[str]:
    return [f"{prefix}-{index}" for index in range(count)]


async def start(
    http: aiohttp.ClientSession, method: str, path: str, contact_ids: list[str]
) -> dict[str, Any]:
    reply = await call(http, method, path, json={"contactIds": contact_ids})
    assert reply.status == 202, reply.body
    data: dict[str, Any] = reply.data
    return data


async def progress_json(http: aiohttp.ClientSession, job_id: str) -> dict[str, Any]:
    progress = await call(http, "GET", f"/contacts/bulk-jobs/{job_id}/progress")
    data: dict[str, Any] = progress.data
    return data


async def job_json(http: aiohttp.ClientSession, job_id: str) -> dict[str, Any]:
    """The job, checking that J2 and J3 answer the same (only while the job stands still)."""
    job = await call(http, "GET", f"/contacts/bulk-jobs/{job_id}")
    assert (await progress_json(http, job_id)) == job.data
    data: dict[str, Any] = job.data
    return data


@pytest.mark.parametrize(("method", "path", "operation"), BULK)
async def test_the_split_counts_distinct_ids(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    method: str,
    path: str,
    operation: str,
) -> None:
    group = msgflash_server.workspace().add_group("G")
    path = path.format(group=group.id)

    inline = await call(msgflash_http, method, path, json={"contactIds": ids(99) * 3})
    accepted = await call(msgflash_http, method, path, json={"contactIds": ids(100) + ids(50)})

    assert inline.status == 200
    assert "mode" not in inline.data
    assert accepted.status == 202
    job_id = accepted.data["jobId"]
    expected = {
        "mode": "async",
        "jobId": job_id,
        "status": "pending",
        "operation": operation,
        "requestedCount": 100,
        "progress": 0,
        "message": f"Bulk operation queued. Check status via GET /api/contacts/bulk-jobs/{job_id}",
    }
    if operation != "bulk_delete_contacts":
        expected["groupId"] = group.id
    assert accepted.data == expected
    assert re.fullmatch(UUID_PATTERN, job_id)


async def test_the_largest_request_is_a_job(msgflash_http: aiohttp.ClientSession) -> None:
    long_ids = [f"{index:0200d}" for index in range(10_000)]
    body = io.BytesIO(json.dumps({"contactIds": long_ids}).encode())  # over 2 MB

    reply = await call(msgflash_http, "POST", "/contacts/bulk-delete", data=body)

    assert reply.status == 202
    assert reply.data["requestedCount"] == 10_000


async def test_a_new_job_is_pending_with_zeroed_counters(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    group = msgflash_server.workspace().add_group("G")
    accepted = await start(
        msgflash_http, "DELETE", f"/contacts/groups/{group.id}/members", ids(120)
    )

    job = await job_json(msgflash_http, accepted["jobId"])

    assert job == {
        "id": accepted["jobId"],
        "operation": "remove_from_group",
        "status": "pending",
        "requestedCount": 120,
        "processedCount": 0,
        "progress": 0,
        "groupId": group.id,
        "summary": {"removed": 0, "notInGroup": 0},
        "error": None,
        "createdAt": "2026-04-01T10:00:00.001Z",
        "updatedAt": "2026-04-01T10:00:00.001Z",
        "completedAt": None,
    }


async def test_manual_steps_report_the_vendor_progress_values(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 4800, members=100)
    request = ids_of(contacts) + ids(100, "missing")
    accepted = await start(msgflash_http, "POST", f"/contacts/groups/{group.id}/members", request)

    msgflash_server.advance_jobs(batches=46)
    mid = await job_json(msgflash_http, accepted["jobId"])
    msgflash_server.advance_jobs(batches=5)
    later = await job_json(msgflash_http, accepted["jobId"])
    msgflash_server.finish_jobs()
    done = await job_json(msgflash_http, accepted["jobId"])

    assert (mid["status"], mid["processedCount"], mid["progress"]) == ("processing", 2300, 47)
    assert mid["summary"] == {"added": 2200, "alreadyInGroup": 100, "notFound": 0}
    assert mid["updatedAt"] > mid["createdAt"]
    assert mid["completedAt"] is None
    assert (later["processedCount"], later["progress"]) == (2550, 52)
    assert sum(later["summary"].values()) == 2550
    assert later["updatedAt"] > mid["updatedAt"]
    assert (done["status"], done["processedCount"], done["progress"]) == ("done", 4900, 100)
    assert done["summary"] == {"added": 4700, "alreadyInGroup": 100, "notFound": 100}
    assert done["completedAt"] == done["updatedAt"] > later["updatedAt"]
    assert ws.groups[group.id].contact_count == 4800


async def test_each_id_is_handled_as_the_inline_endpoint_would_at_that_moment(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 150, members=10)
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids_of(contacts))

    msgflash_server.advance_jobs()
    await call(msgflash_http, "DELETE", f"/contacts/{contacts[120].id}")
    msgflash_server.finish_jobs()
    job = await job_json(msgflash_http, accepted["jobId"])

    assert job["summary"] == {"deleted": 149, "notFound": 1}
    assert ws.contacts == {}
    assert ws.groups[group.id].contact_count == 0


async def test_cancel_keeps_the_work_done(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 200, members=0)
    path = f"/contacts/groups/{group.id}/members"
    accepted = await start(msgflash_http, "POST", path, ids_of(contacts))
    msgflash_server.advance_jobs(batches=2)

    cancelled = await call(msgflash_http, "POST", f"/contacts/bulk-jobs/{accepted['jobId']}/cancel")
    msgflash_server.finish_jobs()
    again = await call(msgflash_http, "POST", f"/contacts/bulk-jobs/{accepted['jobId']}/cancel")
    job = await job_json(msgflash_http, accepted["jobId"])

    assert cancelled.status == 200
    assert cancelled.data == job
    assert (job["status"], job["processedCount"], job["progress"]) == ("cancelled", 100, 50)
    assert job["summary"] == {"added": 100, "alreadyInGroup": 0, "notFound": 0}
    assert job["error"] is None
    assert job["completedAt"] is not None
    assert ws.members(group.id) == ids_of(contacts[:100])
    assert again.status == 409
    assert again.body == {"error": {"code": "CONFLICT", "message": "Job is already cancelled"}}


async def test_a_pending_job_can_be_cancelled(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))

    cancelled = await call(msgflash_http, "POST", f"/contacts/bulk-jobs/{accepted['jobId']}/cancel")

    assert (cancelled.data["status"], cancelled.data["processedCount"]) == ("cancelled", 0)


async def test_cancelling_a_finished_job_is_a_conflict_naming_its_status(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    done = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))
    msgflash_server.finish_jobs()
    failed = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))
    msgflash_server.fail_job(failed["jobId"])

    for job_id, status in [(done["jobId"], "done"), (failed["jobId"], "failed")]:
        reply = await call(msgflash_http, "POST", f"/contacts/bulk-jobs/{job_id}/cancel")
        assert reply.status == 409
        assert reply.error == {"code": "CONFLICT", "message": f"Job is already {status}"}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_deleting_the_group_fails_its_jobs(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession, method: str
) -> None:
    ws = msgflash_server.workspace()
    contacts, group = seed_group(ws, 150, members=150 if method == "DELETE" else 0)
    path = f"/contacts/groups/{group.id}/members"
    accepted = await start(msgflash_http, method, path, ids_of(contacts))
    msgflash_server.advance_jobs()

    await call(msgflash_http, "DELETE", f"/contacts/groups/{group.id}")
    msgflash_server.finish_jobs()
    job = await job_json(msgflash_http, accepted["jobId"])

    assert (job["status"], job["error"], job["processedCount"]) == ("failed", "Group not found", 50)
    assert job["completedAt"] is not None
    assert len(ws.contacts) == 150


async def test_a_job_can_be_forced_to_fail(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(300))
    msgflash_server.advance_jobs()

    msgflash_server.fail_job(accepted["jobId"], "Provider exploded")
    job = await job_json(msgflash_http, accepted["jobId"])

    assert (job["status"], job["error"], job["processedCount"]) == (
        "failed",
        "Provider exploded",
        50,
    )
    with pytest.raises(ValueError, match="already failed"):
        msgflash_server.fail_job(accepted["jobId"])
    with pytest.raises(KeyError):
        msgflash_server.fail_job("unknown")


async def test_the_job_list_is_newest_first_with_every_status(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    first = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))
    msgflash_server.finish_jobs()
    second = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))

    reply = await call(msgflash_http, "GET", "/contacts/bulk-jobs")

    assert [(job["id"], job["status"]) for job in reply.data["jobs"]] == [
        (second["jobId"], "pending"),
        (first["jobId"], "done"),
    ]
    assert reply.data["jobs"][0] == await job_json(msgflash_http, second["jobId"])
    assert reply.data["hasMore"] is False


@pytest.mark.parametrize("msgflash_server_options", [{**FAST, "job_id_key": "jobId"}])
async def test_job_objects_can_name_their_id_job_id(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    done = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))
    msgflash_server.finish_jobs()
    pending = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))
    path = f"/contacts/bulk-jobs/{pending['jobId']}"

    listed = (await call(msgflash_http, "GET", "/contacts/bulk-jobs")).data["jobs"]
    job = await job_json(msgflash_http, pending["jobId"])
    cancelled = (await call(msgflash_http, "POST", f"{path}/cancel")).data

    assert [item["jobId"] for item in listed] == [pending["jobId"], done["jobId"]]
    expected = msgflash_server.workspace().job(pending["jobId"]).to_json()
    del expected["id"]
    assert cancelled == {**expected, "jobId": pending["jobId"]}
    assert (job["jobId"], job["status"]) == (pending["jobId"], "pending")
    assert all("id" not in body for body in [*listed, job, cancelled])


@pytest.mark.parametrize(
    ("body", "fields"),
    [("counts", {"status", "progress", "processedCount"}), ("status", {"status"})],
)
async def test_the_progress_endpoint_can_answer_less_than_the_job(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    body: str,
    fields: set[str],
) -> None:
    msgflash_server.state.job_format = JobFormat(progress_body=body)  # type: ignore[arg-type]
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(120))
    msgflash_server.advance_jobs()

    progress = await progress_json(msgflash_http, accepted["jobId"])
    job = (await call(msgflash_http, "GET", f"/contacts/bulk-jobs/{accepted['jobId']}")).data

    assert progress == {name: job[name] for name in fields}
    assert (job["status"], job["processedCount"], job["progress"]) == ("processing", 50, 42)


def test_the_job_format_refuses_unknown_options() -> None:
    with pytest.raises(ValueError, match="id_key"):
        JobFormat(id_key="job_id")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="progress_body"):
        JobFormat(progress_body="slim")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("processed", "requested", "progress"),
    [(0, 100, 0), (2300, 4900, 47), (2550, 4900, 52), (1, 200, 1), (1, 400, 0), (3, 200, 2),
     (5, 200, 3), (9995, 10000, 100), (9949, 10000, 99), (100, 100, 100)],
)  # fmt: skip
def test_progress_rounds_halves_up(processed: int, requested: int, progress: int) -> None:
    job = Job("j", "bulk_delete_contacts", None, ["x"] * requested, "t", "t")
    job.processed_count = processed

    assert job.progress == progress


@pytest.mark.parametrize(
    "msgflash_server_options",
    [{"rate_limit": None, "job_batch_size": 100, "job_batch_interval": 0.01}],
)
async def test_real_time_jobs_move_by_themselves(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(450))
    seen = [(await progress_json(msgflash_http, accepted["jobId"]))["status"]]

    for _ in range(200):
        job = await progress_json(msgflash_http, accepted["jobId"])
        seen.append(job["status"])
        if job["status"] == "done":
            break
        await asyncio.sleep(0.01)

    order = ["pending", "processing", "done"]
    ranks = [order.index(status) for status in seen]
    assert ranks == sorted(ranks)  # the job only moves forward, by itself
    assert seen[-1] == "done"
    assert job["processedCount"] == 450
    assert job["summary"] == {"deleted": 0, "notFound": 450}


@pytest.mark.parametrize(
    "msgflash_server_options", [{"rate_limit": None, "job_batch_interval": 60}]
)
async def test_closing_the_server_stops_real_time_jobs(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    accepted = await start(msgflash_http, "POST", "/contacts/bulk-delete", ids(100))

    await msgflash_server.close()

    assert msgflash_server.workspace().jobs[accepted["jobId"]].status == "pending"
    assert asyncio.all_tasks() == {asyncio.current_task()}
