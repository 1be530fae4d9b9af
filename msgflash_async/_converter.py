"""One cattrs converter between the camelCase wire format and the models."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from attrs import AttrsInstance
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import InvalidInputError
from ._models import (
    AddMembersResult,
    BulkDeleteResult,
    BulkJob,
    Contact,
    ContactGroup,
    GroupMember,
    JobAccepted,
    JobOperation,
    JobStatus,
    RemoveMembersResult,
    camel_case,
)

__all__ = [
    "converter",
    "items_structurer",
    "make_from_dict",
    "make_to_dict",
    "parse_datetime",
    "structurer",
]

T = TypeVar("T")
A = TypeVar("A", bound=AttrsInstance)

converter = cattrs.Converter(detailed_validation=False)


def _camel_case_keys(model: type[Any]) -> dict[str, str]:
    """Each attribute name of ``model`` and its camelCase key on the wire."""
    return {field.name: camel_case(field.name) for field in attrs.fields(model)}


def parse_datetime(value: object) -> datetime:
    """Any ISO-8601 timestamp, or a datetime, as an aware datetime (a naive one is taken as UTC)."""
    if isinstance(value, str):
        try:  # Python 3.11+ reads the API's own form ("…T10:00:00.000Z") directly: the fast path
            parsed = datetime.fromisoformat(value)
        except ValueError:  # Python 3.10, or a form fromisoformat does not take as it is
            if value.endswith(("Z", "z")):
                value = value[:-1] + "+00:00"
            parsed = datetime.fromisoformat(_pad_fraction(value))
    elif isinstance(value, datetime):  # from_dict takes datetimes too
        parsed = value
    else:
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_FRACTION = re.compile(r"\.(\d{1,5})(?=[+-]|$)")


def _pad_fraction(value: str) -> str:
    # Python 3.10's fromisoformat takes only 3 or 6 fraction digits.
    return _FRACTION.sub(lambda m: "." + m.group(1).ljust(6, "0"), value, count=1)


def _enum_or_str(enum_type: type[JobStatus] | type[JobOperation]) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> JobStatus | JobOperation | str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        try:
            return enum_type(value)
        except ValueError:
            return value  # a value newer than this SDK must not break it

    return structure


def _json_object(value: Any, _: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _string(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _integer(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _string_tuple(value: Any, _: Any) -> tuple[str, ...]:
    try:
        if not isinstance(value, list):
            raise TypeError
        "".join(value)  # checks, at C speed, that every item is a string
    except TypeError:
        raise TypeError("expected an array of strings") from None
    return tuple(value)


converter.register_structure_hook(str, _string)
converter.register_structure_hook(int, _integer)
converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))


# Optional fields get direct hooks: cattrs' generic Optional handling costs a layer per field.
def _optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else parse_datetime(value)


converter.register_structure_hook_func(lambda type_: type_ == (datetime | None), _optional_datetime)
converter.register_structure_hook_func(
    lambda type_: type_ == (str | None),
    lambda value, _: None if value is None else _string(value, None),
)
converter.register_structure_hook_func(
    lambda type_: type_ == (int | None),
    lambda value, _: None if value is None else _integer(value, None),
)


_job_status = _enum_or_str(JobStatus)


def _status(value: Any, _: Any) -> JobStatus | str:
    # A job's one required field: whatever else an answer leaves out, it must say this.
    if value == "":
        raise TypeError("expected a job status, got an empty string")
    status: JobStatus | str = _job_status(value, None)
    return status


converter.register_structure_hook(JobStatus | str, _status)
converter.register_structure_hook(JobOperation | str, _enum_or_str(JobOperation))
converter.register_structure_hook_func(lambda type_: type_ == Mapping[str, Any], _json_object)
converter.register_structure_hook_func(lambda type_: type_ == tuple[str, ...], _string_tuple)


def _camel_case_hook(model: type[A], *, computed: tuple[str, ...] = ()) -> Callable[[Any, Any], A]:
    """A hook reading each field from its camelCase key; ``computed`` fields are not read."""
    overrides: dict[str, Any] = {
        name: override(omit=True) if name in computed else override(rename=key)
        for name, key in _camel_case_keys(model).items()
    }
    return make_dict_structure_fn(model, converter, **overrides)


converter.register_structure_hook(ContactGroup, _camel_case_hook(ContactGroup))
converter.register_structure_hook(JobAccepted, _camel_case_hook(JobAccepted))
# Inline answers carry the counters only; the totals they add up to are computed.
converter.register_structure_hook(
    AddMembersResult, _camel_case_hook(AddMembersResult, computed=("processed",))
)
converter.register_structure_hook(
    RemoveMembersResult,
    _camel_case_hook(RemoveMembersResult, computed=("requested", "processed")),
)
_bulk_job_fields = _camel_case_hook(BulkJob)


def _bulk_job(value: Any, _: Any) -> BulkJob:
    # Job objects may name their id ``jobId``, as the 202 body does (§5.7).
    if isinstance(value, dict) and "id" not in value and "jobId" in value:
        value = {**value, "id": value["jobId"]}
    return _bulk_job_fields(value, BulkJob)


converter.register_structure_hook(BulkJob, _bulk_job)


def _bulk_delete_result(value: Any, _: Any) -> BulkDeleteResult:
    # Inline answers list the ids not found; the model keeps the list and its length.
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    not_found_ids = _string_tuple(value.get("notFound", []), None)
    return BulkDeleteResult(
        requested=_integer(value.get("requested", 0), None),
        deleted=_integer(value.get("deleted", 0), None),
        not_found=len(not_found_ids),
        not_found_ids=not_found_ids,
    )


converter.register_structure_hook(BulkDeleteResult, _bulk_delete_result)


_structurers: dict[type[Any], Callable[[Any], Any]] = {}
_items_structurers: dict[type[Any], Callable[[list[Any]], tuple[Any, ...]]] = {}


def _contact(value: Any, model: type[Contact]) -> Contact:
    # Written out rather than generated: contacts and members are what long walks decode, and
    # under load this is measurably cheaper than cattrs' generic hook (docs/performance.md).
    # The rules are the generated hooks': ``id`` required, the rest defaulted when missing.
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    get = value.get
    fields = (
        _string(value["id"], None),
        _string(get("name", ""), None),
        _string(get("phone", ""), None),
        _string_tuple(get("tags", []), None),
        _json_object(get("meta", {}), None),
        get("temperature"),
        _optional_datetime(get("createdAt"), None),
        _optional_datetime(get("updatedAt"), None),
    )
    if model is GroupMember:
        return GroupMember(*fields, _optional_datetime(get("addedAt"), None))
    return Contact(*fields)


converter.register_structure_hook(Contact, _contact)
converter.register_structure_hook(GroupMember, _contact)


def structurer(model: type[T]) -> Callable[[Any], T]:
    """The converter's structuring function for ``model``, made once per model; for contacts
    and members, with a fast path for the API's full shape before it (``_full_shape``)."""
    structure = _structurers.get(model)
    if structure is None:
        hook = converter.get_structure_hook(model)

        def structure(value: Any) -> Any:
            return hook(value, model)

        if FAST_TIMESTAMPS and (model is Contact or model is GroupMember):
            structure = _full_shape_first(model is GroupMember, structure)
        _structurers[model] = structure
    return structure


