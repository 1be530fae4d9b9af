"""The per-key rate limit and the monthly quota (§1.5, §4.2)."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from server_support import ManualClock, call

from msgflash_async.testing import ApiError, LocalMsgFlash
from msgflash_async.testing._ratelimit import SlidingWindowLimiter, seconds_until_next_month

RATE_LIMITED = {"error": {"code": "API_RATE_LIMIT_EXCEEDED", "message": "Too many API requests"}}
OTHER_KEY = "msgf_live_" + "cd" * 32


async def statuses(http: aiohttp.ClientSession, count: int, path: str = "/contacts") -> list[int]:
    return [(await call(http, "GET", path)).status for _ in range(count)]


async def test_the_eleventh_request_in_a_second_gets_429(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    assert await statuses(msgflash_http, 10) == [200] * 10

    reply = await call(msgflash_http, "GET", "/contacts")

    assert reply.status == 429
    assert reply.body == RATE_LIMITED
    assert reply.headers["Retry-After"] == "1"
    assert "x-request-id" in reply.headers


@pytest.mark.parametrize("msgflash_server_options", [{"rate_limit_retry_after": False}])
async def test_the_limit_can_answer_without_retry_after(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    await statuses(msgflash_http, 10)

    without = await call(msgflash_http, "GET", "/contacts")
    msgflash_server.rate_limit_retry_after = True
    with_header = await call(msgflash_http, "GET", "/contacts")

    assert (without.status, without.body) == (429, RATE_LIMITED)
    assert "Retry-After" not in without.headers
    assert "x-request-id" in without.headers
    assert with_header.headers["Retry-After"] == "1"


async def test_the_limit_is_per_key(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.add_personal_key(OTHER_KEY, msgflash_server.workspace())
    await statuses(msgflash_http, 10)

    other = await call(msgflash_http, "GET", "/contacts", headers={"x-api-key": OTHER_KEY})

    assert other.status == 200


async def test_the_limit_comes_before_routing_and_validation(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    await statuses(msgflash_http, 10)

    unknown = await call(msgflash_http, "GET", "/nope")
    invalid = await call(msgflash_http, "POST", "/contacts", json={})

    assert (unknown.status, invalid.status) == (429, 429)


async def test_failed_authentication_counts_toward_nothing(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    async with aiohttp.ClientSession(base_url=msgflash_server.base_url) as anonymous:
        assert await statuses(anonymous, 15) == [401] * 15
    team = {"X-Team-Id": "5b1f0c8e-3f4a-4d6b-9e2c-7a8b9c0d1e2f"}
    assert [
        (await call(msgflash_http, "GET", "/contacts", headers=team)).status for _ in range(15)
    ] == [403] * 15

    assert await statuses(msgflash_http, 10) == [200] * 10


async def test_errors_other_than_429_count(msgflash_http: aiohttp.ClientSession) -> None:
    assert await statuses(msgflash_http, 5, "/nope") == [404] * 5
    assert await statuses(msgflash_http, 5, "/contacts/unknown") == [404] * 5

    assert (await call(msgflash_http, "GET", "/contacts")).status == 429


async def test_the_limit_can_be_changed_or_disabled(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    msgflash_server.rate_limit = 3
    assert await statuses(msgflash_http, 4) == [200, 200, 200, 429]

    msgflash_server.rate_limit = None
    assert await statuses(msgflash_http, 30) == [200] * 30
    assert msgflash_server.rate_limit is None


def test_the_window_slides() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(3, monotonic=lambda: now[0])

    def admit() -> bool:
        try:
            limiter.check("k")
        except ApiError:
            return False
        limiter.record("k")
        return True

    results = []
    for moment in [0.0, 0.25, 0.5, 0.75, 1.0, 1.125, 1.25, 1.375]:
        now[0] = moment
        results.append(admit())

    assert results == [True, True, True, False, True, False, True, False]


@pytest.mark.parametrize("msgflash_server_options", [{"rate_limit": 2, "rate_limit_window": 0.5}])
async def test_the_window_can_be_shorter_than_a_second(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    assert await statuses(msgflash_http, 3) == [200, 200, 429]
    await asyncio.sleep(0.55)
    assert await statuses(msgflash_http, 3) == [200, 200, 429]


def test_rate_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlidingWindowLimiter(0)


@pytest.mark.parametrize("window", [0, -1.0, math.inf, math.nan, True, "1"])
def test_the_window_must_be_a_positive_number_of_seconds(window: Any) -> None:
    with pytest.raises(ValueError, match="window must be a positive number of seconds"):
        LocalMsgFlash(rate_limit_window=window)


END_OF_APRIL = datetime(2026, 4, 30, 23, 59, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "msgflash_server_options",
    [{"rate_limit": None, "monthly_quota": 3, "clock": ManualClock(END_OF_APRIL)}],
)
async def test_the_monthly_quota_answers_429_until_next_month(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    assert await statuses(msgflash_http, 3, "/nope") == [404] * 3

    refused = await call(msgflash_http, "GET", "/contacts")
    clock: ManualClock = msgflash_server.state.clock  # type: ignore[assignment]
    clock.advance(timedelta(seconds=29, milliseconds=500))
    last_second = await call(msgflash_http, "GET", "/contacts")
    clock.advance(timedelta(seconds=1))
    next_month = await statuses(msgflash_http, 4)

    assert refused.status == 429
    assert refused.body == {
        "error": {
            "code": "MONTHLY_API_REQUEST_QUOTA_EXCEEDED",
            "message": "Monthly API request quota exceeded",
        }
    }
    assert refused.headers["Retry-After"] == "30"
    assert last_second.headers["Retry-After"] == "1"
    assert next_month == [200, 200, 200, 429]
    assert msgflash_server.workspace().quota.used == 3


@pytest.mark.parametrize("msgflash_server_options", [{"rate_limit": 2, "monthly_quota": 1}])
async def test_quota_refusals_do_not_count_toward_the_rate_limit(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    replies = [await call(msgflash_http, "GET", "/contacts") for _ in range(4)]

    assert [reply.status for reply in replies] == [200, 429, 429, 429]
    assert {reply.error["code"] for reply in replies[1:]} == {"MONTHLY_API_REQUEST_QUOTA_EXCEEDED"}


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc), 3600),
        (datetime(2026, 5, 1, 0, 0, tzinfo=timezone.utc), 31 * 86400),
        (datetime(2026, 2, 28, 23, 59, 59, 999000, tzinfo=timezone.utc), 1),
        (datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), 3600),
    ],
)
def test_seconds_until_next_month(now: datetime, seconds: int) -> None:
    assert seconds_until_next_month(now) == seconds
