"""Issue #5, part 5 and issue #9, item 10: the API key stays secret, plain http and redirects
are refused."""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from msgflash_async import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    InternalServerError,
    MsgFlash,
    MsgFlashError,
    ReadTimeoutError,
    RedirectError,
    ResponseDecodeError,
    RetryPolicy,
    ServerDisconnectedError,
    Timeout,
)

from ._support import (
    CREATE_CONTACT,
    GET_CONTACT,
    MOCK_KEY,
    FakeClock,
    Operation,
    Seeded,
    assert_hidden,
    closed_port,
    exception_texts,
    only_faults,
    web_app,
)
from .conftest import ClientFactory, Harness

TEAM_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"


def personal_key() -> str:
    return "msgf_live_" + secrets.token_hex(32)


def team_key() -> str:
    return "msgf_team_" + secrets.token_urlsafe(24)


@pytest.mark.parametrize("team", [False, True])
def test_repr_and_str_hide_the_key(team: bool) -> None:
    key = team_key() if team else personal_key()
    client = MsgFlash(key, team_id=TEAM_ID if team else None, base_url="https://api.msgflash.test")

    assert "key hidden" in repr(client)
    assert_hidden(key, [repr(client), str(client), repr(vars(client))])


# --- failing requests: no log record, message, repr or traceback shows the key ----------------


@dataclass(frozen=True)
class Failure:
    """A failing call: how the server fails it, the client's options, what the SDK raises."""

    name: str
    error: type[MsgFlashError]
    faults: dict[str, Any] = field(default_factory=dict)
    options: Callable[[], dict[str, Any]] = dict
    """Options of the client; a new ``api_key`` is the secret to look for."""

    def __str__(self) -> str:
        return self.name


SLOW = {"latency": 1.0, "latency_range": (0.2, 0.2)}
FAILURES = [
    Failure("unauthorized", AuthenticationError, options=lambda: {"api_key": personal_key()}),
    Failure(
        "unauthorized_team",
        AuthenticationError,
        options=lambda: {"api_key": team_key(), "team_id": TEAM_ID},
    ),
    Failure("server_error", InternalServerError, {"internal_error": 1.0}),
    Failure("html_page", InternalServerError, {"html_bad_gateway": 1.0}),
    Failure("read_timeout", ReadTimeoutError, SLOW, lambda: {"timeout": Timeout(read=0.05)}),
    Failure("decode_error", ResponseDecodeError, {"html_ok": 1.0}),
    Failure("dropped", ServerDisconnectedError, {"drop_after": 1.0}),
    Failure(
        "refused",
        ConnectError,
        options=lambda: {"base_url": f"http://127.0.0.1:{closed_port()}"},
    ),
]


