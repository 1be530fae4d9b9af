"""``contacts.import_many`` against the local server: what lands on the server, the group's
jobs, checkpoints and resumes, aborts and cancellation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.typedefs import Middleware

from msgflash_async import ConfigurationError, MsgFlash, PermissionDeniedError
from msgflash_async import _importing as importing
from msgflash_async._errors import ImportAbortedError
from msgflash_async._importing import ContactInput, ExistingContact, RowDuplicate
from msgflash_async.testing import LocalMsgFlash, LoggedRequest

CONTACTS = "/api/v1/contacts"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def phone(number: int) -> str:
    return f"+4420{number:07d}"


def rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"name": f"Contact {n}", "phone": phone(n)} for n in range(start, start + count)]


def phones_on(server: LocalMsgFlash) -> list[str]:
    return sorted(contact.phone for contact in server.workspace().contacts.values())


@asynccontextmanager
async def serving(
    *middlewares: Middleware, job_batch_size: int = 500
) -> AsyncIterator[tuple[LocalMsgFlash, MsgFlash]]:
    """A local server with ``middlewares`` and a client of it, neither paced; the server's
    jobs run a batch every 10 ms, and the client polls them every 20 ms."""
    server = LocalMsgFlash(rate_limit=None, job_batch_interval=0.01, job_batch_size=job_batch_size)
    server.app.middlewares.extend(middlewares)
    async with (
        server,
        MsgFlash(
            server.api_key, base_url=server.base_url, rate_limit=None, job_poll_interval=0.02
        ) as sdk,
    ):
        yield server, sdk


class RefusedCreates:
    """A server middleware answering 403 to every create after the first ``count``, while
    ``refusing``."""

    def __init__(self, count: int) -> None:
        self.allowed = count
        self.refusing = True

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != CONTACTS or request.method != "POST":
            return await handler(request)
        if self.refusing and self.allowed <= 0:
            return web.json_response(
                {"error": {"code": "SUBSCRIPTION_INACTIVE", "message": "No subscription"}},
                status=403,
            )
        self.allowed -= 1
        return await handler(request)


def creates(requests: Iterable[LoggedRequest]) -> list[str]:
    """The phones of the create requests, in order."""
    return [
        str(request.body["phone"])
        for request in requests
        if request.method == "POST" and request.path == CONTACTS and isinstance(request.body, dict)
    ]


async def test_a_mixed_import_creates_each_valid_phone_once(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    taken = server.workspace().add_contact("Already here", phone(3))
    given: list[Any] = [
        *rows(3),
        {"name": "Typed", "phone": phone(3), "tags": ["vip"]},  # exists on the server
        ContactInput(name="Kofi", phone=phone(4), tags=["b2b"], meta={"city": "Accra"}),
        {"name": "Repeat", "phone": phone(1)},
        {"name": "", "phone": phone(5)},
        {"name": "Ama", "phone": phone(6), "unknown": "ignored"},
    ]

    report = await sdk.contacts.import_many(given)

    assert (report.rows, report.created, report.resumed) == (8, 5, 0)
    assert report.existing == (ExistingContact(4, phone(3), taken.id, updated=False),)
    assert report.duplicates == (RowDuplicate(6, phone(1), 2),)
    assert [(problem.row, problem.field) for problem in report.invalid] == [(7, "name")]
    assert phones_on(server) == [phone(n) for n in range(7) if n != 5]
    assert sorted(creates(server.requests)) == [phone(n) for n in (0, 1, 2, 3, 4, 6)]
    kofi = next(c for c in server.workspace().contacts.values() if c.phone == phone(4))
    assert (kofi.name, kofi.tags, kofi.meta) == ("Kofi", ["b2b"], {"city": "Accra"})
    assert server.workspace().contact(taken.id).name == "Already here"  # skipped


async def test_rows_from_an_async_generator(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    async def generate() -> AsyncIterator[dict[str, Any]]:
        for row in rows(40):
            await asyncio.sleep(0)
            yield row

    report = await sdk.contacts.import_many(generate(), concurrency=4)

    assert (report.rows, report.created, report.ok) == (40, 40, True)
    assert phones_on(server) == [phone(n) for n in range(40)]


async def test_update_puts_the_rows_fields_on_the_existing_contact(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    taken = server.workspace().add_contact("Old name", phone(1), tags=["old"], meta={"v": 1})
    given = [*rows(3)]
    given[1] = {"name": "New name", "phone": phone(1), "tags": ["new"], "meta": {"v": 2}}

    report = await sdk.contacts.import_many(given, on_existing="update")

    assert report.existing == (ExistingContact(2, phone(1), taken.id, updated=True),)
    assert (report.created, report.updated) == (2, 1)
    contact = server.workspace().contact(taken.id)
    assert (contact.name, contact.tags, contact.meta) == ("New name", ["new"], {"v": 2})


async def test_fail_counts_an_existing_phone_as_failed_and_goes_on(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    taken = server.workspace().add_contact("Old name", phone(0))

    report = await sdk.contacts.import_many(rows(5), on_existing="fail")

    [failed] = report.failed
    assert (failed.row, failed.field) == (1, "phone")
    assert taken.id in failed.reason
    assert (report.created, report.existing) == (4, ())
    assert server.workspace().contact(taken.id).name == "Old name"


async def test_group_jobs_start_as_ids_come_and_take_existing_contacts_too(
    sdk: MsgFlash, server: LocalMsgFlash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "GROUP_BATCH", 100)
    workspace = server.workspace()
    group = workspace.add_group("Imported")
    member = workspace.add_contact("Member already", phone(0))
    outsider = workspace.add_contact("Not a member yet", phone(1))
    workspace.add_members(group.id, [member.id])

    report = await sdk.contacts.import_many(rows(250), group_id=group.id, concurrency=4)

    assert (report.created, len(report.existing)) == (248, 2)
    assert sorted(workspace.members(group.id)) == sorted(workspace.contacts)
    assert outsider.id in workspace.members(group.id)
    assert (report.added_to_group, report.already_in_group) == (249, 1)
    log = server.requests
    member_adds = [
        index
        for index, request in enumerate(log)
        if request.method == "POST" and request.path.endswith("/members")
    ]
    last_create = max(index for index, request in enumerate(log) if request.path == CONTACTS)
    assert len(member_adds) == 3  # 100, 100 and the last 50 ids
    assert member_adds[0] < last_create  # started while contacts were still being created
    assert all(request.status in (200, 202) for request in (log[i] for i in member_adds))


class JobsRunning:
    """A server middleware noting, at each member add, how many jobs are still running."""

    def __init__(self) -> None:
        self.server: LocalMsgFlash | None = None
        self.seen: list[int] = []

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.server is not None and request.path.endswith("/members"):
            jobs = self.server.workspace().jobs.values()
            self.seen.append(sum(job.status in ("pending", "processing") for job in jobs))
        return await handler(request)


async def test_group_jobs_wait_for_each_other_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importing, "GROUP_BATCH", 100)
    monkeypatch.setattr(importing, "MAX_GROUP_JOBS", 1)
    running = JobsRunning()
    # A job of 100 ids takes 10 batches, 100 ms: longer than creating the next 100 contacts.
    async with serving(running.middleware, job_batch_size=10) as (server, sdk):
        running.server = server
        group = server.workspace().add_group("One job at a time")

        report = await sdk.contacts.import_many(rows(300), group_id=group.id)

        assert report.added_to_group == 300
        assert len(server.workspace().members(group.id)) == 300
    assert running.seen == [0, 0, 0]


async def test_a_wrong_group_stops_the_import_before_any_row(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    with pytest.raises(ImportAbortedError) as caught:
        await sdk.contacts.import_many(rows(3), group_id="8a6e0f3b-52c1-4d7e-a1f9-6c2b3d4e5f60")

    assert type(caught.value.__cause__).__name__ == "NotFoundError"
    assert creates(server.requests) == []


# --- checkpoints --------------------------------------------------------------------------------


async def test_a_rerun_sends_nothing_for_the_rows_done_before_an_abort(tmp_path: Path) -> None:
    checkpoint = tmp_path / "import.sqlite3"
    refused = RefusedCreates(25)
    async with serving(refused.middleware) as (server, sdk):
        with pytest.raises(ImportAbortedError) as caught:
            await sdk.contacts.import_many(rows(60), checkpoint=checkpoint, concurrency=2)

        assert isinstance(caught.value.__cause__, PermissionDeniedError)
        first = caught.value.report
        done_before = set(phones_on(server))
        assert first.created == len(done_before) == 25
        refused.refusing = False
        server.clear_requests()

        report = await sdk.contacts.import_many(rows(60), checkpoint=checkpoint)

        assert not done_before & set(creates(server.requests))
        assert (report.resumed, report.created + report.resumed) == (25, 60)
        assert report.existing == ()
        assert phones_on(server) == sorted(phone(n) for n in range(60))

        server.clear_requests()
        again = await sdk.contacts.import_many(rows(60), checkpoint=checkpoint)
        assert (again.resumed, again.created) == (60, 0)
        assert server.requests == []


async def test_a_rerun_adds_to_the_group_the_contacts_no_job_confirmed(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "import.sqlite3"
    group = server.workspace().add_group("Imported")
    server.inject_response(status=403, code="FORBIDDEN", route="groups.members.add")

    with pytest.raises(ImportAbortedError) as caught:
        await sdk.contacts.import_many(rows(30), checkpoint=checkpoint, group_id=group.id)

    assert caught.value.report.created == 30
    assert server.workspace().members(group.id) == []
    server.clear_requests()

    report = await sdk.contacts.import_many(rows(30), checkpoint=checkpoint, group_id=group.id)

    assert (report.resumed, report.created, report.added_to_group) == (30, 0, 30)
    assert sorted(server.workspace().members(group.id)) == sorted(server.workspace().contacts)
    assert [request.route for request in server.requests] == ["groups.get", "groups.members.add"]


async def test_a_checkpoint_of_another_key_or_group_is_refused(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "import.sqlite3"
    group = server.workspace().add_group("First")
    await sdk.contacts.import_many(rows(2), checkpoint=checkpoint, group_id=group.id)
    other_key = "msgf_live_" + "ab" * 32
    server.add_personal_key(other_key)
    server.clear_requests()

    async with MsgFlash(other_key, base_url=server.base_url, rate_limit=None) as other:
        with pytest.raises(ConfigurationError, match=r"^checkpoint .*another API key"):
            await other.contacts.import_many(rows(2), checkpoint=checkpoint, group_id=group.id)
    with pytest.raises(ConfigurationError, match=r"^checkpoint .*another group"):
        await sdk.contacts.import_many(rows(2), checkpoint=checkpoint)

    assert server.requests == []


class HeldCreates:
    """A server middleware that, while ``holding``, creates contacts but keeps the answers
    until ``released``: the client never learns the outcomes unless it waits."""

    def __init__(self, count: int) -> None:
        self.holding = True
        self.count = count
        self.held = 0
        self.all_held = asyncio.Event()
        self.released = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if self.holding and request.method == "POST" and request.path == CONTACTS:
            self.held += 1
            if self.held == self.count:
                self.all_held.set()
            await self.released.wait()
        return response


async def wait(event: asyncio.Event) -> None:
    with anyio.fail_after(30):  # generous: a loaded machine is slow, never this slow
        await event.wait()


def leftovers(directory: Path) -> list[str]:
    return os.listdir(directory)


async def test_after_a_cancel_the_unanswered_creates_count_as_created_not_existing(
    tmp_path: Path,
) -> None:
    held = HeldCreates(2)
    checkpoint = tmp_path / "import.sqlite3"
    async with serving(held.middleware) as (server, sdk):
        task = asyncio.ensure_future(
            sdk.contacts.import_many(rows(6), checkpoint=checkpoint, concurrency=2)
        )
        await wait(held.all_held)  # two contacts made, their answers held
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        held.holding = False
        held.released.set()
        made = {c.phone: c for c in server.workspace().contacts.values()}
        assert sorted(made) == [phone(0), phone(1)]
        # Someone changes the second one meanwhile: it is no longer provably the import's.
        server.workspace().update_contact(made[phone(1)], name="Changed by someone")
        server.clear_requests()

        report = await sdk.contacts.import_many(rows(6), checkpoint=checkpoint)

        assert sorted(creates(server.requests)) == [phone(n) for n in range(6)]
    assert report.created == 5
    assert report.existing == (ExistingContact(2, phone(1), made[phone(1)].id, updated=False),)
    assert report.resumed == 0


async def test_without_a_checkpoint_the_temporary_store_is_removed(
    sdk: MsgFlash, server: LocalMsgFlash, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    await sdk.contacts.import_many(rows(5))
    assert leftovers(tmp_path) == []

    server.inject_response(status=401, code="UNAUTHORIZED", route="contacts.create")
    with pytest.raises(ImportAbortedError):
        await sdk.contacts.import_many(rows(5, start=10), concurrency=1)
    assert leftovers(tmp_path) == []

    going = asyncio.Event()

    async def endless() -> AsyncIterator[dict[str, Any]]:
        number = 100
        while True:
            number += 1
            if number == 150:
                going.set()
            yield {"name": "Endless", "phone": phone(number)}

    task = asyncio.ensure_future(sdk.contacts.import_many(endless()))
    await wait(going)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(tmp_path) == []
    assert len(server.workspace().contacts) > 5  # it was under way
