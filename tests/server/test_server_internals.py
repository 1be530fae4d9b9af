"""The building blocks: the sorted key index, cursors and timestamps."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from server_support import ManualClock

from msgflash_async.testing._clock import Stamper, format_timestamp
from msgflash_async.testing._cursors import CursorError, decode_cursor, encode_cursor
from msgflash_async.testing._index import Key, SortedKeyList


def test_the_index_matches_a_sorted_list_under_random_changes() -> None:
    rng = random.Random(7)
    index = SortedKeyList()
    reference: set[Key] = set()
    for step in range(12_000):
        if reference and rng.random() < 0.3:
            key = rng.choice(sorted(reference)) if step % 500 == 0 else reference.pop()
            reference.discard(key)
            index.remove(key)
        else:
            key = (f"{rng.randrange(10_000):05d}", f"id{step}")
            reference.add(key)
            index.add(key)
    expected = sorted(reference)

    assert len(index) == len(expected)
    assert list(index.ascending()) == expected
    assert list(index.descending()) == expected[::-1]
    for probe in [*rng.sample(expected, 50), ("00000", ""), ("99999", "~"), ("05000", "id")]:
        after = [key for key in expected if key > probe]
        before = [key for key in reversed(expected) if key < probe]
        assert list(index.ascending(probe)) == after
        assert list(index.descending(probe)) == before


def test_appending_in_order_and_seeking_an_empty_index() -> None:
    index = SortedKeyList()
    assert list(index.ascending(("a", "b"))) == []
    assert list(index.descending()) == []

    keys = [(f"{n:06d}", "x") for n in range(5000)]
    for key in keys:
        index.add(key)

    assert list(index.ascending(keys[2999]))[:2] == keys[3000:3002]
    assert list(index.descending(keys[2000]))[:2] == [keys[1999], keys[1998]]


def test_removing_an_absent_key_raises() -> None:
    index = SortedKeyList()
    index.add(("b", "1"))

    for absent in [("a", "1"), ("b", "0"), ("c", "1")]:
        with pytest.raises(KeyError):
            index.remove(absent)


@pytest.mark.parametrize(
    "key", [("2026-04-01T10:00:00.000Z", "id"), ('a|b "c" é 🙂', "x"), ("", "")]
)
def test_cursors_round_trip(key: Key) -> None:
    assert decode_cursor(encode_cursor("contacts.name_asc", key)) == ("contacts.name_asc", key)


def test_a_non_string_cursor_part_is_malformed() -> None:
    with pytest.raises(CursorError):
        decode_cursor("WzEsMiwzXQ==")  # [1,2,3]


def test_timestamps_have_milliseconds_and_z() -> None:
    paris = timezone(timedelta(hours=2))

    assert format_timestamp(datetime(2026, 4, 1, 12, 0, 0, 999999, tzinfo=paris)) == (
        "2026-04-01T10:00:00.999Z"
    )


def test_stamps_strictly_increase_even_when_the_clock_stands_still_or_goes_back() -> None:
    clock = ManualClock(datetime(2026, 4, 1, 10, 0, 0, 123456, tzinfo=timezone.utc))
    stamp = Stamper(clock)

    first, second = stamp(), stamp()
    clock.advance(timedelta(seconds=-5))
    third = stamp()
    clock.advance(timedelta(seconds=10))
    fourth = stamp()

    assert [first, second, third, fourth] == [
        "2026-04-01T10:00:00.123Z",
        "2026-04-01T10:00:00.124Z",
        "2026-04-01T10:00:00.125Z",
        "2026-04-01T10:00:05.123Z",
    ]


def test_the_clock_must_be_aware() -> None:
    stamp = Stamper(lambda: datetime(2026, 4, 1))

    with pytest.raises(ValueError, match="aware"):
        stamp()
