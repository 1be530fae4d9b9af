"""Checks on arguments, run before anything is sent (specification §1.9).

Each check returns the value to send, or raises ``InvalidInputError`` naming the field
(never another exception, whatever the argument). Strings are returned as plain ``str`` (a
subclass is copied) and may not hold lone surrogates (``"\\ud800"``), which no UTF-8 body or
URL can carry; numbers only ASCII digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Literal, get_args
from urllib.parse import quote

from . import _json
from ._errors import InvalidInputError

__all__ = [
    "MAX_IDS_PER_REQUEST",
    "MAX_META_DEPTH",
    "ContactSort",
    "check_color",
    "check_cursor",
    "check_contact_ids",
    "check_count",
    "check_description",
    "check_limit",
    "check_meta",
    "check_name",
    "check_phone",
    "check_search",
    "search_param",
    "check_sort",
    "check_tags",
    "path_id",
]

MAX_IDS_PER_REQUEST = 10_000
MAX_META_DEPTH = 64
"""How deeply ``meta`` may nest objects and arrays (the object itself is level 1).

The API's 16 KiB limit leaves no room for real data far below this; the bound keeps a
circular or absurdly deep ``meta`` from exhausting the stack in the JSON encoders.
"""
ContactSort = Literal["createdAt_desc", "name_asc"]
"""The orders of ``contacts.list``: newest first, or by name."""
CONTACT_SORTS: tuple[ContactSort, ...] = get_args(ContactSort)
# Explicit ASCII classes: \d and \w also match other scripts' digits and letters.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_META_MAX_BYTES = 16_384
_plain_segment = re.compile(r"[A-Za-z0-9_-]+").fullmatch


def _text(field: str, value: object) -> str:
    """``value`` as a plain ``str`` that UTF-8 can encode."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, not {type(value).__name__}")
    text = str.__str__(value)  # a plain copy of a subclass, whatever it overrides
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as exc:
            raise InvalidInputError(
                field, f"holds a lone surrogate at index {exc.start}, which UTF-8 cannot encode"
            ) from None
    return text


def _string(field: str, value: object, *, min_len: int, max_len: int) -> str:
    text = _text(field, value)
    if not min_len <= len(text) <= max_len:
        raise InvalidInputError(
            field, f"must be {min_len} to {max_len} characters long (got {len(text)})"
        )
    return text


def _id(field: str, value: object) -> str:
    """An id: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(field, f"must be a non-empty string, got {value!r}")
    return _text(field, value)


def _integer(field: str, value: object, *, low: int, high: int | None, shape: str) -> int:
    """``value`` as a plain ``int`` from ``low`` to ``high``; never a bool."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be {shape}, got {value!r}")
    number = int.__index__(value)  # a plain copy of a subclass, as for strings
    if number < low or (high is not None and number > high):
        raise InvalidInputError(field, f"must be {shape}, got {number!r}")
    return number


def _list(field: str, value: object, what: str, max_count: int | None) -> list[object]:
    """The items of a list-like argument: any iterable but a string, bytes or a mapping.

    Reads at most ``max_count + 1`` items, enough to tell there are too many.
    """
    if isinstance(value, (str, bytes, bytearray, memoryview, Mapping)) or not isinstance(
        value, Iterable
    ):
        raise InvalidInputError(field, f"must be a list of {what}, not {type(value).__name__}")
    items = list(value if max_count is None else islice(value, max_count + 1))
    if max_count is not None and len(items) > max_count:
        raise InvalidInputError(field, f"must hold at most {max_count} {what}")
    return items


def check_name(value: object, field: str = "name") -> str:
    """A contact or group name: 1 to 100 characters."""
    if type(value) is str and 0 < len(value) <= 100 and value.isascii():
        return value  # the common case, whole, without a call: ASCII is always encodable
    return _string(field, value, min_len=1, max_len=100)


def check_phone(value: object) -> str:
    """An E.164 phone number such as ``+33612345000`` (ASCII digits only)."""
    if not isinstance(value, str) or _E164.fullmatch(value) is None:
        raise InvalidInputError(
            "phone", f"must be an E.164 number like +33612345000, got {value!r}"
        )
    return value if type(value) is str else _text("phone", value)  # a subclass's plain copy


def check_tags(value: object) -> list[str]:
    """At most 50 tags of 1 to 50 characters each."""
    tags = _list("tags", value, "tags", 50)
    return [_string(f"tags[{index}]", tag, min_len=1, max_len=50) for index, tag in enumerate(tags)]


