"""Typed, frozen value classes for what the API returns.

Attributes are snake_case; the converter in ``_converter`` maps them from the camelCase wire
format. Parsing is lenient, as the specification asks: unknown fields are ignored and every
field but the identifiers takes a default when missing.

Every model but ``Page`` also has a plain form: ``to_dict()`` gives a dict that ``json.dumps``
takes as it is (snake_case keys, or the wire's camelCase with ``by_alias=True``), and
``from_dict()`` reads either form back into an equal model.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
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
M = TypeVar("M", bound="_PlainForm")


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


def camel_case(name: str) -> str:
    """A snake_case attribute name as the wire's camelCase key: ``created_at`` -> ``createdAt``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _PlainForm:
    """What every model but ``Page`` shares: a plain, JSON-ready dict form, and back."""

    __slots__ = ()

    def to_dict(self, *, by_alias: bool = False) -> dict[str, Any]:
        """This model as a dict that ``json.dumps`` takes as it is.

        Keys are the attribute names, or the wire's camelCase with ``by_alias=True``.
        Datetimes become ISO-8601 text in UTC ending ``Z``, enums their values, tuples lists,
        mappings dicts (nested ones too); a status or operation the SDK does not know stays
        the string it was. Keys inside ``meta`` and ``summary`` are data and stay as they are.
        """
        return self._to_dict_function(by_alias)(self)

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """The model a ``to_dict()`` result describes, with either kind of keys (or a mix).

        Unknown keys are ignored and a missing field takes its default, as when decoding
        an answer. Datetime fields take ISO-8601 text or datetimes. Raises
        ``InvalidInputError`` naming the field (``data`` when it is no mapping) when a
        required field is missing or a value has the wrong type.
        """
        model: M = cls._from_dict_function()(data)
        return model

    # The converter makes these functions, once per model; it is imported here, not at the
    # top, as it imports this module.
    @classmethod
    @functools.cache
    def _to_dict_function(cls, by_alias: bool) -> Callable[[Any], dict[str, Any]]:
        from ._converter import make_to_dict

        return make_to_dict(cls, by_alias=by_alias)

    @classmethod
    @functools.cache
    def _from_dict_function(cls) -> Callable[[Mapping[str, Any]], Any]:
        from ._converter import make_from_dict

        return make_from_dict(cls)


@attrs.frozen
class Contact(_PlainForm):
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
class ContactGroup(_PlainForm):
    """A contact group; ``contact_count`` is its current number of members."""

    id: str
    name: str = ""
    description: str | None = None
    color: str | None = None
    contact_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class BulkJob(_PlainForm):
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

    @property
    def result(self) -> BulkDeleteResult | AddMembersResult | RemoveMembersResult | None:
        """The typed result the job's counters describe, by its operation, as an inline
        answer gives it; ``None`` for an operation this SDK does not know.

        A counter that ``summary`` does not hold is ``None`` in the result: not known.
        """
        result_of = _RESULT_OF_JOB.get(self.operation)
        return None if result_of is None else result_of(self)


@attrs.frozen
class JobAccepted(_PlainForm):
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
class BulkDeleteResult(_PlainForm):
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
class AddMembersResult(_PlainForm):
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
class RemoveMembersResult(_PlainForm):
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


def _count(summary: Mapping[str, Any], key: str) -> int | None:
    value = summary.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bulk_delete_result(job: BulkJob) -> BulkDeleteResult:
    return BulkDeleteResult(
        requested=job.requested_count,
        deleted=_count(job.summary, "deleted"),
        not_found=_count(job.summary, "notFound"),
        processed=job.processed_count,
    )


def _add_members_result(job: BulkJob) -> AddMembersResult:
    return AddMembersResult(
        added=_count(job.summary, "added"),
        already_in_group=_count(job.summary, "alreadyInGroup"),
        not_found=_count(job.summary, "notFound"),
        total=job.requested_count,
        processed=job.processed_count,
    )


def _remove_members_result(job: BulkJob) -> RemoveMembersResult:
    return RemoveMembersResult(
        removed=_count(job.summary, "removed"),
        not_in_group=_count(job.summary, "notInGroup"),
        requested=job.requested_count,
        processed=job.processed_count,
    )


_RESULT_OF_JOB: Mapping[
    str, Callable[[BulkJob], BulkDeleteResult | AddMembersResult | RemoveMembersResult]
] = {
    JobOperation.BULK_DELETE_CONTACTS: _bulk_delete_result,
    JobOperation.ADD_TO_GROUP: _add_members_result,
    JobOperation.REMOVE_FROM_GROUP: _remove_members_result,
}
"""How a job of each known operation gives its result (a known operation may arrive as a
plain string: the enum's members hash and compare as their values)."""


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
