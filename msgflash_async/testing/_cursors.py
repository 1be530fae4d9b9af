"""Opaque keyset cursors: standard base64 of compact JSON ``[kind, sortValue, id]`` (§4.5)."""

from __future__ import annotations

import base64
import binascii
import json

from ._index import Key
from ._json import dumps


class CursorError(ValueError):
    """A cursor that is not base64 of a JSON ``[kind, sortValue, id]`` array of strings."""


def encode_cursor(kind: str, key: Key) -> str:
    """The cursor pointing just past ``key`` in the list ``kind``."""
    return base64.b64encode(dumps([kind, key[0], key[1]]).encode()).decode("ascii")


def decode_cursor(cursor: str) -> tuple[str, Key]:
    """The list kind a cursor was issued for and the key it points past."""
    try:
        decoded = json.loads(base64.b64decode(cursor, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise CursorError("Malformed cursor") from exc
    if not (
        isinstance(decoded, list)
        and len(decoded) == 3
        and all(isinstance(part, str) for part in decoded)
    ):
        raise CursorError("Malformed cursor")
    return decoded[0], (decoded[1], decoded[2])
