"""Network conventions over real sockets: proxies from the environment, CA bundles, tracing."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from msgflash_async import ConfigurationError, ConnectError, MsgFlash
from msgflash_async.testing import LocalMsgFlash

NOWHERE = "http://127.0.0.1:9"
"""A base URL nothing listens on: a request that reaches it directly fails to connect."""


@pytest.fixture
async def proxy() -> AsyncIterator[LocalMsgFlash]:
    """A server standing in for an HTTP proxy: it answers absolute-form requests itself."""
    async with LocalMsgFlash(rate_limit=None) as server:
        yield server


def _client(server: LocalMsgFlash, **options: object) -> MsgFlash:
    return MsgFlash(
        server.api_key,
        base_url=NOWHERE,
        allow_insecure_http=True,
        rate_limit=None,
        **options,  # type: ignore[arg-type]
    )


async def test_http_proxy_from_the_environment_carries_the_requests(
    proxy: LocalMsgFlash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    async with _client(proxy) as client:
        contact = await client.contacts.create(name="Awa Doe", phone="+33612345000")
    assert len(proxy.workspace().contacts) == 1
    assert contact.phone == "+33612345000"


async def test_no_proxy_names_hosts_reached_directly(
    proxy: LocalMsgFlash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with _client(proxy) as client:
        with pytest.raises(ConnectError):
            await client.contacts.get("c1")


async def test_trust_env_false_ignores_the_environment(
    proxy: LocalMsgFlash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    async with _client(proxy, trust_env=False) as client:
        with pytest.raises(ConnectError):
            await client.contacts.get("c1")


async def test_the_proxy_argument_wins_and_sends_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", NOWHERE)
    seen: list[tuple[str, str | None]] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append((str(request.url), request.headers.get("Proxy-Authorization")))
        return web.json_response({"data": {"id": "c1", "name": "Awa"}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        key = "msgf_live_" + "a" * 64
        proxy_url = f"http://us%40er:p%40ss@127.0.0.1:{port}"
        async with MsgFlash(
            key, base_url=NOWHERE, allow_insecure_http=True, rate_limit=None, proxy=proxy_url
        ) as client:
            assert (await client.contacts.get("c1")).name == "Awa"
            assert "p%40ss" not in repr(client)
    finally:
        await runner.cleanup()
    # base64 of "us@er:p@ss": the proxy sees its own credentials, decoded from the URL
    assert seen == [(f"{NOWHERE}/api/v1/contacts/c1", "Basic dXNAZXI6cEBzcw==")]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"proxy": "socks5://127.0.0.1:1080"}, "proxy"),
        ({"proxy": "http://"}, "proxy"),
        ({"proxy": 8080}, "proxy"),
        ({"trust_env": "yes"}, "trust_env"),
        ({"verify": 1}, "verify"),
        ({"verify": "/no/such/bundle.pem"}, "verify"),
        ({"trace_configs": [object()]}, "trace_configs"),
        ({"trace_configs": "tc"}, "trace_configs"),
    ],
)
def test_bad_network_settings_are_refused_by_name(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        MsgFlash("msgf_live_" + "a" * 64, **options)  # type: ignore[arg-type]


async def test_network_settings_do_not_mix_with_a_session_passed_in() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConfigurationError, match="session"):
            MsgFlash("msgf_live_" + "a" * 64, session=session, proxy="http://127.0.0.1:3128")


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """An HTTPS server with a certificate from a private CA, and that CA's bundle."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))

    async def contact(request: web.Request) -> web.Response:
        return web.json_response({"data": {"id": request.match_info["id"], "name": "Awa"}})

    app = web.Application()
    app.router.add_get("/api/v1/contacts/{id}", contact)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}", bundle
    await runner.cleanup()


async def test_a_ca_bundle_trusts_a_private_certificate(tls_server: tuple[str, Path]) -> None:
    url, bundle = tls_server
    key = "msgf_live_" + "a" * 64
    async with MsgFlash(key, base_url=url, rate_limit=None, verify=bundle) as client:
        assert (await client.contacts.get("c1")).name == "Awa"
    context = ssl.create_default_context(cafile=str(bundle))
    async with MsgFlash(key, base_url=url, rate_limit=None, verify=context) as client:
        assert (await client.contacts.get("c1")).name == "Awa"
    async with MsgFlash(key, base_url=url, rate_limit=None) as client:
        with pytest.raises(ConnectError, match="certificate"):
            await client.contacts.get("c1")


async def test_opentelemetry_spans_cover_sdk_calls_without_the_key() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with LocalMsgFlash(rate_limit=None) as server:
        tracing = create_trace_config(tracer_provider=provider)
        async with MsgFlash(
            server.api_key, base_url=server.base_url, rate_limit=None, trace_configs=[tracing]
        ) as client:
            created = await client.contacts.create(name="Awa Doe", phone="+33612345000")
            await client.contacts.get(created.id)
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["POST", "GET"]
    attributes = [dict(span.attributes or {}) for span in spans]
    assert [found["http.status_code"] for found in attributes] == [201, 200]
    for found in attributes:
        assert server.api_key not in repr(found)
