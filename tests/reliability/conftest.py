"""Fixtures of the reliability tests: local servers, clients on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from aiohttp.typedefs import Middleware

from msgflash_async import MsgFlash, RetryPolicy
from msgflash_async.testing import LocalMsgFlash

from ._support import MOCK_KEY, FakeClock, Operation, Seeded, seed

FAST_SERVER: dict[str, Any] = {"rate_limit": None, "manual_jobs": True, "request_log_size": None}
"""Server options for tests that are not about rate limits or real-time jobs."""


class ServerFactory(Protocol):
    """Starts a ``LocalMsgFlash`` (``FAST_SERVER`` options unless overridden); the fixture
    closes it after the test. ``middlewares`` are added to its app before it starts."""

    async def __call__(
        self, *, middlewares: Sequence[Middleware] = (), **options: Any
    ) -> LocalMsgFlash: ...


class ClientFactory(Protocol):
    """Makes a client of ``server`` (its key and URL; else ``MOCK_KEY``), by default on the
    ``clock`` fixture, without pacing and with 3 retries; the fixture closes it after the test."""

    def __call__(self, server: LocalMsgFlash | None = None, **options: Any) -> MsgFlash: ...


@pytest.fixture(autouse=True)
def _no_msgflash_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no MSGFLASH_* variable."""
    for name in ("MSGFLASH_API_KEY", "MSGFLASH_TEAM_ID", "MSGFLASH_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock: retries and job polls never really sleep."""
    return FakeClock()


@pytest.fixture
async def serve() -> AsyncIterator[ServerFactory]:
    """Starts fake servers on 127.0.0.1 and closes them after the test."""
    servers: list[LocalMsgFlash] = []

    async def start(*, middlewares: Sequence[Middleware] = (), **options: Any) -> LocalMsgFlash:
        server = LocalMsgFlash(**{**FAST_SERVER, **options})
        server.app.middlewares.extend(middlewares)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def server(serve: ServerFactory) -> LocalMsgFlash:
    """A fake server with ``FAST_SERVER`` options."""
    return await serve()


@pytest.fixture
def seeded(server: LocalMsgFlash) -> Seeded:
    """A contact in a group on ``server``."""
    return seed(server)


@dataclass(frozen=True)
class Harness:
    """A seeded fake server, the fake clock, and clients of the server."""

    server: LocalMsgFlash
    seeded: Seeded
    clock: FakeClock
    make_client: ClientFactory

    def client(self, **options: Any) -> MsgFlash:
        """A client of the server (see ``ClientFactory``)."""
        return self.make_client(self.server, **options)

    async def call(
        self,
        operation: Operation,
        *,
        resend: bool = False,
        client: MsgFlash | None = None,
        **options: Any,
    ) -> Any:
        """Run ``operation`` on the seeded state, with ``client`` or a new one of ``options``."""
        return await operation.invoke(client or self.client(**options), self.seeded, resend)


@pytest.fixture
def api(
    server: LocalMsgFlash, seeded: Seeded, clock: FakeClock, make_client: ClientFactory
) -> Harness:
    """The fake server (``FAST_SERVER`` options), seeded, with clients on the fake clock."""
    return Harness(server, seeded, clock, make_client)


@pytest.fixture
async def make_client(clock: FakeClock) -> AsyncIterator[ClientFactory]:
    """Clients closed after the test."""
    made: list[MsgFlash] = []

    def factory(server: LocalMsgFlash | None = None, **options: Any) -> MsgFlash:
        if server is not None:
            options.setdefault("base_url", server.base_url)
            options.setdefault("api_key", server.api_key)
        options.setdefault("api_key", MOCK_KEY)
        options.setdefault("rate_limit", None)
        options.setdefault("retry", RetryPolicy(max_retries=3))
        options.setdefault("clock", clock)
        client = MsgFlash(**options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
