"""Issue #9: the transport's hardening: 429s as the real API sends them, one pacer per key and
origin, deadlines that cover the queue, closing mid-flight, bounded caches and answers, and a
session passed in that never re-sends silently."""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import logging
import sys
import threading
import tracemalloc
import weakref
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from msgflash_async import (
    ClientClosedError,
    InternalServerError,
    MsgFlash,
    MsgFlashError,
    QueueTimeoutError,
    ReadTimeoutError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerDisconnectedError,
    Timeout,
)
from msgflash_async._limiter import Pacer, shared_pacer
from msgflash_async.testing import LocalMsgFlash

from ._support import MOCK_KEY, FakeClock, logged, only_faults, run_workers, statuses
from .conftest import ClientFactory, Harness, ServerFactory

CONTACT = {
    "id": "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47",
    "name": "Awa Doe",
    "phone": "+33612345000",
    "tags": [],
    "meta": {},
    "createdAt": "2026-04-01T10:00:00.000Z",
    "updatedAt": "2026-04-01T10:00:00.000Z",
}
CONTACT_PATH = f"/api/v1/contacts/{CONTACT['id']}"


# --- item 4: 429s without Retry-After ----------------------------------------------------


async def test_three_workers_lose_no_call_to_a_3_per_second_limit_without_retry_after(
    serve: ServerFactory,
) -> None:
    # Before: 1 to 4 of these 15 calls failed with RateLimitExceededError after 4 attempts.
    server = await serve(rate_limit=3, rate_limit_retry_after=False)
    contact = server.workspace().add_contact("Paced", "+15550000001")

    async with MsgFlash(server.api_key, base_url=server.base_url) as client:
        await run_workers(3, range(15), lambda _: client.contacts.get(contact.id))

    answered = statuses(server)
    assert answered.count(200) == 15
    print(f"\n3 workers x 5 GETs at 3 req/s: {answered.count(429)} 429s, no call lost")


_WORKER = """
import asyncio, json, sys
from msgflash_async import MsgFlash, MsgFlashError

async def main(key, url, contact_id, calls):
    ok, failed = 0, []
    async with MsgFlash(key, base_url=url) as client:
        async def one():
            nonlocal ok
            try:
                await client.contacts.get(contact_id)
                ok += 1
            except MsgFlashError as exc:
                failed.append(type(exc).__name__)
        await asyncio.gather(*(one() for _ in range(calls)))
    print(json.dumps({"ok": ok, "failed": failed}))

asyncio.run(main(*sys.argv[1:4], int(sys.argv[4])))
"""


async def test_four_processes_on_one_key_lose_no_call_to_the_documented_limit(
    serve: ServerFactory,
) -> None:
    # Before: 20 of 160 such calls (40 per process) were lost (per process 0/1/4/15). Each
    # process makes 20 here: fewer calls in the contention keep a loaded CI machine from
    # starving one call past its 10 rate-limit retries, which says nothing of the SDK.
    server = await serve(rate_limit=10, rate_limit_retry_after=False)
    contact = server.workspace().add_contact("Shared", "+15550000001")
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WORKER,
            server.api_key,
            server.base_url,
            contact.id,
            "20",
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [json.loads((await process.communicate())[0]) for process in processes]

    assert [output["failed"] for output in outputs] == [[], [], [], []]
    assert sum(output["ok"] for output in outputs) == 80
    answered = statuses(server)
    assert answered.count(200) == 80
    print(f"\n4 processes x 20 GETs at 10 req/s: {answered.count(429)} 429s, no call lost")


async def test_a_429_slows_the_shared_pacer_which_then_recovers() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock)
    for _ in range(10):
        assert await pacer.wait_turn()

    pacer.rate_limited()
    pacer.rate_limited()  # a burst of 429s counts once per window
    assert pacer.current_rate() == 5.0

    clock.now += 1.1  # the window has moved on; the slower pace still spaces starts
    assert await pacer.wait_turn()
    before = clock.now
    assert await pacer.wait_turn()
    assert 1 / 10 < clock.now - before <= 1 / 5

    clock.now += 5
    assert pacer.current_rate() == 10.0


async def test_repeated_429s_keep_halving_down_to_a_floor() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock)
    rates = []
    for _ in range(8):
        pacer.rate_limited()
        rates.append(pacer.current_rate())
        clock.now += 1.0
    assert rates[:3] == [5.0, 3.75, 3.125]  # halved each time, after a second's recovery
    slow = Pacer(1, clock)
    for _ in range(3):
        slow.rate_limited()
        assert slow.current_rate() == 0.5  # never slower than the floor
        clock.now += 1.0


