"""Fixtures for the ``msgflash`` command's tests: a local server on its own thread, so that the
command (its own ``asyncio.run``, in this process or a child) can talk to it."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from msgflash_async._commands import app
from msgflash_async.testing import LocalMsgFlash

T = TypeVar("T")

API_KEY = "msgf_live_" + "5ec2e7" * 10 + "abcd"
"""A key easy to find in any output, which it must never be in."""
WAIT = 60.0
"""Seconds a child process or the server's thread may take: generous, for a loaded machine."""


class ServerThread:
    """A ``LocalMsgFlash`` serving from its own thread and event loop."""

    def __init__(self, **options: Any) -> None:
        self.server = LocalMsgFlash(**options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.server:
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(WAIT), "the server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(WAIT)

    def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The result of ``work()``, run on the server's loop (its state lives there)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work(), self._loop).result(WAIT)

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the server's loop."""

        async def call() -> T:
            return function(*args)

        return self.run(call)

    @property
    def env(self) -> dict[str, str]:
        """The environment pointing the command at this server: no pacing, quick polls."""
        return {
            "MSGFLASH_API_KEY": API_KEY,
            "MSGFLASH_BASE_URL": self.server.base_url,
            "MSGFLASH_RATE_LIMIT": "0",
            "MSGFLASH_POLL_INTERVAL": "0.05",
            "MSGFLASH_TEAM_ID": "",
            "MSGFLASH_RATE_LIMITER": "",
            "MSGFLASH_DEBUG": "",
        }


@pytest.fixture
def served() -> Iterator[ServerThread]:
    """A server without rate limit, whose jobs run a batch of 50 ids every 20 ms."""
    with ServerThread(
        api_key=API_KEY, rate_limit=None, job_batch_size=50, job_batch_interval=0.02
    ) as thread:
        yield thread


def cli_runner() -> CliRunner:
    """A runner keeping stderr apart from stdout (click 8.1 needs asking; 8.2 always does)."""
    apart: dict[str, Any] = {"mix_stderr": False}
    return (
        CliRunner(**apart)
        if "mix_stderr" in inspect.signature(CliRunner).parameters
        else CliRunner()
    )


def invoke(served: ServerThread, *arguments: str, env: Mapping[str, str] | None = None) -> Result:
    """``msgflash <arguments>`` in this process, against ``served``."""
    return cli_runner().invoke(app, list(arguments), env={**served.env, **(env or {})})


def run_command(
    served: ServerThread,
    *arguments: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m msgflash_async <arguments>`` in a child process, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "msgflash_async", *arguments],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=child_env(served, env),
        cwd=cwd,
    )


def child_env(served: ServerThread, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``served``'s, warnings as errors, and no forced colours
    or terminal (so that a pipe is a pipe)."""
    env = {**os.environ, **served.env, "PYTHONWARNINGS": "error", **(extra or {})}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES"):
        env.pop(name, None)
    return env


def lines(text: str) -> Sequence[str]:
    """The non-empty lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()]
