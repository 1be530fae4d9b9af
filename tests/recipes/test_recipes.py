"""The deployment recipes in ``examples/``, each run for real: worker processes, a Redis server
and the local MsgFlash server over 127.0.0.1 (see ``conftest.py``).

Without redis-server these tests skip, except under ``CI``, where they must run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiohttp
import anyio
import pytest
from redis_limiter.conftest import RedisServer, free_port
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, AsyncTaskiqTask
from taskiq.kicker import AsyncKicker

from examples import import_worker
from examples.fastapi_service import status_of
from msgflash_async import (
    ClientClosedError,
    ConnectError,
    InternalServerError,
    MsgFlashError,
    QueueTimeoutError,
    ReadTimeoutError,
)
from msgflash_async.testing import LocalMsgFlash

from .conftest import HANG_GUARD, Services, recipe_env

P = ParamSpec("P")
R = TypeVar("R")

REQUESTS = 40
STREAMS = 8
IMPORTS = 30
SENT_TWICE = 5
MEMBERS = 120
UVICORN = [sys.executable, "-m", "uvicorn", "examples.fastapi_service:app", "--workers", "2"]
TASKIQ_WORKER = [sys.executable, "-m", "taskiq", "worker", "examples.import_worker:broker"]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` for this test alone."""
    with RedisServer.running(tmp_path) as server:
        yield server


@pytest.fixture
def msgflash_server_options() -> dict[str, Any]:
    """The local server enforcing the API's 10 requests per key, answering its 429s without
    ``Retry-After`` as the vendor documents; jobs move only when a test says, and every request
    is logged.

    The clients pace to 10 starts in 1.05 s. The server counts them in a 0.8 s window: a request
    reaches it later than its turn by the time its worker process, or the test process serving
    it, is descheduled, and on a loaded 2-core CI machine that can pass the pacer's 50 ms margin
    (a CI run drew two 429s from 11 requests in 1 s). The shorter window forgives 250 ms. Two
    workers pacing apart (20 requests in 1.05 s) still draw 429s from it; sharing one budget,
    they draw none.
    """
    return {
        "rate_limit": 10,
        "rate_limit_window": 0.8,
        "rate_limit_retry_after": False,
        "manual_jobs": True,
        "request_log_size": None,
    }


def rate_limited(server: LocalMsgFlash) -> int:
    """How many requests the server refused for the rate limit (not counting injected ones)."""
    return sum(request.status == 429 and request.fault is None for request in server.requests)


async def start_uvicorn(services: Services, server: LocalMsgFlash, redis_url: str) -> str:
    """``examples.fastapi_service`` under 2 uvicorn workers sharing the budget on ``redis_url``;
    its base URL once both workers have started."""
    port = free_port()
    app = await services.start(
        [*UVICORN, "--host", "127.0.0.1", "--port", str(port)],
        recipe_env(server, MSGFLASH_RATE_LIMITER=redis_url),
    )
    await app.wait_for("Application startup complete", times=2)
    # Each worker listens on the shared socket just after logging that: wait until one does.
    with anyio.fail_after(HANG_GUARD):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except ConnectionRefusedError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                await writer.wait_closed()
                break
    return f"http://127.0.0.1:{port}"


async def test_fastapi_workers_share_one_budget(
    msgflash_server: LocalMsgFlash, redis_server: RedisServer, services: Services
) -> None:
    contacts = [contact.id for contact in msgflash_server.workspace().seed_contacts(5)]
    base_url = await start_uvicorn(services, msgflash_server, redis_server.url)
    # A connection per request, so that either worker may accept each; requests are sent in
    # STREAMS concurrent sequences, so that connections keep arriving while workers are busy.
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(base_url, connector=connector) as http:

        async def stream(first: int) -> list[tuple[str, int, str, Any]]:
            """Requests ``first``, ``first + STREAMS``, and so on, one after the other: the
            contact asked for, the status, the worker that answered and its JSON body."""
            answers = []
            for n in range(first, REQUESTS, STREAMS):
                asked = contacts[n % 5]
                async with http.get(f"/contacts/{asked}") as response:
                    worker = response.headers["X-Worker-Pid"]
                    answers.append((asked, response.status, worker, await response.json()))
            return answers

        with anyio.fail_after(HANG_GUARD):  # the budget alone takes about 4 s
            streams = await asyncio.gather(*(stream(first) for first in range(STREAMS)))

    answers = [answer for sequence in streams for answer in sequence]
    assert len(answers) == REQUESTS
    assert all(status == 200 and body["id"] == asked for asked, status, _, body in answers)
    workers = Counter(worker for _, _, worker, _ in answers)
    assert len(workers) == 2, workers
    assert Counter(request.status for request in msgflash_server.requests) == {200: REQUESTS}


