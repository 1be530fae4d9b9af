"""Issue #13: the request path's shortcuts give what the careful paths give.

The contacts' fast decoder builds the converter's model or steps aside; the in-flight cap
hands slots over first come, first served and leaks none on a deadline or a cancellation; a
first attempt that waited for nothing gets the options' own timeouts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msgflash_async import Contact, GroupMember, RetryPolicy, Timeout
from msgflash_async._converter import _contact, structurer
from msgflash_async._limiter import RequestLimiter
from msgflash_async._transport import RequestOptions
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
