"""Awaitable handles for bulk operations, which the server may run as background jobs.

A bulk delete or a member add/remove is answered inline (fewer than 100 ids) or queued as a
job (100 or more). Either way the caller gets one ``BulkJobHandle``; awaiting it polls
the job's progress endpoint every ``poll_interval`` seconds (2 s, as the API documents) until
the job ends. Requests of more than 10,000 ids are split, and one handle covers every part.

A poll needs nothing but the job's ``status`` (§5.7): the handle already knows the job's id
and operation, and keeps what an answer leaves out. A job that ends without its summary in
the poll is fetched once from the job endpoint for it.

A handle's ``token`` is a short string that rebuilds it in another process (``jobs.resume``):
``mfj1.`` then, in base64url without padding, six bytes of the SHA-256 of a compact JSON
document followed by that document: ``{"op": <operation or null>, "parts": [...]}``, where a
part is ``{"job": <id>, "n": <ids requested>}`` or ``{"result": <an inline result's fields>}``.
The checksum catches a damaged or edited token; it is no signature (there is no secret in a
token): a token names jobs, and only a key of their workspace can read them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import inspect
import re
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import anyio
import attrs

from . import _json
from ._clock import Clock
from ._errors import (
    ConflictError,
    InvalidInputError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    MsgFlashError,
    clip,
)
from ._models import (
    TERMINAL_STATUSES,
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    JobAccepted,
    JobOperation,
    JobStatus,
    RemoveMembersResult,
)
from ._validation import path_id

__all__ = [
    "BulkJobHandle",
    "BulkResult",
    "JobProgress",
    "combine_results",
    "handle_from_token",
    "result_of_job",
]

BulkResult = BulkDeleteResult | AddMembersResult | RemoveMembersResult
R = TypeVar("R", bound=BulkResult)

_RESULT_TYPES: Mapping[JobOperation, type[BulkResult]] = {
    JobOperation.BULK_DELETE_CONTACTS: BulkDeleteResult,
    JobOperation.ADD_TO_GROUP: AddMembersResult,
    JobOperation.REMOVE_FROM_GROUP: RemoveMembersResult,
}
"""The result type of each operation the SDK knows."""
_OPERATIONS = {result_type: operation for operation, result_type in _RESULT_TYPES.items()}

ProgressCallback = Callable[["JobProgress"], Awaitable[None] | None]


@attrs.frozen
class JobProgress:
    """A snapshot of a bulk operation: every part taken together."""

    status: JobStatus | str
    processed: int
    requested: int
    jobs: tuple[BulkJob, ...]
    """The latest state of each server job behind the handle (none for inline answers)."""

    @property
    def percent(self) -> int:
        """Processed over requested, in whole percent rounded half up."""
        if self.requested <= 0:
            return 100 if self.is_terminal else 0
        return (200 * self.processed + self.requested) // (2 * self.requested)

    @property
    def is_terminal(self) -> bool:
        """Whether every part has ended."""
        return self.status in TERMINAL_STATUSES


def result_of_job(job: BulkJob) -> BulkResult:
    """The typed result a job's counters describe, by the job's operation (``job.result``).

    A counter the job's summary does not hold is ``None`` in the result: not known.
    """
    result = job.result
    if result is None:
        raise MsgFlashError(
            f"bulk job {job.id} has an operation this SDK does not know: "
            f"{job.operation or 'none was given'}"
        )
    return result


def _check_result_type(result_type: object) -> JobOperation:
    """The operation whose result ``result_type`` is; refuses any other type."""
    for known, operation in _OPERATIONS.items():
        if result_type is known:
            return operation
    names = ", ".join(known.__name__ for known in _OPERATIONS)
    raise InvalidInputError("result_type", f"must be one of {names}, got {result_type!r}")


def _results_of(result_type: type[R]) -> Callable[[BulkJob], R]:
    """The conversion of a job to ``result_type``, refusing a job of another operation."""

    def result_of(job: BulkJob) -> R:
        result = result_of_job(job)
        if not isinstance(result, result_type):
            raise MsgFlashError(
                f"bulk job {clip(job.id)} is a {clip(str(job.operation))} job; expected a "
                f"result of {result_type.__name__}"
            )
        return result

    return result_of


def _lacks_summary(job: BulkJob) -> bool:
    """Whether no answer so far carried the job's operation or its summary."""
    return not job.operation or not job.summary


