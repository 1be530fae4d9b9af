"""Timestamps: an injectable clock and a per-workspace strictly increasing stamper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware datetime."""

_ONE_MS = timedelta(milliseconds=1)


def utc_now() -> datetime:
    """The real current time in UTC, the default clock."""
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-04-01T10:00:00.000Z``."""
    # isoformat() ends with "+00:00" for an aware UTC time.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def read_clock(clock: Clock) -> datetime:
    """Call ``clock`` and return its time in UTC, refusing naive datetimes."""
    moment = clock()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock must return an aware datetime")
    return moment.astimezone(timezone.utc)


class Stamper:
    """Issues formatted timestamps that strictly increase, millisecond by millisecond.

    Keyset ordering by ``createdAt`` then follows creation order even when many items are made
    within one millisecond or the injected clock stands still: a time equal to or earlier than
    the previous one is bumped to the previous one plus 1 ms.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: datetime | None = None

    def __call__(self) -> str:
        """The next timestamp."""
        moment = read_clock(self._clock)
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if self._last is not None and moment <= self._last:
            moment = self._last + _ONE_MS
        self._last = moment
        return format_timestamp(moment)
