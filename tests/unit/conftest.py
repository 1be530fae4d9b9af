"""Fixtures of the unit tests; ``mock_api`` and ``client`` come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import pytest

from msgflash_async import MsgFlash, RetryPolicy
from msgflash_async.testing import FakeClock

from ._helpers import API_KEY, BASE_URL


class ClientFactory(Protocol):
    """Makes a client of the mocked server; the fixture closes it after the test."""

    def __call__(self, api_key: str | None = API_KEY, **options: Any) -> MsgFlash: ...


@pytest.fixture(autouse=True)
def _no_msgflash_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no MSGFLASH_* variable unless they set one."""
    for name in ("MSGFLASH_API_KEY", "MSGFLASH_TEAM_ID", "MSGFLASH_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock: no test ever really sleeps."""
    return FakeClock()


@pytest.fixture
async def make_client(clock: FakeClock) -> AsyncIterator[ClientFactory]:
    """Clients at ``BASE_URL`` on the fake clock; by default no pacing and 3 retries."""
    made: list[MsgFlash] = []

    def factory(api_key: str | None = API_KEY, **options: Any) -> MsgFlash:
        options.setdefault("base_url", BASE_URL)
        options.setdefault("rate_limit", None)
        options.setdefault("retry", RetryPolicy(max_retries=3))
        options.setdefault("clock", clock)
        sdk = MsgFlash(api_key, **options)
        made.append(sdk)
        return sdk

    yield factory
    for sdk in made:
        await sdk.aclose()
