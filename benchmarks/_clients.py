"""The clients compared: the SDK, hand-written aiohttp (models or plain dicts), and httpx.

The hand-written aiohttp client is the fair opponent: what a performance-minded engineer
writes for these calls without an SDK. One session holds the fixed headers, set once; the
body goes through ``orjson.loads``; the model is built in one constructor call, the
timestamps by ``datetime.fromisoformat`` (which reads the API's ``Z`` from Python 3.11 on).
It checks the status and nothing else. Its ``dicts`` twin stops at the parsed JSON: the gap
between the two is the price of typed objects. Create the clients inside a running loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

import aiohttp
import httpx
import orjson

from msgflash_async import Contact, MsgFlash
from msgflash_async._client import _USER_AGENT

from ._payloads import API_KEY, CONTACT_ID

__all__ = [
    "CLIENTS",
    "HEADERS",
    "BenchClient",
    "contact",
    "new_contact",
    "open_client",
    "parse_time",
]

HEADERS = {"x-api-key": API_KEY, "Accept": "application/json", "User-Agent": _USER_AGENT}
"""The headers the SDK sends; the raw clients send the same."""
JSON_BODY = {"Content-Type": "application/json"}
_MIN_POOL = 64
"""Connections each client may open (the SDK's default ``max_in_flight``), or more."""


def _parse_time_310(value: str) -> datetime:
    # Python 3.10's fromisoformat reads neither "Z" nor 3 fraction digits with an offset.
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)


parse_time: Callable[[str], datetime] = (
    datetime.fromisoformat if sys.version_info >= (3, 11) else _parse_time_310
)
"""A wire timestamp (``2026-04-01T10:00:00.000Z``) as an aware datetime."""


def contact(data: dict[str, Any]) -> Contact:
    """The hand-written ``Contact`` of a decoded JSON object: one constructor call."""
    return Contact(
        data["id"],
        data["name"],
        data["phone"],
        tuple(data["tags"]),
        data["meta"],
        data["temperature"],
        parse_time(data["createdAt"]),
        parse_time(data["updatedAt"]),
    )


def new_contact(index: int) -> tuple[str, str]:
    """The name and unique phone of the ``index``-th contact an import creates."""
    return f"Imported {index}", f"+2299{index:08d}"


class BenchClient(Protocol):
    """What the request cases drive."""

    async def get(self) -> object:
        """Get the benchmark contact."""
        ...

    async def get_one(self, contact_id: str) -> object:
        """Get the contact ``contact_id`` (the server answers any id with the same one)."""
        ...

    async def create(self, index: int) -> object:
        """Create the ``index``-th contact of an import."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


class SdkClient:
    """``msgflash_async.MsgFlash``, pacing off unless ``rate_limit`` says otherwise (clients
    of one process share the pacing of their key: give a paced client a key of its own)."""

    def __init__(
        self,
        base_url: str,
        concurrency: int,
        *,
        rate_limit: int | None = None,
        api_key: str = API_KEY,
    ) -> None:
        self._client = MsgFlash(
            api_key,
            base_url=base_url,
            rate_limit=rate_limit,
            max_in_flight=max(_MIN_POOL, concurrency),
        )

    async def get(self) -> Contact:
        """Get the benchmark contact."""
        return await self._client.contacts.get(CONTACT_ID)

    async def get_one(self, contact_id: str) -> Contact:
        """Get the contact ``contact_id``."""
        return await self._client.contacts.get(contact_id)

    async def create(self, index: int) -> Contact:
        """Create a contact."""
        name, phone = new_contact(index)
        return await self._client.contacts.create(name=name, phone=phone)

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()


class AiohttpClient:
    """Hand-written aiohttp building the ``Contact`` (see the module's docstring)."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self._session = aiohttp.ClientSession(
            headers=HEADERS, connector=aiohttp.TCPConnector(limit=max(_MIN_POOL, concurrency))
        )
        self._contacts_url = f"{base_url}/api/v1/contacts"
        self._contact_url = f"{self._contacts_url}/{CONTACT_ID}"

    build: Callable[[dict[str, Any]], object] = staticmethod(contact)
    """What the client makes of the contact's JSON object."""

    async def get(self) -> object:
        """Get the benchmark contact."""
        async with self._session.get(self._contact_url) as response:
            if response.status != 200:
                raise RuntimeError(f"unexpected HTTP {response.status}")
            body = await response.read()
        return self.build(orjson.loads(body)["data"])

    async def get_one(self, contact_id: str) -> object:
        """Get the contact ``contact_id``: its URL made as the natural code makes it."""
        async with self._session.get(f"{self._contacts_url}/{contact_id}") as response:
            if response.status != 200:
                raise RuntimeError(f"unexpected HTTP {response.status}")
            body = await response.read()
        return self.build(orjson.loads(body)["data"])

    async def create(self, index: int) -> object:
        """Create a contact."""
        name, phone = new_contact(index)
        data = orjson.dumps({"name": name, "phone": phone})
        async with self._session.post(self._contacts_url, data=data, headers=JSON_BODY) as response:
            if response.status != 201:
                raise RuntimeError(f"unexpected HTTP {response.status}")
            body = await response.read()
        return self.build(orjson.loads(body)["data"])

    async def aclose(self) -> None:
        """Close the session."""
        await self._session.close()


def _as_parsed(data: dict[str, Any]) -> dict[str, Any]:
    return data


class AiohttpDictClient(AiohttpClient):
    """The hand-written aiohttp client, stopping at the parsed JSON: no model."""

    build = staticmethod(_as_parsed)


class HttpxClient:
    """One ``httpx.AsyncClient`` over HTTP/1.1, its pool sized for the concurrency, building
    the ``Contact`` as the hand-written aiohttp client does."""

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
        if response.status_code != 200:
            raise RuntimeError(f"unexpected HTTP {response.status_code}")
        return contact(orjson.loads(response.content)["data"])

    async def get_one(self, contact_id: str) -> Contact:
        """Get the contact ``contact_id``."""
        response = await self._client.get(f"{self._contacts_url}/{contact_id}")
        if response.status_code != 200:
            raise RuntimeError(f"unexpected HTTP {response.status_code}")
        return contact(orjson.loads(response.content)["data"])

    async def create(self, index: int) -> Contact:
        """Create a contact."""
        name, phone = new_contact(index)
        data = orjson.dumps({"name": name, "phone": phone})
        response = await self._client.post(self._contacts_url, content=data, headers=JSON_BODY)
        if response.status_code != 201:
            raise RuntimeError(f"unexpected HTTP {response.status_code}")
        return contact(orjson.loads(response.content)["data"])

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()


CLIENTS: dict[str, Callable[[str, int], BenchClient]] = {
    "sdk": SdkClient,
    "aiohttp": AiohttpClient,
    "aiohttp_dicts": AiohttpDictClient,
    "httpx": HttpxClient,
}
"""The clients by the name the results use."""


def open_client(kind: str, base_url: str, concurrency: int) -> BenchClient:
    """A new client of ``kind`` (a key of :data:`CLIENTS`); call it in a running loop."""
    return CLIENTS[kind](base_url, concurrency)