_BARE_JOB = BulkJob(id="", status="")
_LEFT_OUT = {
    name: getattr(_BARE_JOB, name)
    for name in attrs.fields_dict(BulkJob)
    if name not in ("id", "status")
}
"""The value each optional job field takes when an answer leaves it out."""


def _merge(known: BulkJob, answer: BulkJob) -> BulkJob:
    """``answer`` over ``known``, keeping what the answer left out (and the known id)."""
    changes = {
        name: value
        for name, left_out in _LEFT_OUT.items()
        if (value := getattr(answer, name)) != left_out
    }
    return attrs.evolve(known, status=answer.status, **changes)


def combine_results(results: Sequence[R]) -> R:
    """One result for several parts of the same operation: counters summed, id lists joined.

    A value that some part does not know (``None``) is not known for the whole either.
    """
    first = results[0]
    if len(results) == 1:
        return first
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(first)):
        values = [getattr(result, field.name) for result in results]
        if any(value is None for value in values):
            changes[field.name] = None
        elif isinstance(values[0], tuple):
            changes[field.name] = tuple(item for listed in values for item in listed)
        else:
            changes[field.name] = sum(values)
    return attrs.evolve(first, **changes)


@attrs.define
class _Part(Generic[R]):
    """One request's share of the work: answered inline, or a server job."""

    result: R | None = None
    job: BulkJob | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or (self.job is not None and self.job.is_terminal)


class JobsBackend:
    """What a handle needs from the client: the job endpoints, a clock and the poll interval.

    ``get`` reads a job (J2) for the summary that the other answers left out; without it, such
    a job's result leaves its breakdown unknown.
    """

    def __init__(
        self,
        *,
        progress: Callable[[str], Awaitable[BulkJob]],
        cancel: Callable[[str], Awaitable[BulkJob]],
        clock: Clock,
        poll_interval: float,
        get: Callable[[str], Awaitable[BulkJob]] | None = None,
    ) -> None:
        self.progress = progress
        self.cancel = cancel
        self.get = get
        self.clock = clock
        self.poll_interval = poll_interval


