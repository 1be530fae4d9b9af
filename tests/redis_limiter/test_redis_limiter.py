"""The shared rate limiter against a real Redis server (see ``conftest.py``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from msgflash_async import ConfigurationError, MsgFlash, RateLimitExceededError, RetryPolicy
from msgflash_async._clock import SYSTEM_CLOCK, Clock
from msgflash_async._config import normalised_origin
from msgflash_async._limiter import SAFETY_MARGIN, Pacer, RateBudget, key_fingerprint
from msgflash_async.redis import MAX_HOLD, RedisRateLimiter
from msgflash_async.testing import FakeClock, LocalMsgFlash

from .conftest import Admin, RedisServer, SlowLink, free_port

FINGERPRINT = key_fingerprint("msgf_live_" + "ab" * 32, "https://api.msgflash.test")
PREFIX = "msgflash:"
STARTS = PREFIX + FINGERPRINT
HOLD, QUEUE = STARTS + ":hold", STARTS + ":queue"

LimiterFactory = Callable[..., RedisRateLimiter]


@pytest.fixture
async def limiters(redis_url: str) -> AsyncIterator[LimiterFactory]:
    """Makes limiters on the session server (or ``url``), each with its own connections;
    closes them after the test."""
    made: list[RedisRateLimiter] = []

    def make(url: str = redis_url, **options: Any) -> RedisRateLimiter:
        # A roomy op_timeout unless a test sets one: a busy test machine is no Redis fault.
        made.append(RedisRateLimiter(url, **{"op_timeout": 2.0, **options}))
        return made[-1]

    yield make
    for limiter in made:
        await limiter.aclose()


@pytest.fixture
def admin(redis_server: RedisServer, redis_url: str) -> Iterator[Admin]:
    """A synchronous client of the session server, emptied for this test."""
    with redis_server.admin() as client:
        yield client


def starts_in(admin: Admin, key: str = STARTS) -> list[str]:
    """The recorded starts (server time in µs, colon, waiter token), newest first."""
    return admin.strings("LRANGE", key, 0, -1)


def is_shared(limiter: RedisRateLimiter) -> bool:
    """Whether the limiter uses Redis (a function: mypy would narrow the property)."""
    return limiter.shared


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "msgflash_async" and record.levelno == logging.WARNING
    ]


# One set of pacing tests over both backends: the in-process pacer and Redis.

BudgetFactory = Callable[[int], tuple[RateBudget, Clock]]


@pytest.fixture(params=["memory", "redis"])
def make_budget(request: pytest.FixtureRequest) -> BudgetFactory:
    """A budget of the backend under test and the clock it waits on: a fake clock for the
    in-process pacer, the real one for Redis (whose window is timed by the server)."""
    if request.param == "memory":
        clock = FakeClock()
        return lambda rate: (Pacer(rate, clock), clock)
    limiters: LimiterFactory = request.getfixturevalue("limiters")
    return lambda rate: (limiters().budget(FINGERPRINT, rate, SYSTEM_CLOCK), SYSTEM_CLOCK)


async def test_budget_gives_rate_turns_then_refuses_a_turn_past_the_deadline(
    make_budget: BudgetFactory,
) -> None:
    budget, clock = make_budget(3)
    assert [await budget.wait_turn(clock.monotonic() + 0.5) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


async def test_budget_gives_the_next_turn_once_the_window_has_passed(
    make_budget: BudgetFactory,
) -> None:
    budget, clock = make_budget(2)
    start = clock.monotonic()
    for _ in range(3):
        assert await budget.wait_turn()
    # The third start waited for the first to leave the window of 1 + SAFETY_MARGIN seconds
    # (a lower bound the budget sets, whatever the machine's load).
    assert clock.monotonic() - start >= 1 + SAFETY_MARGIN - 1e-9  # float sums


# Redis only


async def test_exactly_rate_of_many_concurrent_waiters_start(
    limiters: LimiterFactory, admin: Admin
) -> None:
    clock = FakeClock()
    budgets = [limiters().budget(FINGERPRINT, 10, clock) for _ in range(3)]
    deadline = clock.monotonic() + 0.5
    started = await asyncio.gather(
        *(budget.wait_turn(deadline) for budget in budgets for _ in range(20))
    )
    assert started.count(True) == 10
    assert admin.count("LLEN", STARTS) == 10
    assert 0 < admin.count("PTTL", STARTS) <= 1100  # gone one window after the last start
    assert clock.sleeps == []  # every refused waiter saw its turn was past the deadline


async def test_a_429_reported_by_one_limiter_holds_back_another(
    limiters: LimiterFactory, admin: Admin
) -> None:
    clock = FakeClock()
    reporter = limiters().budget(FINGERPRINT, 10, clock)
    other = limiters().budget(FINGERPRINT, 10, clock)
    await reporter.report_rate_limited(None)  # no Retry-After: the API's one-second window
    assert 0 < admin.count("PTTL", HOLD) <= 1000
    assert not await other.wait_turn(clock.monotonic() + 0.5)
    await reporter.report_rate_limited(3.0)
    assert 2000 < admin.count("PTTL", HOLD) <= 3000
    await reporter.report_rate_limited(None)  # a hold only ever grows
    assert admin.count("PTTL", HOLD) > 2000
    await reporter.report_rate_limited(86_400.0)
    assert admin.count("PTTL", HOLD) <= MAX_HOLD * 1000
    assert admin.count("LLEN", STARTS) == 0


async def test_the_window_follows_the_redis_clock_not_the_hosts(
    limiters: LimiterFactory, admin: Admin
) -> None:
    early, late = FakeClock(start=0.0), FakeClock(start=1_000_000.0)
    first = limiters().budget(FINGERPRINT, 5, early)
    second = limiters().budget(FINGERPRINT, 5, late)
    for _ in range(5):
        assert await first.wait_turn()
    assert not await second.wait_turn(late.monotonic() + 0.5)
    early.now += 3600.0  # a host clock running ahead changes nothing
    assert not await first.wait_turn(early.monotonic() + 0.5)
    server_now = admin.server_time()
    for entry in starts_in(admin):
        assert abs(int(entry.split(":")[0]) / 1e6 - server_now) < 60


async def until_queued(admin: Admin, count: int) -> None:
    """Wait (5 s at most) until the shared queue holds ``count`` waiters."""
    for _ in range(500):
        if admin.count("ZCARD", QUEUE) == count:
            return
        await asyncio.sleep(0.01)


async def test_waiters_are_served_in_the_order_they_came(
    limiters: LimiterFactory, admin: Admin
) -> None:
    budget = limiters().budget(FINGERPRINT, 3, SYSTEM_CLOCK)
    for _ in range(3):  # turns 0.1 s apart, so their slots reopen 0.1 s apart
        assert await budget.wait_turn()
        await asyncio.sleep(0.1)
    served: list[int] = []

    async def waiter(number: int) -> None:
        await limiters().budget(FINGERPRINT, 3, SYSTEM_CLOCK).wait_turn()
        served.append(number)

    async with anyio.create_task_group() as group:
        for number in range(3):
            group.start_soon(waiter, number)
            # It came once it is in the queue: on a loaded host that can take longer than
            # the next waiter's start, which would then come first.
            await until_queued(admin, number + 1)
    assert served == [0, 1, 2]


async def test_cancelled_waiters_leave_the_queue_and_take_no_turn(
    limiters: LimiterFactory, admin: Admin
) -> None:
    limiter = limiters()
    budget = limiter.budget(FINGERPRINT, 2, SYSTEM_CLOCK)
    assert await budget.wait_turn()
    assert await budget.wait_turn()
    waiters = [asyncio.ensure_future(budget.wait_turn()) for _ in range(5)]
    await until_queued(admin, 5)
    assert 0 < admin.count("PTTL", QUEUE) <= 5000  # a queue left alone goes away
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await limiter.aclose()  # waits for the cancelled waiters to leave
    assert admin.count("ZCARD", QUEUE) == 0
    assert admin.count("LLEN", STARTS) == 2
    # A newcomer is first in line: its turn comes when the window reopens (about 1 s), not
    # after five more starts (about 3 s).
    newcomer = limiters().budget(FINGERPRINT, 2, SYSTEM_CLOCK)
    assert await newcomer.wait_turn(SYSTEM_CLOCK.monotonic() + 2.5)


async def test_a_waiter_cancelled_while_redis_answers_gives_its_turn_back(
    slow_link: tuple[SlowLink, str], admin: Admin
) -> None:
    link, url = slow_link
    limiter = RedisRateLimiter(url, op_timeout=5.0)
    budget = limiter.budget(FINGERPRINT, 10, SYSTEM_CLOCK)
    await limiter._redis.ping()  # connect before the link slows down
    link.delay = 0.3
    waiter = asyncio.ensure_future(budget.wait_turn())
    for _ in range(500):  # until the script has run and admitted the waiter
        if admin.count("LLEN", STARTS) == 1:
            break
        await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await limiter.aclose()  # the answer arrives: the admitted start is given back
    assert admin.count("LLEN", STARTS) == 0
    assert admin.count("ZCARD", QUEUE) == 0
    assert is_shared(limiter)


async def test_a_waiter_stopped_by_its_deadline_in_a_slow_call_gives_its_turn_back(
    slow_link: tuple[SlowLink, str], admin: Admin
) -> None:
    link, url = slow_link
    limiter = RedisRateLimiter(url, op_timeout=5.0)
    budget = limiter.budget(FINGERPRINT, 10, SYSTEM_CLOCK)
    await limiter._redis.ping()
    link.delay = 0.5
    with anyio.fail_after(3):  # a hang guard: the deadline is 0.1 s away
        assert not await budget.wait_turn(SYSTEM_CLOCK.monotonic() + 0.1)
    assert is_shared(limiter)  # a short deadline is no fault of Redis
    await limiter.aclose()
    assert admin.count("LLEN", STARTS) == 0


async def test_slow_redis_falls_back_without_holding_a_call(
    limiters: LimiterFactory, admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = limiters(op_timeout=0.2)
    budget = limiter.budget(FINGERPRINT, 10, SYSTEM_CLOCK)
    assert await budget.wait_turn()
    admin.command("CLIENT", "PAUSE", 3000)
    try:
        with anyio.fail_after(2):  # a hang guard: Redis stays paused for 3 s
            assert await budget.wait_turn()
            assert await budget.wait_turn(SYSTEM_CLOCK.monotonic() + 0.5)
    finally:
        admin.command("CLIENT", "UNPAUSE")
    assert not is_shared(limiter)
    assert warnings_of(caplog) == [
        "shared rate limiter: Redis is unavailable (TimeoutError); pacing in-process at 25% "
        "of the rate until it answers again"
    ]


async def test_redis_down_at_start_falls_back_at_its_share_with_one_warning(
    limiters: LimiterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    limiter = limiters(f"redis://:s3cret-word@127.0.0.1:{free_port()}/0")
    budget = limiter.budget(FINGERPRINT, 10, clock)
    for _ in range(4):
        assert await budget.wait_turn()
    # 25 % of 10 per window: 2 at once, then one window for the next 2.
    assert clock.sleeps == [pytest.approx(1 + SAFETY_MARGIN)]
    await budget.report_rate_limited(None)  # the in-process pacer slows down
    assert not await budget.wait_turn(clock.monotonic() + 1.0)
    assert not is_shared(limiter)
    assert len(warnings_of(caplog)) == 1
    assert "ConnectionError" in warnings_of(caplog)[0]
    assert "s3cret" not in caplog.text
    assert "127.0.0.1" not in caplog.text


async def test_a_killed_redis_is_left_then_used_again_once_restarted(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="msgflash_async")
    clock = FakeClock()
    limiter = RedisRateLimiter(own_redis_server.url, probe_interval=5.0)
    budget = limiter.budget(FINGERPRINT, 10, clock)
    try:
        assert await budget.wait_turn()
        own_redis_server.stop()
        for _ in range(3):
            assert await budget.wait_turn()
        assert not is_shared(limiter)
        own_redis_server.start()
        assert await budget.wait_turn()
        assert not is_shared(limiter)  # no probe before probe_interval
        clock.now += 5.0
        assert await budget.wait_turn()
        assert is_shared(limiter)
        with own_redis_server.admin() as admin:
            assert admin.count("LLEN", STARTS) == 1  # the restarted server's first start
    finally:
        await limiter.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "msgflash_async"]
    assert len(warnings_of(caplog)) == 1
    assert messages[-1] == "shared rate limiter: Redis answers again; back to the shared budget"


async def test_a_client_passed_in_stays_open_and_one_built_from_a_url_is_closed(
    redis_url: str, admin: Admin
) -> None:
    def ours() -> int:
        return admin.client_names().count("msgflash-async")

    own = RedisRateLimiter(redis_url)
    await own.budget(FINGERPRINT, 10, SYSTEM_CLOCK).wait_turn()
    assert ours() == 1
    await own.aclose()
    assert ours() == 0
    async with aioredis.Redis.from_url(redis_url) as client:
        given = RedisRateLimiter(client=client)
        await given.budget(FINGERPRINT, 10, SYSTEM_CLOCK).wait_turn()
        await given.aclose()
        assert await client.ping()
        assert admin.count("LLEN", STARTS) == 2


async def test_the_api_key_never_reaches_redis(redis_url: str, admin: Admin) -> None:
    async with (
        LocalMsgFlash(rate_limit=1) as server,
        aioredis.Redis.from_url(redis_url) as client,
        MsgFlash(
            server.api_key,
            base_url=server.base_url,
            rate_limit=5,
            rate_limiter=RedisRateLimiter(client=client, prefix="app:"),
            retry=RetryPolicy.none(),
        ) as sdk,
    ):
        await sdk.contacts.create(name="Awa Doe", phone="+33612345000")
        with pytest.raises(RateLimitExceededError):
            await sdk.contacts.create(name="Awa Doe", phone="+33612345001")
    fingerprint = key_fingerprint(server.api_key, normalised_origin(server.base_url))
    assert sorted(admin.strings("KEYS", "*")) == [f"app:{fingerprint}", f"app:{fingerprint}:hold"]
    stored = [
        *starts_in(admin, f"app:{fingerprint}"),
        str(admin.command("GET", f"app:{fingerprint}:hold")),
    ]
    secret = server.api_key.removeprefix("msgf_live_")
    assert len(stored) == 3
    assert not any(secret in value for value in stored)


async def test_msgflash_rate_limiter_environment_variable_shares_the_budget(
    redis_url: str, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSGFLASH_RATE_LIMITER", redis_url)
    async with LocalMsgFlash() as server:
        async with MsgFlash(server.api_key, base_url=server.base_url) as sdk:
            await sdk.contacts.create(name="Awa Doe", phone="+33612345000")
            assert admin.client_names().count("msgflash-async") == 1
        fingerprint = key_fingerprint(server.api_key, normalised_origin(server.base_url))
    assert admin.count("LLEN", PREFIX + fingerprint) == 1
    assert admin.client_names().count("msgflash-async") == 0


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({}, "url or a client"),
        ({"url": "redis://127.0.0.1/0", "client": aioredis.Redis()}, "url or a client"),
        ({"url": "http://127.0.0.1/0"}, "url"),
        ({"url": "redis://127.0.0.1/0", "prefix": ""}, "prefix"),
        ({"url": "redis://127.0.0.1/0", "fallback_share": 0}, "fallback_share"),
        ({"url": "redis://127.0.0.1/0", "fallback_share": 1.5}, "fallback_share"),
        ({"url": "redis://127.0.0.1/0", "fallback_share": float("nan")}, "fallback_share"),
        ({"url": "redis://127.0.0.1/0", "op_timeout": 0}, "op_timeout"),
        ({"url": "redis://127.0.0.1/0", "probe_interval": True}, "probe_interval"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(arguments: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        RedisRateLimiter(**arguments)
