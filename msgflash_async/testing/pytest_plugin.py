"""The ``msgflash`` pytest plugin: fixtures running the fake server.

- ``msgflash_server_options``: a dict of ``LocalMsgFlash`` keyword arguments, ``{}`` by default;
  override it (or parametrize it) to configure the server.
- ``msgflash_server``: a started ``LocalMsgFlash``, one per test.
- ``msgflash_http``: an ``aiohttp.ClientSession`` whose base URL is the server's and which sends
  the default ``x-api-key``, for raw HTTP tests.
- ``msgflash_client``: a ``msgflash_async.MsgFlash`` client connected to the server, pacing
  itself at the server's ``rate_limit`` (not at all when the server has none).

Install what the plugin needs with ``pip install "msgflash-async[testing]"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio is a test dependency of the SDK
    # Without pytest-asyncio the plugin must still load: plain fixtures then serve async
    # plugins such as anyio's, which run async fixtures declared with ``pytest.fixture``.
    async_fixture = pytest.fixture  # type: ignore[assignment]

from ._server import LocalMsgFlash

if TYPE_CHECKING:
    from msgflash_async import MsgFlash


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    """Keyword arguments for the ``msgflash_server`` fixture's ``LocalMsgFlash``."""
    return {}


@async_fixture
async def msgflash_server(msgflash_server_options: dict[str, Any]) -> AsyncIterator[LocalMsgFlash]:
    """A running fake server, closed after the test."""
    async with LocalMsgFlash(**msgflash_server_options) as server:
        yield server


@async_fixture
async def msgflash_http(msgflash_server: LocalMsgFlash) -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP session on the fake server, authenticated with its default key."""
    async with aiohttp.ClientSession(
        base_url=msgflash_server.base_url, headers={"x-api-key": msgflash_server.api_key}
    ) as session:
        yield session


@async_fixture
async def msgflash_client(msgflash_server: LocalMsgFlash) -> AsyncIterator[MsgFlash]:
    """An SDK client connected to the fake server, pacing itself as the server limits the key:
    a server with ``rate_limit=None`` gives a client with pacing off."""
    from msgflash_async import MsgFlash

    async with MsgFlash(
        msgflash_server.api_key,
        base_url=msgflash_server.base_url,
        rate_limit=msgflash_server.rate_limit,
    ) as client:
        yield client
