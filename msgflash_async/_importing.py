"""Bulk import of contacts: the rows, their validation, the report, and the engine.

``contacts.import_many`` runs ``concurrency`` workers, and no other task. A worker with no
row to send reads the next batch: it numbers the rows from 1, checks each with the checks
``contacts.create`` runs, and claims its phone in the store (``_import_store.py``), where a
phone seen before is a duplicate or, on a re-run, a row done already. The rows to send wait
in a deque no longer than a batch; each worker creates one contact at a time through
``contacts.create``. Memory stays flat whatever the number of rows: the phones live in
SQLite, and the report keeps details only of the rows not created.
"""

from __future__ import annotations

import asyncio
import inspect
import operator
import os
import time
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

import anyio
import attrs

from ._clock import Clock
from ._errors import (
    APIStatusError,
    BadRequestError,
    ConflictError,
    ImportAbortedError,
    InvalidInputError,
    MsgFlashError,
    NotFoundError,
    UnprocessableEntityError,
)
from ._import_store import DONE_STATES, SAVE_INTERVAL, SENDING, ImportStore
from ._validation import (
    MAX_IDS_PER_REQUEST,
    check_count,
    check_meta,
    check_name,
    check_phone,
    check_tags,
    path_id,
)
from .resources._base import _find_id, _is_own

if TYPE_CHECKING:
    from ._models import Contact
    from .resources.contacts import ContactsResource
    from .resources.groups import GroupsResource

__all__ = [
    "ContactInput",
    "ExistingContact",
    "ImportProgress",
    "ImportReport",
    "RowDuplicate",
    "RowProblem",
    "UnreadableRow",
    "import_rows",
    "validate_contact",
]

GROUP_BATCH = MAX_IDS_PER_REQUEST
"""Contact ids per member-add job: a job starts as soon as this many are waiting."""
MAX_CONCURRENCY = 1000
"""The most workers an import may run (the client's ``max_in_flight`` caps requests too)."""
MAX_GROUP_JOBS = 4
"""The most member-add jobs running at once; more ids wait for one of them to end."""
MIN_BATCH = 16
MAX_BATCH = 500
"""A worker reads ``concurrency`` rows at once, at least ``MIN_BATCH`` and at most
``MAX_BATCH``: one commit each."""
PROGRESS_INTERVAL = 0.1
"""The least time, in seconds, between two progress calls (the last call aside)."""

OnExisting = Literal["skip", "update", "fail"]
_ON_EXISTING = ("skip", "update", "fail")


@attrs.frozen(init=False)
class ContactInput:
    """A contact to create, checked as ``contacts.create`` checks its arguments.

    Making one raises ``InvalidInputError`` naming the field at fault; ``tags`` becomes a
    tuple and ``meta`` a plain copy.
    """

    name: str
    phone: str
    """E.164, such as ``+33612345000``."""
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = attrs.field(factory=dict)

    def __init__(
        self,
        name: str,
        phone: str,
        tags: Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.__attrs_init__(check_name(name), check_phone(phone), _tags(tags), _meta(meta))


# Most rows have neither tags nor meta: an empty one needs no check, and skipping
# ``check_meta`` (which encodes the value as JSON twice) keeps each row cheap.


def _tags(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)) and not value:
        return ()
    return tuple(check_tags(value))


