"""Issue #5, part 3: client-side pacing and the cap on requests in flight, on a real server.

The pacing tests run on the real clock against the server's real 10 requests/s limit; they are
the only tests of this folder that take seconds.
"""

from __future__ import annotations

import asyncio
import time

from msgflash_async import MsgFlash, RateLimitError, RetryPolicy
from msgflash_async._limiter import SAFETY_MARGIN
from msgflash_async.testing import LocalMsgFlash

from ._support import ConcurrencyProbe, logged, only_faults, run_workers, statuses
from .conftest import ClientFactory, ServerFactory

WINDOW = 1 + SAFETY_MARGIN
"""The pacer's window: at most 10 starts in any window this long."""
SERVER_WINDOW = 0.8
"""The server's sliding window in the tests that expect no 429: 10 requests in 0.8 s. The
server counts a request when its handler runs, which on a loaded machine can come well after
the client started it (server and clients share this event loop), and then 11 handled
requests could fall in one second though the client started only 10 in each 1.05 s. Clients
pacing apart (20 starts at once) still draw 429s from it; the elapsed times asserted show the
pacing itself."""


async def test_default_pacing_draws_no_429_from_the_documented_limit(
    serve: ServerFactory,
) -> None:
    # The API's documented 10 requests/s per key, counted over SERVER_WINDOW.
    server = await serve(rate_limit=10, rate_limit_window=SERVER_WINDOW)
    contact = server.workspace().add_contact("Paced", "+15550000001")
    started = time.monotonic()

    async with MsgFlash(
        server.api_key, base_url=server.base_url, retry=RetryPolicy.none()
    ) as client:  # rate_limit=10 and max_in_flight=64 by default
        await run_workers(8, range(60), lambda _: client.contacts.get(contact.id))

    elapsed = time.monotonic() - started
    assert statuses(server) == [200] * 60
    assert elapsed >= 5 * WINDOW  # the last 10 start 5 windows after the first 10


async def test_two_clients_with_one_key_share_the_pacing(serve: ServerFactory) -> None:
    server = await serve(rate_limit=10, rate_limit_window=SERVER_WINDOW)
    contact = server.workspace().add_contact("Paced", "+15550000001")
    started = time.monotonic()

    async with (
        MsgFlash(server.api_key, base_url=server.base_url, retry=RetryPolicy.none()) as one,
        MsgFlash(server.api_key, base_url=server.base_url, retry=RetryPolicy.none()) as two,
    ):
        assert one._core.transport.limiter.pacer is two._core.transport.limiter.pacer
        await asyncio.gather(
            run_workers(4, range(10), lambda _: one.contacts.get(contact.id)),
            run_workers(4, range(10), lambda _: two.contacts.get(contact.id)),
        )

    assert statuses(server) == [200] * 20
    assert time.monotonic() - started >= WINDOW


async def test_without_pacing_the_same_burst_is_rate_limited(
    serve: ServerFactory, make_client: ClientFactory
) -> None:
    server = await serve(rate_limit=10)
    contact = server.workspace().add_contact("Unpaced", "+15550000001")
    one, two = (make_client(server, retry=RetryPolicy.none()) for _ in range(2))

    outcomes = await asyncio.gather(
        *(client.contacts.get(contact.id) for client in (one, two) for _ in range(10)),
        return_exceptions=True,
    )

    assert sum(isinstance(outcome, RateLimitError) for outcome in outcomes) == 10
    assert statuses(server).count(429) == 10


async def probed_server(serve: ServerFactory) -> tuple[LocalMsgFlash, ConcurrencyProbe, str]:
    """A server counting its concurrent requests, where each GET of a contact takes 0.1 s;
    and the id of a contact to get."""
    probe = ConcurrencyProbe()
    server = await serve(middlewares=[probe.middleware])
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.1, 0.1))
    return server, probe, server.workspace().add_contact("Slow", "+15550000001").id


async def test_max_in_flight_caps_concurrent_requests(
    serve: ServerFactory, make_client: ClientFactory
) -> None:
    server, probe, contact_id = await probed_server(serve)
    client = make_client(server, max_in_flight=3)
    limiter = client._core.transport.limiter
    peak = 0

    async def get() -> None:
        nonlocal peak
        call = asyncio.ensure_future(client.contacts.get(contact_id))
        await asyncio.sleep(0.01)
        peak = max(peak, limiter.in_flight)
        await call

    await asyncio.gather(*(get() for _ in range(12)))

    assert probe.peak == 3
    assert peak == 3
    assert limiter.in_flight == 0
    assert len(logged(server)) == 12


async def test_pacing_and_the_cap_can_both_be_turned_off(
    serve: ServerFactory, make_client: ClientFactory
) -> None:
    server, probe, contact_id = await probed_server(serve)
    client = make_client(server, rate_limit=None, max_in_flight=None)

    await asyncio.gather(*(client.contacts.get(contact_id) for _ in range(30)))

    assert probe.peak == 30
    assert client._core.transport.limiter.pacer is None
    assert client._core.transport.limiter.max_in_flight is None
