"""Input constraints (§1.9): every problem is reported, with dotted paths and ``body``."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from server_support import FAST, call, details

from msgflash_async.testing import LocalMsgFlash

UNKNOWN = "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47"
NAME_LENGTH = "Must be 1 to 100 characters"
PHONE = "Must be an E.164 phone number, e.g. +33612345000"
COLOR = "Must be a #RRGGBB hex colour"
STRING = "Must be a string"
NOT_NULL = "Must not be null"
IDS_LENGTH = "Must have 1 to 10000 items"
OBJECT = "Must be a JSON object"


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    return dict(FAST)


# Bodies are validated before the path id is looked up, so unknown ids still get 400.
CASES: list[tuple[str, str, Any, list[tuple[str, str]]]] = [
    ("POST", "/contacts", {}, [("name", "Required"), ("phone", "Required")]),
    ("POST", "/contacts", {"name": "", "phone": "+1"}, [("name", NAME_LENGTH), ("phone", PHONE)]),
    ("POST", "/contacts", {"name": "x" * 101, "phone": "+12"}, [("name", NAME_LENGTH)]),
    ("POST", "/contacts", {"name": 5, "phone": 33612345000}, [("name", STRING), ("phone", STRING)]),
    ("POST", "/contacts", {"name": None, "phone": "+12"}, [("name", NOT_NULL)]),
    ("POST", "/contacts", {"name": True, "phone": "+12"}, [("name", STRING)]),
    ("POST", "/contacts", {"name": "A", "phone": "+12", "tags": None}, [("tags", NOT_NULL)]),
    ("POST", "/contacts", {"name": "A", "phone": "+12", "meta": None}, [("meta", NOT_NULL)]),
    (
        "POST",
        "/contacts",
        {"name": "A", "phone": "+12", "temperature": None, "groups": []},
        [("temperature", "Unknown field"), ("groups", "Unknown field")],
    ),
    (
        "POST",
        "/contacts",
        {"name": "A", "phone": "+12", "tags": "vip"},
        [("tags", "Must be an array")],
    ),
    (
        "POST",
        "/contacts",
        {"name": "A", "phone": "+12", "tags": ["ok", "", 3, "x" * 51, "y" * 50]},
        [
            ("tags.1", "Must be 1 to 50 characters"),
            ("tags.2", STRING),
            ("tags.3", "Must be 1 to 50 characters"),
        ],
    ),
    (
        "POST",
        "/contacts",
        {"name": "A", "phone": "+12", "tags": ["t"] * 51},
        [("tags", "Must have at most 50 items")],
    ),
    (
        "POST",
        "/contacts",
        {"name": "A", "phone": "+12", "meta": ["a"]},
        [("meta", "Must be an object")],
    ),
    (
        "POST",
        "/contacts",
        # {"k":"<8188 two-byte chars>a"} is 16385 bytes of compact JSON.
        {"name": "A", "phone": "+12", "meta": {"k": "é" * 8188 + "a"}},
        [("meta", "Must be at most 16384 bytes as compact JSON")],
    ),
    ("PUT", f"/contacts/{UNKNOWN}", {"name": None}, [("name", NOT_NULL)]),
    ("PUT", f"/contacts/{UNKNOWN}", {"phone": "0612345678"}, [("phone", PHONE)]),
    ("PUT", f"/contacts/{UNKNOWN}", {"id": "x"}, [("id", "Unknown field")]),
    ("POST", "/contacts/groups", {}, [("name", "Required")]),
    (
        "POST",
        "/contacts/groups",
        {"name": "", "description": "d" * 256, "color": "#FFF"},
        [
            ("name", NAME_LENGTH),
            ("description", "Must be at most 255 characters"),
            ("color", COLOR),
        ],
    ),
    (
        "POST",
        "/contacts/groups",
        {"name": "G", "description": 1, "color": "F59E0B"},
        [("description", STRING), ("color", COLOR)],
    ),
    ("PUT", f"/contacts/groups/{UNKNOWN}", {"name": None}, [("name", NOT_NULL)]),
    ("PUT", f"/contacts/groups/{UNKNOWN}", {"color": "#12345G"}, [("color", COLOR)]),
    (
        "PUT",
        f"/contacts/groups/{UNKNOWN}",
        {"contactCount": 3},
        [("contactCount", "Unknown field")],
    ),
]
for _method, _path in [
    ("POST", "/contacts/bulk-delete"),
    ("POST", f"/contacts/groups/{UNKNOWN}/members"),
    ("DELETE", f"/contacts/groups/{UNKNOWN}/members"),
]:
    CASES += [
        (_method, _path, {}, [("contactIds", "Required")]),
        (_method, _path, {"contactIds": []}, [("contactIds", IDS_LENGTH)]),
        (_method, _path, {"contactIds": None}, [("contactIds", NOT_NULL)]),
        (_method, _path, {"contactIds": "a,b"}, [("contactIds", "Must be an array")]),
        (
            _method,
            _path,
            {"contactIds": [1, "a", None, {"id": "b"}]},
            [("contactIds.0", STRING), ("contactIds.2", STRING), ("contactIds.3", STRING)],
        ),
        (_method, _path, {"contactIds": ["a"] * 10_001}, [("contactIds", IDS_LENGTH)]),
        (_method, _path, {"contactIds": ["a"], "force": True}, [("force", "Unknown field")]),
    ]


@pytest.mark.parametrize(("method", "path", "body", "expected"), CASES)
async def test_every_problem_is_reported(
    msgflash_http: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any,
    expected: list[tuple[str, str]],
) -> None:
    reply = await call(msgflash_http, method, path, json=body)

    assert reply.error["message"] == "Invalid request data"
    assert sorted(details(reply)) == sorted(expected)


@pytest.mark.parametrize(
    "phone",
    [
        "33612345000",
        "+0612345678",
        "+1",
        "+1234567890123456",
        "+12 34",
        "+12\n",
        "+\u0661\u0662\u0663",
        "++12",
    ],
)
async def test_invalid_phones(msgflash_http: aiohttp.ClientSession, phone: str) -> None:
    reply = await call(msgflash_http, "POST", "/contacts", json={"name": "A", "phone": phone})

    assert details(reply) == [("phone", PHONE)]


async def test_values_at_the_bounds_are_accepted(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    contact = {
        "name": "n" * 100,
        "phone": "+123456789012345",
        "tags": ["t" * 50] * 50,
        "meta": {"k": "é" * 8188},  # exactly 16384 bytes of compact JSON
    }
    group = {"name": "g" * 100, "description": "d" * 255, "color": "#f59E0b"}

    created = await call(msgflash_http, "POST", "/contacts", json=contact)
    grouped = await call(msgflash_http, "POST", "/contacts/groups", json=group)
    ids = await call(msgflash_http, "POST", "/contacts/bulk-delete", json={"contactIds": [""]})

    assert created.status == 201
    assert grouped.status == 201
    assert grouped.data["color"] == "#f59E0b"
    assert ids.data == {"requested": 1, "deleted": 0, "notFound": [""]}


async def test_null_clears_group_description_and_color(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    group = msgflash_server.workspace().add_group("G", description="d", color="#000000")
    created = await call(
        msgflash_http,
        "POST",
        "/contacts/groups",
        json={"name": "H", "description": None, "color": None},
    )

    reply = await call(
        msgflash_http,
        "PUT",
        f"/contacts/groups/{group.id}",
        json={"description": None, "color": None},
    )

    assert (created.data["description"], created.data["color"]) == (None, None)
    assert (reply.data["description"], reply.data["color"]) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{", "Malformed JSON"),
        ('{"name": "A", "phone": "+12",}', "Malformed JSON"),
        ('{"name": NaN}', "Malformed JSON"),
        (b"\xff\xfe{}", "Malformed JSON"),
        ("[]", OBJECT),
        ('["name"]', OBJECT),
        ("null", OBJECT),
        ('"text"', OBJECT),
        ("", OBJECT),
        ("   ", OBJECT),
    ],
)
async def test_whole_body_problems_name_the_body(
    msgflash_http: aiohttp.ClientSession, raw: str | bytes, expected: str
) -> None:
    for method, path in [
        ("POST", "/contacts"),
        ("PUT", f"/contacts/{UNKNOWN}"),
        ("POST", "/contacts/groups"),
        ("POST", "/contacts/bulk-delete"),
        ("DELETE", f"/contacts/groups/{UNKNOWN}/members"),
    ]:
        reply = await call(msgflash_http, method, path, data=raw)
        assert details(reply) == [("body", expected)], (method, path)


async def test_any_content_type_is_parsed_as_json(msgflash_http: aiohttp.ClientSession) -> None:
    reply = await call(
        msgflash_http,
        "POST",
        "/contacts",
        data='{"name": "A", "phone": "+12"}',
        headers={"Content-Type": "text/plain"},
    )

    assert reply.status == 201


@pytest.mark.parametrize("body", [None, "", "{}", " {} "])
async def test_bodyless_endpoints_accept_an_empty_body_or_an_empty_object(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession, body: str | None
) -> None:
    ws = msgflash_server.workspace()
    (contact,) = ws.seed_contacts(1)
    group = ws.add_group("G")
    job = ws.start_job("bulk_delete_contacts", None, ["x"] * 100)
    paths = [
        ("GET", "/contacts"),
        ("GET", f"/contacts/{contact.id}"),
        ("GET", f"/contacts/{contact.id}/groups"),
        ("GET", "/contacts/bulk-jobs"),
        ("GET", f"/contacts/bulk-jobs/{job.id}"),
        ("GET", f"/contacts/bulk-jobs/{job.id}/progress"),
        ("GET", "/contacts/groups"),
        ("GET", f"/contacts/groups/{group.id}"),
        ("GET", f"/contacts/groups/{group.id}/members"),
        ("POST", f"/contacts/bulk-jobs/{job.id}/cancel"),
        ("DELETE", f"/contacts/groups/{group.id}"),
        ("DELETE", f"/contacts/{contact.id}"),
    ]
    for method, path in paths:
        reply = await call(msgflash_http, method, path, data=body)
        assert reply.status == 200, (method, path, reply.body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [('{"limit": 5}', [("limit", "Unknown field")]), ("[", [("body", "Malformed JSON")])],
)
async def test_bodyless_endpoints_reject_other_bodies(
    msgflash_server: LocalMsgFlash,
    msgflash_http: aiohttp.ClientSession,
    raw: str,
    expected: list[tuple[str, str]],
) -> None:
    (contact,) = msgflash_server.workspace().seed_contacts(1)

    for method, path in [("GET", "/contacts"), ("DELETE", f"/contacts/{contact.id}")]:
        reply = await call(msgflash_http, method, path, data=raw)
        assert details(reply) == expected
    assert contact.id in msgflash_server.workspace().contacts


LIMIT = "Must be an integer from 1 to 100"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", " 5", "1e2", "\u0661"])
async def test_bad_limits(msgflash_http: aiohttp.ClientSession, limit: str) -> None:
    for path in ["/contacts", "/contacts/groups", "/contacts/bulk-jobs"]:
        reply = await call(msgflash_http, "GET", path, params={"limit": limit})
        assert details(reply) == [("limit", LIMIT)]


async def test_search_and_sort_rules(msgflash_http: aiohttp.ClientSession) -> None:
    long = await call(msgflash_http, "GET", "/contacts/groups", params={"search": "s" * 101})
    empty = await call(msgflash_http, "GET", "/contacts", params={"search": ""})
    longest = await call(msgflash_http, "GET", "/contacts", params={"search": "s" * 100})
    sort = await call(msgflash_http, "GET", "/contacts", params={"sort": "name_desc"})

    assert details(long) == [("search", "Must be 1 to 100 characters")]
    assert details(empty) == [("search", "Must be 1 to 100 characters")]
    assert longest.status == 200
    assert details(sort) == [("sort", "Must be one of: createdAt_desc, name_asc")]


async def test_all_query_and_body_problems_are_reported_together(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    reply = await call(
        msgflash_http,
        "GET",
        "/contacts",
        params={"limit": "500", "search": "", "sort": "x", "cursor": "%%%"},
        data='{"x": 1}',
    )

    assert details(reply) == [
        ("limit", LIMIT),
        ("search", "Must be 1 to 100 characters"),
        ("sort", "Must be one of: createdAt_desc, name_asc"),
        ("cursor", "Malformed cursor"),
        ("x", "Unknown field"),
    ]


async def test_unknown_and_foreign_query_parameters_are_ignored(
    msgflash_http: aiohttp.ClientSession,
) -> None:
    contacts = await call(msgflash_http, "GET", "/contacts", params={"page": "2", "filter": ""})
    jobs = await call(
        msgflash_http, "GET", "/contacts/bulk-jobs", params={"search": "", "sort": "x"}
    )
    groups = await call(msgflash_http, "GET", "/contacts/groups", params={"sort": "x"})

    assert (contacts.status, jobs.status, groups.status) == (200, 200, 200)
    assert "total" not in jobs.data
