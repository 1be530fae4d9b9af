"""What the reliability tests share: a fake clock, server probes, SDK operations, secrets.

Everything runs on 127.0.0.1: the bundled ``LocalMsgFlash`` server, small ``aiohttp.web``
apps, or aioresponses (which sends nothing at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import anyio
from aiohttp import web

from msgflash_async import MsgFlash
from msgflash_async.testing import FaultConfig, FaultProfile, LocalMsgFlash, LoggedRequest

MOCK_BASE_URL = "https://api.msgflash.test"
"""The base URL of clients of a mocked (aioresponses) server: nothing leaves the process."""
MOCK_KEY = "msgf_live_" + "5ec7e7" * 10 + "abcd"
"""A well-formed personal key for mocked servers."""
CONTACT_ID = "3f1c2a9e-7b4d-4e21-9c55-0a8d6b1e2f47"
GROUP_ID = "8a6e0f3b-52c1-4d7e-a1f9-6c2b3d4e5f60"
JOB_ID = "c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e"


T = TypeVar("T")


def phone(number: int) -> str:
    """A distinct E.164 phone number for each ``number`` below ten million."""
    return f"+1555{number:07d}"


# --- time ------------------------------------------------------------------------------------


class FakeClock:
    """A clock that never really waits: ``sleep`` records the wait and moves time on.

    ``on_sleep`` runs at each sleep, e.g. to heal the server's faults during a retry's backoff.
    """

    def __init__(
        self, start: float = 1_000.0, on_sleep: Callable[[float], None] | None = None
    ) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        await asyncio.sleep(0)


async def run_workers(
    workers: int, items: Iterable[T], work: Callable[[T], Awaitable[object]]
) -> None:
    """Call ``work`` on every item, from ``workers`` concurrent tasks; the first failure
    cancels the other tasks (and comes out in an exception group)."""
    remaining = iter(items)

    async def worker() -> None:
        for item in remaining:
            await work(item)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


# --- the fake server -------------------------------------------------------------------------


def only_faults(route: str, **probabilities: Any) -> FaultConfig:
    """A fault config with one profile, for ``route`` only."""
    return FaultConfig(routes={route: FaultProfile(**probabilities)})


def heal_on_first_sleep(server: LocalMsgFlash, clock: FakeClock) -> None:
    """Turn every fault of ``server`` off when ``clock`` first sleeps (a retry's backoff)."""

    def heal(_: float) -> None:
        server.faults = FaultConfig()

    clock.on_sleep = heal


def logged(server: LocalMsgFlash, route: str | None = None) -> list[LoggedRequest]:
    """The server's logged requests, all of them or those to one route name."""
    return [entry for entry in server.requests if route is None or entry.route == route]


def statuses(server: LocalMsgFlash, route: str | None = None) -> list[int | None]:
    """The statuses the server answered (None for a dropped connection), oldest first."""
    return [entry.status for entry in logged(server, route)]


async def wait_for_requests(server: LocalMsgFlash, route: str, count: int) -> None:
    """Wait (at most 5 s) until the server has logged ``count`` requests to ``route``.

    Handlers delayed by a latency fault log their request only once they have run.
    """
    for _ in range(500):
        if len(logged(server, route)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{route}: {len(logged(server, route))} requests, expected {count}")


class ConcurrencyProbe:
    """An ``aiohttp.web`` middleware counting the requests being handled at once."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.current += 1
        self.peak = max(self.peak, self.current)
        try:
            return await handler(request)
        finally:
            self.current -= 1


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def web_app(app: web.Application) -> Any:
    """Serve ``app`` on an ephemeral 127.0.0.1 port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def transport_session(client: MsgFlash) -> aiohttp.ClientSession:
    """The aiohttp session of a client (created on its first request)."""
    session = client._core.transport._session
    assert session is not None, "the client has sent nothing yet"
    return session


def acquired_connections(client: MsgFlash) -> int:
    """Connections of the client's pool handed out to requests right now."""
    connector = transport_session(client).connector
    assert connector is not None
    return len(connector._acquired)


def idle_connections(client: MsgFlash) -> int:
    """Kept-alive connections waiting in the client's pool."""
    connector = transport_session(client).connector
    assert isinstance(connector, aiohttp.TCPConnector)
    return sum(len(conns) for conns in connector._conns.values())


# --- SDK operations, one per kind of call ------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What the operations act on: a contact, a group holding it, and a free phone."""

    contact_id: str
    group_id: str
    free_phone: str


def seed(server: LocalMsgFlash) -> Seeded:
    """Seed the server's default workspace directly, without HTTP."""
    workspace = server.workspace()
    contact = workspace.add_contact("Seeded", phone(1))
    group = workspace.add_group("Seeded group")
    workspace.add_members(group.id, [contact.id])
    return Seeded(contact.id, group.id, phone(2))


NOWHERE = Seeded(contact_id=CONTACT_ID, group_id=GROUP_ID, free_phone=phone(2))
"""Ids for calls that never reach a server."""

Invoke = Callable[[MsgFlash, Seeded, bool], Coroutine[Any, Any, Any]]
"""Runs one call: (client, seeded state, resend_if_unknown for bulk calls)."""


@dataclass(frozen=True)
class Operation:
    """One SDK call, its HTTP method and the server route it reaches."""

    route: str
    method: str
    invoke: Invoke

    def __str__(self) -> str:
        return self.route


async def _list_contacts(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.contacts.list().first_page()


async def _get_contact(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.contacts.get(s.contact_id)


async def _update_contact(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.contacts.update(s.contact_id, name="Renamed")


async def _delete_contact(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.contacts.delete(s.contact_id)


async def _create_contact(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.contacts.create(name="New", phone=s.free_phone)


async def _update_group(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await client.groups.update(s.group_id, description="changed")


async def _bulk_delete(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await (await client.contacts.bulk_delete([s.contact_id], resend_if_unknown=resend))


async def _add_members(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await (
        await client.groups.add_members(s.group_id, [s.contact_id], resend_if_unknown=resend)
    )


async def _remove_members(client: MsgFlash, s: Seeded, resend: bool) -> Any:
    return await (
        await client.groups.remove_members(s.group_id, [s.contact_id], resend_if_unknown=resend)
    )


LIST_CONTACTS = Operation("contacts.list", "GET", _list_contacts)
GET_CONTACT = Operation("contacts.get", "GET", _get_contact)
UPDATE_CONTACT = Operation("contacts.update", "PUT", _update_contact)
DELETE_CONTACT = Operation("contacts.delete", "DELETE", _delete_contact)
UPDATE_GROUP = Operation("groups.update", "PUT", _update_group)
CREATE_CONTACT = Operation("contacts.create", "POST", _create_contact)
BULK_DELETE = Operation("contacts.bulk_delete", "POST", _bulk_delete)
ADD_MEMBERS = Operation("groups.members.add", "POST", _add_members)
REMOVE_MEMBERS = Operation("groups.members.remove", "DELETE", _remove_members)

SAFE_OPERATIONS = (LIST_CONTACTS, GET_CONTACT, UPDATE_CONTACT, DELETE_CONTACT, UPDATE_GROUP)
"""GET, PUT and DELETE of one resource: re-sent after an unknown outcome."""
BULK_OPERATIONS = (BULK_DELETE, ADD_MEMBERS, REMOVE_MEMBERS)
"""Bulk calls: re-sent after an unknown outcome only with ``resend_if_unknown=True``."""
EVERY_OPERATION = (*SAFE_OPERATIONS, CREATE_CONTACT, *BULK_OPERATIONS)


# --- secrets ---------------------------------------------------------------------------------


def exception_chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception chained to it as cause or context."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [current.__cause__, current.__context__]
    return chain


def exception_texts(error: BaseException) -> list[str]:
    """Every text an exception shows: message, repr and attributes of the whole chain, and
    the formatted traceback."""
    texts = ["".join(traceback.format_exception(type(error), error, error.__traceback__))]
    for current in exception_chain(error):
        texts += [str(current), repr(current), repr(getattr(current, "__dict__", {}))]
    return texts


def assert_hidden(secret: str, texts: list[str]) -> None:
    """No text holds ``secret``, nor its part after the ``msgf_live_``/``msgf_team_`` prefix."""
    needles = {secret, secret.split("_", 2)[-1]}
    for text in texts:
        for needle in needles:
            assert needle not in text, f"the key leaks in: {text[:300]!r}"
