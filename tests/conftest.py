"""Fixtures shared by the whole suite."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core

from msgflash_async import MsgFlash, RetryPolicy

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
BASE_URL = "https://api.msgflash.test"


class _StreamWriterStub:
    output_size = 0


class _CompatibleResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` aiohttp 3.14 requires."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _StreamWriterStub())
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, made to work with every supported aiohttp."""
    if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
        monkeypatch.setattr(aioresponses_core, "ClientResponse", _CompatibleResponse)
    with aioresponses() as mocked:
        yield mocked


@pytest.fixture
async def client() -> AsyncIterator[MsgFlash]:
    """A client of a mocked server at ``BASE_URL``: no pacing, no retries."""
    async with MsgFlash(
        API_KEY, base_url=BASE_URL, rate_limit=None, retry=RetryPolicy.none()
    ) as sdk:
        yield sdk
