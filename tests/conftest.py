"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses
from aioresponses_compat import mocked_api

from msgflash_async import MsgFlash, RetryPolicy

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
BASE_URL = "https://api.msgflash.test"


@pytest.fixture
def mock_api() -> Iterator[aioresponses]:
    """aioresponses, made to work with every supported aiohttp."""
    with mocked_api() as mocked:
        yield mocked


@pytest.fixture
async def client() -> AsyncIterator[MsgFlash]:
    """A client of a mocked server at ``BASE_URL``: no pacing, no retries."""
    async with MsgFlash(
        API_KEY, base_url=BASE_URL, rate_limit=None, retry=RetryPolicy.none()
    ) as sdk:
        yield sdk
