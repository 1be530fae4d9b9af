"""Typed, frozen value classes for what the API returns.

Attributes are snake_case; the converter in ``_converter`` maps them from the camelCase wire
format. Parsing is lenient, as the specification asks: unknown fields are ignored and every
field but the identifiers takes a default when missing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "AddMembersResult",
    "BulkDeleteResult",
    "BulkJob",
    "Contact",
    "ContactGroup",
    "GroupMember",
    "JobAccepted",
    "JobOperation",
    "JobStatus",
    "Page",
    "RemoveMembersResult",
]

T = TypeVar("T")


class JobStatus(str, enum.Enum):
    """The documented bulk-job statuses. A status the SDK does not know stays a plain ``str``."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


class JobOperation(str, enum.Enum):
    """The documented bulk-job operations. An operation the SDK does not know stays a ``str``."""

    BULK_DELETE_CONTACTS = "bulk_delete_contacts"
    ADD_TO_GROUP = "add_to_group"
    REMOVE_FROM_GROUP = "remove_from_group"

    def __str__(self) -> str:
        return self.value


TERMINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


@attrs.frozen
class Contact:
    """A contact of the workspace."""

    id: str
    name: str = ""
    phone: str = ""
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = attrs.field(factory=dict)
    temperature: Any = None
    """Undocumented by the vendor; kept as the raw JSON value."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class GroupMember(Contact):
    """A contact as a member of a group, with the time it joined."""

    added_at: datetime | None = None


@attrs.frozen
class ContactGroup:
    """A contact group; ``contact_count`` is its current number of members."""

    id: str
    name: str = ""
    description: str | None = None
    color: str | None = None
    contact_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class BulkJob:
    """A bulk job's state, as the job and progress endpoints report it.

    The id may come keyed ``jobId``. Only ``status`` is required of an answer about a known
    job; the progress endpoint may leave the rest out (§5.7), and those fields then keep
    their defaults.
    """

    id: str
    status: JobStatus | str
    operation: JobOperation | str = ""
    requested_count: int = 0
    processed_count: int = 0
    progress: int = 0
    """Percent done, 0 to 100; the end of a job is read from ``status``, not from this."""
    group_id: str | None = None
    summary: Mapping[str, Any] = attrs.field(factory=dict)
    """Per-operation counters, e.g. ``{"added": 2190, "alreadyInGroup": 80, "notFound": 30}``."""
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the job has ended (``done``, ``failed`` or ``cancelled``)."""
        return self.status in TERMINAL_STATUSES


@attrs.frozen
class JobAccepted:
    """The server's answer when it queues a bulk operation as a job (HTTP 202)."""

    job_id: str
    status: JobStatus | str
    operation: JobOperation | str = ""
    requested_count: int = 0
    group_id: str | None = None
    progress: int = 0
    message: str | None = None


def _sum_of(*counters: str) -> Any:
    """An attrs default: the sum of the named counters that are known."""

    def total(result: Any) -> int:
        return sum(getattr(result, name) or 0 for name in counters)

    return attrs.Factory(total, takes_self=True)


@attrs.frozen
class BulkDeleteResult:
    """The outcome of a bulk delete.

    ``not_found_ids`` lists the ids that matched no contact when the server answered inline;
    it is ``None`` when the work ran as a job, which reports only the count. ``deleted`` and
    ``not_found`` are ``None`` when a job's answers carried no breakdown (§5.7); ``processed``
    still says how many ids were handled.
    """

    requested: int = 0
    deleted: int | None = 0
    not_found: int | None = 0
    not_found_ids: tuple[str, ...] | None = None
    processed: int = attrs.field(default=_sum_of("deleted", "not_found"))
    """Ids handled: all of them unless the job was cancelled or failed first."""


@attrs.frozen
class AddMembersResult:
    """The outcome of adding members to a group.

    ``total`` counts the distinct ids requested. The three counters are ``None`` when a job's
    answers carried no breakdown (§5.7); ``processed`` still says how many ids were handled.
    """

    added: int | None = 0
    already_in_group: int | None = 0
    not_found: int | None = 0
    total: int = 0
    processed: int = attrs.field(default=_sum_of("added", "already_in_group", "not_found"))
    """Ids handled: all of them unless the job was cancelled or failed first."""


@attrs.frozen
class RemoveMembersResult:
    """The outcome of removing members from a group.

    The two counters are ``None`` when a job's answers carried no breakdown (§5.7);
    ``requested`` and ``processed`` still say how many ids were asked for and handled.
    """

    removed: int | None = 0
    not_in_group: int | None = 0
    requested: int = attrs.field(default=_sum_of("removed", "not_in_group"))
    """Distinct ids requested."""
    processed: int = attrs.field(default=_sum_of("removed", "not_in_group"))
    """Ids handled: all of them unless the job was cancelled or failed first."""


@attrs.frozen
class Page(Generic[T]):
    """One page of a cursor list."""

    items: tuple[T, ...]
    next_cursor: str | None
    has_more: bool
    total: int | None = None
    """How many items match, when the list reports it (bulk jobs do not)."""
    request_id: str | None = None
    cursor: str | None = None
    """The cursor this page was fetched with (``None`` for the first page)."""

    @property
    def is_last(self) -> bool:
        """Whether no page follows this one."""
        return not self.has_more or self.next_cursor is None
