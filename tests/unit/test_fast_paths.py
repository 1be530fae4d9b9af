"""Issue #13: the request path's shortcuts give what the careful paths give.

The contacts' fast decoders (from parsed JSON, and in one pass from the body with msgspec)
build the converter's model or step aside; the in-flight cap
hands slots over first come, first served and leaks none on a deadline or a cancellation; a
first attempt that waited for nothing gets the options' own timeouts.
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from msgflash_async import (
    Contact,
    ContactGroup,
    GroupMember,
    ResponseDecodeError,
    RetryPolicy,
    Timeout,
    _validation,
)
from msgflash_async._converter import _contact, items_structurer, structurer
from msgflash_async._limiter import RequestLimiter
from msgflash_async._transport import RequestOptions, Response
from msgflash_async._validation import check_name, check_phone
from msgflash_async._wire import body_decoder, page_structurer
from msgflash_async.resources._base import _decode_page, _decode_payload
from msgflash_async.testing import FakeClock

from ._helpers import CONTACT, MEMBER

# --- the contacts' fast decoder ------------------------------------------------------------

TIMESTAMPS = st.sampled_from(
    [
        "2026-04-01T10:00:00.000Z",
        "2026-04-01T10:00:00Z",
        "2026-04-01T10:00:00.123456+02:00",
        "2026-04-01T10:00:00",  # naive: taken as UTC
        "2026-04-01",
        "not a time",
        "",
    ]
)
ODD_VALUES = st.one_of(
    st.none(), st.integers(), st.booleans(), st.text(max_size=3), st.lists(st.text(max_size=2))
)
FIELDS = {
    "id": st.one_of(st.text(min_size=1, max_size=8), ODD_VALUES),
    "name": st.one_of(st.text(max_size=8), ODD_VALUES),
    "phone": st.one_of(st.just("+33612345000"), ODD_VALUES),
    "tags": st.one_of(st.lists(st.text(max_size=4), max_size=3), ODD_VALUES),
    "meta": st.one_of(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), ODD_VALUES),
    "temperature": st.one_of(st.none(), st.text(max_size=3), st.integers()),
    "createdAt": st.one_of(TIMESTAMPS, ODD_VALUES),
    "updatedAt": st.one_of(TIMESTAMPS, ODD_VALUES),
    "addedAt": st.one_of(TIMESTAMPS, ODD_VALUES),
}


@st.composite
def wire_objects(draw: st.DrawFn) -> Any:
    """Contact-like JSON values: the full shape, fields left out, values of any type."""
    base = draw(st.sampled_from([CONTACT, MEMBER]))
    value = {key: draw(FIELDS[key]) if draw(st.booleans()) else base[key] for key in base}
    for key in draw(st.sets(st.sampled_from(sorted(value)), max_size=3)):
        del value[key]
    return draw(st.sampled_from([value, value, value, [value], "text", None]))


def _careful(model: type[Contact]) -> Any:
    """The converter's own hook, without the fast path before it."""
    return lambda value: _contact(value, model)


def _outcome(structure: Any, value: Any) -> Any:
    try:
        return structure(value)
    except Exception as exc:  # the kind and the words, which decode errors quote
        return type(exc), str(exc)


@pytest.mark.parametrize("model", [Contact, GroupMember], ids=["contact", "member"])
@settings(max_examples=300, derandomize=True, deadline=None)
@given(value=wire_objects())
def test_the_fast_decoder_gives_what_the_converter_gives(model: type[Contact], value: Any) -> None:
    assert _outcome(structurer(model), value) == _outcome(_careful(model), value)


@pytest.mark.parametrize(("model", "wire"), [(Contact, CONTACT), (GroupMember, MEMBER)])
def test_the_full_shape_is_built_with_aware_timestamps(model: type[Contact], wire: Any) -> None:
    built = structurer(model)(wire)

    assert built == _careful(model)(wire)
    assert type(built) is model
    assert built.created_at is not None
    assert built.created_at.tzinfo is not None


# --- the in-flight cap -----------------------------------------------------------------------


async def test_a_released_slot_goes_to_the_longest_waiter() -> None:
    limiter = RequestLimiter(None, 1)
    assert limiter.try_acquire()
    order: list[str] = []

    async def call(name: str) -> None:
        assert await limiter.acquire()
        order.append(name)
        await asyncio.sleep(0)
        limiter.release()

    waiting = [asyncio.ensure_future(call(name)) for name in ("first", "second", "third")]
    await asyncio.sleep(0)
    assert not limiter.try_acquire()  # taken, and others wait before any newcomer
    limiter.release()
    await asyncio.gather(*waiting)

    assert order == ["first", "second", "third"]
    assert limiter.in_flight == 0
    assert limiter.try_acquire()  # the slot came back


