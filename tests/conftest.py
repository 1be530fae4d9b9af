"""Fixtures shared by the whole suite."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses
from aioresponses_compat import mocked_api

from msgflash_async import MsgFlash, RetryPolicy

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
BASE_URL = "https://api.msgflash.test"


# A shell starts a background job with SIGINT ignored, and every process started from it
# inherits that, so a child the tests press Ctrl-C on would carry on. A handler of this
# process's own is reset to the default in each child it starts.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "MSGFLASH_LOG")


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite talks to 127.0.0.1 directly, whatever proxy the machine running it sets."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


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