# --- item 5: one pacer per key and normalised origin ------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://127.0.0.1:8080", "http://localhost:8080"),
        ("http://127.0.0.1:8080", "http://LOCALHOST:8080/"),
        ("http://127.0.0.1:8080", "http://[::1]:8080"),
        ("https://api.msgflash.test", "https://API.msgflash.test:443"),
    ],
)
async def test_one_key_and_one_origin_share_one_pacer_whatever_the_spelling(
    first: str, second: str
) -> None:
    clock = FakeClock()
    async with (
        MsgFlash(MOCK_KEY, base_url=first, clock=clock) as one,
        MsgFlash(MOCK_KEY, base_url=second, clock=clock) as two,
    ):
        assert one._core.transport.limiter.pacer is two._core.transport.limiter.pacer


async def test_clients_asking_different_rates_share_the_smaller_one() -> None:
    clock = FakeClock()
    async with (
        MsgFlash(MOCK_KEY, base_url="http://127.0.0.1:8080", rate_limit=10, clock=clock) as one,
        MsgFlash(MOCK_KEY, base_url="http://localhost:8080", rate_limit=9, clock=clock) as two,
    ):
        pacer = one._core.transport.limiter.pacer
        assert pacer is two._core.transport.limiter.pacer
        assert pacer is not None
        started = 0
        for _ in range(20):  # before: 19 starts in the first second (10 + 9)
            if await asyncio.wait_for(pacer.wait_turn(deadline=clock.now), 1):
                started += 1
        assert started == 9


def test_other_keys_and_other_ports_pace_apart() -> None:
    clock = FakeClock()
    base = shared_pacer(MOCK_KEY, "http://loopback:8080", 10, clock)
    assert shared_pacer(MOCK_KEY, "http://loopback:8081", 10, clock) is not base
    assert shared_pacer(MOCK_KEY[:-1] + "0", "http://loopback:8080", 10, clock) is not base


# --- item 6: Timeout.total covers the queue ---------------------------------------------------


async def test_calls_that_cannot_start_before_the_deadline_are_refused_unsent(
    mock_api: Any,
) -> None:
    # Before: 40 concurrent gets with Timeout(total=2) finished after up to 3.3 s.
    url = "https://api.msgflash.test" + CONTACT_PATH
    mock_api.get(url, payload={"data": CONTACT}, repeat=True)
    async with MsgFlash(
        MOCK_KEY, base_url="https://api.msgflash.test", timeout=Timeout(total=2)
    ) as client:  # the real clock, pacing at 10 requests/s
        outcomes = await asyncio.gather(
            *(client.contacts.get(str(CONTACT["id"])) for _ in range(40)),
            return_exceptions=True,
        )

    refused = [outcome for outcome in outcomes if isinstance(outcome, QueueTimeoutError)]
    # 10 start at once, 10 more a window later; the turns of the rest come after the deadline.
    assert len(refused) == 20
    assert [type(outcome).__name__ for outcome in outcomes].count("Contact") == 20
    assert all(error.may_have_been_processed is False for error in refused)
    assert all("never sent" in str(error) for error in refused)
    assert len(mock_api.requests[("GET", URL(url))]) == 20


async def test_a_call_waiting_for_an_in_flight_slot_times_out_unsent(
    serve: ServerFactory,
) -> None:
    # Before: with max_in_flight=1 and Timeout(total=2), 40 gets finished after up to 6 s.
    server = await serve()
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.2, 0.2))
    contact = server.workspace().add_contact("Slow", "+15550000001")
    loop = asyncio.get_running_loop()
    slowest = 0.0

    async with MsgFlash(
        server.api_key,
        base_url=server.base_url,
        rate_limit=None,
        max_in_flight=1,
        timeout=Timeout(total=0.7),
    ) as client:

        async def get() -> BaseException | None:
            nonlocal slowest
            started = loop.time()
            try:
                await client.contacts.get(contact.id)
            except MsgFlashError as exc:
                return exc
            finally:
                slowest = max(slowest, loop.time() - started)
            return None

        outcomes = await asyncio.gather(*(get() for _ in range(10)))

    answered = [outcome for outcome in outcomes if outcome is None]
    refused = [outcome for outcome in outcomes if isinstance(outcome, QueueTimeoutError)]
    # The one that gets a slot with less time left than the server takes times out reading.
    late = [outcome for outcome in outcomes if isinstance(outcome, ReadTimeoutError)]
    assert len(answered) + len(refused) + len(late) == 10
    assert len(refused) >= 5
    assert all(error.may_have_been_processed is False for error in refused)
    await asyncio.sleep(0.3)
    assert len(logged(server, "contacts.get")) == len(answered) + len(late)
    print(f"\nmax_in_flight=1, Timeout(total=0.7): slowest call {slowest:.2f} s")


