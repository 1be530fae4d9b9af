"""A FastAPI service on MsgFlash whose uvicorn workers share one rate budget through Redis.

Run it with as many workers, on as many machines, as you like::

    export MSGFLASH_API_KEY=msgf_live_...
    export MSGFLASH_RATE_LIMITER=redis://localhost:6379/0
    uvicorn examples.fastapi_service:app --workers 4

Each worker's lifespan creates one ``MsgFlash`` from the environment (``MSGFLASH_API_KEY``,
``MSGFLASH_BASE_URL``, ``MSGFLASH_RATE_LIMITER``) and closes it, with its Redis connection, at
shutdown; without ``MSGFLASH_RATE_LIMITER`` each worker paces alone. Routes take the client
from a dependency and answer the SDK's models as JSON (``model.to_dict()``); one exception
handler turns the SDK's errors into HTTP statuses. Every answer names the worker process that
served it in ``X-Worker-Pid``.

Adding members may run as a job on MsgFlash: the route waits for it up to ``wait`` seconds,
then answers 200 with the result, or 202 with the job's ``token`` and a ``Location``,
``/jobs/{token}``, which waits again for the same job from any worker::

    curl -i localhost:8000/groups/$GROUP/members?wait=5 --json '{"contact_ids": [...]}'
    curl -i localhost:8000/jobs/mfj1.…?wait=20
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from msgflash_async import (
    APIConnectionError,
    BulkJobHandle,
    ClientClosedError,
    ConflictError,
    Contact,
    InvalidInputError,
    JobTimeoutError,
    MsgFlash,
    MsgFlashError,
    NotFoundError,
    RateLimitError,
    Timeout,
    ValidationError,
)

# A web request should not queue for long behind the shared budget: a call whose turn would
# come after `total` fails at once (QueueTimeoutError, answered 504) instead of piling up.
TIMEOUT = Timeout(connect=5, read=10, total=10)

STATUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    ((InvalidInputError, ValidationError), 422),
    (RateLimitError, 429),
    # ConnectTimeoutError, ReadTimeoutError and QueueTimeoutError (the job routes answer a
    # JobTimeoutError with 202 themselves).
    (TimeoutError, 504),
    ((APIConnectionError, ClientClosedError), 503),
)
"""The HTTP status for each kind of SDK error, first match wins; any other is a 502."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client for the life of this worker process."""
    async with MsgFlash(timeout=TIMEOUT) as client:
        app.state.msgflash = client
        yield


app = FastAPI(title="MsgFlash contacts", lifespan=lifespan)


def msgflash(request: Request) -> MsgFlash:
    """The worker's client, for routes to depend on."""
    client: MsgFlash = request.app.state.msgflash
    return client


Client = Annotated[MsgFlash, Depends(msgflash)]
Wait = Annotated[float, Query(ge=0, le=30, description="Seconds to wait for the job.")]
"""How long a job route waits before answering 202; a web request should not hang."""


@dataclasses.dataclass
class NewContact:
    """The body of ``POST /contacts``; the SDK checks the values against the API's rules."""

    name: str
    phone: str
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class NewMembers:
    """The body of ``POST /groups/{group_id}/members``."""

    contact_ids: list[str]


def status_of(error: MsgFlashError) -> int:
    """The HTTP status that answers ``error``."""
    for kinds, status in STATUSES:
        if isinstance(error, kinds):
            return status
    return 502


@app.exception_handler(MsgFlashError)
async def answer_sdk_error(request: Request, error: MsgFlashError) -> JSONResponse:
    """The SDK's error as an HTTP status; the caller's own mistakes are explained."""
    status = status_of(error)
    if isinstance(error, InvalidInputError):
        detail = str(error)  # names the argument; nothing was sent
    elif isinstance(error, ValidationError):
        detail = error.message
    else:  # never the upstream URL or text
        detail = HTTPStatus(status).phrase
    headers = {}
    if isinstance(error, RateLimitError):
        # Without a Retry-After from MsgFlash, its one-second window.
        headers["Retry-After"] = str(math.ceil(error.retry_after or 1))
    return JSONResponse(
        {"error": type(error).__name__, "detail": detail}, status_code=status, headers=headers
    )


@app.middleware("http")
async def name_the_worker(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Add ``X-Worker-Pid``: which worker process served the request."""
    response = await call_next(request)
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


@app.get("/contacts")
async def list_contacts(
    client: Client, limit: int = 20, cursor: str | None = None
) -> dict[str, Any]:
    """One page of contacts, newest first; pass ``next_cursor`` back as ``cursor``."""
    page = await client.contacts.list(limit=limit, cursor=cursor).first_page()
    return {"items": [item.to_dict() for item in page.items], "next_cursor": page.next_cursor}


@app.post("/contacts", status_code=201)
async def create_contact(contact: NewContact, client: Client) -> dict[str, Any]:
    """Create a contact; 409 if the phone is taken."""
    created: Contact = await client.contacts.create(
        name=contact.name, phone=contact.phone, tags=contact.tags
    )
    return created.to_dict()


@app.get("/contacts/{contact_id}")
async def read_contact(contact_id: str, client: Client) -> dict[str, Any]:
    """One contact; 404 if there is none."""
    return (await client.contacts.get(contact_id)).to_dict()


@app.post("/groups/{group_id}/members")
async def add_members(
    group_id: str, members: NewMembers, client: Client, request: Request, wait: Wait = 10
) -> JSONResponse:
    """Add contacts to a group: 200 with the result if the job ends within ``wait`` seconds,
    else 202 with its token (see ``answer_job``)."""
    handle = await client.groups.add_members(group_id, members.contact_ids)
    return await answer_job(handle, wait, request)


@app.get("/jobs/{token}")
async def read_job(token: str, client: Client, request: Request, wait: Wait = 10) -> JSONResponse:
    """Wait again for the job a 202 named: its result (200), or 202 again."""
    handle = client.jobs.resume(token)
    await handle.refresh()  # where the job stands now, even with wait=0
    return await answer_job(handle, wait, request)


async def answer_job(handle: BulkJobHandle[Any], wait: float, request: Request) -> JSONResponse:
    """200 with the job's result if it ends within ``wait`` seconds. Otherwise 202 with its
    progress and ``token``, and in ``Location`` the route that waits for it again: the job
    goes on at MsgFlash, and any worker can resume it from the token."""
    try:
        result = await handle.wait(timeout=wait)
    except JobTimeoutError:
        progress = handle.progress()
        return JSONResponse(
            {
                "token": handle.token,
                "status": str(progress.status),
                "processed": progress.processed,
                "requested": progress.requested,
            },
            status_code=202,
            headers={"Location": str(request.url_for("read_job", token=handle.token))},
        )
    return JSONResponse(result.to_dict())
