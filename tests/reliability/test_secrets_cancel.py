"""Issue #9, item 10: the key never shows in a traceback that prints local variables.

``traceback.TracebackException(..., capture_locals=True)`` is what pytest ``--showlocals``,
rich and loguru print. A call cancelled in flight, a malformed answer and an untyped error
inside aiohttp all leave frames whose locals hold the request headers; the key must show
there as a placeholder, while the server still receives the real key.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import http_writer, web

from msgflash_async import MsgFlash, MsgFlashError, RetryPolicy
from msgflash_async.testing import LocalMsgFlash

from ._support import (
    CREATE_CONTACT,
    GET_CONTACT,
    MOCK_KEY,
    NOWHERE,
    Operation,
    assert_hidden,
    exception_chain,
    exception_texts,
    web_app,
)
from .conftest import ClientFactory, ServerFactory

TEAM_KEY = "msgf_team_" + "T0pS3cr3tTeamKey" * 3
TEAM_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
PLACEHOLDER = "'<redacted>'"
KEYS = [(MOCK_KEY, None), (TEAM_KEY, TEAM_ID)]
KEY_IDS = ["personal", "team"]
Call = Coroutine[Any, Any, Any]


def rendered_with_locals(error: BaseException) -> list[str]:
    """Every exception of the chain formatted with its frames' local variables, even the
    contexts that ``raise ... from None`` hides from the default rendering."""
    return [
        "".join(traceback.TracebackException.from_exception(current, capture_locals=True).format())
        for current in exception_chain(error)
    ]


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the captured log records show, formatted or not."""
    return [
        caplog.text,
        *(
            text
            for record in caplog.records
            for text in (record.getMessage(), repr(record.args), record.exc_text or "")
        ),
    ]


async def raised_by(call: Awaitable[object]) -> BaseException:
    """What ``call`` raises, caught here: the test's frame, whose locals hold the key, is
    then not part of the traceback."""
    try:
        await call
    except BaseException as error:
        return error
    raise AssertionError("the call succeeded")


# --- a server that holds every request until the test ends -----------------------------------


class HeldServer:
    """Records each request's key, calls ``on_arrival``, then answers only at teardown."""

    def __init__(self) -> None:
        self.base_url = ""
        self.keys: list[str | None] = []
        self.arrived = asyncio.Event()
        self.on_arrival: Callable[[], object] = lambda: None
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.keys.append(request.headers.get("x-api-key"))
        self.arrived.set()
        self.on_arrival()
        await self.release.wait()
        return web.json_response({"data": {}})


@pytest.fixture
async def held() -> AsyncIterator[HeldServer]:
    server = HeldServer()
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", server.handle)
    async with web_app(app) as base_url:
        server.base_url = base_url
        yield server
        server.release.set()


# --- the ways to cancel a call once the server has it ----------------------------------------

Cancel = Callable[[Call, HeldServer], Awaitable[object]]


async def with_asyncio_timeout(call: Call, held: HeldServer) -> None:
    if sys.version_info >= (3, 11):  # skipped before, see CANCELS
        async with asyncio.timeout(None) as window:
            held.on_arrival = lambda: window.reschedule(asyncio.get_running_loop().time())
            await call


async def with_wait_for(call: Call, held: HeldServer) -> None:
    task = asyncio.ensure_future(call)
    await held.arrived.wait()
    await asyncio.wait_for(task, timeout=0)


async def with_anyio_fail_after(call: Call, held: HeldServer) -> None:
    with anyio.fail_after(3600) as scope:

        def expire() -> None:
            scope.deadline = anyio.current_time()

        held.on_arrival = expire
        await call


async def with_task_cancel(call: Call, held: HeldServer) -> None:
    task = asyncio.ensure_future(call)
    held.on_arrival = task.cancel
    await task


CANCELS = [
    # asyncio.timeout is new in Python 3.11: there is nothing to test before it.
    *(
        [pytest.param(with_asyncio_timeout, id="asyncio.timeout")]
        if sys.version_info >= (3, 11)
        else []
    ),
    pytest.param(with_wait_for, id="asyncio.wait_for"),
    pytest.param(with_anyio_fail_after, id="anyio.fail_after"),
    pytest.param(with_task_cancel, id="task.cancel"),
]