class BulkJobHandle(Generic[R]):
    """A bulk operation the server has accepted: ``result = await handle``.

    The result comes at once for an inline answer; for a job, awaiting polls the progress
    endpoint until the job ends. ``wait()`` takes a timeout and a progress callback,
    ``watch()`` yields progress snapshots, ``cancel()`` stops the job on the server.
    Cancelling the task that awaits the handle only stops the polling; the job goes on.
    """

    def __init__(
        self,
        parts: Sequence[JobAccepted | BulkJob | R],
        *,
        backend: JobsBackend,
        result_type: type[R] | None = None,
        result_of: Callable[[BulkJob], R] | None = None,
    ) -> None:
        """A handle over ``parts``, whose jobs give results of ``result_type``.

        Without ``result_type``, a job's result follows its operation. ``result_of`` replaces
        the conversion of a job to a result.
        """
        self._parts: list[_Part[R]] = [self._part(part) for part in parts]
        self._backend = backend
        self._operation = None if result_type is None else _check_result_type(result_type)
        if result_of is None:
            result_of = (
                cast(Callable[[BulkJob], R], result_of_job)
                if result_type is None
                else _results_of(result_type)
            )
        self._result_of = result_of
        self._last_poll = (
            backend.clock.monotonic()
            if any(isinstance(part, JobAccepted) for part in parts)
            else float("-inf")
        )

    @staticmethod
    def _part(part: JobAccepted | BulkJob | R) -> _Part[R]:
        if isinstance(part, JobAccepted):
            return _Part(
                job=BulkJob(
                    id=part.job_id,
                    status=part.status,
                    operation=part.operation,
                    requested_count=part.requested_count,
                    group_id=part.group_id,
                    progress=part.progress,
                )
            )
        if isinstance(part, BulkJob):
            return _Part(job=part)
        return _Part(result=part)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The ids of the server jobs behind this handle (empty when answered inline)."""
        return tuple(part.job.id for part in self._parts if part.job is not None)

    @property
    def id(self) -> str | None:
        """The job id when exactly one server job is behind this handle, else ``None``."""
        ids = self.job_ids
        return ids[0] if len(ids) == 1 else None

    @property
    def token(self) -> str:
        """A short URL-safe string from which ``client.jobs.resume`` rebuilds this handle.

        It holds the job ids, the operation and the results answered inline, so that another
        process, or this one after a restart, can await the same result. It holds no key and
        no URL: resume it with a client of the same workspace.
        """
        operation = self._operation or _operation_of(self._parts)
        parts: list[dict[str, Any]] = []
        for part in self._parts:
            if part.result is not None:
                parts.append({"result": attrs.asdict(part.result)})
            elif part.job is not None:
                parts.append({"job": part.job.id, "n": part.job.requested_count})
        document = _json.dumps({"op": operation and operation.value, "parts": parts})
        packed = base64.urlsafe_b64encode(_checksum(document) + document).rstrip(b"=")
        return f"{_TOKEN_TAG}.{packed.decode()}"

    @property
    def done(self) -> bool:
        """Whether every part has ended, as far as the handle knows without polling."""
        return all(part.finished for part in self._parts)

    def progress(self) -> JobProgress:
        """The latest known progress, without a request."""
        processed = requested = 0
        statuses: list[JobStatus | str] = []
        for part in self._parts:
            if part.result is not None:  # an inline answer handled every id it was sent
                processed += part.result.processed
                requested += part.result.processed
                statuses.append(JobStatus.DONE)
            elif part.job is not None:
                processed += part.job.processed_count
                requested += part.job.requested_count
                statuses.append(part.job.status)
        return JobProgress(
            status=_overall_status(statuses),
            processed=processed,
            requested=requested,
            jobs=tuple(part.job for part in self._parts if part.job is not None),
        )

    def __await__(self) -> Generator[Any, None, R]:
        return self.wait().__await__()

    # A ``timeout`` argument, not the caller's cancel scope (ASYNC109): the handle plans its
    # polls around the deadline, and running out raises JobTimeoutError, not a cancellation.
    async def wait(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        on_progress: ProgressCallback | None = None,
    ) -> R:
        """Poll until every part ends; return the combined result.

        Raises ``JobFailedError`` or ``JobCancelledError`` if a job did not finish,
        and ``JobTimeoutError`` after ``timeout`` seconds, cutting short a poll still in
        flight then (the job keeps running).
        """
        async for snapshot in self.watch(timeout=timeout):
            if on_progress is not None:
                outcome = on_progress(snapshot)
                if inspect.isawaitable(outcome):
                    await outcome
        return self._outcome()

    async def watch(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[JobProgress]:
        """Yield a progress snapshot now and after each poll, until every part has ended.

        Raises ``JobTimeoutError`` after ``timeout`` seconds, as ``wait`` does.
        """
        clock = self._backend.clock
        deadline = None if timeout is None else clock.monotonic() + timeout
        snapshot = self.progress()
        yield snapshot
        while not snapshot.is_terminal:
            await self._wait_for_poll(deadline)
            snapshot = await self._refresh_by(deadline)
            yield snapshot

    async def refresh(self) -> JobProgress:
        """Poll every unfinished job once, now, and return the new progress."""
        self._last_poll = self._backend.clock.monotonic()
        for part in self._parts:
            if part.job is not None and not part.finished:
                part.job = await self._settle(part.job, await self._backend.progress(part.job.id))
        return self.progress()

    async def cancel(self) -> R:
        """Cancel every unfinished job on the server; return the result of the work done."""
        for part in self._parts:
            if part.job is not None and not part.finished:
                try:
                    answer = await self._backend.cancel(part.job.id)
                except ConflictError:  # it ended meanwhile; read how
                    answer = await self._backend.progress(part.job.id)
                part.job = await self._settle(part.job, answer)
        return self._combined()

    async def _settle(self, known: BulkJob, answer: BulkJob) -> BulkJob:
        """What is known of a job after ``answer``; once it has ended, with its summary, read
        once from the job endpoint if no answer carried it.
        """
        job = _merge(known, answer)
        if job.is_terminal and self._backend.get is not None and _lacks_summary(job):
            job = _merge(job, await self._backend.get(job.id))
        return job

    async def _refresh_by(self, deadline: float | None) -> JobProgress:
        """``refresh``, cut short at ``deadline``: a slow poll must not outlast the wait."""
        if deadline is None:
            return await self.refresh()
        with anyio.move_on_after(deadline - self._backend.clock.monotonic()):
            return await self.refresh()
        raise self._timeout_error()

    async def _wait_for_poll(self, deadline: float | None) -> None:
        clock = self._backend.clock
        now = clock.monotonic()
        wake = self._last_poll + self._backend.poll_interval
        if deadline is not None and wake >= deadline:
            if deadline > now:
                await clock.sleep(deadline - now)
            raise self._timeout_error()
        if wake > now:
            await clock.sleep(wake - now)

    def _timeout_error(self) -> JobTimeoutError:
        ids = ", ".join(self.job_ids)
        return JobTimeoutError(
            f"bulk job {ids} still running after the timeout, as far as the handle knows",
            job_id=ids,
        )

    def _combined(self) -> R:
        results: list[R] = []
        for part in self._parts:
            if part.result is not None:
                results.append(part.result)
            elif part.job is not None:
                results.append(self._result_of(part.job))
        return combine_results(results)

    def _outcome(self) -> R:
        for part in self._parts:
            if part.job is not None and part.job.status == JobStatus.FAILED:
                raise JobFailedError(job_id=part.job.id, error=part.job.error, job=part.job)
        for part in self._parts:
            if part.job is not None and part.job.status == JobStatus.CANCELLED:
                raise JobCancelledError(job_id=part.job.id, partial=self._combined(), job=part.job)
        return self._combined()


def _overall_status(statuses: Sequence[JobStatus | str]) -> JobStatus | str:
    """One status for several parts: the worst ending once all have ended."""
    if all(status in TERMINAL_STATUSES for status in statuses):
        for status in (JobStatus.FAILED, JobStatus.CANCELLED):
            if status in statuses:
                return status
        return JobStatus.DONE
    if len(statuses) == 1:
        return statuses[0]
    if all(status == JobStatus.PENDING for status in statuses):
        return JobStatus.PENDING
    return JobStatus.PROCESSING


# --- tokens -------------------------------------------------------------------------------

_TOKEN_TAG = "mfj1"
_TOKEN = re.compile(r"(mfj[0-9]+)\.([A-Za-z0-9_-]+)")
_CHECKSUM_SIZE = 6
_RESULT_HINTS = {result_type: typing.get_type_hints(result_type) for result_type in _OPERATIONS}
"""The annotated type of every field of each result type, to check a token's results."""


