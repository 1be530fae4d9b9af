"""Issue #9, items 5, 10, 11 and 14: the client refuses caller mistakes at construction,
hides the key in every repr, and spells one server one way for pacing."""

from __future__ import annotations

import copy
import pickle
import uuid
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from msgflash_async import (
    ConfigurationError,
    MsgFlash,
    MsgFlashError,
    ResponseTooLargeError,
    RetryPolicy,
    Timeout,
)
from msgflash_async._config import _Secret, normalised_origin
from msgflash_async.testing import FakeClock

from ._helpers import (
    API_KEY,
    CONTACT,
    CONTACT_ID,
    CONTACTS,
    TEAM_ID,
    TEAM_KEY,
    data,
    only_call,
    sent,
    sent_headers,
)
from .conftest import ClientFactory

PLACEHOLDER = "'<redacted>'"


def refused(options: dict[str, Any], api_key: object = API_KEY) -> ConfigurationError:
    """The error of constructing a client with ``options``; checks its types and that it
    does not show the key."""
    with pytest.raises(ConfigurationError) as caught:
        MsgFlash(api_key, **options)  # type: ignore[arg-type]

    error = caught.value
    assert isinstance(error, MsgFlashError)
    assert isinstance(error, ValueError)
    for text in (str(error), repr(error)):
        assert API_KEY[10:] not in text
        assert TEAM_KEY[10:] not in text
    return error


# --- item 10: the key's wrapper --------------------------------------------------------------


def test_the_key_prints_as_a_placeholder_but_keeps_its_value() -> None:
    secret = _Secret(API_KEY)

    assert repr(secret) == PLACEHOLDER
    assert f"{secret!r}" == repr({"x-api-key": secret})[14:-1] == PLACEHOLDER
    assert secret == API_KEY
    assert hash(secret) == hash(API_KEY)
    # What aiohttp's header writers use: the C one calls str(), the Python one concatenates.
    assert str(secret) == API_KEY
    assert type(str(secret)) is str
    assert "x-api-key: " + secret == "x-api-key: " + API_KEY
    assert secret.encode() == API_KEY.encode()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickled_key_stays_redacted(protocol: int) -> None:
    restored = pickle.loads(pickle.dumps(_Secret(API_KEY), protocol=protocol))

    assert type(restored) is _Secret
    assert restored == API_KEY
    assert repr(restored) == PLACEHOLDER


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copied_key_stays_redacted(duplicate: Any) -> None:
    copied = duplicate(_Secret(API_KEY))

    assert type(copied) is _Secret
    assert copied == API_KEY
    assert repr(copied) == PLACEHOLDER


def test_header_dicts_show_the_placeholder() -> None:
    headers = CIMultiDict({"x-api-key": _Secret(API_KEY), "Accept": "application/json"})

    for text in (repr(headers), repr(CIMultiDictProxy(headers)), repr(dict(headers))):
        assert API_KEY not in text
        assert PLACEHOLDER in text
    assert headers["X-API-KEY"] == API_KEY


@pytest.mark.parametrize(("key", "team"), [(API_KEY, None), (TEAM_KEY, TEAM_ID)])
def test_the_client_and_its_transport_never_show_the_key(key: str, team: str | None) -> None:
    sdk = MsgFlash(key, team_id=team)
    transport = sdk._core.transport

    texts = [repr(sdk), str(sdk), repr(vars(sdk)), repr(vars(transport))]

    for text in texts:
        assert key not in text
        assert key[10:] not in text
    assert PLACEHOLDER in repr(vars(transport))  # the headers are there, redacted


async def test_the_wrapped_key_is_what_is_sent(make_client: ClientFactory, mock_api: Any) -> None:
    mock_api.get(f"https://api.msgflash.test{CONTACTS}/{CONTACT_ID}", payload=data(CONTACT))

    await make_client(TEAM_KEY, team_id=TEAM_ID).contacts.get(CONTACT_ID)

    headers = sent_headers(only_call(mock_api)[2])
    assert (headers["x-api-key"], headers["X-Team-Id"]) == (TEAM_KEY, TEAM_ID)


