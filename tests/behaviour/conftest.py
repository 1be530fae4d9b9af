"""Fixtures for end-to-end tests: the SDK against the local server over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from msgflash_async import MsgFlash
from msgflash_async.testing import FakeClock, LocalMsgFlash

from ._support import jobs_clock


@pytest.fixture
async def server() -> AsyncIterator[LocalMsgFlash]:
    """A local server with jobs moved by hand and no rate limit."""
    async with LocalMsgFlash(manual_jobs=True, rate_limit=None, job_batch_size=1000) as local:
        yield local


@pytest.fixture
def clock(server: LocalMsgFlash) -> FakeClock:
    return jobs_clock(server)


@pytest.fixture
async def sdk(server: LocalMsgFlash, clock: FakeClock) -> AsyncIterator[MsgFlash]:
    """An SDK client of ``server`` on the fake clock, without pacing."""
    async with MsgFlash(
        server.api_key, base_url=server.base_url, clock=clock, rate_limit=None
    ) as client:
        yield client