async def test_waiters_past_their_deadline_or_cancelled_hold_nothing() -> None:
    clock = FakeClock()
    limiter = RequestLimiter(None, 1, clock)
    assert limiter.try_acquire()
    timed_out = asyncio.ensure_future(limiter.acquire(clock.monotonic()))
    cancelled = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()

    assert await timed_out is False
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    limiter.release()
    assert limiter.in_flight == 0
    assert limiter.try_acquire()


async def test_a_slot_handed_to_a_cancelled_waiter_goes_on_to_the_next() -> None:
    limiter = RequestLimiter(None, 1)
    assert limiter.try_acquire()
    first = asyncio.ensure_future(limiter.acquire())
    second = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)

    limiter.release()  # the slot goes to the first waiter, cancelled before it runs
    first.cancel()

    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second is True
    assert limiter.in_flight == 1


def test_no_slot_is_taken_at_once_when_pacing_applies() -> None:
    class Budget:
        rate = 10

        async def wait_turn(self, deadline: float | None = None) -> bool:
            return True

        async def report_rate_limited(self, retry_after: float | None) -> None:
            pass

    assert not RequestLimiter(Budget(), 4).try_acquire()
    assert RequestLimiter(None, None).try_acquire()  # no cap, no pacing


# --- the first attempt's timeouts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (Timeout(connect=1, read=30, total=120), (30, 1)),
        (Timeout(connect=1, read=30, total=5), (5, 1)),
        (Timeout(connect=1, read=30, total=None), (30, 1)),
        (Timeout(connect=1, read=None, total=7), (7, 1)),
        (Timeout(connect=None, read=None, total=None), (None, None)),
    ],
)
def test_a_first_attempt_gets_read_or_less_when_total_is_shorter(
    timeout: Timeout, expected: tuple[float | None, float | None]
) -> None:
    options = RequestOptions(timeout=timeout, retry=RetryPolicy())

    first = options.first_attempt_timeout
    assert (first.total, first.connect) == expected


# --- one pass from the body with msgspec (the speedups extra) --------------------------------


def _fits_64_bits(value: Any) -> bool:
    """Whether every integer in ``value`` fits in 64 bits, as orjson needs to write it."""
    if isinstance(value, dict):
        return all(_fits_64_bits(item) for item in value.values())
    if isinstance(value, list):
        return all(_fits_64_bits(item) for item in value)
    return not isinstance(value, int) or -(2**63) <= value < 2**64


def _answer(payload: Any = None, *, body: bytes | None = None) -> Response:
    if body is None:
        body = orjson.dumps({"data": payload})
    return Response(200, CIMultiDictProxy(CIMultiDict()), body, "GET", "http://127.0.0.1/")


def _careful_answer(model: type[Contact]) -> Any:
    return functools.partial(_decode_payload, structurer(model))


def _one_pass(model: type[Contact]) -> Any:
    """The decoder ``contacts.get`` uses: one pass from the body, or the careful way alone
    where msgspec does not serve (Python 3.10)."""
    careful = _careful_answer(model)
    return body_decoder(model, careful) or careful


def _same(outcome: Any) -> Any:
    # Datetimes of one instant in two offsets are equal; their reprs are not.
    return outcome if isinstance(outcome, tuple) else repr(outcome)


def test_msgspec_serves_where_fromisoformat_reads_the_api_s_z() -> None:
    served = sys.version_info >= (3, 11)
    assert (body_decoder(Contact, _careful_answer(Contact)) is not None) is served
    assert (page_structurer(GroupMember, "members") is not None) is served
    assert body_decoder(ContactGroup, _careful_answer(Contact)) is None


def test_each_kind_of_page_gets_one_decoder_however_many_walks() -> None:
    # A struct type and a decoder per walk would cost a class a walk (first_page per request).
    assert page_structurer(GroupMember, "members") is page_structurer(GroupMember, "members")
    assert page_structurer(Contact, "contacts") is page_structurer(Contact, "contacts")


@pytest.mark.parametrize("model", [Contact, GroupMember], ids=["contact", "member"])
@settings(max_examples=300, derandomize=True, deadline=None)
@given(value=wire_objects())
def test_one_pass_gives_what_the_careful_way_gives(model: type[Contact], value: Any) -> None:
    assume(_fits_64_bits(value))
    answer = _answer(value)

    assert _same(_outcome(_one_pass(model), answer)) == _same(
        _outcome(_careful_answer(model), answer)
    )


@st.composite
def pages(draw: st.DrawFn) -> Any:
    """List pages: items of any shape, the paging fields right, odd or left out."""
    page: dict[str, Any] = {
        draw(st.sampled_from(["members", "contacts"])): draw(st.lists(wire_objects(), max_size=3)),
        "hasMore": draw(st.one_of(st.booleans(), ODD_VALUES)),
        "nextCursor": draw(st.one_of(st.none(), st.text(max_size=4), ODD_VALUES)),
        "total": draw(st.one_of(st.integers(0, 10), ODD_VALUES)),
    }
    for key in draw(st.sets(st.sampled_from(["hasMore", "nextCursor", "total"]), max_size=2)):
        del page[key]
    return draw(st.sampled_from([page, page, page, [page], None]))


