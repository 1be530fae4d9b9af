"""Retry policy and timeouts: plain values, set on the client and overridable per call."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

from ._errors import ConfigurationError

__all__ = ["RetryPolicy", "Timeout", "parse_retry_after"]

MIN_BACKOFF = 0.1
"""The specification's floor on any wait before a retry, in seconds."""

RATE_LIMIT_WAIT = 1.0
"""The least wait after a 429 without ``Retry-After``: the API counts requests in a sliding
window of one second, so an earlier retry would land in the window that refused it."""

RATE_LIMIT_JITTER = 0.25
"""Up to this many seconds are added at random to that wait, so that callers refused together
do not all come back together. A ``Retry-After`` the server sends is followed as it is."""


def _seconds(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a positive, finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a finite number of seconds, "
            f"got {value!r}"
        )
    if value <= 0:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be positive, got {value!r}"
        )


def _optional_seconds(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate ``None`` (no limit) or a positive, finite number of seconds."""
    if value is not None:
        _seconds(instance, attribute, value)


def _count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a whole number of retries, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a whole number from 0, "
            f"got {value!r}"
        )


@attrs.frozen
class Timeout:
    """How long to wait, in seconds; ``None`` means no limit.

    ``connect`` bounds opening a connection (a connect timeout is always safe to retry),
    ``read`` bounds each attempt, from its start to the complete answer (running out is a
    read timeout: the request may have been processed), and ``total`` bounds the whole call,
    every attempt and every wait between attempts included. Keep ``connect`` below ``read``.
    """

    connect: float | None = attrs.field(default=10.0, validator=_optional_seconds)
    read: float | None = attrs.field(default=30.0, validator=_optional_seconds)
    total: float | None = attrs.field(default=120.0, validator=_optional_seconds)

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        """A ``Timeout`` from a ``Timeout``, a number of seconds for ``total``, or ``None``.

        Anything else raises ``ConfigurationError``.
        """
        if isinstance(value, Timeout):
            return value
        return cls(total=value)


@attrs.frozen
class RetryPolicy:
    """When and how a failed request is sent again.

    Failures where the request never left are retried for every method. Answers in
    ``retry_statuses`` and failures after sending (read timeouts, dropped connections) are
    retried only when sending again is safe (GET, PUT, DELETE). Waits grow exponentially with
    full jitter, never below 100 ms, up to ``max_retries`` times.

    A 429 rate-limit answer was never processed, so it is retried for every method, on a
    budget of its own (``max_rate_limit_retries``): it follows ``Retry-After`` when the server
    sends it (unless it asks for more than ``max_retry_after`` seconds), and otherwise waits
    out the API's one-second window. The client's pacing slows down after each one.
    """

    max_retries: int = attrs.field(default=3, validator=_count)
    initial_backoff: float = attrs.field(default=0.5, validator=_seconds)
    max_backoff: float = attrs.field(default=8.0, validator=_seconds)
    max_retry_after: float = attrs.field(default=60.0, validator=_seconds)
    retry_statuses: frozenset[int] = frozenset({408, 500, 502, 503, 504})
    max_rate_limit_retries: int = attrs.field(default=10, validator=_count)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries, not even after a 429."""
        return cls(max_retries=0, max_rate_limit_retries=0)

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry ``retry_number`` (0 for the first), with full jitter."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2**retry_number)
        return max(MIN_BACKOFF, rng.uniform(0, ceiling))

    @staticmethod
    def rate_limit_wait(retry_after: float | None, rng: random.Random) -> float:
        """The wait before retrying a 429: ``Retry-After`` if the server sent one, else the
        rest of the API's window and some jitter."""
        if retry_after is not None:
            return retry_after
        return RATE_LIMIT_WAIT + rng.uniform(0, RATE_LIMIT_JITTER)


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
