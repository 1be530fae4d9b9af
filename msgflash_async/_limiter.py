"""Client-side limits: pacing to the API's request rate and a cap on requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections import deque
from typing import Protocol

import anyio

from ._clock import SYSTEM_CLOCK, Clock

__all__ = [
    "InProcessRateLimiter",
    "Pacer",
    "RateBudget",
    "RateLimiter",
    "RequestLimiter",
    "key_fingerprint",
    "shared_pacer",
]

SAFETY_MARGIN = 0.05
"""Seconds added to the one-second window: requests paced exactly at the limit would reach the
server with jitter and some would land in the same server-side window."""

RATE_LIMIT_WINDOW = 1.0
"""The API's rate-limit window in seconds: a pacer halves its pace at most once per window, so
the 429s of requests sent together count as one."""

MIN_THROTTLED_RATE = 0.5
"""The slowest a pacer gets after repeated 429s, in requests per second."""

RECOVERY_SHARE_PER_SECOND = 0.25
"""How fast a throttled pacer climbs back: this share of its rate, each second (from half the
rate to all of it in two seconds)."""


class RateBudget(Protocol):
    """One key's request budget on one server: when the next request may start."""

    rate: int
    """Requests per second the budget allows, at most."""

    async def wait_turn(self, deadline: float | None = None) -> bool:
        """Wait for a turn to start a request; ``False``, taking none, if it would come after
        ``deadline`` (on the client's clock)."""
        ...

    async def report_rate_limited(self, retry_after: float | None) -> None:
        """Take a 429 into account (``retry_after``: the server's ``Retry-After``, if any)."""
        ...


class RateLimiter(Protocol):
    """Hands out ``RateBudget`` objects, one per key and server.

    The default, ``InProcessRateLimiter``, shares a budget among the clients of one
    process; ``msgflash_async.redis.RedisRateLimiter`` shares it among processes and machines.
    """

    def budget(self, fingerprint: str, rate: int, clock: Clock) -> RateBudget:
        """The budget of the key and server that ``fingerprint`` names (see
        ``key_fingerprint``), at ``rate`` requests per second."""
        ...

    async def aclose(self) -> None:
        """Release what the limiter holds (connections); budgets handed out stop working."""
        ...


def key_fingerprint(api_key: str, origin: str) -> str:
    """A hash naming one key on one server (a normalised origin): never the key itself."""
    return hashlib.sha256(f"{origin}\0{api_key}".encode()).hexdigest()


class Pacer:
    """Lets at most ``rate`` requests start in any window of ``1 + SAFETY_MARGIN`` seconds.

    It keeps the start times of the last ``rate`` requests rather than holding a lock, so it
    costs nothing below the rate, and it depends on no event loop, so clients on different
    loops can share it.

    It adapts to 429 answers, as botocore's adaptive retry mode does: ``rate_limited``
    halves the pace, which then climbs back by ``RECOVERY_SHARE_PER_SECOND`` of the rate each
    second; the refused call itself waits out the window (or ``Retry-After``) before its retry.
    Other processes on the same key make the server's budget smaller than ``rate``; this is
    how one process notices and yields.
    """

    def __init__(self, rate: int, clock: Clock) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 request per second")
        self.rate = rate
        self._clock = clock
        self._window = 1.0 + SAFETY_MARGIN
        self._starts: deque[float] = deque(maxlen=rate)
        # While throttled: the pace right after the last 429, and when that 429 came.
        self._throttled_rate: float | None = None
        self._throttled_at = float("-inf")

    def lower_rate(self, rate: int) -> None:
        """Allow at most ``rate`` starts per window from now on (a smaller rate only)."""
        if 1 <= rate < self.rate:
            self.rate = rate
            self._starts = deque(self._starts, maxlen=rate)

    def current_rate(self) -> float:
        """Requests per second the pacer allows now: ``rate``, or less after 429 answers."""
        return self._pace(self._clock.monotonic()) or float(self.rate)

    def _pace(self, now: float) -> float | None:
        """The throttled pace at ``now``, or ``None`` once it has climbed back to ``rate``."""
        if self._throttled_rate is None:
            return None
        recovered = RECOVERY_SHARE_PER_SECOND * self.rate * (now - self._throttled_at)
        pace = self._throttled_rate + recovered
        if pace >= self.rate:
            self._throttled_rate = None
            return None
        return pace

    async def wait_turn(self, deadline: float | None = None) -> bool:
        """Wait until one more request may start; ``False`` if that is after ``deadline``.

        Only actual starts are recorded, so a caller cancelled while waiting, or refused for
        its deadline, takes no turn.
        """
        starts = self._starts
        clock = self._clock
        while True:
            now = clock.monotonic()
            turn = starts[0] + self._window if len(starts) == self.rate else now
            if self._throttled_rate is not None and starts:
                pace = self._pace(now)
                if pace is not None:
                    turn = max(turn, starts[-1] + 1.0 / pace)
            if turn <= now:
                starts.append(now)
                return True
            if deadline is not None and turn > deadline:
                return False
            await clock.sleep(turn - now)

    async def report_rate_limited(self, retry_after: float | None) -> None:
        """Take a 429 into account: see ``rate_limited``; the refused call itself waits
        out ``retry_after``."""
        self.rate_limited()

    def rate_limited(self) -> None:
        """Take a 429 into account: halve the pace, once per window."""
        now = self._clock.monotonic()
        if now >= self._throttled_at + RATE_LIMIT_WINDOW:
            pace = self._pace(now) or float(self.rate)
            self._throttled_rate = max(MIN_THROTTLED_RATE, pace / 2)
            self._throttled_at = now


