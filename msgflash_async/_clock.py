"""The time source behind backoff, pacing and job polling; tests swap in a fake one."""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    """Something that tells monotonic time and can wait."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``anyio.sleep``."""

    monotonic = staticmethod(time.monotonic)
    """Seconds from ``time.monotonic`` (the function itself: no Python call in between)."""

    async def sleep(self, seconds: float) -> None:
        """Wait with ``anyio.sleep``."""
        await anyio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The clock clients use unless given one; one instance, so clients can share pacing."""
