"""A FastAPI service on MsgFlash whose uvicorn workers share one rate budget through Redis.

Run it with as many workers, on as many machines, as you like::

    export MSGFLASH_API_KEY=msgf_live_...
    export MSGFLASH_RATE_LIMITER=redis://localhost:6379/0
    uvicorn examples.fastapi_service:app --workers 4

Each worker's lifespan creates one ``MsgFlash`` from the environment (``MSGFLASH_API_KEY``,
``MSGFLASH_BASE_URL``, ``MSGFLASH_RATE_LIMITER``) and closes it, with its Redis connection, at
shutdown; without ``MSGFLASH_RATE_LIMITER`` each worker paces alone. Routes take the client
from a dependency and answer the SDK's models as JSON; one exception handler turns the SDK's
errors into HTTP statuses. Every answer names the worker process that served it in
``X-Worker-Pid``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Annotated, Any

import attrs
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from msgflash_async import (
    APIConnectionError,
    ClientClosedError,
    ConflictError,
    Contact,
    InvalidInputError,
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
    # ConnectTimeoutError, ReadTimeoutError, QueueTimeoutError and JobTimeoutError.
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


@dataclasses.dataclass
class NewContact:
    """The body of ``POST /contacts``; the SDK checks the values against the API's rules."""

    name: str
    phone: str
    tags: list[str] = dataclasses.field(default_factory=list)


def as_json(model: Any) -> dict[str, Any]:
    """An SDK model (a frozen attrs class) as a JSON object, snake_case keys."""
    fields: dict[str, Any] = attrs.asdict(model)
    return fields


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
    return {"items": [as_json(item) for item in page.items], "next_cursor": page.next_cursor}


@app.post("/contacts", status_code=201)
async def create_contact(contact: NewContact, client: Client) -> dict[str, Any]:
    """Create a contact; 409 if the phone is taken."""
    created: Contact = await client.contacts.create(
        name=contact.name, phone=contact.phone, tags=contact.tags
    )
    return as_json(created)


@app.get("/contacts/{contact_id}")
async def read_contact(contact_id: str, client: Client) -> dict[str, Any]:
    """One contact; 404 if there is none."""
    return as_json(await client.contacts.get(contact_id))