@pytest.mark.parametrize("operation", [GET_CONTACT, CREATE_CONTACT], ids=str)
@pytest.mark.parametrize("failure", FAILURES, ids=str)
async def test_failing_calls_never_show_the_key(
    failure: Failure, operation: Operation, api: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the SDK's, aiohttp's, asyncio's
    options = {"api_key": api.server.api_key, **failure.options()}
    api.server.faults = only_faults(operation.route, **failure.faults)

    with pytest.raises(failure.error) as caught:
        await api.call(operation, retry=RetryPolicy(max_retries=2), **options)

    if isinstance(caught.value, (APIConnectionError, InternalServerError)):
        assert len(api.clock.sleeps) == 2  # the retries, and their log records, happened
    key = options["api_key"]
    assert_hidden(key, exception_texts(caught.value))
    records = [
        text
        for record in caplog.records
        for text in (record.getMessage(), repr(record.args), record.exc_text or "")
    ]
    assert_hidden(key, [*records, caplog.text])


# --- configuration errors: raised before anything is sent, naming no key ---------------------


MALFORMED_KEYS = [
    "msgf_live_" + "AB" * 32,  # upper-case hex
    "msgf_live_" + "ab" * 31,  # too short
    "msgf_live_" + "ab" * 33,  # too long
    "msgf_test_" + "ab" * 32,  # no such prefix
    "sk_live_" + "9f" * 20,  # a secret of another service, pasted by mistake
    "msgf_team_s3cr3t\nvalue",  # not a printable header value
    " msgf_live_" + "ab" * 32,
]


@pytest.mark.parametrize("key", MALFORMED_KEYS)
def test_a_malformed_key_is_refused_early_naming_no_key(key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MsgFlash(key, base_url="https://api.msgflash.test")

    assert_hidden(key.strip(), exception_texts(caught.value))


def test_a_malformed_key_from_the_environment_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "msgf_live_" + "ZZ" * 32
    monkeypatch.setenv("MSGFLASH_API_KEY", key)

    with pytest.raises(ConfigurationError) as caught:
        MsgFlash(base_url="https://api.msgflash.test")

    assert_hidden(key, exception_texts(caught.value))


@pytest.mark.parametrize(
    "options",
    [
        {"base_url": "https://api.msgflash.test:99999"},
        {"team_id": TEAM_ID},
        {"team_id": "line\r\nbreak"},
        {"rate_limit": 1.5},
        {"timeout": "abc"},
    ],
    ids=repr,
)
def test_a_configuration_error_shows_no_key_in_its_locals(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The key is in no local variable of this test: only the client's frames could show it.
    monkeypatch.setenv("MSGFLASH_API_KEY", personal_key())

    with pytest.raises(ConfigurationError) as caught:
        MsgFlash(**options)

    rendered = traceback.TracebackException.from_exception(caught.value, capture_locals=True)
    assert_hidden(os.environ["MSGFLASH_API_KEY"], ["".join(rendered.format())])


@pytest.mark.parametrize(
    ("key", "team_id"),
    [(team_key(), None), (team_key(), ""), (personal_key(), TEAM_ID)],
    ids=["team-key-without-team-id", "team-key-with-empty-team-id", "personal-key-with-team-id"],
)
def test_a_team_key_needs_a_team_id_and_a_personal_key_refuses_one(
    key: str, team_id: str | None
) -> None:
    with pytest.raises(ConfigurationError, match="team") as caught:
        MsgFlash(key, team_id=team_id, base_url="https://api.msgflash.test")

    assert_hidden(key, exception_texts(caught.value))


# --- plain http ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://api.msgflash.test", "http://srv.msgflash.com", "http://localhost.msgflash.test"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain http") as caught:
        MsgFlash(MOCK_KEY, base_url=url)

    assert_hidden(MOCK_KEY, exception_texts(caught.value))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10:8080",
        "http://localhost:8080",
        "http://api.localhost:8080",
        "http://[::1]:8080",
    ],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert MsgFlash(MOCK_KEY, base_url=url).base_url == url


def test_plain_http_to_a_remote_host_may_be_allowed_explicitly() -> None:
    client = MsgFlash(MOCK_KEY, base_url="http://api.msgflash.test", allow_insecure_http=True)

    assert client.base_url == "http://api.msgflash.test"


# --- redirects -----------------------------------------------------------------------------


@dataclass
class RedirectPair:
    """A loopback app answering every request with a redirect to another loopback app."""

    source: str
    hits_at_target: list[str]


@pytest.fixture
async def redirect_pair(request: pytest.FixtureRequest) -> AsyncIterator[RedirectPair]:
    status: int = request.param
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path} {dict(request.headers)}")
        return web.json_response({"data": {}})

    target_app = web.Application()
    target_app.router.add_route("*", "/{path:.*}", record)
    async with web_app(target_app) as target:

        async def redirect(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": target + request.path})

        source_app = web.Application()
        source_app.router.add_route("*", "/{path:.*}", redirect)
        async with web_app(source_app) as source:
            yield RedirectPair(source, hits)


@pytest.mark.parametrize("redirect_pair", [301, 302, 303, 307, 308], indirect=True)
@pytest.mark.parametrize("operation", [GET_CONTACT, CREATE_CONTACT], ids=str)
async def test_redirects_are_never_followed(
    redirect_pair: RedirectPair,
    operation: Operation,
    make_client: ClientFactory,
    clock: FakeClock,
) -> None:
    client = make_client(base_url=redirect_pair.source)
    ids = Seeded(contact_id="3f1c2a9e", group_id="8a6e0f3b", free_phone="+15550000002")

    with pytest.raises(RedirectError, match="not followed") as caught:
        await operation.invoke(client, ids, False)

    assert 300 < caught.value.status < 309
    assert redirect_pair.hits_at_target == []
    assert clock.sleeps == []
    assert_hidden(MOCK_KEY, exception_texts(caught.value))
