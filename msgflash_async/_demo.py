"""``msgflash demo``: a tour of the SDK against the bundled local server, in seconds.

It imports contacts through ``import_many`` while the server injects faults, streams the
group they joined, and bulk deletes them, printing the few lines of code behind each step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from ._client import DEFAULT_POLL_INTERVAL, MsgFlash
from ._importing import ImportProgress
from ._jobs import JobProgress

__all__ = ["run_demo"]

DEMO_ROWS = 300
DEMO_RATE_LIMIT = 50
"""Requests per second the demo's server allows (the real API allows 10), to finish quickly."""


def demo_rows(count: int) -> Iterator[dict[str, Any]]:
    """``count`` rows as a CSV file would give them: three faulty ones among them."""
    for index in range(1, count - 2):
        yield {"name": f"Contact {index}", "phone": f"+22997{index:06d}", "tags": ["demo"]}
    yield {"name": "Bad Phone", "phone": "0612345678"}  # not E.164
    yield {"phone": "+22998000000"}  # no name
    yield {"name": "Contact 1 again", "phone": "+22997000001"}  # the first row's phone


async def run_demo(
    *,
    rows: int = DEMO_ROWS,
    rate_limit: int = DEMO_RATE_LIMIT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    echo: Callable[[str], None] = print,
) -> None:
    """Start a local server, then import, stream and bulk delete contacts through it."""
    from .testing import FaultConfig, FaultProfile, LocalMsgFlash  # only the demo needs it

    started = time.monotonic()

    def say(message: str) -> None:
        echo(f"[{time.monotonic() - started:5.1f}s] {message}")

    def code(*lines: str) -> None:
        for line in lines:
            echo(f"         >>> {line}")

    last_shown = [0.0]

    def show_import(progress: ImportProgress) -> None:
        if progress.elapsed - last_shown[0] >= 1.0 or progress.rows == progress.total:
            last_shown[0] = progress.elapsed
            eta = "" if progress.eta is None else f", about {progress.eta:.0f} s left"
            say(f"  {progress.rows}/{progress.total} rows: {progress.created} created{eta}")

    def show_job(progress: JobProgress) -> None:
        say(f"  job {progress.status}: {progress.processed}/{progress.requested}")

    faults = FaultConfig(
        routes={"contacts.create": FaultProfile(service_unavailable=0.05, drop_after=0.02)}
    )
    async with LocalMsgFlash(rate_limit=rate_limit, faults=faults, seed=7) as server:
        say(f"local MsgFlash server on {server.base_url}")
        say(f"it allows {rate_limit} requests/s per key for this demo (the real API: 10)")
        say("and it injects faults: 5% of creates answer 503, 2% are processed and then")
        say("the connection drops, so the client cannot know whether they were")
        code(f"client = MsgFlash(api_key, base_url=..., rate_limit={rate_limit})")
        async with MsgFlash(
            server.api_key,
            base_url=server.base_url,
            rate_limit=rate_limit,
            job_poll_interval=poll_interval,
        ) as client:
            code('group = await client.groups.create(name="Demo group")')
            group = await client.groups.create(name="Demo group", color="#25D366")
            say(f"created group {group.name!r} -> {group.id}")

            say(f"importing {rows} rows, three of them faulty, into the group:")
            code(
                "report = await client.contacts.import_many(",
                "    rows, group_id=group.id, total=len(rows), on_progress=show)",
            )
            report = await client.contacts.import_many(
                demo_rows(rows), group_id=group.id, total=rows, on_progress=show_import
            )
            say(
                f"imported in {report.elapsed:.1f} s: {report.created} created, "
                f"{len(report.invalid)} invalid, {len(report.duplicates)} duplicate, "
                f"{len(report.failed)} failed, {report.added_to_group} added to the group"
            )
            for problem in report.invalid:
                say(f"  row {problem.row} invalid: {problem.field} {problem.reason}")
            for duplicate in report.duplicates:
                say(f"  row {duplicate.row} repeats the phone of row {duplicate.first_row}")
            stats = client.stats
            say(
                f"the SDK sent {stats.retries} requests again after faults; the server holds "
                f"{len(server.workspace().contacts)} contacts: none twice"
            )

            code("async for member in client.groups.members(group.id): ...")
            count = 0
            async for _member in client.groups.members(group.id):
                count += 1
            say(f"streamed {count} members, a page of 100 at a time")

            server.faults = FaultConfig()
            code(
                "ids = [member.id async for member in client.groups.members(group.id)]",
                "deleted = await client.contacts.bulk_delete(ids)  # a job, awaited",
            )
            ids = [member.id async for member in client.groups.members(group.id)]
            deleting = await client.contacts.bulk_delete(ids)
            say(f"bulk deleting {len(ids)} contacts: job {deleting.id}")
            deleted = await deleting.wait(on_progress=show_job)
            say(f"deleted {deleted.deleted}, not found {deleted.not_found}")

            group = await client.groups.get(group.id)
            say(f"group {group.name!r} now has {group.contact_count} members; done")
