"""Real processes for the deployment recipes in ``examples/``: a Redis server, the local
MsgFlash server, and subprocesses waited on with hang guards and killed at the end.

Without redis-server or the recipes' packages (redis, fastapi, uvicorn, taskiq, taskiq-redis)
the tests skip, except under ``CI``, where they must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from msgflash_async.testing import LocalMsgFlash

ROOT = Path(__file__).resolve().parents[2]
"""The repository, where ``examples`` is importable."""
IN_CI = bool(os.environ.get("CI"))
MISSING = [
    name
    for name in ("redis", "fastapi", "uvicorn", "taskiq", "taskiq_redis")
    if importlib.util.find_spec(name) is None
]
if MISSING:
    if IN_CI:
        raise ImportError(f"the recipes' tests need {', '.join(MISSING)}; CI must install them")
    collect_ignore_glob = ["test_*.py"]
else:
    from redis_limiter.conftest import RedisServer

HANG_GUARD = 60.0
"""Seconds after which a wait fails: far above what any takes, even on a busy machine."""


class Service:
    """A subprocess leading its own process group (so that its children end with it), whose
    output, stdout and stderr together, is kept for waiting on and for failure messages."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @property
    def pid(self) -> int:
        """The process id, which is also the process group id."""
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace"))
            self._changed.set()
        self._changed.set()

    def failure(self, what: str) -> AssertionError:
        """An error saying ``what`` went wrong, with everything the process printed."""
        return AssertionError(f"{what}; the process printed:\n{''.join(self.output)}")

    async def wait_for(self, text: str, times: int = 1) -> None:
        """Wait until ``text`` is in ``times`` lines of output; fail if the process ends or
        ``HANG_GUARD`` seconds pass first."""
        try:
            with anyio.fail_after(HANG_GUARD):
                while sum(text in line for line in self.output) < times:
                    if self._reader.done():
                        raise self.failure(f"exited before printing {text!r} {times} times")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise self.failure(f"did not print {text!r} {times} times") from None

    async def kill(self) -> None:
        """Kill the whole process group at once, as a crash would, and wait for the leader."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        await self.process.wait()
        with anyio.fail_after(HANG_GUARD):
            await self._reader


class Services:
    """Starts ``Service``s in the repository, with the environment given; the fixture kills
    them all at the end of the test."""

    def __init__(self) -> None:
        self._started: list[Service] = []

    async def start(self, argv: Sequence[str], env: Mapping[str, str]) -> Service:
        """Start ``argv`` in the repository with ``env`` added to this process's environment
        and ``examples`` importable."""
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": path, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._started.append(Service(process))
        return self._started[-1]

    async def kill_all(self) -> None:
        """Kill every service, all at once."""
        await asyncio.gather(*(service.kill() for service in self._started))


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    """Subprocesses for this test, none outliving it."""
    started = Services()
    try:
        yield started
    finally:
        await started.kill_all()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` for this test alone."""
    with RedisServer.running(tmp_path) as server:
        yield server


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    """The local server enforcing 11 requests/s per key, answering its 429s without
    ``Retry-After`` as the vendor documents; jobs move only when a test says, and every request
    is logged.

    The clients pace to the API's 10 requests/s. The server allows one more: on a loaded 2-core
    CI machine a worker process can be descheduled between its turn and its send for longer
    than the pacer's 50 ms margin. Two workers pacing apart (20 requests/s) still draw 429s
    from it; sharing one budget, they draw none.
    """
    return {
        "rate_limit": 11,
        "rate_limit_retry_after": False,
        "manual_jobs": True,
        "request_log_size": None,
    }


def recipe_env(server: LocalMsgFlash, **extra: str) -> dict[str, str]:
    """The environment telling a recipe where the MsgFlash server is, and with which key."""
    return {"MSGFLASH_API_KEY": server.api_key, "MSGFLASH_BASE_URL": server.base_url, **extra}
