"""Helpers of the fake server's own tests: raw HTTP calls and canned server options."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from msgflash_async.testing import Contact, Group, Workspace

API = "/api/v1"

FAST: dict[str, Any] = {"rate_limit": None, "manual_jobs": True}
"""Server options for tests that are not about limits or real-time jobs."""

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
TIMESTAMP_PATTERN = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@attrs.frozen
class Reply:
    """A raw response: status, parsed JSON body (None if not JSON) and headers."""

    status: int
    body: Any
    headers: CIMultiDictProxy[str]

    @property
    def data(self) -> Any:
        """The success payload."""
        assert self.status < 300, self.body
        return self.body["data"]

    @property
    def error(self) -> Any:
        """The error object."""
        assert self.status >= 400, self.body
        return self.body["error"]


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    json: Any = None,
    data: str | bytes | io.BytesIO | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send ``method`` to ``/api/v1`` + ``path``; ``data`` sends a raw body."""
    async with http.request(
        method, API + path, json=json, data=data, params=params, headers=headers
    ) as response:
        text = await response.text()
        try:
            body = await response.json(content_type=None) if text else None
        except ValueError:
            body = None
        return Reply(response.status, body, response.headers)


def details(reply: Reply) -> list[tuple[str, str]]:
    """The ``(field, message)`` pairs of a validation error."""
    assert reply.status == 400, reply.body
    assert reply.error["code"] == "VALIDATION_ERROR"
    return [(item["field"], item["message"]) for item in reply.error["details"]]


def seed_group(
    ws: Workspace, count: int, members: int | None = None
) -> tuple[list[Contact], Group]:
    """``count`` new contacts, and a new group "G" holding the first ``members`` (default all)."""
    contacts = ws.seed_contacts(count)
    group = ws.add_group("G")
    ws.add_members(group.id, ids_of(contacts[:members]))
    return contacts, group


def ids_of(contacts: list[Contact]) -> list[str]:
    """The ids of ``contacts``."""
    return [contact.id for contact in contacts]


class ManualClock:
    """A clock that stands still until ``advance`` is called."""

    def __init__(self, start: datetime = datetime(2026, 4, 1, 10, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self.now += delta
