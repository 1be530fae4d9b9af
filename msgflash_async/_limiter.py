"""Client-side limits: pacing to the API's request rate and a cap on requests in flight."""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections import deque

from ._clock import Clock

__all__ = ["Pacer", "RequestLimiter", "shared_pacer"]

SAFETY_MARGIN = 0.1
"""Seconds added to the one-second window: requests paced exactly at the limit would reach the
server with jitter and some would land in the same server-side window."""


class Pacer:
    """Lets at most ``rate`` requests start in any window of ``1 + SAFETY_MARGIN`` seconds.

    It keeps the start times of the last ``rate`` requests rather than holding a lock, so it
    costs nothing below the rate, and it depends on no event loop, so clients on different
    loops can share it.
    """

    def __init__(self, rate: int, clock: Clock) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 request per second")
        self.rate = rate
        self._clock = clock
        self._window = 1.0 + SAFETY_MARGIN
        self._starts: deque[float] = deque(maxlen=rate)

    async def wait_turn(self) -> None:
        """Wait until one more request may start without exceeding the rate.

        Only actual starts are recorded, so a caller cancelled while waiting takes no turn.
        """
        starts = self._starts
        while True:
            now = self._clock.monotonic()
            if len(starts) < self.rate or starts[0] + self._window <= now:
                starts.append(now)
                return
            await self._clock.sleep(starts[0] + self._window - now)


_shared: weakref.WeakValueDictionary[tuple[str, int, int], Pacer] = weakref.WeakValueDictionary()


def shared_pacer(api_key: str, base_url: str, rate: int, clock: Clock) -> Pacer:
    """The pacer for one key on one server, shared by every client of this process using it."""
    fingerprint = hashlib.sha256(f"{base_url}\0{api_key}".encode()).hexdigest()
    key = (fingerprint, rate, id(clock))
    pacer = _shared.get(key)
    if pacer is None:
        pacer = _shared[key] = Pacer(rate, clock)
    return pacer


class RequestLimiter:
    """Paces requests and caps how many are in flight: ``acquire`` before, ``release`` after."""

    def __init__(self, pacer: Pacer | None, max_in_flight: int | None) -> None:
        self.pacer = pacer
        self.max_in_flight = max_in_flight
        # asyncio's semaphore takes a free slot without yielding to the loop: this is on the
        # path of every request.
        self._slots = None if max_in_flight is None else asyncio.Semaphore(max_in_flight)
        self.in_flight = 0
        """How many requests hold a slot right now."""

    async def acquire(self) -> None:
        """Wait for a slot and for the pacer's turn; on cancellation, hold nothing."""
        if self._slots is not None:
            await self._slots.acquire()
        self.in_flight += 1
        if self.pacer is not None:
            try:
                await self.pacer.wait_turn()
            except BaseException:
                self.release()
                raise

    def release(self) -> None:
        """Give the slot back."""
        self.in_flight -= 1
        if self._slots is not None:
            self._slots.release()
