"""What the benchmark server answers and how the hand-written baselines decode it.

The server pre-builds its answers from these payloads; the raw baselines build the SDK's own
model classes by hand, datetimes included, so the SDK and the baselines end with the same
objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from msgflash_async import Contact, GroupMember

__all__ = [
    "API_KEY",
    "CONTACT",
    "CONTACT_ID",
    "GROUP_ID",
    "PAGE_SIZE",
    "contact_from_json",
    "member_from_json",
    "members_page",
    "parse_timestamp",
]

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
"""A well-formed personal key; the benchmark server does not check it."""

CONTACT_ID = "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47"
GROUP_ID = "8a6e0f3b-52c1-4d7e-a1f9-6c2b3d4e5f60"
PAGE_SIZE = 100
"""Members per page, the largest ``limit`` the API allows."""

CONTACT: dict[str, Any] = {
    "id": CONTACT_ID,
    "name": "Awa Doe",
    "phone": "+33612345000",
    "tags": ["vip", "newsletter"],
    "meta": {"city": "Cotonou"},
    "temperature": None,
    "createdAt": "2026-04-01T10:00:00.000Z",
    "updatedAt": "2026-04-01T10:00:00.000Z",
}
"""The full contact of the specification's examples (section 3.1)."""


def _timestamp(seconds: int) -> str:
    # Seconds after 2026-04-01T00:00:00Z as a wire timestamp (valid up to 30 days).
    return (
        f"2026-04-{1 + seconds // 86400:02d}T{seconds // 3600 % 24:02d}:"
        f"{seconds // 60 % 60:02d}:{seconds % 60:02d}.000Z"
    )


def _member(index: int) -> dict[str, Any]:
    return {
        "id": f"{index:08x}-7b4d-4e21-9c55-{index:012x}",
        "name": f"Member {index}",
        "phone": f"+336{index:08d}",
        "tags": ["vip"] if index % 2 else [],
        "meta": {},
        "temperature": None,
        "createdAt": _timestamp(index),
        "updatedAt": _timestamp(index),
        "addedAt": _timestamp(index + 60),
    }


def members_page(page: int, total: int) -> bytes:
    """The body of page ``page`` (0 first) of a group of ``total`` members.

    Cursors are page numbers as strings: page ``n`` points to ``"n+1"`` unless it is the last.
    """
    start = page * PAGE_SIZE
    stop = min(start + PAGE_SIZE, total)
    has_more = stop < total
    return orjson.dumps(
        {
            "data": {
                "members": [_member(index) for index in range(start, stop)],
                "nextCursor": str(page + 1) if has_more else None,
                "hasMore": has_more,
                "total": total,
                "limit": PAGE_SIZE,
            }
        }
    )


def parse_timestamp(value: str) -> datetime:
    """A wire timestamp (``...000Z``) as an aware datetime, the way hand-written code would."""
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


_ContactArgs = tuple[str, str, str, tuple[str, ...], dict[str, Any], Any, datetime, datetime]


def _contact_args(obj: dict[str, Any]) -> _ContactArgs:
    # Contact's fields in order; GroupMember adds added_at after them.
    return (
        obj["id"],
        obj["name"],
        obj["phone"],
        tuple(obj["tags"]),
        obj["meta"],
        obj["temperature"],
        parse_timestamp(obj["createdAt"]),
        parse_timestamp(obj["updatedAt"]),
    )


def contact_from_json(obj: dict[str, Any]) -> Contact:
    """A :class:`Contact` built by hand from its decoded JSON object."""
    return Contact(*_contact_args(obj))


def member_from_json(obj: dict[str, Any]) -> GroupMember:
    """A :class:`GroupMember` built by hand from its decoded JSON object."""
    return GroupMember(*_contact_args(obj), added_at=parse_timestamp(obj["addedAt"]))
