"""``client.jobs``: bulk jobs (endpoints J1 to J4) and handles to follow them."""

from __future__ import annotations

from .._errors import ConflictError
from .._jobs import BulkJobHandle, BulkResult, result_of_job
from .._models import BulkJob, JobStatus
from .._pagination import AsyncPaginator
from .._validation import path_id
from ._base import APIResource

__all__ = ["JobsResource"]

_PATH = "/api/v1/contacts/bulk-jobs"


def _job_path(job_id: str) -> str:
    return f"{_PATH}/{path_id('job_id', job_id)}"


class JobsResource(APIResource):
    """Bulk jobs of the workspace: bulk deletes and member adds or removes."""

    def list(
        self, *, limit: int | None = None, cursor: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[BulkJob]:
        """Every job, newest first."""
        return self._paginate(
            _PATH, BulkJob, ("jobs",), {}, limit=limit, cursor=cursor, max_items=max_items
        )

    async def get(self, job_id: str) -> BulkJob:
        """A job's current state."""
        return self._decode(await self._request("GET", _job_path(job_id)), BulkJob)

    async def progress(self, job_id: str) -> BulkJob:
        """A job's current state from the progress endpoint, the one meant for polling."""
        return self._decode(await self._request("GET", f"{_job_path(job_id)}/progress"), BulkJob)

    async def cancel(self, job_id: str) -> BulkJob:
        """Cancel a pending or processing job; the work done so far is kept.

        A re-send after an unknown outcome that meets 409 (the job already ended) returns the
        job's state instead, since the first attempt may be what ended it.
        """
        try:
            response = await self._request(
                "POST", f"{_job_path(job_id)}/cancel", resend_after_unknown_outcome=True
            )
        except ConflictError as exc:
            if exc.is_replay:
                return await self.get(job_id)
            raise
        return self._decode(response, BulkJob)

    def handle(self, job_id: str) -> BulkJobHandle[BulkResult]:
        """A handle on an existing job, e.g. one started by another process.

        ``await`` it like the handles that bulk methods return; the result type follows the
        job's operation.
        """
        path_id("job_id", job_id)
        return BulkJobHandle(
            [BulkJob(id=job_id, status=JobStatus.PENDING)],
            backend=self._jobs,
            result_of=result_of_job,
        )
