"""``client.jobs``: bulk jobs (endpoints J1 to J4) and handles to follow them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from .._converter import structurer
from .._errors import ConflictError
from .._jobs import BulkJobHandle, BulkResult, handle_from_token
from .._models import BulkJob, JobStatus
from .._pagination import AsyncPaginator
from .._transport import Response
from .._validation import path_id
from ._base import APIResource, _decode_value

__all__ = ["JobsResource"]

_PATH = "/api/v1/contacts/bulk-jobs"

R = TypeVar("R", bound=BulkResult)


def _job_path(job_id: str) -> str:
    return f"{_PATH}/{path_id('job_id', job_id)}"


def _job_decoder(job_id: str) -> Callable[[Response], BulkJob]:
    """A decoder of an answer about job ``job_id``, which may leave the id out (§5.7)."""
    structure = structurer(BulkJob)

    def decode(response: Response) -> BulkJob:
        data = response.data
        if isinstance(data, dict) and "id" not in data and "jobId" not in data:
            data = {**data, "id": job_id}
        return _decode_value(response, data, structure)

    return decode


class JobsResource(APIResource):
    """Bulk jobs of the workspace: bulk deletes and member adds or removes.

    Job objects may name their id ``id`` or ``jobId``. An answer about one job needs only a
    ``status`` (the job's id is the one asked for); fields it leaves out keep their defaults.
    """

    def list(
        self, *, limit: int | None = None, cursor: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[BulkJob]:
        """Every job, newest first."""
        return self._paginate(
            _PATH, BulkJob, ("jobs",), {}, limit=limit, cursor=cursor, max_items=max_items
        )

    async def get(self, job_id: str) -> BulkJob:
        """A job's current state."""
        return await self._call("GET", _job_path(job_id), _job_decoder(job_id))

    async def progress(self, job_id: str) -> BulkJob:
        """A job's current state from the progress endpoint, the one meant for polling.

        The answer may be slimmer than ``get``'s, down to the status alone.
        """
        return await self._call("GET", f"{_job_path(job_id)}/progress", _job_decoder(job_id))

    async def cancel(self, job_id: str) -> BulkJob:
        """Cancel a pending or processing job; the work done so far is kept.

        A re-send after an unknown outcome that meets 409 (the job already ended) returns the
        job's state instead, since the first attempt may be what ended it.
        """
        try:
            return await self._call(
                "POST",
                f"{_job_path(job_id)}/cancel",
                _job_decoder(job_id),
                resend_after_unknown_outcome=True,
            )
        except ConflictError as exc:
            if exc.is_replay:
                return await self.get(job_id)
            raise

    @overload
    def handle(self, job_id: str) -> BulkJobHandle[BulkResult]: ...

    @overload
    def handle(self, job_id: str, result_type: type[R]) -> BulkJobHandle[R]: ...

    def handle(self, job_id: str, result_type: type[R] | None = None) -> BulkJobHandle[Any]:
        """A handle on an existing job, e.g. one started by another process.

        ``await`` it like the handles that bulk methods return. The result type follows the
        job's operation; name it, as in ``jobs.handle(job_id, AddMembersResult)``, for a
        handle typed accordingly, whose result refuses a job of another operation.
        """
        path_id("job_id", job_id)
        return BulkJobHandle(
            [BulkJob(id=job_id, status=JobStatus.PENDING)],
            backend=self._jobs,
            result_type=result_type,
        )

    @overload
    def resume(self, token: str) -> BulkJobHandle[BulkResult]: ...

    @overload
    def resume(self, token: str, result_type: type[R]) -> BulkJobHandle[R]: ...

    def resume(self, token: str, result_type: type[R] | None = None) -> BulkJobHandle[Any]:
        """The handle whose ``token`` this is, made in this process or another one.

        ``await client.jobs.resume(token, AddMembersResult)`` polls its jobs through this
        client, and combines them with the results answered inline, as the first handle
        would have. Without ``result_type`` the result type follows the operation the token
        names. Sends no request: a malformed or foreign token, or one of another operation
        than ``result_type``'s, raises ``InvalidInputError`` naming ``token``.
        """
        return handle_from_token(token, backend=self._jobs, result_type=result_type)
