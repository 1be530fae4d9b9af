"""The in-process cases: requests at a given concurrency, and decoding one contact.

The clients of a case are measured in interleaved blocks (each block runs every client once,
in an order that rotates), so that a burst of load from elsewhere on the machine hits all of
them rather than one. Throughput is wall-clock; CPU is ``time.process_time()`` of this (the
client's) process, since the server runs in another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from msgflash_async._transport import Response
from msgflash_async.resources.contacts import _decode_contact

from ._clients import BenchClient, contact, open_client
from ._loops import run
from ._payloads import CONTACT, contact_id

__all__ = [
    "DECODERS",
    "ClientFactory",
    "Metrics",
    "clients_of",
    "measure_decode",
    "measure_requests",
    "rotated",
]

T = TypeVar("T")

Metrics = dict[str, float]
"""Metric name to value, for one run of one client."""

Operation = Callable[[BenchClient, int], Awaitable[object]]

ClientFactory = Callable[[str, int], BenchClient]
"""Makes a client from the server's URL and the concurrency, in a running loop."""

OPERATIONS: dict[str, Operation] = {
    "get": lambda client, _: client.get(),
    "get_each": lambda client, index: client.get_one(contact_id(index)),
    "create": lambda client, index: client.create(index),
}
"""What a request case sends: get the contact, get the ``index``-th contact (a URL of its
own), or create the ``index``-th one."""


def rotated(items: Sequence[T], shift: int) -> list[T]:
    """``items`` rotated left by ``shift``."""
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


class _Clock:
    """Wall and CPU time spent per client, over the blocks of a run."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self.wall = dict.fromkeys(kinds, 0.0)
        self.cpu = dict.fromkeys(kinds, 0.0)

    @contextlib.contextmanager
    def timing(self, kind: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to ``kind``."""
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.cpu[kind] += time.process_time() - cpu
        self.wall[kind] += time.perf_counter() - wall

    def metrics(self, kind: str, count: int, unit: str) -> Metrics:
        """Throughput and CPU per item of ``kind`` for ``count`` items."""
        return {
            f"{unit}s_per_s": count / self.wall[kind],
            f"cpu_us_per_{unit}": self.cpu[kind] / count * 1e6,
        }


async def _drive(
    client: BenchClient, operation: Operation, start: int, count: int, workers: int
) -> None:
    """Send ``count`` requests from ``workers`` tasks, numbered from ``start``."""
    next_index = start
    stop = start + count

    async def worker() -> None:
        nonlocal next_index
        while next_index < stop:
            index = next_index
            next_index += 1
            await operation(client, index)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def _measure_requests(
    factories: Mapping[str, ClientFactory],
    base_url: str,
    operation: Operation,
    per_block: int,
    blocks: int,
    concurrency: int,
    shift: int,
    within: Mapping[str, Callable[[], AbstractContextManager[object]]],
) -> dict[str, Metrics]:
    kinds = list(factories)
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, BenchClient] = {}
        for kind, factory in factories.items():
            clients[kind] = client = factory(base_url, concurrency)
            stack.push_async_callback(client.aclose)
            with _within(within, kind):  # warm-up
                await _drive(client, operation, 0, max(concurrency, 50), concurrency)
        clock = _Clock(kinds)
        gc.collect()
        for block in range(blocks):
            for kind in rotated(kinds, shift + block):
                with _within(within, kind), clock.timing(kind):
                    start = (block + 1) * 1_000_000  # distinct phones for imports
                    await _drive(clients[kind], operation, start, per_block, concurrency)
    return {kind: clock.metrics(kind, per_block * blocks, "request") for kind in kinds}


def _within(
    contexts: Mapping[str, Callable[[], AbstractContextManager[object]]], kind: str
) -> AbstractContextManager[object]:
    context = contexts.get(kind)
    return contextlib.nullcontext() if context is None else context()


def clients_of(*kinds: str) -> dict[str, ClientFactory]:
    """The factories of the clients named ``kinds`` (keys of ``_clients.CLIENTS``)."""
    return {kind: functools.partial(open_client, kind) for kind in kinds}


def measure_requests(
    factories: Mapping[str, ClientFactory],
    base_url: str,
    *,
    operation: str,
    requests: int,
    concurrency: int,
    blocks: int,
    shift: int,
    loop: str = "asyncio",
    within: Mapping[str, Callable[[], AbstractContextManager[object]]] | None = None,
) -> dict[str, Metrics]:
    """Send about ``requests`` ``operation`` requests (a key of ``OPERATIONS``) per client.

    They go in ``blocks`` blocks per client, interleaved, the order rotated by ``shift``, on
    an event loop of the kind ``loop`` names; a client named in ``within`` runs its blocks
    inside the context manager it maps to.
    """
    per_block = max(1, requests // blocks)
    return run(
        _measure_requests(
            factories,
            base_url,
            OPERATIONS[operation],
            per_block,
            blocks,
            concurrency,
            shift,
            within or {},
        ),
        loop,
    )


_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

DECODERS: dict[str, Callable[[bytes], Any]] = {
    # What the transport builds and contacts.get decodes (in one pass with msgspec installed).
    "sdk_model": lambda body: _decode_contact(
        tuple.__new__(Response, (200, _NO_HEADERS, body, "GET", ""))
    ),
    "orjson_dict": lambda body: orjson.loads(body)["data"],
    "hand_written": lambda body: contact(orjson.loads(body)["data"]),
}
"""Ways to decode the answer to a get: the SDK's decoder, plain dicts, construction by hand."""


def measure_decode(iterations: int, *, blocks: int, shift: int) -> dict[str, Metrics]:
    """Decode the contact about ``iterations`` times with each of :data:`DECODERS`."""
    body = orjson.dumps({"data": CONTACT})
    per_block = max(1, iterations // blocks)
    clock = _Clock(list(DECODERS))
    for decode in DECODERS.values():
        for _ in range(min(iterations, 1000)):  # warm-up
            decode(body)
    gc.collect()
    for block in range(blocks):
        for kind in rotated(list(DECODERS), shift + block):
            decode = DECODERS[kind]
            with clock.timing(kind):
                for _ in range(per_block):
                    decode(body)
    count = per_block * blocks
    return {kind: {"us_per_contact": clock.wall[kind] / count * 1e6} for kind in DECODERS}
