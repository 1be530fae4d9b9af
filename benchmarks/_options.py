"""What a user can change to go faster, each measured on the SDK against the same server.

- ``speedups``: the ``speedups`` extra (orjson) against the standard library's ``json``, which
  the SDK uses without it (swapped in here as the SDK does when orjson is missing);
- ``page_size``: walks of the smaller group at each ``limit`` of ``PAGE_SIZES``, and at 100
  with the standard library's ``json``;
- ``pacing``: pacing off, on at a rate the client never reaches (the pacer's own cost), and
  on at the API's 10 requests/s, the default, which a test against a local server pays too
  unless it turns pacing off.

uvloop has cases of its own (``get_c64_uvloop``, ``stream_uvloop``), run by ``_runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from unittest import mock

from msgflash_async import _json

from ._cases import ClientFactory, Metrics, measure_requests
from ._clients import SdkClient
from ._payloads import PAGE_SIZE, PAGE_SIZES, SMALL_GROUP_ID
from ._stream import Walk, measure_walks

__all__ = [
    "measure_paced_at_api_rate",
    "measure_pacing",
    "measure_page_sizes",
    "measure_speedups",
    "stdlib_json",
]

UNREACHED_RATE = 1_000_000
"""Requests per second of a pacer that never makes a request wait."""
API_RATE = 10
PACED_KEY = "msgf_live_" + "fedcba9876543210" * 4
"""The key of the client paced at the API's rate: pacing is shared by the clients of a key."""


@contextlib.contextmanager
def stdlib_json() -> Iterator[None]:
    """The SDK as it runs without the ``speedups`` extra: the standard library's ``json``."""
    with mock.patch.multiple(_json, loads=_json._stdlib_loads, dumps=_json._stdlib_dumps):
        yield


def _sdk(*, rate_limit: int | None = None, api_key: str | None = None) -> ClientFactory:
    def factory(url: str, concurrency: int) -> SdkClient:
        if api_key is None:
            return SdkClient(url, concurrency, rate_limit=rate_limit)
        return SdkClient(url, concurrency, rate_limit=rate_limit, api_key=api_key)

    return factory


def measure_speedups(url: str, *, requests: int, blocks: int, shift: int) -> dict[str, Metrics]:
    """The SDK's get at concurrency 64 with orjson and with the standard library's json."""
    return measure_requests(
        {"orjson": _sdk(), "stdlib_json": _sdk()},
        url,
        operation="get",
        requests=requests,
        concurrency=64,
        blocks=blocks,
        shift=shift,
        within={"stdlib_json": stdlib_json},
    )


def measure_pacing(url: str, *, requests: int, blocks: int, shift: int) -> dict[str, Metrics]:
    """The SDK's get at concurrency 64, pacing off and pacing at a rate never reached."""
    gc.collect()  # no pacer of an earlier client of the key may linger
    return measure_requests(
        {"off": _sdk(), "unreached_rate": _sdk(rate_limit=UNREACHED_RATE, api_key=PACED_KEY)},
        url,
        operation="get",
        requests=requests,
        concurrency=64,
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
    standard library's json, taking turns in ``blocks`` blocks."""
    walks: dict[str, Walk] = {
        f"limit_{size}": ("sdk", SMALL_GROUP_ID, size, contextlib.nullcontext)
        for size in PAGE_SIZES
    }
    walks[f"limit_{PAGE_SIZE}_stdlib_json"] = ("sdk", SMALL_GROUP_ID, PAGE_SIZE, stdlib_json)
    return measure_walks(
        url, walks, members=members, group_size=group_size, blocks=blocks, shift=shift
    )