async def test_fastapi_service_answers_sdk_errors_with_http_statuses(
    msgflash_server: LocalMsgFlash, redis_server: RedisServer, services: Services
) -> None:
    taken = msgflash_server.workspace().seed_contacts(1)[0]
    base_url = await start_uvicorn(services, msgflash_server, redis_server.url)

    async with aiohttp.ClientSession(base_url) as http:

        async def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any, str | None]:
            async with http.request(method, path, **kwargs) as response:
                return response.status, await response.json(), response.headers.get("Retry-After")

        missing = await call("GET", "/contacts/no-such-contact")
        too_many = await call("GET", "/contacts", params={"limit": "1000"})
        bad_phone = await call("POST", "/contacts", json={"name": "Awa", "phone": "0612"})
        duplicate = await call("POST", "/contacts", json={"name": "Awa", "phone": taken.phone})
        created = await call("POST", "/contacts", json={"name": "Awa", "phone": "+33612345000"})
        msgflash_server.inject_response(
            status=429,
            code="MONTHLY_API_REQUEST_QUOTA_EXCEEDED",
            headers={"Retry-After": "30"},
            route="contacts.get",
        )
        quota = await call("GET", f"/contacts/{taken.id}")
        msgflash_server.inject_response(status=401, code="UNAUTHORIZED", route="contacts.get")
        refused = await call("GET", f"/contacts/{taken.id}")
        msgflash_server.inject_response(
            status=400, code="VALIDATION_ERROR", message="Name is too long", route="contacts.get"
        )
        invalid = await call("GET", f"/contacts/{taken.id}")

    assert missing == (404, {"error": "NotFoundError", "detail": "Not Found"}, None)
    # Refused by the SDK before sending, naming the argument.
    assert (too_many[0], too_many[1]["error"]) == (422, "InvalidInputError")
    assert too_many[1]["detail"].startswith("limit: ")
    assert (bad_phone[0], bad_phone[1]["error"]) == (422, "InvalidInputError")
    assert bad_phone[1]["detail"].startswith("phone: ")
    assert duplicate[:2] == (409, {"error": "ConflictError", "detail": "Conflict"})
    assert created[0] == 201
    assert created[1]["phone"] == "+33612345000"
    assert quota == (
        429,
        {"error": "MonthlyQuotaExceededError", "detail": "Too Many Requests"},
        "30",
    )
    assert refused[:2] == (502, {"error": "AuthenticationError", "detail": "Bad Gateway"})
    assert invalid[:2] == (422, {"error": "ValidationError", "detail": "Name is too long"})
    assert rate_limited(msgflash_server) == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ReadTimeoutError("no answer", method="GET", url="u"), 504),
        (QueueTimeoutError("no turn in time", method="GET", url="u"), 504),
        (ConnectError("refused", method="GET", url="u"), 503),
        (ClientClosedError("closed"), 503),
        (InternalServerError("boom", status=500, code=None, method="GET", url="u"), 502),
        (MsgFlashError("other"), 502),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, MsgFlashError) else str(value),
)
def test_fastapi_service_status_of_unreachable_or_failing_upstream(
    error: MsgFlashError, status: int
) -> None:
    assert status_of(error) == status


