"""Checks on arguments, run before anything is sent (specification §1.9).

Each check returns the value to send, or raises :class:`InvalidInputError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from . import _json
from ._errors import InvalidInputError

__all__ = [
    "MAX_IDS_PER_REQUEST",
    "check_color",
    "check_cursor",
    "check_contact_ids",
    "check_description",
    "check_limit",
    "check_meta",
    "check_name",
    "check_phone",
    "check_search",
    "check_sort",
    "check_tags",
    "path_id",
]

MAX_IDS_PER_REQUEST = 10_000
CONTACT_SORTS = ("createdAt_desc", "name_asc")
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_META_MAX_BYTES = 16_384
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _string(field: str, value: object, *, min_len: int, max_len: int) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, not {type(value).__name__}")
    if not min_len <= len(value) <= max_len:
        raise InvalidInputError(
            field, f"must be {min_len} to {max_len} characters long (got {len(value)})"
        )
    return value


def check_name(value: object, field: str = "name") -> str:
    """A contact or group name: 1 to 100 characters."""
    return _string(field, value, min_len=1, max_len=100)


def check_phone(value: object) -> str:
    """An E.164 phone number such as ``+33612345000``."""
    if not isinstance(value, str) or _E164.fullmatch(value) is None:
        raise InvalidInputError(
            "phone", f"must be an E.164 number like +33612345000, got {value!r}"
        )
    return value


def check_tags(value: object) -> list[str]:
    """At most 50 tags of 1 to 50 characters each."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidInputError("tags", "must be a list of strings")
    tags = list(value)
    if len(tags) > 50:
        raise InvalidInputError("tags", f"must hold at most 50 tags (got {len(tags)})")
    for index, tag in enumerate(tags):
        _string(f"tags[{index}]", tag, min_len=1, max_len=50)
    return tags


def check_meta(value: object) -> dict[str, Any]:
    """A JSON object whose compact UTF-8 encoding is at most 16384 bytes."""
    if not isinstance(value, Mapping):
        raise InvalidInputError("meta", f"must be a mapping, not {type(value).__name__}")
    meta = dict(value)
    try:
        _check_string_keys(meta)
        encoded = json.dumps(
            meta, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
        _json.dumps(meta)  # the encoder that sends it must take it too (orjson: 64-bit ints)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("meta", f"must be plain JSON: {exc}") from None
    if len(encoded) > _META_MAX_BYTES:
        raise InvalidInputError(
            "meta", f"must encode to at most {_META_MAX_BYTES} bytes of JSON (got {len(encoded)})"
        )
    return meta


def _check_string_keys(value: object) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
            _check_string_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_string_keys(item)


def check_description(value: object) -> str | None:
    """A group description of at most 255 characters, or ``None`` for none."""
    return None if value is None else _string("description", value, min_len=0, max_len=255)


def check_color(value: object) -> str | None:
    """A ``#RRGGBB`` colour, or ``None`` for none."""
    if value is not None and (not isinstance(value, str) or _COLOR.fullmatch(value) is None):
        raise InvalidInputError("color", f"must look like #RRGGBB, got {value!r}")
    return value


def check_contact_ids(value: object, *, max_count: int | None = MAX_IDS_PER_REQUEST) -> list[str]:
    """A non-empty list of contact ids (strings), at most ``max_count`` of them."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidInputError("contact_ids", "must be a list of id strings")
    ids = list(value)
    if not ids:
        raise InvalidInputError("contact_ids", "must hold at least one id")
    if max_count is not None and len(ids) > max_count:
        raise InvalidInputError(
            "contact_ids", f"must hold at most {max_count} ids (got {len(ids)})"
        )
    for index, contact_id in enumerate(ids):
        if not isinstance(contact_id, str):
            raise InvalidInputError(
                f"contact_ids[{index}]", f"must be a string, not {type(contact_id).__name__}"
            )
    return ids


def check_limit(value: object) -> int:
    """A page size from 1 to 100."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise InvalidInputError("limit", f"must be an integer from 1 to 100, got {value!r}")
    return value


def check_search(value: object) -> str:
    """A search string of 1 to 100 characters."""
    return _string("search", value, min_len=1, max_len=100)


def check_sort(value: object) -> str:
    """A contacts sort order: ``createdAt_desc`` or ``name_asc``."""
    if value not in CONTACT_SORTS:
        raise InvalidInputError("sort", f"must be one of {', '.join(CONTACT_SORTS)}, got {value!r}")
    return str(value)


def check_cursor(value: object) -> str:
    """A cursor the server issued; passed back untouched."""
    return _string("cursor", value, min_len=1, max_len=10_000)


def path_id(field: str, value: object) -> str:
    """An id made safe for one URL path segment.

    Every reserved character is percent-encoded, so ``a/b`` or ``?x`` cannot leave the
    segment, and the dot segments ``.`` and ``..`` are refused outright.
    """
    if not isinstance(value, str) or not value:
        raise InvalidInputError(field, f"must be a non-empty string, got {value!r}")
    if _PLAIN_SEGMENT.fullmatch(value):  # ids are UUIDs: nothing to encode
        return value
    if value in {".", ".."}:
        raise InvalidInputError(field, f"cannot be {value!r}")
    return quote(value, safe="")