# --- item 11: the team id ----------------------------------------------------------------------


async def test_a_uuid_team_id_is_sent_as_its_canonical_string(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_api.get(f"https://api.msgflash.test{CONTACTS}/{CONTACT_ID}", payload=data(CONTACT))

    await make_client(TEAM_KEY, team_id=uuid.UUID(TEAM_ID.upper())).contacts.get(CONTACT_ID)

    assert sent_headers(only_call(mock_api)[2])["X-Team-Id"] == TEAM_ID


@pytest.mark.parametrize(
    "team_id",
    [
        TEAM_ID + "\r\nX-Injected: 1",
        TEAM_ID + "\n",
        "team\x00id",
        "équipe",
        f" {TEAM_ID}",
        "",
        TEAM_ID.encode(),
        42,
        [TEAM_ID],
    ],
    ids=repr,
)
@pytest.mark.parametrize("key", [TEAM_KEY, API_KEY], ids=["team-key", "personal-key"])
def test_a_team_id_that_cannot_be_a_header_is_refused(team_id: object, key: str) -> None:
    error = refused({"team_id": team_id}, api_key=key)

    assert "team_id" in str(error)


def test_a_team_id_pasted_key_is_not_echoed() -> None:
    error = refused({"team_id": TEAM_KEY + "\n"}, api_key=TEAM_KEY)

    assert "team_id" in str(error)


@pytest.mark.parametrize("value", [TEAM_ID + "\r\n", "\tteam", "équipe"], ids=repr)
def test_a_team_id_from_the_environment_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MSGFLASH_TEAM_ID", value)

    error = refused({}, api_key=TEAM_KEY)

    assert "MSGFLASH_TEAM_ID" in str(error)


# --- item 14: caller mistakes, refused at construction ---------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"timeout": "abc"}, "total"),
        ({"timeout": -1}, "total"),
        ({"timeout": 0}, "total"),
        ({"timeout": float("nan")}, "total"),
        ({"timeout": float("inf")}, "total"),
        ({"timeout": True}, "total"),
        ({"timeout": Timeout}, "total"),
        ({"rate_limit": 1.5}, "rate_limit"),
        ({"rate_limit": True}, "rate_limit"),
        ({"rate_limit": "10"}, "rate_limit"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"max_in_flight": 1.5}, "max_in_flight"),
        ({"max_in_flight": True}, "max_in_flight"),
        ({"max_in_flight": "64"}, "max_in_flight"),
        ({"max_in_flight": -1}, "max_in_flight"),
        ({"job_poll_interval": float("nan")}, "job_poll_interval"),
        ({"job_poll_interval": float("inf")}, "job_poll_interval"),
        ({"job_poll_interval": "2"}, "job_poll_interval"),
        ({"job_poll_interval": False}, "job_poll_interval"),
        ({"job_poll_interval": None}, "job_poll_interval"),
        ({"retry": 3}, "retry"),
        ({"retry": {"max_retries": 3}}, "retry"),
        ({"retry": RetryPolicy}, "retry"),
        ({"session": "session"}, "session"),
        pytest.param({"session": object()}, "session", id="{'session': <object>}"),
        ({"session": aiohttp}, "session"),
        ({"allow_insecure_http": "no"}, "allow_insecure_http"),
        ({"max_response_size": 1023}, "max_response_size"),
        ({"max_response_size": 0}, "max_response_size"),
        ({"max_response_size": 2e6}, "max_response_size"),
        ({"max_response_size": True}, "max_response_size"),
        ({"max_response_size": "32MB"}, "max_response_size"),
        ({"base_url": b"https://srv.msgflash.com"}, "base_url"),
    ],
    ids=repr,
)
def test_unusable_settings_are_refused_naming_the_parameter(
    options: dict[str, Any], name: str
) -> None:
    error = refused(options)

    assert name in str(error)


