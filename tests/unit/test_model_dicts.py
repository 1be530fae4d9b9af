"""Models to JSON and back: ``to_dict(by_alias=...)`` and ``from_dict`` (issue 11, item 5)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from msgflash_async import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    Contact,
    ContactGroup,
    GroupMember,
    InvalidInputError,
    JobAccepted,
    JobOperation,
    JobStatus,
    RemoveMembersResult,
)
from msgflash_async._converter import structurer
from msgflash_async._jobs import result_of_job

from ._helpers import (
    ACCEPTED_ADD,
    CONTACT,
    CONTACT_ID,
    CONTACT_MODEL,
    GROUP,
    GROUP_ID,
    JOB_DONE,
    JOB_ID,
    JOB_PROCESSING,
    JOB_PROCESSING_MODEL,
    MEMBER,
    MEMBER_MODEL,
    utc,
)

PLUS_TWO = timezone(timedelta(hours=2))

FULL_CONTACT = Contact(
    id=CONTACT_ID,
    name='Zoë Ørsted, "Zo"',
    phone="+4512345678",
    tags=("vip", "été"),
    meta={"city": "Århus", "nested": {"list": [1, 2.5, None, True], "deep": {"x": "y"}}},
    temperature={"score": 0.7, "labels": ["warm"]},
    created_at=datetime(2026, 4, 1, 12, 0, 0, 123456, tzinfo=PLUS_TWO),
    updated_at=utc(2026, 4, 2),
)
"""A contact with every field set, text a CSV must quote, nested meta."""

MODELS: dict[str, Any] = {
    "contact": CONTACT_MODEL,
    "contact, everything set": FULL_CONTACT,
    "contact, defaults": Contact(id=CONTACT_ID),
    "member": MEMBER_MODEL,
    "member without added_at": GroupMember(id=CONTACT_ID, name="Awa"),
    "group": structurer(ContactGroup)(GROUP),
    "group, defaults": ContactGroup(id=GROUP_ID),
    "job": JOB_PROCESSING_MODEL,
    "job done": structurer(BulkJob)(JOB_DONE),
    "job of unknown status and operation": BulkJob(
        id=JOB_ID, status="paused", operation="merge_contacts", summary={"merged": 3}
    ),
    "job accepted": structurer(JobAccepted)(ACCEPTED_ADD),
    "job accepted, unknown": JobAccepted(job_id=JOB_ID, status="queued", operation="archive"),
    "delete result, inline": BulkDeleteResult(
        requested=3, deleted=1, not_found=2, not_found_ids=("a", "b")
    ),
    "delete result, of a job": BulkDeleteResult(
        requested=9, deleted=None, not_found=None, processed=4
    ),
    "add result": AddMembersResult(added=2, already_in_group=1, not_found=0, total=3),
    "add result, unknown breakdown": AddMembersResult(
        added=None, already_in_group=None, not_found=None, total=9, processed=7
    ),
    "remove result": RemoveMembersResult(removed=6, not_in_group=4),
    "remove result, unknown breakdown": RemoveMembersResult(
        removed=None, not_in_group=None, requested=5, processed=2
    ),
}
"""An instance of every model, with every kind of value its fields take."""


def through_json(plain: dict[str, Any]) -> Any:
    return json.loads(json.dumps(plain))


@pytest.mark.parametrize("by_alias", [False, True], ids=["snake_case", "camelCase"])
@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_every_model_goes_through_json_and_back_unchanged(model: Any, by_alias: bool) -> None:
    plain = model.to_dict(by_alias=by_alias)

    again = type(model).from_dict(through_json(plain))

    assert again == model
    assert type(again) is type(model)
    assert again.to_dict(by_alias=by_alias) == plain


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_keys_are_the_attribute_names_or_their_camel_case(model: Any) -> None:
    names = [field.name for field in attrs.fields(type(model))]

    assert list(model.to_dict()) == names
    assert list(model.to_dict(by_alias=True)) == [
        name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:]) for name in names
    ]


def test_the_camel_case_form_is_the_wire_form() -> None:
    assert structurer(GroupMember)(MEMBER).to_dict(by_alias=True) == {**MEMBER}
    assert structurer(BulkJob)(JOB_PROCESSING).to_dict(by_alias=True) == JOB_PROCESSING
    assert list(JobAccepted(job_id=JOB_ID, status="pending").to_dict(by_alias=True))[:2] == [
        "jobId",
        "status",
    ]


def test_from_dict_reads_the_apis_own_json() -> None:
    assert Contact.from_dict(CONTACT) == CONTACT_MODEL
    assert BulkJob.from_dict(JOB_PROCESSING) == JOB_PROCESSING_MODEL


def test_values_are_plain_json_types() -> None:
    job = MODELS["job of unknown status and operation"]
    plain = FULL_CONTACT.to_dict()

    assert plain["created_at"] == "2026-04-01T10:00:00.123456Z"  # +02:00 becomes UTC
    assert plain["updated_at"] == "2026-04-02T00:00:00.000Z"
    assert plain["tags"] == ["vip", "été"]
    assert type(plain["meta"]) is dict
    assert JOB_PROCESSING_MODEL.to_dict()["status"] == "processing"
    assert type(JOB_PROCESSING_MODEL.to_dict()["status"]) is str
    assert type(JOB_PROCESSING_MODEL.to_dict()["operation"]) is str
    assert (job.to_dict()["status"], job.to_dict()["operation"]) == ("paused", "merge_contacts")
    assert MODELS["delete result, inline"].to_dict()["not_found_ids"] == ["a", "b"]


def test_a_naive_datetime_counts_as_utc() -> None:
    contact = Contact(id="c", created_at=datetime(2026, 4, 1, 10, 0, 0, 5000))

    assert contact.to_dict()["created_at"] == "2026-04-01T10:00:00.005Z"


def test_nested_values_become_json_types_too() -> None:
    meta = {"pair": (1, 2), "inner": {"t": ("a",), "at": utc(2026, 4, 1), "s": JobStatus.DONE}}
    contact = Contact(id="c", meta=meta, temperature=(1,))

    plain = contact.to_dict()

    assert plain["meta"] == {
        "pair": [1, 2],
        "inner": {"t": ["a"], "at": "2026-04-01T00:00:00.000Z", "s": "done"},
    }
    assert plain["temperature"] == [1]
    assert json.loads(json.dumps(plain)) == plain


def test_the_dict_is_a_copy() -> None:
    plain = CONTACT_MODEL.to_dict()
    plain["meta"]["city"] = "Paris"

    assert CONTACT_MODEL.meta == {"city": "Cotonou"}


def test_missing_and_none_fields() -> None:
    plain = Contact(id="c").to_dict()

    assert plain["created_at"] is None
    assert plain["temperature"] is None
    assert Contact.from_dict({"id": "c"}) == Contact(id="c")
    assert GroupMember.from_dict({"id": "c", "added_at": None}).added_at is None


def test_enums_come_back_as_enum_members_and_unknown_values_as_strings() -> None:
    known = BulkJob.from_dict({"id": JOB_ID, "status": "done", "operation": "add_to_group"})
    unknown = BulkJob.from_dict({"id": JOB_ID, "status": "paused", "operation": "merge"})

    assert known.status is JobStatus.DONE
    assert known.operation is JobOperation.ADD_TO_GROUP
    assert (type(unknown.status), type(unknown.operation)) == (str, str)


def test_from_dict_takes_mixed_keys_datetimes_and_ignores_unknown_keys() -> None:
    data = {
        "id": CONTACT_ID,
        "created_at": utc(2026, 4, 1, 10),
        "updatedAt": "2026-04-01T12:00:00+02:00",
        "addedAt": datetime(2026, 4, 3, 8, 15),  # naive: UTC
        "unknown": 1,
    }

    member = GroupMember.from_dict(data)

    assert (member.created_at, member.updated_at) == (utc(2026, 4, 1, 10), utc(2026, 4, 1, 10))
    assert member.added_at == utc(2026, 4, 3, 8, 15)


def test_computed_counters_are_computed_when_left_out() -> None:
    assert RemoveMembersResult.from_dict({"removed": 2, "notInGroup": 1}) == RemoveMembersResult(
        2, 1, 3, 3
    )


@pytest.mark.parametrize(
    ("model", "data", "field", "message"),
    [
        (Contact, {"name": "Awa"}, "id", "is required"),
        (Contact, {"id": 7}, "id", "expected a string, got int"),
        (Contact, {"id": "c", "tags": "vip"}, "tags", "expected an array of strings"),
        (Contact, {"id": "c", "tags": [1]}, "tags", "expected an array of strings"),
        (Contact, {"id": "c", "meta": []}, "meta", "expected a JSON object, got list"),
        (Contact, {"id": "c", "createdAt": 5}, "created_at", "expected an ISO-8601 string"),
        (Contact, {"id": "c", "createdAt": "yesterday"}, "created_at", "Invalid isoformat"),
        (ContactGroup, {"id": "g", "contactCount": True}, "contact_count", "expected an integer"),
        (BulkJob, {"id": JOB_ID}, "status", "is required"),
        (BulkJob, {"id": JOB_ID, "status": 3}, "status", "expected a string, got int"),
        (AddMembersResult, {"added": "2"}, "added", "expected an integer, got str"),
        (BulkDeleteResult, {"notFoundIds": [None]}, "not_found_ids", "array of strings"),
    ],
)
def test_bad_data_raises_invalid_input_naming_the_field(
    model: Any, data: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        model.from_dict(data)

    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data", [None, [CONTACT], "id"], ids=repr)
def test_from_dict_needs_a_mapping(data: Any) -> None:
    with pytest.raises(InvalidInputError, match="must be a mapping") as caught:
        Contact.from_dict(data)

    assert caught.value.field == "data"


# --- BulkJob.result --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "summary", "expected"),
    [
        (
            JobOperation.BULK_DELETE_CONTACTS,
            {"deleted": 7, "notFound": 2},
            BulkDeleteResult(requested=10, deleted=7, not_found=2, processed=9),
        ),
        (
            JobOperation.ADD_TO_GROUP,
            {"added": 6, "alreadyInGroup": 2, "notFound": 1},
            AddMembersResult(added=6, already_in_group=2, not_found=1, total=10, processed=9),
        ),
        (
            JobOperation.REMOVE_FROM_GROUP,
            {"removed": 8, "notInGroup": 1},
            RemoveMembersResult(removed=8, not_in_group=1, requested=10, processed=9),
        ),
        (
            JobOperation.ADD_TO_GROUP,
            {"added": "many"},
            AddMembersResult(
                added=None, already_in_group=None, not_found=None, total=10, processed=9
            ),
        ),
    ],
    ids=["delete", "add", "remove", "no breakdown"],
)
def test_a_jobs_result_is_typed_by_its_operation(
    operation: JobOperation, summary: dict[str, Any], expected: Any
) -> None:
    job = BulkJob(
        id=JOB_ID,
        status=JobStatus.DONE,
        operation=operation,
        requested_count=10,
        processed_count=9,
        summary=summary,
    )

    assert job.result == expected
    assert type(job.result) is type(expected)
    assert result_of_job(job) == expected
    assert attrs.evolve(job, operation=operation.value).result == expected  # a plain string


@pytest.mark.parametrize("operation", ["merge_contacts", ""])
def test_a_job_of_an_unknown_operation_has_no_result(operation: str) -> None:
    assert BulkJob(id=JOB_ID, status="done", operation=operation).result is None


# --- FastAPI -----------------------------------------------------------------------------


async def test_fastapi_returns_the_models_as_json() -> None:
    from fastapi import FastAPI
    from httpx import ASGITransport, AsyncClient

    app = FastAPI()

    @app.get("/contact")
    def contact() -> dict[str, Any]:
        return FULL_CONTACT.to_dict()

    @app.get("/job")
    def job() -> dict[str, Any]:
        return JOB_PROCESSING_MODEL.to_dict(by_alias=True)

    async with AsyncClient(transport=ASGITransport(app), base_url="http://test") as http:
        contact_json = (await http.get("/contact")).json()
        job_json = (await http.get("/job")).json()

    assert Contact.from_dict(contact_json) == FULL_CONTACT
    assert job_json == JOB_PROCESSING
