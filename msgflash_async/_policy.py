"""Retry policy and timeouts: plain values, set on the client and overridable per call."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import attrs

__all__ = ["RetryPolicy", "Timeout", "parse_retry_after"]

MIN_BACKOFF = 0.1
"""The specification's floor on any wait before a retry, in seconds."""


@attrs.frozen
class Timeout:
    """How long to wait, in seconds; ``None`` means no limit.

    ``connect`` bounds opening a connection (a connect timeout is always safe to retry),
    ``read`` bounds each attempt, from its start to the complete answer (running out is a
    read timeout: the request may have been processed), and ``total`` bounds the whole call,
    every attempt and every wait between attempts included. Keep ``connect`` below ``read``.
    """

    connect: float | None = 10.0
    read: float | None = 30.0
    total: float | None = 120.0

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        """A ``Timeout`` from a ``Timeout``, a number of seconds for ``total``, or ``None``."""
        if isinstance(value, Timeout):
            return value
        return cls(total=None if value is None else float(value))


@attrs.frozen
class RetryPolicy:
    """When and how a failed request is sent again.

    Failures where the request never left, and 429 rate-limit answers, are retried for every
    method. Answers in ``retry_statuses`` and failures after sending (read timeouts, dropped
    connections) are retried only when sending again is safe (GET, PUT, DELETE). Waits grow
    exponentially with full jitter, never below 100 ms, and follow ``Retry-After`` when the
    server sends it, unless it asks for more than ``max_retry_after`` seconds.
    """

    max_retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = frozenset({408, 500, 502, 503, 504})

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_retries=0)

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry ``retry_number`` (0 for the first), with full jitter."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2**retry_number)
        return max(MIN_BACKOFF, rng.uniform(0, ceiling))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: seconds or an HTTP date.

    A date in the past counts as 100 ms; a value that is neither gives ``None``.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(MIN_BACKOFF, seconds)
