"""Real processes for the recipes in ``examples/``: the local MsgFlash server, and
subprocesses waited on with hang guards and killed at the end.

A test file whose recipes need packages that are missing (``REQUIREMENTS``) is not collected,
except under ``CI``, where every one must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import anyio
import pytest

from msgflash_async.testing import LocalMsgFlash

ROOT = Path(__file__).resolve().parents[2]
"""The repository, where ``examples`` is importable."""
IN_CI = bool(os.environ.get("CI"))
REQUIREMENTS = {
    "test_recipes.py": ("redis", "fastapi", "uvicorn", "taskiq", "taskiq_redis"),
    "test_fastapi_testing.py": ("fastapi", "httpx"),
}
"""The packages each test file's recipes import; the stream pipeline needs none."""
MISSING = {
    test_file: missing
    for test_file, modules in REQUIREMENTS.items()
    if (missing := [name for name in modules if importlib.util.find_spec(name) is None])
}
if MISSING and IN_CI:
    needs = "; ".join(f"{test_file}: {', '.join(names)}" for test_file, names in MISSING.items())
    raise ImportError(f"the recipes' tests need packages that CI must install ({needs})")
collect_ignore = list(MISSING)

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

    async def exit_code(self) -> int:
        """Wait for the process to end by itself (``HANG_GUARD`` at most); its exit code."""
        try:
            with anyio.fail_after(HANG_GUARD):
                # Shielded: the time running out must not cancel the reader, kill() awaits it.
                await asyncio.shield(self._reader)
                return await self.process.wait()
        except TimeoutError:
            raise self.failure("did not exit") from None

    async def kill(self) -> None:
        """Kill the whole process group at once, as a crash would, and wait for the leader."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        await self.process.wait()
        with anyio.fail_after(HANG_GUARD):
            await asyncio.shield(self._reader)


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


def recipe_env(server: LocalMsgFlash, **extra: str) -> dict[str, str]:
    """The environment telling a recipe where the MsgFlash server is, and with which key."""
    return {"MSGFLASH_API_KEY": server.api_key, "MSGFLASH_BASE_URL": server.base_url, **extra}