@pytest.mark.parametrize("size", [None, 1024, 10**10])
def test_usable_response_size_caps_are_kept(size: int | None) -> None:
    assert MsgFlash(API_KEY, max_response_size=size)._core.transport.max_response_size == size


async def test_the_response_size_cap_applies_to_answers(
    make_client: ClientFactory, mock_api: Any
) -> None:
    mock_api.get(
        f"https://api.msgflash.test{CONTACTS}/{CONTACT_ID}",
        payload=data({**CONTACT, "meta": {"notes": "x" * 4096}}),
    )

    with pytest.raises(ResponseTooLargeError):
        await make_client(max_response_size=4096).contacts.get(CONTACT_ID)


@pytest.mark.parametrize(
    "timeout",
    [Timeout(read=1), 2.5, 7],
    ids=repr,
)
def test_usable_timeouts_are_kept(timeout: Timeout | float) -> None:
    assert MsgFlash(API_KEY, timeout=timeout).timeout == Timeout.of(timeout)


@pytest.mark.parametrize("timeout", ["abc", -1, float("nan"), True], ids=repr)
def test_with_options_refuses_an_unusable_timeout(timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match="total"):
        MsgFlash(API_KEY).with_options(timeout=timeout)


@pytest.mark.parametrize("retry", [3, "none", RetryPolicy], ids=repr)
def test_with_options_refuses_an_unusable_retry_policy(retry: Any) -> None:
    with pytest.raises(ConfigurationError, match="retry"):
        MsgFlash(API_KEY).with_options(retry=retry)