def _checksum(document: bytes) -> bytes:
    return hashlib.sha256(document).digest()[:_CHECKSUM_SIZE]


def _operation_of(parts: Sequence[_Part[Any]]) -> JobOperation | None:
    """The operation of a handle's parts: by an inline result's type, or a job's operation."""
    for part in parts:
        if part.result is not None:
            return _OPERATIONS.get(type(part.result))
        if part.job is not None and part.job.operation in _RESULT_TYPES:
            return JobOperation(part.job.operation)
    return None


def handle_from_token(
    token: object, *, backend: JobsBackend, result_type: type[R] | None
) -> BulkJobHandle[Any]:
    """The handle a ``BulkJobHandle.token`` describes, checked against ``result_type``.

    Raises ``InvalidInputError`` naming ``token`` when the token is not one this SDK
    made, or is of another operation than ``result_type``'s.
    """
    expected = None if result_type is None else _check_result_type(result_type)
    operation, parts = _read_token(token)
    if expected is not None and operation not in (None, expected):
        raise InvalidInputError(
            "token",
            f"is a handle of {operation} jobs, whose result is "
            f"{_RESULT_TYPES[operation].__name__}, not {_RESULT_TYPES[expected].__name__}",
        )
    operation = operation or expected
    return BulkJobHandle(
        [
            BulkJob(
                id=part[0],
                status=JobStatus.PENDING,
                operation=operation or "",
                requested_count=part[1],
            )
            if isinstance(part, tuple)
            else part
            for part in parts
        ],
        backend=backend,
        result_type=None if operation is None else _RESULT_TYPES[operation],
    )