class InProcessRateLimiter:
    """The default ``RateLimiter``: one ``Pacer`` per key and server, shared by
    every client of this process using them (and the same clock). It holds nothing to close.
    """

    def __init__(self) -> None:
        self._pacers: weakref.WeakValueDictionary[tuple[str, int], Pacer] = (
            weakref.WeakValueDictionary()
        )

    def budget(self, fingerprint: str, rate: int, clock: Clock) -> Pacer:
        """The shared pacer; clients asking different rates share the smallest."""
        key = (fingerprint, id(clock))
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = self._pacers[key] = Pacer(rate, clock)
        elif rate < pacer.rate:
            pacer.lower_rate(rate)
        return pacer

    async def aclose(self) -> None:
        """Nothing to release."""


IN_PROCESS = InProcessRateLimiter()
"""The limiter clients use unless given one: one instance, so clients share pacing."""


def shared_pacer(api_key: str, origin: str, rate: int, clock: Clock) -> Pacer:
    """The in-process pacer for one key on one server (``origin`` normalised)."""
    return IN_PROCESS.budget(key_fingerprint(api_key, origin), rate, clock)


class RequestLimiter:
    """Paces requests and caps how many are in flight: ``acquire`` before, ``release`` after.

    The slots are counted here rather than by an ``asyncio.Semaphore``, so that a request can
    take a free slot without a coroutine (``try_acquire``): this is on the path of every
    request. A slot given back goes straight to the longest waiter, first come, first served.
    """

    def __init__(
        self,
        pacer: RateBudget | None,
        max_in_flight: int | None,
        clock: Clock = SYSTEM_CLOCK,
        rate: int | None = None,
    ) -> None:
        self.pacer = pacer
        self.rate = rate
        """The pacer's requests per second (``None`` when unpaced), for estimates."""
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._free_slots = max_in_flight
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.in_flight = 0
        """How many requests hold a slot right now."""

    def try_acquire(self) -> bool:
        """Take a slot at once if one is free and no pacing applies; ``False`` otherwise
        (then ``acquire`` waits)."""
        if self.pacer is not None or self._free_slots == 0:
            return False
        if self._free_slots is not None:
            self._free_slots -= 1
        self.in_flight += 1
        return True

    async def acquire(self, deadline: float | None = None) -> bool:
        """Wait for a slot and the pacer's turn; ``False``, holding nothing, if ``deadline``
        (on the limiter's clock) passes first. On cancellation, hold nothing."""
        if self._free_slots == 0:
            if not await self._wait_for_slot(deadline):
                return False
        elif self._free_slots is not None:
            self._free_slots -= 1
        self.in_flight += 1
        if self.pacer is not None:
            try:
                started = await self.pacer.wait_turn(deadline)
            except BaseException:
                self.release()
                raise
            if not started:
                self.release()
                return False
        return True

    async def _wait_for_slot(self, deadline: float | None) -> bool:
        """Wait until a released slot is handed over; ``False`` if ``deadline`` comes first."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if deadline is None:
                await waiter
            else:
                # A cancel scope, not wait_for: no inner task that could take a slot and lose it.
                with anyio.move_on_after(deadline - self._clock.monotonic()):
                    await waiter
        except BaseException:
            self._leave(waiter)
            raise
        if waiter.done() and not waiter.cancelled():
            return True  # handed a slot, perhaps just as the deadline came: the caller checks it
        self._leave(waiter)
        return False

    def _leave(self, waiter: asyncio.Future[None]) -> None:
        """Take ``waiter`` out of the queue; a slot it was handed goes to the next one."""
        if waiter.done() and not waiter.cancelled():
            self._hand_over()
        else:
            waiter.cancel()
            with contextlib.suppress(ValueError):  # already taken out by ``_hand_over``
                self._waiters.remove(waiter)

    def _hand_over(self) -> None:
        """Give a slot to the longest waiter still waiting, or back to the free ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        if self._free_slots is not None:
            self._free_slots += 1

    def release(self) -> None:
        """Give the slot back."""
        self.in_flight -= 1
        if self._waiters:
            self._hand_over()
        elif self._free_slots is not None:
            self._free_slots += 1
