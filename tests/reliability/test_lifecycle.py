"""Issue #5, part 6: sessions are closed, event loops respected, cancellations leak nothing."""

from __future__ import annotations

import ast
import asyncio
import gc
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import msgflash_async
from msgflash_async import MsgFlash, MsgFlashError, RetryPolicy, SystemClock
from msgflash_async.testing import LocalMsgFlash

from ._support import (
    GET_CONTACT,
    NOWHERE,
    Seeded,
    acquired_connections,
    logged,
    only_faults,
    seed,
    transport_session,
)
from .conftest import FAST_SERVER, ClientFactory


@pytest.fixture
def leftovers() -> Iterator[list[str]]:
    """Warnings and unraisable exceptions (``__del__`` of unclosed sessions, callbacks on a
    closed loop) seen until the end of the test, after a garbage collection."""
    seen: list[str] = []
    previous_hook = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        seen.append(f"unraisable: {unraisable.exc_value!r} in {unraisable.object!r}")

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
            gc.collect()
        seen += [str(warning.message) for warning in caught]
    finally:
        sys.unraisablehook = previous_hook


async def _use_and_close_clients(server: LocalMsgFlash, seeded: Seeded) -> None:
    async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as first:
        await GET_CONTACT.invoke(first, seeded, False)
        await GET_CONTACT.invoke(first.with_options(timeout=5), seeded, False)

    second = MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None)
    await GET_CONTACT.invoke(second, seeded, False)
    await second.aclose()
    await second.aclose()  # safe twice

    never_used = MsgFlash(server.api_key, base_url=server.base_url)
    await never_used.aclose()

    for client in (first, second):
        assert transport_session(client).closed


def test_closed_clients_leave_no_unclosed_session_nor_loop_callback(
    leftovers: list[str],
) -> None:
    async def main() -> None:
        async with LocalMsgFlash(**FAST_SERVER) as server:
            await _use_and_close_clients(server, seed(server))

    asyncio.run(main())
    asyncio.run(main())
    gc.collect()

    assert leftovers == []


async def test_closing_a_client_makes_it_refuse_calls(
    server: LocalMsgFlash, seeded: Seeded
) -> None:
    async with MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None) as client:
        await GET_CONTACT.invoke(client, seeded, False)

    assert client._core.transport.closed
    with pytest.raises(MsgFlashError, match="closed"):
        await GET_CONTACT.invoke(client, seeded, False)


async def test_a_copy_from_with_options_does_not_close_the_session(
    server: LocalMsgFlash, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(server)
    async with client.with_options(retry=RetryPolicy.none()) as copy:
        await GET_CONTACT.invoke(copy, seeded, False)

    assert not transport_session(client).closed
    await GET_CONTACT.invoke(client, seeded, False)


async def test_a_session_passed_in_stays_open(server: LocalMsgFlash, seeded: Seeded) -> None:
    async with aiohttp.ClientSession() as session:
        async with MsgFlash(
            server.api_key, base_url=server.base_url, session=session, rate_limit=None
        ) as client:
            await GET_CONTACT.invoke(client, seeded, False)
        await client.aclose()

        assert not session.closed
        async with session.get(server.base_url + "/api/v1/contacts") as response:
            assert response.status == 401  # still usable (no key: the SDK's headers stay its own)


def test_a_client_used_from_a_second_event_loop_fails_clearly(leftovers: list[str]) -> None:
    loop = asyncio.new_event_loop()
    try:
        server = LocalMsgFlash(**FAST_SERVER)
        loop.run_until_complete(server.start())
        seeded = seed(server)
        client = MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None)
        loop.run_until_complete(GET_CONTACT.invoke(client, seeded, False))

        with pytest.raises(MsgFlashError, match="another event loop"):
            asyncio.run(GET_CONTACT.invoke(client, seeded, False))

        loop.run_until_complete(GET_CONTACT.invoke(client, seeded, False))  # still fine here
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(server.close())
    finally:
        loop.close()
    assert leftovers == []


