"""A rate budget shared by every process and machine through Redis (the ``[redis]`` extra).

```python
limiter = RedisRateLimiter("redis://redis.internal:6379/0")
async with MsgFlash(rate_limiter=limiter) as client:
    ...
await limiter.aclose()
```

or, without code changes, ``MSGFLASH_RATE_LIMITER=redis://redis.internal:6379/0`` (the client
then builds the limiter and closes it). Needs ``pip install "msgflash-async[redis]"`` (redis-py's
asyncio client) and a Redis server 5.0 or later.

**How it shares the budget.** One Lua script, registered once, runs atomically on the server for
every turn. It reads the time with ``TIME`` (the Redis server's clock, so hosts whose clocks
disagree still share one window) and admits a start only if fewer than ``rate`` starts were
admitted in the last ``1 + SAFETY_MARGIN`` seconds, the window of the in-process pacer;
otherwise it answers how many milliseconds to wait. Its own script rather than a library such as
``limits``: those pass each host's clock to the script, and know neither the hold after a 429
nor the queue below. Keys live under ``prefix`` (``msgflash:``) plus the key's fingerprint (a
SHA-256 of origin and key: the API key is never sent to Redis):

- ``<prefix><fingerprint>``: the recent starts (server time and waiter token), expiring one
  window after the last start;
- ``…:hold``: set for the wait of a 429 reported by any process (its ``Retry-After``, else the
  API's one-second window); it only ever grows, and every process waits it out;
- ``…:queue``, ``…:seen``: the waiters, by arrival, and when each last asked. A waiter is
  admitted only while fewer waiters are ahead of it than there are free turns, and is told the
  time of its own turn, so turns go first come, first served, across processes: none starves.
  A waiter that stops asking for ``WAITER_LEASE`` seconds (its process died) is forgotten.

Only admitted starts are recorded. A waiter cancelled while the script answers gives its turn
back; one cancelled while sleeping leaves the queue.

**When Redis fails** (down at start, gone or unreachable mid-run, slower than ``op_timeout``,
an error answer), each budget paces in-process at ``fallback_share`` of its rate, with one
WARNING on the ``msgflash_async`` logger per outage (the error's class only: no URL, no
password, no key). Every ``probe_interval`` seconds a budget tries Redis again; the first answer
brings every budget back to the shared budget, with one INFO line. No call waits on Redis for
longer than ``op_timeout``, nor past its own deadline.

The default ``fallback_share`` of 0.25 keeps four processes (``uvicorn --workers 4``) within the
API's limit together while Redis is away; fewer processes just go slower for that time, more of
them get some 429s, which each client's pacer answers by halving its pace.

A limiter belongs to one event loop, like the redis-py client it uses.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeGuard

import anyio

from . import _limiter
from ._clock import Clock
from ._errors import ClientClosedError, ConfigurationError, MissingDependencyError
from ._limiter import Pacer
from ._policy import RATE_LIMIT_WAIT

__all__ = ["RedisBudget", "RedisRateLimiter"]


try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError:
    raise MissingDependencyError("redis-py", "redis") from None

logger = logging.getLogger("msgflash_async")

WAITER_LEASE = 5.0
"""Seconds after its last question that a waiter is dropped from the queue. Waiters ask again
at least every ``MAX_POLL`` seconds, so only a dead process's waiters are dropped."""

MAX_POLL = 1.0
"""The longest a waiter sleeps before asking again."""

MAX_HOLD = 60.0
"""The longest hold a 429 sets, in seconds, whatever its ``Retry-After`` (the retry policy's
default ``max_retry_after``): a hold stops every process, so one odd answer must not stop them
for hours."""

