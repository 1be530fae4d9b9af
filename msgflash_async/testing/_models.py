"""The stored resources: contacts, contact groups and bulk jobs, with their JSON shapes (§3)."""

from __future__ import annotations

import uuid
from typing import Literal, get_args

import attrs

from ._index import Key, SortedKeyList
from ._json import JSONObject, JSONValue

Operation = Literal["bulk_delete_contacts", "add_to_group", "remove_from_group"]
"""A bulk operation, as named in the job's ``operation`` field."""

JobStatus = Literal["pending", "processing", "done", "failed", "cancelled"]
"""A job's ``status``."""

OUTCOMES: dict[Operation, tuple[str, ...]] = {
    "bulk_delete_contacts": ("deleted", "notFound"),
    "add_to_group": ("added", "alreadyInGroup", "notFound"),
    "remove_from_group": ("removed", "notInGroup"),
}
"""The possible outcomes for one id, per operation: the keys of the job's ``summary``."""

TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({"done", "failed", "cancelled"})

JobIdKey = Literal["id", "jobId"]
"""The key of a job object's id: ``id`` as in §3.4, or ``jobId`` as in the 202 body."""

ProgressBody = Literal["full", "counts", "status"]
"""What J3 answers: the J2 body, or only ``status``, ``progress`` and ``processedCount``, or
only ``status`` (§5.7 leaves the difference between J2 and J3 open)."""

_PROGRESS_FIELDS: dict[ProgressBody, tuple[str, ...] | None] = {
    "full": None,
    "counts": ("status", "progress", "processedCount"),
    "status": ("status",),
}


def new_id() -> str:
    """A fresh lowercase UUID4."""
    return str(uuid.uuid4())


@attrs.define(eq=False)
class Contact:
    """A contact (§3.1)."""

    id: str
    name: str
    phone: str
    tags: list[str]
    meta: JSONObject
    created_at: str
    updated_at: str

    @property
    def created_key(self) -> Key:
        """The key of the ``createdAt_desc`` order."""
        return (self.created_at, self.id)

    @property
    def name_key(self) -> Key:
        """The key of the ``name_asc`` order: the casefolded name, then the id."""
        return (self.name.casefold(), self.id)

    def to_json(self) -> JSONObject:
        """The Contact object of the API."""
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "tags": list(self.tags),
            "meta": self.meta,
            "temperature": None,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@attrs.define(eq=False)
class Group:
    """A contact group (§3.2) and its members, indexed by ``(addedAt, contact id)``."""

    id: str
    name: str
    description: str | None
    color: str | None
    created_at: str
    updated_at: str
    members: dict[str, str] = attrs.field(factory=dict)
    """Contact id to ``addedAt``."""
    member_index: SortedKeyList = attrs.field(factory=SortedKeyList)

    @property
    def key(self) -> Key:
        """The key of the group order."""
        return (self.created_at, self.id)

    @property
    def contact_count(self) -> int:
        """The current number of members."""
        return len(self.members)

    def add_member(self, contact_id: str, added_at: str) -> None:
        """Make ``contact_id`` a member since ``added_at``; it must not be one already."""
        self.members[contact_id] = added_at
        self.member_index.add((added_at, contact_id))

    def remove_member(self, contact_id: str) -> bool:
        """Remove ``contact_id``; tell whether it was a member."""
        added_at = self.members.pop(contact_id, None)
        if added_at is None:
            return False
        self.member_index.remove((added_at, contact_id))
        return True

    def to_json(self) -> JSONObject:
        """The ContactGroup object of the API."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "color": self.color,
            "contactCount": self.contact_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@attrs.define(eq=False)
class Job:
    """A bulk job (§3.4) over distinct contact ids, handled in request order."""

    id: str
    operation: Operation
    group_id: str | None
    contact_ids: list[str]
    created_at: str
    updated_at: str
    status: JobStatus = "pending"
    processed_count: int = 0
    summary: dict[str, int] = attrs.field()
    error: str | None = None
    completed_at: str | None = None

    @summary.default
    def _zeroed_summary(self) -> dict[str, int]:
        return dict.fromkeys(OUTCOMES[self.operation], 0)

    @property
    def key(self) -> Key:
        """The key of the job order."""
        return (self.created_at, self.id)

    @property
    def requested_count(self) -> int:
        """The number of distinct ids requested."""
        return len(self.contact_ids)

    @property
    def progress(self) -> int:
        """``processedCount / requestedCount`` as a percentage rounded half up (§4.4)."""
        requested = self.requested_count
        return (200 * self.processed_count + requested) // (2 * requested)

    @property
    def is_terminal(self) -> bool:
        """Whether the job is ``done``, ``failed`` or ``cancelled``."""
        return self.status in TERMINAL_STATUSES

    def end(self, status: JobStatus, at: str, error: str | None = None) -> None:
        """Move to the terminal ``status`` at time ``at``, keeping the work done."""
        self.status = status
        self.error = error
        self.updated_at = self.completed_at = at

    def to_json(self) -> JSONObject:
        """The BulkJob object of the API."""
        summary: dict[str, JSONValue] = dict(self.summary)
        return {
            "id": self.id,
            "operation": self.operation,
            "status": self.status,
            "requestedCount": self.requested_count,
            "processedCount": self.processed_count,
            "progress": self.progress,
            "groupId": self.group_id,
            "summary": summary,
            "error": self.error,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "completedAt": self.completed_at,
        }

    def progress_json(self, body: ProgressBody) -> JSONObject:
        """The J3 body: the whole BulkJob, or only the fields ``body`` names."""
        full = self.to_json()
        fields = _PROGRESS_FIELDS[body]
        return full if fields is None else {name: full[name] for name in fields}

    def accepted_json(self) -> JSONObject:
        """The job-accepted object of a 202 answer (§3.5)."""
        body: JSONObject = {
            "mode": "async",
            "jobId": self.id,
            "status": self.status,
            "operation": self.operation,
            "requestedCount": self.requested_count,
            "progress": self.progress,
        }
        if self.group_id is not None:
            body["groupId"] = self.group_id
        body["message"] = (
            f"Bulk operation queued. Check status via GET /api/contacts/bulk-jobs/{self.id}"
        )
        return body


@attrs.frozen
class JobFormat:
    """How the server writes job objects: the key of their id, and the J3 body.

    Both options mimic shapes the vendor leaves open (§5.7), so SDK tests can cover them.
    """

    id_key: JobIdKey = attrs.field(default="id", validator=attrs.validators.in_(get_args(JobIdKey)))
    progress_body: ProgressBody = attrs.field(
        default="full", validator=attrs.validators.in_(get_args(ProgressBody))
    )

    def job(self, job: Job) -> JSONObject:
        """The BulkJob of J1, J2 and J4."""
        return self._keyed(job.to_json())

    def progress(self, job: Job) -> JSONObject:
        """The J3 body."""
        return self._keyed(job.progress_json(self.progress_body))

    def _keyed(self, body: JSONObject) -> JSONObject:
        if self.id_key == "id" or "id" not in body:
            return body
        return {("jobId" if key == "id" else key): value for key, value in body.items()}
