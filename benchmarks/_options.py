"""What a user can change to go faster, each measured on the SDK against the same server.

- ``speedups``: the ``speedups`` extra (orjson and msgspec) against the SDK without it: the
  standard library's ``json`` and no one-pass decoding (swapped in here as the SDK does when
  the extra is missing);
- ``page_size``: walks of the smaller group at each ``limit`` of ``PAGE_SIZES``, and at 100
  without the ``speedups`` extra;
- ``pacing``: pacing off, on at a rate the client never reaches (the pacer's own cost), and
  on at the API's 10 requests/s, the default, which a test against a local server pays too
  unless it turns pacing off.

uvloop has cases of its own (``get_c64_uvloop``, ``stream_uvloop``), run by ``_runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from unittest import mock

from msgflash_async import Contact, _json
from msgflash_async._converter import structurer
from msgflash_async.resources import _base, contacts
from msgflash_async.resources._base import _decode_payload

from ._cases import ClientFactory, Metrics, measure_requests
from ._clients import SdkClient
from ._payloads import PAGE_SIZE, PAGE_SIZES, SMALL_GROUP_ID
from ._stream import Walk, measure_walks

__all__ = [
    "measure_paced_at_api_rate",
    "measure_pacing",
    "measure_page_sizes",
    "measure_speedups",
    "without_speedups",
]

UNREACHED_RATE = 1_000_000
"""Requests per second of a pacer that never makes a request wait."""
API_RATE = 10
PACED_KEY = "msgf_live_" + "fedcba9876543210" * 4
"""The key of the client paced at the API's rate: pacing is shared by the clients of a key."""


@contextlib.contextmanager
def without_speedups() -> Iterator[None]:
    """The SDK as it runs without the ``speedups`` extra: the standard library's ``json``, and
    answers decoded from parsed JSON instead of in one pass by msgspec."""
    careful_contact = functools.partial(_decode_payload, structurer(Contact))
    with (
        mock.patch.multiple(_json, loads=_json._stdlib_loads, dumps=_json._stdlib_dumps),
        mock.patch.object(_base, "page_structurer", return_value=None),
        mock.patch.object(contacts, "_decode_contact", careful_contact),
    ):
        yield


def _sdk(*, rate_limit: int | None = None, api_key: str | None = None) -> ClientFactory:
    def factory(url: str, concurrency: int) -> SdkClient:
        if api_key is None:
            return SdkClient(url, concurrency, rate_limit=rate_limit)
        return SdkClient(url, concurrency, rate_limit=rate_limit, api_key=api_key)

    return factory


def _get_c64(
    clients: Mapping[str, ClientFactory],
    url: str,
    *,
    requests: int,
    blocks: int,
    shift: int,
    within: Mapping[str, Callable[[], AbstractContextManager[object]]] | None = None,
) -> dict[str, Metrics]:
    """``clients`` taking turns at gets at concurrency 64, the options' common measure."""
    return measure_requests(
        clients,
        url,
        operation="get",
        requests=requests,
        concurrency=64,
        blocks=blocks,
        shift=shift,
        within=within,
    )


def measure_speedups(url: str, *, requests: int, blocks: int, shift: int) -> dict[str, Metrics]:
    """The SDK's get at concurrency 64 with and without the ``speedups`` extra."""
    return _get_c64(
        {"speedups": _sdk(), "no_speedups": _sdk()},
        url,
        requests=requests,
        blocks=blocks,
        shift=shift,
        within={"no_speedups": without_speedups},
    )


def measure_pacing(url: str, *, requests: int, blocks: int, shift: int) -> dict[str, Metrics]:
    """The SDK's get at concurrency 64, pacing off and pacing at a rate never reached."""
    gc.collect()  # no pacer of an earlier client of the key may linger
    return _get_c64(
        {"off": _sdk(), "unreached_rate": _sdk(rate_limit=UNREACHED_RATE, api_key=PACED_KEY)},
        url,
        requests=requests,
        blocks=blocks,
        shift=shift,
    )


async def _paced(url: str, requests: int) -> float:
    client = SdkClient(url, 4, rate_limit=API_RATE, api_key=PACED_KEY)
    try:
        # The first window's turns come at once; a steady pace is what follows.
        await asyncio.gather(*(client.get() for _ in range(API_RATE)))
        started = time.perf_counter()
        await asyncio.gather(*(client.get() for _ in range(requests)))
        return requests / (time.perf_counter() - started)
    finally:
        await client.aclose()


def measure_paced_at_api_rate(url: str, *, requests: int) -> dict[str, Metrics]:
    """Requests/s of the SDK paced at the API's 10 requests/s, once its first window is used."""
    gc.collect()
    return {f"rate_{API_RATE}": {"requests_per_s": asyncio.run(_paced(url, requests))}}


def measure_page_sizes(
    url: str, *, members: int, group_size: int, blocks: int, shift: int
) -> dict[str, Metrics]:
    """Walks of the smaller group by the SDK at each page size, and at 100 a page with the
    ``speedups`` extra, taking turns in ``blocks`` blocks."""
    walks: dict[str, Walk] = {
        f"limit_{size}": ("sdk", SMALL_GROUP_ID, size, contextlib.nullcontext)
        for size in PAGE_SIZES
    }
    walks[f"limit_{PAGE_SIZE}_no_speedups"] = ("sdk", SMALL_GROUP_ID, PAGE_SIZE, without_speedups)
    return measure_walks(
        url, walks, members=members, group_size=group_size, blocks=blocks, shift=shift
    )