def check_meta(value: object) -> dict[str, Any]:
    """A JSON object whose compact UTF-8 encoding is at most 16384 bytes.

    Returned as a copy made of plain dicts, lists, strings and numbers; nested at most
    ``MAX_META_DEPTH`` levels deep, and never circular.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError("meta", f"must be a mapping, not {type(value).__name__}")
    meta = _plain_json(value)
    try:
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


_Container = dict[str, Any] | list[Any]


def _plain_json(top: Mapping[Any, Any]) -> dict[str, Any]:
    """A copy of ``top`` in plain JSON types, walked without recursion.

    Every value costs at least one byte of JSON, so more values than the size limit allows
    bytes stop the walk early, as do circles and nesting beyond ``MAX_META_DEPTH``.
    """
    root: dict[str, Any] = {}
    # One entry per open container: its remaining (key or index, value) pairs, its copy,
    # and the id of the original, which is on the current path until the entry is done.
    stack: list[tuple[Iterator[tuple[object, object]], _Container, int]] = [
        (iter(top.items()), root, id(top))
    ]
    on_path = {id(top)}
    values = 0
    while stack:
        pairs, target, source_id = stack[-1]
        pair = next(pairs, None)
        if pair is None:
            stack.pop()
            on_path.discard(source_id)
            continue
        key, item = pair
        values += 1
        if values > _META_MAX_BYTES:
            raise InvalidInputError(
                "meta", f"must encode to at most {_META_MAX_BYTES} bytes of JSON (too many values)"
            )
        if isinstance(target, dict):
            if not isinstance(key, str):
                raise InvalidInputError(
                    "meta", f"object keys must be strings, not {type(key).__name__}"
                )
            key = _text("meta", key)
        if isinstance(item, (Mapping, list, tuple)):
            if id(item) in on_path:
                raise InvalidInputError("meta", f"must not contain itself (at {key!r})")
            if len(stack) >= MAX_META_DEPTH:
                raise InvalidInputError(
                    "meta", f"must not nest more than {MAX_META_DEPTH} levels deep"
                )
            child: Any = {} if isinstance(item, Mapping) else []
            inner = iter(item.items()) if isinstance(item, Mapping) else enumerate(item)
            stack.append((inner, child, id(item)))
            on_path.add(id(item))
        else:
            child = _plain_scalar(key, item)
        if isinstance(target, dict):
            target[str(key)] = child
        else:
            target.append(child)
    return root


def _plain_scalar(key: object, item: object) -> object:
    """A JSON scalar as its plain type: a string, a number, true, false or null."""
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, str):
        return _text("meta", item)
    if isinstance(item, int):
        return int.__index__(item)
    if isinstance(item, float):
        return float.__float__(item)
    raise InvalidInputError("meta", f"must be plain JSON, not {type(item).__name__} (at {key!r})")


def check_description(value: object) -> str | None:
    """A group description of at most 255 characters, or ``None`` for none."""
    return None if value is None else _string("description", value, min_len=0, max_len=255)


def check_color(value: object) -> str | None:
    """A ``#RRGGBB`` colour, or ``None`` for none."""
    if value is None:
        return None
    if not isinstance(value, str) or _COLOR.fullmatch(value) is None:
        raise InvalidInputError("color", f"must look like #RRGGBB, got {value!r}")
    return _text("color", value)


def check_contact_ids(value: object, *, max_count: int | None = MAX_IDS_PER_REQUEST) -> list[str]:
    """A non-empty list of contact ids (non-empty strings), at most ``max_count`` of them."""
    ids = _list("contact_ids", value, "ids", max_count)
    if not ids:
        raise InvalidInputError("contact_ids", "must hold at least one id")
    return [_id(f"contact_ids[{index}]", contact_id) for index, contact_id in enumerate(ids)]


def check_limit(value: object) -> int:
    """A page size from 1 to 100."""
    return _integer("limit", value, low=1, high=100, shape="an integer from 1 to 100")


def check_count(field: str, value: object) -> int:
    """A number of items to stop after (``max_items``, ``collect(limit=...)``): 0 or more."""
    return _integer(field, value, low=0, high=None, shape="a non-negative integer")


def check_search(value: object) -> str:
    """A search string of 1 to 100 characters."""
    return _string("search", value, min_len=1, max_len=100)


def search_param(value: object) -> dict[str, str]:
    """The ``search`` query of a list: none for ``None`` or ``""`` (an empty web-form field
    means no filter), else the checked string."""
    return {} if value is None or value == "" else {"search": check_search(value)}


def check_sort(value: object) -> str:
    """A contacts sort order: ``createdAt_desc`` or ``name_asc``."""
    if not isinstance(value, str) or value not in CONTACT_SORTS:
        raise InvalidInputError("sort", f"must be one of {', '.join(CONTACT_SORTS)}, got {value!r}")
    return _text("sort", value)


def check_cursor(value: object) -> str:
    """A cursor the server issued; passed back untouched."""
    return _string("cursor", value, min_len=1, max_len=10_000)


def path_id(field: str, value: object) -> str:
    """An id made safe for one URL path segment.

    Every reserved character is percent-encoded, so ``a/b`` or ``?x`` cannot leave the
    segment, and the dot segments ``.`` and ``..`` are refused outright.
    """
    if type(value) is str and _plain_segment(value):  # ids are UUIDs: nothing to encode
        return value
    text = _id(field, value)
    if _plain_segment(text):  # a str subclass's plain copy
        return text
    if text in {".", ".."}:
        raise InvalidInputError(field, f"cannot be {text!r}")
    return quote(text, safe="")
