"""Bad arguments are refused before anything is sent (spec §1.9); path ids stay one segment."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from msgflash_async import InvalidInputError, MsgFlash, MsgFlashError, NotFoundError

from ._helpers import (
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    GROUP,
    GROUP_ID,
    GROUPS,
    JOBS,
    Invoke,
    api_url,
    create,
    data,
    error,
    loose,
    page,
    sent,
    sent_json,
)
from .test_hardening_inputs import BAD_INPUT as CALLER_MISTAKES

BIG_META = {"k": "x" * 16_377}  # 16385 bytes of compact JSON
NOT_JSON = {"when": datetime(2026, 1, 1)}


def create_group(**fields: Any) -> Invoke:
    arguments = {"name": "VIP clients", **fields}
    return lambda sdk: sdk.groups.create(**arguments)


BAD_INPUT: list[tuple[str, Invoke, str]] = [
    ("phone-national", create(phone="0612345000"), "phone"),
    ("phone-leading-zero", create(phone="+0612345000"), "phone"),
    ("phone-spaces", create(phone="+33 6 12 34 50 00"), "phone"),
    ("phone-16-digits", create(phone="+1234567890123456"), "phone"),
    ("phone-1-digit", create(phone="+1"), "phone"),
    ("phone-number", create(phone=33612345000), "phone"),
    ("name-empty", create(name=""), "name"),
    ("name-101", create(name="x" * 101), "name"),
    ("name-none", create(name=None), "name"),
    ("tags-51", create(tags=[f"t{n}" for n in range(51)]), "tags"),
    ("tag-51-chars", create(tags=["vip", "x" * 51]), "tags[1]"),
    ("tag-empty", create(tags=[""]), "tags[0]"),
    ("tag-number", create(tags=[1]), "tags[0]"),
    ("tags-string", create(tags="vip"), "tags"),
    ("tags-none-iterable", create(tags=5), "tags"),
    ("meta-too-big", create(meta=BIG_META), "meta"),
    ("meta-too-big-in-bytes", create(meta={"k": "é" * 8_189}), "meta"),
    ("meta-not-json", create(meta=NOT_JSON), "meta"),
    ("meta-set", create(meta={"s": {1, 2}}), "meta"),
    ("meta-list", create(meta=["a"]), "meta"),
    ("update-name-101", lambda sdk: sdk.contacts.update(CONTACT_ID, name="x" * 101), "name"),
    ("update-phone", lambda sdk: sdk.contacts.update(CONTACT_ID, phone="12"), "phone"),
    ("update-tags-51", lambda sdk: sdk.contacts.update(CONTACT_ID, tags=["t"] * 51), "tags"),
    ("update-meta-big", lambda sdk: sdk.contacts.update(CONTACT_ID, meta=BIG_META), "meta"),
    ("group-name-empty", create_group(name=""), "name"),
    ("group-name-101", create_group(name="x" * 101), "name"),
    ("group-color-name", create_group(color="red"), "color"),
    ("group-color-short", create_group(color="#FFF"), "color"),
    ("group-color-not-hex", create_group(color="#GGGGGG"), "color"),
    ("group-color-no-hash", create_group(color="F59E0B"), "color"),
    ("group-description-256", create_group(description="d" * 256), "description"),
    ("group-description-number", create_group(description=loose(42)), "description"),
    ("update-group-color", lambda sdk: sdk.groups.update(GROUP_ID, color="blue"), "color"),
    (
        "update-group-description-256",
        lambda sdk: sdk.groups.update(GROUP_ID, description="d" * 256),
        "description",
    ),
    ("update-group-name-empty", lambda sdk: sdk.groups.update(GROUP_ID, name=""), "name"),
    ("limit-0", lambda sdk: sdk.contacts.list(limit=0).first_page(), "limit"),
    ("limit-101", lambda sdk: sdk.contacts.list(limit=101).first_page(), "limit"),
    ("limit-true", lambda sdk: sdk.contacts.list(limit=True).first_page(), "limit"),
    ("limit-float", lambda sdk: sdk.contacts.list(limit=loose(5.0)).first_page(), "limit"),
    ("limit-string", lambda sdk: sdk.contacts.list(limit=loose("10")).first_page(), "limit"),
    ("search-101", lambda sdk: sdk.contacts.list(search="s" * 101).first_page(), "search"),
    ("sort-bogus", lambda sdk: sdk.contacts.list(sort=loose("bogus")).first_page(), "sort"),
    (
        "sort-other-way",
        lambda sdk: sdk.contacts.list(sort=loose("createdAt_asc")).first_page(),
        "sort",
    ),
    ("groups-limit-0", lambda sdk: sdk.groups.list(limit=0).first_page(), "limit"),
    (
        "members-limit-101",
        lambda sdk: sdk.groups.members(GROUP_ID, limit=101).first_page(),
        "limit",
    ),
    (
        "members-search-101",
        lambda sdk: sdk.groups.members(GROUP_ID, search="s" * 101).first_page(),
        "search",
    ),
    ("jobs-limit-0", lambda sdk: sdk.jobs.list(limit=0).first_page(), "limit"),
    ("bulk-delete-empty", lambda sdk: sdk.contacts.bulk_delete([]), "contact_ids"),
    (
        "bulk-delete-number",
        lambda sdk: sdk.contacts.bulk_delete([CONTACT_ID, loose(42)]),
        "contact_ids[1]",
    ),
    ("bulk-delete-string", lambda sdk: sdk.contacts.bulk_delete(CONTACT_ID), "contact_ids"),
    ("bulk-delete-none", lambda sdk: sdk.contacts.bulk_delete(loose(None)), "contact_ids"),
    ("add-members-empty", lambda sdk: sdk.groups.add_members(GROUP_ID, []), "contact_ids"),
    (
        "add-members-none-item",
        lambda sdk: sdk.groups.add_members(GROUP_ID, [loose(None)]),
        "contact_ids[0]",
    ),
    ("remove-members-empty", lambda sdk: sdk.groups.remove_members(GROUP_ID, ()), "contact_ids"),
    (
        "remove-members-bytes",
        lambda sdk: sdk.groups.remove_members(GROUP_ID, loose(b"ab")),
        "contact_ids",
    ),
]


@pytest.mark.parametrize(
    ("invoke", "field"),
    [case[1:] for case in [*BAD_INPUT, *CALLER_MISTAKES]],
    ids=[case[0] for case in [*BAD_INPUT, *CALLER_MISTAKES]],
)
async def test_bad_input_is_refused_before_sending(
    client: MsgFlash, mock_api: Any, invoke: Invoke, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await invoke(client)

    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{field}: ")
    assert mock_api.requests == {}


@pytest.mark.parametrize(
    "number", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"]
)
async def test_meta_numbers_json_cannot_represent_are_refused(
    client: MsgFlash, mock_api: Any, number: float
) -> None:
    # meta is a JSON object sent as compact JSON (spec §1.9); JSON has no NaN or Infinity.
    # The SDK's check uses json.dumps, which writes them; the orjson encoder that sends the
    # body turns them into null, so the server would silently store null.
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))

    with pytest.raises(InvalidInputError) as caught:
        await client.contacts.create(name="Awa", phone="+33612345000", meta={"score": number})

    assert caught.value.field == "meta"
    assert mock_api.requests == {}


async def refusal_of(call: Awaitable[Any]) -> MsgFlashError | None:
    """The SDK error ``call`` raises, or ``None`` if it succeeds; other exceptions propagate."""
    try:
        await call
    except MsgFlashError as exc:
        return exc
    return None


@pytest.mark.parametrize(
    "meta", [{1: "one"}, {"big": 2**64}], ids=["int-key", "int-beyond-64-bits"]
)
async def test_meta_is_sent_as_json_or_refused_never_a_raw_type_error(
    client: MsgFlash, mock_api: Any, meta: dict[Any, Any]
) -> None:
    # The check (json.dumps) accepts these; the encoder that sends the body (orjson) raises
    # TypeError on them. Either outcome below is fine; an escaping TypeError is not.
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))

    refusal = await refusal_of(client.contacts.create(name="Awa", phone="+33612345000", meta=meta))

    if refusal is None:
        [(_, [call])] = mock_api.requests.items()
        assert sent_json(call)["meta"] == json.loads(json.dumps(meta))
    else:
        assert isinstance(refusal, InvalidInputError)
        assert refusal.field == "meta"
        assert mock_api.requests == {}


def test_paginator_arguments_are_checked_when_the_list_is_made(client: MsgFlash) -> None:
    with pytest.raises(InvalidInputError, match=r"^limit: "):
        client.contacts.list(limit=0)
    with pytest.raises(InvalidInputError, match=r"^max_items: "):
        client.groups.list(max_items=-1)


async def test_collect_refuses_a_negative_limit(client: MsgFlash, mock_api: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^limit: "):
        await client.jobs.list().collect(limit=-1)
    assert mock_api.requests == {}


# --- the limits themselves are allowed -----------------------------------------------------


def last_body(mock_api: Any) -> Any:
    [(_, calls)] = mock_api.requests.items()
    return sent_json(calls[-1])


EDGES: list[tuple[str, Invoke, str, str, Any]] = [
    # id, call, method, path, answer
    (
        "name-100-tags-50x50",
        create(name="n" * 100, tags=["t" * 50] * 50),
        "POST",
        CONTACTS,
        CONTACT,
    ),
    ("phone-2-digits", create(phone="+12"), "POST", CONTACTS, CONTACT),
    ("phone-15-digits", create(phone="+123456789012345"), "POST", CONTACTS, CONTACT),
    ("meta-16384-bytes", create(meta={"k": "x" * 16_376}), "POST", CONTACTS, CONTACT),
    ("meta-16384-bytes-utf8", create(meta={"k": "é" * 8_188}), "POST", CONTACTS, CONTACT),
    ("tags-empty-meta-empty", create(tags=(), meta={}), "POST", CONTACTS, CONTACT),
    (
        "group-limits",
        create_group(name="g" * 100, description="d" * 255, color="#f59e0b"),
        "POST",
        GROUPS,
        GROUP,
    ),
    ("group-description-empty", create_group(description=""), "POST", GROUPS, GROUP),
]


@pytest.mark.parametrize(
    ("invoke", "method", "path", "answer"),
    [case[1:] for case in EDGES],
    ids=[case[0] for case in EDGES],
)
async def test_values_at_the_limits_are_sent(
    client: MsgFlash, mock_api: Any, invoke: Invoke, method: str, path: str, answer: Any
) -> None:
    mock_api.add(api_url(path), method=method, status=201, payload=data(answer))

    await invoke(client)

    assert len(sent(mock_api)) == 1


async def test_limit_1_and_100_and_search_of_1_and_100_are_sent(
    client: MsgFlash, mock_api: Any
) -> None:
    for limit, search in ((1, "a"), (100, "s" * 100)):
        url = api_url(CONTACTS, limit=limit, search=search)
        mock_api.get(url, payload=page("contacts", []))
        await client.contacts.list(limit=limit, search=search).first_page()
    assert len(sent(mock_api)) == 2


async def test_sequences_are_sent_as_arrays_in_order(client: MsgFlash, mock_api: Any) -> None:
    mock_api.post(api_url(CONTACTS), payload=data(CONTACT))

    await client.contacts.create(name="Awa", phone="+33612345000", tags=("b", "a"))

    assert last_body(mock_api)["tags"] == ["b", "a"]


async def test_colour_case_is_kept(client: MsgFlash, mock_api: Any) -> None:
    mock_api.put(api_url(f"{GROUPS}/{GROUP_ID}"), payload=data(GROUP))

    await client.groups.update(GROUP_ID, color="#AbCdEf")

    assert last_body(mock_api) == {"color": "#AbCdEf"}


# --- path ids ------------------------------------------------------------------------------

PathCall = Callable[[MsgFlash, str], Awaitable[Any]]


async def await_handle(sdk: MsgFlash, job_id: str) -> Any:
    return await sdk.jobs.handle(job_id)


@dataclass(frozen=True)
class PathTarget:
    """A call that puts an id in its path, the field named for a bad id, and the request."""

    id: str
    call: PathCall
    field: str
    method: str
    template: str
    """The path, with ``{}`` where the id goes."""


PATH_TARGETS = [
    PathTarget(
        "contacts.get", lambda sdk, i: sdk.contacts.get(i), "contact_id", "GET", CONTACTS + "/{}"
    ),
    PathTarget(
        "contacts.update",
        lambda sdk, i: sdk.contacts.update(i, name="Awa"),
        "contact_id",
        "PUT",
        CONTACTS + "/{}",
    ),
    PathTarget(
        "contacts.delete",
        lambda sdk, i: sdk.contacts.delete(i),
        "contact_id",
        "DELETE",
        CONTACTS + "/{}",
    ),
    PathTarget(
        "contacts.groups",
        lambda sdk, i: sdk.contacts.groups(i),
        "contact_id",
        "GET",
        CONTACTS + "/{}/groups",
    ),
    PathTarget("groups.get", lambda sdk, i: sdk.groups.get(i), "group_id", "GET", GROUPS + "/{}"),
    PathTarget(
        "groups.update",
        lambda sdk, i: sdk.groups.update(i, name="VIP"),
        "group_id",
        "PUT",
        GROUPS + "/{}",
    ),
    PathTarget(
        "groups.delete", lambda sdk, i: sdk.groups.delete(i), "group_id", "DELETE", GROUPS + "/{}"
    ),
    PathTarget(
        "groups.add_members",
        lambda sdk, i: sdk.groups.add_members(i, [CONTACT_ID]),
        "group_id",
        "POST",
        GROUPS + "/{}/members",
    ),
    PathTarget(
        "groups.remove_members",
        lambda sdk, i: sdk.groups.remove_members(i, [CONTACT_ID]),
        "group_id",
        "DELETE",
        GROUPS + "/{}/members",
    ),
    PathTarget(
        "groups.members",
        lambda sdk, i: sdk.groups.members(i).first_page(),
        "group_id",
        "GET",
        GROUPS + "/{}/members",
    ),
    PathTarget("jobs.get", lambda sdk, i: sdk.jobs.get(i), "job_id", "GET", JOBS + "/{}"),
    PathTarget(
        "jobs.progress", lambda sdk, i: sdk.jobs.progress(i), "job_id", "GET", JOBS + "/{}/progress"
    ),
    PathTarget(
        "jobs.cancel", lambda sdk, i: sdk.jobs.cancel(i), "job_id", "POST", JOBS + "/{}/cancel"
    ),
    PathTarget("jobs.handle", await_handle, "job_id", "GET", JOBS + "/{}/progress"),
]


def target_id(target: PathTarget) -> str:
    return target.id


@pytest.mark.parametrize("bad_id", ["..", ".", "", loose(42)], ids=repr)
@pytest.mark.parametrize("target", PATH_TARGETS, ids=target_id)
async def test_dot_segments_and_empty_ids_are_refused(
    client: MsgFlash, mock_api: Any, target: PathTarget, bad_id: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await target.call(client, bad_id)

    assert caught.value.field == target.field
    assert mock_api.requests == {}


def answer_everything_with_404(mock_api: Any) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        mock_api.add(
            re.compile(".*"), method=method, status=404, payload=error("NOT_FOUND"), repeat=True
        )


def paths_sent(mock_api: Any) -> list[tuple[str, str]]:
    return [(method, url.raw_path) for (method, url), calls in mock_api.requests.items()]


@pytest.mark.parametrize(
    ("raw_id", "segment"),
    [("a/b", "a%2Fb"), ("../x", "..%2Fx"), ("?q", "%3Fq")],
    ids=["slash", "dot-dot-slash", "query"],
)
@pytest.mark.parametrize("target", PATH_TARGETS, ids=target_id)
async def test_ids_stay_inside_one_path_segment(
    client: MsgFlash, mock_api: Any, target: PathTarget, raw_id: str, segment: str
) -> None:
    answer_everything_with_404(mock_api)

    with pytest.raises(NotFoundError):
        await target.call(client, raw_id)

    assert paths_sent(mock_api) == [(target.method, target.template.format(segment))]


@pytest.mark.parametrize(
    ("raw_id", "segment"),
    [
        ("#frag", "%23frag"),
        ("50%", "50%25"),
        ("a b", "a%20b"),
        ("é", "%C3%A9"),
        ("...", "..."),
        ("%2e%2e", "%252e%252e"),
    ],
)
async def test_reserved_characters_are_percent_encoded(
    client: MsgFlash, mock_api: Any, raw_id: str, segment: str
) -> None:
    answer_everything_with_404(mock_api)

    with pytest.raises(NotFoundError):
        await client.contacts.get(raw_id)

    assert paths_sent(mock_api) == [("GET", f"{CONTACTS}/{segment}")]