def test_taskiq_workers_wait_on_an_idle_queue_without_a_socket_timeout() -> None:
    # redis-py 8 reads with a 5 s timeout by default, which ends the endless BRPOP of an idle
    # worker and with it the worker process (taskiq-redis issue 127).
    broker = import_worker.create_broker("redis://127.0.0.1:6379/0")
    assert broker.connection_pool.connection_kwargs["socket_timeout"] is None


def via(broker: AsyncBroker, task: AsyncTaskiqDecoratedTask[P, R]) -> AsyncKicker[P, R]:
    """Sends ``task`` through ``broker`` (the test's, on its own Redis)."""
    return task.kicker().with_broker(broker)


async def result_of(task: AsyncTaskiqTask[dict[str, Any]]) -> dict[str, Any]:
    """A task's return value; its error if it failed."""
    result = await task.wait_result(timeout=HANG_GUARD)
    result.raise_for_error()
    return result.return_value


async def queue_listeners(redis: RedisServer, count: int) -> None:
    """Wait until exactly ``count`` workers are blocked waiting for the queue's next task."""
    with redis.admin() as admin, anyio.fail_after(HANG_GUARD):
        while True:
            listing: bytes = admin.command("CLIENT", "LIST")
            clients = [
                dict(field.split("=", 1) for field in line.split())
                for line in listing.decode().splitlines()
            ]
            if sum(c["cmd"] == "brpop" and "b" in c["flags"] for c in clients) == count:
                return
            await asyncio.sleep(0.05)


async def first_job_polled(server: LocalMsgFlash) -> str:
    """The id of the first job whose progress is asked for, once it is."""
    with anyio.fail_after(HANG_GUARD):
        while True:
            for request in server.requests:
                if request.route == "jobs.progress":
                    return request.path.split("/")[-2]
            await asyncio.sleep(0.05)


async def test_taskiq_workers_import_through_one_budget_and_resume_each_others_jobs(
    msgflash_server: LocalMsgFlash, redis_server: RedisServer, services: Services
) -> None:
    workspace = msgflash_server.workspace()
    members = [contact.id for contact in workspace.seed_contacts(MEMBERS)]
    group = workspace.add_group("Imported")
    people = [(f"Imported {n:02d}", f"+336123{n:05d}") for n in range(IMPORTS)]
    env = recipe_env(msgflash_server, REDIS_URL=redis_server.url)
    workers = [await services.start([*TASKIQ_WORKER, "--workers", "1"], env) for _ in range(2)]
    await queue_listeners(redis_server, 2)
    broker = import_worker.create_broker(redis_server.url)
    await broker.startup()
    try:
        # Some imports are sent twice, as a queue may deliver them: no contact is copied.
        imports = [
            await via(broker, import_worker.import_contact).kiq(name, phone)
            for name, phone in people + people[:SENT_TWICE]
        ]
        start = await via(broker, import_worker.start_adding_members).kiq(group.id, members)
        imported = [await result_of(task) for task in imports]
        started = await result_of(start)

        # The worker that started the job dies; the other one awaits the job through its token.
        starter = next(worker for worker in workers if worker.pid == os.getpgid(started["worker"]))
        survivor = next(worker for worker in workers if worker is not starter)
        await starter.kill()
        await queue_listeners(redis_server, 1)
        finish = await via(broker, import_worker.finish_adding_members).kiq(started["token"])
        job_id = await first_job_polled(msgflash_server)
        assert workspace.job(job_id).status == "pending"  # awaited while it runs
        msgflash_server.finish_jobs()
        finished = await result_of(finish)
        finisher = os.getpgid(finished["worker"])
    finally:
        await broker.shutdown()

    phones = {phone for _, phone in people}
    assert Counter(contact.phone in phones for contact in workspace.contacts.values()) == {
        True: IMPORTS,
        False: MEMBERS,
    }
    assert len({result["id"] for result in imported}) == IMPORTS
    assert Counter(result["created"] for result in imported) == {True: IMPORTS, False: SENT_TWICE}
    assert finished["added"] == MEMBERS
    assert len(workspace.members(group.id)) == MEMBERS
    assert finisher == survivor.pid
    assert rate_limited(msgflash_server) == 0