def items_structurer(model: type[T]) -> Callable[[list[Any]], tuple[T, ...]]:
    """Structures a JSON array of ``model`` (a page's items) into a tuple, made once per model;
    for contacts and members, the whole array goes through the fast path in one go."""
    structure_items = _items_structurers.get(model)
    if structure_items is None:
        structure = structurer(model)
        if FAST_TIMESTAMPS and (model is Contact or model is GroupMember):
            structure_items = _full_shape_items(model is GroupMember, structure)
        else:

            def structure_items(values: list[Any]) -> tuple[Any, ...]:
                return tuple(map(structure, values))

        _items_structurers[model] = structure_items
    return structure_items


FAST_TIMESTAMPS = sys.version_info >= (3, 11)
"""Whether the fast paths (here and in ``_wire``) are tried: Python 3.10's fromisoformat reads
neither the API's "Z" nor 3 fraction digits with an offset, so every timestamp would miss."""
fromisoformat = datetime.fromisoformat
UTC = timezone.utc


def _full_shape(values: Sequence[Any], member: bool) -> list[Any]:
    """The ``values`` in the API's full shape, each built in one constructor call; the others
    are left out. Raises ``KeyError``, ``TypeError`` or ``ValueError`` on some odd values.

    The full shape: every field, each of its wire type (tags a list of strings, meta an
    object, timestamps ISO-8601 text in UTC, as Python 3.11+ reads the API's ``Z``).
    """
    return [
        GroupMember(id_, name, phone, tuple(tags), meta, value["temperature"], at, up, added)
        if member
        else Contact(id_, name, phone, tuple(tags), meta, value["temperature"], at, up)
        for value in values
        if type(id_ := value["id"])
        is type(name := value["name"])
        is type(phone := value["phone"])
        is str
        and type(tags := value["tags"]) is list
        and type(meta := value["meta"]) is dict
        and (at := fromisoformat(value["createdAt"])).tzinfo
        is (up := fromisoformat(value["updatedAt"])).tzinfo
        is (added := fromisoformat(value["addedAt"]) if member else at).tzinfo
        is UTC
        and "".join(tags) is not None  # a TypeError unless every tag is a string: C speed
    ]


