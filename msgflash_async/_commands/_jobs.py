"""``msgflash jobs list | watch ID | cancel ID``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._client import MsgFlash
from .._jobs import BulkResult, JobProgress
from .._models import BulkJob
from ._shell import Settings, json_option, note, show_list, show_record, stderr_console

__all__ = ["jobs"]


@click.group()
def jobs() -> None:
    """Bulk jobs: bulk deletes and member adds or removes."""


@jobs.command("list")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show at most this many jobs, newest first; 0 for all.",
)
@json_option
@click.pass_obj
def list_jobs(settings: Settings, limit: int, as_json: bool) -> None:
    """List the workspace's bulk jobs, newest first."""

    async def fetch(client: MsgFlash) -> list[BulkJob]:
        return [job async for job in client.jobs.list(max_items=limit or None)]

    columns = ("id", "operation", "status", "processed_count", "requested_count", "created_at")
    show_list([job.to_dict() for job in settings.call(fetch)], as_json, columns)


@contextlib.contextmanager
def _progress_view(console: Console, job_id: str) -> Iterator[Callable[[JobProgress], None]]:
    """A progress callback: a live bar on a terminal, else a line each time the job moves.

    A handle starts knowing nothing of the job: snapshots before the first poll are skipped.
    """
    if console.is_terminal:
        columns = (
            TextColumn("job {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(job_id, total=None, status="")

            def draw(progress: JobProgress) -> None:
                if progress.requested:
                    bar.update(
                        task,
                        completed=progress.processed,
                        total=progress.requested,
                        status=str(progress.status),
                    )

            yield draw
        return
    shown = ""

    def line(progress: JobProgress) -> None:
        nonlocal shown
        text = (
            f"job {job_id} {progress.status}: {progress.processed}/{progress.requested} "
            f"({progress.percent}%)"
        )
        if progress.requested and text != shown:
            shown = text
            note(text)

    yield line


@jobs.command()
@click.argument("job_id", metavar="ID")
@json_option
@click.pass_obj
def watch(settings: Settings, job_id: str, as_json: bool) -> None:
    """Follow a job until it ends: a progress bar on a terminal, a line per change otherwise.

    Exits 1 if the job fails or is cancelled.
    """

    async def follow(client: MsgFlash) -> BulkResult:
        with _progress_view(stderr_console(), job_id) as on_progress:
            return await client.jobs.handle(job_id).wait(on_progress=on_progress)

    result = settings.call(
        follow, hint=f"The job goes on; follow it again: msgflash jobs watch {job_id}"
    )
    show_record(result.to_dict(), as_json, title=f"job {job_id}")


@jobs.command()
@click.argument("job_id", metavar="ID")
@json_option
@click.pass_obj
def cancel(settings: Settings, job_id: str, as_json: bool) -> None:
    """Cancel a pending or processing job; the work done so far is kept."""

    job = settings.call(lambda client: client.jobs.cancel(job_id))
    show_record(job.to_dict(), as_json, title=f"job {job_id}")
