"""The per-key sliding-window rate limit and the monthly request quota (§1.5, §4.2)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

from ._clock import Clock, read_clock
from ._errors import ApiError, rate_limited


class SlidingWindowLimiter:
    """Allows at most ``limit`` requests per key in any sliding window of ``window`` seconds.

    Its 429s carry ``Retry-After: 1`` unless ``retry_after`` is False (the vendor documents
    no such header).
    """

    def __init__(
        self,
        limit: int | None,
        *,
        window: float = 1.0,
        retry_after: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("the rate limit must be a positive number of requests, or None")
        if isinstance(window, bool) or not (
            isinstance(window, (int, float)) and 0 < window < math.inf
        ):
            raise ValueError(
                f"the rate limit's window must be a positive number of seconds, got {window!r}"
            )
        self.limit = limit
        self.retry_after = retry_after
        self._window = window
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Raise 429 ``API_RATE_LIMIT_EXCEEDED`` if ``key`` has used up its window."""
        if self.limit is None:
            return
        hits = self._hits.get(key)
        if hits is None:
            return
        horizon = self._monotonic() - self._window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= self.limit:
            raise rate_limited(1 if self.retry_after else None)

    def record(self, key: str) -> None:
        """Count one request for ``key``."""
        if self.limit is not None:
            self._hits.setdefault(key, deque()).append(self._monotonic())


class MonthlyQuota:
    """Counts requests per calendar month (UTC) against an optional limit."""

    def __init__(self, limit: int | None, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._month = (0, 0)
        self._used = 0

    @property
    def used(self) -> int:
        """Requests counted this month."""
        self._roll(read_clock(self._clock))
        return self._used

    def check(self) -> None:
        """Raise 429 ``MONTHLY_API_REQUEST_QUOTA_EXCEEDED`` once the quota is used up."""
        now = read_clock(self._clock)
        self._roll(now)
        if self.limit is not None and self._used >= self.limit:
            raise ApiError(
                429,
                "MONTHLY_API_REQUEST_QUOTA_EXCEEDED",
                "Monthly API request quota exceeded",
                headers={"Retry-After": str(seconds_until_next_month(now))},
            )

    def record(self) -> None:
        """Count one request."""
        self._roll(read_clock(self._clock))
        self._used += 1

    def _roll(self, now: datetime) -> None:
        month = (now.year, now.month)
        if month != self._month:
            self._month = month
            self._used = 0


def seconds_until_next_month(now: datetime) -> int:
    """Whole seconds (at least 1) from ``now`` to 00:00 UTC on the 1st of next month."""
    utc = now.astimezone(timezone.utc)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    return max(1, math.ceil((start - utc).total_seconds()))