# --- item 8: closing with calls in flight -----------------------------------------------------


async def test_aclose_ends_a_call_in_flight_with_a_typed_error_and_no_new_attempt(
    serve: ServerFactory,
) -> None:
    server = await serve()
    server.faults = only_faults("contacts.get", latency=1.0, latency_range=(0.3, 0.3))
    contact = server.workspace().add_contact("Slow", "+15550000001")
    client = MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None)

    call = asyncio.ensure_future(client.contacts.get(contact.id))
    await asyncio.sleep(0.1)
    await client.aclose()

    with pytest.raises(ClientClosedError) as caught:
        await call
    assert caught.value.may_have_been_processed is True
    await asyncio.sleep(0.4)
    assert len(logged(server, "contacts.get")) <= 1
    with pytest.raises(ClientClosedError, match="closed"):
        await client.contacts.get(contact.id)


async def test_a_closed_session_passed_in_gives_a_typed_error(server: LocalMsgFlash) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    async with MsgFlash(server.api_key, base_url=server.base_url, session=session) as client:
        with pytest.raises(ClientClosedError, match="session"):
            await client.contacts.get(str(CONTACT["id"]))


async def test_aclose_from_another_loop_is_refused_clearly(server: LocalMsgFlash) -> None:
    contact = server.workspace().add_contact("Looped", "+15550000001")
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever)
    thread.start()
    try:
        client = MsgFlash(server.api_key, base_url=server.base_url, rate_limit=None)
        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(client.contacts.get(contact.id), other)
        )

        with pytest.raises(MsgFlashError, match="another event loop"):
            await client.aclose()

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(client.aclose(), other))
        assert client._core.transport.closed
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join()
        other.close()


# --- item 9: nothing kept per Timeout ---------------------------------------------------------


async def test_per_call_timeouts_are_not_kept_after_use(
    make_client: ClientFactory, mock_api: Any
) -> None:
    url = "https://api.msgflash.test" + CONTACT_PATH
    mock_api.get(url, payload={"data": CONTACT}, repeat=True)
    client = make_client(base_url="https://api.msgflash.test")
    kept: list[weakref.ref[Timeout]] = []

    for number in range(500):  # before: every distinct Timeout stayed in a cache forever
        timeout = Timeout(read=10 + number / 1000)
        kept.append(weakref.ref(timeout))
        await client.with_options(timeout=timeout).contacts.get(str(CONTACT["id"]))
        del timeout
    gc.collect()

    assert [ref for ref in kept if ref() is not None] == []


# --- item 12: a cap on the size of answers ----------------------------------------------------


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serves one handler for every path on 127.0.0.1; gives its base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def raw_client(base_url: str, **options: Any) -> MsgFlash:
    options.setdefault("rate_limit", None)
    options.setdefault("retry", RetryPolicy.none())
    return MsgFlash(MOCK_KEY, base_url=base_url, **options)


async def test_an_announced_oversize_answer_is_refused_before_reading(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(10**9)})
        await response.prepare(request)
        await response.write(b"{" * 1024)
        await asyncio.sleep(2)
        return response

    async with raw_client(await raw_server(huge)) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.contacts.get(str(CONTACT["id"]))

    assert caught.value.size == 10**9
    assert caught.value.limit == 32 * 1024 * 1024


@pytest.mark.parametrize("declared_encoding", [None, "identity", " Identity "])
@pytest.mark.parametrize(
    ("room", "refused"), [(0, False), (-1, True), (None, False)], ids=["at", "over", "uncapped"]
)
async def test_a_plain_answer_is_read_up_to_the_cap_and_refused_one_byte_past_it(
    raw_server: Callable[[Handler], Awaitable[str]],
    declared_encoding: str | None,
    room: int | None,
    refused: bool,
) -> None:
    # max_response_size is at least 1024: an answer a little longer.
    body = json.dumps({"data": {**CONTACT, "meta": {"note": "x" * 2000}}}).encode()
    headers = {} if declared_encoding is None else {"Content-Encoding": declared_encoding}

    async def plain(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers, content_type="application/json")

    limit = None if room is None else len(body) + room
    async with raw_client(await raw_server(plain), max_response_size=limit) as client:
        if refused:
            with pytest.raises(ResponseTooLargeError) as caught:
                await client.contacts.get(str(CONTACT["id"]))
            assert (caught.value.size, caught.value.limit) == (len(body), limit)
        else:
            assert (await client.contacts.get(str(CONTACT["id"]))).id == CONTACT["id"]


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of ``inflated`` zero bytes (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(inflated >> 20)) + packer.flush()


