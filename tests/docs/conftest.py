"""A local server in a thread of its own, so that documented programs run unchanged.

A whole program calls ``asyncio.run(main())`` itself, so the server cannot share its event
loop: it runs in a background thread, and the program finds it through ``MSGFLASH_API_KEY``
and ``MSGFLASH_BASE_URL``, as a reader's program finds the real API.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from msgflash_async.testing import LocalMsgFlash

T = TypeVar("T")

WAIT = 60.0
"""Seconds to wait for the server thread: generous, for a loaded machine."""

CONTACTS_CSV = """\
name,phone,tags
Awa Doe,+33612345000,vip;paris
Kofi Mensah,+22997000001,
Awa Doe again,+33612345000,
No Phone,,
"""
"""``contacts.csv`` in the directory the blocks run in: two good rows, a phone repeated, one
invalid row."""


class ServerThread:
    """``LocalMsgFlash`` serving from a thread with its own event loop."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="docs-server")
        self._server: LocalMsgFlash | None = None

    @property
    def server(self) -> LocalMsgFlash:
        assert self._server is not None, "the server is not started"
        return self._server

    def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``work()`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(work(), self._loop).result(WAIT)

    def call(self, function: Callable[[LocalMsgFlash], T]) -> T:
        """Call ``function(server)`` on the server's loop, where its state lives."""

        async def work() -> T:
            return function(self.server)

        return self.run(work)

    def __enter__(self) -> ServerThread:
        self._thread.start()

        async def start() -> LocalMsgFlash:
            server = LocalMsgFlash(**self._options)
            await server.start()
            return server

        self._server = self.run(start)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._server is not None:
                self.run(self._server.close)
            self.run(self._loop.shutdown_asyncgens)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(WAIT)
            self._loop.close()


@pytest.fixture
def docs_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ServerThread]:
    """A fresh server per block, found through the environment, and a directory to run in
    holding ``contacts.csv``.

    No rate limit on the server (the documented clients pace themselves) and small, quick job
    batches, so that a job of 150 ids ends in two batches.
    """
    with ServerThread(rate_limit=None, job_batch_size=100, job_batch_interval=0.05) as thread:
        monkeypatch.setenv("MSGFLASH_API_KEY", thread.server.api_key)
        monkeypatch.setenv("MSGFLASH_BASE_URL", thread.server.base_url)
        for name in ("MSGFLASH_TEAM_ID", "MSGFLASH_RATE_LIMITER"):
            monkeypatch.delenv(name, raising=False)
        (tmp_path / "contacts.csv").write_text(CONTACTS_CSV, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        yield thread


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A block may configure logging as a reader's program would (``basicConfig``, a level):
    undo it, so that no handler outlives the block's captured stderr."""
    loggers = [logging.getLogger(), logging.getLogger("msgflash_async")]
    saved = [(logger, logger.level, logger.handlers[:]) for logger in loggers]
    yield
    for logger, level, handlers in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers
