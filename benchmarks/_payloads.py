"""What the benchmark server answers: the contact and the groups' pages, as bytes."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "API_KEY",
    "CONTACT",
    "CONTACT_ID",
    "GROUP_ID",
    "PAGE_SIZE",
    "PAGE_SIZES",
    "SMALL_GROUP_ID",
    "contact_id",
    "members_page",
]

API_KEY = "msgf_live_" + "0123456789abcdef" * 4
"""A well-formed personal key; the benchmark server does not check it."""

CONTACT_ID = "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47"


def contact_id(index: int) -> str:
    """The ``index``-th of as many contact ids as a run asks for, each a UUID's shape."""
    return f"{CONTACT_ID[:24]}{index:012d}"


GROUP_ID = "8a6e0f3b-52c1-4d7e-a1f9-6c2b3d4e5f60"
"""The group of the streaming case, served 100 members a page."""
SMALL_GROUP_ID = "5d2c7a1e-93b4-4f08-b6e2-7c1d0a9f3e85"
"""A smaller group served at every size of ``PAGE_SIZES``, for the page-size measurements."""
PAGE_SIZE = 100
"""Members per page, the largest ``limit`` the API allows."""
PAGE_SIZES = (10, 25, 50, 100)

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


def members_page(page: int, total: int, page_size: int = PAGE_SIZE) -> bytes:
    """The body of page ``page`` (0 first) of a group of ``total`` members.

    Cursors are page numbers as strings: page ``n`` points to ``"n+1"`` unless it is the last.
    """
    start = page * page_size
    stop = min(start + page_size, total)
    has_more = stop < total
    return orjson.dumps(
        {
            "data": {
                "members": [_member(index) for index in range(start, stop)],
                "nextCursor": str(page + 1) if has_more else None,
                "hasMore": has_more,
                "total": total,
                "limit": page_size,
            }
        }
    )