def _meta(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None or (isinstance(value, dict) and not value):
        return {}
    return check_meta(value)


@attrs.frozen
class UnreadableRow:
    """A row a reader could not make into a mapping (a line that is not a JSON object):
    reported as invalid, with ``reason`` and no field."""

    reason: str


Row = Mapping[str, Any] | ContactInput | UnreadableRow
"""One row of an import."""


def validate_contact(row: Mapping[str, Any] | ContactInput) -> ContactInput:
    """``row`` as a ``ContactInput``, checked as ``contacts.create`` checks its arguments.

    A mapping needs ``name`` and ``phone``; ``tags`` and ``meta`` may be left out (``None``
    counts as left out) and other keys are ignored. Raises ``InvalidInputError`` naming
    the field at fault. A ``ContactInput`` is returned as it is: it was checked when made.
    """
    if isinstance(row, ContactInput):
        return row
    if not _is_mapping(row):
        raise InvalidInputError(
            "row", f"must be a mapping or a ContactInput, not {type(row).__name__}"
        )
    name = row.get("name")
    phone = row.get("phone")
    tags = row.get("tags")
    meta = row.get("meta")
    if name is None:
        raise InvalidInputError("name", "is required")
    if phone is None:
        raise InvalidInputError("phone", "is required")
    return ContactInput(name, phone, () if tags is None else tags, meta)


def _is_mapping(row: object) -> TypeGuard[Mapping[str, Any]]:
    # A dict first: checking against the Mapping ABC costs ten times as much.
    return isinstance(row, (dict, Mapping))


@attrs.frozen
class RowProblem:
    """A row not imported: refused before sending (``invalid``) or by the server (``failed``)."""

    row: int
    """The row's number, from 1 in input order."""
    field: str | None
    """The field at fault; ``None`` when it is the row as a whole, or the server did not say."""
    reason: str
    """Why; for a server's refusal, the error's class and message."""


@attrs.frozen
class RowDuplicate:
    """A row whose phone an earlier row of the input already gave: not sent."""

    row: int
    phone: str
    first_row: int
    """The row that gave the phone first."""


@attrs.frozen
class ExistingContact:
    """A row whose phone belonged to a contact on the server already."""

    row: int
    phone: str
    existing_id: str
    """The id of the contact holding the phone."""
    updated: bool
    """Whether that contact was updated with the row's name, tags and meta."""


@attrs.frozen
class ImportReport:
    """What an import did. The tuples hold only the rows not created, in row order."""

    created: int
    existing: tuple[ExistingContact, ...]
    updated: int
    """How many of ``existing`` were updated."""
    invalid: tuple[RowProblem, ...]
    duplicates: tuple[RowDuplicate, ...]
    failed: tuple[RowProblem, ...]
    resumed: int
    """Rows done by an earlier run with the same checkpoint: skipped without a request."""
    added_to_group: int
    already_in_group: int
    elapsed: float
    """Seconds the import took."""
    rows: int
    """Rows read."""

    @property
    def ok(self) -> bool:
        """Whether every row was imported: none invalid, none failed."""
        return not self.invalid and not self.failed


@attrs.frozen
class ImportProgress:
    """A snapshot of an import under way, for ``on_progress``."""

    rows: int
    """Rows handled so far: each is one of created, existing (updated or not), invalid,
    duplicates, failed or resumed."""
    total: int | None
    """The rows expected, when the caller said."""
    created: int
    existing: int
    updated: int
    invalid: int
    duplicates: int
    failed: int
    resumed: int
    added_to_group: int
    elapsed: float
    """Seconds since the import started."""
    eta: float | None
    """Seconds left: the rows left at the client's request rate, or at the rate observed so
    far when the client is not paced; ``None`` without ``total``."""


ProgressCallback = Callable[[ImportProgress], object]
"""An ``on_progress`` callback: a function, or a coroutine function."""
CreateChecked = Callable[[ContactInput], Awaitable["Contact"]]
"""``contacts.create`` for a contact checked already."""


async def import_rows(
    contacts: ContactsResource,
    groups: GroupsResource,
    rows: Iterable[Row] | AsyncIterable[Row],
    *,
    create: CreateChecked,
    on_existing: OnExisting,
    group_id: str | None,
    checkpoint: str | os.PathLike[str] | None,
    concurrency: int,
    total: int | None,
    on_progress: ProgressCallback | None,
    workspace: str,
    rate: int | None,
    clock: Clock,
) -> ImportReport:
    """The engine of ``contacts.import_many``: the arguments are checked before anything else,
    then the store is opened (and closed at the end, whatever happens). ``create`` sends a
    contact as ``contacts.create`` does, without checking it again."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, (Iterable, AsyncIterable)):
        raise InvalidInputError(
            "rows", f"must be an iterable or async iterable of rows, not {type(rows).__name__}"
        )
    if on_existing not in _ON_EXISTING:
        raise InvalidInputError(
            "on_existing", f"must be one of skip, update or fail, got {on_existing!r}"
        )
    if group_id is not None:
        path_id("group_id", group_id)
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise InvalidInputError(
            "checkpoint", f"must be a file path or None, not {type(checkpoint).__name__}"
        )
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise InvalidInputError(
            "concurrency",
            f"must be a whole number from 1 to {MAX_CONCURRENCY}, got {concurrency!r}",
        )
    if total is not None:
        check_count("total", total)
    if on_progress is not None and not callable(on_progress):
        raise InvalidInputError("on_progress", "must be callable or None")
    store = ImportStore.open(checkpoint, workspace=workspace, group_id=group_id)
    try:
        importer = _Importer(
            contacts,
            groups,
            store,
            create=create,
            on_existing=on_existing,
            group_id=group_id,
            concurrency=concurrency,
            total=total,
            on_progress=on_progress,
            rate=rate,
            clock=clock,
        )
        return await importer.run(rows)
    finally:
        store.close()


_Item = tuple[int, ContactInput, float | None]
"""A row ready to send: its number, the contact, and when an earlier run sent it (if it did,
and never learnt the answer)."""
_END = object()
"""The end of the rows."""

_ROW_ERRORS = (BadRequestError, UnprocessableEntityError)
"""Errors that refuse one row only; any other stops the import."""
_EXISTING_ROW_ERRORS = (*_ROW_ERRORS, ConflictError, NotFoundError)
"""The same, once the phone is known to exist: its holder may go meanwhile (a 404), and a
409 is the row's own under ``on_existing="fail"``."""


class _Importer:
    """One run of an import: ``concurrency`` workers and the group's jobs.

    A worker that finds no row ready reads the next ``batch`` rows, numbering, checking and
    claiming them in the store, then commits their claims at once, before any is sent:
    one commit per batch, and no task but the workers.
    """

    def __init__(
        self,
        contacts: ContactsResource,
        groups: GroupsResource,
        store: ImportStore,
        *,
        create: CreateChecked,
        on_existing: OnExisting,
        group_id: str | None,
        concurrency: int,
        total: int | None,
        on_progress: ProgressCallback | None,
        rate: int | None,
        clock: Clock,
    ) -> None:
        self._contacts = contacts
        self._create = create
        self._groups = groups
        self._store = store
        self._on_existing = on_existing
        self._group_id = group_id
        self._concurrency = concurrency
        self._batch = min(max(concurrency, MIN_BATCH), MAX_BATCH)
        self._total = total
        self._on_progress = on_progress
        self._rate = rate
        self._clock = clock
        self._ready: deque[_Item] = deque()
        self._reading = asyncio.Lock()
        self._exhausted = False
        self._error: Exception | None = None
        """The error that stopped the import, if one did."""
        self._started = clock.monotonic()
        self._last_progress = float("-inf")
        self._rows = self._created = self._updated = self._resumed = 0
        self._added = self._already_in_group = 0
        self._existing: list[ExistingContact] = []
        self._invalid: list[RowProblem] = []
        self._duplicates: list[RowDuplicate] = []
        self._failed: list[RowProblem] = []
        self._to_add: list[tuple[int, str]] = []
        """(row, contact id) waiting for the next member-add job."""
        self._group_jobs: set[asyncio.Future[None]] = set()

    async def run(self, rows: Iterable[Row] | AsyncIterable[Row]) -> ImportReport:
        iterator: Iterator[Row] | AsyncIterator[Row] = (
            aiter(rows) if isinstance(rows, AsyncIterable) else iter(rows)
        )
        workers: list[asyncio.Future[None]] = []
        try:
            try:
                if self._group_id is not None:
                    await self._groups.get(self._group_id)  # a wrong id stops it before any row
            except Exception as error:
                self._stop(error)
            workers = [
                asyncio.ensure_future(self._work(iterator)) for _ in range(self._concurrency)
            ]
            await asyncio.gather(*workers)
            while self._error is None and self._to_add:
                await self._start_group_job(1)
            if self._error is None:
                await asyncio.gather(*self._group_jobs)
        except BaseException:
            await _cancel([*workers, *self._group_jobs])
            raise
        finally:
            if isinstance(iterator, Generator):
                iterator.close()
            elif isinstance(iterator, AsyncGenerator):
                await iterator.aclose()
        if self._error is not None:
            await _cancel(self._group_jobs)  # their ids stay unconfirmed: a re-run sends them
        await self._report_progress(final=True)
        report = self._report()
        if isinstance(self._error, MsgFlashError):
            raise ImportAbortedError(
                f"the import stopped after {report.rows} rows read, on "
                f"{type(self._error).__name__}: {self._error}",
                report=report,
            ) from self._error
        if self._error is not None:
            raise self._error
        return report

    def _stop(self, error: Exception) -> None:
        """Stop reading and sending: rows in flight finish, rows read are not sent."""
        if self._error is None:
            self._error = error

    async def _work(self, rows: Iterator[Row] | AsyncIterator[Row]) -> None:
        # Per row, only what must wait is a coroutine: this loop runs a million times.
        while self._error is None:
            try:
                if self._ready:
                    await self._send(*self._ready.popleft())
                elif self._exhausted:
                    return
                else:
                    await self._read(rows)
                if len(self._to_add) >= GROUP_BATCH:
                    await self._start_group_job(GROUP_BATCH)
                if self._on_progress is not None:
                    await self._report_progress()
            except Exception as error:
                self._stop(error)

    # --- reading ---------------------------------------------------------------------------

    async def _read(self, rows: Iterator[Row] | AsyncIterator[Row]) -> None:
        """Read, check and claim the next batch of rows, unless another worker just did.

        A batch ends after ``batch`` rows or, for an async source, once its first row has
        waited ``SAVE_INTERVAL`` for the others. Its rows become ready to send, and their
        claims are committed, with no await in between: no row leaves before its claim.
        """
        async with self._reading:
            if self._ready or self._exhausted:
                return
            checked: list[tuple[int, ContactInput]] = []
            deadline = None
            if not isinstance(rows, Iterator):
                deadline = self._clock.monotonic() + SAVE_INTERVAL
            for _ in range(self._batch):
                row = next(rows, _END) if isinstance(rows, Iterator) else await anext(rows, _END)
                if row is _END:
                    self._exhausted = True
                    break
                contact = self._check(row)
                if contact is not None:
                    checked.append((self._rows, contact))
                if deadline is not None and self._clock.monotonic() >= deadline:
                    break
            if checked:
                self._claim(checked)
            self._store.save()

    def _check(self, row: object) -> ContactInput | None:
        """Number ``row`` and check it; ``None`` when it is invalid (and so reported)."""
        self._rows += 1
        if isinstance(row, UnreadableRow):
            self._invalid.append(RowProblem(self._rows, None, row.reason))
            return None
        if not isinstance(row, ContactInput) and not _is_mapping(row):
            reason = f"must be a mapping or a ContactInput, not {type(row).__name__}"
            self._invalid.append(RowProblem(self._rows, None, reason))
            return None
        try:
            return validate_contact(row)
        except InvalidInputError as error:
            self._invalid.append(RowProblem(self._rows, error.field, error.message))
            return None

    def _claim(self, checked: list[tuple[int, ContactInput]]) -> None:
        """Make each of the ``checked`` rows ready to send, claiming its phone, or account
        for it: a duplicate, or done by an earlier run."""
        now = time.time()  # wall clock: compared with the server's createdAt after a crash
        known = self._store.lookup({contact.phone for _, contact in checked})
        first_rows: dict[str, int] = {}
        for number, contact in checked:
            phone = contact.phone
            stored = known.get(phone)
            if stored is None:
                first_row = first_rows.setdefault(phone, number)
                if first_row == number:
                    self._ready.append((number, contact, None))
                else:
                    self._duplicates.append(RowDuplicate(number, phone, first_row))
            elif stored.row != number:
                self._duplicates.append(RowDuplicate(number, phone, stored.row))
            elif stored.state in DONE_STATES:
                self._resumed += 1
                if stored.contact_id is not None and not stored.grouped:
                    self._add_to_group(number, stored.contact_id)
            elif stored.state == SENDING:  # an earlier run sent it and never saw the answer
                self._ready.append((number, contact, stored.sent_at))
            else:  # it failed in an earlier run: try again
                self._store.resend(phone, number, now)
                self._ready.append((number, contact, None))
        self._store.claim(first_rows.items(), now)

    # --- sending ---------------------------------------------------------------------------

    async def _send(self, number: int, contact: ContactInput, sent_before: float | None) -> None:
        try:
            created = await self._create(contact)
        except ConflictError as conflict:
            try:
                await self._on_conflict(number, contact, conflict, sent_before)
            except _EXISTING_ROW_ERRORS as error:
                self._fail(number, error)
        except _ROW_ERRORS as error:
            self._fail(number, error)
        else:
            self._created_as(number, created.id)

    async def _on_conflict(
        self,
        number: int,
        contact: ContactInput,
        conflict: ConflictError,
        sent_before: float | None,
    ) -> None:
        """The phone is taken: by the contact an earlier run's unanswered request created, or
        by another; raises ``conflict`` when the row fails for it."""
        phone = contact.phone
        holder_id = conflict.existing_id or await _find_id(
            self._contacts.list(search=phone), lambda found: found.phone == phone
        )
        if holder_id is None:
            raise conflict
        if sent_before is not None:
            holder = await self._contacts.get(holder_id)
            if _is_own(holder, create_body(contact), sent_before):
                self._created_as(number, holder_id)
                return
        if self._on_existing == "fail":
            raise conflict
        updated = self._on_existing == "update"
        if updated:
            await self._contacts.update(
                holder_id, name=contact.name, tags=contact.tags, meta=contact.meta
            )
            self._updated += 1
        self._store.finish(number, "updated" if updated else "existing", holder_id)
        self._existing.append(ExistingContact(number, phone, holder_id, updated))
        self._add_to_group(number, holder_id)

    def _created_as(self, number: int, contact_id: str) -> None:
        self._store.finish(number, "created", contact_id)
        self._created += 1
        if self._group_id is not None:
            self._add_to_group(number, contact_id)

    def _fail(self, number: int, error: APIStatusError) -> None:
        reason = f"{type(error).__name__}: {error.message}"
        if isinstance(error, ConflictError) and error.existing_id is not None:
            reason += f" (existing id {error.existing_id})"
        self._store.finish(number, "failed", None)
        self._failed.append(RowProblem(number, _field_of(error), reason))

    # --- the group -------------------------------------------------------------------------

    def _add_to_group(self, number: int, contact_id: str) -> None:
        if self._group_id is not None:
            self._to_add.append((number, contact_id))

    async def _start_group_job(self, at_least: int) -> None:
        """Add up to ``GROUP_BATCH`` of the ids waiting to the group, in the background, if
        ``at_least`` are waiting once a job may start."""
        # Contacts may come faster than jobs add them: wait rather than hold more ids.
        while len(self._group_jobs) >= MAX_GROUP_JOBS:
            await asyncio.wait(self._group_jobs, return_when=asyncio.FIRST_COMPLETED)
        if len(self._to_add) < at_least or self._group_id is None:
            return
        batch, self._to_add = self._to_add[:GROUP_BATCH], self._to_add[GROUP_BATCH:]
        job = asyncio.ensure_future(self._add_members(self._group_id, batch))
        self._group_jobs.add(job)
        job.add_done_callback(self._group_jobs.discard)

    async def _add_members(self, group_id: str, batch: list[tuple[int, str]]) -> None:
        try:
            handle = await self._groups.add_members(
                group_id, [contact_id for _, contact_id in batch], resend_if_unknown=True
            )
            result = await handle
        except Exception as error:
            self._stop(error)
            return
        self._store.confirm_grouped([number for number, _ in batch])
        self._added += result.added or 0
        self._already_in_group += result.already_in_group or 0

    # --- reporting -------------------------------------------------------------------------

    def _handled(self) -> int:
        return (
            self._created
            + len(self._existing)
            + len(self._invalid)
            + len(self._duplicates)
            + len(self._failed)
            + self._resumed
        )

    async def _report_progress(self, *, final: bool = False) -> None:
        """Call ``on_progress``, unless it was called less than ``PROGRESS_INTERVAL`` ago."""
        now = self._clock.monotonic()
        if self._on_progress is None or (
            not final and now - self._last_progress < PROGRESS_INTERVAL
        ):
            return
        self._last_progress = now
        outcome = self._on_progress(self._progress(now - self._started))
        if inspect.isawaitable(outcome):
            await outcome

    def _progress(self, elapsed: float) -> ImportProgress:
        handled = self._handled()
        rate = self._rate or (handled / elapsed if elapsed > 0 else None)
        eta = None
        if self._total is not None and rate:
            eta = max(self._total - handled, 0) / rate
        return ImportProgress(
            rows=handled,
            total=self._total,
            created=self._created,
            existing=len(self._existing),
            updated=self._updated,
            invalid=len(self._invalid),
            duplicates=len(self._duplicates),
            failed=len(self._failed),
            resumed=self._resumed,
            added_to_group=self._added,
            elapsed=elapsed,
            eta=eta,
        )

    def _report(self) -> ImportReport:
        by_row = operator.attrgetter("row")
        return ImportReport(
            created=self._created,
            existing=tuple(sorted(self._existing, key=by_row)),
            updated=self._updated,
            invalid=tuple(self._invalid),
            duplicates=tuple(self._duplicates),
            failed=tuple(sorted(self._failed, key=by_row)),
            resumed=self._resumed,
            added_to_group=self._added,
            already_in_group=self._already_in_group,
            elapsed=self._clock.monotonic() - self._started,
            rows=self._rows,
        )


def create_body(contact: ContactInput) -> dict[str, Any]:
    """The body of a create of ``contact``: empty tags and meta are left out, as
    ``contacts.create`` leaves out those not given."""
    body: dict[str, Any] = {"name": contact.name, "phone": contact.phone}
    if contact.tags:
        body["tags"] = list(contact.tags)
    if contact.meta:
        body["meta"] = dict(contact.meta)
    return body


def _field_of(error: APIStatusError) -> str | None:
    """The first field the server's error details name, if any."""
    if isinstance(error.details, list):
        for entry in error.details:
            if isinstance(entry, dict) and isinstance(entry.get("field"), str):
                return str(entry["field"])
    return None


async def _cancel(tasks: Iterable[asyncio.Future[None]]) -> None:
    """Cancel ``tasks`` and wait for them to end, even while this task is being cancelled."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    with anyio.CancelScope(shield=True):
        await asyncio.gather(*pending, return_exceptions=True)