@pytest.mark.parametrize(
    ("model", "keys"),
    [(Contact, ("contacts",)), (GroupMember, ("members", "contacts"))],
    ids=["contacts", "members"],
)
@settings(max_examples=300, derandomize=True, deadline=None)
@given(page=pages())
def test_a_page_in_one_pass_is_the_page_the_careful_way_gives(
    model: type[Contact], keys: tuple[str, ...], page: Any
) -> None:
    assume(_fits_64_bits(page))
    answer = _answer(page)
    structure_items = items_structurer(model)
    one_pass = page_structurer(model, keys[0])

    def decode(from_body: Any) -> Any:
        return _decode_page(answer, keys, structure_items, from_body, "c1")

    assert _same(_outcome(decode, one_pass)) == _same(_outcome(decode, None))


def test_the_full_shape_never_reaches_the_careful_way() -> None:
    def careful(response: Response) -> Contact:
        raise AssertionError("the careful way was taken")

    decode = body_decoder(Contact, careful)
    if decode is None:  # Python 3.10: no one-pass path
        assert sys.version_info < (3, 11)
        return
    assert decode(_answer(CONTACT)) == _careful_answer(Contact)(_answer(CONTACT))


def test_one_odd_member_sends_its_page_the_careful_way() -> None:
    naive = {**MEMBER, "id": "naive", "addedAt": "2026-04-01T10:00:00"}  # taken as UTC
    shifted = {**MEMBER, "id": "shifted", "createdAt": "2026-04-01T12:00:00+02:00"}
    answer = _answer({"members": [MEMBER, naive, shifted], "hasMore": False})

    page = _decode_page(
        answer,
        ("members",),
        items_structurer(GroupMember),
        page_structurer(GroupMember, "members"),
        None,
    )

    assert [member.id for member in page.items] == [MEMBER["id"], "naive", "shifted"]
    assert page.items[1].added_at == datetime(2026, 4, 1, 10, tzinfo=timezone.utc)
    assert page.items[2].created_at is not None
    assert page.items[2].created_at.utcoffset() == timedelta(hours=2)


def test_a_body_nested_too_deeply_is_a_decode_error() -> None:
    depth = 100_000
    meta = b'{"a":' * depth + b"1" + b"}" * depth
    body = orjson.dumps({"data": {**CONTACT, "meta": {}}}).replace(b'"meta":{}', b'"meta":' + meta)

    with pytest.raises(ResponseDecodeError, match="not valid JSON"):
        _one_pass(Contact)(_answer(body=body))


def test_an_integer_beyond_64_bits_in_meta_stays_exact() -> None:
    body = json.dumps({"data": {**CONTACT, "meta": {"big": 2**70}}}).encode()

    contact = _one_pass(Contact)(_answer(body=body))

    # msgspec, like the standard library's json, keeps it exact (orjson would make it a float).
    assert contact.meta["big"] == (2**70 if sys.version_info >= (3, 11) else float(2**70))


def test_without_msgspec_the_careful_way_decodes_everything() -> None:
    script = """
import sys
sys.modules["msgspec"] = None  # as if the speedups extra were not installed
from msgflash_async import Contact, GroupMember, _wire
from msgflash_async.resources.contacts import _decode_contact
from msgflash_async._transport import Response
assert _wire.body_decoder(Contact, _decode_contact) is None
assert _wire.page_structurer(GroupMember, "members") is None
body = sys.stdin.buffer.read()
contact = _decode_contact(Response(200, {}, body, "GET", "http://127.0.0.1/"))
print(contact.id, contact.created_at.isoformat())
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=orjson.dumps({"data": CONTACT}),
        capture_output=True,
        check=True,
    )

    assert run.stdout.decode().split() == [CONTACT["id"], "2026-04-01T10:00:00+00:00"]


# --- the argument checks' shortcuts ----------------------------------------------------------


class _Text(str):
    """A str subclass that lies about itself: checks must work on the plain value."""

    def __str__(self) -> str:
        return "not me"


NAMES = st.one_of(
    st.text(max_size=102),
    st.text(alphabet=st.characters(codec="ascii"), min_size=99, max_size=101),
    st.text(min_size=1, max_size=3).map(lambda text: text + "\ud800"),  # a lone surrogate
    st.text(max_size=5).map(_Text),
    st.integers(),
    st.none(),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(value=NAMES)
def test_a_name_s_shortcut_judges_as_the_full_check(value: Any) -> None:
    def full(name: Any) -> str:
        return _validation._string("name", name, min_len=1, max_len=100)

    outcome = _outcome(check_name, value)
    assert outcome == _outcome(full, value)
    if isinstance(outcome, str):
        assert type(outcome) is str


def test_a_phone_of_a_str_subclass_comes_back_as_a_plain_str() -> None:
    phone = check_phone(_Text("+33612345000"))

    assert (type(phone), phone) == (str, "+33612345000")
