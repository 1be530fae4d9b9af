"""Caller mistakes raise InvalidInputError naming the field and send nothing (issue #9, item 14).

Never a RecursionError, a bare ValueError or TypeError, or a UnicodeEncodeError at send time.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msgflash_async import AsyncPaginator, InvalidInputError, MsgFlash, Page, _json, _validation
from msgflash_async._validation import MAX_META_DEPTH

from ._helpers import (
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    GROUP_ID,
    Invoke,
    api_url,
    create,
    data,
    loose,
    page,
    sent_json,
)

SURROGATE = "\ud800"


def nested(depth: int, container: str = "dict") -> dict[str, Any]:
    """A ``meta`` object of ``depth`` levels, the object itself being the first."""
    inner: Any = "leaf"
    for _ in range(depth - 1):
        inner = {"k": inner} if container == "dict" else [inner]
    return {"k": inner}


def circular_dict() -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "loop"}
    meta["self"] = meta
    return meta


def circular_list() -> dict[str, Any]:
    items: list[Any] = ["a"]
    items.append({"back": items})
    return {"items": items}


def doubling(levels: int) -> dict[str, Any]:
    """Shallow, not circular, but 2**levels values once written out."""
    value: Any = "x"
    for _ in range(levels):
        value = [value, value]
    return {"k": value}


def in_digits(zero: int) -> str:
    """``+33612345000`` with every digit after the first written in another script's digits
    (the ten from code point ``zero`` on); ``\\d`` matches them all."""
    return "+3" + "3612345000".translate({ord("0") + n: zero + n for n in range(10)})


def ints() -> Iterator[int]:
    yield from (1, 2, 3)


class Size(enum.IntEnum):
    """An int subclass, as callers pass from their own settings."""

    SMALL = 10


class Name(str):
    """A str subclass, as ORMs and i18n libraries hand out."""

    def __len__(self) -> int:  # a subclass may lie; the SDK measures the real text
        return 1


def lists() -> list[tuple[str, Callable[[MsgFlash, Any], Any]]]:
    """Every list method, called with ``max_items``."""
    return [
        ("contacts", lambda sdk, value: sdk.contacts.list(max_items=value)),
        ("groups", lambda sdk, value: sdk.groups.list(max_items=value)),
        ("members", lambda sdk, value: sdk.groups.members(GROUP_ID, max_items=value)),
        ("jobs", lambda sdk, value: sdk.jobs.list(max_items=value)),
    ]


BAD_INPUT: list[tuple[str, Invoke, str]] = [  # run by test_validation with its own cases
    # id, call, field named
    ("meta-circular-dict", create(meta=circular_dict()), "meta"),
    ("meta-circular-list", create(meta=circular_list()), "meta"),
    ("meta-3000-deep-dicts", create(meta=nested(3000)), "meta"),
    ("meta-3000-deep-lists", create(meta=nested(3000, "list")), "meta"),
    ("meta-one-level-too-deep", create(meta=nested(MAX_META_DEPTH + 1)), "meta"),
    ("meta-doubling", create(meta=doubling(20)), "meta"),
    ("meta-frozenset", create(meta={"s": frozenset({1})}), "meta"),
    ("meta-bytes", create(meta={"b": b"x"}), "meta"),
    ("meta-surrogate-value", create(meta={"k": SURROGATE}), "meta"),
    ("meta-surrogate-key", create(meta={SURROGATE: 1}), "meta"),
    ("meta-int-key-deep", create(meta={"k": [{1: 2}]}), "meta"),
    ("phone-arabic-indic", create(phone=in_digits(0x0660)), "phone"),
    ("phone-fullwidth", create(phone=in_digits(0xFF10)), "phone"),
    ("phone-devanagari", create(phone=in_digits(0x0966)), "phone"),
    ("phone-one-foreign-digit", create(phone="+3361234500" + chr(0x0660)), "phone"),
    ("phone-trailing-newline", create(phone="+33612345000\n"), "phone"),
    ("phone-surrogate", create(phone="+33612345000" + SURROGATE), "phone"),
    ("name-surrogate", create(name="Awa" + SURROGATE), "name"),
    ("name-bytes", create(name=b"Awa"), "name"),
    ("tags-dict", create(tags={"vip": True}), "tags"),
    ("tags-bytearray", create(tags=bytearray(b"vip")), "tags"),
    ("tags-surrogate", create(tags=["vip", SURROGATE]), "tags[1]"),
    ("tags-none-item", create(tags=[None]), "tags[0]"),
    (
        "update-name-surrogate",
        lambda sdk: sdk.contacts.update(CONTACT_ID, name=SURROGATE),
        "name",
    ),
    (
        "group-description-surrogate",
        lambda sdk: sdk.groups.create(name="VIP", description=SURROGATE),
        "description",
    ),
    ("search-surrogate", lambda sdk: sdk.contacts.list(search=SURROGATE).first_page(), "search"),
    ("search-number", lambda sdk: sdk.groups.list(search=loose(3)).first_page(), "search"),
    ("sort-list", lambda sdk: sdk.contacts.list(sort=loose(["name_asc"])).first_page(), "sort"),
    ("sort-number", lambda sdk: sdk.contacts.list(sort=loose(1)).first_page(), "sort"),
    ("cursor-surrogate", lambda sdk: sdk.jobs.list(cursor=SURROGATE).first_page(), "cursor"),
    ("path-id-surrogate", lambda sdk: sdk.contacts.get(SURROGATE), "contact_id"),
    ("path-id-none", lambda sdk: sdk.groups.get(loose(None)), "group_id"),
    (
        "contact-ids-generator-of-ints",
        lambda sdk: sdk.contacts.bulk_delete(loose(ints())),
        "contact_ids[0]",
    ),
    (
        "contact-ids-dict",
        lambda sdk: sdk.contacts.bulk_delete(loose({CONTACT_ID: True})),
        "contact_ids",
    ),
    (
        "contact-ids-empty-id",
        lambda sdk: sdk.groups.add_members(GROUP_ID, [CONTACT_ID, ""]),
        "contact_ids[1]",
    ),
    (
        "contact-ids-surrogate",
        lambda sdk: sdk.groups.remove_members(GROUP_ID, [SURROGATE]),
        "contact_ids[0]",
    ),
    *[
        (
            f"max-items-{which}-{label}",
            lambda sdk, call=call, value=value: call(sdk, value),
            "max_items",
        )
        for which, call in lists()
        for label, value in [("negative", -1), ("string", "3"), ("float", 1.5), ("bool", True)]
    ],
    *[
        (
            f"collect-limit-{label}",
            lambda sdk, value=value: sdk.jobs.list().collect(limit=value),
            "limit",
        )
        for label, value in [
            ("negative", -1),
            ("string", "3"),
            ("float", 1.5),
            ("bool", False),
            ("none", None),
        ]
    ],
]


@pytest.mark.parametrize("value", [-1, "3", 1.5, True], ids=["negative", "string", "float", "bool"])
def test_a_paginator_refuses_a_bad_max_items(value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AsyncPaginator(_no_pages, max_items=loose(value))

    assert caught.value.field == "max_items"


async def _no_pages(cursor: str | None) -> Page[Any]:
    raise AssertionError(f"no page expected (cursor {cursor})")


def test_a_meta_too_big_to_write_out_is_refused_before_writing_it() -> None:
    # 2**20 values: over the 16 KiB limit whatever they are, so the walk stops early.
    with pytest.raises(InvalidInputError, match="too many values"):
        _validation.check_meta(doubling(20))


def test_circular_and_deep_meta_never_raise_recursion_error() -> None:
    # Deeper than any recursion limit, and a circle: both caught by the iterative walk.
    for meta in (nested(100_000), nested(100_000, "list"), circular_dict()):
        with pytest.raises(InvalidInputError, match="meta"):
            _validation.check_meta(meta)


async def test_meta_at_the_depth_limit_is_sent(client: MsgFlash, mock_api: Any) -> None:
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))
    meta = nested(MAX_META_DEPTH)

    await create(meta=meta)(client)

    [(_, [call])] = mock_api.requests.items()
    assert sent_json(call)["meta"] == meta


async def test_shared_but_not_circular_meta_is_sent(client: MsgFlash, mock_api: Any) -> None:
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))
    shared = {"city": "Cotonou"}

    await create(meta={"home": shared, "work": [shared, shared]})(client)

    [(_, [call])] = mock_api.requests.items()
    assert sent_json(call)["meta"] == {"home": shared, "work": [shared, shared]}


async def test_subclasses_of_str_and_int_are_sent_as_plain_values(
    client: MsgFlash, mock_api: Any
) -> None:
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))
    mock_api.get(api_url(CONTACTS, limit=10), payload=page("contacts", []))

    await client.contacts.create(
        name=Name("Awa Doe"),
        phone=Name("+33612345000"),
        tags=[Name("vip")],
        meta={Name("city"): Name("Cotonou"), "size": Size.SMALL},
    )
    await client.contacts.list(limit=Size.SMALL).first_page()

    created = sent_json(mock_api.requests[("POST", api_url(CONTACTS))][0])
    assert created == {
        "name": "Awa Doe",
        "phone": "+33612345000",
        "tags": ["vip"],
        "meta": {"city": "Cotonou", "size": 10},
    }


def test_a_str_subclass_is_measured_by_its_real_text() -> None:
    with pytest.raises(InvalidInputError, match="got 101"):
        _validation.check_name(Name("x" * 101))


async def test_a_generator_of_ids_is_sent_as_a_list(client: MsgFlash, mock_api: Any) -> None:
    mock_api.post(
        api_url(f"{CONTACTS}/bulk-delete"),
        payload=data({"requested": 1, "deleted": 1, "notFound": []}),
    )

    await client.contacts.bulk_delete(loose(iter([CONTACT_ID])))

    [(_, [call])] = mock_api.requests.items()
    assert sent_json(call) == {"contactIds": [CONTACT_ID]}


def test_an_endless_iterable_of_ids_is_refused_after_the_cap() -> None:
    def endless() -> Iterator[str]:
        while True:
            yield CONTACT_ID

    with pytest.raises(InvalidInputError, match="at most 10000"):
        _validation.check_contact_ids(endless())


def test_no_pattern_in_the_checks_accepts_non_ascii_digits() -> None:
    patterns = [value for value in vars(_validation).values() if isinstance(value, re.Pattern)]

    assert patterns
    for pattern in patterns:
        assert "\\d" not in pattern.pattern, pattern.pattern
        assert "\\w" not in pattern.pattern, pattern.pattern
        assert pattern.fullmatch(in_digits(0x0660)) is None, pattern.pattern


# --- any object at all into any check -------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(st.characters(blacklist_categories=())),  # surrogates included
    st.binary(),
    st.builds(Name, st.text()),
    st.sampled_from([Size.SMALL, object(), 1j, enum.Enum, print]),
)
anything = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children),
        st.tuples(children, children),
        st.frozensets(st.integers()),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.none()), children),
        st.lists(children).map(iter),
    ),
    max_leaves=20,
)

CHECKS: dict[str, Callable[[Any], Any]] = {
    "check_name": _validation.check_name,
    "check_phone": _validation.check_phone,
    "check_tags": _validation.check_tags,
    "check_meta": _validation.check_meta,
    "check_description": _validation.check_description,
    "check_color": _validation.check_color,
    "check_contact_ids": _validation.check_contact_ids,
    "check_limit": _validation.check_limit,
    "check_count": lambda value: _validation.check_count("max_items", value),
    "check_search": _validation.check_search,
    "check_sort": _validation.check_sort,
    "check_cursor": _validation.check_cursor,
    "search_param": _validation.search_param,
    "path_id": lambda value: _validation.path_id("contact_id", value),
}


def test_every_check_is_fuzzed() -> None:
    public = {
        name for name in _validation.__all__ if inspect.isfunction(getattr(_validation, name))
    }

    assert public == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_any_object_is_accepted_as_json_or_refused_as_invalid_input(name: str) -> None:
    check = CHECKS[name]

    @settings(max_examples=80, derandomize=True, deadline=None)
    @given(value=anything)
    def run(value: Any) -> None:
        try:
            result = check(value)
        except InvalidInputError:
            return
        _json.dumps(result)  # what is accepted can be sent
        assert _plain(result), result

    run()


def _plain(value: Any) -> bool:
    """Whether ``value`` is built only of exact JSON types (no subclass)."""
    if type(value) in (dict, list):
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        return all(type(key) in (str, int) and _plain(item) for key, item in pairs)
    return type(value) in (str, int, float, bool, type(None))