@pytest.mark.parametrize(("key", "team_id"), KEYS, ids=KEY_IDS)
@pytest.mark.parametrize("operation", [GET_CONTACT, CREATE_CONTACT], ids=str)
@pytest.mark.parametrize("cancel", CANCELS)
async def test_a_call_cancelled_in_flight_shows_no_key_in_its_locals(
    cancel: Cancel,
    operation: Operation,
    key: str,
    team_id: str | None,
    held: HeldServer,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(base_url=held.base_url, api_key=key, team_id=team_id)

    error = await raised_by(cancel(operation.invoke(client, NOWHERE, False), held))

    assert isinstance(error, (TimeoutError, asyncio.TimeoutError, asyncio.CancelledError))
    assert held.keys == [key]  # in flight when cancelled, with the real key on the wire
    rendered = rendered_with_locals(error)
    assert_hidden(key, [*rendered, *exception_texts(error), *log_texts(caplog)])
    assert PLACEHOLDER in "".join(rendered)  # the headers were in a frame, redacted


# --- a malformed answer: aiohttp's error keeps the request headers ------------------------------


@pytest.fixture
async def garbage_server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, bytearray]]:
    """A raw TCP server answering every request with ``request.param``; yields its URL and
    the bytes it received."""
    answer: bytes = request.param
    received = bytearray()

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.extend(await reader.readuntil(b"\r\n\r\n"))
        writer.write(answer)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "garbage_server",
    [b"HTTP/1.1 abc\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"],
    ids=["bad-status-line", "bad-header"],
    indirect=True,
)
@pytest.mark.parametrize(("key", "team_id"), KEYS, ids=KEY_IDS)
@pytest.mark.parametrize("operation", [GET_CONTACT, CREATE_CONTACT], ids=str)
async def test_a_malformed_answer_shows_no_key(
    garbage_server: tuple[str, bytearray],
    operation: Operation,
    key: str,
    team_id: str | None,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    base_url, received = garbage_server
    client = make_client(
        base_url=base_url, api_key=key, team_id=team_id, retry=RetryPolicy(max_retries=1)
    )

    error = await raised_by(operation.invoke(client, NOWHERE, False))

    assert isinstance(error, MsgFlashError)
    assert f"x-api-key: {key}\r\n".encode() in received  # the real key on the wire
    [aiohttp_error, *_] = [
        chained
        for chained in exception_chain(error)
        if isinstance(chained, aiohttp.ClientResponseError)
    ]
    assert aiohttp_error.request_info.headers["x-api-key"] == key
    assert PLACEHOLDER in repr(aiohttp_error.request_info)
    texts = [
        *rendered_with_locals(error),
        *exception_texts(error),
        *(repr(vars(chained)) for chained in exception_chain(error)),
        *log_texts(caplog),
    ]
    assert_hidden(key, texts)


# --- an untyped error inside aiohttp ----------------------------------------------------------


async def test_an_untyped_error_inside_aiohttp_shows_no_key(
    held: HeldServer,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def broken_connect(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom: an aiohttp bug")

    monkeypatch.setattr(aiohttp.TCPConnector, "connect", broken_connect)
    client = make_client(base_url=held.base_url, api_key=TEAM_KEY, team_id=TEAM_ID)

    error = await raised_by(GET_CONTACT.invoke(client, NOWHERE, False))

    rendered = rendered_with_locals(error)
    assert_hidden(TEAM_KEY, [*rendered, *exception_texts(error), *log_texts(caplog)])
    assert "boom" in "".join(rendered)
    assert PLACEHOLDER in "".join(rendered)


# --- the real key on the wire, with either of aiohttp's header writers -------------------------


def header_writers() -> list[Any]:
    """aiohttp's pure-Python header writer, and its C one when built."""
    writers = [pytest.param(http_writer._py_serialize_headers, id="python")]
    c_writer = getattr(http_writer, "_c_serialize_headers", None)
    if c_writer is not None:
        writers.append(pytest.param(c_writer, id="c"))
    return writers


@pytest.mark.parametrize("writer", header_writers())
@pytest.mark.parametrize("team", [False, True], ids=["personal", "team"])
async def test_the_server_authenticates_the_redacted_key(
    writer: Any,
    team: bool,
    serve: ServerFactory,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_writer, "_serialize_headers", writer)
    server: LocalMsgFlash = await serve()
    options: dict[str, Any] = {"retry": RetryPolicy.none()}
    if team:
        server.add_team_key(TEAM_KEY, TEAM_ID)
        options.update(api_key=TEAM_KEY, team_id=TEAM_ID)
    client: MsgFlash = make_client(server, **options)

    created = await client.contacts.create(name="Awa Doe", phone="+33612345000")

    assert (await client.contacts.get(created.id)).name == "Awa Doe"
