"""A fake clock for the SDK's waits (backoff, pacing, job polling), so tests never sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FakeClock:
    """A ``msgflash_async.Clock`` that never really waits.

    ``sleep`` records the wait, moves time on, calls ``on_sleep`` (for example
    ``lambda _: server.advance_jobs(1)``, so each poll of a job sees one more batch done) and
    yields to the event loop once. Pass it as ``MsgFlash(..., clock=FakeClock())``.
    """

    def __init__(
        self, start: float = 1_000.0, *, on_sleep: Callable[[float], None] | None = None
    ) -> None:
        self.now = start
        self.sleeps: list[float] = []
        """Every wait asked for, in order."""
        self._on_sleep = on_sleep

    def monotonic(self) -> float:
        """The fake time, in seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the wait and move time on, without waiting."""
        self.sleeps.append(seconds)
        self.now += seconds
        if self._on_sleep is not None:
            self._on_sleep(seconds)
        await asyncio.sleep(0)
