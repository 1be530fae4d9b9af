"""The clients compared: the SDK, hand-written aiohttp, and httpx.

Each one gets the contact, or creates one, and ends with the same :class:`Contact`: the raw
clients send the SDK's headers, read the body, parse it with orjson and build the model by
hand, datetimes included. Create them inside a running event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
import httpx
import orjson

from msgflash_async import Contact, MsgFlash
from msgflash_async._client import _USER_AGENT

from ._payloads import API_KEY, CONTACT_ID, contact_from_json

__all__ = ["CLIENTS", "HEADERS", "BenchClient", "new_contact", "open_client"]

HEADERS = {"x-api-key": API_KEY, "Accept": "application/json", "User-Agent": _USER_AGENT}
"""The headers the SDK sends; the raw clients send the same."""
_JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}
_MIN_POOL = 64
"""Connections each client may open (the SDK's default ``max_in_flight``), or more."""


def new_contact(index: int) -> tuple[str, str]:
    """The name and unique phone of the ``index``-th contact an import creates."""
    return f"Imported {index}", f"+2299{index:08d}"


class BenchClient(Protocol):
    """What the request cases drive."""

    async def get(self) -> Contact:
        """Get the benchmark contact."""
        ...

    async def create(self, index: int) -> Contact:
        """Create the ``index``-th contact of an import."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


def _contact(status: int, body: bytes, expected: int) -> Contact:
    if status != expected:
        raise RuntimeError(f"unexpected HTTP {status}")
    envelope: dict[str, Any] = orjson.loads(body)
    return contact_from_json(envelope["data"])


class SdkClient:
    """``msgflash_async.MsgFlash`` with pacing off."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self._client = MsgFlash(
            API_KEY, base_url=base_url, rate_limit=None, max_in_flight=max(_MIN_POOL, concurrency)
        )

    async def get(self) -> Contact:
        """Get the benchmark contact."""
        return await self._client.contacts.get(CONTACT_ID)

    async def create(self, index: int) -> Contact:
        """Create a contact."""
        name, phone = new_contact(index)
        return await self._client.contacts.create(name=name, phone=phone)

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()


class AiohttpClient:
    """One ``aiohttp.ClientSession``, used the way hand-written code would."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(_MIN_POOL, concurrency))
        )
        self._contacts_url = f"{base_url}/api/v1/contacts"
        self._contact_url = f"{self._contacts_url}/{CONTACT_ID}"

    async def get(self) -> Contact:
        """Get the benchmark contact."""
        async with self._session.get(self._contact_url, headers=HEADERS) as response:
            body = await response.read()
        return _contact(response.status, body, 200)

    async def create(self, index: int) -> Contact:
        """Create a contact."""
        name, phone = new_contact(index)
        data = orjson.dumps({"name": name, "phone": phone})
        async with self._session.post(
            self._contacts_url, data=data, headers=_JSON_HEADERS
        ) as response:
            body = await response.read()
        return _contact(response.status, body, 201)

    async def aclose(self) -> None:
        """Close the session."""
        await self._session.close()


class HttpxClient:
    """One ``httpx.AsyncClient`` over HTTP/1.1, its pool sized for the concurrency."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        size = max(_MIN_POOL, concurrency)
        self._client = httpx.AsyncClient(
            headers=HEADERS,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            http1=True,
            http2=False,
        )
        self._contacts_url = f"{base_url}/api/v1/contacts"
        self._contact_url = f"{self._contacts_url}/{CONTACT_ID}"

    async def get(self) -> Contact:
        """Get the benchmark contact."""
        response = await self._client.get(self._contact_url)
        return _contact(response.status_code, response.content, 200)

    async def create(self, index: int) -> Contact:
        """Create a contact."""
        name, phone = new_contact(index)
        data = orjson.dumps({"name": name, "phone": phone})
        response = await self._client.post(self._contacts_url, content=data, headers=_JSON_HEADERS)
        return _contact(response.status_code, response.content, 201)

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()


CLIENTS: dict[str, Callable[[str, int], BenchClient]] = {
    "sdk": SdkClient,
    "aiohttp": AiohttpClient,
    "httpx": HttpxClient,
}
"""The clients by the name the results use."""


def open_client(kind: str, base_url: str, concurrency: int) -> BenchClient:
    """A new client of ``kind`` (a key of :data:`CLIENTS`); call it in a running loop."""
    return CLIENTS[kind](base_url, concurrency)
