"""``LocalMsgFlash``'s lifecycle and its ``app`` under aiohttp's test client."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from msgflash_async.testing import LocalMsgFlash


async def test_the_app_runs_under_the_aiohttp_test_client() -> None:
    server = LocalMsgFlash(manual_jobs=True)
    (contact,) = server.workspace().seed_contacts(1)

    async with TestClient(TestServer(server.app)) as client:
        response = await client.get(
            f"/api/v1/contacts/{contact.id}", headers={"x-api-key": server.api_key}
        )
        body = await response.json()

    assert body == {"data": contact.to_json()}
    assert "x-request-id" in response.headers


async def test_start_and_close() -> None:
    server = LocalMsgFlash()
    with pytest.raises(RuntimeError, match="not started"):
        server.base_url  # noqa: B018

    await server.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()
        assert server.base_url.startswith("http://127.0.0.1:")
    finally:
        await server.close()
    await server.close()


async def test_a_busy_port_is_reported() -> None:
    async with LocalMsgFlash() as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match=r"(?i)address already in use"):
            await LocalMsgFlash(port=port).start()