def _full_shape_first(member: bool, careful: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``careful`` (``_contact``) behind the fast path for one value.

    Whatever is not in the full shape goes to ``careful``, whose rules (defaults, leniency,
    errors) are the only ones: the fast path gives the same model or steps aside.
    """

    def structure(value: Any) -> Any:
        try:
            built = _full_shape((value,), member)
        except (KeyError, TypeError, ValueError):
            return careful(value)
        return built[0] if built else careful(value)

    return structure


def _full_shape_items(
    member: bool, structure: Callable[[Any], Any]
) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The fast path for a whole array at once; if any item is not in the full shape, every
    item goes through ``structure`` (fast path first, then ``careful``) on its own."""

    def structure_items(values: list[Any]) -> tuple[Any, ...]:
        try:
            built = _full_shape(values, member)
        except (KeyError, TypeError, ValueError):
            return tuple(map(structure, values))
        return tuple(built) if len(built) == len(values) else tuple(map(structure, values))

    return structure_items


# --- The plain form: the models' to_dict() and from_dict() ----------------------------------


def _iso_utc(value: datetime) -> str:
    """The API's form, ``2026-04-01T10:00:00.000Z`` (microseconds when there are some); a
    naive datetime counts as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    elif value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    timespec = "microseconds" if value.microsecond % 1000 else "milliseconds"
    return value.isoformat(timespec=timespec)[:-6] + "Z"


# Unstructuring serves to_dict() alone. cattrs makes tuples lists and mappings dicts, at any
# depth, but would keep these enums as they are: they are strings too.
converter.register_unstructure_hook(datetime, _iso_utc)
converter.register_unstructure_hook(JobStatus, lambda member: member.value)
converter.register_unstructure_hook(JobOperation, lambda member: member.value)


def make_to_dict(model: type[Any], *, by_alias: bool) -> Callable[[Any], dict[str, Any]]:
    """The function behind ``model.to_dict(by_alias=...)``."""
    renames: dict[str, Any] = {
        name: override(rename=key) for name, key in _camel_case_keys(model).items()
    }
    return make_dict_unstructure_fn(model, converter, **(renames if by_alias else {}))


def make_from_dict(model: type[T]) -> Callable[[Mapping[str, Any]], T]:
    """The function behind ``model.from_dict(data)``: snake_case or camelCase keys, or a mix."""
    keys = _camel_case_keys(model)
    renames: dict[str, Any] = {name: override(rename=key) for name, key in keys.items()}
    # The wire's hooks for the values, but every field read (none is computed) and each error
    # kept with the field it is about.
    structure = make_dict_structure_fn(
        model, converter, _cattrs_detailed_validation=True, **renames
    )

    def from_dict(data: Mapping[str, Any]) -> T:
        if not isinstance(data, Mapping):
            raise InvalidInputError("data", f"must be a mapping, not {type(data).__name__}")
        try:
            return structure({keys.get(key, key): value for key, value in data.items()}, model)
        except cattrs.ClassValidationError as exc:
            [(error, note), *_], _ = exc.group_exceptions()  # the first field in error
            reason = "is required" if isinstance(error, KeyError) else str(error)
            raise InvalidInputError(note.name, f"{reason} (in a {model.__name__})") from None

    return from_dict
