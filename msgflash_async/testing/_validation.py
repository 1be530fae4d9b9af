"""Request validation (§1.9): every problem is reported as a ``{field, message}`` detail."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import TypedDict, cast

import attrs

from ._cursors import CursorError, decode_cursor
from ._errors import ApiError
from ._index import Key
from ._json import JSONObject, JSONValue, dumps

MAX_LIMIT = 100
MAX_BULK_IDS = 10_000
MAX_META_BYTES = 16_384

_PHONE = re.compile(r"\+[1-9][0-9]{1,14}")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_INTEGER = re.compile(r"-?[0-9]+")


class Problems:
    """The validation problems of one request, raised together as 400 ``VALIDATION_ERROR``."""

    def __init__(self) -> None:
        self._details: list[dict[str, JSONValue]] = []

    def add(self, field: str, message: str) -> None:
        """Record a problem with ``field`` (a dotted path, or ``"body"``)."""
        self._details.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        """Raise the 400 answer if any problem was recorded."""
        if self._details:
            raise ApiError(400, "VALIDATION_ERROR", "Invalid request data", self._details)


class ContactChanges(TypedDict, total=False):
    """Valid contact fields of a C2 or C4 body; C2 always has ``name`` and ``phone``."""

    name: str
    phone: str
    tags: list[str]
    meta: JSONObject


class GroupChanges(TypedDict, total=False):
    """Valid group fields of a G2 or G4 body; G2 always has ``name``."""

    name: str
    description: str | None
    color: str | None


@attrs.frozen
class ListQuery:
    """The validated query of a list endpoint."""

    limit: int
    sort: str
    search: str | None
    after: Key | None


_Check = Callable[[JSONValue, str, Problems], bool]


def _bounds(min_len: int, max_len: int, unit: str) -> str:
    if min_len == 0:
        return f"at most {max_len} {unit}"
    return f"{min_len} to {max_len} {unit}"


def _text(min_len: int = 0, max_len: int | None = None) -> _Check:
    def check(value: JSONValue, path: str, problems: Problems) -> bool:
        if not isinstance(value, str):
            problems.add(path, "Must be a string")
            return False
        if max_len is not None and not min_len <= len(value) <= max_len:
            problems.add(path, f"Must be {_bounds(min_len, max_len, 'characters')}")
            return False
        return True

    return check


def _matching(pattern: re.Pattern[str], message: str) -> _Check:
    def check(value: JSONValue, path: str, problems: Problems) -> bool:
        if not isinstance(value, str):
            problems.add(path, "Must be a string")
            return False
        if pattern.fullmatch(value) is None:
            problems.add(path, message)
            return False
        return True

    return check


def _array(min_len: int, max_len: int, item: _Check) -> _Check:
    def check(value: JSONValue, path: str, problems: Problems) -> bool:
        if not isinstance(value, list):
            problems.add(path, "Must be an array")
            return False
        valid = min_len <= len(value) <= max_len
        if not valid:
            problems.add(path, f"Must have {_bounds(min_len, max_len, 'items')}")
        items_valid = [item(element, f"{path}.{i}", problems) for i, element in enumerate(value)]
        return valid and all(items_valid)

    return check


def _meta(value: JSONValue, path: str, problems: Problems) -> bool:
    if not isinstance(value, dict):
        problems.add(path, "Must be an object")
        return False
    if len(dumps(value).encode()) > MAX_META_BYTES:
        problems.add(path, f"Must be at most {MAX_META_BYTES} bytes as compact JSON")
        return False
    return True


_NAME = _text(1, 100)
_CONTACT_CHECKS: dict[str, _Check] = {
    "name": _NAME,
    "phone": _matching(_PHONE, "Must be an E.164 phone number, e.g. +33612345000"),
    "tags": _array(0, 50, _text(1, 50)),
    "meta": _meta,
}
_GROUP_CHECKS: dict[str, _Check] = {
    "name": _NAME,
    "description": _text(0, 255),
    "color": _matching(_COLOR, "Must be a #RRGGBB hex colour"),
}
_BULK_CHECKS: dict[str, _Check] = {"contactIds": _array(1, MAX_BULK_IDS, _text())}


def _reject_constant(name: str) -> JSONValue:
    raise ValueError(f"{name} is not JSON")


def _parse_object(raw: bytes, problems: Problems, *, required: bool) -> JSONObject | None:
    """The body as a JSON object, ``{}`` if empty and allowed, None after recording a problem."""
    if not raw.strip():
        if required:
            problems.add("body", "Must be a JSON object")
            return None
        return {}
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        problems.add("body", "Malformed JSON")
        return None
    if not isinstance(value, dict):
        problems.add("body", "Must be a JSON object")
        return None
    return cast(JSONObject, value)


def _check_body(
    raw: bytes,
    problems: Problems,
    checks: Mapping[str, _Check],
    *,
    required: Collection[str] = (),
    nullable: Collection[str] = (),
    body_required: bool = True,
) -> JSONObject:
    """The valid fields of the body; each problem is recorded."""
    body = _parse_object(raw, problems, required=body_required)
    if body is None:
        return {}
    valid: JSONObject = {}
    for key, value in body.items():
        check = checks.get(key)
        if check is None:
            problems.add(key, "Unknown field")
        elif value is None:
            if key in nullable:
                valid[key] = None
            else:
                problems.add(key, "Must not be null")
        elif check(value, key, problems):
            valid[key] = value
    for key in required:
        if key not in body:
            problems.add(key, "Required")
    return valid


def contact_changes(raw: bytes, *, create: bool) -> ContactChanges:
    """The fields of a C2 (``create``) or C4 body."""
    problems = Problems()
    required = ("name", "phone") if create else ()
    valid = _check_body(raw, problems, _CONTACT_CHECKS, required=required)
    problems.raise_if_any()
    return cast(ContactChanges, valid)


def group_changes(raw: bytes, *, create: bool) -> GroupChanges:
    """The fields of a G2 (``create``) or G4 body."""
    problems = Problems()
    required = ("name",) if create else ()
    nullable = ("description", "color")
    valid = _check_body(raw, problems, _GROUP_CHECKS, required=required, nullable=nullable)
    problems.raise_if_any()
    return cast(GroupChanges, valid)


def contact_ids(raw: bytes) -> list[str]:
    """The ``contactIds`` of a C6, G6 or G7 body, as sent."""
    problems = Problems()
    valid = _check_body(raw, problems, _BULK_CHECKS, required=("contactIds",))
    problems.raise_if_any()
    return cast(list[str], valid["contactIds"])


def no_body(raw: bytes) -> None:
    """Accept only an empty body or ``{}``, for endpoints that take none."""
    problems = Problems()
    _check_body(raw, problems, {}, body_required=False)
    problems.raise_if_any()


def list_query(
    query: Mapping[str, str],
    raw: bytes,
    *,
    default_limit: int,
    searchable: bool,
    sorts: tuple[str, ...],
    kind: Callable[[str], str],
) -> ListQuery:
    """The query of a list endpoint; ``sorts[0]`` is the default sort, ``kind(sort)`` names the
    list a cursor must come from.
    """
    problems = Problems()
    limit = default_limit
    raw_limit = query.get("limit")
    if raw_limit is not None:
        if _INTEGER.fullmatch(raw_limit) and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            problems.add("limit", f"Must be an integer from 1 to {MAX_LIMIT}")
    search = query.get("search") if searchable else None
    if search is not None and not 1 <= len(search) <= 100:
        problems.add("search", "Must be 1 to 100 characters")
    sort = query.get("sort", sorts[0]) if sorts else ""
    sort_valid = not sorts or sort in sorts
    if not sort_valid:
        problems.add("sort", f"Must be one of: {', '.join(sorts)}")
    after = None
    cursor = query.get("cursor")
    if cursor is not None:
        try:
            cursor_kind, after = decode_cursor(cursor)
        except CursorError as exc:
            problems.add("cursor", str(exc))
        else:
            if sort_valid and cursor_kind != kind(sort):
                problems.add("cursor", "Cursor was issued for another list, sort or group")
    _check_body(raw, problems, {}, body_required=False)
    problems.raise_if_any()
    return ListQuery(limit=limit, sort=sort, search=search, after=after)