def test_a_client_is_refused_in_a_second_asyncio_run(leftovers: list[str]) -> None:
    async def first() -> MsgFlash:
        async with LocalMsgFlash(**FAST_SERVER) as server:
            client = MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None)
            await GET_CONTACT.invoke(client, seed(server), False)
            await client.aclose()  # closed in its own loop, as it should be
            return client

    client = asyncio.run(first())

    with pytest.raises(MsgFlashError, match="another event loop"):
        asyncio.run(GET_CONTACT.invoke(client, NOWHERE, False))
    assert leftovers == []


# --- cancellation --------------------------------------------------------------------------


def _slow_answers(server: LocalMsgFlash) -> None:
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.5, 0.5))


def _long_waits_asked(server: LocalMsgFlash) -> None:
    for _ in range(10):
        server.inject_response(
            status=429, code="API_RATE_LIMIT_EXCEEDED", headers={"Retry-After": "30"}
        )


@dataclass(frozen=True)
class Stage:
    """Where the cancelled calls are: what makes them wait there, and what they hold."""

    name: str
    prepare: Callable[[LocalMsgFlash], None]
    options: dict[str, Any]
    holding_slots: int
    holding_connections: int
    finished: int = 0

    def __str__(self) -> str:
        return self.name


STAGES = [
    # 4 calls wait for their answer, 6 for a slot.
    Stage("awaiting_answers", _slow_answers, {}, 4, 4),
    # Every call waits 30 s before its retry, holding nothing.
    Stage("in_retry_backoff", _long_waits_asked, {"clock": SystemClock()}, 0, 0),
    # 2 calls went through, 8 wait for their turn, 4 of them holding a slot.
    Stage(
        "waiting_for_pacing",
        lambda server: None,
        {"clock": SystemClock(), "rate_limit": 2},
        4,
        0,
        finished=2,
    ),
]


@pytest.mark.parametrize("stage", STAGES, ids=str)
async def test_cancelled_calls_leak_no_connection_nor_slot(
    stage: Stage, server: LocalMsgFlash, seeded: Seeded, make_client: ClientFactory
) -> None:
    stage.prepare(server)
    client = make_client(server, max_in_flight=4, **stage.options)
    limiter = client._core.transport.limiter
    calls = [asyncio.ensure_future(GET_CONTACT.invoke(client, seeded, False)) for _ in range(10)]
    await asyncio.sleep(0.2)
    assert sum(call.done() for call in calls) == stage.finished
    assert limiter.in_flight == stage.holding_slots
    assert acquired_connections(client) == stage.holding_connections

    for call in calls:
        call.cancel()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    cancelled = [isinstance(outcome, asyncio.CancelledError) for outcome in outcomes]
    assert cancelled.count(True) == 10 - stage.finished
    assert limiter.in_flight == 0
    assert acquired_connections(client) == 0


async def test_cancelled_calls_give_their_paced_turns_back(
    server: LocalMsgFlash, seeded: Seeded, make_client: ClientFactory
) -> None:
    """Calls cancelled while waiting for their turn never start; the next call need not wait
    for the turns they had reserved (2 windows of 1.1 s here)."""
    client = make_client(server, clock=SystemClock(), rate_limit=5, max_in_flight=None)
    calls = [asyncio.ensure_future(GET_CONTACT.invoke(client, seeded, False)) for _ in range(15)]
    await asyncio.sleep(0.1)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    assert len(logged(server)) == 5
    started = time.monotonic()

    await GET_CONTACT.invoke(client, seeded, False)

    assert time.monotonic() - started < 1.5  # the next free turn: 1.1 s after the first five


async def test_leaving_a_walk_early_leaks_no_connection(
    server: LocalMsgFlash, make_client: ClientFactory
) -> None:
    server.workspace().seed_contacts(30)
    client = make_client(server)

    async for _ in client.contacts.list(limit=10):
        break

    assert acquired_connections(client) == 0
    assert client._core.transport.limiter.in_flight == 0


def test_the_sdk_defines_no_finalizer() -> None:
    """Cleanup is explicit (``aclose``/``async with``): no ``__del__`` anywhere in the package."""
    package = Path(msgflash_async.__file__).parent
    finalizers = [
        f"{path.relative_to(package)}:{node.lineno}"
        for path in sorted(package.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__del__"
    ]

    assert finalizers == []
    assert "__del__" not in "".join(p.read_text("utf-8") for p in package.rglob("*.py"))
