"""A real import process stopped part-way (``kill -9``, Ctrl-C) and run again: every phone
ends on the server once, and the rows its checkpoint had done are not sent again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from msgflash_async.testing import LocalMsgFlash, LoggedRequest

from .conftest import ServerFactory

ROWS = 130
RATE = 100
"""The importing process's pace: a burst of ``RATE`` creates, then none for a second. The
server allows twice as much: the second process's burst overlaps the first one's."""
STOP_AFTER = 50
"""Contacts created when the first process is stopped: within its burst, so it cannot have
finished (at most ``RATE`` are made before the pause)."""
CONTACTS = "/api/v1/contacts"

IMPORTER = """
import asyncio, json, signal, sys
from msgflash_async import MsgFlash

async def main():
    if sys.version_info < (3, 11):  # Ctrl-C cancels the import, as docs/imports.md advises
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, asyncio.current_task().cancel)
    rows = ({"name": f"Contact {n}", "phone": f"+4420{n:07d}"} for n in range(int(sys.argv[2])))
    async with MsgFlash(rate_limit=int(sys.argv[3])) as client:
        report = await client.contacts.import_many(rows, checkpoint=sys.argv[1], concurrency=4)
    print(json.dumps({
        "rows": report.rows, "created": report.created, "resumed": report.resumed,
        "existing": len(report.existing), "duplicates": len(report.duplicates),
        "invalid": len(report.invalid), "failed": len(report.failed),
    }))

asyncio.run(main())
"""


def phone(number: int) -> str:
    return f"+4420{number:07d}"


class CreatesSeen:
    """A server middleware that sets ``reached`` once ``count`` contacts were created."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.reached = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path == CONTACTS and request.method == "POST" and response.status == 201:
            self.count -= 1
            if self.count <= 0:
                self.reached.set()
        return response


async def start_import(server: LocalMsgFlash, checkpoint: Path) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "MSGFLASH_API_KEY": server.api_key,
        "MSGFLASH_BASE_URL": server.base_url,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        IMPORTER,
        str(checkpoint),
        str(ROWS),
        str(RATE),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def done_in(checkpoint: Path) -> set[str]:
    """The phones the checkpoint records as done."""
    connection = sqlite3.connect(checkpoint)
    try:
        found = connection.execute(
            "SELECT phone FROM phones JOIN outcomes ON outcomes.row = phones.row"
            " WHERE state IN ('created', 'existing', 'updated')"
        ).fetchall()
    finally:
        connection.close()
    return {phone for (phone,) in found}


def creates(requests: list[LoggedRequest]) -> list[str]:
    return [
        str(request.body["phone"])
        for request in requests
        if request.method == "POST" and request.path == CONTACTS and isinstance(request.body, dict)
    ]


def phones_on(server: LocalMsgFlash) -> list[str]:
    return sorted(contact.phone for contact in server.workspace().contacts.values())


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
async def test_an_import_stopped_part_way_resumes_without_resending_or_duplicating(
    serve: ServerFactory, tmp_path: Path, stop: signal.Signals
) -> None:
    seen = CreatesSeen(STOP_AFTER)
    server = await serve(middlewares=[seen.middleware], rate_limit=2 * RATE)
    checkpoint = tmp_path / "import.sqlite3"

    first = await start_import(server, checkpoint)
    with anyio.fail_after(60):  # generous: a loaded machine is slow, never this slow
        await seen.reached.wait()
        first.send_signal(stop)
        await first.communicate()
    assert first.returncode != 0
    done = done_in(checkpoint)
    made_before = set(phones_on(server))
    assert STOP_AFTER <= len(made_before) < ROWS  # stopped part-way
    assert done <= made_before
    if stop == signal.SIGINT:  # committed on the way out: all but the rows in flight
        assert len(made_before - done) <= 4
    server.clear_requests()

    second = await start_import(server, checkpoint)
    with anyio.fail_after(60):
        output, errors = await second.communicate()
    assert second.returncode == 0, errors.decode()
    report: dict[str, Any] = json.loads(output)

    assert phones_on(server) == [phone(n) for n in range(ROWS)]  # each once
    assert (report["rows"], report["resumed"], report["existing"]) == (ROWS, len(done), 0)
    assert report["created"] + report["resumed"] == ROWS
    assert (report["duplicates"], report["invalid"], report["failed"]) == (0, 0, 0)
    sent_again = creates(server.requests)
    assert not done & set(sent_again)  # nothing done was sent again
    assert sorted(sent_again) == sorted({phone(n) for n in range(ROWS)} - done)  # each once
