"""A bounded log of the requests the server answered, for assertions in tests."""

from __future__ import annotations

import json
from collections import deque

import attrs

from ._json import JSONValue


@attrs.frozen
class LoggedRequest:
    """One request and the status it got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lowercased."""
    body: JSONValue
    """The JSON body, or None if it was empty or not JSON."""
    route: str
    """The route name, ``"unknown"`` for unmatched paths."""
    status: int | None
    """None when the connection was dropped without an answer."""
    fault: str | None
    """The fault kind injected, ``"injected"`` for a one-off response, or None."""


class RequestLog:
    """The last ``size`` requests (all if ``size`` is None; none if 0)."""

    def __init__(self, size: int | None) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)

    @property
    def enabled(self) -> bool:
        """Whether anything is kept."""
        return self._entries.maxlen != 0

    def append(self, entry: LoggedRequest) -> None:
        """Keep ``entry``, dropping the oldest one when full."""
        self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        """The kept requests, oldest first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every request."""
        self._entries.clear()


def parse_logged_body(raw: bytes) -> JSONValue:
    """The JSON value of a request body, or None."""
    try:
        value: JSONValue = json.loads(raw)
    except ValueError:
        return None
    return value