@pytest.mark.parametrize(
    "api_key", [API_KEY.encode(), bytearray(API_KEY.encode()), 12345, [API_KEY]], ids=repr
)
def test_a_key_that_is_not_a_str_is_refused_without_echoing_it(api_key: object) -> None:
    error = refused({}, api_key=api_key)

    assert "api_key" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "https://srv.msgflash.com:99999",
        "https://srv.msgflash.com:abc",
        "https://srv.msgflash.com:-1",
        "https://srv.msgflash.com:0",
        "https://srv.msgflash.com:",
        "https://srv.msgflash.com:+443",
        "https://srv.msgflash.com:\u0664\u0664\u0663",  # Arabic-Indic digits
    ],
)
def test_a_bad_port_is_refused(url: str) -> None:
    assert "base_url" in str(refused({"base_url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "https://srv.msgflash.com/?",
        "https://srv.msgflash.com?",
        "https://srv.msgflash.com#",
        "https://srv.msgflash.com/#",
        "https://@srv.msgflash.com",
        "https://:@srv.msgflash.com",
    ],
)
def test_an_empty_query_fragment_or_user_is_refused(url: str) -> None:
    assert "base_url" in str(refused({"base_url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "https://\uff45xample.com",  # full-width e: NFKC makes it example.com
        "https://ex\uff0fample.com",  # full-width solidus: NFKC makes it a path
        "https://srv.msgflash.com\uff03frag",
        "https://a\u2100b.com",  # ℀ becomes a/c
        "https://\ufb01le.com",  # the fi ligature
        "https://a..b.com",
        "https://-srv.msgflash.com",
        "https://srv%2emsgflash.com",
        "https://srv!.msgflash.com",
        "https://" + "a" * 64 + ".com",
        "https://[v1.future]",
        "https://[127.0.0.1]",
        "https://[::1]x:8080",
        "https://::1",
    ],
    ids=repr,
)
def test_an_unusable_host_is_refused(url: str) -> None:
    assert "base_url" in str(refused({"base_url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "https://srv.msgflash.com /proxy",
        " https://srv.msgflash.com",
        "https://srv.msgflash.com\n",
        "https://srv.msgflash.com\t",
        "https://srv.msg\u200bflash.com",  # zero-width space
        "https://srv.msgflash.com/pro\x7fxy",
    ],
    ids=repr,
)
def test_spaces_and_control_characters_are_refused(url: str) -> None:
    assert "base_url" in str(refused({"base_url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "https://srv.msgflash.com/a//b",
        "https://srv.msgflash.com/./api",
        "https://srv.msgflash.com/proxy/..",
        "https://srv.msgflash.com/pro%78y",
        "https://srv.msgflash.com/a;b",
        "https://srv.msgflash.com/a:b",
    ],
)
def test_a_path_that_is_not_a_plain_prefix_is_refused(url: str) -> None:
    assert "base_url" in str(refused({"base_url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "https://srv.msgflash.com.",
        "https://SRV.MsgFlash.com:8443",
        "https://b\u00fccher.example",
        "https://xn--bcher-kva.example/api-proxy/v_2.0~x",
        "https://[2001:db8::1]:8443",
        "https://10.1.2.3",
        "https://my_host.internal",
    ],
)
def test_usual_base_urls_are_accepted(url: str) -> None:
    assert MsgFlash(API_KEY, base_url=url).base_url == url


def test_a_bad_base_url_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSGFLASH_BASE_URL", "https://srv.msgflash.com:99999")

    assert "base_url" in str(refused({}))


# --- item 5: one spelling per server -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://LOCALHOST:8080/",
        "http://[::1]:8080",
        "http://localhost.:8080",
        "http://api.localhost:8080/proxy",
        "http://127.8.9.10:8080",
        "HTTP://[::ffff:127.0.0.1]:8080",
    ],
)
def test_every_spelling_of_this_machine_is_one_origin(url: str) -> None:
    assert normalised_origin(url) == "http://localhost:8080"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://srv.msgflash.com", "https://SRV.msgflash.com.:443"),
        ("https://srv.msgflash.com/", "HTTPS://srv.msgflash.com:443/proxy"),
        ("http://srv.msgflash.com", "http://srv.msgflash.com:80"),
        ("https://b\u00fccher.example", "https://xn--bcher-kva.example"),
        ("https://B\u00dcCHER.example", "https://b\u00fccher.example:443"),
        ("https://[2001:DB8:0::1]", "https://[2001:db8::1]:443"),
    ],
)
def test_spellings_of_one_server_give_one_origin(first: str, second: str) -> None:
    assert normalised_origin(first) == normalised_origin(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://localhost:8080", "http://localhost:8081"),
        ("https://srv.msgflash.com", "https://srv.msgflash.com:8443"),
        ("https://srv.msgflash.com", "http://srv.msgflash.com"),
        ("https://srv.msgflash.com", "https://eu.msgflash.com"),
        ("http://localhost:443", "https://localhost"),
    ],
)
def test_different_servers_give_different_origins(first: str, second: str) -> None:
    assert normalised_origin(first) != normalised_origin(second)


def test_an_origin_is_scheme_host_and_port() -> None:
    assert normalised_origin("https://SRV.msgflash.com./proxy/") == "https://srv.msgflash.com:443"
    assert normalised_origin("https://b\u00fccher.example") == "https://xn--bcher-kva.example:443"
    assert normalised_origin("https://[2001:db8::1]:8443") == "https://[2001:db8::1]:8443"


@pytest.mark.parametrize(
    "url", ["https://\uff45xample.com", "https://x.test:99999", "ftp://x.test", "https://a..b"]
)
def test_an_origin_of_an_unusable_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        normalised_origin(url)


async def test_clients_of_one_key_share_the_pace_whatever_the_spelling(
    make_client: ClientFactory, mock_api: Any, clock: FakeClock
) -> None:
    spellings = ["http://127.0.0.1:8080", "http://LOCALHOST:8080/", "http://[::1]:8080"]
    for url in ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"):
        mock_api.get(f"{url}{CONTACTS}/{CONTACT_ID}", payload=data(CONTACT), repeat=True)
    clients = [make_client(base_url=url, rate_limit=10) for url in spellings]

    for turn in range(10):
        await clients[turn % 3].contacts.get(CONTACT_ID)
    assert clock.sleeps == []

    await clients[1].contacts.get(CONTACT_ID)
    assert len(sent(mock_api)) == 11
    assert clock.sleeps != []