_SCRIPT = """
local starts, hold, queue, seen = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, token = ARGV[1], ARGV[2]
if op == 'hold' then
  local ms = tonumber(ARGV[3])
  if redis.call('PTTL', hold) < ms then redis.call('SET', hold, '1', 'PX', ms) end
  return 0
end
if op == 'leave' then
  redis.call('ZREM', queue, token)
  redis.call('ZREM', seen, token)
  local suffix = ':' .. token
  for _, entry in ipairs(redis.call('LRANGE', starts, 0, -1)) do
    if string.sub(entry, -#suffix) == suffix then
      redis.call('LREM', starts, 1, entry)
      break
    end
  end
  return 0
end
-- op == 'take': admit a start (0) or answer the wait in ms; times in microseconds
local rate, window, lease = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - lease)) do
  redis.call('ZREM', queue, gone)
  redis.call('ZREM', seen, gone)
end
local recent = {}  -- starts within the window, newest first
for _, entry in ipairs(redis.call('LRANGE', starts, 0, rate - 1)) do
  local at = tonumber(string.match(entry, '^%d+'))
  if at <= now - window then break end
  recent[#recent + 1] = at
end
local free = rate - #recent
local ahead = redis.call('ZRANK', queue, token) or redis.call('ZCARD', queue)
local held = redis.call('PTTL', hold)
if ahead < free and held <= 0 then
  redis.call('LPUSH', starts, string.format('%d:%s', now, token))
  redis.call('LTRIM', starts, 0, rate - 1)
  redis.call('PEXPIRE', starts, math.ceil(window / 1000))
  redis.call('ZREM', queue, token)
  redis.call('ZREM', seen, token)
  return 0
end
local wait = 0
if ahead >= free then
  -- this waiter's turn: when the (ahead - free)-th oldest recent start leaves the window
  local turn, count = ahead - free, #recent
  if count == 0 then
    wait = window
  else
    wait = recent[count - turn % count] + window * (1 + math.floor(turn / count)) - now
  end
end
wait = math.max(wait, held * 1000)
redis.call('ZADD', queue, 'NX', now, token)
redis.call('ZADD', seen, now, token)
redis.call('PEXPIRE', queue, math.ceil(lease / 1000))
redis.call('PEXPIRE', seen, math.ceil(lease / 1000))
return math.max(1, math.ceil(wait / 1000))
"""


class _Unavailable(Exception):
    """Redis did not answer in ``op_timeout``, or answered with an error."""


class _DeadlinePassed(Exception):
    """The caller's deadline came before Redis answered."""


