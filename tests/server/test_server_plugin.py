"""The ``msgflash`` pytest plugin, active through its ``pytest11`` entry point."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from server_support import call

from msgflash_async import MsgFlash
from msgflash_async.testing import LocalMsgFlash


def test_the_plugin_is_registered(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.hasplugin("msgflash")


async def test_the_server_fixture_runs_a_default_server(
    msgflash_server: LocalMsgFlash, msgflash_http: aiohttp.ClientSession
) -> None:
    reply = await call(msgflash_http, "GET", "/contacts")

    assert msgflash_server.base_url.startswith("http://127.0.0.1:")
    assert msgflash_server.rate_limit == 10
    assert msgflash_server.state.jobs.manual is False
    assert reply.status == 200


@pytest.mark.parametrize(
    "msgflash_server_options", [{"max_contact_groups": 0, "api_key": "msgf_live_" + "9" * 64}]
)
async def test_options_configure_the_server(
    msgflash_server: LocalMsgFlash, msgflash_server_options: dict[str, Any]
) -> None:
    async with aiohttp.ClientSession(base_url=msgflash_server.base_url) as http:
        reply = await call(
            http,
            "POST",
            "/contacts/groups",
            json={"name": "G"},
            headers={"x-api-key": "msgf_live_" + "9" * 64},
        )

    assert msgflash_server.api_key == msgflash_server_options["api_key"]
    assert reply.error["code"] == "MAX_CONTACT_GROUPS_REACHED"


async def test_the_client_fixture_talks_to_the_server(
    msgflash_server: LocalMsgFlash, msgflash_client: MsgFlash
) -> None:
    contact = await msgflash_client.contacts.create(name="Awa", phone="+33612345000")

    assert list(msgflash_server.workspace().contacts) == [contact.id]


async def test_the_client_fixture_paces_itself_at_the_servers_limit(
    msgflash_server: LocalMsgFlash, msgflash_client: MsgFlash
) -> None:
    assert msgflash_server.rate_limit == 10
    assert msgflash_client.rate_limit == 10


@pytest.mark.parametrize("msgflash_server_options", [{"rate_limit": None}])
async def test_a_server_without_pacing_gives_a_client_without_pacing(
    msgflash_client: MsgFlash,
) -> None:
    assert msgflash_client.rate_limit is None
