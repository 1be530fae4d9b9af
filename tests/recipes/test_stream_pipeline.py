"""The streaming pipeline recipe, ``examples/stream_pipeline.py``, stopped part-way (``kill -9``,
Ctrl-C, a cancelled task) and run again: every member of the group lands in its table once,
in the group's order, and no page committed before the stop is fetched again."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from examples.stream_pipeline import Copied, copy_members
from msgflash_async import MsgFlash
from msgflash_async.testing import LocalMsgFlash, LoggedRequest

from .conftest import HANG_GUARD, Services, recipe_env

MEMBERS = 130
PAGE_SIZE = 20
PAGES = 7
"""Pages of ``PAGE_SIZE`` that hold ``MEMBERS``."""
STOP_AFTER = 3
"""Pages answered before the next page's request is held, and the copy stopped there."""
STOPPED_AT = STOP_AFTER * PAGE_SIZE
"""Members copied when the copy is stopped."""


class PageGate:
    """A server middleware answering ``STOP_AFTER`` member-list requests, then holding the
    next one until ``release()``: a copy stopped while it is held has committed exactly
    ``STOP_AFTER`` pages."""

    def __init__(self) -> None:
        self._left = STOP_AFTER
        self._holding = asyncio.Event()
        self.cursor: str | None = None
        """The cursor of the held request."""
        self._released = asyncio.Event()
        self._answered = asyncio.Event()

    async def holding(self) -> None:
        """Wait until a request is held."""
        with anyio.fail_after(HANG_GUARD):
            await self._holding.wait()

    async def release(self) -> None:
        """Answer the held request (to a copy that is gone), and wait until it is answered:
        the server logs it then. Requests after it are not held."""
        self._released.set()
        with anyio.fail_after(HANG_GUARD):
            await self._answered.wait()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        pages = request.method == "GET" and request.path.endswith("/members")
        if not pages or self._released.is_set():
            return await handler(request)
        if self._left:
            self._left -= 1
            return await handler(request)
        self.cursor = request.query.get("cursor")
        self._holding.set()
        await self._released.wait()
        try:
            return await handler(request)
        finally:
            self._answered.set()


@pytest.fixture
def gate() -> PageGate:
    """Holds the member pages after ``STOP_AFTER`` of them."""
    return PageGate()


@pytest.fixture
async def server(gate: PageGate) -> AsyncIterator[LocalMsgFlash]:
    """The local server, without a rate limit, holding member pages as ``gate`` says."""
    server = LocalMsgFlash(rate_limit=None, request_log_size=None)
    server.app.middlewares.append(gate.middleware)
    async with server:
        yield server


@pytest.fixture
def group_id(server: LocalMsgFlash) -> str:
    """A group of ``MEMBERS`` contacts."""
    workspace = server.workspace()
    group = workspace.add_group("Subscribers")
    workspace.add_members(group.id, [contact.id for contact in workspace.seed_contacts(MEMBERS)])
    return group.id


def copied_ids(database: Path) -> list[str]:
    """The ids in the recipe's table, in the order they were inserted."""
    with closing(sqlite3.connect(database)) as db:
        return [member_id for (member_id,) in db.execute("SELECT id FROM members ORDER BY rowid")]


def page_requests(server: LocalMsgFlash) -> list[LoggedRequest]:
    """The requests for a page of members the server logged."""
    return [request for request in server.requests if request.route == "groups.members.list"]


@pytest.mark.parametrize(
    ("stop", "exit_code", "last_words"),
    [
        (signal.SIGKILL, -signal.SIGKILL, f"copied {STOPPED_AT} members\n"),
        (signal.SIGINT, 130, "interrupted: run the same command again to resume\n"),
    ],
    ids=["kill-9", "ctrl-c"],
)
async def test_a_copy_stopped_part_way_resumes_and_copies_each_member_once(
    server: LocalMsgFlash,
    gate: PageGate,
    group_id: str,
    services: Services,
    tmp_path: Path,
    stop: signal.Signals,
    exit_code: int,
    last_words: str,
) -> None:
    database = tmp_path / "members.sqlite3"
    command = [sys.executable, "-m", "examples.stream_pipeline", group_id, str(database)]
    command += ["--page-size", str(PAGE_SIZE)]

    first = await services.start(command, recipe_env(server))
    await gate.holding()
    os.kill(first.pid, stop)
    assert await first.exit_code() == exit_code, first.output
    assert first.output[-1] == last_words
    members = server.workspace().members(group_id)
    assert copied_ids(database) == members[:STOPPED_AT]
    await gate.release()
    server.clear_requests()

    second = await services.start(command, recipe_env(server))
    assert await second.exit_code() == 0, second.output

    assert copied_ids(database) == members
    assert second.output[-1] == f"done: {MEMBERS} members, {STOPPED_AT} copied before\n"
    requests = page_requests(server)
    assert len(requests) == PAGES - STOP_AFTER  # no page fetched twice
    assert gate.cursor is not None
    assert requests[0].query["cursor"] == gate.cursor  # resumed where the copy was stopped


async def test_a_cancelled_copy_resumes_and_a_finished_one_sends_nothing(
    server: LocalMsgFlash, gate: PageGate, group_id: str, tmp_path: Path
) -> None:
    database = tmp_path / "members.sqlite3"
    async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
        copying = asyncio.ensure_future(
            copy_members(client, group_id, database, page_size=PAGE_SIZE)
        )
        await gate.holding()
        copying.cancel()
        with pytest.raises(asyncio.CancelledError):
            await copying
        await gate.release()
        members = server.workspace().members(group_id)
        assert copied_ids(database) == members[:STOPPED_AT]
        server.clear_requests()

        pages: list[int] = []
        resumed = await copy_members(
            client, group_id, database, page_size=PAGE_SIZE, on_page=pages.append
        )
        assert resumed == Copied(before=STOPPED_AT, copied=MEMBERS - STOPPED_AT)
        assert pages == [80, 100, 120, 130]
        assert copied_ids(database) == members
        requests = page_requests(server)
        assert len(requests) == PAGES - STOP_AFTER
        assert gate.cursor is not None
        assert requests[0].query["cursor"] == gate.cursor

        again = await copy_members(client, group_id, database, page_size=PAGE_SIZE)
        assert again == Copied(before=MEMBERS, copied=0)
        assert len(page_requests(server)) == PAGES - STOP_AFTER  # none more


async def test_a_database_of_another_group_is_refused(
    server: LocalMsgFlash, group_id: str, tmp_path: Path
) -> None:
    database = tmp_path / "members.sqlite3"
    other = server.workspace().add_group("Others").id
    async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
        await copy_members(client, other, database)
        with pytest.raises(ValueError, match=f"members of group {other}, not {group_id}"):
            await copy_members(client, group_id, database)