class RedisRateLimiter:
    """A ``RateLimiter`` (``msgflash_async._limiter``) sharing each key's budget through Redis.

    From ``url`` (``redis://``, ``rediss://`` or ``unix://``) it builds its own client and
    closes it in ``aclose()``; a ``client`` passed in is never closed. ``prefix`` starts every
    key it writes; ``fallback_share`` is the share of the rate each process keeps while Redis is
    away; ``op_timeout`` bounds each Redis call, in seconds; ``probe_interval`` is how often a
    budget tries Redis again while it is away. See the module docstring for the behaviour.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        prefix: str = "msgflash:",
        fallback_share: float = 0.25,
        op_timeout: float = 0.25,
        probe_interval: float = 5.0,
    ) -> None:
        if url is not None and client is not None:
            raise ConfigurationError("RedisRateLimiter takes a url or a client, not both")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("RedisRateLimiter.prefix must be a non-empty string")
        _check_seconds("op_timeout", op_timeout)
        _check_seconds("probe_interval", probe_interval)
        if not (_finite(fallback_share) and 0 < fallback_share <= 1):
            raise ConfigurationError(
                f"RedisRateLimiter.fallback_share must be above 0 and at most 1, "
                f"got {fallback_share!r}"
            )
        if url is not None:
            try:
                client = aioredis.Redis.from_url(url, client_name="msgflash-async")
            except ValueError as error:  # redis-py names the scheme problem; never the URL
                raise ConfigurationError(f"RedisRateLimiter.url: {error}") from None
        elif client is None:
            raise ConfigurationError("RedisRateLimiter needs a url or a client")
        self._owns_client = url is not None
        self.prefix = prefix
        self.fallback_share = fallback_share
        self.op_timeout = op_timeout
        self.probe_interval = probe_interval
        self._redis = client
        self._script = client.register_script(_SCRIPT)
        self._budgets: weakref.WeakValueDictionary[tuple[str, int], RedisBudget] = (
            weakref.WeakValueDictionary()
        )
        self._answering = True
        self._closed = False
        self._cleanups: set[asyncio.Task[None]] = set()

    @property
    def shared(self) -> bool:
        """Whether Redis answered the last call (else budgets pace in-process)."""
        return self._answering

    def budget(self, fingerprint: str, rate: int, clock: Clock) -> RedisBudget:
        """The shared budget of one key and server; clients asking different rates in this
        process share the smallest."""
        key = (fingerprint, id(clock))
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = RedisBudget(self, fingerprint, rate, clock)
        elif rate < budget.rate:
            budget.lower_rate(rate)
        return budget

    async def aclose(self) -> None:
        """Finish handing back the turns of cancelled waiters, then close the Redis client if
        this limiter built it."""
        self._closed = True
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        if self._owns_client:
            await self._redis.aclose()

    async def _run(self, keys: list[str], args: list[Any], bound: float, token: str | None) -> int:
        """Run the script, for at most ``bound`` seconds.

        Raises ``_Unavailable`` on a Redis fault or after ``op_timeout``, ``_DeadlinePassed``
        when a shorter ``bound`` (the caller's deadline) ran out. If the caller is cancelled or
        stops waiting, the call is left to finish and ``token`` (a waiter's) leaves the queue,
        giving back the start the call may have admitted.
        """
        if self._closed:
            raise ClientClosedError("the Redis rate limiter is closed")
        call = asyncio.ensure_future(self._script(keys=keys, args=args))
        try:
            # asyncio.wait, unlike wait_for, leaves the call running if this task is cancelled.
            done, _ = await asyncio.wait((call,), timeout=bound)
        except asyncio.CancelledError:
            self._abandon(call, keys, token)
            raise
        if not done:
            self._abandon(call, keys, token)
            if bound < self.op_timeout:
                raise _DeadlinePassed
            self._lost(TimeoutError())
            raise _Unavailable
        try:
            answer = int(call.result())
        except (RedisError, OSError) as error:
            self._lost(error)
            raise _Unavailable from None
        self._found()
        return answer

    def _abandon(self, call: asyncio.Future[Any], keys: list[str], token: str | None) -> None:
        """Stop waiting for ``call``; for a waiter's, give back what it may have admitted."""
        if token is None:
            call.cancel()
            call.add_done_callback(_ignore_outcome)
        else:
            self._clean_up(lambda: self._give_back(call, keys, token))

    async def _give_back(self, call: asyncio.Future[Any], keys: list[str], token: str) -> None:
        """Let an abandoned call end (for ``op_timeout`` at most), then leave the queue and
        give back the start it may have admitted."""
        await asyncio.wait((call,), timeout=self.op_timeout)
        call.cancel()
        call.add_done_callback(_ignore_outcome)
        await self._leave(keys, token)

    async def _leave(self, keys: list[str], token: str) -> None:
        """Take ``token`` out of the queue and the recorded starts; a fault is only logged."""
        try:
            with anyio.fail_after(self.op_timeout):
                await self._script(keys=keys, args=["leave", token])
        except (RedisError, OSError, TimeoutError) as error:
            logger.debug(
                "shared rate limiter: could not leave the queue (%s)", type(error).__name__
            )

    def _clean_up(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work()`` in the background, kept until done (``aclose`` waits for it); once
        closed, leave Redis alone."""
        if not self._closed:
            task = asyncio.ensure_future(work())
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    def _lost(self, error: BaseException) -> None:
        """Redis failed: warn once per outage."""
        if self._answering:
            self._answering = False
            logger.warning(
                "shared rate limiter: Redis is unavailable (%s); pacing in-process at %d%% of "
                "the rate until it answers again",
                type(error).__name__,
                round(self.fallback_share * 100),
            )

    def _found(self) -> None:
        """Redis answered: note the end of an outage."""
        if not self._answering:
            self._answering = True
            logger.info("shared rate limiter: Redis answers again; back to the shared budget")


class RedisBudget:
    """One key's budget, shared through Redis, with an in-process ``Pacer`` for when Redis is
    away. Made by ``RedisRateLimiter.budget``."""

    def __init__(
        self, limiter: RedisRateLimiter, fingerprint: str, rate: int, clock: Clock
    ) -> None:
        if rate < 1:
            raise ConfigurationError(f"rate must be at least 1 request per second, got {rate!r}")
        self.rate = rate
        """Requests per second the budget allows, at most."""
        self._limiter = limiter
        self._clock = clock
        base = limiter.prefix + fingerprint
        self._keys = [base, base + ":hold", base + ":queue", base + ":seen"]
        self._window_us = round((1.0 + _limiter.SAFETY_MARGIN) * 1_000_000)
        self._fallback = Pacer(self._fallback_rate(rate), clock)
        self._retry_at = -math.inf
        """When, on ``clock``, to try Redis again after it failed this budget."""

    def _fallback_rate(self, rate: int) -> int:
        return max(1, math.floor(rate * self._limiter.fallback_share))

    def lower_rate(self, rate: int) -> None:
        """Allow at most ``rate`` starts per window from now on (a smaller rate only)."""
        if 1 <= rate < self.rate:
            self.rate = rate
            self._fallback.lower_rate(self._fallback_rate(rate))

    def _use_redis(self, now: float) -> bool:
        return self._limiter.shared or now >= self._retry_at

    def _failed(self) -> None:
        self._retry_at = self._clock.monotonic() + self._limiter.probe_interval

    async def wait_turn(self, deadline: float | None = None) -> bool:
        """Wait for a turn in the shared budget; ``False``, taking none, if it would come after
        ``deadline`` (on the client's clock). While Redis is away, wait in-process."""
        limiter = self._limiter
        clock = self._clock
        token = secrets.token_hex(8)
        args = ["take", token, self.rate, self._window_us, round(WAITER_LEASE * 1e6)]
        while True:
            now = clock.monotonic()
            if not self._use_redis(now):
                # Redis failed: a ticket this waiter left in its queue lapses after WAITER_LEASE.
                return await self._fallback.wait_turn(deadline)
            bound = limiter.op_timeout
            if deadline is not None:
                if now >= deadline:
                    break
                bound = min(bound, deadline - now)
            try:
                wait_ms = await limiter._run(self._keys, args, bound, token)
            except _Unavailable:
                self._failed()
                continue
            except _DeadlinePassed:
                return False  # the abandoned call leaves the queue itself
            if wait_ms == 0:
                return True
            wait = wait_ms / 1000
            if deadline is not None and clock.monotonic() + wait > deadline:
                break
            try:
                await clock.sleep(min(wait, MAX_POLL))
            except asyncio.CancelledError:
                limiter._clean_up(lambda: limiter._leave(self._keys, token))
                raise
        limiter._clean_up(lambda: limiter._leave(self._keys, token))
        return False

    async def report_rate_limited(self, retry_after: float | None) -> None:
        """Hold every process back for ``retry_after`` (at most ``MAX_HOLD``), or the API's
        one-second window without it. While Redis is away, slow the in-process pacer."""
        hold = RATE_LIMIT_WAIT if retry_after is None else min(retry_after, MAX_HOLD)
        if self._use_redis(self._clock.monotonic()) and hold > 0:
            try:
                await self._limiter._run(
                    self._keys, ["hold", "", math.ceil(hold * 1000)], self._limiter.op_timeout, None
                )
                return
            except _Unavailable:
                self._failed()
        self._fallback.rate_limited()


def _finite(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a finite real number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_seconds(name: str, value: float) -> None:
    if not (_finite(value) and value > 0):
        raise ConfigurationError(
            f"RedisRateLimiter.{name} must be a positive number of seconds, got {value!r}"
        )


def _ignore_outcome(call: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned call's outcome, so asyncio does not report it as never read."""
    if not call.cancelled():
        call.exception()
