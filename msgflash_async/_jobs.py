"""Awaitable handles for bulk operations, which the server may run as background jobs.

A bulk delete or a member add/remove is answered inline (fewer than 100 ids) or queued as a
job (100 or more). Either way the caller gets one :class:`BulkJobHandle`; awaiting it polls
the job's progress endpoint every ``poll_interval`` seconds (2 s, as the API documents) until
the job ends. Requests of more than 10,000 ids are split, and one handle covers every part.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

import attrs

from ._clock import Clock
from ._errors import (
    ConflictError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    MsgFlashError,
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

__all__ = ["BulkJobHandle", "BulkResult", "JobProgress", "combine_results", "result_of_job"]

BulkResult = BulkDeleteResult | AddMembersResult | RemoveMembersResult
R = TypeVar("R", bound=BulkResult)

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


def _count(summary: Any, key: str) -> int:
    value = summary.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def result_of_job(job: BulkJob) -> BulkResult:
    """The typed result a job's counters describe, by the job's operation."""
    summary = job.summary
    if job.operation == JobOperation.BULK_DELETE_CONTACTS:
        return BulkDeleteResult(
            requested=job.requested_count,
            deleted=_count(summary, "deleted"),
            not_found=_count(summary, "notFound"),
        )
    if job.operation == JobOperation.ADD_TO_GROUP:
        return AddMembersResult(
            added=_count(summary, "added"),
            already_in_group=_count(summary, "alreadyInGroup"),
            not_found=_count(summary, "notFound"),
            total=job.requested_count,
        )
    if job.operation == JobOperation.REMOVE_FROM_GROUP:
        return RemoveMembersResult(
            removed=_count(summary, "removed"), not_in_group=_count(summary, "notInGroup")
        )
    raise MsgFlashError(
        f"bulk job {job.id} has an operation this SDK does not know: {job.operation}"
    )


def combine_results(results: Sequence[R]) -> R:
    """One result that sums the counters of several parts of the same operation."""
    first = results[0]
    if len(results) == 1:
        return first
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(first)):
        values = [getattr(result, field.name) for result in results]
        if field.type in (int, "int"):
            changes[field.name] = sum(values)
        else:  # not_found_ids: known only if every part listed them
            lists = [value for value in values if value is not None]
            changes[field.name] = (
                tuple(item for listed in lists for item in listed)
                if len(lists) == len(values)
                else None
            )
    return attrs.evolve(first, **changes)


def _result_size(result: BulkResult) -> int:
    if isinstance(result, BulkDeleteResult):
        return result.requested
    if isinstance(result, AddMembersResult):
        return result.total
    return result.removed + result.not_in_group


@attrs.define
class _Part(Generic[R]):
    """One request's share of the work: answered inline, or a server job."""

    result: R | None = None
    job: BulkJob | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or (self.job is not None and self.job.is_terminal)


class JobsBackend:
    """What a handle needs from the client: the progress and cancel endpoints, a clock."""

    def __init__(
        self,
        *,
        progress: Callable[[str], Awaitable[BulkJob]],
        cancel: Callable[[str], Awaitable[BulkJob]],
        clock: Clock,
        poll_interval: float,
    ) -> None:
        self.progress = progress
        self.cancel = cancel
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
        result_of: Callable[[BulkJob], R],
    ) -> None:
        self._parts: list[_Part[R]] = [self._part(part) for part in parts]
        self._backend = backend
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
    def done(self) -> bool:
        """Whether every part has ended, as far as the handle knows without polling."""
        return all(part.finished for part in self._parts)

    def progress(self) -> JobProgress:
        """The latest known progress, without a request."""
        processed = requested = 0
        statuses: list[JobStatus | str] = []
        for part in self._parts:
            if part.result is not None:
                size = _result_size(part.result)
                processed, requested = processed + size, requested + size
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

    async def wait(
        self, *, timeout: float | None = None, on_progress: ProgressCallback | None = None
    ) -> R:
        """Poll until every part ends; return the combined result.

        Raises :class:`JobFailedError` or :class:`JobCancelledError` if a job did not finish,
        and :class:`JobTimeoutError` after ``timeout`` seconds (the job keeps running).
        """
        async for snapshot in self.watch(timeout=timeout):
            if on_progress is not None:
                outcome = on_progress(snapshot)
                if inspect.isawaitable(outcome):
                    await outcome
        return self._outcome()

    async def watch(self, *, timeout: float | None = None) -> AsyncIterator[JobProgress]:
        """Yield a progress snapshot now and after each poll, until every part has ended."""
        clock = self._backend.clock
        deadline = None if timeout is None else clock.monotonic() + timeout
        snapshot = self.progress()
        yield snapshot
        while not snapshot.is_terminal:
            await self._wait_for_poll(deadline)
            snapshot = await self.refresh()
            yield snapshot

    async def refresh(self) -> JobProgress:
        """Poll every unfinished job once, now, and return the new progress."""
        self._last_poll = self._backend.clock.monotonic()
        for part in self._parts:
            if part.job is not None and not part.finished:
                part.job = await self._backend.progress(part.job.id)
        return self.progress()

    async def cancel(self) -> R:
        """Cancel every unfinished job on the server; return the result of the work done."""
        for part in self._parts:
            if part.job is not None and not part.finished:
                try:
                    part.job = await self._backend.cancel(part.job.id)
                except ConflictError:  # it ended meanwhile; read how
                    part.job = await self._backend.progress(part.job.id)
        return self._combined()

    async def _wait_for_poll(self, deadline: float | None) -> None:
        clock = self._backend.clock
        now = clock.monotonic()
        wake = self._last_poll + self._backend.poll_interval
        if deadline is not None and wake > deadline:
            if deadline > now:
                await clock.sleep(deadline - now)
            raise JobTimeoutError(
                f"bulk job {', '.join(self.job_ids)} still running after the timeout",
                job_id=", ".join(self.job_ids),
            )
        if wake > now:
            await clock.sleep(wake - now)

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
