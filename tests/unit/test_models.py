"""Lenient parsing into the typed models (spec §0, §3), seen through the SDK's own calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from msgflash_async import (
    UNSET,
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    Contact,
    ContactGroup,
    GroupMember,
    JobOperation,
    JobProgress,
    JobStatus,
    MsgFlash,
    Page,
    RemoveMembersResult,
    ResponseDecodeError,
)

from ._helpers import (
    CONTACT,
    CONTACT_ID,
    CONTACT_MODEL,
    CONTACTS,
    GROUP_ID,
    GROUPS,
    JOB_ID,
    JOB_PROCESSING,
    JOBS,
    MEMBER,
    api_url,
    data,
    page,
    utc,
)


async def fetch_contact(client: MsgFlash, mock_api: Any, fields: dict[str, Any]) -> Contact:
    """The Contact the SDK makes of a C3 answer holding ``fields``."""
    mock_api.get(api_url(f"{CONTACTS}/{CONTACT_ID}"), payload=data(fields))
    return await client.contacts.get(CONTACT_ID)


async def fetch_job(client: MsgFlash, mock_api: Any, fields: dict[str, Any]) -> BulkJob:
    """The BulkJob the SDK makes of a J2 answer holding ``fields``."""
    mock_api.get(api_url(f"{JOBS}/{JOB_ID}"), payload=data(fields))
    return await client.jobs.get(JOB_ID)


async def test_unknown_fields_are_ignored(client: MsgFlash, mock_api: Any) -> None:
    fields = {**CONTACT, "score": 9, "owner": {"id": "x"}, "lastMessageAt": None}

    assert await fetch_contact(client, mock_api, fields) == CONTACT_MODEL


async def test_contact_needs_only_an_id(client: MsgFlash, mock_api: Any) -> None:
    contact = await fetch_contact(client, mock_api, {"id": CONTACT_ID})

    assert contact == Contact(id=CONTACT_ID)
    assert (contact.name, contact.phone, contact.tags, contact.meta) == ("", "", (), {})
    assert (contact.temperature, contact.created_at, contact.updated_at) == (None, None, None)


async def test_group_needs_only_an_id(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(f"{GROUPS}/{GROUP_ID}"), payload=data({"id": GROUP_ID}))

    group = await client.groups.get(GROUP_ID)

    assert group == ContactGroup(id=GROUP_ID, name="", contact_count=0)
    assert (group.description, group.color, group.created_at, group.updated_at) == (None,) * 4


async def test_job_needs_only_an_id_and_a_status(client: MsgFlash, mock_api: Any) -> None:
    job = await fetch_job(client, mock_api, {"id": JOB_ID, "status": "pending"})

    assert job == BulkJob(id=JOB_ID, status=JobStatus.PENDING)
    assert (job.operation, job.requested_count, job.summary, job.error) == ("", 0, {}, None)


@pytest.mark.parametrize(
    "fields",
    [{"jobId": JOB_ID, "status": "done"}, {"status": "done"}, {"id": JOB_ID, "status": "done"}],
    ids=["jobId", "no id", "id"],
)
async def test_an_answer_about_one_job_may_key_its_id_job_id_or_leave_it_out(
    client: MsgFlash, mock_api: Any, fields: dict[str, Any]
) -> None:
    assert await fetch_job(client, mock_api, fields) == BulkJob(id=JOB_ID, status=JobStatus.DONE)


async def test_listed_jobs_may_key_their_id_job_id(client: MsgFlash, mock_api: Any) -> None:
    keyed = {"jobId" if key == "id" else key: value for key, value in JOB_PROCESSING.items()}
    mock_api.get(api_url(JOBS, limit=100), payload=page("jobs", [keyed, JOB_PROCESSING]))

    first, second = (await client.jobs.list().first_page()).items

    assert first == second
    assert first.id == JOB_ID


async def test_a_listed_job_needs_an_id(client: MsgFlash, mock_api: Any) -> None:
    mock_api.get(api_url(JOBS, limit=100), payload=page("jobs", [{"status": "done"}]))

    with pytest.raises(ResponseDecodeError, match="'id'"):
        await client.jobs.list().first_page()


@pytest.mark.parametrize(
    "fields",
    [{"id": JOB_ID}, {"id": JOB_ID, "status": ""}, {"id": JOB_ID, "status": 3}, {"jobId": JOB_ID}],
    ids=["missing", "empty", "number", "jobId only"],
)
async def test_a_job_without_a_usable_status_is_a_decode_error(
    client: MsgFlash, mock_api: Any, fields: dict[str, Any]
) -> None:
    with pytest.raises(ResponseDecodeError, match="unexpected response shape"):
        await fetch_job(client, mock_api, fields)


def test_results_count_what_was_handled_from_their_counters() -> None:
    assert BulkDeleteResult(requested=5, deleted=3, not_found=2).processed == 5
    assert AddMembersResult(added=2, already_in_group=1, not_found=1, total=4).processed == 4
    assert RemoveMembersResult(removed=6, not_in_group=4) == RemoveMembersResult(6, 4, 10, 10)


def test_results_may_leave_their_breakdown_unknown() -> None:
    result = AddMembersResult(
        added=None, already_in_group=None, not_found=None, total=9, processed=7
    )

    assert (result.added, result.total, result.processed) == (None, 9, 7)
    assert RemoveMembersResult(removed=None, not_in_group=None).processed == 0


async def test_inline_answers_never_set_the_computed_totals(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_api.delete(
        api_url(f"{GROUPS}/{GROUP_ID}/members"),
        payload=data({"removed": 1, "notInGroup": 1, "requested": 9, "processed": "x"}),
    )

    handle = await client.groups.remove_members(GROUP_ID, [CONTACT_ID, "other"])

    assert await handle == RemoveMembersResult(removed=1, not_in_group=1, requested=2, processed=2)


async def test_member_without_added_at(client: MsgFlash, mock_api: Any) -> None:
    member = {key: value for key, value in MEMBER.items() if key != "addedAt"}
    mock_api.get(
        api_url(f"{GROUPS}/{GROUP_ID}/members", limit=100), payload=page("members", [member])
    )

    [parsed] = (await client.groups.members(GROUP_ID).first_page()).items

    assert isinstance(parsed, GroupMember)
    assert parsed.added_at is None
    assert parsed.name == "Awa Doe"


@pytest.mark.parametrize(
    "temperature",
    [None, 3, 0.5, "hot", True, [1, "a"], {"score": 0.7, "label": "warm"}],
    ids=repr,
)
async def test_temperature_is_kept_raw(
    client: MsgFlash, mock_api: Any, temperature: object
) -> None:
    contact = await fetch_contact(client, mock_api, {**CONTACT, "temperature": temperature})

    assert contact.temperature == temperature
    assert type(contact.temperature) is type(temperature)


async def test_tags_are_a_tuple_and_meta_a_mapping(client: MsgFlash, mock_api: Any) -> None:
    fields = {**CONTACT, "tags": ["vip", "newsletter"], "meta": {"city": "Cotonou", "n": [1]}}

    contact = await fetch_contact(client, mock_api, fields)

    assert contact.tags == ("vip", "newsletter")
    assert isinstance(contact.tags, tuple)
    assert contact.meta == {"city": "Cotonou", "n": [1]}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2026-04-01T10:00:00.000Z", utc(2026, 4, 1, 10)),
        ("2026-04-01T10:00:00Z", utc(2026, 4, 1, 10)),
        ("2026-04-01T10:00:00.5z", utc(2026, 4, 1, 10) + timedelta(milliseconds=500)),
        ("2026-04-01T10:00:00.12345+00:00", utc(2026, 4, 1, 10) + timedelta(microseconds=123450)),
        ("2026-04-01T10:00:00.123456Z", utc(2026, 4, 1, 10) + timedelta(microseconds=123456)),
        ("2026-04-01T12:00:00+02:00", utc(2026, 4, 1, 10)),
        ("2026-04-01T10:00:00", utc(2026, 4, 1, 10)),
    ],
)
async def test_timestamps_become_aware_datetimes(
    client: MsgFlash, mock_api: Any, wire: str, expected: datetime
) -> None:
    contact = await fetch_contact(client, mock_api, {**CONTACT, "createdAt": wire})

    assert contact.created_at == expected
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is not None


async def test_z_and_naive_timestamps_are_utc(client: MsgFlash, mock_api: Any) -> None:
    fields = {**CONTACT, "createdAt": "2026-04-01T10:00:00.000Z", "updatedAt": "2026-04-01T10:00"}

    contact = await fetch_contact(client, mock_api, fields)

    for value in (contact.created_at, contact.updated_at):
        assert value is not None
        assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("status", list(JobStatus))
async def test_documented_statuses_become_enum_members(
    client: MsgFlash, mock_api: Any, status: JobStatus
) -> None:
    job = await fetch_job(client, mock_api, {"id": JOB_ID, "status": status.value})

    assert job.status is status
    assert job.is_terminal is (status in {JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


async def test_unknown_status_and_operation_stay_plain_strings(
    client: MsgFlash, mock_api: Any
) -> None:
    fields = {"id": JOB_ID, "status": "paused", "operation": "merge_contacts"}

    job = await fetch_job(client, mock_api, fields)

    assert type(job.status) is str
    assert job.status == "paused"
    assert type(job.operation) is str
    assert job.operation == "merge_contacts"
    assert not job.is_terminal


async def test_documented_operations_become_enum_members(client: MsgFlash, mock_api: Any) -> None:
    for operation in JobOperation:
        fields = {"id": JOB_ID, "status": "done", "operation": operation.value}
        assert (await fetch_job(client, mock_api, fields)).operation is operation


async def test_summary_keeps_unknown_counters(client: MsgFlash, mock_api: Any) -> None:
    summary = {"deleted": 3, "notFound": 1, "skipped": 2}

    job = await fetch_job(client, mock_api, {"id": JOB_ID, "status": "done", "summary": summary})

    assert job.summary == summary


def test_enums_print_as_their_wire_value() -> None:
    assert str(JobStatus.DONE) == "done"
    assert str(JobOperation.ADD_TO_GROUP) == "add_to_group"
    assert isinstance(JobStatus.DONE, str)


def test_unset_has_a_readable_repr() -> None:
    assert repr(UNSET) == "UNSET"


def test_models_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        CONTACT_MODEL.name = "Other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("has_more", "next_cursor", "is_last"),
    [(True, "c1", False), (False, None, True), (False, "c1", True), (True, None, True)],
)
def test_page_is_last_when_has_more_is_false_or_cursor_null(
    has_more: bool, next_cursor: str | None, is_last: bool
) -> None:
    assert Page(items=(), next_cursor=next_cursor, has_more=has_more).is_last is is_last


@pytest.mark.parametrize(
    ("status", "processed", "requested", "percent"),
    [
        (JobStatus.PROCESSING, 2300, 4900, 47),
        (JobStatus.CANCELLED, 2550, 4900, 52),
        (JobStatus.PROCESSING, 1, 200, 1),  # 0.5 % rounds half up
        (JobStatus.PROCESSING, 9995, 10000, 100),
        (JobStatus.PENDING, 0, 0, 0),
        (JobStatus.DONE, 0, 0, 100),
    ],
)
def test_progress_percent_rounds_half_up(
    status: JobStatus, processed: int, requested: int, percent: int
) -> None:
    progress = JobProgress(status=status, processed=processed, requested=requested, jobs=())

    assert progress.percent == percent