def _invalid_token(reason: str) -> InvalidInputError:
    return InvalidInputError("token", f"is not a job handle token of msgflash-async: {reason}")


def _read_token(token: object) -> tuple[JobOperation | None, list[tuple[str, int] | BulkResult]]:
    """The operation and the parts (a job's id and size, or an inline result) of a token."""
    if not isinstance(token, str):
        raise InvalidInputError("token", f"must be a string, not {type(token).__name__}")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise _invalid_token("expected 'mfj1.' and base64url text")
    tag, packed = match.groups()
    if tag != _TOKEN_TAG:
        raise _invalid_token(f"{tag} tokens come from another version of msgflash-async")
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    except binascii.Error:
        raise _invalid_token("damaged base64url text") from None
    checksum, document = raw[:_CHECKSUM_SIZE], raw[_CHECKSUM_SIZE:]
    if checksum != _checksum(document):
        raise _invalid_token("damaged or edited (its checksum does not match)")
    try:
        content = _json.loads(document)
    except ValueError:
        raise _invalid_token("its content is not JSON") from None
    if not isinstance(content, dict) or content.keys() != {"op", "parts"}:
        raise _invalid_token("expected an object with 'op' and 'parts'")
    operation = _token_operation(content["op"])
    entries = content["parts"]
    if not isinstance(entries, list) or not entries:
        raise _invalid_token("'parts' must be a non-empty list")
    return operation, [_token_part(operation, entry, index) for index, entry in enumerate(entries)]


def _token_operation(value: object) -> JobOperation | None:
    if value is None:
        return None
    for operation in _RESULT_TYPES:
        if value == operation.value:
            return operation
    raise _invalid_token(f"unknown operation {value!r}")


def _token_part(
    operation: JobOperation | None, entry: object, index: int
) -> tuple[str, int] | BulkResult:
    where = f"parts[{index}]"
    if isinstance(entry, dict) and entry.keys() == {"job", "n"}:
        job_id, requested = entry["job"], entry["n"]
        try:
            path_id("job_id", job_id)
        except InvalidInputError as exc:
            raise _invalid_token(f"{where} holds no valid job id ({exc.message})") from None
        return job_id, _count_value(requested, f"{where}.n")
    if isinstance(entry, dict) and entry.keys() == {"result"}:
        if operation is None:
            raise _invalid_token(f"{where} is a result, but the token names no operation")
        return _token_result(_RESULT_TYPES[operation], entry["result"], f"{where}.result")
    raise _invalid_token(f"{where} must be {{'job', 'n'}} or {{'result'}}")


def _is_text(value: object) -> bool:
    """Whether ``value`` is a string that UTF-8 can encode, as the token's JSON must."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _count_value(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid_token(f"{where} must be a count")
    return value


def _token_result(result_type: type[BulkResult], value: object, where: str) -> BulkResult:
    """An inline result, each field checked against its annotation in the model."""
    hints = _RESULT_HINTS[result_type]
    if not isinstance(value, dict) or value.keys() != hints.keys():
        raise _invalid_token(f"{where} must hold the fields of {result_type.__name__}")
    fields: dict[str, Any] = {}
    for name, hint in hints.items():
        field = value[name]
        options = typing.get_args(hint) or (hint,)
        if field is None and type(None) in options:
            fields[name] = None
        elif tuple[str, ...] in options and isinstance(field, list):
            if not all(_is_text(item) for item in field):
                raise _invalid_token(f"{where}.{name} must be a list of ids")
            fields[name] = tuple(field)
        else:
            fields[name] = _count_value(field, f"{where}.{name}")
    return result_type(**fields)
