"""A real ``redis-server`` on a free loopback port, for the shared rate limiter's tests.

Without the binary (or redis-py) the tests skip, except under ``CI``, where they must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

REDIS_SERVER = shutil.which("redis-server")
IN_CI = bool(os.environ.get("CI"))

try:
    import redis
except ImportError:
    if IN_CI:
        raise
    collect_ignore_glob = ["test_*.py"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Admin:
    """A synchronous Redis client for setting up and inspecting, typed alike on every
    redis-py (whose own method types differ between versions)."""

    def __init__(self, port: int) -> None:
        # Typed as Any: some of these methods are untyped in some redis-py versions.
        self._client: Any = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def command(self, *args: str | int) -> Any:
        """Run one command; its answer as redis-py parses it."""
        return self._client.execute_command(*args)

    def count(self, command: str, key: str) -> int:
        """The integer answer of ``command key`` (``LLEN``, ``ZCARD``, ``PTTL``)."""
        return int(self.command(command, key))

    def strings(self, *args: str | int) -> list[str]:
        """The answer of a command answering a list of strings (``LRANGE``, ``KEYS``)."""
        return [value.decode() for value in self.command(*args)]

    def server_time(self) -> float:
        """The server's clock, in seconds."""
        seconds, microseconds = self.command("TIME")
        return int(seconds) + int(microseconds) / 1e6

    def client_names(self) -> list[str]:
        """The name of every connected client."""
        listing: bytes = self.command("CLIENT", "LIST")
        return [
            field.removeprefix("name=")
            for line in listing.decode().splitlines()
            for field in line.split()
            if field.startswith("name=")
        ]


class RedisServer:
    """One ``redis-server`` process without persistence, which tests can kill and restart."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self._binary = binary
        self._workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def admin(self) -> Admin:
        """A synchronous client, for setting up and inspecting (the caller closes it)."""
        return Admin(self.port)

    @classmethod
    @contextlib.contextmanager
    def running(cls, workdir: Path) -> Iterator[RedisServer]:
        """A started server, stopped on leaving (a missing binary fails or skips: see
        ``require_redis_binary``)."""
        server = cls(require_redis_binary(), workdir)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def start(self) -> None:
        """Start on ``port`` and wait until it answers PING."""
        self._process = subprocess.Popen(
            [
                self._binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with self.admin() as admin:
            for _ in range(200):
                if self._process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self._process.returncode}")
                try:
                    admin.command("PING")
                    return
                except redis.ConnectionError:
                    time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait for it to exit."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


class SlowLink:
    """A TCP proxy to a Redis server that holds back every answer for ``delay`` seconds: the
    server runs each command at once, the client hears of it late."""

    def __init__(self, port: int) -> None:
        self.delay = 0.0
        self._port = port
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if delayed:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._port)
        for task in (
            asyncio.ensure_future(self._pipe(reader, up_writer, delayed=False)),
            asyncio.ensure_future(self._pipe(up_reader, writer, delayed=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Listen on a free loopback port; yield the URL to give clients."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()


def require_redis_binary() -> str:
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("redis-server is not installed; CI must install it (see .ci/run)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return REDIS_SERVER


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the session."""
    with tempfile.TemporaryDirectory() as workdir, RedisServer.running(Path(workdir)) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, emptied for this test."""
    with redis_server.admin() as admin:
        admin.command("FLUSHALL")
    return redis_server.url


@pytest.fixture
async def slow_link(
    redis_server: RedisServer, redis_url: str
) -> AsyncIterator[tuple[SlowLink, str]]:
    """A ``SlowLink`` to the session server (emptied for this test), and its URL."""
    link = SlowLink(redis_server.port)
    async with link.running() as url:
        yield link, url


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server for this test alone, which it may kill and restart."""
    with RedisServer.running(tmp_path) as server:
        yield server