async def test_a_gzip_bomb_is_cut_off_at_the_limit_while_inflating(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    bomb = gzip_bomb(256 << 20)

    async def serve_bomb(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    limit = 4 << 20
    async with raw_client(await raw_server(serve_bomb), max_response_size=limit) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as caught:
                await client.contacts.get(str(CONTACT["id"]))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert caught.value.size is None  # cut off while reading
    # Before: a 1 MB bomb inflating to 1 GiB took the process from 38 MB to 2.1 GB.
    assert peak < 4 * limit
    print(f"\ngzip bomb of 256 MiB, 4 MiB limit: peak traced memory {peak / 2**20:.1f} MiB")


async def test_an_endless_chunked_answer_is_cut_off_at_the_limit(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b" " * 65536
        for _ in range(10_000):  # bounded: the client hangs up long before
            try:
                await response.write(chunk)
            except (ConnectionError, RuntimeError):
                break
            sent += len(chunk)
        return response

    async with raw_client(await raw_server(endless), max_response_size=1 << 20) as client:
        with pytest.raises(ResponseTooLargeError):
            await client.contacts.get(str(CONTACT["id"]))
    assert sent < 10_000 * 65536


async def test_an_oversize_error_body_is_refused_too_and_keeps_its_status(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.Response(status=500, body=b"x" * (2 << 20))

    async with raw_client(await raw_server(failing), max_response_size=1 << 20) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.contacts.get(str(CONTACT["id"]))
    assert caught.value.status == 500
    assert caught.value.may_have_been_processed is True


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_answers_are_read_whole(
    raw_server: Callable[[Handler], Awaitable[str]], encoding: str
) -> None:
    payload = json.dumps({"data": CONTACT}).encode()
    if encoding == "gzip":
        body = gzip.compress(payload)
    elif encoding == "deflate":
        body = zlib.compress(payload)
    else:
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = packer.compress(payload) + packer.flush()

    async def compressed(request: web.Request) -> web.Response:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        header = "gzip" if encoding == "gzip" else "deflate"
        return web.Response(body=body, headers={"Content-Encoding": header})

    async with raw_client(await raw_server(compressed)) as client:
        contact = await client.contacts.get(str(CONTACT["id"]))
    assert contact.name == "Awa Doe"


@pytest.mark.parametrize(("encoding", "body"), [("br", b"\x8b\x00"), ("gzip", b"not gzip at all")])
async def test_an_undecodable_encoding_is_a_decode_error(
    raw_server: Callable[[Handler], Awaitable[str]], encoding: str, body: bytes
) -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": encoding})

    async with raw_client(await raw_server(odd)) as client:
        with pytest.raises(ResponseDecodeError):
            await client.contacts.get(str(CONTACT["id"]))


async def test_a_huge_error_message_is_cut_in_texts_and_logs_but_kept_whole(
    raw_server: Callable[[Handler], Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    message = "m" * (5 << 20)

    async def chatty(request: web.Request) -> web.Response:
        body = {"error": {"code": "INTERNAL_ERROR", "message": message}}
        return web.json_response(body, status=500)

    caplog.set_level(logging.DEBUG, logger="msgflash_async")
    async with raw_client(await raw_server(chatty), retry=RetryPolicy(max_retries=1)) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.with_options(
                retry=RetryPolicy(max_retries=1, initial_backoff=0.1)
            ).contacts.get(str(CONTACT["id"]))

    assert caught.value.message == message
    assert len(str(caught.value)) < 1000
    assert all(len(record.getMessage()) < 500 for record in caplog.records)


# --- item 17: a session passed in ------------------------------------------------------------


async def test_a_session_passed_in_never_resends_silently_either(api: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        client = api.client(session=session, retry=RetryPolicy.none())
        assert session._retry_connection is False
        await client.contacts.get(api.seeded.contact_id)
        api.server.faults = only_faults("contacts.delete", drop_after=1.0)

        with pytest.raises(ServerDisconnectedError) as caught:
            await client.contacts.delete(api.seeded.contact_id)

    assert caught.value.may_have_been_processed is True
    # Before: aiohttp sent this DELETE twice on a session passed in.
    assert [entry.fault for entry in logged(api.server, "contacts.delete")] == ["drop_after"]
